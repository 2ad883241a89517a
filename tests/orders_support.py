"""Helpers shared by the order tests: a settable clock and sandbox order lookups."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from emag_sync.models import Offer
from emag_sync.services.order_pages import order_page_write

BUCHAREST = ZoneInfo("Europe/Bucharest")
# A fixed "now" for the sandbox and the sync alike: 12:30 in Bucharest (summer time).
NOW = datetime(2025, 9, 15, 9, 30, tzinfo=UTC)
# The sandbox places orders over the last 120 days; a first sync reading this far reaches all.
ALL_HISTORY_DAYS = 121


class Clock:
    """A clock the sandbox and the sync share, moved by hand."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def local_text(moment: datetime) -> str:
    """Return an aware moment as eMAG writes it: Bucharest wall time, no zone."""
    return moment.astimezone(BUCHAREST).strftime("%Y-%m-%d %H:%M:%S")


def orders_by_id(sandbox, account: str = "main") -> dict[int, dict]:
    return {order["id"]: order for order in sandbox.orders(account)}


ORDER_TABLES = ('"emag_sync_order"', '"emag_sync_orderline"', '"emag_sync_orderstatuschange"')


def order_writes(queries) -> list[str]:
    """Return the captured INSERT, UPDATE and DELETE statements on the order tables."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and any(table in query["sql"] for table in ORDER_TABLES)
    ]


def write_order_page(run, payloads, *, account: str = "main", **options):
    """Write order payloads as page 1 of `run`, fetched now, in Bucharest time."""
    return order_page_write(
        run=run,
        account=account,
        zone=BUCHAREST,
        payloads=payloads,
        fetched_at=timezone.now(),
        page=1,
        **options,
    )


def store_bare_offers(emag_ids, *, account: str = "main") -> None:
    """Store offers with only their ids (no payload), for order lines to link to."""
    now = timezone.now()
    Offer.objects.bulk_create(
        Offer(account=account, emag_id=emag_id, content_hash=b"x", synced_at=now, first_seen_at=now)
        for emag_id in emag_ids
    )
