"""At 1,366 x 768 (a common laptop) no column header or action button is off-screen.

Once in English and once in Romanian, whose words are often longer.

The offer, conflict and order lists and the dashboard are opened in Chromium with names as
long as eMAG's real ones; every header cell, action button and link button must lie inside
the viewport's width, with no sideways scrolling.
"""

import pytest

from emag_sync.models import Offer, Order
from tests.admin_support import make_offers, make_orders, make_overlay, make_runs
from tests.browser.conftest import BROWSER_TEST_MARKS

pytestmark = BROWSER_TEST_MARKS

WIDTH, HEIGHT = 1366, 768
PASSWORD = "layout-test-password-1"
LONG_NAME = (
    "Mașină de spălat rufe cu încărcare frontală Samsung WW90T554DAW/S7, 9 kg, 1400 rpm, "
    "Clasa A, Eco Bubble, AI Control, Steam, Wi-Fi, motor Digital Inverter, alb"
)
PAGES = {
    "offer list": "/admin/emag_sync/offer/",
    "conflict list": "/admin/emag_sync/conflict/",
    "order list": "/admin/emag_sync/order/",
    "dashboard": "/admin/emag_sync/syncrun/dashboard/",
}
# What a seller reads or presses: column headers, buttons, link buttons, action controls.
CHECKED = (
    "#result_list thead th, #content button, #content input[type=submit], "
    "#content .button, #content a.addlink, #content .object-tools a, .actions select"
)
# An element is cut off when it reaches past the viewport or past any ancestor that clips
# its overflow (the changelist's table scrolls inside its own box).
OFF_SCREEN = """([width, selector]) => [...document.querySelectorAll(selector)]
    .filter(element => element.offsetParent !== null)
    .map(element => {
        let [left, right] = [0, width];
        for (let box = element.parentElement; box; box = box.parentElement) {
            if (getComputedStyle(box).overflowX !== "visible") {
                const clip = box.getBoundingClientRect();
                [left, right] = [Math.max(left, clip.left), Math.min(right, clip.right)];
            }
        }
        return [element, element.getBoundingClientRect(), left, right];
    })
    .filter(([, box, left, right]) =>
        box.width > 0 && (box.left < left - 0.5 || box.right > right + 0.5))
    .map(([element, box]) => `${element.tagName} "${element.innerText.trim().slice(0, 40)}"`
        + ` ${Math.round(box.left)}-${Math.round(box.right)}`)"""


@pytest.fixture
def seeded(django_user_model):
    offers = make_offers("main", 60) + make_offers("fbe", 20, first_id=1000)
    Offer.objects.filter(emag_id__in=[1, 2, 1000]).update(name=LONG_NAME)
    make_overlay(offers)
    make_orders("main", 40, offers=offers)
    Order.objects.filter(emag_id=1).update(customer_name="Maria-Magdalena Popescu-Constantinescu")
    make_runs(12)
    return django_user_model.objects.create_superuser("seller", password=PASSWORD)


@pytest.mark.i18n
@pytest.mark.parametrize("language", ["en", "ro"])
def test_every_header_and_button_of_the_lists_and_the_dashboard_fits_1366_pixels(
    browser, live_server, seeded, settings, language
):
    settings.LANGUAGE_CODE = language
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": HEIGHT}, locale=language
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/admin/")
    page.fill("#id_username", "seller")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#mf-dashboard-link")
    problems = {}
    for name, path in PAGES.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == language, name
        checked = page.locator(CHECKED).count()
        assert checked >= 3, f"{name}: only {checked} headers and buttons found"
        off_screen = page.evaluate(OFF_SCREEN, [WIDTH, CHECKED])
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if off_screen or scroll_width > WIDTH:
            problems[name] = {"off screen": off_screen, "page width": scroll_width}
    context.close()
    assert problems == {}
