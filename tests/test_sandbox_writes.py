"""The sandbox takes offer writes as eMAG does: light offer/save and PATCH offer_stock."""

import base64
import json

import pytest
import requests
import responses

from emag_sync.sandbox import Sandbox, sandbox_credentials, start_in_thread
from emag_sync.sandbox.responses_adapter import api_url, register

BASE_URL = "https://sandbox.emag.test"


def headers(account: str, password: str | None = None) -> dict[str, str]:
    username, real_password = sandbox_credentials(account)
    token = base64.b64encode(f"{username}:{password or real_password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def save(sandbox, account, offers):
    body = json.dumps(offers).encode()
    return sandbox.handle("POST", f"/{account}/api-3/offer/save", headers(account), body)


def patch_stock(sandbox, account, offer_id, body, *, password=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return sandbox.handle(
        "PATCH", f"/{account}/api-3/offer_stock/{offer_id}", headers(account, password), raw
    )


def item_results(response):
    decoded = response.json()
    assert response.status == 200
    assert decoded["isError"] is False, decoded
    return decoded["results"]


@pytest.fixture
def sandbox():
    return Sandbox(offers={"main": 60, "fbe": 10}, rate_limit=False)


def priced(sandbox, account="main", *, with_range=True):
    """Return the first offer with a min/max range (or without one)."""
    return next(
        offer
        for offer in sandbox.offers(account)
        if ("min_sale_price" in offer) == with_range and offer["status"] == 1
    )


# --- offer/save -----------------------------------------------------------------------------


def test_a_light_save_changes_every_pushable_field_and_later_reads_show_it(sandbox):
    offer = priced(sandbox)
    response = save(
        sandbox,
        "main",
        [
            {
                "id": offer["id"],
                "sale_price": offer["max_sale_price"],
                "recommended_price": "99999.5",
                "stock": [{"warehouse_id": 1, "value": 17}],
                "handling_time": [{"warehouse_id": 1, "value": 4}],
                "vat_id": 2,
                "status": 0,
            }
        ],
    )

    assert item_results(response) == {str(offer["id"]): {"isError": False, "messages": []}}
    assert response.json()["errors"] == []
    stored = next(item for item in sandbox.offers("main") if item["id"] == offer["id"])
    assert stored["sale_price"] == f"{float(offer['max_sale_price']):.4f}"
    assert stored["recommended_price"] == "99999.5000"
    assert stored["stock"] == [{"warehouse_id": 1, "value": 17}]
    assert stored["general_stock"] == 17
    assert stored["handling_time"] == [{"warehouse_id": 1, "value": 4}]
    assert (stored["vat_id"], stored["status"]) == (2, 0)
    assert sandbox.offer_saves("main") == {offer["id"]: 1}


def test_each_item_is_answered_on_its_own_and_a_refused_one_changes_nothing(sandbox):
    offer, other = [item for item in sandbox.offers("main") if "min_sale_price" in item][:2]
    response = save(
        sandbox,
        "main",
        [
            {"id": offer["id"], "sale_price": "1", "stock": [{"warehouse_id": 1, "value": 3}]},
            {"id": other["id"], "stock": [{"warehouse_id": 1, "value": 3}]},
        ],
    )

    results = item_results(response)
    assert results[str(offer["id"])]["isError"] is True
    assert results[str(offer["id"])]["messages"] == [
        f"The sale_price 1.0000 must be between the min_sale_price "
        f"{float(offer['min_sale_price']):.4f} and the max_sale_price "
        f"{float(offer['max_sale_price']):.4f}"
    ]
    assert results[str(other["id"])] == {"isError": False, "messages": []}
    untouched = next(item for item in sandbox.offers("main") if item["id"] == offer["id"])
    assert untouched["stock"] == offer["stock"]
    assert sandbox.offer_saves("main") == {other["id"]: 1}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stock": [{"warehouse_id": 1, "value": -1}]}, "Stock should be 0 or more"),
        (
            {"stock": [{"warehouse_id": 1, "value": 2.5}]},
            "The stock field is mandatory. Its value must be a whole (integer) number. "
            "Decimals are not allowed. (ex: 5)",
        ),
        ({"vat_id": 77}, "Invalid vat_id 77: see vat/read for the valid ones"),
        ({"status": 5}, "The status must be 0 (inactive), 1 (active) or 2 (end of life)"),
        ({"sale_price": "-3"}, "The sale_price must be a number above 0 with at most 4 decimals"),
        (
            {"handling_time": [{"warehouse_id": 1, "value": 300}]},
            "The handling_time must be a whole number of days from 0 to 255",
        ),
        ({"name": "New name"}, "Unknown fields for the light offer update: name"),
    ],
)
def test_it_refuses_values_emag_refuses(sandbox, changes, message):
    offer = priced(sandbox)

    results = item_results(save(sandbox, "main", [{"id": offer["id"], **changes}]))

    assert results[str(offer["id"])] == {"isError": True, "messages": [message]}
    assert sandbox.offer_saves("main") == {}


def test_the_recommended_price_must_stay_above_the_sale_price(sandbox):
    offer = priced(sandbox)

    results = item_results(
        save(sandbox, "main", [{"id": offer["id"], "recommended_price": offer["sale_price"]}])
    )

    assert results[str(offer["id"])]["messages"] == [
        "The recommended_price must be greater than the sale_price"
    ]


def test_stock_of_fbe_offers_is_refused(sandbox):
    offer = sandbox.offers("fbe")[0]

    results = item_results(
        save(sandbox, "fbe", [{"id": offer["id"], "stock": [{"warehouse_id": 1, "value": 9}]}])
    )

    assert results[str(offer["id"])] == {
        "isError": True,
        "messages": [
            "The stock of an offer fulfilled by eMAG is managed by eMAG and cannot be changed"
        ],
    }


def test_an_unknown_offer_is_an_item_error(sandbox):
    results = item_results(save(sandbox, "main", [{"id": 999_999, "status": 1}]))

    assert results == {"999999": {"isError": True, "messages": ["This offer does not exist"]}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"id": 1}] * 51, "Maximum 50 offers can be saved per request"),
        ([{"status": 1}], "The id field is mandatory for every offer"),
        ({"id": "x"}, "Invalid value for id: 'x'"),
    ],
)
def test_a_bad_request_is_an_is_error_envelope(sandbox, body, message):
    decoded = save(sandbox, "main", body).json()

    assert decoded["isError"] is True
    assert decoded["messages"] == [message]


def test_one_offer_twice_in_a_request_is_refused(sandbox):
    offer = priced(sandbox)

    decoded = save(sandbox, "main", [{"id": offer["id"]}, {"id": offer["id"]}]).json()

    assert decoded["isError"] is True
    assert str(offer["id"]) in decoded["messages"][0]


def test_results_can_be_keyed_by_emags_offer_id(sandbox):
    offer = priced(sandbox)
    sandbox.set_save_result_key("offer_id")

    results = item_results(save(sandbox, "main", [{"id": offer["id"], "status": 1}]))

    assert list(results) == [str(offer["offer_details"]["id"])]


# --- PATCH offer_stock ----------------------------------------------------------------------


def test_patching_stock_answers_204_and_later_reads_show_it(sandbox):
    offer = priced(sandbox)

    response = patch_stock(sandbox, "main", offer["id"], {"stock": 21})

    assert (response.status, response.body) == (204, b"")
    stored = next(item for item in sandbox.offers("main") if item["id"] == offer["id"])
    assert stored["stock"][0]["value"] == 21 and stored["general_stock"] == 21
    assert sandbox.offer_saves("main") == {offer["id"]: 1}


def test_stock_of_an_offer_in_a_campaign_is_refused_until_the_campaign_ends(sandbox):
    offer = priced(sandbox)
    sandbox.set_campaign("main", offer["id"], "BF")

    refused = patch_stock(sandbox, "main", offer["id"], {"stock": 21})
    saved = item_results(
        save(sandbox, "main", [{"id": offer["id"], "stock": [{"warehouse_id": 1, "value": 2}]}])
    )
    sandbox.set_campaign("main", offer["id"], None)
    accepted = patch_stock(sandbox, "main", offer["id"], {"stock": 21})

    assert refused.status == 400
    assert refused.json() == {
        "message": "Validation errors in your request",
        "errors": [
            {
                "message": "The offer is included in the active campaign BF, thus the stock "
                "has NOT been changed.",
                "field": "stock",
            }
        ],
    }
    assert saved[str(offer["id"])]["isError"] is True
    assert accepted.status == 204
    assert sandbox.offer_saves("main") == {offer["id"]: 1}


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        ({"stock": [{"warehouse_id": 1, "value": 3}]}, 400, {"message": "Invalid content"}),
        (b"not json", 400, {"message": "Invalid content"}),
        ({"stock": -2}, 400, None),
    ],
)
def test_a_bad_stock_body_is_a_400(sandbox, body, status, answer):
    response = patch_stock(sandbox, "main", priced(sandbox)["id"], body)

    assert response.status == status
    if answer:
        assert response.json() == answer
    else:
        assert response.json()["errors"] == [
            {"message": "Stock should be 0 or more", "field": "stock"}
        ]


def test_stock_patches_are_refused_on_fbe_unknown_offers_bad_credentials_and_other_methods(
    sandbox,
):
    fbe_offer = sandbox.offers("fbe")[0]["id"]
    main_offer = priced(sandbox)["id"]

    assert patch_stock(sandbox, "fbe", fbe_offer, {"stock": 1}).status == 400
    unknown = patch_stock(sandbox, "main", 999_999, {"stock": 1})
    assert (unknown.status, unknown.json()) == (404, {"message": "This offer does not exist"})
    refused = patch_stock(sandbox, "main", main_offer, {"stock": 1}, password="wrong")
    assert refused.status == 403 and refused.json()["isError"] is True
    post = sandbox.handle(
        "POST", f"/main/api-3/offer_stock/{main_offer}", headers("main"), b'{"stock": 1}'
    )
    assert post.status == 405
    assert sandbox.offer_saves("main") == {}


# --- Faults on writes -----------------------------------------------------------------------


@pytest.fixture
def mocked(sandbox):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock, sandbox, BASE_URL)
        yield sandbox


def post_save(offers):
    return requests.post(
        f"{api_url(BASE_URL, 'main')}/offer/save",
        json=offers,
        auth=sandbox_credentials("main"),
        timeout=5,
    )


def test_a_timeout_after_the_save_leaves_the_change_applied(mocked):
    offer = priced(mocked)
    mocked.inject_fault("main", "timeout", action="offer/save")

    with pytest.raises(requests.exceptions.ReadTimeout):
        post_save([{"id": offer["id"], "status": 0}])

    assert next(item for item in mocked.offers("main") if item["id"] == offer["id"])["status"] == 0
    assert mocked.offer_saves("main") == {offer["id"]: 1}


def test_a_timeout_before_the_save_leaves_nothing_applied(mocked):
    offer = priced(mocked)
    mocked.inject_fault("main", "timeout_unapplied", action="offer/save")

    with pytest.raises(requests.exceptions.ReadTimeout):
        post_save([{"id": offer["id"], "status": 0}])

    assert mocked.offer_saves("main") == {}


def test_stock_patches_meet_injected_faults_too(mocked):
    offer = priced(mocked)
    mocked.inject_fault("main", "http_503", action="offer_stock")
    url = f"{api_url(BASE_URL, 'main')}/offer_stock/{offer['id']}"

    first = requests.patch(url, json={"stock": 4}, auth=sandbox_credentials("main"), timeout=5)
    second = requests.patch(url, json={"stock": 4}, auth=sandbox_credentials("main"), timeout=5)

    assert (first.status_code, second.status_code) == (503, 204)
    assert mocked.offer_saves("main") == {offer["id"]: 1}


# --- Control endpoints over HTTP ------------------------------------------------------------


@pytest.mark.slow
def test_the_control_endpoints_switch_campaigns_and_report_saves(sandbox):
    offer = priced(sandbox)
    with start_in_thread(sandbox) as served:
        campaign = requests.post(
            f"{served.url}/_sandbox/campaigns",
            json={"account": "main", "offer_id": offer["id"], "campaign": "BF"},
            timeout=5,
        )
        refused = requests.patch(
            f"{served.api_url('main')}/offer_stock/{offer['id']}",
            json={"stock": 5},
            auth=sandbox_credentials("main"),
            timeout=5,
        )
        key = requests.post(
            f"{served.url}/_sandbox/save-result-key", json={"key": "offer_id"}, timeout=5
        )
        saved = requests.post(
            f"{served.api_url('main')}/offer/save",
            json=[{"id": offer["id"], "status": 1}],
            auth=sandbox_credentials("main"),
            timeout=5,
        )
        saves = requests.get(f"{served.url}/_sandbox/saves/main", timeout=5).json()
        bad = requests.post(
            f"{served.url}/_sandbox/save-result-key", json={"key": "pnk"}, timeout=5
        )

    assert campaign.json() == {"ok": True}
    assert refused.status_code == 400
    assert key.json() == {"ok": True, "key": "offer_id"}
    assert list(saved.json()["results"]) == [str(offer["offer_details"]["id"])]
    assert saves == {str(offer["id"]): 1}
    assert bad.status_code == 400
