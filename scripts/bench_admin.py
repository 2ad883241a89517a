"""Time the admin with a big catalogue on PostgreSQL (default: 100,000 offers and orders).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/magflow .venv/bin/python scripts/bench_admin.py

Creates a throwaway database next to DATABASE_URL's (`<name>_admin_bench`), migrates it,
writes sandbox-generated offers and orders through the real page writers (so rows, EANs,
lines, status histories and hashes are what a sync leaves), adds local values and conflicts
to 1 % of the offers, then times each admin page with Django's test client (median of
several requests, after a warm-up). The database is dropped at the end unless --keep is
given.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGE = 100


def throwaway_url(base_url: str) -> tuple[str, str, str]:
    """Return (bench database URL, its name, the server's maintenance URL)."""
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") + "_admin_bench"
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        name,
        urlunsplit(parts._replace(path="/postgres")),
    )


def recreate(maintenance_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def fill(count: int) -> None:
    from django.utils import timezone

    from emag_sync.models import Conflict, LocalEdit, Offer, SyncKind
    from emag_sync.sandbox import generate_offers
    from emag_sync.services.offer_pages import offer_page_write
    from emag_sync.services.sync_runs import sync_run_claim, sync_run_finish
    from emag_sync.services.table_statistics import GrowthAnalyzer

    started = time.perf_counter()
    # As a sync does: keep the planner's statistics up with the growing table.
    statistics = GrowthAnalyzer(Offer)
    for account, share in (("main", 0.6), ("fbe", 0.4)):
        payloads = generate_offers(account, round(count * share))
        run = sync_run_claim(account=account, kind=SyncKind.OFFERS)
        now = timezone.now()
        for start in range(0, len(payloads), PAGE):
            result = offer_page_write(
                run=run,
                account=account,
                payloads=payloads[start : start + PAGE],
                fetched_at=now,
                strategy="emag_priority",
            )
            statistics.added(result.created)
        sync_run_finish(run=run, status="completed")
    offers = [
        (pk, price)
        for pk, price in Offer.objects.order_by("pk").values_list("pk", "sale_price")[::100]
        if price is not None
    ]
    now = timezone.now()
    LocalEdit.objects.bulk_create(
        LocalEdit(offer_id=pk, field="sale_price", value=f"{price + 1:.4f}", edited_at=now)
        for pk, price in offers
    )
    Conflict.objects.bulk_create(
        Conflict(
            offer_id=pk,
            field="sale_price",
            base_value=f"{price:.4f}",
            local_value=f"{price + 1:.4f}",
            emag_value=f"{price + 2:.4f}",
            detected_at=now,
        )
        for pk, price in offers
    )
    print(
        f"wrote {Offer.objects.count():,} offers, {len(offers):,} local values and conflicts "
        f"in {time.perf_counter() - started:.0f} s"
    )


def fill_orders(count: int) -> None:
    from django.utils import timezone

    from emag_sync.accounts import get_account
    from emag_sync.models import Order, SyncKind
    from emag_sync.sandbox import generate_orders
    from emag_sync.services.order_pages import order_page_write
    from emag_sync.services.sync_runs import sync_run_claim, sync_run_finish
    from emag_sync.services.table_statistics import GrowthAnalyzer

    started = time.perf_counter()
    statistics = GrowthAnalyzer(Order)
    for account, share in (("main", 0.6), ("fbe", 0.4)):
        payloads = generate_orders(account, round(count * share))
        run = sync_run_claim(account=account, kind=SyncKind.ORDERS, mode="full")
        zone = get_account(account).timezone
        for start in range(0, len(payloads), PAGE):
            result = order_page_write(
                run=run,
                account=account,
                zone=zone,
                payloads=payloads[start : start + PAGE],
                fetched_at=timezone.now(),
                page=start // PAGE + 1,
            )
            statistics.added(result.created)
        sync_run_finish(run=run, status="completed")
    print(f"wrote {Order.objects.count():,} orders in {time.perf_counter() - started:.0f} s")


def pages() -> dict[str, str]:
    from django.urls import reverse

    from emag_sync.models import Offer, Order

    offer = Offer.objects.filter(account="main").order_by("pk")[5000]
    order = Order.objects.filter(account="main").order_by("pk")[5000]
    orders = reverse("admin:emag_sync_order_changelist")
    offers = reverse("admin:emag_sync_offer_changelist")
    return {
        "offer changelist": offers,
        "  page 50": offers + "?p=50",
        "  account MAIN": offers + "?account=main",
        "  in stock": offers + "?in_stock=yes",
        "  has local edits": offers + "?local_edits=yes",
        "  has open conflicts": offers + "?open_conflicts=yes",
        "  validation 9": offers + "?validation_status=9",
        "  search SKU": offers + f"?q={offer.part_number}",
        "  search name word": offers + "?q=Samsung",
        "  search EAN": offers + f"?q={offer.ean[0] if offer.ean else offer.emag_id}",
        "  search eMAG id": offers + f"?q={offer.emag_id}",
        "  sorted by name": offers + "?o=-2",
        "  sorted by price": offers + "?o=4",
        "offer detail": reverse("admin:emag_sync_offer_change", args=[offer.pk]),
        "dashboard": reverse("admin:emag_sync_dashboard"),
        "dashboard progress poll": reverse("admin:emag_sync_dashboard_progress"),
        "conflicts (open)": reverse("admin:emag_sync_conflict_changelist") + "?status__exact=open",
        "local edits": reverse("admin:emag_sync_localedit_changelist"),
        "sync runs": reverse("admin:emag_sync_syncrun_changelist"),
        "order changelist": orders,
        "  orders page 50": orders + "?p=50",
        "  orders of FBE": orders + "?account=fbe",
        "  new orders": orders + "?status__exact=1",
        "  orders of a month": orders + f"?date_from={order.date:%Y-%m-01}&date_to={order.date:%F}",
        "  search a customer": orders + f"?q={order.customer_name.split()[-1]}",
        "  search an order id": orders + f"?q={order.emag_id}",
        "  orders by total": orders + "?o=-7",
        "order detail": reverse("admin:emag_sync_order_change", args=[order.pk]),
    }


def measure(repeats: int) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    print(f"\n{'page':<28} {'median':>9} {'max':>9}   (ms, {repeats} requests after a warm-up)")
    for name, url in pages().items():
        response = client.get(url)
        # A benchmark stops on a wrong answer; it never runs with -O.
        assert response.status_code == 200, (name, response.status_code)  # nosec B101
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{name:<28} {statistics.median(timings):>9.1f} {max(timings):>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--reuse", action="store_true", help="time a database kept by --keep, without refilling"
    )
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the bench database goes next to it).")
    bench_url, name, maintenance_url = throwaway_url(base_url)
    if not args.reuse:
        recreate(maintenance_url, name)
    os.environ.update(
        DATABASE_URL=bench_url,
        MAGFLOW_SKIP_DOTENV="1",
        DJANGO_SETTINGS_MODULE="magflow.settings",
        ALLOWED_HOSTS="testserver",
    )
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        if not args.reuse:
            call_command("migrate", verbosity=0)
            fill(args.offers)
            fill_orders(args.orders)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        measure(args.repeats)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            recreate(maintenance_url, name, drop_only=True)


if __name__ == "__main__":
    main()
