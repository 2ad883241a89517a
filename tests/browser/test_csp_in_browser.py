"""The Content-Security-Policy in a real browser: every admin page, the dashboard's script and
the Swagger UI work under it, and Chromium reports not a single violation.
"""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from emag_sync.models import Conflict, Offer, Order, SyncRun
from tests.admin_support import make_overlay
from tests.browser.conftest import BROWSER_TEST_MARKS, record_problems

pytestmark = BROWSER_TEST_MARKS

PASSWORD = "csp-browser-password-1"


@pytest.fixture
def watched_page(browser, live_server):
    """A page whose console errors, script errors and CSP violations are recorded."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = record_problems(context, page)
    yield page
    context.close()


@pytest.fixture
def mirror(live_sandbox, django_user_model):
    """Offers, orders, a conflict, runs and the schedule, as a few days of use leave them."""
    live_sandbox(offers={"main": 120, "fbe": 40}, orders={"main": 5, "fbe": 5})
    call_command("emag_sync", "products", "--account", "all", "--mode", "full")
    call_command("emag_sync", "orders", "--account", "main")
    call_command("setup_periodic_tasks")
    make_overlay(list(Offer.objects.filter(account="main")[:10]))
    django_user_model.objects.create_superuser("seller", password=PASSWORD)


def visit(page, path: str, ready: str) -> None:
    page.goto(path)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")


def test_the_admin_dashboard_and_swagger_ui_work_under_the_policy_without_a_violation(
    watched_page, mirror
):
    page = watched_page
    page.goto("/admin/")
    page.fill("#id_username", "seller")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#mf-dashboard-link")

    # The dashboard's script runs: it tests a connection and follows a run to its end.
    visit(page, "/admin/emag_sync/syncrun/dashboard/", "#mf-dashboard")
    card = page.locator('.mf-card[data-account="main"]')
    card.get_by_role("button", name="Test connection").click()
    card.locator(".mf-connection-result.mf-ok").wait_for()
    running = SyncRun.objects.create(account="fbe", kind="offers", mode="full", status="running")
    page.wait_for_selector(f'#mf-board [data-run-id="{running.pk}"]')
    SyncRun.objects.filter(pk=running.pk).update(status="completed")
    page.wait_for_selector(f'#mf-history [data-run-id="{running.pk}"][data-status="completed"]')

    offer = Offer.objects.filter(account="main").first()
    schedule = f"/admin/django_celery_beat/periodictask/{PeriodicTask.objects.first().pk}/change/"
    pages = [
        ("/admin/", "#mf-dashboard-link"),
        ("/admin/emag_sync/offer/", "#result_list"),
        (f"/admin/emag_sync/offer/{offer.pk}/change/", "#id_overlay_sale_price"),
        ("/admin/emag_sync/conflict/", "#result_list"),
        (f"/admin/emag_sync/conflict/{Conflict.objects.first().pk}/change/", ".mf-compare"),
        ("/admin/emag_sync/syncrun/", "#result_list"),
        (f"/admin/emag_sync/syncrun/{SyncRun.objects.first().pk}/change/", "#content"),
        ("/admin/emag_sync/emagrequestlog/", "#result_list"),
        ("/admin/emag_sync/localedit/", "#result_list"),
        ("/admin/emag_sync/order/", "#result_list"),
        (f"/admin/emag_sync/order/{Order.objects.first().pk}/change/", "#content"),
        ("/admin/django_celery_beat/periodictask/", "#result_list"),
        (schedule, "#id_crontab"),
        (f"/admin/auth/user/{User.objects.get().pk}/change/", "#id_username"),
    ]
    for path, ready in pages:
        visit(page, path, ready)

    # The schedule's form still explains its crontab (django-celery-beat's script, rewritten).
    visit(page, schedule, "#id_crontab")
    assert "Translation:" in page.inner_text(".field-crontab .help")
    assert not page.is_visible(".field-crontab_translation")

    # Copy buttons on an offer work (a script, and a style set from it).
    visit(page, f"/admin/emag_sync/offer/{offer.pk}/change/", ".mf-copy")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".fieldBox.field-sku_copy .mf-copy").click()
    page.wait_for_selector(".fieldBox.field-sku_copy .mf-copy.mf-copied")

    # The Swagger UI loads its files, reads the schema and opens an operation.
    visit(page, "/api/docs/", ".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() >= 15
    page.locator(".opblock-summary", has_text="/emag/products/sync").first.click()
    page.wait_for_selector(".opblock.is-open .try-out")

    assert page.problems == []
