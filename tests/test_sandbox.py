"""The eMAG sandbox behaves like eMAG: data, envelopes, limits, orders, drift and faults."""

import base64
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests
import responses

from emag_sync.sandbox import (
    Sandbox,
    generate_offers,
    generate_orders,
    sandbox_credentials,
    start_in_thread,
)
from emag_sync.sandbox.faults import TRANSIENT_KINDS
from emag_sync.sandbox.orders import ALLOWED_TRANSITIONS
from emag_sync.sandbox.ratelimit import Limits, SlidingWindowLimiter
from emag_sync.sandbox.responses_adapter import api_url, register
from emag_sync.sandbox.store import ItemStore

FIXED_NOW = datetime(2025, 9, 15, 9, 30, tzinfo=UTC)
BASE_URL = "https://sandbox.emag.test"


class FakeMonotonic:
    """A monotonic clock the test moves by hand, so rate-limit tests never sleep."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def basic_auth(account: str, password: str | None = None) -> dict[str, str]:
    username, real_password = sandbox_credentials(account)
    token = base64.b64encode(f"{username}:{password or real_password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def call(sandbox, account, action, payload=None, *, encoding="json", headers=None):
    """Send one authenticated request to the sandbox core, as JSON or as PHP-style form."""
    if encoding == "json":
        body = json.dumps({"data": payload or {}}).encode()
        content_type = "application/json"
    else:
        pairs = []
        for key, value in (payload or {}).items():
            values = value if isinstance(value, list) else [value]
            suffix = "[]" if isinstance(value, list) else ""
            pairs += [(f"data[{key}]{suffix}", item) for item in values]
        body = urlencode(pairs).encode()
        content_type = "application/x-www-form-urlencoded"
    all_headers = {"Content-Type": content_type, **basic_auth(account), **(headers or {})}
    return sandbox.handle("POST", f"/{account}/api-3/{action}", all_headers, body)


def results(response):
    decoded = response.json()
    assert decoded["isError"] is False, decoded
    return decoded["results"]


@pytest.fixture
def sandbox():
    return Sandbox(
        offers={"main": 150, "fbe": 120},
        orders={"main": 120, "fbe": 80},
        rate_limit=False,
        clock=lambda: FIXED_NOW,
    )


# --- Catalogue --------------------------------------------------------------------------------


def test_generate_offers_is_deterministic_for_a_seed():
    assert generate_offers("main", 40, 7) == generate_offers("main", 40, 7)
    assert generate_offers("main", 40, 7) != generate_offers("main", 40, 8)


def test_default_sizes_are_the_predecessors_catalogue_sizes():
    assert len(generate_offers("main")) == 1274
    assert len(generate_offers("fbe")) == 1271
    assert len(generate_offers("bg")) == 50


def test_offers_are_sorted_by_unique_seller_ids():
    ids = [offer["id"] for offer in generate_offers("main", 300)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_main_and_fbe_share_many_part_numbers_under_different_seller_ids():
    main = {offer["part_number"]: offer["id"] for offer in generate_offers("main", 300)}
    fbe = {offer["part_number"]: offer["id"] for offer in generate_offers("fbe", 300)}
    shared = main.keys() & fbe.keys()
    assert len(shared) > 150
    assert all(main[part_number] != fbe[part_number] for part_number in shared)


def test_offers_carry_the_quirks_of_real_responses():
    offers = generate_offers("main", 600)
    prices = [offer["sale_price"] for offer in offers]
    assert any(re.fullmatch(r"\d+\.\d{4}", price) for price in prices if isinstance(price, str))
    numbers = [price for price in prices if isinstance(price, float)]
    assert numbers
    assert all(Decimal(repr(price)).as_tuple().exponent >= -4 for price in numbers)
    assert {offer["status"] for offer in offers} == {0, 1, 2}
    assert any("brand_name" not in offer for offer in offers)
    assert any("recommended_price" not in offer for offer in offers)
    assert any("rrp_guidelines" in offer for offer in offers)
    assert any("auto_translated" in offer for offer in offers)
    assert any("content_details" in offer for offer in offers)
    assert any(offer["buy_button_rank"] is None for offer in offers)
    assert any(offer["doc_errors"] for offer in offers)
    assert any(offer["family"] is None for offer in offers)
    assert any(isinstance(offer["family"], dict) for offer in offers)
    assert any(offer["ean"] == [] for offer in offers)
    assert any(len(offer["ean"]) == 2 for offer in offers)
    assert any(set("ăâîșț") & set(offer["name"].lower()) for offer in offers)
    for offer in offers:
        assert isinstance(offer["ownership"], bool)
        assert isinstance(offer["manufacturer"], bool)
        assert isinstance(offer["eu_representative"], bool)
        assert all(re.fullmatch(r"\d{13}", ean) for ean in offer["ean"])
        assert re.search(r"\d", offer["part_number_key"])
        assert re.search(r"[A-Z]", offer["part_number_key"])
        assert set(offer["validation_status"][0]) == {"value", "description", "errors"}
        assert set(offer["translation_validation_status"][0]) == {"value", "description", "errors"}
        assert set(offer["offer_validation_status"]) == {"value", "description"}
        assert offer["stock"] == [{"warehouse_id": 1, "value": offer["general_stock"]}]
        assert offer["handling_time"][0]["warehouse_id"] == 1
        assert isinstance(offer["estimated_stock"], int)
        assert set(offer["offer_details"]) == {
            "id",
            "warranty_type",
            "supply_lead_time",
            "emag_club",
        }
        assert offer["currency"] == "RON"


def test_an_account_can_sell_in_another_currency():
    assert {offer["currency"] for offer in generate_offers("bg", 20)} == {"BGN"}
    assert {offer["currency"] for offer in generate_offers("main", 20, currency="BGN")} == {"BGN"}


def test_sandbox_credentials_are_fixed_per_account():
    assert sandbox_credentials("main") == ("main@sandbox.local", "sandbox-main-secret")
    assert sandbox_credentials("fbe") != sandbox_credentials("main")


# --- Request encodings, envelope, auth --------------------------------------------------------

ENCODED_BODIES = {
    "form data[...]": (
        "application/x-www-form-urlencoded",
        b"data[currentPage]=1&data[itemsPerPage]=5&data[status]=1",
    ),
    "json with data": (
        "application/json",
        b'{"data": {"currentPage": 1, "itemsPerPage": 5, "status": 1}}',
    ),
    "flat json": ("application/json", b'{"currentPage": 1, "itemsPerPage": 5, "status": 1}'),
    "flat form": ("application/x-www-form-urlencoded", b"currentPage=1&itemsPerPage=5&status=1"),
    "form data=json": ("application/x-www-form-urlencoded", b'data={"itemsPerPage":5,"status":1}'),
}


@pytest.mark.parametrize("encoding", ENCODED_BODIES)
def test_it_accepts_every_body_encoding_emag_accepts(sandbox, encoding):
    content_type, body = ENCODED_BODIES[encoding]
    headers = {"Content-Type": content_type, **basic_auth("main")}
    response = sandbox.handle("POST", "/main/api-3/product_offer/read", headers, body)

    expected = [offer["id"] for offer in sandbox.offers("main") if offer["status"] == 1][:5]
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert [offer["id"] for offer in results(response)] == expected


def test_form_lists_select_several_values(sandbox):
    body = b"data[status][]=0&data[status][]=2&data[itemsPerPage]=100"
    headers = {"Content-Type": "application/x-www-form-urlencoded", **basic_auth("main")}
    response = sandbox.handle("POST", "/main/api-3/product_offer/read", headers, body)

    assert {offer["status"] for offer in results(response)} == {0, 2}


def test_it_refuses_bad_credentials_with_is_error_on_http_200(sandbox):
    response = call(sandbox, "main", "product_offer/read", headers=basic_auth("main", "wrong"))

    assert response.status == 200
    assert response.json() == {
        "isError": True,
        "messages": ["ERROR: You are not allowed to use this API"],
        "results": [],
    }


def test_it_refuses_one_accounts_credentials_on_another_account(sandbox):
    headers = {"Content-Type": "application/json", **basic_auth("fbe")}
    response = sandbox.handle("POST", "/main/api-3/product_offer/read", headers, b"{}")

    assert response.json()["isError"] is True


def test_it_answers_404_for_an_unknown_account_or_action(sandbox):
    assert call(sandbox, "nobody", "product_offer/read").status == 404
    assert call(sandbox, "main", "product_offer/frobnicate").status == 404


def test_invalid_json_is_an_is_error_envelope(sandbox):
    headers = {"Content-Type": "application/json", **basic_auth("main")}
    response = sandbox.handle("POST", "/main/api-3/product_offer/read", headers, b"{not json")

    assert response.json()["isError"] is True


# --- product_offer/read and /count ------------------------------------------------------------


def test_count_returns_items_pages_and_page_size_as_numbers(sandbox):
    active = sum(1 for offer in sandbox.offers("main") if offer["status"] == 1)

    counted = results(
        call(sandbox, "main", "product_offer/count", {"status": 1, "itemsPerPage": 50})
    )

    assert counted == {"noOfItems": active, "noOfPages": -(-active // 50), "itemsPerPage": 50}


def test_pages_are_ordered_by_id_and_cover_the_catalogue_once(sandbox):
    seen = []
    for page in range(1, 4):
        seen += results(
            call(sandbox, "main", "product_offer/read", {"currentPage": page, "itemsPerPage": 60})
        )

    assert [offer["id"] for offer in seen] == [offer["id"] for offer in sandbox.offers("main")]
    assert (
        results(call(sandbox, "main", "product_offer/read", {"currentPage": 4, "itemsPerPage": 60}))
        == []
    )


def test_it_refuses_more_than_100_items_per_page(sandbox):
    decoded = call(sandbox, "main", "product_offer/read", {"itemsPerPage": 101}).json()

    assert decoded["isError"] is True
    assert decoded["messages"] == ["Reading products is limited to maximum 100 elements"]


OFFER_FILTERS = {
    "id": lambda offer: {"id": offer["id"]},
    "status": lambda offer: {"status": 0},
    "part_number": lambda offer: {"part_number": offer["part_number"]},
    "part_number_key": lambda offer: {"part_number_key": offer["part_number_key"]},
    "general_stock": lambda offer: {"general_stock": 10},
    "estimated_stock": lambda offer: {"estimated_stock": 5},
    "offer_validation_status": lambda offer: {"offer_validation_status": 1},
    "validation_status": lambda offer: {"validation_status": 9},
    "translation_validation_status": lambda offer: {"translation_validation_status": 17},
}


@pytest.mark.parametrize("name", OFFER_FILTERS)
def test_offer_filters_select_exactly_the_matching_offers(sandbox, name):
    offers = sandbox.offers("main")
    parameters = OFFER_FILTERS[name](offers[7])
    value = parameters[name]

    def expected(offer):
        field = offer[name]
        if name in ("general_stock", "estimated_stock"):
            return 0 <= field <= value
        if isinstance(field, list):
            return any(entry["value"] == value for entry in field)
        if isinstance(field, dict):
            return field["value"] == value
        return field == value

    read = results(call(sandbox, "main", "product_offer/read", parameters))
    counted = results(call(sandbox, "main", "product_offer/count", parameters))

    wanted = [offer["id"] for offer in offers if expected(offer)]
    assert wanted
    assert [offer["id"] for offer in read] == wanted[:100]
    assert counted["noOfItems"] == len(wanted)


def record_serialized_offers(monkeypatch) -> list[int]:
    """Return a list that collects the id of every offer the sandbox serializes from now on."""
    serialized: list[int] = []
    original = ItemStore.item_json

    def recording(store, item_id):
        serialized.append(item_id)
        return original(store, item_id)

    monkeypatch.setattr(ItemStore, "item_json", recording)
    return serialized


def test_a_cached_page_is_served_without_serializing_offers_again(sandbox, monkeypatch):
    first = call(sandbox, "main", "product_offer/read", {"currentPage": 2}).body
    serialized = record_serialized_offers(monkeypatch)

    again = call(sandbox, "main", "product_offer/read", {"currentPage": 2}).body

    assert again == first
    assert serialized == []


def test_prebuild_serializes_a_full_scan_ahead_and_serves_the_same_bytes(monkeypatch):
    built_lazily = Sandbox(offers={"main": 250, "fbe": 0}, rate_limit=False)
    built_ahead = Sandbox(offers={"main": 250, "fbe": 0}, rate_limit=False)

    assert built_ahead.prebuild() == 3 + 1  # main's three pages, and fbe's single empty one
    serialized = record_serialized_offers(monkeypatch)
    pages = [{"currentPage": page} for page in (1, 2, 3)]
    ahead = [call(built_ahead, "main", "product_offer/read", page).body for page in pages]
    counted_ahead = call(built_ahead, "main", "product_offer/count", {}).body

    assert serialized == []
    assert ahead == [call(built_lazily, "main", "product_offer/read", page).body for page in pages]
    assert counted_ahead == call(built_lazily, "main", "product_offer/count", {}).body


def test_vat_read_lists_the_rates(sandbox):
    rates = results(call(sandbox, "main", "vat/read"))

    assert {"vat_id": 1, "vat_rate": 0.21, "is_default": 1} in rates


# --- Rate limits ------------------------------------------------------------------------------


@pytest.fixture
def monotonic():
    return FakeMonotonic()


@pytest.fixture
def limited(monotonic):
    return Sandbox(offers={"main": 10, "fbe": 10}, monotonic=monotonic, clock=lambda: FIXED_NOW)


def test_it_rejects_a_fourth_request_within_one_second(limited, monotonic):
    statuses = []
    for _ in range(4):
        statuses.append(call(limited, "main", "product_offer/read").status)
        monotonic.now += 0.2

    assert statuses == [200, 200, 200, 429]


def test_a_rejected_request_gets_eMAGs_429_body_and_headers(limited):
    for _ in range(3):
        ok = call(limited, "main", "product_offer/read")
    rejected = call(limited, "main", "product_offer/read")

    assert ok.headers["X-RateLimit-Limit-3second"] == "3"
    assert ok.headers["X-RateLimit-Remaining-3second"] == "0"
    assert rejected.status == 429
    assert rejected.json() == {"message": "API rate limit exceeded"}
    assert rejected.headers["X-RateLimit-Remaining-3second"] == "0"


def test_the_window_slides_instead_of_resetting_each_second(limited, monotonic):
    for moment in (0.0, 0.5, 0.9):
        monotonic.now = 1000 + moment
        assert call(limited, "main", "product_offer/read").status == 200

    monotonic.now = 1001.05  # the arrival at 0.0 has left the window, 0.5 and 0.9 have not
    assert call(limited, "main", "product_offer/read").status == 200
    monotonic.now = 1001.2
    assert call(limited, "main", "product_offer/read").status == 429


def test_all_non_order_resources_share_one_budget(limited):
    for action in ("product_offer/read", "product_offer/count", "vat/read"):
        assert call(limited, "main", action).status == 200

    assert call(limited, "main", "product_offer/read").status == 429


def test_orders_have_their_own_budget_of_twelve_per_second(limited):
    for _ in range(3):
        call(limited, "main", "product_offer/read")
    statuses = [call(limited, "main", "order/read").status for _ in range(13)]

    assert statuses == [200] * 12 + [429]


def test_each_account_has_its_own_budget(limited):
    for _ in range(3):
        call(limited, "main", "product_offer/read")

    assert call(limited, "fbe", "product_offer/read").status == 200


def test_the_per_minute_budget_applies_too(monotonic):
    # With eMAG's numbers (3/s, 180/min) a sliding second already caps a minute at 180, so
    # the minute rule is shown with a tighter budget.
    limiter = SlidingWindowLimiter(Limits(per_second=3, per_minute=5), monotonic)
    allowed = []
    for _ in range(7):
        allowed.append(limiter.admit().allowed)
        monotonic.now += 1.0

    assert allowed == [True] * 5 + [False] * 2
    monotonic.now += 55.0
    assert limiter.admit().allowed


def test_rate_limiting_can_be_disabled(sandbox):
    assert {call(sandbox, "main", "vat/read").status for _ in range(10)} == {200}


# --- Orders -----------------------------------------------------------------------------------


def test_generate_orders_is_deterministic_and_points_at_the_accounts_offers():
    offers = generate_offers("main", 50)
    orders = generate_orders("main", 60, 42, FIXED_NOW, offers=offers)

    assert orders == generate_orders("main", 60, 42, FIXED_NOW, offers=offers)
    offer_ids = {offer["id"] for offer in offers}
    assert all(
        int(line["product_id"]) in offer_ids for order in orders for line in order["products"]
    )
    assert any(
        isinstance(line["product_id"], str) for order in orders for line in order["products"]
    )


def test_orders_have_big_ids_and_the_documented_fields(sandbox):
    orders = sandbox.orders("main")

    for order in orders:
        assert 2**31 < order["id"] < 2**32
        assert {
            "status",
            "is_complete",
            "type",
            "payment_mode_id",
            "payment_mode",
            "detailed_payment_method",
            "delivery_mode",
            "details",
            "date",
            "modified",
            "payment_status",
            "shipping_tax",
            "shipping_tax_voucher_split",
            "customer",
            "products",
            "vouchers",
            "attachments",
            "is_storno",
            "reason_cancellation",
        } <= order.keys()
        assert {"locker_id", "locker_name", "locker_delivery_eligible"} <= order["details"].keys()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", order["date"])
        assert order["modified"] >= order["date"]
        for line in order["products"]:
            assert re.fullmatch(r"\d+\.\d{4}", line["sale_price"])
            assert line["vat"] in ("0.1900", "0.2100")
    assert {order["status"] for order in orders} >= {0, 1, 2, 4}
    assert any(isinstance(order["shipping_tax"], str) for order in orders)
    assert any(not isinstance(order["shipping_tax"], str) for order in orders)


def test_order_read_returns_only_seller_fulfilled_orders_unless_asked(sandbox):
    fbe_orders = sandbox.orders("fbe")
    by_seller = [order["id"] for order in fbe_orders if order["type"] == 3]
    by_emag = [order["id"] for order in fbe_orders if order["type"] == 2]

    default_read = results(call(sandbox, "fbe", "order/read"))
    emag_read = results(call(sandbox, "fbe", "order/read", {"type": 2}))

    assert len(by_emag) > len(by_seller)
    assert [order["id"] for order in default_read] == by_seller
    assert [order["id"] for order in emag_read] == by_emag


def test_main_orders_are_mostly_fulfilled_by_the_seller(sandbox):
    types = [order["type"] for order in sandbox.orders("main")]

    assert types.count(3) > 0.9 * len(types)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"createdBefore": "2025-09-01 00:00:00"}, "createdBefore requires createdAfter"),
        ({"modifiedBefore": "2025-09-01 00:00:00"}, "modifiedBefore requires modifiedAfter"),
        (
            {"createdAfter": "2025-07-01 00:00:00", "createdBefore": "2025-08-01 00:00:01"},
            "at most one month",
        ),
        ({"createdAfter": "yesterday"}, "expected YYYY-mm-dd HH:ii:ss"),
    ],
)
def test_order_date_windows_follow_emags_rules(sandbox, parameters, message):
    decoded = call(sandbox, "main", "order/read", parameters).json()

    assert decoded["isError"] is True
    assert message in decoded["messages"][0]


def test_order_count_needs_both_ends_of_a_window(sandbox):
    decoded = call(sandbox, "main", "order/count", {"modifiedAfter": "2025-09-01 00:00:00"}).json()

    assert decoded["isError"] is True


def test_a_one_month_window_is_accepted_and_filters_by_local_modified_time(sandbox):
    window = {"modifiedAfter": "2025-08-15 09:30:00", "modifiedBefore": "2025-09-15 09:30:00"}

    read = results(call(sandbox, "main", "order/read", window))
    counted = results(call(sandbox, "main", "order/count", window))

    wanted = [
        order["id"]
        for order in sandbox.orders("main")
        if order["type"] == 3
        and window["modifiedAfter"] <= order["modified"] <= window["modifiedBefore"]
    ]
    assert wanted
    assert [order["id"] for order in read] == wanted[:100]
    assert counted["noOfItems"] == len(wanted)


def test_orders_filter_by_status_list_payment_mode_and_completeness(sandbox):
    parameters = {"status": [1, 2], "payment_mode_id": [1, 3], "is_complete": 1}

    read = results(call(sandbox, "main", "order/read", parameters, encoding="form"))

    wanted = [
        order["id"]
        for order in sandbox.orders("main")
        if order["type"] == 3
        and order["status"] in (1, 2)
        and order["payment_mode_id"] in (1, 3)
        and order["is_complete"] == 1
    ]
    assert [order["id"] for order in read] == wanted
    assert {order["status"] for order in read} == {1, 2}


def test_order_dates_are_in_the_accounts_time_zone():
    sandbox = Sandbox(
        offers={"main": 10},
        orders={"main": 5},
        accounts=["main"],
        clock=lambda: FIXED_NOW,
        timezones={"main": "Europe/Bucharest"},
        rate_limit=False,
    )

    added = sandbox.drift("main", changes=10)["main"]["orders"]["added"]

    dates = {order["id"]: order["date"] for order in sandbox.orders("main")}
    # 09:30 UTC is 12:30 in Bucharest (summer time, UTC+3); new orders are up to 5 minutes old.
    assert all(
        "2025-09-15 12:25:00" <= dates[order_id] <= "2025-09-15 12:30:00" for order_id in added
    )


def test_acknowledge_moves_a_new_order_to_in_progress_once(sandbox):
    new_order = next(order for order in sandbox.orders("main") if order["status"] == 1)

    first = call(sandbox, "main", f"order/acknowledge/{new_order['id']}")
    again = call(sandbox, "main", f"order/acknowledge/{new_order['id']}")

    assert first.json()["isError"] is False
    assert again.json()["isError"] is False
    acknowledged = next(order for order in sandbox.orders("main") if order["id"] == new_order["id"])
    assert acknowledged["status"] == 2
    assert acknowledged["modified"] == "2025-09-15 12:30:00"


def test_acknowledging_a_cancelled_or_unknown_order_is_an_error(sandbox):
    cancelled = next(order for order in sandbox.orders("main") if order["status"] == 0)

    assert call(sandbox, "main", f"order/acknowledge/{cancelled['id']}").json()["isError"] is True
    assert call(sandbox, "main", "order/acknowledge/123").json()["isError"] is True


# --- Drift ------------------------------------------------------------------------------------


def test_drift_reports_offer_changes_that_reads_then_show(sandbox):
    before = {offer["id"]: offer for offer in sandbox.offers("main")}
    call(sandbox, "main", "product_offer/read")  # warm the page cache

    changed = sandbox.drift("main", changes=20, seed=5)["main"]["offers"]

    after = {offer["id"]: offer for offer in sandbox.offers("main")}
    assert all(offer_id not in after for offer_id in changed["removed"])
    assert all(offer_id not in before and offer_id > max(before) for offer_id in changed["added"])
    assert all(after[i]["sale_price"] != before[i]["sale_price"] for i in changed["price_changed"])
    assert all(
        after[i]["general_stock"] != before[i]["general_stock"] for i in changed["stock_changed"]
    )
    assert all(after[i]["status"] != before[i]["status"] for i in changed["status_changed"])
    assert sum(len(ids) for ids in changed.values()) == 20
    read_ids = []
    for page in (1, 2):
        read_ids += [
            offer["id"]
            for offer in results(call(sandbox, "main", "product_offer/read", {"currentPage": page}))
        ]
    assert read_ids == sorted(after)


def test_drift_is_deterministic(sandbox):
    twin = Sandbox(
        offers={"main": 150, "fbe": 120}, orders={"main": 120, "fbe": 80}, clock=lambda: FIXED_NOW
    )

    assert sandbox.drift(changes=15) == twin.drift(changes=15)
    assert sandbox.drift(changes=15) == twin.drift(changes=15)
    assert sandbox.offers("fbe") == twin.offers("fbe")


def test_order_drift_adds_new_orders_and_follows_the_status_matrix(sandbox):
    seen_moves = set()
    for round_number in range(6):
        before = {order["id"]: order for order in sandbox.orders("main")}
        changed = sandbox.drift("main", changes=40, seed=round_number)["main"]["orders"]
        after = {order["id"]: order for order in sandbox.orders("main")}

        assert all(after[order_id]["status"] == 1 for order_id in changed["added"])
        for order_id in changed["status_changed"] + changed["cancelled"]:
            old, new = before[order_id]["status"], after[order_id]["status"]
            assert new in ALLOWED_TRANSITIONS[old]
            assert after[order_id]["modified"] == "2025-09-15 12:30:00"
            seen_moves.add((old, new))
        assert all(after[order_id]["status"] == 0 for order_id in changed["cancelled"])

    assert (1, 0) in seen_moves  # some new orders are cancelled before being acknowledged


# --- Faults, through the responses adapter ----------------------------------------------------


@pytest.fixture
def mocked(sandbox):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock, sandbox, BASE_URL)
        yield sandbox


def read_offers_over_requests(account="main", **kwargs):
    return requests.post(
        f"{api_url(BASE_URL, account)}/product_offer/read",
        data={"data[currentPage]": 1},
        auth=sandbox_credentials(account),
        timeout=5,
        **kwargs,
    )


def test_the_responses_adapter_serves_the_sandbox(mocked):
    response = read_offers_over_requests()

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert len(response.json()["results"]) == 100


@pytest.mark.parametrize(
    ("kind", "status"),
    [("http_500", 500), ("http_502", 502), ("http_503", 503), ("rate_limit", 429)],
)
def test_injected_http_errors_are_served_once(mocked, kind, status):
    mocked.inject_fault("main", kind)

    assert read_offers_over_requests().status_code == status
    assert read_offers_over_requests().status_code == 200


@pytest.mark.parametrize("kind", ["malformed_json", "truncated_json"])
def test_injected_damaged_bodies_do_not_decode(mocked, kind):
    mocked.inject_fault("main", kind)

    response = read_offers_over_requests()

    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("is_error", "ERROR: An unexpected error occurred. Please try again later."),
        ("auth", "ERROR: You are not allowed to use this API"),
        ("ip_whitelist", "ERROR: Invalid vendor ip [127.0.0.1]"),
    ],
)
def test_injected_is_error_answers_come_with_http_200(mocked, kind, message):
    mocked.inject_fault("main", kind)

    response = read_offers_over_requests()

    assert response.status_code == 200
    assert response.json() == {"isError": True, "messages": [message], "results": []}


@pytest.mark.parametrize(
    ("kind", "exception"),
    [
        ("timeout", requests.exceptions.ReadTimeout),
        ("connection_reset", requests.exceptions.ConnectionError),
    ],
)
def test_injected_transport_faults_raise_what_requests_raises(mocked, kind, exception):
    mocked.inject_fault("main", kind)

    with pytest.raises(exception):
        read_offers_over_requests()
    assert read_offers_over_requests().status_code == 200


def test_a_persistent_fault_lasts_until_cleared(mocked):
    mocked.inject_fault("main", "http_503", count=None)

    assert [read_offers_over_requests().status_code for _ in range(3)] == [503] * 3
    mocked.clear_faults()
    assert read_offers_over_requests().status_code == 200


def test_a_fault_can_target_one_account_and_action(mocked):
    mocked.inject_fault("fbe", "http_500", action="product_offer/count")

    assert read_offers_over_requests("fbe").status_code == 200
    assert read_offers_over_requests("main").status_code == 200
    assert call(mocked, "fbe", "product_offer/count").status == 500


def test_an_injected_html_page_comes_with_http_200(mocked):
    mocked.inject_fault("main", "html_200")

    response = read_offers_over_requests()

    assert response.status_code == 200
    assert response.text.startswith("<!DOCTYPE html>")
    assert read_offers_over_requests().json()["isError"] is False


def served_kinds(sandbox, requests_sent=400, account="main"):
    outcomes = []
    for _ in range(requests_sent):
        try:
            response = read_offers_over_requests(account)
            outcomes.append((response.status_code, response.content[:40]))
        except requests.RequestException as error:
            outcomes.append((0, type(error).__name__))
    return outcomes


@pytest.fixture
def unlimited_mocked():
    sandbox = Sandbox(offers={"main": 150, "fbe": 5}, rate_limit=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock, sandbox, BASE_URL)
        yield sandbox


def test_random_faults_hit_their_share_of_requests_with_every_transient_kind(unlimited_mocked):
    mocked = unlimited_mocked
    mocked.set_random_faults(0.15, seed=7, slow_seconds=0.0)

    served_kinds(mocked, 300, "main")
    served_kinds(mocked, 100, "fbe")

    served = mocked.faults_served()
    assert 0.10 * 400 < sum(served.values()) < 0.20 * 400
    assert set(served) == {str(kind) for kind in TRANSIENT_KINDS}
    assert not {"auth", "ip_whitelist", "invalid_request"} & set(served)
    stats = mocked.stats()
    assert stats["main"]["total"]["faults"] + stats["fbe"]["total"]["faults"] == sum(
        served.values()
    )


def test_random_faults_are_the_same_for_the_same_seed_and_stop_when_cleared(sandbox):
    def outcomes(seed):
        fresh = Sandbox(seed=sandbox.seed, offers={"main": 150, "fbe": 5}, rate_limit=False)
        fresh.set_random_faults(0.3, seed=seed, kinds=["http_502", "is_error", "html_200"])
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            register(mock, fresh, BASE_URL)
            first = served_kinds(fresh, 40)
            fresh.clear_faults()
            after_clear = served_kinds(fresh, 20)
        return first, after_clear, fresh.faults_served()

    first, after_clear, served = outcomes(seed=1)

    assert first == outcomes(seed=1)[0]
    assert first != outcomes(seed=2)[0]
    assert set(served) <= {"http_502", "is_error", "html_200"}
    assert all(status == 200 and b'"isError":false' in body for status, body in after_clear)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_a_random_fault_rate_outside_0_to_1_is_refused(sandbox, rate):
    with pytest.raises(ValueError, match="between 0 and 1"):
        sandbox.set_random_faults(rate)


def test_an_unknown_fault_kind_is_refused(sandbox):
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox.inject_fault("main", "gremlins")


def test_stats_count_requests_429s_and_faults_per_action(limited):
    limited.inject_fault("main", "http_502")
    for _ in range(4):
        call(limited, "main", "product_offer/read")
    call(limited, "fbe", "vat/read")

    stats = limited.stats()

    assert stats["main"]["actions"]["product_offer/read"] == {
        "requests": 4,
        "rate_limited": 1,
        "faults": 1,
    }
    assert stats["fbe"]["total"] == {"requests": 1, "rate_limited": 0, "faults": 0}
    json.dumps(stats)
    limited.reset_stats()
    assert limited.stats()["main"]["total"]["requests"] == 0


# --- The real HTTP adapter --------------------------------------------------------------------


@pytest.fixture
def served(sandbox):
    running = start_in_thread(sandbox)
    yield running
    running.stop()


def test_the_http_server_serves_the_api_with_keep_alive(served):
    with requests.Session() as session:
        pages = [
            session.post(
                f"{served.api_url('main')}/product_offer/read",
                data={"data[currentPage]": page},
                auth=sandbox_credentials("main"),
                timeout=5,
            )
            for page in (1, 2)
        ]

    assert [response.status_code for response in pages] == [200, 200]
    assert len(pages[0].json()["results"]) + len(pages[1].json()["results"]) == 150
    assert pages[0].headers["X-RateLimit-Limit-3second"] == "3"


def test_the_http_server_acts_out_transport_faults(served):
    url = f"{served.api_url('main')}/product_offer/read"
    requests.post(
        f"{served.url}/_sandbox/faults",
        json={"account": "main", "kind": "connection_reset"},
        timeout=5,
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url, auth=sandbox_credentials("main"), timeout=5)

    requests.post(
        f"{served.url}/_sandbox/faults", json={"kind": "timeout", "slow_seconds": 0.5}, timeout=5
    )
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(url, auth=sandbox_credentials("main"), timeout=0.1)

    requests.post(
        f"{served.url}/_sandbox/faults", json={"kind": "http_503", "count": None}, timeout=5
    )
    assert requests.post(url, auth=sandbox_credentials("main"), timeout=5).status_code == 503
    requests.delete(f"{served.url}/_sandbox/faults", timeout=5)
    assert requests.post(url, auth=sandbox_credentials("main"), timeout=5).status_code == 200


def test_the_control_endpoints_report_and_steer_the_sandbox(served, sandbox):
    stats = requests.get(f"{served.url}/_sandbox/stats", timeout=5).json()
    drifted = requests.post(
        f"{served.url}/_sandbox/drift", json={"account": "fbe", "changes": 10, "seed": 3}, timeout=5
    ).json()
    offers = requests.get(f"{served.url}/_sandbox/offers/fbe", timeout=5).json()
    orders = requests.get(f"{served.url}/_sandbox/orders/fbe", timeout=5).json()
    bad = requests.post(f"{served.url}/_sandbox/faults", json={"kind": "gremlins"}, timeout=5)

    assert stats["main"]["total"]["requests"] == 0
    assert set(drifted) == {"fbe"}
    assert offers == sandbox.offers("fbe")
    assert orders == sandbox.orders("fbe")
    assert bad.status_code == 400
    assert requests.post(f"{served.url}/_sandbox/stats/reset", timeout=5).json() == {"ok": True}

    random_faults = requests.post(
        f"{served.url}/_sandbox/faults/random",
        json={"rate": 1, "seed": 4, "kinds": ["html_200"]},
        timeout=5,
    ).json()
    page = requests.post(
        f"{served.api_url('main')}/product_offer/read", auth=sandbox_credentials("main"), timeout=5
    )
    served_faults = requests.get(f"{served.url}/_sandbox/faults/served", timeout=5).json()
    bad_rate = requests.post(f"{served.url}/_sandbox/faults/random", json={"rate": 3}, timeout=5)
    requests.delete(f"{served.url}/_sandbox/faults", timeout=5)

    assert random_faults["random"]["kinds"] == ["html_200"]
    assert page.status_code == 200 and page.text.startswith("<!DOCTYPE html>")
    assert served_faults == {"served": {"html_200": 1}}
    assert bad_rate.status_code == 400
    assert requests.get(f"{served.url}/_sandbox/faults", timeout=5).json()["random"] is None
