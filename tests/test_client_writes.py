"""The eMAG client's offer writes: light offer/save, PATCH offer_stock, and no blind resend."""

# ruff: noqa: F811  (pytest fixtures imported from test_client.py are parameters here)

import dataclasses
import json
from decimal import Decimal

import pytest
import requests
import responses
import urllib3

from emag_sync.client import (
    EmagApiError,
    EmagClient,
    EmagInvalidRequest,
    EmagRateLimited,
    EmagWriteUncertain,
    ItemOutcome,
    OfferSaveResult,
    OfferUpdate,
)
from emag_sync.sandbox import Sandbox
from emag_sync.sandbox.responses_adapter import api_url, register

# The client's fixtures are shared with test_client.py; tests name them as parameters.
from tests.test_client import API, account, api, calls, client, envelope, limiter, sleeps  # noqa: F401

OFFER_SAVE = f"{API}/offer/save"


def test_save_offers_sends_a_json_array_of_only_the_fields_set(api, client, limiter):
    api.post(OFFER_SAVE, json={**envelope({"7": {"isError": False, "messages": []}}), "errors": []})

    results = client.save_offers(
        [
            OfferUpdate(
                emag_id=7,
                sale_price=Decimal("12.5"),
                stock=((1, 4),),
                handling_time=((1, 2),),
                vat_id=1,
                status=1,
            )
        ]
    )

    assert json.loads(api.calls[0].request.body) == [
        {
            "id": 7,
            "sale_price": "12.5000",
            "stock": [{"warehouse_id": 1, "value": 4}],
            "handling_time": [{"warehouse_id": 1, "value": 2}],
            "vat_id": 1,
            "status": 1,
        }
    ]
    assert results == {7: OfferSaveResult(emag_id=7, outcome=ItemOutcome.APPLIED)}
    # Writes wait for the same shared budget as reads.
    assert limiter.acquired == [("main", "default")]


def test_each_item_is_read_on_its_own_under_an_envelope_without_error(api, client):
    api.post(
        OFFER_SAVE,
        json=envelope(
            {
                "7": {"isError": True, "messages": ["Stock should be 0 or more"]},
                "8": {"isError": False, "messages": []},
            }
        ),
    )

    results = client.save_offers(
        [OfferUpdate(emag_id=7, stock=((1, 1),)), OfferUpdate(emag_id=8), OfferUpdate(emag_id=9)]
    )

    assert results[7] == OfferSaveResult(7, ItemOutcome.REJECTED, ("Stock should be 0 or more",))
    assert results[8].outcome == ItemOutcome.APPLIED
    # No answer for an item: its outcome is unknown, never taken as applied.
    assert results[9].outcome == ItemOutcome.UNKNOWN


def test_results_keyed_by_emags_offer_id_are_recognised(api, client):
    api.post(OFFER_SAVE, json=envelope({"55501": {"isError": True, "messages": ["No"]}}))

    results = client.save_offers([OfferUpdate(emag_id=7, offer_id=55501)])

    assert results[7] == OfferSaveResult(7, ItemOutcome.REJECTED, ("No",))


@pytest.mark.parametrize("count", [0, 51])
def test_a_save_takes_1_to_50_offers(client, count):
    with pytest.raises(ValueError, match="1 to 50"):
        client.save_offers([OfferUpdate(emag_id=index + 1) for index in range(count)])


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"json": {"message": "Bad gateway"}, "status": 502},
        {"body": requests.exceptions.ChunkedEncodingError("connection broken")},
        {"body": '{"isError":false,"results":{"7":'},
        {"body": "<html>Maintenance</html>"},
        {"json": envelope([], is_error=True, messages=["Internal error, please retry"])},
    ],
    ids=["read-timeout", "502", "cut", "truncated", "html", "is-error"],
)
def test_a_write_is_never_sent_again_when_its_outcome_is_unknown(api, client, calls, failure):
    api.post(OFFER_SAVE, **failure)
    api.post(OFFER_SAVE, json=envelope({"7": {"isError": False, "messages": []}}))

    with pytest.raises(EmagWriteUncertain, match="may or may not have applied") as raised:
        client.save_offers([OfferUpdate(emag_id=7, status=1)])

    assert len(api.calls) == 1
    assert raised.value.cause is not None
    assert calls[0].ok is False and calls[0].attempts == 1


def test_a_429_on_a_write_is_retried_after_the_wait(api, client, calls, sleeps):
    api.post(OFFER_SAVE, json={"message": "API rate limit exceeded"}, status=429)
    api.post(OFFER_SAVE, json=envelope({"7": {"isError": False, "messages": []}}))

    results = client.save_offers([OfferUpdate(emag_id=7, status=1)])

    assert results[7].outcome == ItemOutcome.APPLIED
    assert len(api.calls) == 2 and len(sleeps) == 1
    assert (calls[0].attempts, calls[0].throttled) == (2, 1)


def test_a_write_that_never_connected_is_sent_again(api, client):
    refused = requests.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None, OFFER_SAVE, urllib3.exceptions.NewConnectionError(None, "Connection refused")
        )
    )
    api.post(OFFER_SAVE, body=refused)
    api.post(OFFER_SAVE, body=requests.exceptions.ConnectTimeout("connect timed out"))
    api.post(OFFER_SAVE, json=envelope({"7": {"isError": False, "messages": []}}))

    assert client.save_offers([OfferUpdate(emag_id=7)])[7].outcome == ItemOutcome.APPLIED
    assert len(api.calls) == 3


def test_a_persistent_429_raises_rate_limited_not_uncertain(api, client):
    for _ in range(4):
        api.post(OFFER_SAVE, json={"message": "API rate limit exceeded"}, status=429)

    with pytest.raises(EmagRateLimited):
        client.save_offers([OfferUpdate(emag_id=7)])


def test_a_refused_batch_raises_the_api_error_not_uncertain(api, client):
    api.post(OFFER_SAVE, json=envelope([], is_error=True, messages=["Invalid value for id: 'x'"]))

    with pytest.raises(EmagInvalidRequest):
        client.save_offers([OfferUpdate(emag_id=7)])


# --- PATCH offer_stock ------------------------------------------------------------------------


def test_update_offer_stock_patches_an_integer_and_accepts_204(api, client, limiter):
    api.patch(f"{API}/offer_stock/7", status=204)

    assert client.update_offer_stock(7, 21) is None

    request = api.calls[0].request
    assert request.method == "PATCH" and json.loads(request.body) == {"stock": 21}
    assert limiter.acquired == [("main", "default")]


def test_a_refused_stock_patch_raises_with_emags_messages(api, client, calls):
    api.patch(
        f"{API}/offer_stock/7",
        status=400,
        json={
            "message": "Validation errors in your request",
            "errors": [
                {"message": "The offer is included in the active campaign BF", "field": "stock"}
            ],
        },
    )
    api.patch(f"{API}/offer_stock/8", status=404, json={"message": "This offer does not exist"})

    with pytest.raises(EmagApiError, match="active campaign BF"):
        client.update_offer_stock(7, 1)
    with pytest.raises(EmagApiError, match="This offer does not exist") as unknown:
        client.update_offer_stock(8, 1)

    assert unknown.value.status_code == 404
    assert [(call.resource, call.action) for call in calls] == [("offer_stock", "patch")] * 2


def test_a_stock_patch_timeout_is_uncertain(api, client):
    api.patch(f"{API}/offer_stock/7", body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(EmagWriteUncertain):
        client.update_offer_stock(7, 1)
    assert len(api.calls) == 1


@pytest.mark.parametrize("stock", [-1, 65536, 2.5, True])
def test_stock_must_be_a_whole_number_in_emags_range(client, stock):
    with pytest.raises(ValueError):
        client.update_offer_stock(7, stock)


# --- Against the sandbox ----------------------------------------------------------------------


def test_vat_ids_come_from_vat_read(api, client):
    api.post(f"{API}/vat/read", json=envelope([{"vat_id": 1, "vat_rate": 0.21}, {"id": "3"}]))

    assert client.read_vat_ids() == frozenset({1, 3})


def test_the_sandbox_applies_what_the_client_saves(account, limiter):
    sandbox = Sandbox(offers={"main": 5, "fbe": 1}, rate_limit=False)
    username, password = sandbox.credentials("main")
    base = "https://sandbox.emag.test"
    target = dataclasses.replace(
        account, username=username, password=password, api_url=api_url(base, "main")
    )
    first, second = sandbox.offers("main")[:2]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock, sandbox, base)
        with EmagClient(target, rate_limiter=limiter, max_retries=0) as emag:
            results = emag.save_offers(
                [
                    OfferUpdate(emag_id=first["id"], status=0),
                    OfferUpdate(emag_id=second["id"], vat_id=99),
                ]
            )
            emag.update_offer_stock(first["id"], 33)
            read = emag.read_offers(page=1, id=first["id"])
            vat_ids = emag.read_vat_ids()

    assert results[first["id"]].outcome == ItemOutcome.APPLIED
    assert results[second["id"]].outcome == ItemOutcome.REJECTED
    assert (read[0]["status"], read[0]["general_stock"]) == (0, 33)
    assert vat_ids == frozenset({1, 2, 3, 4})
    assert sandbox.offer_saves("main") == {first["id"]: 2}
