"""Turn the client's call reports into request-log rows, written in bulk with each page.

A page write of any stream also records here what it did (`PageResult`) on its run.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.expressions import CombinedExpression
from django.utils import timezone

from emag_sync.client import EmagCall
from emag_sync.models import EmagRequestLog, SyncRun

ERROR_EXCERPT_LIMIT = 500


@dataclass
class PageResult:
    """What one page write of any stream did, counted on its run."""

    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Items stored with fields left empty because they could not be read, and why.
    warned: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    emag_ids: list[int] = field(default_factory=list)


def request_log_rows(calls: Iterable[EmagCall], *, run: SyncRun | None) -> list[EmagRequestLog]:
    """Return unsaved EmagRequestLog rows for reported eMAG calls (errors keep an excerpt)."""
    return [
        EmagRequestLog(
            account=call.account,
            resource=call.resource,
            action=call.action,
            status_code=call.status_code,
            ok=call.ok,
            latency_ms=call.latency_ms,
            attempts=call.attempts,
            error=(call.error or "")[:ERROR_EXCERPT_LIMIT],
            run=run,
            created_at=call.started_at,
        )
        for call in calls
    ]


def call_counters(calls: list[EmagCall]) -> dict[str, CombinedExpression]:
    """Return the run counter increments (F expressions) for reported calls."""
    return {
        "requests": F("requests") + len(calls),
        "throttled": F("throttled") + sum(call.throttled for call in calls),
        "retries": F("retries") + sum(call.attempts - 1 for call in calls),
    }


def request_log_write(calls: list[EmagCall], *, run: SyncRun | None) -> None:
    """Log reported calls that no page transaction carried, counting them on their run if any."""
    if not calls:
        return
    with transaction.atomic():
        EmagRequestLog.objects.bulk_create(request_log_rows(calls, run=run))
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(**call_counters(calls))


def page_progress_record(
    *, run: SyncRun, result: PageResult, page: int | None, calls: list[EmagCall]
) -> None:
    """Log a page's eMAG calls and add its counts to the run (inside the page's transaction)."""
    if calls:
        EmagRequestLog.objects.bulk_create(request_log_rows(calls, run=run))
    SyncRun.objects.filter(pk=run.pk).update(
        pages_done=F("pages_done") + (1 if page is not None else 0),
        items_seen=F("items_seen") + result.seen,
        items_created=F("items_created") + result.created,
        items_updated=F("items_updated") + result.updated,
        items_unchanged=F("items_unchanged") + result.unchanged,
        items_failed=F("items_failed") + result.failed,
        items_warned=F("items_warned") + result.warned,
        **call_counters(calls),
        heartbeat_at=timezone.now(),
    )
