"""Thin Celery tasks: each loads its arguments and calls one service.

Task hygiene, per task below:
- `acks_late` only where running twice is harmless: syncs are single-flight (the run claim)
  and checkpointed, cleanup deletes by cutoff. Acknowledging writes to eMAG and the health
  check sends alerts, so those acknowledge on receipt; a lost tick is redone by the next.
- Soft time limits below the hard ones, both below the broker's visibility timeout (checked
  in settings). At the soft limit every stream's run ends `partial` with its checkpoint, frees
  its claim and is returned (sync_engine's one rule), so the task reports it as any finished run.
- Retries with backoff for whole-run failures only: the database was unreachable, or (for a
  scheduled sync) eMAG was, so the run could not commit a single page. The HTTP client
  retries single requests.
- `account="all"` (what the schedule sends) fans out to one task per account, so accounts
  sync in parallel on separate worker processes, each under its own claim.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils.dateparse import parse_datetime

from emag_sync.accounts import ACCOUNT_ALIASES, ALL_ACCOUNTS, resolve_account_names
from emag_sync.models import SyncRun, SyncStatus
from emag_sync.services.cleanup import sync_history_cleanup
from emag_sync.services.health import health_check_run
from emag_sync.services.offer_push import offers_push
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.order_acknowledge import orders_acknowledge
from emag_sync.services.order_sync import order_sync
from emag_sync.services.push_outbox import push_work_exists
from emag_sync.services.sync_runs import SyncAlreadyRunning, SyncRunLost

logger = logging.getLogger(__name__)


class SyncRunUnavailable(Exception):
    """The run could not do any work (eMAG unreachable throughout); worth a later retry."""


# Whole-run failures: the database went away mid-run, or eMAG was unreachable for all of it.
DATABASE_GONE = (OperationalError, InterfaceError)
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": (SyncRunUnavailable, *DATABASE_GONE),
    "retry_backoff": 60,  # 60 s, 120 s, 240 s (capped below), with full jitter
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 3,
}
# Acknowledging writes to eMAG and its next tick comes in 10 minutes: only a database that went
# away is worth a retry, never eMAG refusing an order.
DATABASE_RETRY_POLICY: dict[str, Any] = {**RETRY_POLICY, "autoretry_for": DATABASE_GONE}


def _limits(soft_seconds: int) -> dict[str, Any]:
    return {
        "soft_time_limit": soft_seconds,
        "time_limit": soft_seconds + settings.SYNC_HARD_TIME_LIMIT_GRACE,
    }


def _trigger(task: Task, triggered_by: str | None) -> str:
    """Name who started the run: the caller, or the beat entry that sent the task."""
    if triggered_by:
        return triggered_by
    entry = getattr(task.request, "periodic_task_name", None)
    return f"schedule: {entry}"[:150] if entry else "schedule"


def _fan_out(task: Task, account: str, kwargs: dict) -> list[str] | None:
    """Send one task per account when asked for all of them; return their names, else None."""
    if account.lower() not in (ALL_ACCOUNTS, *ACCOUNT_ALIASES):
        return None
    if kwargs.get("run_id") is not None:
        raise ValueError("a queued run belongs to one account; run_id needs an account name")
    names = resolve_account_names(account)
    for name in names:
        # Children of a schedule tick expire with it, so missed ticks never pile up.
        task.apply_async(
            kwargs={**kwargs, "account": name},
            # None (a task sent without an expiry) is what Celery takes for "never".
            expires=task.request.expires,  # type: ignore[arg-type]
        )
    return names


def _finished(run: SyncRun, run_id: int | None, *, retry_when_idle: bool = True) -> dict:
    """Report a finished run; raise for a retry when a scheduled run could do nothing at all.

    A run someone queued (run_id) is reported as it ended: they decide whether to try again.
    """
    idle = run.status == SyncStatus.PARTIAL and run.pages_done == 0
    if idle and retry_when_idle and run_id is None:
        raise SyncRunUnavailable(f"run #{run.pk} of {run.account} ended partial with no page")
    return {"run_id": run.pk, "account": run.account, "status": run.status}


def _sync_task(name: str, *, soft_seconds: int | None = None, writes_to_emag: bool = False):
    """Declare a per-account sync task: bound, no result kept, its time limits and retry rule.

    Every stream but the offer sync (whose full mode walks the whole catalogue) fits in the
    short limit, SYNC_ORDERS_TIME_LIMIT, the default.

    A stream that writes to eMAG is acknowledged on receipt (a redelivery must never write
    twice; the next tick redoes a lost one) and retried only when the database went away,
    never when eMAG refused. A read stream is acknowledged late (its run claim makes a second
    delivery harmless) and also retried when eMAG was unreachable for the whole run.
    """
    return shared_task(
        bind=True,
        name=name,
        ignore_result=True,
        acks_late=not writes_to_emag,
        **_limits(soft_seconds or settings.SYNC_ORDERS_TIME_LIMIT),
        **(DATABASE_RETRY_POLICY if writes_to_emag else RETRY_POLICY),
    )


def _account_run(
    task: Task,
    stream: str,
    kwargs: dict[str, Any],
    start: Callable[[str], SyncRun | dict],
) -> dict:
    """Fan out when asked for every account, else start this account's run and report it.

    `start` gets who triggered the run and returns the finished run, or an answer when it had
    no reason to start one. A run refused because another holds the claim is reported, not raised.
    """
    account = kwargs["account"]
    kwargs = {**kwargs, "triggered_by": _trigger(task, kwargs.get("triggered_by"))}
    fanned_out = _fan_out(task, account, kwargs)
    if fanned_out is not None:
        return {"fanned_out": fanned_out}
    try:
        run = start(kwargs["triggered_by"])
    except (SyncAlreadyRunning, SyncRunLost) as skipped:
        logger.info("%s of %s not started: %s", stream, account, skipped)
        holder = getattr(skipped, "run", None)
        return {"account": account, "already_running": holder.pk if holder else None}
    if isinstance(run, dict):
        return run
    # Only a task that retries when eMAG was unreachable asks for a retry of an idle run.
    retry_when_idle = SyncRunUnavailable in getattr(task, "autoretry_for", ())
    return _finished(run, kwargs.get("run_id"), retry_when_idle=retry_when_idle)


@_sync_task("emag_sync.sync_products", soft_seconds=settings.SYNC_OFFERS_TIME_LIMIT)
def sync_products_task(
    self,
    account: str = ALL_ACCOUNTS,
    mode: str = "incremental",
    conflict_strategy: str = "emag_priority",
    max_pages: int | None = None,
    include_inactive: bool = False,
    filters: dict | None = None,
    ids: list[int] | None = None,
    skus: list[str] | None = None,
    run_id: int | None = None,
    triggered_by: str | None = None,
) -> dict:
    """Sync offers of one account (or all); a queued run (run_id) is taken over."""
    options: dict[str, Any] = {
        "mode": mode,
        "conflict_strategy": conflict_strategy,
        "max_pages": max_pages,
        "include_inactive": include_inactive,
        "filters": filters,
        "ids": ids,
        "skus": skus,
    }
    return _account_run(
        self,
        "Offer sync",
        {**options, "account": account, "run_id": run_id, "triggered_by": triggered_by},
        lambda trigger: offer_sync(
            account=account,
            options=OfferSyncOptions.from_values(**options),
            run_id=run_id,
            triggered_by=trigger,
        ),
    )


@_sync_task("emag_sync.sync_orders")
def sync_orders_task(
    self,
    account: str = ALL_ACCOUNTS,
    mode: str = "incremental",
    since: str | None = None,
    run_id: int | None = None,
    triggered_by: str | None = None,
) -> dict:
    """Sync orders of one account (or all); `since` is an ISO 8601 time with its zone."""
    return _account_run(
        self,
        "Order sync",
        {
            "account": account,
            "mode": mode,
            "since": since,
            "run_id": run_id,
            "triggered_by": triggered_by,
        },
        lambda trigger: order_sync(
            account=account,
            mode=mode,
            since=_aware_datetime(since),
            triggered_by=trigger,
            run_id=run_id,
        ),
    )


@_sync_task("emag_sync.acknowledge_orders", writes_to_emag=True)
def acknowledge_orders_task(
    self, account: str = ALL_ACCOUNTS, run_id: int | None = None, triggered_by: str | None = None
) -> dict:
    """Acknowledge new orders of one account (or all) on eMAG."""
    return _account_run(
        self,
        "Order acknowledgement",
        {"account": account, "run_id": run_id, "triggered_by": triggered_by},
        lambda trigger: orders_acknowledge(account=account, triggered_by=trigger, run_id=run_id),
    )


# A lost push message loses nothing: the outbox keeps every edit for the next tick.
@_sync_task("emag_sync.push_offers", writes_to_emag=True)
def push_offers_task(
    self, account: str = ALL_ACCOUNTS, run_id: int | None = None, triggered_by: str | None = None
) -> dict:
    """Send the outbox of one account (or all) to eMAG; an empty outbox starts no run."""

    def push(trigger: str) -> SyncRun | dict:
        if run_id is None and not push_work_exists(account=account):
            return {"account": account, "nothing_to_push": True}
        # A push already running takes new pending edits before it ends (reported below as
        # already running); the schedule drains the rest.
        return offers_push(account=account, triggered_by=trigger, run_id=run_id)

    return _account_run(
        self,
        "Offer push",
        {"account": account, "run_id": run_id, "triggered_by": triggered_by},
        push,
    )


@shared_task(
    name="emag_sync.cleanup",
    ignore_result=True,
    acks_late=True,  # deletes by cutoff: running twice deletes nothing more
    soft_time_limit=1800,
    time_limit=1800 + settings.SYNC_HARD_TIME_LIMIT_GRACE,
    **DATABASE_RETRY_POLICY,
)
def cleanup_task() -> dict:
    """Delete runs, request logs and change history past their retention."""
    return sync_history_cleanup().as_dict()


@shared_task(
    name="emag_sync.health_check",
    ignore_result=True,
    acks_late=False,  # it sends alerts; a lost check is redone by the next tick
    soft_time_limit=240,
    time_limit=240 + settings.SYNC_HARD_TIME_LIMIT_GRACE,
)
def health_check_task() -> dict:
    """Check the database, broker, eMAG accounts and sync freshness; alert on problems."""
    check = health_check_run()
    return {"health_check_id": check.pk, "status": check.status}


def _aware_datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    value = parse_datetime(text)
    if value is None or value.tzinfo is None:
        raise ValueError(f"since must be an ISO 8601 time with a zone, got {text!r}")
    return value
