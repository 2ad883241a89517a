"""The seller's path in real Chromium under the pseudo-locale: no page shows an unmarked string.

Every marked string is transformed (tests/pseudo_support.py), so English words left on a page
are text nobody marked for translation. Data (offer, customer and schedule names, SKUs,
numbers, dates) is exempt. Each step's visible texts are collected, then all pages' findings
are reported at once.
"""

import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils.html import strip_tags
from django_celery_beat.models import PeriodicTask

from emag_sync.models import Offer, Order, OrderLine, SyncRun
from tests.browser.conftest import BROWSER_TEST_MARKS, record_problems
from tests.browser.test_admin_in_browser import (
    PASSWORD,
    card,
    start_sync,
    wait_for_runs,
    watch_runs_to_the_end,
)
from tests.pseudo_support import PSEUDO, browser_texts, findings, untranslated, use_pseudo_locale

pytestmark = [*BROWSER_TEST_MARKS, pytest.mark.i18n]

# Enough pages at eMAG's 3 requests/s for the progress board to show a run under way.
OFFERS = {"main": 600, "fbe": 100}
ORDERS = {"main": 20, "fbe": 5}


@pytest.fixture
def seller(django_user_model):
    return django_user_model.objects.create_superuser("seller", password=PASSWORD)


@pytest.fixture
def page(browser, live_server, settings, monkeypatch):
    use_pseudo_locale(settings, monkeypatch)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 1000}, locale=PSEUDO
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = record_problems(context, page)
    yield page
    context.close()


def shown_data() -> list[str]:
    """Return what the pages show as it is stored: names, SKUs, messages eMAG answered."""
    return [
        "seller",
        *Offer.objects.values_list("name", flat=True),
        *Offer.objects.values_list("part_number", flat=True),
        *Offer.objects.values_list("brand_name", flat=True),
        *Order.objects.values_list("customer_name", flat=True),
        *Order.objects.values_list("payment_mode", flat=True),
        *Order.objects.values_list("detailed_payment_method", flat=True),
        *Offer.objects.values_list("validation_status_description", flat=True),
        # The offer page shows eMAG's description as text, its tags dropped.
        *(
            " ".join(strip_tags(str(offer.description or "").replace(">", "> ")).split())
            for offer in Offer.objects.only("raw")
        ),
        *Offer.objects.values_list("offer_validation_status_description", flat=True),
        *OrderLine.objects.values_list("name", flat=True),
        *PeriodicTask.objects.values_list("name", flat=True),
        *PeriodicTask.objects.values_list("description", flat=True),
        *PeriodicTask.objects.values_list("kwargs", flat=True),
        *(
            error.get("message", "")
            for errors in SyncRun.objects.values_list("errors", flat=True)
            for error in errors
        ),
    ]


def test_no_page_of_the_seller_path_shows_an_unmarked_string_in_a_real_browser(
    page, seller, live_sandbox, celery_worker
):
    sandbox, _ = live_sandbox(offers=OFFERS, orders=ORDERS, rate_limit=True, client_rate_limit=True)
    celery_worker()
    call_command("setup_periodic_tasks", verbosity=0)
    seen: dict[str, list[str]] = {}

    def collect(step: str) -> None:
        seen.setdefault(step, []).extend(browser_texts(page))

    # Log in, then the dashboard.
    page.goto("/admin/")
    collect("login")
    page.fill("#id_username", "seller")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#mf-dashboard-link")
    assert page.evaluate("document.documentElement.lang") == PSEUDO
    collect("admin index")
    page.click("#mf-dashboard-link")
    page.wait_for_selector("#mf-dashboard")
    collect("dashboard")

    # Test both connections.
    for account in OFFERS:
        card(page, account).locator(".mf-test-connection button[type=submit]").click()
        card(page, account).locator(".mf-connection-result.mf-ok").wait_for()
    collect("dashboard, connections tested")

    # A full sync, its live progress sampled while it runs, then its end.
    start_sync(page, account="all", mode="full")
    collect("dashboard, sync queued")
    deadline = time.monotonic() + 30
    while not page.locator('#mf-board .mf-run[data-status="running"]').count():
        assert time.monotonic() < deadline, "no run started"
        time.sleep(0.1)
    collect("dashboard, sync running")
    watch_runs_to_the_end(page)
    page.wait_for_selector("#mf-history [data-status=completed]")
    collect("dashboard, sync ended")

    # Offers: a search, a filter, an offer with a local price.
    offer = Offer.objects.filter(account="main", general_stock__gt=0).order_by("pk").first()
    assert offer is not None
    page.goto("/admin/emag_sync/offer/")
    collect("offers")
    page.fill("#searchbar", offer.part_number)
    page.press("#searchbar", "Enter")
    page.wait_for_selector(f'#result_list >> text="{offer.part_number}"')
    collect("offers, searched")
    page.goto("/admin/emag_sync/offer/")
    page.locator('#changelist-filter a[href*="account=fbe"]').click()
    page.wait_for_url("**account=fbe**")
    collect("offers, filtered")
    page.goto(f"/admin/emag_sync/offer/{offer.pk}/change/")
    page.wait_for_selector("#id_overlay_sale_price")
    collect("offer")
    page.fill("#id_overlay_sale_price", str((offer.sale_price + 1).quantize(Decimal("0.01"))))
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    collect("offer, local price saved")

    # eMAG changes the same price; a selective sync under manual review opens a conflict.
    sandbox.update_offer("main", offer.emag_id, {"sale_price": f"{offer.sale_price + 5:.4f}"})
    page.goto("/admin/emag_sync/syncrun/dashboard/")
    start_sync(page, account="main", mode="selective", strategy="manual", skus=[offer.part_number])
    watch_runs_to_the_end(page)
    page.wait_for_selector("#mf-open-conflicts")
    collect("dashboard, conflict opened")
    page.click("#mf-open-conflicts")
    page.wait_for_selector("#result_list")
    collect("conflicts")

    # Orders: synced from their list, then one opened.
    page.goto("/admin/emag_sync/order/")
    page.click("#mf-sync-orders")
    page.wait_for_selector(".messagelist .success")
    collect("orders, sync queued")
    wait_for_runs("orders", ["main", "fbe"])
    page.reload()
    collect("orders")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_selector("#status_changes-group")
    collect("order")

    # The sync runs and the schedule.
    page.goto("/admin/emag_sync/syncrun/")
    collect("sync runs")
    page.goto("/admin/django_celery_beat/periodictask/")
    collect("periodic tasks")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_selector("#periodictask_form")
    collect("periodic task")

    data = shown_data()
    found = {
        step: english for step, texts in seen.items() if (english := untranslated(texts, data))
    }
    assert found == {}, findings(found)
    assert page.problems == []
