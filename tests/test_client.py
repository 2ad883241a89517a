"""The eMAG client: request shape, envelope parsing, typed errors, retries and call reports."""

import base64
import json
import zoneinfo
from datetime import UTC, datetime

import pytest
import requests
import responses

from emag_sync.accounts import EmagAccount
from emag_sync.client import (
    EmagApiError,
    EmagAuthError,
    EmagCall,
    EmagClient,
    EmagConnectionError,
    EmagInvalidRequest,
    EmagInvalidResponse,
    EmagIpNotWhitelisted,
    EmagRateLimited,
    EmagServerError,
    EmagTimeout,
    PageCount,
    Permanence,
    permanence_of,
)

API = "https://emag.test/api-3"
PASSWORD = "s3cret-Pa55word"
USERNAME = "seller@example.com"
BASIC_TOKEN = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
OFFERS_READ = f"{API}/product_offer/read"
OFFERS_COUNT = f"{API}/product_offer/count"


def envelope(results=None, *, is_error=False, messages=()):
    return {"isError": is_error, "messages": list(messages), "results": results}


class RecordingLimiter:
    """A rate limiter that never waits and remembers what it was asked for."""

    def __init__(self):
        self.acquired: list[tuple[str, str]] = []

    def acquire(self, account: str, bucket: str) -> float:
        self.acquired.append((account, bucket))
        return 0.0


@pytest.fixture
def account():
    return EmagAccount(
        name="main",
        username=USERNAME,
        password=PASSWORD,
        api_url=API,
        timezone=zoneinfo.ZoneInfo("Europe/Bucharest"),
        fulfillment="seller",
    )


@pytest.fixture
def limiter():
    return RecordingLimiter()


@pytest.fixture
def calls():
    return []


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(account, limiter, calls, sleeps):
    with EmagClient(
        account,
        rate_limiter=limiter,
        timeout=5,
        max_retries=3,
        on_call=calls.append,
        sleep=sleeps.append,
        retry_max_wait=8,
    ) as emag:
        yield emag


@pytest.fixture
def api():
    # Unregistered URLs raise ConnectionError: no test can reach the internet.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def assert_no_secret(*texts):
    for text in texts:
        assert PASSWORD not in text
        assert BASIC_TOKEN not in text


# --- request shape ----------------------------------------------------------------------------


def test_read_offers_posts_flat_json_with_paging_filters_auth_and_a_timeout(api, client, limiter):
    api.post(OFFERS_READ, json=envelope([{"id": 1}, {"id": 2}]))

    offers = client.read_offers(page=2, per_page=50, status=1, part_number="SKU-1")

    assert offers == [{"id": 1}, {"id": 2}]
    request = api.calls[0].request
    assert json.loads(request.body) == {
        "status": 1,
        "part_number": "SKU-1",
        "currentPage": 2,
        "itemsPerPage": 50,
    }
    assert request.headers["Authorization"] == f"Basic {BASIC_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("MagFlow-eMAG-Sync/")
    assert request.req_kwargs["timeout"] == (5.0, 5.0)
    assert limiter.acquired == [("main", "default")]


def test_read_orders_counts_against_the_orders_bucket_and_sends_dates_in_account_time(
    api, client, limiter
):
    api.post(f"{API}/order/read", json=envelope([]))

    client.read_orders(
        page=1, modifiedAfter=datetime(2025, 1, 15, 10, 0, tzinfo=UTC), is_complete=True
    )

    body = json.loads(api.calls[0].request.body)
    assert body["modifiedAfter"] == "2025-01-15 12:00:00"
    assert body["is_complete"] == 1
    assert body["itemsPerPage"] == 100
    assert limiter.acquired == [("main", "orders")]


def test_a_naive_datetime_filter_is_refused(client):
    with pytest.raises(ValueError, match="aware datetime"):
        client.read_orders(page=1, modifiedAfter=datetime(2025, 1, 15, 10, 0))


@pytest.mark.parametrize("per_page", [0, 101, -5])
def test_per_page_must_be_between_1_and_100(client, per_page):
    with pytest.raises(ValueError, match="per_page"):
        client.read_offers(page=1, per_page=per_page)


def test_page_must_be_positive(client):
    with pytest.raises(ValueError, match="page"):
        client.read_orders(page=0)


def test_acknowledge_posts_the_order_id_in_the_path(api, client, limiter):
    api.post(f"{API}/order/acknowledge/3115229985", json=envelope([]))

    assert client.acknowledge_order(3115229985) is None
    assert limiter.acquired == [("main", "orders")]


def test_read_vat_returns_the_rates(api, client):
    api.post(f"{API}/vat/read", json=envelope([{"vat_id": 1, "vat_rate": 0.19}]))

    assert client.read_vat() == [{"vat_id": 1, "vat_rate": 0.19}]


# --- counts -----------------------------------------------------------------------------------


def test_count_parses_numbers_sent_as_strings(api, client):
    api.post(
        OFFERS_COUNT,
        json=envelope({"noOfItems": "250", "noOfPages": "3", "itemsPerPage": "100"}),
    )

    assert client.count_offers(status=1) == PageCount(items=250, pages=3, per_page=100)
    assert json.loads(api.calls[0].request.body) == {"status": 1}


def test_count_orders_defaults_items_per_page_when_emag_omits_it(api, client):
    api.post(f"{API}/order/count", json=envelope({"noOfItems": 7, "noOfPages": 1}))

    assert client.count_orders(status=1) == PageCount(items=7, pages=1, per_page=100)


@pytest.mark.parametrize(
    "results",
    [[], {"noOfItems": 3}, {"noOfItems": "many", "noOfPages": 1}],
    ids=["list", "no-pages", "not-a-number"],
)
def test_count_needs_an_object_with_whole_numbers(api, client, results):
    api.post(OFFERS_COUNT, json=envelope(results))

    with pytest.raises(EmagInvalidResponse):
        client.count_offers()


# --- envelope and error mapping ---------------------------------------------------------------


def test_an_invalid_request_on_http_200_raises_with_emags_messages_and_is_not_retried(
    api, client, calls
):
    api.post(
        OFFERS_READ,
        json=envelope(
            [], is_error=True, messages=["Invalid status filter", {"message": "Bad page"}]
        ),
    )

    with pytest.raises(EmagInvalidRequest, match="Invalid status filter; Bad page") as raised:
        client.read_offers(page=1)

    assert not raised.value.retryable and not raised.value.retryable_on_read
    assert len(api.calls) == 1
    assert calls[0].ok is False
    assert calls[0].attempts == 1
    assert "Invalid status filter" in calls[0].error


def test_a_missing_is_error_key_is_a_failure(api, client):
    api.post(OFFERS_READ, json={"results": []})

    with pytest.raises(EmagInvalidResponse, match="isError"):
        client.read_offers(page=1)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, envelope([], is_error=True, messages=["ERROR: You are not allowed to use this API"])),
        (401, {"message": "Unauthorized"}),
        (403, envelope([], is_error=True, messages=["You are not allowed to use this API."])),
    ],
    ids=["isError", "401", "403"],
)
def test_bad_credentials_raise_auth_error_and_are_not_retried(api, client, status, body):
    api.post(OFFERS_READ, json=body, status=status)

    with pytest.raises(EmagAuthError, match="credentials of account 'main' refused"):
        client.read_offers(page=1)

    assert len(api.calls) == 1


def test_an_unlisted_ip_raises_ip_not_whitelisted(api, client):
    api.post(
        OFFERS_READ,
        json=envelope([], is_error=True, messages=["ERROR: Invalid vendor ip [203.0.113.7]"]),
    )

    with pytest.raises(EmagIpNotWhitelisted, match=r"not whitelisted.*203\.0\.113\.7"):
        client.read_offers(page=1)

    assert len(api.calls) == 1


def test_a_body_that_is_not_json_raises_invalid_response_with_an_excerpt(api, client):
    api.post(OFFERS_READ, body="<html><body>Service maintenance</body></html>", status=200)

    with pytest.raises(EmagInvalidResponse, match="not JSON.*Service maintenance"):
        client.read_offers(page=1)


@pytest.mark.parametrize(
    "body",
    [
        '{"isError": false, "messages": [], "results": [{"id": 1, "name": "Cab',
        '{"isError": false, "messages": [], "results": [{"id": 1}',
    ],
    ids=["inside-a-string", "between-items"],
)
def test_a_truncated_body_raises_invalid_response(api, client, body):
    api.post(OFFERS_READ, body=body, content_type="application/json")

    with pytest.raises(EmagInvalidResponse, match="truncated"):
        client.read_offers(page=1)


@pytest.mark.parametrize("results", [{"id": 1}, None, "offers", [1, 2]])
def test_read_results_must_be_a_list_of_objects(api, client, results):
    api.post(OFFERS_READ, json=envelope(results))

    with pytest.raises(EmagInvalidResponse, match="list of objects"):
        client.read_offers(page=1)


def test_a_404_raises_api_error_with_emags_message(api, client):
    api.post(OFFERS_READ, json={"message": "Invalid URL"}, status=404)

    with pytest.raises(EmagApiError, match="Invalid URL") as raised:
        client.read_offers(page=1)

    assert raised.value.status_code == 404
    assert len(api.calls) == 1


# --- retries ----------------------------------------------------------------------------------


def test_a_429_is_retried_and_reported_as_throttled(api, client, calls, limiter, sleeps):
    api.post(OFFERS_READ, json={"message": "API rate limit exceeded"}, status=429)
    api.post(OFFERS_READ, json=envelope([{"id": 1}]))

    assert client.read_offers(page=1) == [{"id": 1}]

    assert len(api.calls) == 2
    # Every attempt waits for the shared budget, the retry included.
    assert limiter.acquired == [("main", "default")] * 2
    assert len(sleeps) == 1
    [call] = calls
    assert (call.ok, call.status_code, call.attempts, call.throttled, call.error) == (
        True,
        200,
        2,
        1,
        "",
    )


@pytest.mark.parametrize(
    "failure",
    [
        {"json": {"message": "Bad gateway"}, "status": 502},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"body": requests.exceptions.ConnectTimeout("connect timed out")},
        {"body": requests.ConnectionError("Connection refused")},
        {"body": requests.exceptions.ChunkedEncodingError("connection broken")},
    ],
    ids=["502", "read-timeout", "connect-timeout", "connection-refused", "broken-body"],
)
def test_transient_failures_are_retried_until_success(api, client, calls, failure):
    api.post(OFFERS_READ, **failure)
    api.post(OFFERS_READ, json=envelope([{"id": 1}]))

    assert client.read_offers(page=1) == [{"id": 1}]

    assert len(api.calls) == 2
    assert calls[0].ok and calls[0].attempts == 2 and calls[0].throttled == 0


def test_retries_give_up_after_max_retries_and_raise_the_last_error(api, client, calls, sleeps):
    for _ in range(3):
        api.post(OFFERS_READ, json={"message": "Bad gateway"}, status=502)
    api.post(OFFERS_READ, body="upstream timed out", status=504)

    with pytest.raises(EmagServerError, match="HTTP 504") as raised:
        client.read_offers(page=1)

    assert raised.value.retryable and raised.value.status_code == 504
    assert len(api.calls) == 4  # max_retries=3, so 1 + 3 attempts
    # Full jitter: each wait is drawn from [0, min(cap, 2^(n-1))].
    assert len(sleeps) == 3
    assert all(0 <= wait <= min(8, 2**n) for n, wait in enumerate(sleeps))
    [call] = calls
    assert (call.ok, call.status_code, call.attempts) == (False, 504, 4)
    assert "HTTP 504" in call.error


@pytest.mark.parametrize(
    ("failure", "error", "message"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), EmagTimeout, "timed out waiting"),
        (requests.ConnectionError("Connection refused"), EmagConnectionError, "refused"),
    ],
    ids=["timeout", "connection"],
)
def test_network_failures_that_persist_raise_typed_errors(api, client, failure, error, message):
    for _ in range(4):
        api.post(OFFERS_READ, body=failure)

    with pytest.raises(error, match=message):
        client.read_offers(page=1)

    assert len(api.calls) == 4


@pytest.mark.parametrize(
    "failure",
    [
        {"json": envelope([], is_error=True, messages=["Internal error, please retry"])},
        {"body": "<html><body><h1>502 Bad Gateway</h1></body></html>", "status": 200},
        {"body": '{"isError": false, "messages": [], "results": [{"id": 1', "status": 200},
        {"body": '<br />\n<b>Notice</b>: Undefined index<br />\n{"isError":false,', "status": 200},
    ],
    ids=["is-error", "html-on-200", "cut-off-json", "notice-before-json"],
)
@pytest.mark.parametrize("url", [OFFERS_READ, OFFERS_COUNT], ids=["read", "count"])
def test_a_read_retries_every_transient_answer_until_success(api, client, calls, failure, url):
    api.post(url, **failure)
    api.post(
        url, json=envelope([{"id": 1}] if url == OFFERS_READ else {"noOfItems": 1, "noOfPages": 1})
    )

    if url == OFFERS_READ:
        assert client.read_offers(page=1) == [{"id": 1}]
    else:
        assert client.count_offers().items == 1

    assert len(api.calls) == 2
    assert calls[0].ok and calls[0].attempts == 2


# One sample of every permanent message eMAG (or its simulator) sends, per kind.
PERMANENT_SAMPLES = [
    ("ERROR: You are not allowed to use this API", EmagAuthError),
    ("You are not allowed to use this API.", EmagAuthError),
    ("ERROR: Invalid vendor ip [203.0.113.7]", EmagIpNotWhitelisted),
    ("Maximum input vars of 4000 exceeded", EmagInvalidRequest),
    ("Reading products is limited to maximum 100 elements", EmagInvalidRequest),
    ("Invalid value for currentPage: it must be between 1 and 65535", EmagInvalidRequest),
    ("Invalid date for createdAfter: expected YYYY-mm-dd HH:ii:ss", EmagInvalidRequest),
    ("Validation errors in your request", EmagInvalidRequest),
    ("createdBefore requires createdAfter", EmagInvalidRequest),
    ("modifiedAfter requires modifiedBefore when counting orders", EmagInvalidRequest),
    (
        "The interval between createdAfter and createdBefore must be at most one month",
        EmagInvalidRequest,
    ),
]


@pytest.mark.parametrize(
    ("message", "error"), PERMANENT_SAMPLES, ids=[m for m, _ in PERMANENT_SAMPLES]
)
def test_a_permanent_message_ends_a_read_at_once_with_no_retry(
    api, client, calls, sleeps, message, error
):
    api.post(OFFERS_READ, json=envelope([], is_error=True, messages=[message]))
    api.post(OFFERS_READ, json=envelope([{"id": 1}]))

    with pytest.raises(error) as raised:
        client.read_offers(page=1)

    assert message.split(":")[-1].strip()[:20] in str(raised.value)
    assert not raised.value.retryable_on_read
    assert len(api.calls) == 1 and sleeps == []
    assert calls[0].attempts == 1


def test_every_permanent_message_has_a_sample_of_its_kind():
    kinds = {permanence_of(message) for message, _ in PERMANENT_SAMPLES}

    assert kinds == set(Permanence)
    assert permanence_of("Internal error, please retry") is None
    assert permanence_of("ERROR: An unexpected error occurred. Please try again later.") is None


@pytest.mark.parametrize("status", [400, 404, 405])
def test_a_4xx_on_a_read_is_not_retried(api, client, status):
    api.post(OFFERS_READ, json={"message": "Something is wrong"}, status=status)

    with pytest.raises(EmagApiError):
        client.read_offers(page=1)

    assert len(api.calls) == 1


def test_acknowledge_retries_transport_failures_but_not_an_is_error(api, client):
    url = f"{API}/order/acknowledge/42"
    api.post(url, json={"message": "Bad gateway"}, status=502)
    api.post(url, json=envelope([]))
    client.acknowledge_order(42)
    assert len(api.calls) == 2

    api.post(f"{API}/order/acknowledge/43", json=envelope([], is_error=True, messages=["Oops"]))
    with pytest.raises(EmagApiError, match="Oops"):
        client.acknowledge_order(43)
    assert len(api.calls) == 3


def test_retries_stop_at_the_deadline_and_never_sleep_past_it(account, limiter, api, calls):
    sleeps: list[float] = []
    api.post(OFFERS_READ, json={"message": "Bad gateway"}, status=502)
    emag = EmagClient(
        account,
        rate_limiter=limiter,
        max_retries=1000,
        retry_max_wait=8,
        retry_deadline=20,
        on_call=calls.append,
        sleep=sleeps.append,
    )

    with pytest.raises(EmagServerError):
        emag.read_offers(page=1)

    assert 19 < sum(sleeps) <= 20
    assert len(api.calls) < 1001
    assert calls[0].attempts == len(api.calls) == len(sleeps) + 1


def test_retry_after_is_honoured(api, client, sleeps, calls):
    api.post(
        OFFERS_READ,
        json={"message": "API rate limit exceeded"},
        status=429,
        headers={"Retry-After": "7"},
    )
    api.post(OFFERS_READ, json=envelope([]))

    client.read_offers(page=1)

    assert sleeps == [7.0]
    assert calls[0].waited_ms == 7000


def test_a_client_without_retries_raises_the_first_429(api, account, limiter):
    api.post(OFFERS_READ, json={"message": "API rate limit exceeded"}, status=429)
    emag = EmagClient(account, rate_limiter=limiter, max_retries=0, sleep=lambda _: None)

    with pytest.raises(EmagRateLimited):
        emag.read_offers(page=1)

    assert len(api.calls) == 1


# --- reports and secrets ----------------------------------------------------------------------


def test_each_logical_call_is_reported_once_with_an_aware_utc_start(api, client, calls):
    api.post(OFFERS_READ, json=envelope([]))

    client.read_offers(page=1)

    [call] = calls
    assert isinstance(call, EmagCall)
    assert (call.account, call.resource, call.action) == ("main", "product_offer", "read")
    assert call.started_at.tzinfo is UTC
    assert call.latency_ms >= 0


def test_a_failing_call_report_does_not_fail_the_call(api, account, limiter):
    def broken_log(call):
        raise RuntimeError("log table is gone")

    api.post(OFFERS_READ, json=envelope([{"id": 1}]))
    emag = EmagClient(account, rate_limiter=limiter, on_call=broken_log)

    assert emag.read_offers(page=1) == [{"id": 1}]


@pytest.mark.parametrize(
    "response",
    [
        {"json": envelope([], is_error=True, messages=[f"Wrong password {PASSWORD}"])},
        {"body": f"<html>Authorization: Basic {BASIC_TOKEN} pw={PASSWORD}</html>"},
        {"body": f"Gateway error for {PASSWORD}", "status": 502},
        {"json": {"message": f"denied {PASSWORD}"}, "status": 403},
        {"body": requests.ConnectionError(f"refused with Basic {BASIC_TOKEN}")},
    ],
    ids=["isError", "not-json", "502", "403", "connection-error"],
)
def test_the_password_never_appears_in_errors_or_call_reports(api, client, calls, response):
    for _ in range(4):
        api.post(OFFERS_READ, **response)

    with pytest.raises(Exception) as raised:
        client.read_offers(page=1)

    assert_no_secret(str(raised.value), repr(raised.value), calls[0].error, repr(calls[0]))
    assert_no_secret(repr(client.account))


# --- test_connection --------------------------------------------------------------------------


def test_connection_check_reports_the_offer_count(api, client):
    api.post(OFFERS_COUNT, json=envelope({"noOfItems": "1234", "noOfPages": "13"}))

    check = client.test_connection()

    assert check.ok and check.total_products == 1234
    assert "1234 offers" in check.message
    assert check.latency_ms >= 0


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            {"json": envelope([], is_error=True, messages=["You are not allowed to use this API"])},
            "Bad credentials",
        ),
        (
            {"json": envelope([], is_error=True, messages=["ERROR: Invalid vendor ip [1.2.3.4]"])},
            "IP not whitelisted",
        ),
        ({"body": requests.ConnectionError("Name or service not known")}, "Unreachable"),
        ({"body": requests.exceptions.ReadTimeout("read timed out")}, "Timeout"),
        ({"json": {"message": "Bad gateway"}, "status": 502}, "eMAG is failing"),
        ({"body": "<html>login</html>"}, "Unexpected answer"),
    ],
    ids=["credentials", "ip", "unreachable", "timeout", "5xx", "not-json"],
)
def test_connection_check_turns_failures_into_clear_messages(api, client, response, message):
    api.post(OFFERS_COUNT, **response)

    check = client.test_connection()

    assert not check.ok and check.total_products is None
    assert check.message.startswith(message)
    assert_no_secret(check.message)
    # A person is waiting: the check makes one attempt only.
    assert len(api.calls) == 1


def test_connection_check_without_credentials_makes_no_call(api, account, limiter):
    emag = EmagClient(
        EmagAccount(
            name="fbe",
            username="",
            password="",
            api_url=API,
            timezone=account.timezone,
            fulfillment="emag",
        ),
        rate_limiter=limiter,
    )

    check = emag.test_connection()

    assert not check.ok
    assert "EMAG_FBE_USERNAME" in check.message
    assert len(api.calls) == 0
