"""/api/v1 speaks the predecessor's contract over the same services as /api/v2.

Each test names what one of the predecessor's clients sends and reads (its React page, its
shell scripts, its HTML tool, its guide's curl examples); the replay over HTTP against a live
server is tests/test_v1_replay.py.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from emag_sync.accounts import get_accounts
from emag_sync.models import Offer, SyncRun
from tests.api.conftest import client_for, predecessor_sync_body
from tests.factories import make_offer, make_run, make_superuser

V1 = "/api/v1"
SYNC = f"{V1}/emag/products/sync"

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return make_superuser("admin")


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "admin@example.com", "password": "admin-password-1"},  # the scripts
        {"email": "admin@example.com", "password": "admin-password-1"},  # the React page
        {"username": "admin", "password": "admin-password-1"},
        {"email": "admin", "password": "admin-password-1"},
    ],
    ids=["address as username", "address as email", "name as username", "name as email"],
)
def test_it_logs_in_by_username_or_email_in_either_field_with_the_predecessors_token_names(
    admin_user, credentials
):
    response = client_for().post(f"{V1}/auth/login", credentials, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    me = client_for().get(f"{V1}/users/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.status_code == 200
    assert me.json()["email"] == "admin@example.com" and me.json()["role"] == "admin"


def test_it_takes_the_login_as_a_form_too(admin_user):
    response = client_for().post(
        f"{V1}/auth/login", {"username": "admin@example.com", "password": "admin-password-1"}
    )

    assert response.status_code == 200 and "access_token" in response.json()


def test_a_wrong_password_is_401_and_missing_fields_are_400_each_with_a_detail(admin_user):
    wrong = client_for().post(
        f"{V1}/auth/login", {"username": "admin", "password": "nope"}, format="json"
    )
    missing = client_for().post(f"{V1}/auth/login", {"username": "admin"}, format="json")

    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Incorrect username or password"})
    assert (missing.status_code, missing.json()) == (
        400,
        {"detail": "Username and password are required"},
    )


def test_refresh_token_takes_the_refresh_token_as_the_bearer_token_like_the_react_page(admin_user):
    tokens = (
        client_for()
        .post(f"{V1}/auth/login", {"email": "admin@example.com", "password": "admin-password-1"})
        .json()
    )

    refreshed = client_for().post(
        f"{V1}/auth/refresh-token", HTTP_AUTHORIZATION=f"Bearer {tokens['refresh_token']}"
    )
    with_access = client_for().post(
        f"{V1}/auth/refresh-token", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )

    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] and refreshed.json()["token_type"] == "bearer"
    assert (
        client_for()
        .get(f"{V1}/users/me", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access_token']}")
        .status_code
        == 200
    )
    assert with_access.status_code == 401 and "detail" in with_access.json()


def test_the_product_list_answers_in_the_envelope_with_the_predecessors_keys_and_types(
    admin_user,
):
    make_offer("main", part_number="ABC-12345-XL", sale_price=Decimal("1403.4876"), status=1)
    make_offer("fbe", part_number="ZZZ-1", general_stock=None, status=0)

    response = client_for(admin_user).get(
        f"{V1}/emag/products/products",
        {"skip": 0, "limit": 20, "account_type": "main", "_": "1733130000"},  # a cache buster
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["data"]["pagination"] == {"skip": 0, "limit": 20, "total": 1}
    (product,) = body["data"]["products"]
    assert product["sku"] == "ABC-12345-XL" and product["account_type"] == "main"
    assert product["price"] == pytest.approx(1403.4876) and isinstance(product["price"], float)
    assert isinstance(product["id"], str) and isinstance(product["stock_quantity"], int)
    assert product["is_active"] is True and product["currency"] == "RON"
    assert product["last_synced_at"].endswith("Z")


def test_a_search_for_the_middle_of_a_sku_finds_it_in_v1_and_v2(admin_user):
    make_offer("main", part_number="ABC-12345-XL")
    make_offer("main", part_number="OTHER-9")
    client = client_for(admin_user)

    v1 = client.get(f"{V1}/emag/products/products", {"search": "2345"}).json()
    v2 = client.get("/api/v2/emag/products/products", {"search": "345-x"}).json()

    assert [p["sku"] for p in v1["data"]["products"]] == ["ABC-12345-XL"]
    assert [o["part_number"] for o in v2["results"]] == ["ABC-12345-XL"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"skip": -1}, {"limit": "x"}])
def test_a_bad_page_is_a_422_with_a_detail_like_the_predecessors(admin_user, params):
    response = client_for(admin_user).get(f"{V1}/emag/products/products", params)

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_status_shows_the_current_sync_and_recent_syncs_without_a_1970_start(admin_user):
    queued = make_run("main", status="queued")
    done = make_run("fbe", status="completed", items_seen=40, items_created=30, items_updated=10)

    body = client_for(admin_user).get(f"{V1}/emag/products/status").json()

    assert body["is_running"] is True
    current = body["current_sync"]
    assert current["id"] == str(queued.pk) and current["operation"] == "incremental_sync"
    assert current["started_at"] is not None and current["started_at"].startswith(
        str(timezone.now().year)
    )
    assert (current["processed_items"], current["total_items"]) == (0, 0)
    recent = {sync["id"]: sync for sync in body["recent_syncs"]}
    assert recent[str(done.pk)]["total_items"] == 40
    assert recent[str(done.pk)]["created_items"] == 30
    assert recent[str(done.pk)]["updated_items"] == 10
    assert all(sync["started_at"] for sync in body["recent_syncs"])


def test_statistics_count_offers_per_account_without_an_envelope(admin_user):
    make_offer("main")
    make_offer("main")
    make_offer("fbe")
    make_run("main")

    body = client_for(admin_user).get(f"{V1}/emag/products/statistics").json()

    assert body["products_by_account"] == {"main": 2, "fbe": 1}
    assert body["total_products"] == 3
    assert body["recent_syncs"][0]["account_type"] == "main"


def test_history_answers_in_the_envelope_with_filters_and_a_limit(admin_user):
    make_run("main", status="failed")
    make_run("fbe", status="completed")

    failed = client_for(admin_user).get(f"{V1}/emag/products/history", {"status": "failed"})
    bad = client_for(admin_user).get(f"{V1}/emag/products/history", {"limit": 101})

    body = failed.json()
    assert body["status"] == "success" and body["data"]["count"] == 1
    assert body["data"]["syncs"][0]["status"] == "failed"
    assert bad.status_code == 422


@pytest.mark.django_db(transaction=True)
def test_a_synchronous_sync_answers_the_totals_the_html_tool_reads(live_sandbox, admin_user):
    live_sandbox(offers={"main": 30, "fbe": 20})

    response = client_for(admin_user).post(
        SYNC, predecessor_sync_body("both", run_async=False), format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed"
    data = body["data"]
    assert data["total_processed"] == 50 and data["created"] == Offer.objects.count() == 50
    assert (data["updated"], data["failed"]) == (0, 0)
    assert body["sync_id"] == str(min(data["run_ids"]))


def test_max_pages_on_a_full_sync_is_refused_with_a_clear_422_and_starts_nothing(
    admin_user, queued_tasks
):
    response = client_for(admin_user).post(
        SYNC, {"mode": "full", "max_pages": 2, "run_async": True}, format="json"
    )

    assert response.status_code == 422
    assert "max_pages applies to incremental syncs only" in response.json()["detail"]
    assert queued_tasks == [] and not SyncRun.objects.exists()


def test_an_async_sync_is_accepted_and_says_items_per_page_is_not_used(admin_user, queued_tasks):
    response = client_for(admin_user).post(
        SYNC,
        {"account_type": "main", "mode": "incremental", "max_pages": 2, "items_per_page": 50,
         "run_async": True},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    assert "items_per_page is accepted but not used" in body["message"]
    assert body["data"]["run_ids"] == [int(body["sync_id"])]


def test_a_second_trigger_is_refused_with_409_and_a_detail(admin_user, queued_tasks):
    make_run("main", status="running")

    response = client_for(admin_user).post(SYNC, {"account_type": "main"}, format="json")

    assert response.status_code == 409 and "detail" in response.json()


def test_the_guides_curl_without_a_content_type_still_sends_json(admin_user, queued_tasks):
    response = client_for(admin_user).post(
        SYNC,
        '{"mode": "incremental", "max_pages": 5, "run_async": true}',
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200 and response.json()["status"] == "accepted"


def test_cancel_answers_success_400_once_ended_and_404_for_an_unknown_run(admin_user):
    queued = make_run("main", status="queued")
    done = make_run("fbe", status="completed")
    client = client_for(admin_user)

    cancelled = client.delete(f"{SYNC}/{queued.pk}")
    ended = client.delete(f"{SYNC}/{done.pk}")
    unknown = client.delete(f"{SYNC}/999999")

    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["sync_id"] == str(queued.pk)
    assert SyncRun.objects.get(pk=queued.pk).status == "cancelled"
    assert (ended.status_code, ended.json()) == (
        400,
        {"detail": "Cannot cancel sync with status: completed"},
    )
    assert unknown.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_test_connection_answers_the_real_count_or_an_http_error_with_a_detail(
    live_sandbox, monkeypatch, admin_user
):
    live_sandbox(offers={"main": 7, "fbe": 3})
    client = client_for(admin_user)

    good = client.post(f"{V1}/emag/products/test-connection?account_type=fbe")
    monkeypatch.setenv("EMAG_MAIN_PASSWORD", "wrong-password-value")
    get_accounts.cache_clear()
    bad = client.post(f"{V1}/emag/products/test-connection?account_type=main")

    assert good.status_code == 200
    assert good.json()["status"] == "success"
    assert good.json()["data"]["total_products"] == 3
    assert bad.status_code == 502
    assert "Bad credentials" in bad.json()["detail"]
    assert "wrong-password-value" not in bad.json()["detail"]


def test_readers_may_read_but_not_sync_through_v1(reader, queued_tasks):
    client = client_for(reader)

    assert client.get(f"{V1}/emag/products/status").status_code == 200
    assert client.post(SYNC, {"account_type": "main"}, format="json").status_code == 403
    assert client.post(f"{V1}/emag/products/test-connection").status_code == 403
    assert queued_tasks == []
