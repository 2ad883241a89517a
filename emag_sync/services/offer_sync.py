"""Sync an account's offers from eMAG: full, incremental or selective.

eMAG has no "changed since" filter for offers and pages of at most 100, so every mode is
a page scan that writes only offers whose content changed:

- full: every page, active and inactive. A run that reads every page itself marks the
  offers it did not see as missing; a pass stitched from a crashed run and its
  resumption marks nothing.
- incremental: active offers, `max_pages` new pages a run, continuing where the previous
  incremental run stopped and wrapping around, so short runs cover the catalogue in turn.
- selective: eMAG-side filters and/or lists of ids and SKUs; no deletion sweep.

Pages are fetched concurrently (up to EMAG_PAGE_CONCURRENCY in flight, paced by the
account's shared rate limiter) and written strictly in page order, each with its
checkpoint, so a crash resumes where the last committed page left off. eMAG documents
no sort order, so a resumed or continued scan re-reads the page before its checkpoint.
Fetch threads only read; the writer parses each page just before its transaction, so no
parsing competes with a transaction for the interpreter and stretches it.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connections
from django.utils import timezone

from emag_sync.accounts import get_account
from emag_sync.client import EmagClient, EmagError, is_permanent
from emag_sync.models import (
    ConflictStrategy,
    Offer,
    SyncKind,
    SyncMode,
    SyncRun,
    SyncState,
    SyncStatus,
)
from emag_sync.ratelimit import RateLimiterUnavailable, get_rate_limiter
from emag_sync.services.offer_pages import (
    Checkpoint,
    commits_without_waiting_for_disk,
    offer_page_write,
)
from emag_sync.services.request_log import request_log_write
from emag_sync.services.second_chance import failures_before_giving_up, second_chance
from emag_sync.services.sync_runs import (
    MAX_ERRORS_KEPT,
    Heartbeat,
    sync_run_claim,
    sync_run_finish,
    sync_run_finish_after_error,
    sync_run_is_cancel_requested,
    sync_run_start,
)
from emag_sync.services.table_statistics import GrowthAnalyzer
from emag_sync.worker import INTERRUPTED_MESSAGE, worker_is_stopping

logger = logging.getLogger(__name__)

# eMAG's maximum page size (reference §3.2): fewer pages means fewer rate-limited requests.
PAGE_SIZE = 100
# Bulk UPDATE of missing offers in slices that stay well inside every database's
# bind-parameter limit.
MISSING_SWEEP_CHUNK = 1000

INTEGER_FILTERS = frozenset(
    {
        "id",
        "status",
        "general_stock",
        "estimated_stock",
        "validation_status",
        "offer_validation_status",
        "translation_validation_status",
    }
)
TEXT_FILTERS = frozenset({"part_number", "part_number_key"})
OFFER_FILTERS = INTEGER_FILTERS | TEXT_FILTERS


# A limited full pass could not tell a missing offer from an unread one; refused, not ignored.
MAX_PAGES_INCREMENTAL_ONLY = (
    "max_pages applies to incremental syncs only: a full sync reads every page (it marks the "
    "offers eMAG no longer returns as missing) and a selective one reads what it names; for "
    "a shorter run use mode incremental with max_pages, or run_async true against timeouts"
)


class SyncOptionsError(ValueError):
    """Options of a sync request that cannot be honoured."""


def validate_offer_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """Return eMAG product_offer filters checked and typed, or raise SyncOptionsError."""
    clean: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if key not in OFFER_FILTERS:
            raise SyncOptionsError(
                f"unknown filter {key!r}; allowed: {', '.join(sorted(OFFER_FILTERS))}"
            )
        if key in INTEGER_FILTERS:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise SyncOptionsError(
                    f"filter {key} must be a whole number, got {value!r}"
                ) from None
            if number < 0:
                raise SyncOptionsError(f"filter {key} must not be negative")
            clean[key] = number
        else:
            text = str(value).strip()
            if not text:
                raise SyncOptionsError(f"filter {key} must not be empty")
            clean[key] = text
    return clean


@dataclass
class OfferSyncOptions:
    """What a run was asked to do; stored on the run as its parameters."""

    mode: str = SyncMode.FULL
    conflict_strategy: str = ConflictStrategy.EMAG_PRIORITY
    max_pages: int | None = None
    include_inactive: bool = False
    filters: dict[str, Any] = field(default_factory=dict)
    emag_ids: list[int] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    # Full mode: start a new pass at page 1 instead of resuming an interrupted one.
    restart: bool = False

    def validate(self) -> "OfferSyncOptions":
        if self.mode not in SyncMode.values:
            raise SyncOptionsError(f"unknown mode {self.mode!r}")
        if self.conflict_strategy not in ConflictStrategy.values:
            raise SyncOptionsError(f"unknown conflict strategy {self.conflict_strategy!r}")
        if self.max_pages is not None and self.max_pages < 1:
            raise SyncOptionsError("max_pages must be at least 1")
        if self.max_pages is not None and self.mode != SyncMode.INCREMENTAL:
            raise SyncOptionsError(MAX_PAGES_INCREMENTAL_ONLY)
        self.filters = validate_offer_filters(self.filters)
        self.emag_ids = [int(emag_id) for emag_id in self.emag_ids]
        if any(emag_id <= 0 for emag_id in self.emag_ids):
            raise SyncOptionsError("ids must be positive")
        self.skus = [sku.strip() for sku in self.skus if sku.strip()]
        if self.mode == SyncMode.SELECTIVE and not (self.filters or self.emag_ids or self.skus):
            raise SyncOptionsError("a selective sync needs filters, ids or SKUs")
        if self.mode != SyncMode.SELECTIVE and (self.filters or self.emag_ids or self.skus):
            raise SyncOptionsError("filters, ids and SKUs apply to selective syncs only")
        return self

    def as_parameters(self) -> dict[str, Any]:
        return {
            "max_pages": self.max_pages,
            "include_inactive": self.include_inactive,
            "filters": self.filters,
            "ids": self.emag_ids,
            "skus": self.skus,
            "restart": self.restart,
        }


class CallCollector:
    """Gather the client's call reports from fetch threads until a page write takes them."""

    def __init__(self) -> None:
        self._calls: list = []
        self._lock = threading.Lock()

    def __call__(self, call) -> None:
        with self._lock:
            self._calls.append(call)

    def drain(self) -> list:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls


@dataclass
class Scan:
    """One paged read: its filters and the pages to read, in order."""

    filters: dict[str, Any]
    first_page: int
    last_planned_page: int | None  # None: until a short page
    checkpoint_mode: str | None  # the SyncState row this scan advances, if any
    pages_total: int = 0
    items_total: int = 0  # offers eMAG counted on the pages to read


@dataclass
class RunOutcome:
    status: str = SyncStatus.COMPLETED
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    complete_pass: bool = False


def offer_sync(
    *,
    account: str,
    options: OfferSyncOptions | None = None,
    triggered_by: str = "cli",
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Run one offer sync of one account and return its finished SyncRun.

    With `run_id`, a queued run (created by the API or a schedule) is taken over;
    otherwise a run is claimed here. Raises SyncAlreadyRunning when the account's offer
    stream is busy, SyncOptionsError for bad options.
    """
    options = (options or OfferSyncOptions()).validate()
    emag_account = get_account(account)
    if run_id is not None:
        run = sync_run_start(run_id=run_id)
    else:
        run = sync_run_claim(
            account=emag_account.name,
            kind=SyncKind.OFFERS,
            mode=options.mode,
            conflict_strategy=options.conflict_strategy,
            parameters=options.as_parameters(),
            triggered_by=triggered_by,
        )
    collector = CallCollector()
    client = EmagClient(emag_account, rate_limiter=get_rate_limiter(), on_call=collector)
    outcome = RunOutcome()
    try:
        with Heartbeat(run) as heartbeat, commits_without_waiting_for_disk():
            _run_scans(run, options, client, collector, heartbeat, outcome, on_progress)
        missing = 0
        if outcome.complete_pass and outcome.status == SyncStatus.COMPLETED:
            missing = _mark_missing(account=emag_account.name, seen=outcome.seen)
        request_log_write(collector.drain(), run=run)
        run.refresh_from_db(fields=["items_failed"])
        if outcome.status == SyncStatus.COMPLETED and run.items_failed:
            outcome.status = SyncStatus.PARTIAL
        return sync_run_finish(
            run=run,
            status=outcome.status,
            errors=outcome.errors,
            warnings=outcome.warnings,
            items_missing=missing,
        )
    except SoftTimeLimitExceeded as error:
        # The task ran out of time: committed pages keep their checkpoint, the claim is
        # freed, and the next run continues. A clean, expected end: nothing to raise.
        logger.warning("Offer sync of %s stopped at its soft time limit", emag_account.name)
        return sync_run_finish_after_error(run=run, error=error, calls=collector.drain()) or run
    except BaseException as error:
        sync_run_finish_after_error(run=run, error=error, calls=collector.drain())
        raise
    finally:
        client.close()


def _plan_scans(run: SyncRun, options: OfferSyncOptions, client: EmagClient) -> list[Scan]:
    """Count what each scan will read and decide where it starts."""
    if options.mode == SyncMode.SELECTIVE:
        scans = [
            Scan(filters={"id": emag_id}, first_page=1, last_planned_page=1, checkpoint_mode=None)
            for emag_id in options.emag_ids
        ] + [
            Scan(
                filters={"part_number": sku},
                first_page=1,
                last_planned_page=1,
                checkpoint_mode=None,
            )
            for sku in options.skus
        ]
        for scan in scans:
            scan.pages_total = 1
            scan.items_total = 1
        if options.filters:
            count = client.count_offers(**options.filters)
            scans.append(
                Scan(
                    filters=options.filters,
                    first_page=1,
                    last_planned_page=max(1, count.pages),
                    checkpoint_mode=None,
                    pages_total=max(1, count.pages),
                    items_total=count.items,
                )
            )
        return scans

    filters = {} if options.mode == SyncMode.FULL or options.include_inactive else {"status": 1}
    count = client.count_offers(**filters)
    total_pages = max(1, count.pages)
    state = (
        SyncState.objects.filter(account=run.account, stream=SyncKind.OFFERS, mode=options.mode)
        .select_related("run")
        .first()
    )
    next_page = state.next_page if state else 1
    if next_page > total_pages:
        next_page = 1  # the catalogue shrank below the checkpoint: start over
    interrupted = bool(
        state
        and state.run
        and state.run.status != SyncStatus.COMPLETED
        and not (options.mode == SyncMode.FULL and options.restart)
    )
    if options.mode == SyncMode.FULL:
        first = max(1, next_page - 1) if interrupted and next_page > 1 else 1
        last = None
    else:
        # An incremental run continues its rotation; the page before the checkpoint is
        # read again in case offers shifted between pages since the last run.
        first = max(1, next_page - 1) if next_page > 1 else 1
        new_pages = options.max_pages or total_pages
        last = min(total_pages, next_page + new_pages - 1)
    if first > 1:
        SyncRun.objects.filter(pk=run.pk).update(resumed_from_page=first)
    last_page = last or total_pages
    return [
        Scan(
            filters=filters,
            first_page=first,
            last_planned_page=last,
            checkpoint_mode=options.mode,
            pages_total=last_page - first + 1,
            items_total=max(0, min(count.items, last_page * PAGE_SIZE) - (first - 1) * PAGE_SIZE),
        )
    ]


def _run_scans(run, options, client, collector, heartbeat, outcome, on_progress) -> None:
    try:
        scans = _plan_scans(run, options, client)
    except (EmagError, RateLimiterUnavailable) as error:
        _record_failure(outcome, error, page=None)
        return
    pages_total = sum(scan.pages_total for scan in scans)
    items_total = sum(scan.items_total for scan in scans)
    SyncRun.objects.filter(pk=run.pk).update(pages_total=pages_total, items_total=items_total)
    for scan in scans:
        finished_scan = _run_scan(
            run, options, client, collector, heartbeat, outcome, scan, on_progress
        )
        if outcome.status != SyncStatus.COMPLETED:
            return
        if scan.checkpoint_mode == SyncMode.FULL and finished_scan and scan.first_page == 1:
            outcome.complete_pass = True


def _fetch_page(client: EmagClient, page: int, filters: dict[str, Any]):
    """Read one page; return when it was fetched and its offers."""
    fetched_at = timezone.now()
    try:
        items = client.read_offers(page=page, per_page=PAGE_SIZE, **filters)
    finally:
        # Fetch threads may open a connection for the database rate limiter.
        connections.close_all()
    return fetched_at, items


def _run_scan(run, options, client, collector, heartbeat, outcome, scan, on_progress) -> bool:
    """Read and write one scan's pages in order; return True when it reached its end.

    A page that fails after its retries is set aside and the scan goes on; the checkpoint
    stays before it. Before the scan ends, the pages set aside get their second chance.
    """
    concurrency = max(1, settings.EMAG_PAGE_CONCURRENCY)
    give_up_after = failures_before_giving_up(concurrency)
    # A first sync of a large catalogue outgrows the table's statistics many times over.
    statistics = GrowthAnalyzer(Offer)
    pending: deque[tuple[int, Future]] = deque()
    next_page = scan.first_page
    failed: dict[int, BaseException] = {}
    failures_in_a_row = 0

    def may_submit(page: int) -> bool:
        return scan.last_planned_page is None or page <= scan.last_planned_page

    def ends_scan(page: int, items: list) -> tuple[bool, bool]:
        """Return (short, reached_end) for a page read."""
        short = len(items) < PAGE_SIZE
        at_last_planned = scan.last_planned_page is not None and page >= scan.last_planned_page
        return short, short or at_last_planned

    def checkpoint_for(page: int, items: list) -> Checkpoint | None:
        if not scan.checkpoint_mode:
            return None
        short, reached_end = ends_scan(page, items)
        wraps = short or (scan.checkpoint_mode == SyncMode.FULL and reached_end)
        return Checkpoint(
            account=run.account,
            stream=SyncKind.OFFERS,
            mode=scan.checkpoint_mode,
            next_page=1 if wraps else page + 1,
            complete_pass=wraps and scan.first_page == 1,
        )

    def write(page: int, fetched_at, items: list, checkpoint: Checkpoint | None) -> None:
        result = offer_page_write(
            run=run,
            account=run.account,
            payloads=items,
            fetched_at=fetched_at,
            strategy=options.conflict_strategy,
            page=page,
            checkpoint=checkpoint,
            calls=collector.drain(),
        )
        outcome.seen.update(result.emag_ids)
        outcome.errors.extend(result.errors)
        # Only the last ones are kept on the run (items_warned counts them all).
        outcome.warnings = [*outcome.warnings, *result.warnings][-MAX_ERRORS_KEPT:]
        statistics.added(result.created)
        if on_progress:
            on_progress(SyncRun.objects.get(pk=run.pk))

    def fetch(page: int):
        return _fetch_page(client, page, scan.filters)

    with ThreadPoolExecutor(
        max_workers=concurrency, thread_name_prefix=f"offers-{run.account}"
    ) as pool:
        # Beyond the counted pages (the catalogue grew mid-run) read one page at a time.
        planned_end = scan.last_planned_page or (scan.first_page + scan.pages_total - 1)

        def top_up() -> None:
            nonlocal next_page
            while (
                len(pending) < concurrency
                and may_submit(next_page)
                and (next_page <= planned_end or not pending)
            ):
                pending.append((next_page, pool.submit(fetch, next_page)))
                next_page += 1

        top_up()
        # The last page read in this pass, and whether it ended the scan.
        last_page, last_items = 0, []
        unread_from: int | None = None  # eMAG looked down: pages from here on were not read
        while pending:
            page, future = pending.popleft()
            try:
                fetched_at, items = future.result()
            except (EmagError, RateLimiterUnavailable) as error:
                if is_permanent(error):
                    _record_failure(outcome, error, page=page)
                    _cancel(pending)
                    return False
                logger.warning("Offer page %s failed; it gets a second chance: %s", page, error)
                failed[page] = error
                failures_in_a_row += 1
                if failures_in_a_row >= give_up_after:
                    unread_from = pending[0][0] if pending else next_page
                    _cancel(pending)
                    break
                if not pending:
                    top_up()  # otherwise read ahead again only once a page succeeds
                continue
            failures_in_a_row = 0
            last_page, last_items = page, items
            short, reached_end = ends_scan(page, items)
            # While a page before it is missing, the checkpoint stays before that page.
            write(page, fetched_at, items, None if failed else checkpoint_for(page, items))
            if heartbeat.lost.is_set():
                outcome.status = SyncStatus.FAILED
                outcome.errors.append({"page": page, "message": "the run lost its claim"})
                _cancel(pending)
                return False
            if sync_run_is_cancel_requested(run=run):
                outcome.status = SyncStatus.CANCELLED
                _cancel(pending)
                return False
            if worker_is_stopping():
                outcome.status = SyncStatus.INTERRUPTED
                outcome.errors.append({"page": page, "message": INTERRUPTED_MESSAGE})
                _cancel(pending)
                return False
            if short or (reached_end and scan.checkpoint_mode != SyncMode.FULL):
                _cancel(pending)
                break
            top_up()
        if not failed:
            return True

        try:
            read, still_failed = second_chance(
                pool, fetch, failed, run=run, concurrency=concurrency
            )
        except (EmagError, RateLimiterUnavailable) as error:
            _record_failure(outcome, error, page=None)
            return False
        if read and max(read) > last_page:
            last_page, last_items = max(read), read[max(read)][1]
        missing = sorted(still_failed) + ([unread_from] if unread_from is not None else [])
        for page in sorted(read):
            fetched_at, items = read[page]
            checkpoint = None
            if page == max(read) and scan.checkpoint_mode:
                # Every page before the first one still missing is stored now.
                checkpoint = (
                    Checkpoint(
                        account=run.account,
                        stream=SyncKind.OFFERS,
                        mode=scan.checkpoint_mode,
                        next_page=missing[0],
                    )
                    if missing
                    else checkpoint_for(last_page, last_items)
                )
            write(page, fetched_at, items, checkpoint)
        for page, error in sorted(still_failed.items()):
            outcome.errors.append(
                {"page": page, "message": f"failed again at its second chance: {error}"}
            )
        if unread_from is not None:
            outcome.errors.append(
                {
                    "page": unread_from,
                    "message": f"{give_up_after} pages failed in a row (eMAG looks down): "
                    f"pages from {unread_from} on were not read; the next run continues there",
                }
            )
        if missing:
            if outcome.status == SyncStatus.COMPLETED:
                outcome.status = SyncStatus.PARTIAL
            return False
        return ends_scan(last_page, last_items)[1] if last_page else True


def _cancel(pending: deque) -> None:
    for _, future in pending:
        future.cancel()
    pending.clear()


def _record_failure(outcome: RunOutcome, error: Exception, *, page: int | None) -> None:
    # Refused credentials or IP, an invalid request: no later run can do better by itself.
    outcome.status = SyncStatus.FAILED if is_permanent(error) else SyncStatus.PARTIAL
    outcome.errors.append({"page": page, "message": str(error)})
    logger.warning("Offer sync stopped at page %s: %s", page, error)


def _mark_missing(*, account: str, seen: set[int]) -> int:
    """Flag offers a complete pass did not return; return how many were flagged."""
    now = timezone.now()
    present = Offer.objects.filter(account=account, missing_since__isnull=True).values_list(
        "pk", "emag_id"
    )
    missing = [pk for pk, emag_id in present.iterator(chunk_size=5000) if emag_id not in seen]
    for start in range(0, len(missing), MISSING_SWEEP_CHUNK):
        Offer.objects.filter(pk__in=missing[start : start + MISSING_SWEEP_CHUNK]).update(
            missing_since=now
        )
    return len(missing)
