"""Who may call what: anonymous callers get 401, callers without the permission 403."""

import pytest

from emag_sync.client import ConnectionCheck
from emag_sync.models import Conflict, LocalEdit, SyncRun
from tests.api.conftest import API, client_for
from tests.factories import make_conflict, make_offer, make_run

pytestmark = pytest.mark.django_db

READS = [
    "/emag/products/status",
    "/emag/products/statistics",
    "/emag/products/history",
    "/emag/products/products",
    "/emag/products/products/{offer}",
    "/emag/products/products/{offer}/changes",
    "/emag/conflicts",
]
WRITES = [
    ("post", "/emag/products/sync", {"account_type": "main", "run_async": True}),
    ("delete", "/emag/products/sync/{run}", None),
    ("post", "/emag/products/test-connection?account_type=main", None),
    ("patch", "/emag/products/products/{offer}", {"local_notes": "checked"}),
    ("post", "/emag/conflicts/{conflict}/resolve", {"resolution": "keep_local"}),
]


@pytest.fixture
def objects(monkeypatch):
    """An offer with a conflict, a queued run, and no real eMAG or broker behind them."""
    offer = make_offer()
    monkeypatch.setattr(
        "emag_sync.api.views.syncs.account_connection_test",
        lambda account: ConnectionCheck(True, 12, 3, "Connected."),
    )
    monkeypatch.setattr("emag_sync.tasks.sync_products_task.apply_async", lambda **kwargs: None)
    return {
        "offer": offer.pk,
        "conflict": make_conflict(offer).pk,
        "run": make_run("fbe", status="queued").pk,
    }


def call(client, method, path, body, objects):
    return getattr(client, method)(API + path.format(**objects), body, format="json")


@pytest.mark.parametrize("path", READS)
def test_anonymous_reads_get_401_with_a_bearer_challenge(objects, path):
    response = client_for().get(API + path.format(**objects))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_anonymous_writes_get_401_and_change_nothing(objects, method, path, body):
    response = call(client_for(), method, path, body, objects)

    assert response.status_code == 401
    assert SyncRun.objects.count() == 1
    assert Conflict.objects.get().status == "open"


@pytest.mark.parametrize("path", READS)
def test_reading_needs_the_models_view_permission(objects, outsider, staff, reader, path):
    assert client_for(outsider).get(API + path.format(**objects)).status_code == 403
    assert client_for(staff).get(API + path.format(**objects)).status_code == 403
    assert client_for(reader).get(API + path.format(**objects)).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_acting_needs_staff_status_or_a_dedicated_permission(
    objects, outsider, reader, staff, operator, method, path, body
):
    assert call(client_for(outsider), method, path, body, objects).status_code == 403
    assert call(client_for(reader), method, path, body, objects).status_code == 403
    assert not LocalEdit.objects.exists()
    assert Conflict.objects.get().status == "open"

    assert call(client_for(staff), method, path, body, objects).status_code in (200, 202)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_the_dedicated_permissions_suffice_without_staff_status(
    objects, operator, method, path, body
):
    assert call(client_for(operator), method, path, body, objects).status_code in (200, 202)


def test_schema_and_docs_are_public(db):
    assert client_for().get("/api/schema/").status_code == 200
    assert client_for().get("/api/docs/").status_code == 200


def test_an_unknown_api_path_or_a_negative_id_is_a_json_404(api):
    for path in ("/emag/nothing-here", "/emag/products/products/-1", "/emag/products/status/"):
        response = api.get(API + path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_an_id_beyond_any_database_integer_is_a_404_not_a_crash(api):
    huge = 10**30
    assert api.get(f"{API}/emag/products/products/{huge}").status_code == 404
    assert api.get(f"{API}/emag/products/products/{huge}/changes").status_code == 404
    assert api.delete(f"{API}/emag/products/sync/{huge}").status_code == 404
    response = api.post(
        f"{API}/emag/conflicts/{huge}/resolve", {"resolution": "keep_local"}, format="json"
    )
    assert response.status_code == 404


def test_a_body_that_is_not_json_or_nested_too_deeply_is_a_400(api):
    path = f"{API}/emag/products/sync"
    for body in ("{not json", "[" * 100_000 + "]" * 100_000):
        response = api.post(path, body, content_type="application/json")
        assert response.status_code == 400
    assert not SyncRun.objects.exists()
