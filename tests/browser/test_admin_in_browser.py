"""A seller's session in real headless Chromium, against a live server, a Celery worker and the
eMAG sandbox over HTTP with eMAG's rate limits: nothing in between is faked.

Once in English and once in Romanian: the test finds what it presses by id, name, value or
link, never by its words, and expects each text in the session's language.
"""

import csv
import re
import time
from decimal import Decimal

import pytest
from django.utils import translation

from emag_sync.admin.display import count, money
from emag_sync.models import (
    Conflict,
    LocalEdit,
    Offer,
    Order,
    OrderStatus,
    StatusChangeSource,
    SyncRun,
)
from tests.browser.conftest import BROWSER_TEST_MARKS, record_problems

pytestmark = BROWSER_TEST_MARKS

PASSWORD = "browser-test-password-1"
# At eMAG's 3 requests/s, 15 pages of MAIN take about five seconds: long enough to watch.
OFFERS = {"main": 1500, "fbe": 300}
# The sandbox's 80 MAIN orders include four still new (placed within the last day).
ORDERS = {"main": 80, "fbe": 20}
SYNC_TIMEOUT = 90
# English is the language the rest of the suite runs in; Romanian chooses its own (`i18n`).
LANGUAGES = [
    pytest.param("en", id="en"),
    pytest.param("ro", id="ro", marks=[pytest.mark.i18n, pytest.mark.slow]),
]


@pytest.fixture
def seller(django_user_model):
    return django_user_model.objects.create_superuser("seller", password=PASSWORD)


@pytest.fixture
def page(browser, live_server, language, settings, monkeypatch):
    settings.LANGUAGE_CODE = language
    monkeypatch.setenv("LANGUAGE_CODE", language)  # the Celery worker's
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1400, "height": 1000},
        accept_downloads=True,
        locale=language,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = record_problems(context, page)  # CSP violations included
    yield page
    context.close()


def log_in(page) -> None:
    page.goto("/admin/")
    page.fill("#id_username", "seller")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#mf-dashboard-link")


def card(page, account: str):
    return page.locator(f'.mf-card[data-account="{account}"]')


def check_connections(page, language: str) -> None:
    for account, offers in OFFERS.items():
        card(page, account).locator(".mf-test-connection button[type=submit]").click()
        result = card(page, account).locator(".mf-connection-result.mf-ok")
        result.wait_for()
        text = result.inner_text()
        with translation.override(language):
            shown = re.escape(count(offers))
        assert re.fullmatch(rf"✔ \S+ · \d+ ms · {shown} \S.* eMAG", text), text


def board_state(page) -> dict[int, tuple[str, int | None]]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#mf-board .mf-run')].map(run => {
            const now = run.querySelector('.mf-progress').getAttribute('aria-valuenow');
            return [run.dataset.runId, [run.dataset.status, now === null ? null : Number(now)]];
        }))"""
    )


def watch_runs_to_the_end(page) -> dict[int, list]:
    """Sample the progress board until every run on it ended; return what each bar showed."""
    seen: dict[int, list] = {}
    deadline = time.monotonic() + SYNC_TIMEOUT
    while True:
        state = board_state(page)
        for run_id, (status, percent) in state.items():
            samples = seen.setdefault(int(run_id), [])
            if not samples or samples[-1] != (status, percent):
                samples.append((status, percent))
        if state and all(status not in ("queued", "running") for status, _ in state.values()):
            return seen
        assert time.monotonic() < deadline, f"runs did not end: {state}"
        time.sleep(0.2)


def wait_for_runs(kind: str, accounts: list[str]) -> list[SyncRun]:
    """Wait until the newest run of the stream has ended completed for each account."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    while True:
        runs = [
            SyncRun.objects.filter(account=account, kind=kind).order_by("-pk").first()
            for account in accounts
        ]
        completed = [run for run in runs if run and run.status == "completed"]
        if len(completed) == len(runs):
            return completed
        failed = [run for run in runs if run and run.status in ("failed", "partial", "cancelled")]
        assert not failed, [(run.pk, run.status, run.errors) for run in failed]
        assert time.monotonic() < deadline, f"{kind} runs did not end: {runs}"
        time.sleep(0.2)


def start_sync(page, *, account: str, mode: str, strategy: str = "emag_priority", skus=()):
    page.select_option("#id_account", account)
    page.check(f'#id_mode input[value="{mode}"]')
    page.select_option("#id_conflict_strategy", strategy)
    if skus:
        page.fill("#id_skus", "\n".join(skus))
    page.click("#mf-start-sync")
    page.wait_for_selector(".messagelist")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_seller_syncs_browses_edits_exports_acknowledges_and_resolves_in_a_real_browser(
    page, seller, live_sandbox, celery_worker, language
):
    sandbox, _ = live_sandbox(offers=OFFERS, orders=ORDERS, rate_limit=True, client_rate_limit=True)
    celery_worker()

    # Log in; the admin index leads to the dashboard.
    log_in(page)
    page.click("#mf-dashboard-link")
    page.wait_for_selector("#mf-dashboard")

    # Both connections test green, with eMAG's offer count.
    assert page.evaluate("document.documentElement.lang") == language
    check_connections(page, language)

    # A full sync of every account: the bars move without a reload and end at 100 %.
    start_sync(page, account="all", mode="full")
    page.evaluate("window.stillTheSamePage = true")
    seen = watch_runs_to_the_end(page)
    main_run = SyncRun.objects.get(account="main", mode="full")
    fbe_run = SyncRun.objects.get(account="fbe", mode="full")
    assert seen[main_run.pk][-1] == ("completed", 100)
    assert seen[fbe_run.pk][-1] == ("completed", 100)
    assert any(0 < percent < 100 for _, percent in seen[main_run.pk] if percent), seen
    assert page.evaluate("window.stillTheSamePage") is True
    # The history and the cards follow, still without a reload.
    page.wait_for_selector(f'#mf-history [data-run-id="{main_run.pk}"][data-status="completed"]')
    page.wait_for_selector(f'#mf-history [data-run-id="{fbe_run.pk}"][data-status="completed"]')
    offers_link = card(page, "main").locator('[data-field="offers"]')
    with translation.override(language):
        assert offers_link.inner_text() == count(1500)
    assert page.evaluate("window.stillTheSamePage") is True
    assert Offer.objects.filter(account="main").count() == 1500

    # Search a SKU from the account's offers and open it.
    offer = next(
        candidate
        for candidate in Offer.objects.filter(account="main", general_stock__gt=0)
        if Offer.objects.filter(part_number__icontains=candidate.part_number).count() == 1
        # eMAG's rules hold the local price (10 above eMAG's) inside the offer's range and
        # below its recommended price, or the form refuses it.
        and (candidate.max_sale_price or 0) >= candidate.sale_price + 10
        and (
            candidate.recommended_price is None
            or candidate.recommended_price > candidate.sale_price + 10
        )
    )
    offers_link.click()
    page.fill("#searchbar", offer.part_number)
    page.press("#searchbar", "Enter")
    page.wait_for_selector(f'#result_list >> text="{offer.part_number}"')
    assert page.locator("#result_list tbody tr").count() == 1
    page.locator("#result_list tbody tr th a").click()
    page.wait_for_selector("#id_overlay_sale_price")
    copy_sku = page.locator(f'.fieldBox.field-sku_copy .mf-copy[data-copy="{offer.part_number}"]')
    copy_sku.click()
    page.wait_for_selector(".fieldBox.field-sku_copy .mf-copy.mf-copied")
    assert page.evaluate("navigator.clipboard.readText()") == offer.part_number

    # Set a local price.
    local_price = (offer.sale_price + 10).quantize(Decimal("0.01"))
    page.fill("#id_overlay_sale_price", str(local_price))
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert LocalEdit.objects.get(offer=offer, field="sale_price").value == f"{local_price:.4f}"
    assert seller.username in page.inner_text("#id_overlay_sale_price_helptext")

    # Filter FBE offers in stock and export exactly those.
    page.goto("/admin/emag_sync/offer/")
    page.locator('#changelist-filter a[href*="account=fbe"]').click()
    page.wait_for_url(re.compile(r"account=fbe"))
    page.locator('#changelist-filter a[href*="in_stock=yes"]').click()
    page.wait_for_url(re.compile(r"in_stock=yes"))
    page.wait_for_url(re.compile(r"account=fbe"))
    with page.expect_download() as download_info:
        page.click("#mf-export-csv")
    with open(download_info.value.path(), newline="", encoding="utf-8") as exported:
        rows = list(csv.DictReader(exported))
    expected = Offer.objects.filter(account="fbe", general_stock__gt=0)
    assert len(rows) == expected.count() > 0
    assert {int(row["emag_id"]) for row in rows} == set(expected.values_list("emag_id", flat=True))
    assert {row["account"] for row in rows} == {"fbe"}

    # Sync the orders from their list, then acknowledge the new ones of MAIN.
    page.goto("/admin/emag_sync/order/")
    page.click("#mf-sync-orders")
    page.wait_for_selector(".messagelist .success")
    wait_for_runs("orders", ["main", "fbe"])
    new = list(Order.objects.filter(account="main", status=1).order_by("emag_id"))
    still_new_on_emag = [order["id"] for order in sandbox.orders("main") if order["status"] == 1]
    assert [order.emag_id for order in new] == still_new_on_emag and len(new) == 4
    page.goto("/admin/emag_sync/order/?account=main")
    page.locator('#changelist-filter a[href*="status__exact=1"]').click()
    page.wait_for_url(re.compile(r"status__exact=1"))
    assert page.locator("#result_list .mf-order-status-1").count() == len(new)
    page.check("#action-toggle")
    page.select_option("select[name=action]", "acknowledge_new_orders")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")
    wait_for_runs("acknowledge", ["main"])
    # eMAG now says "in progress" (2), and so does the list, the order and its history.
    page.reload()
    assert page.locator("#result_list tbody tr").count() == 0
    page.goto(f"/admin/emag_sync/order/?account=main&q={new[0].emag_id}")
    row = page.locator("#result_list tbody tr")
    with translation.override(language):
        in_progress = str(OrderStatus.IN_PROGRESS.label)
        acknowledged_here = str(StatusChangeSource.ACKNOWLEDGE.label)
    assert row.count() == 1 and in_progress in row.inner_text()
    row.locator("th a").click()
    history = page.locator("#status_changes-group")
    history.wait_for()
    assert acknowledged_here in history.inner_text()
    assert {order.status for order in Order.objects.filter(pk__in=[o.pk for o in new])} == {2}

    # eMAG changes the same price: a selective sync under manual review opens a conflict.
    sandbox.update_offer("main", offer.emag_id, {"sale_price": f"{offer.sale_price + 5:.4f}"})
    page.click('#user-tools a[href$="/syncrun/dashboard/"]')
    orders_link = card(page, "main").locator('[data-field="orders"]')
    with translation.override(language):
        assert orders_link.inner_text() == count(Order.objects.filter(account="main").count())
    assert re.fullmatch(
        r"0 \S+", card(page, "main").locator('[data-field="new_orders"]').inner_text()
    )
    start_sync(page, account="main", mode="selective", strategy="manual", skus=[offer.part_number])
    watch_runs_to_the_end(page)
    page.wait_for_selector("#mf-open-conflicts")
    assert page.inner_text("#mf-open-conflicts").startswith("1 ")

    # Review it: base, local and eMAG side by side; keep the local price.
    page.click("#mf-open-conflicts")
    row = page.locator("#result_list tbody tr", has_text=offer.part_number)
    with translation.override(language):
        assert money(local_price, "RON") in row.inner_text()
        assert money(offer.sale_price + 5, "RON") in row.inner_text()
    row.locator('button[name="resolution"][value="keep_local"]').click()
    page.wait_for_selector(".messagelist .success")
    conflict = Conflict.objects.get(offer=offer)
    assert (conflict.status, conflict.resolution) == ("resolved", "keep_local")
    assert LocalEdit.objects.get(offer=offer, field="sale_price").value == f"{local_price:.4f}"

    # Nothing the page did was blocked by the Content-Security-Policy, nor failed otherwise.
    assert page.problems == []
