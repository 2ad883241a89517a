"""Every admin page: as many queries with 1,000 offers and orders as with 10 (none per row), and
markup a Content-Security-Policy without 'unsafe-inline' allows."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from emag_sync.accounts import get_accounts
from emag_sync.admin import display
from emag_sync.models import AlertIncident, Conflict, HealthCheck, Offer, Order, SyncRun
from tests.admin_support import make_offers, make_orders, make_overlay, make_runs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at"),
]


def populate(*, main: int, fbe: int, runs: int, first_id: int) -> None:
    """Add offers and orders to both accounts, with local values, conflicts, history, runs,
    requests, and order lines linked to the offers."""
    run = make_runs(runs)[0]
    make_runs(runs, account="fbe", kind="orders")
    main_offers = make_offers("main", main, first_id=first_id)
    make_overlay(main_offers, run=run)
    make_overlay(make_offers("fbe", fbe, first_id=first_id + 100_000), run=run)
    make_orders("main", main, first_id=first_id, offers=main_offers)
    make_orders("fbe", fbe, first_id=first_id + 100_000)


def record_health() -> None:
    """Store a health check that saw FBE unreachable, and its open alert."""
    now = timezone.now()
    HealthCheck.objects.create(
        checked_at=now,
        status="degraded",
        database_ok=True,
        broker_ok=True,
        accounts={"main": {"ok": True, "latency_ms": 80}, "fbe": {"ok": False, "message": "no"}},
    )
    AlertIncident.objects.create(
        key="account:fbe",
        kind="account_unreachable",
        account="fbe",
        message="eMAG account fbe is unreachable: no",
        opened_at=now,
        last_seen_at=now,
    )


def admin_pages(offer: Offer, conflict: Conflict, run: SyncRun, order: Order) -> dict[str, str]:
    offers = reverse("admin:emag_sync_offer_changelist")
    orders = reverse("admin:emag_sync_order_changelist")
    return {
        "index": reverse("admin:index"),
        "app index": reverse("admin:app_list", args=["emag_sync"]),
        "dashboard": reverse("admin:emag_sync_dashboard"),
        "progress": reverse("admin:emag_sync_dashboard_progress") + f"?track={run.pk}",
        "progress with cards": reverse("admin:emag_sync_dashboard_progress") + "?fragments=1",
        "offers": offers,
        "offers of an account": offers + "?account=main",
        "offers in stock": offers + "?in_stock=yes",
        "offers missing": offers + "?missing=no",
        "offers with local edits": offers + "?local_edits=yes",
        "offers with open conflicts": offers + "?open_conflicts=yes",
        "offers by validation": offers + "?validation_status=9&offer_validation_status=1",
        "offers by status": offers + "?status__exact=1",
        "offers searched by SKU": offers + "?q=SKU-0",
        "offers searched by EAN": offers + f"?q={offer.ean[0]}",
        "offers searched by id": offers + f"?q={offer.emag_id}",
        "offers sorted by name": offers + "?o=-2",
        "offer export": reverse("admin:emag_sync_offer_export") + "?account=main",
        "offer": reverse("admin:emag_sync_offer_change", args=[offer.pk]),
        "conflicts": reverse("admin:emag_sync_conflict_changelist") + "?status__exact=open",
        "conflict": reverse("admin:emag_sync_conflict_change", args=[conflict.pk]),
        "local edits": reverse("admin:emag_sync_localedit_changelist"),
        "runs": reverse("admin:emag_sync_syncrun_changelist"),
        "run": reverse("admin:emag_sync_syncrun_change", args=[run.pk]),
        "request log": reverse("admin:emag_sync_emagrequestlog_changelist"),
        "checkpoints": reverse("admin:emag_sync_syncstate_changelist"),
        "orders": orders,
        "orders of an account": orders + "?account=fbe",
        "orders by status and type": orders + "?status__exact=1&type__exact=3",
        "orders of some days": orders + "?date_from=2020-01-01&date_to=2099-12-31",
        "orders searched by customer": orders + "?q=popescu",
        "orders searched by id": orders + f"?q={order.emag_id}",
        "orders sorted by total": orders + "?o=-7",
        "order export": reverse("admin:emag_sync_order_export") + "?account=main",
        "order": reverse("admin:emag_sync_order_change", args=[order.pk]),
    }


def count_queries(client, pages: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in pages.items():
        client.get(url)  # warm the per-process caches (content types, sessions)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    return counts


def test_every_admin_page_makes_the_same_number_of_queries_with_10_and_1000_offers_and_orders(
    admin_client,
):
    populate(main=8, fbe=2, runs=3, first_id=1)
    record_health()
    offer = Offer.objects.get(account="main", emag_id=1)
    order = Order.objects.get(account="main", emag_id=5)  # three lines, a status history
    pages = admin_pages(
        offer, Conflict.objects.filter(offer=offer).get(), SyncRun.objects.first(), order
    )
    with_10 = count_queries(admin_client, pages)

    populate(main=792, fbe=198, runs=30, first_id=9)
    assert Offer.objects.count() == Order.objects.count() == 1000
    with_1000 = count_queries(admin_client, pages)

    assert with_1000 == with_10


def test_no_admin_page_carries_a_style_attribute_style_block_or_inline_script(admin_client):
    populate(main=8, fbe=2, runs=3, first_id=1)
    record_health()
    offer = Offer.objects.get(account="main", emag_id=1)
    order = Order.objects.get(account="main", emag_id=5)
    pages = admin_pages(
        offer, Conflict.objects.filter(offer=offer).get(), SyncRun.objects.first(), order
    )

    for name, url in pages.items():
        response = admin_client.get(url, HTTP_ACCEPT="text/html")
        if response.streaming or not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        assert not re.search(r"\sstyle=", html), name
        assert "<style" not in html, name
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), name
        assert not re.search(r"\son[a-z]+=", html), name  # onclick= and the like


def test_the_stylesheet_gives_accounts_and_statuses_the_colours_the_progress_json_sends(
    settings, monkeypatch
):
    settings.EMAG_ACCOUNTS = ["main", "fbe", "bg", "hu"]
    for name in ("BG", "HU"):
        monkeypatch.setenv(f"EMAG_{name}_USERNAME", "user")
        monkeypatch.setenv(f"EMAG_{name}_PASSWORD", "password")
    get_accounts.cache_clear()
    css = (Path(__file__).parents[1] / "static" / "emag_sync" / "admin.css").read_text()

    def declared(selector: str, variable: str) -> str:
        rule = re.search(rf"\.{selector} \{{ {variable}: (#[0-9a-f]{{6}}); \}}", css)
        assert rule, selector
        return rule.group(1)

    for name in ("main", "fbe", "bg", "hu"):
        selector = display.account_colour_class(name)
        assert declared(selector, "--mf-account") == display.account_colour(name)
    assert declared("mf-colour-0", "--mf-account") == display.PALETTE[0]  # bg: the first
    for status, colour in display.STATUS_COLOURS.items():
        assert declared(f"mf-status-{status}", "--mf-tag") == colour
