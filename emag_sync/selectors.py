"""Reads used by the admin, the API, the commands and the tasks."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from emag_sync.models import (
    ACTIVE_STATUSES,
    Conflict,
    ConflictStatus,
    EmagRequestLog,
    LocalEdit,
    Offer,
    OfferChange,
    OfferEan,
    SyncKind,
    SyncRun,
    SyncStatus,
)


def offer_list(*, account: str | None = None) -> QuerySet[Offer]:
    """Return offers, optionally of one account, in a stable order."""
    offers = Offer.objects.all()
    if account:
        offers = offers.filter(account=account)
    return offers.order_by("account", "emag_id")


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


def offer_list_with_overlay(offers: QuerySet[Offer] | None = None) -> QuerySet[Offer]:
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


def offer_search(*, offers: QuerySet[Offer], term: str) -> QuerySet[Offer]:
    """Narrow offers to those matching a seller's search.

    Any part of the SKU, or every word of the name (case-insensitive); exactly a PNK, an
    EAN (through the indexed EAN rows) or an eMAG id.
    """
    term = term.strip()
    name_matches = Q()
    for word in term.split():
        name_matches &= Q(name__icontains=word)
    matches = (
        Q(part_number__icontains=term)
        | name_matches
        | Q(part_number_key__iexact=term)
        | Q(pk__in=OfferEan.objects.filter(ean=term).values("offer_id"))
    )
    if term.isdigit() and len(term) < 19:  # longer numbers fit no 64-bit id
        matches |= Q(emag_id=int(term))
    return offers.filter(matches)


def offer_local_edits(*, offer: Offer) -> QuerySet[LocalEdit]:
    return LocalEdit.objects.filter(offer=offer).select_related("edited_by").order_by("field")


def offer_open_conflicts(*, offer: Offer) -> QuerySet[Conflict]:
    return Conflict.objects.filter(offer=offer, status=ConflictStatus.OPEN).order_by("field")


def offer_change_history(*, offer: Offer, limit: int = 50) -> QuerySet[OfferChange]:
    """Return the newest field changes eMAG made to an offer, as syncs saw them."""
    return OfferChange.objects.filter(offer=offer).order_by("-changed_at", "-id")[:limit]
