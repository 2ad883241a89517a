"""Run one sync run of one account: the life every stream shares.

A stream (offers, orders, acknowledge, push) says only *what* to do: the run it claims
(`RunRequest`), its plan as a generator of units of work (`Stream.units`), and what follows
its units (`Stream.conclude`); its constructor validates its options (`SyncOptionsError`)
before anything is claimed. `stream_run` does the rest, the same way for all:

1. claim the run of (account, kind), or take over a queued one (`run_id`);
2. open the eMAG client with a call log (`CallCollector`): a unit hands its calls to its
   page transaction with `context.calls.drain()`, the engine logs whatever is left;
3. keep the claim alive with a heartbeat thread while the units run;
4. run the units in the order the plan yields them, each whole (its own transaction);
5. after each unit, stop when the claim was lost (`failed`), someone asked to cancel
   (`cancelled`) or the worker is shutting down (`interrupted`); the plan generator is then
   closed, so its `finally` blocks cancel what it fetched ahead;
6. let the stream conclude (`Stream.conclude`: a sweep that needs a complete pass checks
   `outcome.completed`), write the request log, and finish the run: `completed`, or
   `partial` when an item failed (in a page write, or counted in `outcome.items_failed`).

**The contract of a unit** (`Unit`): `work()` does one step and is atomic on our side (a
page write, one order acknowledged and stored, a batch sent and its results stored). The
engine never stops a run inside a unit of its own accord. An exception can still strike
inside one (the soft time limit, a process stop, a bug): then `on_interrupt(error)` is called
before the run ends, so a unit whose effect on eMAG may already have happened can record
that. A write stream relies on it: a batch in flight when the run stops becomes "uncertain"
(its unit's `on_interrupt` marks it so in the database), to be read back by the next run
rather than lost or blindly sent again. `on_interrupt` runs on the way out of a failure:
it must be short, must not raise (what it raises is logged and dropped), and must not
assume the database connection is usable.

**One rule for every way a run ends early**:
- cancel, lost claim, worker shutdown: between units, as above; the run is returned;
- the task's soft time limit (`SoftTimeLimitExceeded`, whether it strikes inside a unit or
  while the plan fetches): the run ends `partial`, keeping every committed unit and its
  checkpoint, and the run is *returned*, not raised. A soft time limit is the expected end
  of a long run, not an error: returning it gives every caller (task, command, API) the
  same finished run to report, and the task applies its usual retry rule to it (a scheduled
  run that committed nothing is retried later, as when eMAG was unreachable);
- anything else (a bug, SystemExit, the database gone): the run ends `failed` (or
  `interrupted` for a process stop) on a fresh connection, and the exception is raised.

A stream records an eMAG failure of its plan itself, with where it happened, through
`RunOutcome.record_failure`, and ends its generator: permanent errors (credentials, IP,
a refused request) fail the run, others leave it `partial` for the next run to continue.

`side_by_side` runs several accounts' runs at once inside one process (the command, the
API's synchronous path); the Celery tasks instead send one task per account.
"""

import logging
import threading
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connections

from emag_sync.accounts import EmagAccount, get_account
from emag_sync.client import EmagCall, EmagClient, is_permanent
from emag_sync.models import ConflictStrategy, SyncRun, SyncStatus
from emag_sync.ratelimit import get_rate_limiter
from emag_sync.services.request_log import request_log_write
from emag_sync.services.sync_runs import (
    MAX_ERRORS_KEPT,
    Heartbeat,
    SyncAlreadyRunning,
    sync_run_claim,
    sync_run_finish,
    sync_run_finish_after_error,
    sync_run_is_cancel_requested,
    sync_run_start,
)
from emag_sync.worker import INTERRUPTED_MESSAGE, worker_is_stopping

logger = logging.getLogger(__name__)

LOST_CLAIM_MESSAGE = "the run lost its claim"

T = TypeVar("T")
R = TypeVar("R")


class SyncOptionsError(ValueError):
    """Options of a run request that cannot be honoured (any stream)."""


class CallCollector:
    """Gather the client's call reports (from any thread) until a unit or the engine takes them."""

    def __init__(self) -> None:
        self._calls: list[EmagCall] = []
        self._lock = threading.Lock()

    def __call__(self, call: EmagCall) -> None:
        with self._lock:
            self._calls.append(call)

    def drain(self) -> list[EmagCall]:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls


@dataclass(frozen=True)
class RunRequest:
    """What a stream claims its run with; stored on the run."""

    kind: str
    mode: str
    parameters: dict[str, Any] = field(default_factory=dict)
    conflict_strategy: str = ConflictStrategy.EMAG_PRIORITY

    def claim(self, *, account: str, triggered_by: str, queued: bool = False) -> SyncRun:
        """Claim the run this request describes for one account; raise SyncAlreadyRunning."""
        # The request's fields are the claim's own (kind, mode, parameters, conflict strategy).
        return sync_run_claim(
            account=account, triggered_by=triggered_by, queued=queued, **asdict(self)
        )


@dataclass
class RunOutcome:
    """How a run is going: its status so far, what went wrong, and its final counters."""

    status: str = SyncStatus.COMPLETED
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # Items that failed outside a page write (counted there otherwise): added at the finish.
    items_failed: int = 0
    # Final counters the finish writes as they are (items_missing).
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.status == SyncStatus.COMPLETED

    def warn(self, warnings: list[dict[str, Any]]) -> None:
        """Add items' read warnings; only the last ones are kept (items_warned counts all)."""
        self.warnings = [*self.warnings, *warnings][-MAX_ERRORS_KEPT:]

    def degrade(self) -> None:
        """Mark a run that goes on (or ends) with part of its work undone as partial."""
        if self.completed:
            self.status = SyncStatus.PARTIAL

    def record_failure(self, error: BaseException, message: str, **where: Any) -> None:
        """Record an eMAG failure that ends the run's plan, with where it struck.

        Refused credentials or IP, an invalid request: no later run can do better by itself,
        so the run fails; anything else leaves it partial for the next run to continue.
        """
        self.status = SyncStatus.FAILED if is_permanent(error) else SyncStatus.PARTIAL
        self.errors.append({**where, "message": message})


@dataclass
class Unit:
    """One step of a run's work, done whole or not at all (see the module docstring).

    `where` locates the unit in an error the engine records when the run stops after it
    (for example {"page": 3} or {"order": 123}).
    """

    work: Callable[[], None]
    where: dict[str, Any] = field(default_factory=dict)
    on_interrupt: Callable[[BaseException], None] | None = None


@dataclass
class RunContext:
    """What a stream's plan and units share with the engine during one run."""

    run: SyncRun
    account: EmagAccount
    client: EmagClient
    calls: CallCollector
    outcome: RunOutcome
    heartbeat: Heartbeat
    on_progress: Callable[[SyncRun], None] | None = None

    def progress(self) -> None:
        """Show the run's committed counters to whoever watches (the command's progress bar)."""
        if self.on_progress:
            self.on_progress(SyncRun.objects.get(pk=self.run.pk))


class Stream:
    """A stream's part of a run: what it claims, its plan of units, and its conclusion."""

    # Used in log lines ("Offer sync of main ...").
    label: str = "Sync"

    def request(self) -> RunRequest:
        """Return what the run is claimed with (options already validated)."""
        raise NotImplementedError

    def units(self, context: RunContext) -> Generator[Unit, None, None]:
        """Plan the run and yield its units in order; may be closed between any two."""
        raise NotImplementedError

    def conclude(self, context: RunContext) -> None:
        """Do what follows the units (a sweep, a link), also after a stop, never after an error.

        `context.outcome.completed` tells whether the plan ran to its end undisturbed.
        """


def stream_run(
    stream: Stream,
    *,
    account: str,
    triggered_by: str = "cli",
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Run one run of a stream for one account and return it finished.

    With `run_id`, a queued run (created by the API, the admin or a schedule) is taken
    over; otherwise a run is claimed here. Raises SyncAlreadyRunning when the account's
    stream is busy, SyncRunLost when the queued run is no longer queued.
    """
    emag_account = get_account(account)
    request = stream.request()
    if run_id is not None:
        run = sync_run_start(run_id=run_id)
    else:
        run = request.claim(account=emag_account.name, triggered_by=triggered_by)
    calls = CallCollector()
    client = EmagClient(emag_account, rate_limiter=get_rate_limiter(), on_call=calls)
    outcome = RunOutcome()
    try:
        with Heartbeat(run) as heartbeat:
            context = RunContext(
                run=run,
                account=emag_account,
                client=client,
                calls=calls,
                outcome=outcome,
                heartbeat=heartbeat,
                on_progress=on_progress,
            )
            _run_units(stream, context)
        stream.conclude(context)
        request_log_write(calls.drain(), run=run)
        run.refresh_from_db(fields=["items_failed"])
        if outcome.items_failed or run.items_failed:
            outcome.degrade()
        return sync_run_finish(
            run=run,
            status=outcome.status,
            errors=outcome.errors,
            warnings=outcome.warnings,
            items_failed=run.items_failed + outcome.items_failed,
            **outcome.counters,
        )
    except SoftTimeLimitExceeded as error:
        logger.warning("%s of %s stopped at its soft time limit", stream.label, run.account)
        return sync_run_finish_after_error(run=run, error=error, calls=calls.drain()) or run
    except BaseException as error:
        sync_run_finish_after_error(run=run, error=error, calls=calls.drain())
        raise
    finally:
        client.close()


def _run_units(stream: Stream, context: RunContext) -> None:
    """Run the plan's units in order, until its end or a reason to stop."""
    with closing(stream.units(context)) as units:
        for unit in units:
            try:
                unit.work()
            except BaseException as error:
                _interrupted(unit, error, context)
                raise
            context.progress()
            if _must_stop(context, unit):
                return


def _interrupted(unit: Unit, error: BaseException, context: RunContext) -> None:
    if unit.on_interrupt is None:
        return
    try:
        unit.on_interrupt(error)
    except Exception:
        logger.exception("Interruption hook of run #%s failed at %s", context.run.pk, unit.where)


def _must_stop(context: RunContext, done: Unit) -> bool:
    """Decide, after the unit `done`, whether the run stops before the next, and record why."""
    outcome = context.outcome
    where = done.where
    if context.heartbeat.lost.is_set():
        outcome.status = SyncStatus.FAILED
        outcome.errors.append({**where, "message": LOST_CLAIM_MESSAGE})
        return True
    if sync_run_is_cancel_requested(run=context.run):
        outcome.status = SyncStatus.CANCELLED
        return True
    if worker_is_stopping():
        outcome.status = SyncStatus.INTERRUPTED
        outcome.errors.append({**where, "message": INTERRUPTED_MESSAGE})
        return True
    return False


def side_by_side(items: Sequence[T], run_one: Callable[[T], R]) -> list[R | SyncAlreadyRunning]:
    """Run `run_one` for each item (an account, a claimed run) at once; return the results.

    Each account has its own eMAG request budget, so accounts run in parallel threads, each
    with its own database connection (closed after). A single item runs in the caller's
    thread. An account whose stream is busy gives its SyncAlreadyRunning as its result;
    any other exception is raised once every item has ended.
    """

    def guarded(item: T) -> R | SyncAlreadyRunning:
        try:
            return run_one(item)
        except SyncAlreadyRunning as busy:
            return busy

    if len(items) == 1:
        return [guarded(items[0])]

    def in_thread(item: T) -> R | SyncAlreadyRunning:
        try:
            return guarded(item)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(items), thread_name_prefix="sync") as pool:
        return list(pool.map(in_thread, items))


__all__ = [
    "CallCollector",
    "RunContext",
    "RunOutcome",
    "RunRequest",
    "Stream",
    "SyncOptionsError",
    "Unit",
    "side_by_side",
    "stream_run",
]
