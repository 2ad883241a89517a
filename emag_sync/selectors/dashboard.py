"""What the admin's sync dashboard shows per account."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from emag_sync.models import (
    Conflict,
    ConflictStatus,
    EmagRequestLog,
    Offer,
    SyncKind,
    SyncRun,
    SyncStatus,
)

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
