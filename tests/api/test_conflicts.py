"""The conflict queue: listing conflicts and resolving them one at a time."""

import pytest

from emag_sync.models import Conflict, LocalEdit
from tests.api.conftest import API, client_for
from tests.factories import make_conflict, make_local_edit, make_offer

pytestmark = pytest.mark.django_db

CONFLICTS = f"{API}/emag/conflicts"


@pytest.fixture
def conflicted_offer():
    """An offer whose local price (90) and eMAG's new price (110) disagree."""
    offer = make_offer("main", emag_id=5, part_number="SKU-5")
    make_local_edit(offer, "sale_price", "90.0000")
    return offer


def resolve(client, conflict, body):
    return client.post(f"{CONFLICTS}/{conflict.pk}/resolve", body, format="json")


def test_the_list_shows_conflicts_with_their_offer_newest_first(api, conflicted_offer):
    older = make_conflict(conflicted_offer, field="name", status="resolved")
    newer = make_conflict(conflicted_offer)

    body = api.get(CONFLICTS).json()

    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    assert body["results"][0]["offer"] == {
        "id": conflicted_offer.pk,
        "account_type": "main",
        "emag_id": 5,
        "part_number": "SKU-5",
        "name": conflicted_offer.name,
    }
    assert body["results"][0]["local_value"] == "90.0000"


def test_the_list_filters_by_status_field_account_and_offer(api, conflicted_offer):
    open_price = make_conflict(conflicted_offer)
    make_conflict(conflicted_offer, field="name", status="resolved")
    fbe_conflict = make_conflict(make_offer("fbe"), field="brand")

    def ids(**params):
        return [item["id"] for item in api.get(CONFLICTS, params).json()["results"]]

    assert ids(status="open", field="sale_price") == [open_price.pk]
    assert ids(account_type="fbe") == [fbe_conflict.pk]
    assert ids(offer=conflicted_offer.pk, status="open") == [open_price.pk]


def test_accepting_emags_value_drops_the_local_one(api, superuser, conflicted_offer):
    conflict = make_conflict(conflicted_offer)

    response = resolve(api, conflict, {"resolution": "accept_emag"})

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["resolution"] == "accept_emag"
    assert response.json()["resolved_by"] == "root"
    assert not LocalEdit.objects.exists()


def test_keeping_the_local_value_keeps_it(api, conflicted_offer):
    conflict = make_conflict(conflicted_offer)

    assert resolve(api, conflict, {"resolution": "keep_local"}).status_code == 200
    assert LocalEdit.objects.get().value == "90.0000"


def test_setting_a_value_makes_it_the_local_value(api, conflicted_offer):
    conflict = make_conflict(conflicted_offer)

    response = resolve(api, conflict, {"resolution": "set", "value": "99.99"})

    assert response.status_code == 200
    assert LocalEdit.objects.get().value == "99.9900"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "resolution"),
        ({"resolution": "converged"}, "resolution"),
        ({"resolution": "set"}, "value"),
        ({"resolution": "set", "value": None}, "value"),
        ({"resolution": "set", "value": "free"}, "value"),
        ({"resolution": "set", "value": "-5"}, "value"),
        ({"resolution": "set", "value": {"nested": "\x00"}}, "value"),
        ({"resolution": "keep_local", "value": "1"}, "value"),
        ({"resolution": "keep_local", "note": "x"}, "note"),
    ],
)
def test_a_bad_resolution_is_a_400_and_leaves_the_conflict_open(api, conflicted_offer, body, field):
    conflict = make_conflict(conflicted_offer)

    response = resolve(api, conflict, body)

    assert response.status_code == 400
    assert field in response.json()
    conflict.refresh_from_db()
    assert conflict.status == "open"
    assert LocalEdit.objects.get().value == "90.0000"


def test_resolving_a_resolved_conflict_is_a_409(api, conflicted_offer):
    conflict = make_conflict(conflicted_offer, status="resolved", resolution="keep_local")

    response = resolve(api, conflict, {"resolution": "accept_emag"})

    assert response.status_code == 409
    assert LocalEdit.objects.exists()


def test_resolving_an_unknown_conflict_is_a_404(api):
    response = api.post(f"{CONFLICTS}/4242/resolve", {"resolution": "keep_local"}, format="json")

    assert response.status_code == 404


def test_a_reader_sees_conflicts_but_may_not_resolve_them(reader, conflicted_offer):
    conflict = make_conflict(conflicted_offer)
    client = client_for(reader)

    assert client.get(CONFLICTS).status_code == 200
    assert resolve(client, conflict, {"resolution": "accept_emag"}).status_code == 403
    assert Conflict.objects.get().status == "open"


def test_a_page_of_50_conflicts_takes_as_many_queries_as_a_page_of_5(api, superuser):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(count: int) -> int:
        Conflict.objects.all().delete()
        for _ in range(count):
            make_conflict(make_offer(), status="resolved", resolved_by=superuser)
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get(CONFLICTS, {"limit": 100}).json()["results"]) == count
        return len(queries)

    assert queries_for(5) == queries_for(50)
