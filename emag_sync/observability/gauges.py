"""Read what the database says at scrape time, as Prometheus gauges (web process only).

A few grouped queries, each on an index: the last successful run per account and stream
(one indexed look-up each), active runs (the partial unique index holds only them), open
conflicts, offers by status (an index-only scan of `offer_account_status`: COUNT(*) names no
other column), missing offers (the partial `offer_missing` index), new orders, open
incidents and the last health check. docs/PERFORMANCE.md has the scrape's cost at 100,000
offers.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from emag_sync.models import (
    ACTIVE_STATUSES,
    AlertIncident,
    Conflict,
    ConflictStatus,
    HealthCheck,
    IncidentKind,
    Offer,
    OfferPush,
    OfferStatus,
    Order,
    OrderStatus,
    PushState,
    SyncKind,
    SyncRun,
)
from emag_sync.selectors.runs import sync_run_last_successful

# Push states that still need something: sending, the seller's attention, or a read-back.
BACKLOG_PUSH_STATES = (
    PushState.PENDING,
    PushState.SENDING,
    PushState.REJECTED,
    PushState.UNCERTAIN,
)


def _accounts() -> list[str]:
    return [name.strip().lower() for name in settings.EMAG_ACCOUNTS]


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def _counts(queryset: QuerySet, *fields: str) -> dict[Any, int]:
    """Count the rows by the fields' values: keyed by the value, or by a tuple of several."""
    rows = queryset.order_by().values(*fields).annotate(n=Count("*"))
    if len(fields) == 1:
        return {row[fields[0]]: row["n"] for row in rows}
    return {tuple(row[name] for name in fields): row["n"] for row in rows}


def _counts_gauge(
    name: str, documentation: str, label: str, keys: Iterable[str], counts: dict[Any, int]
) -> GaugeMetricFamily:
    """Return a gauge of one label with a sample for every key, 0 where nothing was counted."""
    gauge = _gauge(name, documentation, [label])
    for key in keys:
        gauge.add_metric([key], counts.get(key, 0))
    return gauge


class DatabaseCollector(Collector):
    """Yield the database gauges; registered on the scrape's own registry."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        accounts = _accounts()
        yield from self._runs(accounts)
        yield from self._backlog(accounts)
        yield from self._offers(accounts)
        yield from self._health()

    def _runs(self, accounts: list[str]) -> Iterator[GaugeMetricFamily]:
        last_success = _gauge(
            "magflow_sync_last_success_timestamp_seconds",
            "When the last completed run of a stream ended (Unix time).",
            ["account", "stream"],
        )
        for account in accounts:
            for stream in SyncKind.values:
                run = sync_run_last_successful(account=account, kind=stream)
                if run is not None and run.finished_at is not None:
                    last_success.add_metric([account, stream], run.finished_at.timestamp())
        yield last_success

        stale_after = _gauge(
            "magflow_sync_stale_after_seconds",
            "Age of the last success past which a stream is stale (SYNC_STALE_*_MINUTES).",
            ["stream"],
        )
        for stream, minutes in settings.SYNC_STALE_AFTER_MINUTES.items():
            stale_after.add_metric([stream], minutes * 60)
        yield stale_after

        active = _counts(
            SyncRun.objects.filter(status__in=ACTIVE_STATUSES), "account", "kind", "status"
        )
        runs_active = _gauge(
            "magflow_sync_runs_active",
            "Runs queued or running now.",
            ["account", "stream", "status"],
        )
        for account in accounts:
            for stream in SyncKind.values:
                for status in ACTIVE_STATUSES:
                    count = active.get((account, stream, status), 0)
                    runs_active.add_metric([account, stream, status], count)
        yield runs_active

    def _backlog(self, accounts: list[str]) -> Iterator[GaugeMetricFamily]:
        yield _counts_gauge(
            "magflow_conflicts_open",
            "Conflicts waiting for a person.",
            "account",
            accounts,
            _counts(Conflict.objects.filter(status=ConflictStatus.OPEN), "offer__account"),
        )
        yield _counts_gauge(
            "magflow_orders_to_acknowledge",
            "New orders (status 1) not yet acknowledged.",
            "account",
            accounts,
            _counts(Order.objects.filter(status=OrderStatus.NEW), "account"),
        )

        # Each offer's current push only: older rows are its history, not backlog.
        pushes = _counts(
            OfferPush.objects.filter(is_current=True, state__in=BACKLOG_PUSH_STATES),
            "account",
            "state",
        )
        pushes_waiting = _gauge(
            "magflow_pushes_waiting",
            "Offers whose local edit has not reached eMAG yet, by push state.",
            ["account", "state"],
        )
        for account in accounts:
            for state in BACKLOG_PUSH_STATES:
                pushes_waiting.add_metric([account, state], pushes.get((account, state), 0))
        yield pushes_waiting

    def _offers(self, accounts: list[str]) -> Iterator[GaugeMetricFamily]:
        by_status = _counts(Offer.objects.all(), "account", "status")
        offers = _gauge(
            "magflow_offers", "Offers in the mirror, by eMAG status.", ["account", "status"]
        )
        labels = {status.value: status.label.lower().replace(" ", "_") for status in OfferStatus}
        for account in accounts:
            for value, label in labels.items():
                offers.add_metric([account, label], by_status.get((account, value), 0))
            unknown = by_status.get((account, None), 0)
            if unknown:
                offers.add_metric([account, "unknown"], unknown)
        yield offers

        yield _counts_gauge(
            "magflow_offers_missing",
            "Offers the last full pass did not return.",
            "account",
            accounts,
            _counts(Offer.objects.filter(missing_since__isnull=False), "account"),
        )

    def _health(self) -> Iterator[GaugeMetricFamily]:
        yield _counts_gauge(
            "magflow_incidents_open",
            "Built-in alert incidents open now, by kind.",
            "kind",
            IncidentKind.values,
            _counts(AlertIncident.objects.filter(resolved_at__isnull=True), "kind"),
        )

        check = HealthCheck.objects.order_by("-checked_at", "-id").first()
        component_ok = _gauge(
            "magflow_health_component_ok",
            "The last health check's result per component (1 ok, 0 not).",
            ["component"],
        )
        account_ok = _gauge(
            "magflow_health_account_ok",
            "The last health check's eMAG connection test per account (1 ok, 0 not).",
            ["account"],
        )
        checked_at = _gauge(
            "magflow_health_check_timestamp_seconds", "When the last health check ran.", []
        )
        if check is not None:
            component_ok.add_metric(["database"], int(check.database_ok))
            component_ok.add_metric(["broker"], int(check.broker_ok))
            for account, result in sorted((check.accounts or {}).items()):
                account_ok.add_metric([account], int(bool(result.get("ok"))))
            checked_at.add_metric([], check.checked_at.timestamp())
        yield component_ok
        yield account_ok
        yield checked_at


__all__ = ["DatabaseCollector"]
