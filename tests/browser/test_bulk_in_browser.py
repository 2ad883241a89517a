"""A seller's bulk work in real headless Chromium: a bulk price change with its preview, a push
to the eMAG sandbox over HTTP through a real Celery worker, and a 1,000-row import.
"""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from emag_sync.models import LocalEdit, Offer, OfferPush, PushState
from tests.admin_support import make_offers
from tests.browser import test_admin_in_browser as seller_session
from tests.browser.conftest import BROWSER_TEST_MARKS
from tests.browser.test_admin_in_browser import log_in, wait_for_runs
from tests.test_offer_import import BAD_ROWS, thousand_rows_csv

pytestmark = BROWSER_TEST_MARKS

CENT = Decimal("0.01")
# Applying 997 rows writes each through the local-edit service and its outbox.
IMPORT_TIMEOUT_MS = 180_000
# The seller and their browser page, as the other browser tests have them.
seller = seller_session.seller
page = seller_session.page


@pytest.fixture
def language():
    """Pin the bulk session to English, the language its expected words are written in."""
    return "en"


def test_a_bulk_price_change_on_20_filtered_offers_is_previewed_then_pushed_to_emag(
    page, seller, live_sandbox, celery_worker
):
    sandbox, _ = live_sandbox(offers={"main": 20, "fbe": 5}, rate_limit=True)
    celery_worker()
    call_command("emag_sync", "products", "--account", "all", "--mode", "full")
    offers = {offer.part_number: offer for offer in Offer.objects.filter(account="main")}
    assert len(offers) == 20

    log_in(page)
    page.goto("/admin/emag_sync/offer/?account=main")
    assert page.locator("#result_list tbody tr").count() == 20
    page.check("#action-toggle")
    page.select_option("select[name=action]", "bulk_change")
    page.click("button[name=index]")

    page.wait_for_selector("#mf-bulk-change")
    assert "without VAT" in page.inner_text("#content")
    page.select_option("#id_field", "sale_price")
    page.select_option("#id_operation", "raise_percent")
    page.fill("#id_amount", "2.5")
    page.click("#mf-bulk-preview")
    page.wait_for_selector("#mf-bulk-rows")
    assert page.locator("#mf-bulk-rows tbody tr").count() == 20
    assert not LocalEdit.objects.exists(), "the preview saved something"
    expected = {}
    for row in page.locator("#mf-bulk-rows tbody tr").all():
        sku = row.locator("td").nth(1).inner_text()
        old = (offers[sku].sale_price).quantize(CENT, rounding=ROUND_HALF_UP)
        new = (old * Decimal("1.025")).quantize(CENT, rounding=ROUND_HALF_UP)
        assert row.locator("td").nth(3).inner_text() == f"{old} RON"
        assert row.locator("td").nth(4).inner_text() == f"{new} RON"
        if not row.locator(".mf-bulk-error").inner_text():
            expected[sku] = new
    assert expected, "every offer was refused: nothing to push"

    page.click("#mf-bulk-apply")
    page.wait_for_selector(".messagelist .success")
    assert {
        edit.offer.part_number: Decimal(edit.value)
        for edit in LocalEdit.objects.select_related("offer")
    } == expected

    # "Push to eMAG now" on the same selection.
    page.check("#action-toggle")
    page.select_option("select[name=action]", "push_now")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist li")
    assert "Pushing" in page.inner_text(".messagelist")
    (run,) = wait_for_runs("push", ["main"])
    assert (run.items_applied, run.items_rejected) == (len(expected), 0)
    on_emag = {offer["part_number"]: offer for offer in sandbox.offers("main")}
    for sku, price in expected.items():
        assert Decimal(str(on_emag[sku]["sale_price"])) == price, sku
    assert not OfferPush.objects.filter(state=PushState.PENDING).exists()

    # The dashboard shows the push run with the other streams.
    page.goto(reverse("admin:emag_sync_dashboard"))
    push_line = page.locator('.mf-card[data-account="main"] .mf-card-pushes')
    push_line.wait_for()
    last_push = push_line.locator('[data-field="push_last_success"]')
    assert last_push.get_attribute("href").endswith(f"/{run.pk}/change/")
    assert push_line.locator('[data-field="pending_pushes"]').inner_text() == "0 pending"
    assert page.problems == []


def test_an_import_of_1000_rows_with_3_bad_ones_previews_the_errors_and_applies_the_rest(
    page, seller, tmp_path
):
    make_offers("main", 1000)
    upload = tmp_path / "offers.csv"
    upload.write_bytes(thousand_rows_csv())

    log_in(page)
    page.goto("/admin/emag_sync/offer/")
    page.click("#mf-import")
    assert "Prices are without VAT" in page.inner_text("#mf-import-help")
    page.set_input_files("#id_import_file", str(upload))
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit]")

    page.wait_for_selector("#mf-import-error-rows", timeout=IMPORT_TIMEOUT_MS)
    assert page.inner_text("#mf-import-errors").startswith("3 rows with errors")
    numbers = page.locator("#mf-import-error-rows tbody tr td:first-child").all_inner_texts()
    assert sorted(int(number) for number in numbers) == sorted(BAD_ROWS)
    assert "No offer with part_number MAIN-SKU-99999" in page.inner_text("#mf-import-error-rows")
    assert not LocalEdit.objects.exists(), "the preview saved something"

    page.click("#mf-import-confirm input[name=confirm]")
    page.wait_for_selector(".messagelist", timeout=IMPORT_TIMEOUT_MS)
    assert "3 rows with errors were skipped" in page.inner_text(".messagelist")
    assert LocalEdit.objects.filter(field="sale_price").count() == 997
    assert OfferPush.objects.filter(state=PushState.PENDING).count() == 997
    assert page.problems == []
