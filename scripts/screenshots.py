"""Take the README's admin screenshots (`make screenshots`): the dashboard mid-sync and after it
(orders and health included), offers, an offer, orders and an order.

Starts what `make run` starts (sandbox with orders, web, worker, beat) on free ports with a
throwaway SQLite database, drives Debian's Chromium with Playwright while the first full
syncs run, then syncs orders and runs a health check from the admin, and saves PNGs under
docs/screenshots/. Needs `chromium` (apt) and the dev requirements.
"""

import os
import re
import shutil

# Runs the project's own fixed commands.
import subprocess  # nosec B404
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

# mypy knows this module as scripts.smoke; here it is imported from the path set up above.
from smoke import (  # type: ignore[import-not-found]  # noqa: E402
    _stop,
    embedded_environment,
    free_port,
    log_tail,
    start_make_run,
)

OUTPUT = ROOT / "docs" / "screenshots"
# Throwaway password of a temporary benchmark or screenshot user.
PASSWORD = "screenshots-password-1"  # nosec B105
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: "ViewportSize" = {"width": 1440, "height": 1000}
# Orders per account in the sandbox: a few months of a small shop, some still new.
SANDBOX_ORDERS = "main=300,fbe=120"
HEALTH_CHECK_ENTRY = "Health check, every 15 minutes"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        sys.exit("Chromium is missing: apt-get install chromium (or set CHROMIUM=/path)")
    return path


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"make run exited early with {process.returncode}")
        try:
            # A fixed http://127.0.0.1 URL of a server this script started.
            with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def capture(base_url: str, language: str) -> list[Path]:
    """Walk the seller's path in a browser asking for the language; save each screen.

    English screens keep their names (dashboard.png); the others carry the language
    (dashboard-ro.png).
    """
    from playwright.sync_api import sync_playwright

    suffix = "" if language == "en" else f"-{language}"
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, locale=language)
        page.goto(f"{base_url}/admin/login/?next=/admin/emag_sync/syncrun/dashboard/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#mf-dashboard")
        # Collapse the navigation sidebar (Django remembers it per browser): wider lists.
        page.evaluate("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        page.reload()

        # make run queued a first full sync of each account: catch them half-way.
        if not page.locator(".mf-run[data-status=queued], .mf-run[data-status=running]").count():
            page.check("#id_mode input[value=full]")
            page.select_option("#id_account", "all")
            page.click("#mf-start-sync")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.mf-run[data-status=running] .mf-progress')]
                .some(bar => Number(bar.getAttribute('aria-valuenow')) >= 25)""",
            timeout=60_000,
        )
        saved.append(shot(page, f"dashboard{suffix}.png", full_page=True))
        page.wait_for_function(
            """() => document.querySelectorAll('.mf-run').length > 0 &&
                [...document.querySelectorAll('.mf-run')].every(r => r.dataset.status === 'completed')""",
            timeout=120_000,
        )
        page.wait_for_timeout(2000)  # the cards and history refresh right after

        # Orders and health on the cards: sync orders and run a health check, as a seller would.
        page.goto(f"{base_url}/admin/emag_sync/order/")
        page.click("#mf-sync-orders")
        page.wait_for_selector(".messagelist")
        run_health_check(page, base_url)
        wait_for_orders_and_health(page, base_url)
        saved.append(shot(page, f"dashboard-after-sync{suffix}.png", full_page=True))

        page.goto(f"{base_url}/admin/emag_sync/order/?account=main")
        saved.append(shot(page, f"orders{suffix}.png"))
        page.locator("#result_list tbody tr", has=page.locator(".mf-order-status-4")).first.locator(
            "th a"
        ).click()
        page.wait_for_selector("#lines-group")
        saved.append(shot(page, f"order-detail{suffix}.png", full_page=True))

        page.goto(f"{base_url}/admin/emag_sync/offer/?account=main")
        saved.append(shot(page, f"offers{suffix}.png"))

        page.click("#result_list tbody tr:nth-child(3) th a")
        page.wait_for_selector("#id_overlay_sale_price")
        emag_price = page.locator("#id_overlay_sale_price_helptext").inner_text()
        match = re.search(r"eMAG: ([\d.,]+)", emag_price)
        if match:
            # The price is shown in the page's language: 1,403.49 or 1.403,49.
            shown = match.group(1)
            digits = shown.replace(".", "").replace(",", ".") if language == "ro" else shown
            price = Decimal(digits.replace(",", "")) * Decimal("0.95")
            page.fill("#id_overlay_sale_price", f"{price:.2f}")
            page.click("input[name=_continue]")
            page.wait_for_selector(".messagelist")
        saved.append(shot(page, f"offer-detail{suffix}.png", height=1500))
        browser.close()
    return saved


def wait_for_orders_and_health(page, base_url: str, timeout: float = 120) -> None:
    """Reload the dashboard until every card has orders and the health check has run.

    Read from the page's structure, not its words, so any language will do (the banner shows
    the check's status in bold only once one has run).
    """
    deadline = time.monotonic() + timeout
    while True:
        page.goto(f"{base_url}/admin/emag_sync/syncrun/dashboard/")
        ready = page.evaluate(
            """() => [...document.querySelectorAll('[data-field=orders]')]
                .every(link => link.textContent.trim() !== '0')
              && document.querySelector('#mf-health-status strong') !== null
              && !document.querySelector('.mf-run[data-status=queued], .mf-run[data-status=running]')"""
        )
        if ready:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("orders or the health check did not show on the dashboard")
        time.sleep(2)


def run_health_check(page, base_url: str) -> None:
    """Run the scheduled health check now, from its entry in the periodic tasks."""
    page.goto(f"{base_url}/admin/django_celery_beat/periodictask/")
    page.locator("#result_list tbody tr", has_text=HEALTH_CHECK_ENTRY).locator(
        "input.action-select"
    ).check()
    page.select_option("select[name=action]", "run_tasks")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")


def shot(page, name: str, *, full_page: bool = False, height: int | None = None) -> Path:
    path = OUTPUT / name
    if height:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.screenshot(path=str(path), full_page=full_page)
    page.set_viewport_size(VIEWPORT)
    print(f"saved {path.relative_to(ROOT)}")
    return path


def main() -> int:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    port, sandbox_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="magflow-screenshots-") as tmp:
        workdir = Path(tmp)
        env = embedded_environment(workdir, port, sandbox_port)
        env["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
        env["SANDBOX_ORDERS"] = SANDBOX_ORDERS
        log_path = workdir / "run.log"
        process = start_make_run(env, log_path)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base_url}/admin/login/", process)
            # Romanian first (the sellers' language, and the README's), then English.
            capture(base_url, "ro")
            capture(base_url, "en")
            return 0
        except Exception as error:
            print(f"screenshots: FAILED: {error}\n{log_tail(log_path, 40)}")
            return 1
        finally:
            _stop(process)


if __name__ == "__main__":
    sys.exit(main())
