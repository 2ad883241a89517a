"""Acceptance of issue 23: the predecessor's clients keep working, replayed over HTTP.

Each request is one its clients send (the React page EmagProductSyncV2.tsx with its api.ts and
AuthContext, the shell scripts sync_all_products.sh, test_sync.sh and test_sync_both.sh, the
HTML tool test_sync_button.html, the curl examples of EMAG_PRODUCT_SYNC_GUIDE.md), sent to a
live server with a real Celery worker and the eMAG sandbox behind it, with eMAG's rate limits
on; each answer is checked for every key, and its type, that those clients read.
"""

import time
from datetime import datetime

import pytest
import requests
from django.contrib.auth import get_user_model

from emag_sync.accounts import get_accounts
from emag_sync.models import SyncRun
from tests.api.conftest import predecessor_sync_body
from tests.browser.conftest import celery_worker  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OFFERS = {"main": 450, "fbe": 350}
PASSWORD = "secret"  # the scripts' own  # nosec B105
RUN_KEYS = {
    "id": str,
    "account_type": str,
    "status": str,
    "total_items": int,
    "created_items": int,
    "updated_items": int,
}
CURRENT_SYNC_KEYS = {
    "account_type": str,
    "operation": str,
    "processed_items": int,
    "total_items": int,
}
PRODUCT_KEYS = {
    "id": str,
    "sku": str,
    "name": str,
    "account_type": str,
    "price": float,
    "currency": str,
    "stock_quantity": int,
    "is_active": bool,
}


def assert_keys(body: dict, keys: dict[str, type], where: str) -> None:
    for key, kind in keys.items():
        assert key in body, f"{where}: no {key!r} in {body}"
        assert isinstance(body[key], kind), f"{where}: {key}={body[key]!r} is not {kind.__name__}"


def assert_time(value, where: str) -> datetime:
    assert isinstance(value, str), f"{where}: {value!r} is not a time"
    moment = datetime.fromisoformat(value)
    assert moment.year >= 2025, f"{where}: {value} (a null start shows as 1970)"
    return moment


class Predecessor:
    """Speaks to /api/v1 as the predecessor's clients do."""

    def __init__(self, base_url: str):
        self.api = f"{base_url}/api/v1"
        self.token = ""

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return requests.request(method, self.api + path, headers=headers, timeout=120, **kwargs)

    def status(self) -> dict:
        answer = self.call("GET", "/emag/products/status")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert isinstance(body["is_running"], bool)
        assert isinstance(body["recent_syncs"], list)
        for sync in body["recent_syncs"]:
            assert_keys(sync, RUN_KEYS, "status.recent_syncs[]")
            assert_time(sync["started_at"], "status.recent_syncs[].started_at")
        if body["current_sync"] is not None:
            assert_keys(body["current_sync"], CURRENT_SYNC_KEYS, "status.current_sync")
            assert_time(body["current_sync"]["started_at"], "status.current_sync.started_at")
        return body

    def follow_until_idle(self, *, timeout: float = 90) -> list[dict]:
        """Poll the status as the React page does (it polls every 3 s; here faster)."""
        seen_running: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.status()
            if not body["is_running"]:
                return seen_running
            if body["current_sync"] is not None:
                seen_running.append(body["current_sync"])
            time.sleep(0.2)
        raise AssertionError("the sync did not end")


@pytest.fixture
def predecessor(live_server, live_sandbox, celery_worker, settings):  # noqa: F811
    settings.API_THROTTLE_SYNC = "1000/minute"
    live_sandbox(offers=OFFERS, rate_limit=True, client_rate_limit=True)
    celery_worker()
    get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)
    return Predecessor(live_server.url)


def test_the_predecessors_clients_get_every_key_they_read(predecessor, monkeypatch):
    client = predecessor

    # The shell scripts and the HTML tool: an address as the username, then access_token.
    login = client.call(
        "POST", "/auth/login", json={"username": "admin@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert isinstance(login.json()["access_token"], str)
    # The React page: {email, password}, both tokens, users/me, refresh by the Bearer token.
    login = client.call(
        "POST", "/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
    )
    tokens = login.json()
    assert_keys(tokens, {"access_token": str, "refresh_token": str}, "login")
    client.token = tokens["access_token"]
    me = client.call("GET", "/users/me")
    assert me.status_code == 200
    assert_keys(me.json(), {"id": int, "email": str, "is_active": bool, "role": str}, "users/me")
    refreshed = client.call(
        "POST",
        "/auth/refresh-token",
        headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
    )
    assert refreshed.status_code == 200, refreshed.text
    client.token = refreshed.json()["access_token"]
    assert client.call("GET", "/users/me").status_code == 200

    # Statistics and status before any sync.
    statistics = client.call("GET", "/emag/products/statistics").json()
    assert_keys(
        statistics,
        {"products_by_account": dict, "total_products": int, "recent_syncs": list},
        "statistics",
    )
    assert statistics["total_products"] == 0
    assert client.status() == {"is_running": False, "current_sync": None, "recent_syncs": []}

    # test_sync.sh and the React page: test-connection, good and bad.
    for account, count in OFFERS.items():
        good = client.call("POST", f"/emag/products/test-connection?account_type={account}")
        assert good.status_code == 200, good.text
        assert good.json()["status"] == "success"
        assert good.json()["data"]["total_products"] == count
    monkeypatch.setenv("EMAG_FBE_PASSWORD", "wrong-password-value")
    get_accounts.cache_clear()
    bad = client.call("POST", "/emag/products/test-connection?account_type=fbe")
    assert bad.status_code >= 400  # curl -f fails, the page shows detail
    assert isinstance(bad.json()["detail"], str) and "Bad credentials" in bad.json()["detail"]
    monkeypatch.setenv("EMAG_FBE_PASSWORD", "fbe-test-password")
    get_accounts.cache_clear()

    # The React page's "sync both": a full sync in the background, followed live.
    started = client.call(
        "POST",
        "/emag/products/sync",
        json=predecessor_sync_body("both", run_async=True),
    )
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "accepted"
    # A second trigger while it runs starts nothing (the predecessor let syncs overlap).
    again = client.call(
        "POST", "/emag/products/sync", json={"account_type": "main", "run_async": True}
    )
    assert again.status_code == 409 and isinstance(again.json()["detail"], str)
    seen = client.follow_until_idle()
    assert seen, "the status never showed the running sync"
    assert any(sync["processed_items"] > 0 and sync["total_items"] > 0 for sync in seen)
    after = client.status()
    assert {sync["account_type"]: sync["status"] for sync in after["recent_syncs"]} == {
        "main": "completed",
        "fbe": "completed",
    }
    assert {sync["account_type"]: sync["total_items"] for sync in after["recent_syncs"]} == OFFERS
    statistics = client.call("GET", "/emag/products/statistics").json()
    assert statistics["products_by_account"] == OFFERS
    assert statistics["total_products"] == sum(OFFERS.values())

    # The React page's product table: skip, limit, account_type, and a search.
    listed = client.call(
        "GET", "/emag/products/products", params={"skip": 20, "limit": 20, "account_type": "main"}
    ).json()
    assert listed["status"] == "success"
    assert listed["data"]["pagination"]["total"] == OFFERS["main"]
    products = listed["data"]["products"]
    assert len(products) == 20
    for product in products:
        assert_keys(product, PRODUCT_KEYS, "products[]")
        assert product["account_type"] == "main"
        assert_time(product["last_synced_at"], "products[].last_synced_at")
    sku = products[0]["sku"]
    middle = sku[2:-2]
    found = client.call(
        "GET", "/emag/products/products", params={"skip": 0, "limit": 20, "search": middle}
    ).json()
    assert sku in {product["sku"] for product in found["data"]["products"]}, middle

    # The HTML tool and sync_all_products.sh: a full sync answered when it ends.
    finished = client.call(
        "POST",
        "/emag/products/sync",
        json=predecessor_sync_body("main", run_async=False),
    )
    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert body["status"] == "completed" and isinstance(body["message"], str)
    assert_keys(
        body["data"],
        {"total_processed": int, "created": int, "updated": int, "failed": int},
        "sync.data",
    )
    assert body["data"]["total_processed"] == OFFERS["main"]
    assert (body["data"]["created"], body["data"]["failed"]) == (0, 0)

    # test_sync.sh and the guide: an incremental sync of 2 pages; the guide's curl sends no
    # Content-Type, so its JSON arrives as a form.
    limited = client.call(
        "POST",
        "/emag/products/sync",
        data='{"account_type": "fbe", "mode": "incremental", "max_pages": 2, "run_async": true}',
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"Bearer {client.token}",
        },
    )
    assert limited.status_code == 200, limited.text
    assert limited.json()["status"] == "accepted"
    client.follow_until_idle()
    run = SyncRun.objects.get(pk=int(limited.json()["sync_id"]))
    assert (run.status, run.pages_done) == ("completed", 2)
    # max_pages on a full sync is refused, not ignored.
    refused = client.call("POST", "/emag/products/sync", json={"mode": "full", "max_pages": 2})
    assert refused.status_code == 422 and "max_pages" in refused.json()["detail"]

    # Cancel really stops a run.
    queued = client.call(
        "POST",
        "/emag/products/sync",
        json={"account_type": "fbe", "mode": "full", "run_async": True},
    ).json()
    cancelled = client.call("DELETE", f"/emag/products/sync/{queued['sync_id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "success"
    client.follow_until_idle()
    assert SyncRun.objects.get(pk=int(queued["sync_id"])).status == "cancelled"

    # The guide's history.
    history = client.call("GET", "/emag/products/history", params={"limit": 20}).json()
    assert history["status"] == "success"
    assert history["data"]["count"] == len(history["data"]["syncs"]) == 5
    for sync in history["data"]["syncs"]:
        assert_keys(sync, {**RUN_KEYS, "processed_items": int, "failed_items": int}, "history")
    failed_only = client.call("GET", "/emag/products/history", params={"status": "failed"}).json()
    assert failed_only["data"]["count"] == 0
