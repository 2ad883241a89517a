"""Reads used by the admin, the API, the commands and the tasks."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from emag_sync.models import (
    ACTIVE_STATUSES,
    AlertIncident,
    Conflict,
    ConflictStatus,
    EmagRequestLog,
    HealthCheck,
    LocalEdit,
    Offer,
    OfferChange,
    OfferEan,
    OfferStatus,
    Order,
    OrderLine,
    SyncKind,
    SyncRun,
    SyncStatus,
)

# The largest value a BIGINT holds: a longer number cannot be an eMAG id, and asking the
# database for it would fail instead of finding nothing.
MAX_BIGINT = 2**63 - 1
# EANs (GTIN-8 to GTIN-14) have 8 to 14 digits; other numbers skip the EAN lookup.
EAN_DIGITS = range(8, 15)
# One EAN may sit on a few offers (both accounts, relisted products), never on thousands.
MAX_EAN_MATCHES = 1000
# Columns the API never shows: the raw payload is the largest part of an offer row.
OFFER_COLUMNS_NOT_SHOWN = ("raw",)
# How many finished runs the statistics' success rate and throughput look back on.
RECENT_RUNS_FOR_STATISTICS = 20
FINISHED_STATUSES = (
    SyncStatus.COMPLETED,
    SyncStatus.PARTIAL,
    SyncStatus.FAILED,
    SyncStatus.CANCELLED,
)


def offer_list(*, account: str | None = None) -> QuerySet[Offer]:
    """Return offers, optionally of one account, in a stable order."""
    offers = Offer.objects.all()
    if account:
        offers = offers.filter(account=account)
    return offers.order_by("account", "emag_id")


def offer_list_with_overlay() -> QuerySet[Offer]:
    """Return offers with their local edits (and who made them) and an open-conflict flag.

    Everything a list of offers shows comes in a fixed number of queries, whatever its length.
    """
    open_conflicts = Conflict.objects.filter(offer=OuterRef("pk"), status=ConflictStatus.OPEN)
    local_edits = LocalEdit.objects.select_related("edited_by").order_by("field")
    return (
        Offer.objects.defer(*OFFER_COLUMNS_NOT_SHOWN)
        .annotate(has_open_conflicts=Exists(open_conflicts))
        .prefetch_related(Prefetch("local_edits", queryset=local_edits))
        .order_by("account", "emag_id")
    )


def offer_get(*, offer_id: int) -> Offer:
    """Return one offer with its overlay and open conflicts, or raise Offer.DoesNotExist."""
    open_conflicts = Conflict.objects.filter(status=ConflictStatus.OPEN).order_by("field")
    return (
        offer_list_with_overlay()
        .prefetch_related(Prefetch("conflicts", queryset=open_conflicts, to_attr="open_conflicts"))
        .get(pk=offer_id)
    )


def offer_search(*, offers: QuerySet[Offer], term: str) -> QuerySet[Offer]:
    """Narrow offers to those matching a search term, each way through an index.

    A term matches an offer's PNK exactly (any case), the start of its SKU, every word of its
    name (any case), and, when it is a number, its eMAG id or one of its EANs. On PostgreSQL
    every branch has an index (migration 0004), so the OR combines index scans and holds at
    hundreds of thousands of offers.
    """
    term = term.strip()
    if not term:
        return offers
    name_matches = Q()
    for word in term.split():
        name_matches &= Q(name__icontains=word)
    matches = Q(part_number_key__iexact=term) | Q(part_number__istartswith=term) | name_matches
    if term.isascii() and term.isdigit():
        number = int(term)
        if number <= MAX_BIGINT:
            matches |= Q(emag_id=number)
        if len(term) in EAN_DIGITS:
            # Resolved first, so the OR above stays a union of index scans on one table.
            ean_offer_ids = list(
                OfferEan.objects.filter(ean=term).values_list("offer_id", flat=True)[
                    :MAX_EAN_MATCHES
                ]
            )
            if ean_offer_ids:
                matches |= Q(pk__in=ean_offer_ids)
    return offers.filter(matches)


def offer_change_list(*, offer_id: int) -> QuerySet[OfferChange]:
    """Return an offer's change history, newest first; raise Offer.DoesNotExist if no offer."""
    if not Offer.objects.filter(pk=offer_id).exists():
        raise Offer.DoesNotExist(f"no offer #{offer_id}")
    return OfferChange.objects.filter(offer_id=offer_id).order_by("-changed_at", "-id")


def offer_statistics(*, accounts: list[str]) -> dict:
    """Return offer counts, stock and conflicts per account, and how recent syncs went.

    Counts cover offers eMAG still returns; offers a full pass no longer saw are `missing`.
    """
    present = Q(missing_since__isnull=True)
    per_account = {name: _empty_account_statistics(name) for name in accounts}
    rows = (
        Offer.objects.values("account", "status")
        .annotate(
            offers=Count("pk", filter=present),
            in_stock=Count("pk", filter=present & Q(general_stock__gt=0)),
            stock_total=Sum("general_stock", filter=present),
            missing=Count("pk", filter=~present),
        )
        .order_by()
    )
    status_keys = {
        OfferStatus.ACTIVE: "active",
        OfferStatus.INACTIVE: "inactive",
        OfferStatus.END_OF_LIFE: "end_of_life",
    }
    for row in rows:
        # Offers of an account no longer configured still count: they are still stored.
        entry = per_account.setdefault(row["account"], _empty_account_statistics(row["account"]))
        entry["offers"] += row["offers"]
        entry["in_stock"] += row["in_stock"]
        entry["stock_total"] += row["stock_total"] or 0
        entry["missing"] += row["missing"]
        status_key = status_keys.get(row["status"])
        if status_key:
            entry[status_key] += row["offers"]
    open_conflicts = (
        Conflict.objects.filter(status=ConflictStatus.OPEN)
        .values("offer__account")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in open_conflicts:
        if row["offer__account"] in per_account:
            per_account[row["offer__account"]]["open_conflicts"] = row["count"]
    for name, entry in per_account.items():
        entry["last_successful_sync"] = sync_run_last_successful(account=name)

    recent = list(
        SyncRun.objects.filter(kind=SyncKind.OFFERS, status__in=FINISHED_STATUSES).order_by(
            "-finished_at", "-id"
        )[:RECENT_RUNS_FOR_STATISTICS]
    )
    return {
        "total_products": sum(entry["offers"] for entry in per_account.values()),
        "products_by_account": {name: entry["offers"] for name, entry in per_account.items()},
        "open_conflicts": sum(entry["open_conflicts"] for entry in per_account.values()),
        "accounts": list(per_account.values()),
        "recent_runs": _recent_runs_summary(recent),
    }


def _empty_account_statistics(account: str) -> dict:
    return {
        "account_type": account,
        "offers": 0,
        "active": 0,
        "inactive": 0,
        "end_of_life": 0,
        "in_stock": 0,
        "stock_total": 0,
        "missing": 0,
        "open_conflicts": 0,
        "last_successful_sync": None,
    }


def _recent_runs_summary(runs: list[SyncRun]) -> dict:
    by_status = {status: 0 for status in FINISHED_STATUSES}
    for run in runs:
        by_status[run.status] += 1
    # A cancelled run was stopped by a person: it says nothing about whether syncs work.
    judged = len(runs) - by_status[SyncStatus.CANCELLED]
    timed = [run for run in runs if run.duration_seconds]
    seconds = sum(run.duration_seconds for run in timed)
    return {
        "runs": len(runs),
        **{str(status): count for status, count in by_status.items()},
        "success_rate": round(by_status[SyncStatus.COMPLETED] / judged, 3) if judged else None,
        "items_per_second": (
            round(sum(run.items_seen for run in timed) / seconds, 1) if seconds else None
        ),
    }


def sync_run_list(*, kind: str = SyncKind.OFFERS) -> QuerySet[SyncRun]:
    """Return the runs of a stream, newest first."""
    return SyncRun.objects.filter(kind=kind).order_by("-created_at", "-id")


def sync_run_active_list(*, kind: str = SyncKind.OFFERS) -> QuerySet[SyncRun]:
    """Return the queued and running runs of a stream, oldest first."""
    return SyncRun.objects.filter(kind=kind, status__in=ACTIVE_STATUSES).order_by(
        "created_at", "id"
    )


def sync_run_get(*, run_id: int, kind: str = SyncKind.OFFERS) -> SyncRun:
    """Return one run of a stream, or raise SyncRun.DoesNotExist."""
    return SyncRun.objects.get(pk=run_id, kind=kind)


def sync_run_latest(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the newest run of a stream for an account, whatever its status."""
    return SyncRun.objects.filter(account=account, kind=kind).order_by("-created_at", "-id").first()


def sync_run_last_successful(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the newest completed run of a stream for an account."""
    return (
        SyncRun.objects.filter(account=account, kind=kind, status=SyncStatus.COMPLETED)
        .order_by("-finished_at", "-id")
        .first()
    )


def sync_run_latest_finished(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the newest run of a stream for an account that has ended, whatever its outcome."""
    return (
        SyncRun.objects.filter(account=account, kind=kind, finished_at__isnull=False)
        .exclude(status__in=ACTIVE_STATUSES)
        .order_by("-finished_at", "-id")
        .first()
    )


def sync_run_oldest(*, account: str, kind: str = SyncKind.OFFERS) -> SyncRun | None:
    """Return the first run of a stream for an account that is still on record."""
    return SyncRun.objects.filter(account=account, kind=kind).order_by("created_at", "id").first()


def conflict_list() -> QuerySet[Conflict]:
    """Return conflicts, newest first, with their offer and resolver in the same query."""
    return (
        Conflict.objects.select_related("offer", "resolved_by")
        .defer(*(f"offer__{column}" for column in OFFER_COLUMNS_NOT_SHOWN))
        .order_by("-detected_at", "-id")
    )


def conflict_get(*, conflict_id: int) -> Conflict:
    """Return one conflict with its offer and resolver, or raise Conflict.DoesNotExist."""
    return conflict_list().get(pk=conflict_id)


# --- orders ----------------------------------------------------------------------------------


def order_list(*, account: str | None = None, with_lines: bool = False) -> QuerySet[Order]:
    """Return orders, optionally of one account, newest first; lines prefetched on request."""
    orders = Order.objects.all()
    if account:
        orders = orders.filter(account=account)
    if with_lines:
        orders = orders.prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
        )
    return orders.order_by("account", "-date", "-emag_id")


def order_list_with_history() -> QuerySet[Order]:
    """Return orders, newest first, with their lines and status changes prefetched."""
    return Order.objects.prefetch_related("lines", "status_changes").order_by("-date", "-emag_id")


def order_get(*, order_id: int) -> Order:
    """Return one order with its lines and status changes, or raise Order.DoesNotExist."""
    return order_list_with_history().get(pk=order_id)


# --- health -------------------------------------------------------------------------------------


def health_check_latest() -> HealthCheck | None:
    """Return the newest stored health check."""
    return HealthCheck.objects.order_by("-checked_at", "-id").first()


def alert_incident_list(*, open_only: bool = False) -> QuerySet[AlertIncident]:
    """Return alert incidents, newest first; only the unresolved ones with `open_only`."""
    incidents = AlertIncident.objects.all()
    if open_only:
        incidents = incidents.filter(resolved_at__isnull=True)
    return incidents.order_by("-opened_at", "-id")


# --- Admin: the sync dashboard, offers with their overlay, review pages ---------------------

# An account whose offers have not completed a sync for this long is flagged stale on the
# dashboard: the schedules run a sync at least daily, so a day without one means trouble.
OFFER_SYNC_STALE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class AccountOverview:
    """What the dashboard shows on an account's card."""

    name: str
    offers: int
    in_stock: int
    missing: int
    open_conflicts: int
    last_success: SyncRun | None
    latest_run: SyncRun | None
    last_call: EmagRequestLog | None
    checked_at: datetime

    @property
    def is_stale(self) -> bool:
        if self.last_success is None or self.last_success.finished_at is None:
            return True
        return self.checked_at - self.last_success.finished_at > OFFER_SYNC_STALE_AFTER

    @property
    def is_failing(self) -> bool:
        return self.latest_run is not None and self.latest_run.status in (
            SyncStatus.FAILED,
            SyncStatus.PARTIAL,
        )


def account_overview(*, accounts: list[str]) -> list[AccountOverview]:
    """Return one overview per account, in a fixed number of queries per account."""
    in_stock = Q(general_stock__gt=0, missing_since__isnull=True)
    counts = {
        row["account"]: row
        for row in Offer.objects.filter(account__in=accounts)
        .order_by()
        .values("account")
        .annotate(
            total=Count("pk"),
            in_stock=Count("pk", filter=in_stock),
            missing=Count("pk", filter=Q(missing_since__isnull=False)),
        )
    }
    conflicts = dict(
        Conflict.objects.filter(status=ConflictStatus.OPEN, offer__account__in=accounts)
        .order_by()
        .values_list("offer__account")
        .annotate(open=Count("pk"))
    )
    # One run per (account, stream) is active at a time, so the highest id is the newest.
    offer_runs = SyncRun.objects.filter(kind=SyncKind.OFFERS, account__in=accounts).order_by()
    newest_ids = offer_runs.values("account").annotate(newest=Max("pk")).values("newest")
    newest_completed_ids = (
        offer_runs.filter(status=SyncStatus.COMPLETED)
        .values("account")
        .annotate(newest=Max("pk"))
        .values("newest")
    )
    runs = SyncRun.objects.filter(Q(pk__in=newest_ids) | Q(pk__in=newest_completed_ids))
    latest, last_success = {}, {}
    for run in runs:
        if run.status == SyncStatus.COMPLETED:
            last_success[run.account] = run
        if run.pk > getattr(latest.get(run.account), "pk", 0):
            latest[run.account] = run
    now = timezone.now()
    overviews = []
    for name in accounts:
        row = counts.get(name, {})
        overviews.append(
            AccountOverview(
                name=name,
                offers=row.get("total", 0),
                in_stock=row.get("in_stock", 0),
                missing=row.get("missing", 0),
                open_conflicts=conflicts.get(name, 0),
                last_success=last_success.get(name),
                latest_run=latest.get(name),
                # Per account: the log's created_at index answers this without a scan.
                last_call=EmagRequestLog.objects.filter(account=name)
                .order_by("-created_at", "-id")
                .first(),
                checked_at=now,
            )
        )
    return overviews


def sync_run_board(*, include_ids: Iterable[int] = ()) -> QuerySet[SyncRun]:
    """Return queued and running runs, plus the given ones (a page following them to the end)."""
    return SyncRun.objects.filter(
        Q(status__in=ACTIVE_STATUSES) | Q(pk__in=list(include_ids))
    ).order_by("created_at", "id")


def sync_run_history(*, limit: int = 15) -> QuerySet[SyncRun]:
    """Return the newest runs of every stream and account."""
    return SyncRun.objects.order_by("-created_at", "-id")[:limit]


def sync_run_request_log(*, run: SyncRun, limit: int = 200) -> QuerySet[EmagRequestLog]:
    """Return a run's newest eMAG calls."""
    return EmagRequestLog.objects.filter(run=run).order_by("-created_at", "-id")[:limit]


def conflict_open_count() -> int:
    return Conflict.objects.filter(status=ConflictStatus.OPEN).count()


def offer_overlay_prefetch(offers: QuerySet[Offer] | None = None) -> QuerySet[Offer]:
    """Return offers (all, or the given ones) with local values and open conflicts prefetched.

    Two extra queries per page, whatever its size. Per-row subqueries in the SELECT would
    be evaluated for every row an OFFSET skips, and they inflate PostgreSQL's cost estimate
    enough to switch on JIT compilation, which costs more than the query.
    """
    return (Offer.objects.all() if offers is None else offers).prefetch_related(
        Prefetch(
            "local_edits",
            queryset=LocalEdit.objects.order_by().only("offer_id", "field", "value"),
            to_attr="overlay_edits",
        ),
        Prefetch(
            "conflicts",
            queryset=Conflict.objects.filter(status=ConflictStatus.OPEN)
            .order_by()
            .only("offer_id", "field"),
            to_attr="open_conflict_list",
        ),
    )


def offer_has_local_edits() -> Exists:
    """A condition for offers filtered on having a local value."""
    return Exists(LocalEdit.objects.filter(offer=OuterRef("pk")))


def offer_has_open_conflicts() -> Exists:
    """A condition for offers filtered on having an open conflict."""
    return Exists(Conflict.objects.filter(offer=OuterRef("pk"), status=ConflictStatus.OPEN))


def offer_local_edits(*, offer: Offer) -> QuerySet[LocalEdit]:
    return LocalEdit.objects.filter(offer=offer).select_related("edited_by").order_by("field")


def offer_open_conflicts(*, offer: Offer) -> QuerySet[Conflict]:
    return Conflict.objects.filter(offer=offer, status=ConflictStatus.OPEN).order_by("field")


def offer_change_history(*, offer: Offer, limit: int = 50) -> QuerySet[OfferChange]:
    """Return the newest field changes eMAG made to an offer, as syncs saw them."""
    return OfferChange.objects.filter(offer=offer).order_by("-changed_at", "-id")[:limit]
