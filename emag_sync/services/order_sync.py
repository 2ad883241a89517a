"""Sync an account's orders from eMAG: incremental on `modified`, or full on `created`.

Reference: docs/emag-api.md §5 (and the predecessor's mistakes, §6.5 and §6.10 items
19-20). Both order types are read for every account: eMAG's `type` filter defaults to 3
(fulfilled by the seller), so orders fulfilled by eMAG (type 2) are asked for explicitly.

- incremental: `modifiedAfter` the committed cursor minus an inclusive overlap (see
  `order_windows`), up to the run's start, in windows of at most one month. Status changes
  of known orders (cancellations, finalizations, returns) come with it, since eMAG bumps
  `modified` on every change. The first run reads EMAG_ORDERS_INITIAL_DAYS back.
- full: `createdAfter` from `since` (default EMAG_ORDERS_INITIAL_DAYS back), in one-month
  windows; an interrupted full run with the same `since` resumes after its last window.

The cursor moves only when a whole window (both types) is stored, in the transaction of the
window's last page: to the newest `modified` seen, never past the run's start. eMAG
documents no sort order, and an order changed mid-read leaves the window and shifts the
pages behind it; a window whose pages yield fewer orders than its count is read again.
"""

import logging
import math
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from emag_sync.accounts import EmagAccount
from emag_sync.client import EmagClient, EmagError, is_permanent
from emag_sync.models import (
    Order,
    OrderType,
    SyncKind,
    SyncMode,
    SyncRun,
    SyncState,
    SyncStatus,
)
from emag_sync.services.order_pages import (
    CursorAdvance,
    order_lines_link_offers,
    order_page_write,
)
from emag_sync.services.order_windows import (
    effective_overlap,
    local_midnight,
    month_windows,
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

# eMAG's maximum page size (docs/emag-api.md §3.2).
PAGE_SIZE = 100
# Both fulfilment types, FBE first; the cursor moves after the last one of a window.
ORDER_TYPES = (OrderType.FULFILLED_BY_EMAG, OrderType.FULFILLED_BY_SELLER)
ORDER_SYNC_MODES = (SyncMode.INCREMENTAL, SyncMode.FULL)
# Re-reads of a window whose orders moved while it was read. Orders only leave a window
# during a run (its end is the run's start), so each re-read is smaller than the last.
MAX_WINDOW_REREADS = 2
# An account with no order activity would otherwise re-read an ever longer range on every
# run. The assumption: eMAG publishes a change well within a day of its `modified` stamp.
IDLE_CURSOR_LAG = timedelta(days=1)


@dataclass
class OrderSyncPlan:
    """The range a run reads, cut into windows, and whether it may move the stream's cursor."""

    date_field: str  # "modified" or "created": the eMAG filter pair used
    start: datetime
    end: datetime
    windows: list[tuple[datetime, datetime]]
    cursor_mode: str | None  # the SyncState row the run advances, if any
    cursor_floor: datetime | None = None

    def as_parameters(self) -> dict[str, Any]:
        return {
            "filter": self.date_field,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "windows": len(self.windows),
        }


def order_sync(
    *,
    account: str,
    mode: str = SyncMode.INCREMENTAL,
    since: date | None = None,
    triggered_by: str = "cli",
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
    clock: Callable[[], datetime] = timezone.now,
) -> SyncRun:
    """Run one order sync of one account and return its finished SyncRun.

    With `run_id`, a queued run (created by the API or a schedule) is taken over;
    otherwise a run is claimed here. Raises SyncAlreadyRunning when the account's order
    stream is busy, SyncOptionsError for a bad mode. `clock` gives the run's "now".
    """
    return stream_run(
        OrderSyncStream(mode=mode, since=since, clock=clock),
        account=account,
        triggered_by=triggered_by,
        run_id=run_id,
        on_progress=on_progress,
    )


def order_sync_request(*, mode: str, since: date | None) -> RunRequest:
    """Return what an order sync is claimed with (here or queued by a trigger)."""
    if mode not in ORDER_SYNC_MODES:
        raise SyncOptionsError(gettext("unknown order sync mode %(mode)r") % {"mode": mode})
    return RunRequest(
        kind=SyncKind.ORDERS,
        mode=mode,
        parameters={"since": since.isoformat() if since else None},
    )


class OrderSyncStream(Stream):
    """The order stream's plan (date windows of both order types) and its unit (a page write)."""

    label = "Order sync"

    def __init__(
        self, *, mode: str, since: date | None, clock: Callable[[], datetime] = timezone.now
    ) -> None:
        self._request = order_sync_request(mode=mode, since=since)
        self.mode, self.since, self.clock = mode, since, clock
        self.newest_modified: datetime | None = None

    def request(self) -> RunRequest:
        return self._request

    def units(self, context: RunContext) -> Generator[Unit, None, None]:
        account = context.account
        parameters = self._request.parameters
        # eMAG's filters have whole seconds; so does the run's end, so the cursor never
        # passes what was asked for.
        now = self.clock().replace(microsecond=0)
        plan = _plan(account, mode=self.mode, since=self.since, now=now, parameters=parameters)
        SyncRun.objects.filter(pk=context.run.pk).update(
            parameters={**parameters, **plan.as_parameters()}, pages_total=0
        )
        concurrency = max(1, settings.EMAG_PAGE_CONCURRENCY)
        with ThreadPoolExecutor(concurrency, thread_name_prefix=f"orders-{account.name}") as pool:
            reader = _WindowReader(
                stream=self,
                context=context,
                plan=plan,
                pool=pool,
                # A first sync of years of orders outgrows the table's statistics many times.
                statistics=GrowthAnalyzer(Order),
            )
            yield from reader.read_windows()

    def conclude(self, context: RunContext) -> None:
        order_lines_link_offers(account=context.account.name)


def _plan(
    account: EmagAccount,
    *,
    mode: str,
    since: date | None,
    now: datetime,
    parameters: dict[str, Any],
) -> OrderSyncPlan:
    """Decide the range a run reads, from its mode, `since` and the committed cursor."""
    initial_start = now - timedelta(days=settings.EMAG_ORDERS_INITIAL_DAYS)
    since_start = local_midnight(since, account.timezone) if since else None
    state = (
        SyncState.objects.filter(account=account.name, stream=SyncKind.ORDERS, mode=mode)
        .select_related("run")
        .first()
    )
    if mode == SyncMode.FULL:
        start = since_start or initial_start
        resumable = (
            state.cursor
            if state
            and state.run
            and state.run.status != SyncStatus.COMPLETED
            and state.run.parameters.get("since") == parameters["since"]
            else None
        )
        if resumable is not None and start < resumable < now:
            start = resumable
        return OrderSyncPlan(
            date_field="created",
            start=start,
            end=now,
            windows=month_windows(start, now, account.timezone),
            cursor_mode=SyncMode.FULL,
        )

    # A cursor in the future (a clock that ran ahead, a hand edit) is taken as the run's
    # start: the run reads the last overlap and brings the cursor back to now.
    cursor = min(state.cursor, now) if state and state.cursor else None
    overlap = timedelta(minutes=settings.EMAG_ORDERS_OVERLAP_MINUTES)
    if since_start is not None:
        start = since_start
    elif cursor is None:
        start = initial_start
    else:
        start = cursor - effective_overlap(cursor, overlap, account.timezone)
    # A --since later than the cursor leaves a gap behind it: such a run must not move it.
    contiguous = cursor is None or start <= cursor
    return OrderSyncPlan(
        date_field="modified",
        start=start,
        end=now,
        windows=month_windows(start, now, account.timezone),
        cursor_mode=SyncMode.INCREMENTAL if contiguous else None,
        cursor_floor=cursor or start,
    )


@dataclass
class _WindowReader:
    """What the reads of one run's windows share."""

    stream: OrderSyncStream
    context: RunContext
    plan: OrderSyncPlan
    pool: ThreadPoolExecutor
    statistics: GrowthAnalyzer

    def read_windows(self) -> Generator[Unit, None, None]:
        plan = self.plan
        for after, before in plan.windows:
            for position, order_type in enumerate(ORDER_TYPES):
                closes_window = position == len(ORDER_TYPES) - 1
                filters = {
                    f"{plan.date_field}After": after,
                    f"{plan.date_field}Before": before,
                    "type": int(order_type),
                }
                try:
                    read_whole = yield from self._read_range(
                        filters, window_end=before if closes_window else None
                    )
                except EmagError as error:
                    _record_failure(self.context.outcome, error, filters)
                    return
                if not read_whole:
                    return

    def _cursor_for(self, window_end: datetime) -> CursorAdvance | None:
        """Return the cursor move committed with the page that completes a window."""
        plan = self.plan
        if plan.cursor_mode is None:
            return None
        if plan.cursor_mode == SyncMode.FULL:
            return CursorAdvance(
                mode=SyncMode.FULL, floor=window_end, ceiling=plan.end, follow_modified=False
            )
        # An incremental plan always has a floor (the cursor, or the start of a first run).
        floor = max(plan.cursor_floor or plan.start, window_end - IDLE_CURSOR_LAG)
        if self.stream.newest_modified is not None:
            floor = max(floor, self.stream.newest_modified)
        return CursorAdvance(mode=SyncMode.INCREMENTAL, floor=floor, ceiling=plan.end)

    def _read_range(
        self, filters: dict[str, Any], *, window_end: datetime | None
    ) -> Generator[Unit, None, bool]:
        """Yield the page writes of one filtered range; return False when the run must stop.

        `window_end` is given for the range that completes a window: its last page carries
        the cursor, but only once the pages held every order the count promised.
        """
        run, client, outcome = self.context.run, self.context.client, self.context.outcome
        for attempt in range(1 + MAX_WINDOW_REREADS):
            count = client.count_orders(**filters)
            # order/count takes no page size (§5.3): its noOfPages follows eMAG's default, so
            # the pages are worked out for the size this sync reads.
            pages = math.ceil(count.items / PAGE_SIZE)
            SyncRun.objects.filter(pk=run.pk).update(
                pages_total=Coalesce(F("pages_total"), 0) + pages
            )
            if pages == 0:
                if window_end is not None:
                    yield self._cursor_unit(window_end)
                return True
            seen: set[Any] = set()
            whole = False
            failed: dict[int, BaseException] = {}
            with closing(self._pages_in_order(filters, pages, failed)) as answers:
                for page, fetched_at, items in answers:
                    seen.update(str(item.get("id")) for item in items)
                    whole = page == pages and not failed and len(seen) >= count.items
                    yield self._page_unit(
                        items,
                        page=page,
                        closes_window_at=window_end if whole else None,
                        fetched_at=fetched_at,
                        order_type=filters["type"],
                    )
            if failed:
                read, still_failed = second_chance(
                    self.pool,
                    lambda page: _fetch_page(client, page, filters),
                    failed,
                    run=run,
                    concurrency=max(1, settings.EMAG_PAGE_CONCURRENCY),
                )
                for page in sorted(read):
                    fetched_at, items = read[page]
                    seen.update(str(item.get("id")) for item in items)
                    yield self._page_unit(items, page=page, fetched_at=fetched_at)
                if still_failed:
                    outcome.degrade()
                    outcome.errors.extend(
                        {
                            "page": page,
                            "message": f"{_describe(filters)}: failed again at its second "
                            f"chance: {error}",
                        }
                        for page, error in sorted(still_failed.items())
                    )
                    return False
                whole = len(seen) >= count.items
                if whole and window_end is not None:
                    yield self._cursor_unit(window_end)
            if whole:
                return True
            logger.info(
                "Orders of %s moved while read (%d of %d seen, attempt %d); reading %s again",
                run.account,
                len(seen),
                count.items,
                attempt + 1,
                filters,
            )
        outcome.degrade()
        outcome.errors.append(
            {
                "message": f"orders kept changing while {_describe(filters)} was read; "
                "the cursor stays before it and the next run reads it again"
            }
        )
        return False

    def _cursor_unit(self, window_end: datetime) -> Unit:
        """Return the unit that only moves the cursor past a window with no page left."""
        return self._page_unit([], page=None, closes_window_at=window_end)

    def _page_unit(
        self,
        items: list[dict[str, Any]],
        *,
        page: int | None,
        closes_window_at: datetime | None = None,
        fetched_at: datetime | None = None,
        order_type: int | None = None,
    ) -> Unit:
        """Return the unit that writes one page (and the cursor, if it completes a window)."""
        context, stream = self.context, self.stream

        def write() -> None:
            # The cursor is worked out when the page is written: after the pages before it.
            cursor = self._cursor_for(closes_window_at) if closes_window_at else None
            result = order_page_write(
                run=context.run,
                account=context.account.name,
                zone=context.account.timezone,
                payloads=items,
                fetched_at=fetched_at or timezone.now(),
                page=page,
                cursor=cursor,
                calls=context.calls.drain(),
                order_type=order_type,
            )
            context.outcome.errors.extend(result.errors)
            context.outcome.warn(result.warnings)
            self.statistics.added(result.created)
            newest = stream.newest_modified
            if result.newest_modified is not None and (
                newest is None or result.newest_modified > newest
            ):
                stream.newest_modified = result.newest_modified

        return Unit(work=write, where={} if page is None else {"page": page})

    def _pages_in_order(
        self, filters: dict[str, Any], pages: int, failed: dict[int, BaseException]
    ) -> Generator[tuple[int, datetime, list[dict[str, Any]]], None, None]:
        """Yield (page, fetched_at, orders) for pages 1..pages, fetched ahead concurrently.

        A page that fails after its retries goes into `failed` for its second chance, unless
        the error is permanent (raised). After a failure, pages are read ahead again only once
        one succeeds; when eMAG looks down, every page not yet read joins `failed` untried.
        """
        concurrency = max(1, settings.EMAG_PAGE_CONCURRENCY)
        give_up_after = failures_before_giving_up(concurrency)
        pending: deque[tuple[int, Future[FetchedPage]]] = deque()
        next_page = 1
        in_a_row = 0
        try:
            while pending or next_page <= pages:
                while (
                    (not in_a_row or not pending)
                    and len(pending) < concurrency
                    and next_page <= pages
                ):
                    future = self.pool.submit(_fetch_page, self.context.client, next_page, filters)
                    pending.append((next_page, future))
                    next_page += 1
                page, future = pending.popleft()
                try:
                    fetched_at, items = future.result()
                except EmagError as error:
                    if is_permanent(error):
                        raise
                    logger.warning("Order page %s failed; it gets a second chance: %s", page, error)
                    failed[page] = error
                    in_a_row += 1
                    if in_a_row >= give_up_after:
                        for unread, _ in pending:
                            failed[unread] = error
                        for unread in range(next_page, pages + 1):
                            failed[unread] = error
                        return
                    continue
                in_a_row = 0
                yield page, fetched_at, items
        finally:
            for _, future in pending:
                future.cancel()


FetchedPage = tuple[datetime, list[dict[str, Any]]]


def _fetch_page(client: EmagClient, page: int, filters: dict[str, Any]) -> FetchedPage:
    fetched_at = timezone.now()
    try:
        return fetched_at, client.read_orders(page=page, per_page=PAGE_SIZE, **filters)
    finally:
        # Fetch threads may open a connection for the database rate limiter.
        connections.close_all()


def _describe(filters: dict[str, Any]) -> str:
    parts = [
        f"{key}={value.isoformat() if isinstance(value, datetime) else value}"
        for key, value in filters.items()
    ]
    return "orders " + ", ".join(parts)


def _record_failure(outcome: RunOutcome, error: EmagError, filters: dict[str, Any]) -> None:
    outcome.record_failure(error, f"{_describe(filters)}: {error}")
    logger.warning("Order sync stopped reading %s: %s", _describe(filters), error)
