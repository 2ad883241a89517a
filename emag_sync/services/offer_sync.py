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
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

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
from emag_sync.ratelimit import RateLimiterUnavailable
from emag_sync.services.offer_pages import (
    Checkpoint,
    commits_without_waiting_for_disk,
    offer_page_write,
)
from emag_sync.services.second_chance import failures_before_giving_up, second_chance
from emag_sync.services.sync_engine import (
    RunContext,
    RunOutcome,
    RunRequest,
    Stream,
    SyncOptionsError,
    Unit,
    stream_run,
)
from emag_sync.services.table_statistics import GrowthAnalyzer

logger = logging.getLogger(__name__)

# eMAG's maximum page size (docs/emag-api.md §3.2): fewer pages, fewer rate-limited requests.
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
MAX_PAGES_INCREMENTAL_ONLY = gettext_lazy(
    "max_pages applies to incremental syncs only: a full sync reads every page (it marks the "
    "offers eMAG no longer returns as missing) and a selective one reads what it names; for "
    "a shorter run use mode incremental with max_pages, or run_async true against timeouts"
)


def validate_offer_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """Return eMAG product_offer filters checked and typed, or raise SyncOptionsError."""
    clean: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if key not in OFFER_FILTERS:
            raise SyncOptionsError(
                gettext("unknown filter %(key)r; allowed: %(allowed)s")
                % {"key": key, "allowed": ", ".join(sorted(OFFER_FILTERS))}
            )
        if key in INTEGER_FILTERS:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise SyncOptionsError(
                    gettext("filter %(key)s must be a whole number, got %(value)r")
                    % {"key": key, "value": value}
                ) from None
            if number < 0:
                raise SyncOptionsError(
                    gettext("filter %(key)s must not be negative") % {"key": key}
                )
            clean[key] = number
        else:
            text = str(value).strip()
            if not text:
                raise SyncOptionsError(gettext("filter %(key)s must not be empty") % {"key": key})
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
            raise SyncOptionsError(gettext("unknown mode %(mode)r") % {"mode": self.mode})
        if self.conflict_strategy not in ConflictStrategy.values:
            raise SyncOptionsError(
                gettext("unknown conflict strategy %(strategy)r")
                % {"strategy": self.conflict_strategy}
            )
        if self.max_pages is not None and self.max_pages < 1:
            raise SyncOptionsError(gettext("max_pages must be at least 1"))
        if self.max_pages is not None and self.mode != SyncMode.INCREMENTAL:
            raise SyncOptionsError(str(MAX_PAGES_INCREMENTAL_ONLY))
        self.filters = validate_offer_filters(self.filters)
        self.emag_ids = [int(emag_id) for emag_id in self.emag_ids]
        if any(emag_id <= 0 for emag_id in self.emag_ids):
            raise SyncOptionsError(gettext("ids must be positive"))
        self.skus = [sku.strip() for sku in self.skus if sku.strip()]
        if self.mode == SyncMode.SELECTIVE and not (self.filters or self.emag_ids or self.skus):
            raise SyncOptionsError("a selective sync needs filters, ids or SKUs")
        if self.mode != SyncMode.SELECTIVE and (self.filters or self.emag_ids or self.skus):
            raise SyncOptionsError("filters, ids and SKUs apply to selective syncs only")
        return self

    @classmethod
    def from_values(
        cls,
        *,
        mode: str = SyncMode.FULL,
        conflict_strategy: str = ConflictStrategy.EMAG_PRIORITY,
        max_pages: int | None = None,
        include_inactive: bool = False,
        filters: dict[str, Any] | None = None,
        ids: list[int] | None = None,
        skus: list[str] | None = None,
        restart: bool = False,
    ) -> "OfferSyncOptions":
        """Return validated options from the values a request names them by (see `as_values`).

        The one way the command, the API, the admin form and the task build options; raises
        SyncOptionsError.
        """
        return cls(
            mode=mode,
            conflict_strategy=conflict_strategy,
            max_pages=max_pages,
            include_inactive=include_inactive,
            filters=dict(filters or {}),
            emag_ids=list(ids or []),
            skus=list(skus or []),
            restart=restart,
        ).validate()

    def as_values(self) -> dict[str, Any]:
        """Return the options as `from_values` takes them (a queued task's arguments)."""
        return {
            "mode": self.mode,
            "conflict_strategy": self.conflict_strategy,
            "max_pages": self.max_pages,
            "include_inactive": self.include_inactive,
            "filters": self.filters,
            "ids": self.emag_ids,
            "skus": self.skus,
        }

    def as_parameters(self) -> dict[str, Any]:
        """Return what the run stores in its parameters: mode and strategy have columns."""
        values = self.as_values()
        del values["mode"], values["conflict_strategy"]
        return {**values, "restart": self.restart}


@dataclass
class Scan:
    """One paged read: its filters and the pages to read, in order."""

    filters: dict[str, Any]
    first_page: int
    last_planned_page: int | None  # None: until a short page
    checkpoint_mode: str | None  # the SyncState row this scan advances, if any
    pages_total: int = 0
    items_total: int = 0  # offers eMAG counted on the pages to read


FetchedPage = tuple[datetime, list[dict[str, Any]]]


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
    return stream_run(
        OfferSyncStream(options or OfferSyncOptions()),
        account=account,
        triggered_by=triggered_by,
        run_id=run_id,
        on_progress=on_progress,
    )


def offer_sync_request(options: OfferSyncOptions) -> RunRequest:
    """Return what an offer sync is claimed with (here or queued by a trigger)."""
    options = replace(options).validate()
    return RunRequest(
        kind=SyncKind.OFFERS,
        mode=options.mode,
        conflict_strategy=options.conflict_strategy,
        parameters=options.as_parameters(),
    )


class OfferSyncStream(Stream):
    """The offer stream's plan (scans of pages) and its unit (one page written)."""

    label = "Offer sync"

    def __init__(self, options: OfferSyncOptions) -> None:
        # A copy: callers may run one set of options for several accounts at once.
        self.options = replace(options).validate()
        self.seen: set[int] = set()
        # Whether this run read every page of a full pass itself (so may sweep the missing).
        self.complete_pass = False

    def request(self) -> RunRequest:
        return offer_sync_request(self.options)

    def units(self, context: RunContext) -> Generator[Unit, None, None]:
        with commits_without_waiting_for_disk():
            try:
                scans = _plan_scans(context.run, self.options, context.client)
            except (EmagError, RateLimiterUnavailable) as error:
                _record_failure(context.outcome, error, page=None)
                return
            pages_total = sum(scan.pages_total for scan in scans)
            items_total = sum(scan.items_total for scan in scans)
            SyncRun.objects.filter(pk=context.run.pk).update(
                pages_total=pages_total, items_total=items_total
            )
            for scan in scans:
                finished_scan = yield from self._scan_pages(context, scan)
                if not context.outcome.completed:
                    return
                if scan.checkpoint_mode == SyncMode.FULL and finished_scan and scan.first_page == 1:
                    self.complete_pass = True

    def conclude(self, context: RunContext) -> None:
        if self.complete_pass and context.outcome.completed:
            context.outcome.counters["items_missing"] = _mark_missing(
                account=context.run.account, seen=self.seen
            )

    def _page_unit(
        self,
        context: RunContext,
        statistics: GrowthAnalyzer,
        page: int,
        fetched: FetchedPage,
        checkpoint: Checkpoint | None,
    ) -> Unit:
        """Return the unit that writes one page, with its checkpoint, in one transaction."""

        def write() -> None:
            fetched_at, items = fetched
            result = offer_page_write(
                run=context.run,
                account=context.run.account,
                payloads=items,
                fetched_at=fetched_at,
                strategy=self.options.conflict_strategy,
                page=page,
                checkpoint=checkpoint,
                calls=context.calls.drain(),
            )
            self.seen.update(result.emag_ids)
            context.outcome.errors.extend(result.errors)
            context.outcome.warn(result.warnings)
            statistics.added(result.created)

        return Unit(work=write, where={"page": page})

    def _scan_pages(self, context: RunContext, scan: Scan) -> Generator[Unit, None, bool]:
        """Yield the page writes of one scan in order; return True when it reached its end.

        A page that fails after its retries is set aside and the scan goes on; the checkpoint
        stays before it. Before the scan ends, the pages set aside get their second chance.
        """
        run, client, outcome = context.run, context.client, context.outcome
        concurrency = max(1, settings.EMAG_PAGE_CONCURRENCY)
        give_up_after = failures_before_giving_up(concurrency)
        # A first sync of a large catalogue outgrows the table's statistics many times over.
        statistics = GrowthAnalyzer(Offer)
        pending: deque[tuple[int, Future[FetchedPage]]] = deque()
        next_page = scan.first_page
        failed: dict[int, BaseException] = {}
        failures_in_a_row = 0

        def may_submit(page: int) -> bool:
            return scan.last_planned_page is None or page <= scan.last_planned_page

        def ends_scan(page: int, items: list[dict[str, Any]]) -> tuple[bool, bool]:
            """Return (short, reached_end) for a page read."""
            short = len(items) < PAGE_SIZE
            at_last_planned = scan.last_planned_page is not None and page >= scan.last_planned_page
            return short, short or at_last_planned

        def checkpoint_for(page: int, items: list[dict[str, Any]]) -> Checkpoint | None:
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

        def fetch(page: int) -> FetchedPage:
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

            try:
                top_up()
                # The last page read in this pass, and whether it ended the scan.
                last_page: int = 0
                last_items: list[dict[str, Any]] = []
                unread_from: int | None = None  # eMAG looked down: pages from here were not read
                while pending:
                    page, future = pending.popleft()
                    try:
                        fetched_at, items = future.result()
                    except (EmagError, RateLimiterUnavailable) as error:
                        if is_permanent(error):
                            _record_failure(outcome, error, page=page)
                            return False
                        logger.warning(
                            "Offer page %s failed; it gets a second chance: %s", page, error
                        )
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
                    checkpoint = None if failed else checkpoint_for(page, items)
                    yield self._page_unit(
                        context, statistics, page, (fetched_at, items), checkpoint
                    )
                    if short or (reached_end and scan.checkpoint_mode != SyncMode.FULL):
                        break
                    top_up()
            finally:
                # Stopped, finished early or closed by the engine: read nothing more ahead.
                _cancel(pending)
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
            yield self._page_unit(context, statistics, page, read[page], checkpoint)
        for page, failure in sorted(still_failed.items()):
            outcome.errors.append(
                {"page": page, "message": f"failed again at its second chance: {failure}"}
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
            outcome.degrade()
            return False
        return ends_scan(last_page, last_items)[1] if last_page else True


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


def _fetch_page(client: EmagClient, page: int, filters: dict[str, Any]) -> FetchedPage:
    """Read one page; return when it was fetched and its offers."""
    fetched_at = timezone.now()
    try:
        items = client.read_offers(page=page, per_page=PAGE_SIZE, **filters)
    finally:
        # Fetch threads may open a connection for the database rate limiter.
        connections.close_all()
    return fetched_at, items


def _cancel(pending: deque[tuple[int, Future[FetchedPage]]]) -> None:
    for _, future in pending:
        future.cancel()
    pending.clear()


def _record_failure(outcome: RunOutcome, error: Exception, *, page: int | None) -> None:
    outcome.record_failure(error, str(error), page=page)
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
