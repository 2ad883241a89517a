"""Invalid values typed or forged into the admin's forms: the Sync form, an offer's local overlay
and conflict decisions. Each gets a clear error (or a 404 for an id that names nothing), never
a server error, and nothing is written: not the valid half of a half-valid form either.
"""

import pytest
from celery.app.task import Task
from django.test import Client
from django.urls import reverse

from emag_sync.models import Conflict, LocalEdit, Offer, SyncRun
from tests.admin_support import make_offers, make_overlay, make_runs

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at")]

HUGE = "9" * 30  # beyond any database integer
VALID_SYNC = {"account": "main", "mode": "full", "conflict_strategy": "emag_priority"}
BAD_SYNC_REQUESTS = {
    "unknown account": {"account": "bg"},
    "account with a quote": {"account": "main' OR '1'='1"},
    "unknown mode": {"mode": "everything"},
    "unknown strategy": {"conflict_strategy": "coin_toss"},
    "max pages zero": {"mode": "incremental", "max_pages": "0"},
    "max pages negative": {"mode": "incremental", "max_pages": "-3"},
    "max pages text": {"mode": "incremental", "max_pages": "ten"},
    "max pages decimal": {"mode": "incremental", "max_pages": "1.5"},
    "id text": {"mode": "selective", "emag_ids": "12 abc"},
    "id zero": {"mode": "selective", "emag_ids": "0"},
    "id negative": {"mode": "selective", "emag_ids": "-5"},
    "id beyond any integer": {"mode": "selective", "emag_ids": HUGE},
    "SKU with NUL": {"mode": "selective", "skus": "ABC\x00DEF"},
    "stock negative": {"mode": "selective", "general_stock": "-1"},
    "stock beyond any integer": {"mode": "selective", "general_stock": HUGE},
    "estimated stock text": {"mode": "selective", "estimated_stock": "many"},
    "status unknown": {"mode": "selective", "status": "7"},
    "validation status unknown": {"mode": "selective", "validation_status": "99"},
    "PNK too long": {"mode": "selective", "part_number_key": "P" * 33},
    "selective with nothing": {"mode": "selective"},
}


@pytest.fixture
def boss(django_user_model):
    user = django_user_model.objects.create_superuser("boss", password="boss-password-1")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda task, *a, **k: sent.append(task.name))
    return sent


@pytest.mark.parametrize("case", BAD_SYNC_REQUESTS)
def test_a_bad_sync_request_is_explained_and_queues_nothing(boss, sent_tasks, case):
    response = boss.post(
        reverse("admin:emag_sync_dashboard"), {**VALID_SYNC, **BAD_SYNC_REQUESTS[case]}
    )

    assert response.status_code == 200  # the form again, with the error
    form = response.context["form"]
    assert form.errors, case
    assert 'class="errorlist' in response.content.decode()
    assert not SyncRun.objects.exists()
    assert sent_tasks == []


@pytest.fixture
def offer():
    [offer] = make_offers("main", 1)
    return offer


def change_url(offer: Offer) -> str:
    return reverse("admin:emag_sync_offer_change", args=[offer.pk])


# Each bad value sits next to valid changes: a local handling time, notes and attributes.
VALID_OVERLAY = {
    "overlay_handling_time": "3",
    "local_notes": "checked by hand",
    "custom_attributes": '{"shelf": "B2"}',
}
BAD_OVERLAY_VALUES = {
    "price text": {"overlay_sale_price": "cheap"},
    "price zero": {"overlay_sale_price": "0"},
    "price negative": {"overlay_sale_price": "-1"},
    "price NaN": {"overlay_sale_price": "NaN"},
    "price infinite": {"overlay_sale_price": "Infinity"},
    "price exponent": {"overlay_sale_price": "1e1000"},
    "price too many digits": {"overlay_sale_price": "123456789012345678901234.5"},
    "price too many decimals": {"overlay_sale_price": "1.123456"},
    "stock negative": {"overlay_general_stock": "-1"},
    "stock too large": {"overlay_general_stock": "70000"},
    "stock decimal": {"overlay_general_stock": "1.5"},
    "handling time too large": {"overlay_handling_time": "256"},
    "status unknown": {"overlay_status": "7"},
    "name too long": {"overlay_name": "N" * 256},
    "name with NUL": {"overlay_name": "a\x00b"},
    "description with NUL": {"overlay_description": "a\x00b"},
    "notes with NUL": {"local_notes": "a\x00b"},
    "attributes not JSON": {"custom_attributes": "{shelf: B2"},
    "attributes a list": {"custom_attributes": "[1, 2]"},
    "attributes a string": {"custom_attributes": '"B2"'},
    "attributes with NaN": {"custom_attributes": '{"weight": NaN}'},
    "attributes with infinity": {"custom_attributes": '{"weight": Infinity}'},
    "attributes with NUL": {"custom_attributes": '{"shelf": "B\\u0000"}'},
}


@pytest.mark.parametrize("case", BAD_OVERLAY_VALUES)
def test_a_bad_local_value_is_explained_and_nothing_of_the_form_is_saved(boss, offer, case):
    before = Offer.objects.filter(pk=offer.pk).values().get()

    response = boss.post(change_url(offer), {**VALID_OVERLAY, **BAD_OVERLAY_VALUES[case]})

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors, case
    assert "errornote" in response.content.decode()
    assert not LocalEdit.objects.exists()
    assert Offer.objects.filter(pk=offer.pk).values().get() == before


def test_the_same_form_with_only_valid_values_saves_them(boss, offer):
    response = boss.post(change_url(offer), VALID_OVERLAY)

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.local_notes == "checked by hand"
    assert offer.custom_attributes == {"shelf": "B2"}
    assert LocalEdit.objects.get().field == "handling_time"


@pytest.fixture
def conflict():
    make_overlay(make_offers("main", 1), run=make_runs(1)[0])
    return Conflict.objects.get()


def open_conflicts() -> list:
    return list(Conflict.objects.values_list("pk", "status", "resolution"))


@pytest.mark.parametrize("resolution", ["", "bogus", "set", "accept_emag ", "KEEP_LOCAL", "\x00"])
def test_an_unknown_decision_is_explained_and_decides_nothing(boss, conflict, resolution):
    before = open_conflicts()

    response = boss.post(
        reverse("admin:emag_sync_conflict_resolve", args=[conflict.pk]),
        {"resolution": resolution},
        follow=True,
    )

    assert response.status_code == 200
    assert "Choose “Accept eMAG” or “Keep local”." in response.content.decode()
    assert open_conflicts() == before
    assert LocalEdit.objects.count() == 1


@pytest.mark.parametrize("conflict_id", ["0", "987654", HUGE])
def test_deciding_a_conflict_that_does_not_exist_is_a_404(boss, conflict, conflict_id):
    before = open_conflicts()

    response = boss.post(
        f"/admin/emag_sync/conflict/{conflict_id}/resolve/", {"resolution": "keep_local"}
    )

    assert response.status_code == 404
    assert open_conflicts() == before


@pytest.mark.parametrize("selected", [["abc"], [HUGE], ["-1"], ["1.5"], []])
def test_a_bulk_decision_on_forged_selections_decides_nothing(boss, conflict, selected):
    before = open_conflicts()

    response = boss.post(
        reverse("admin:emag_sync_conflict_changelist"),
        {"action": "keep_local", "_selected_action": selected, "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    assert open_conflicts() == before


@pytest.mark.parametrize("run_id", ["987654", HUGE])
def test_cancelling_a_run_that_does_not_exist_is_a_404(boss, run_id):
    [run] = make_runs(1)

    response = boss.post(f"/admin/emag_sync/syncrun/{run_id}/cancel/")

    assert response.status_code == 404
    assert SyncRun.objects.get().status == run.status


@pytest.mark.parametrize("path", ["offer", "conflict", "syncrun", "order", "localedit"])
@pytest.mark.parametrize("object_id", ["abc", HUGE, "-1", "1.5"])
def test_an_admin_page_for_an_id_that_names_nothing_is_not_a_server_error(boss, path, object_id):
    response = boss.get(f"/admin/emag_sync/{path}/{object_id}/change/")

    assert response.status_code == 302  # to the list, with "does not exist"
    assert response["Location"] == "/admin/"
