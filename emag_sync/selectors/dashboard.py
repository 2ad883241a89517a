"""What the admin's sync dashboard shows per account: offers, orders, their syncs, health."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from emag_sync.models import (
    AlertIncident,
    Conflict,
    ConflictStatus,
    EmagRequestLog,
    HealthCheck,
    Offer,
    OfferPush,
    Order,
    PushState,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from emag_sync.selectors.orders import OrderCounts, order_counts_by_account

FAILING_STATUSES = (SyncStatus.FAILED, SyncStatus.PARTIAL)


def stale_after(kind: str) -> timedelta | None:
    """Return how old a stream's last success may be before it is stale (as alerts judge it).

    None for a stream that runs only when it has work (pushes): it is never stale.
    """
    minutes = settings.SYNC_STALE_AFTER_MINUTES.get(kind)
    return timedelta(minutes=minutes) if minutes else None


@dataclass(frozen=True)
class StreamOverview:
    """One stream (offers, orders, acknowledge) of one account: its newest run and success."""

    kind: str
    last_success: SyncRun | None
    latest_run: SyncRun | None
    first_run_at: datetime | None
    checked_at: datetime

    @property
    def stale_after(self) -> timedelta | None:
        return stale_after(self.kind)

    @property
    def is_stale(self) -> bool:
        """Say whether the stream has gone too long without a completed run.

        Offers are the account's core, so never having synced them is stale. The order
        streams are judged as the health check judges them: one that never ran is not (it
        may not be scheduled), one that has been trying for longer than the threshold is.
        """
        if self.stale_after is None:
            return False
        if self.last_success is not None and self.last_success.finished_at is not None:
            return self.checked_at - self.last_success.finished_at > self.stale_after
        if self.kind == SyncKind.OFFERS:
            return True
        return self.first_run_at is not None and (
            self.checked_at - self.first_run_at > self.stale_after
        )

    @property
    def is_running(self) -> bool:
        return self.latest_run is not None and self.latest_run.is_active

    @property
    def is_failing(self) -> bool:
        return self.latest_run is not None and self.latest_run.status in FAILING_STATUSES

    @property
    def is_flagged(self) -> bool:
        # A run in progress may still end the staleness, so it is not flagged meanwhile.
        return self.is_failing or (self.is_stale and not self.is_running)


@dataclass(frozen=True)
class AccountHealth:
    """What the stored health check saw of one account's eMAG connection."""

    checked_at: datetime
    ok: bool
    latency_ms: int | None
    message: str


@dataclass(frozen=True)
class AccountOverview:
    """What the dashboard shows on an account's card."""

    name: str
    offers: int
    in_stock: int
    missing: int
    open_conflicts: int
    streams: dict[str, StreamOverview]
    orders: OrderCounts
    health: AccountHealth | None
    # The newest eMAG call, standing in for health until a health check has run.
    last_call: EmagRequestLog | None
    incidents: list[AlertIncident] = field(default_factory=list)
    # Offers whose latest push waits to be sent, or was refused by eMAG.
    pending_pushes: int = 0
    rejected_pushes: int = 0

    @property
    def offer_stream(self) -> StreamOverview:
        return self.streams[SyncKind.OFFERS]

    @property
    def order_stream(self) -> StreamOverview:
        return self.streams[SyncKind.ORDERS]

    @property
    def acknowledge_stream(self) -> StreamOverview:
        return self.streams[SyncKind.ACKNOWLEDGE]

    @property
    def push_stream(self) -> StreamOverview:
        return self.streams[SyncKind.PUSH]

    # The card's headline is its offers: these name the offer stream.
    @property
    def last_success(self) -> SyncRun | None:
        return self.offer_stream.last_success

    @property
    def latest_run(self) -> SyncRun | None:
        return self.offer_stream.latest_run

    @property
    def is_stale(self) -> bool:
        return self.offer_stream.is_stale

    @property
    def is_failing(self) -> bool:
        return self.offer_stream.is_failing

    @property
    def is_unreachable(self) -> bool:
        return self.health is not None and not self.health.ok

    @property
    def is_flagged(self) -> bool:
        return (
            any(stream.is_flagged for stream in self.streams.values())
            or self.is_unreachable
            or bool(self.incidents)
        )


def account_overview(
    *,
    accounts: list[str],
    health: HealthCheck | None = None,
    open_incidents: Sequence[AlertIncident] = (),
) -> list[AccountOverview]:
    """Return one overview per account, in a fixed number of queries.

    `health` is the latest stored health check and `open_incidents` the unresolved alerts,
    as the caller read them (it shows them too). Without a health check, each account's
    newest eMAG call is read instead (one query per account).
    """
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
    pushes = {
        (row["account"], row["state"]): row["count"]
        for row in OfferPush.objects.filter(
            account__in=accounts,
            is_current=True,
            state__in=(PushState.PENDING, PushState.REJECTED),
        )
        .order_by()
        .values("account", "state")
        .annotate(count=Count("pk"))
    }
    orders = order_counts_by_account(orders=Order.objects.filter(account__in=accounts))
    streams = _streams(accounts=accounts, now=timezone.now())
    incidents: dict[str, list[AlertIncident]] = {}
    for incident in open_incidents:
        incidents.setdefault(incident.account, []).append(incident)
    overviews = []
    for name in accounts:
        row: dict[str, Any] = counts.get(name, {})
        overviews.append(
            AccountOverview(
                name=name,
                offers=row.get("total", 0),
                in_stock=row.get("in_stock", 0),
                missing=row.get("missing", 0),
                open_conflicts=conflicts.get(name, 0),
                streams=streams[name],
                pending_pushes=pushes.get((name, PushState.PENDING), 0),
                rejected_pushes=pushes.get((name, PushState.REJECTED), 0),
                orders=orders.get(name, OrderCounts()),
                health=_account_health(health, name),
                last_call=None if health else _last_call(name),
                incidents=incidents.get(name, []),
            )
        )
    return overviews


def _streams(*, accounts: list[str], now: datetime) -> dict[str, dict[str, StreamOverview]]:
    """Return every account's streams from two queries, whatever the number of runs."""
    runs = SyncRun.objects.filter(account__in=accounts).order_by()
    # One run per (account, stream) is active at a time, so the highest id is the newest.
    newest_ids = runs.values("account", "kind").annotate(newest=Max("pk")).values("newest")
    newest_completed_ids = (
        runs.filter(status=SyncStatus.COMPLETED)
        .values("account", "kind")
        .annotate(newest=Max("pk"))
        .values("newest")
    )
    latest: dict[tuple[str, str], SyncRun] = {}
    last_success: dict[tuple[str, str], SyncRun] = {}
    for run in SyncRun.objects.filter(Q(pk__in=newest_ids) | Q(pk__in=newest_completed_ids)):
        key = (run.account, run.kind)
        if run.status == SyncStatus.COMPLETED:
            last_success[key] = run
        if run.pk > getattr(latest.get(key), "pk", 0):
            latest[key] = run
    first_run_at = {
        (row["account"], row["kind"]): row["first"]
        for row in runs.values("account", "kind").annotate(first=Min("created_at"))
    }
    return {
        name: {
            kind: StreamOverview(
                kind=kind,
                last_success=last_success.get((name, kind)),
                latest_run=latest.get((name, kind)),
                first_run_at=first_run_at.get((name, kind)),
                checked_at=now,
            )
            for kind in SyncKind.values
        }
        for name in accounts
    }


def _account_health(check: HealthCheck | None, name: str) -> AccountHealth | None:
    if check is None:
        return None
    seen = (check.accounts or {}).get(name)
    if not isinstance(seen, dict):
        return None
    return AccountHealth(
        checked_at=check.checked_at,
        ok=bool(seen.get("ok")),
        latency_ms=seen.get("latency_ms"),
        message=str(seen.get("message") or ""),
    )


def _last_call(name: str) -> EmagRequestLog | None:
    # Per account: the log's created_at index answers this without a scan.
    return EmagRequestLog.objects.filter(account=name).order_by("-created_at", "-id").first()
