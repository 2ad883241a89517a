"""The API answers a person's errors in the language the request asks for; codes stay put."""

import pytest

from tests.api.conftest import API
from tests.factories import make_run

pytestmark = pytest.mark.i18n

PRODUCTS = f"{API}/emag/products/products"
SYNC = f"{API}/emag/products/sync"


def get_in(api, language: str, path: str, params: dict | None = None):
    return api.get(path, params or {}, HTTP_ACCEPT_LANGUAGE=language)


def test_a_bad_page_size_is_refused_in_romanian_or_english_as_asked_with_the_same_field(api):
    romanian = get_in(api, "ro", PRODUCTS, {"limit": "lots"})
    english = get_in(api, "en", PRODUCTS, {"limit": "lots"})

    assert romanian.status_code == english.status_code == 400
    assert romanian.json().keys() == english.json().keys() == {"limit"}
    assert english.json()["limit"] == ["Must be a whole number from 1 to 1000."]
    assert romanian.json()["limit"] == ["Trebuie să fie un număr întreg de la 1 la 1000."]


def test_an_unknown_api_path_is_not_found_in_either_language(api):
    romanian = get_in(api, "ro", f"{API}/emag/nothing-here")
    english = get_in(api, "en", f"{API}/emag/nothing-here")

    assert romanian.status_code == english.status_code == 404
    assert english.json() == {"detail": "Not found."}
    assert romanian.json() == {"detail": "Nu a fost găsit."}


def test_a_refused_sync_request_names_the_same_field_in_each_language(api):
    body = {"account_type": "main", "mode": "selective"}
    romanian = api.post(SYNC, body, format="json", HTTP_ACCEPT_LANGUAGE="ro")
    english = api.post(SYNC, body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert romanian.status_code == english.status_code == 400
    assert english.json() == {"filters": ["A selective sync needs filters, ids or skus."]}
    assert romanian.json() == {
        "filters": ["O sincronizare selectivă are nevoie de filters, ids sau skus."]
    }


def test_drf_own_messages_use_its_shipped_romanian(api):
    romanian = api.post(
        SYNC,
        {"account_type": "main", "mode": "sometimes"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ro",
    )
    english = api.post(
        SYNC,
        {"account_type": "main", "mode": "sometimes"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert romanian.status_code == english.status_code == 400
    assert english.json()["mode"] == ['"sometimes" is not a valid choice.']
    assert romanian.json()["mode"] != english.json()["mode"]
    assert "sometimes" in romanian.json()["mode"][0]


@pytest.mark.django_db
def test_a_sync_refused_because_one_runs_says_so_in_each_language_with_the_same_run(
    api, queued_tasks
):
    busy = make_run("main", status="running")
    body = {"account_type": "main", "run_async": True}

    romanian = api.post(SYNC, body, format="json", HTTP_ACCEPT_LANGUAGE="ro")
    english = api.post(SYNC, body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert romanian.status_code == english.status_code == 409
    assert romanian.json()["run_ids"] == english.json()["run_ids"] == [busy.pk]
    assert "is already running" in english.json()["detail"]
    assert "rulează deja" in romanian.json()["detail"]
    assert queued_tasks == []
