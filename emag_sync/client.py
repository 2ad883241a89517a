"""The thin typed client of the eMAG Marketplace API: one HTTP session per account.

Every call POSTs flat JSON to `{api_url}/{resource}/{action}` (docs/emag-api.md §1.2,
§1.4), waits for the shared rate limiter before each attempt, retries transient failures
within a bound in attempts and in time, and reports one `EmagCall` for the request log.
Reads are idempotent, so every failure of a read is retried except the permanent ones
(`PERMANENT_MESSAGES`). Offer writes (light offer/save, PATCH offer_stock) are retried only
when eMAG certainly did not carry them out (a 429, a connection never made); any other failure
leaves their outcome unknown and raises `EmagWriteUncertain`, never a blind second send.
Acknowledging an order (harmless to repeat) retries throttling, 5xx and broken transports. eMAG's failures become
the typed errors below; their messages never carry the password or the Authorization header.
The client knows nothing of the database.
"""

import base64
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
import requests
import urllib3
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from emag_sync.accounts import EmagAccount
from emag_sync.observability import metrics
from emag_sync.payloads.offers import PRICE_FIELDS
from emag_sync.ratelimit import RateLimiter, bucket_for, get_rate_limiter

logger = logging.getLogger(__name__)

# eMAG serves at most 100 items per page (§3.2).
MAX_PER_PAGE = 100
# A TCP/TLS handshake slower than this means an unreachable host, not a busy eMAG, so it
# fails well before the (longer) read timeout.
CONNECT_TIMEOUT = 10.0
# eMAG documents no Retry-After (§2.2); if some gateway sends one, honour it, but never let a
# broken header park a worker for hours.
RETRY_AFTER_CEILING = 300.0
# Long enough to recognise an HTML error page or a cut-off body, short enough for a log row.
EXCERPT_CHARS = 200
# eMAG's validation errors can be many; keep them readable but bounded.
MESSAGE_CHARS = 1000
# Concurrent page fetches share one session; keep their connections alive.
POOL_SIZE = 16
# The stream a page read belongs to, for the pages-in-flight gauge.
PAGE_STREAMS = {"product_offer": "offers", "order": "orders"}
USER_AGENT = f"MagFlow-eMAG-Sync/0.1 python-requests/{requests.__version__}"
# eMAG's date filters: local time of the account's platform, no zone (§1.4, §5.3).
EMAG_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Actions that only read: sending one again changes nothing at eMAG.
READ_ACTIONS = frozenset({"read", "count"})
# Reference §1.4, §3.5: a light offer/save takes at most 50 offers.
MAX_OFFERS_PER_SAVE = 50
# Reference §3.4: stock 0-65535 per warehouse.
MAX_STOCK = 65535


class Permanence(StrEnum):
    CREDENTIALS = "credentials"
    IP_NOT_WHITELISTED = "ip_not_whitelisted"
    INVALID_REQUEST = "invalid_request"


# eMAG's messages that no retry can change, as lower-case text the message contains, with
# where each is documented. The first match decides; an `isError` message matching none
# of them is taken as transient on a read ("Internal error, please retry").
PERMANENT_MESSAGES: tuple[tuple[str, Permanence, str], ...] = (
    # docs/emag-api.md §1.3: "ERROR: Invalid vendor ip [<ip>]" (predecessor, simulator).
    ("invalid vendor ip", Permanence.IP_NOT_WHITELISTED, "§1.3"),
    # §1.3: "ERROR: You are not allowed to use this API" (simulator), and the official
    # offer_stock example "You are not allowed to use this API.".
    ("not allowed to use this api", Permanence.CREDENTIALS, "§1.3"),
    # §1.4 "Maximum input vars of 4000 exceeded".
    ("maximum input vars", Permanence.INVALID_REQUEST, "§1.4"),
    # §3.2: "Reading products is limited to maximum 100 elements" (community simulator).
    ("is limited to maximum", Permanence.INVALID_REQUEST, "§3.2"),
    # §1.5: 400 "Invalid content", 404 "Invalid URL"; the sandbox's "Invalid value for
    # currentPage", "Invalid date for createdAfter" (§3.2, §5.3 ranges and formats).
    ("invalid ", Permanence.INVALID_REQUEST, "§1.5, §3.2, §5.3"),
    # §1.5: 400 "Validation errors in your request".
    ("validation errors", Permanence.INVALID_REQUEST, "§1.5"),
    # §5.3: "Before requires After", "at most one month apart".
    ("before requires", Permanence.INVALID_REQUEST, "§5.3"),
    ("after requires", Permanence.INVALID_REQUEST, "§5.3"),
    ("must be at most one month", Permanence.INVALID_REQUEST, "§5.3"),
)


def permanence_of(message: str) -> Permanence | None:
    """Return why eMAG's message can never succeed on retry, or None if it may."""
    lowered = message.lower()
    for marker, permanence, _source in PERMANENT_MESSAGES:
        if marker in lowered:
            return permanence
    return None


class EmagError(Exception):
    """Base of every failure talking to eMAG; `retryable` says whether trying again may help.

    `retryable_on_read` widens it for reads, which are safe to send again.
    """

    retryable: bool = False
    retryable_on_read: bool = False
    # Set when the request certainly never left (no connection was made).
    never_sent: bool = False

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class EmagAuthError(EmagError):
    """eMAG refused the credentials, or the user has no API rights."""


class EmagIpNotWhitelisted(EmagError):
    """eMAG refused this machine's IP address ("Invalid vendor ip")."""


class EmagTransientError(EmagError):
    """eMAG may answer the same request later: worth a retry, a write as much as a read."""

    retryable = True
    retryable_on_read = True


class EmagRateLimited(EmagTransientError):
    """eMAG answered 429: the account's request budget is spent for now."""


class EmagServerError(EmagTransientError):
    """eMAG answered 5xx."""


class EmagTimeout(EmagTransientError):
    """eMAG did not answer in time."""


class EmagConnectionError(EmagTransientError):
    """eMAG could not be reached, or the connection broke mid-answer."""


class EmagInvalidResponse(EmagError):
    """eMAG's answer was not JSON, was cut off, or did not have the documented shape."""

    # A gateway's HTML page on HTTP 200 or a body cut mid-way: the next answer may be whole.
    retryable_on_read = True


class EmagApiError(EmagError):
    """eMAG rejected the request (`isError: true`, validation errors, other 4xx)."""

    # A plain class attribute on the other errors; here it depends on the answer's status.
    @property
    def retryable_on_read(self) -> bool:  # type: ignore[override]
        # An isError on HTTP 200 that is not a permanent message ("Internal error, please
        # retry"); a 4xx names a fault of the request itself.
        return self.status_code == 200


class EmagInvalidRequest(EmagApiError):
    """eMAG called the request invalid (a bad parameter or filter): no retry can help."""

    retryable_on_read = False


class EmagWriteUncertain(EmagError):
    """A write whose outcome is unknown: it may or may not have been applied by eMAG.

    A timeout, a cut connection, a 5xx or an answer that cannot be read after the request
    left. Sending it again blindly could apply it twice; read the offers back instead.
    `cause` is the failure as a read would have seen it.
    """

    def __init__(self, message: str, *, cause: EmagError) -> None:
        super().__init__(message, status_code=cause.status_code)
        self.cause = cause


# What a failed connection test tells the seller, by failure, most specific first; the first
# kind the error is an instance of gives the text.
CONNECTION_TEST_TEXTS: tuple[tuple[type[EmagError], Promise], ...] = (
    (EmagAuthError, _("Bad credentials: %(error)s (%(prefix)sUSERNAME / %(prefix)sPASSWORD).")),
    (EmagIpNotWhitelisted, _("IP not whitelisted: %(error)s.")),
    (EmagTimeout, _("Timeout: %(error)s.")),
    (EmagConnectionError, _("Unreachable: %(error)s.")),
    (
        EmagRateLimited,
        _("Rate limited: %(error)s; the credentials were not checked, try again shortly."),
    ),
    (EmagServerError, _("eMAG is failing: %(error)s.")),
    (EmagInvalidRequest, _("eMAG called the request invalid: %(error)s.")),
    (EmagInvalidResponse, _("Unexpected answer (is %(prefix)sAPI_URL right?): %(error)s.")),
)
CONNECTION_TEST_REFUSED = _("eMAG refused the request: %(error)s.")


class ItemOutcome(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"
    # eMAG's answer had no result for the item: treated like an uncertain write.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class OfferUpdate:
    """The fields of one existing offer to change through the light offer/save.

    Prices are without VAT (docs/emag-api.md §3.4), sent as exact decimal strings; `stock` and
    `handling_time` are per warehouse, `(warehouse_id, value)` pairs. `offer_id` is eMAG's
    own offer id (`offer_details.id`), used to recognise a result keyed by it.
    """

    emag_id: int
    offer_id: int | None = None
    sale_price: Decimal | None = None
    recommended_price: Decimal | None = None
    min_sale_price: Decimal | None = None
    max_sale_price: Decimal | None = None
    stock: tuple[tuple[int, int], ...] | None = None
    handling_time: tuple[tuple[int, int], ...] | None = None
    vat_id: int | None = None
    status: int | None = None

    def as_payload(self) -> dict[str, Any]:
        """Return the item as the light offer/save body holds it (only the fields set)."""
        item: dict[str, Any] = {"id": self.emag_id}
        for name in PRICE_FIELDS:
            amount = getattr(self, name)
            if amount is not None:
                # A string keeps the exact decimal value: no float on the way.
                item[name] = f"{amount:.4f}"
        for name in ("stock", "handling_time"):
            entries = getattr(self, name)
            if entries is not None:
                item[name] = [
                    {"warehouse_id": warehouse, "value": value} for warehouse, value in entries
                ]
        for name in ("vat_id", "status"):
            if getattr(self, name) is not None:
                item[name] = getattr(self, name)
        return item


@dataclass(frozen=True)
class OfferSaveResult:
    """eMAG's answer for one item of a light offer/save."""

    emag_id: int
    outcome: ItemOutcome
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageCount:
    """Totals from a `*/count` action."""

    items: int
    pages: int
    per_page: int


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of `EmagClient.test_connection`, worded for a person."""

    ok: bool
    latency_ms: int
    total_products: int | None
    message: str


@dataclass(frozen=True)
class EmagCall:
    """One logical call (all its attempts), as the request log records it.

    `latency_ms` is the time spent in HTTP over all attempts; `waited_ms` is the time spent
    waiting for the rate limiter and between retries.
    """

    account: str
    resource: str
    action: str
    status_code: int | None
    ok: bool
    latency_ms: int
    attempts: int
    throttled: int
    error: str
    started_at: datetime
    waited_ms: int = 0


@dataclass
class _Progress:
    attempts: int = 0
    throttled: int = 0
    status_code: int | None = None
    http_seconds: float = 0.0
    waited_seconds: float = 0.0


def is_permanent(error: BaseException) -> bool:
    """Return whether no retry of a read, now or later, can overcome this eMAG error."""
    return isinstance(error, EmagError) and not error.retryable_on_read


def _never_applied(error: BaseException) -> bool:
    """Return whether a failed write certainly did not reach eMAG, so it may be sent again."""
    return isinstance(error, EmagRateLimited) or (isinstance(error, EmagError) and error.never_sent)


def _outcome_unknown(error: EmagError) -> bool:
    """Return whether a failed write may still have been applied by eMAG."""
    if _never_applied(error):
        return False
    if isinstance(error, EmagTimeout | EmagConnectionError | EmagServerError):
        return True
    if isinstance(error, EmagInvalidResponse):
        return True
    # An isError envelope on HTTP 200 that no rule calls permanent ("try again later").
    return isinstance(error, EmagApiError) and error.retryable_on_read


def _is_retryable(error: BaseException, *, read: bool) -> bool:
    if not isinstance(error, EmagError):
        return False
    return error.retryable_on_read if read else error.retryable


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CEILING)


def _never_connected(error: requests.RequestException) -> bool:
    """Return whether a connection error struck before any connection was made."""
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", None) or reason
    # urllib3 raises NewConnectionError (refused, unreachable, DNS) before sending a byte.
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _network_reason(error: requests.RequestException) -> str:
    # requests wraps urllib3's MaxRetryError, which wraps the real cause; its text starts
    # with a connection repr ("HTTPConnection(host=..., port=...): ") that says nothing new.
    reason: object = error.args[0] if error.args else error
    reason = getattr(reason, "reason", None) or reason
    text = str(reason)
    head, separator, tail = text.partition("): ")
    return tail if separator and "Connection" in head else text


def _message_list(messages: Any) -> list[str]:
    if not isinstance(messages, list):
        messages = [messages] if messages else []
    texts = []
    for item in messages:
        if isinstance(item, dict):
            # Official examples only show strings; tolerate {"message": ..., "code": ...}.
            texts.append(str(item.get("message") or json.dumps(item, default=str)))
        elif item not in (None, ""):
            texts.append(str(item))
    return texts


def _messages_text(messages: Any) -> str:
    return "; ".join(_message_list(messages)) or "(eMAG gave no message)"


class EmagClient:
    """Call one eMAG account's API through one session, paced, retried and reported."""

    def __init__(
        self,
        account: EmagAccount,
        *,
        rate_limiter: RateLimiter | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        on_call: Callable[[EmagCall], None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_max_wait: float | None = None,
        retry_deadline: float | None = None,
    ) -> None:
        self.account = account
        self.timeout = float(timeout if timeout is not None else settings.EMAG_TIMEOUT)
        self.max_retries = int(
            max_retries if max_retries is not None else settings.EMAG_MAX_RETRIES
        )
        self.retry_max_wait = float(
            retry_max_wait if retry_max_wait is not None else settings.EMAG_RETRY_MAX_WAIT
        )
        self.retry_deadline = float(
            retry_deadline if retry_deadline is not None else settings.EMAG_RETRY_DEADLINE
        )
        self._rate_limiter = rate_limiter if rate_limiter is not None else get_rate_limiter()
        self._on_call = on_call
        self._sleep = sleep
        self._timeouts = (min(CONNECT_TIMEOUT, self.timeout), self.timeout)
        self._secrets = self._secret_strings(account)

        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        if self._owns_session:
            # Retries are tenacity's job below; urllib3 must not retry on its own.
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE, max_retries=0)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        self.session.auth = (account.username, account.password)
        self.session.headers.update(
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> "EmagClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- endpoints ----------------------------------------------------------------------------

    def count_offers(self, **filters: Any) -> PageCount:
        """Return how many offers (and pages) match the filters."""
        # Reference: docs/emag-api.md §3.3 (product_offer/count), §3.2
        return self._count("product_offer", filters)

    def read_offers(self, *, page: int, per_page: int = MAX_PER_PAGE, **filters: Any) -> list[dict]:
        """Return one page of the seller's offers matching the filters."""
        # Reference: docs/emag-api.md §3.3 (product_offer/read), §3.2
        return self._read_page("product_offer", page, per_page, filters)

    def read_vat(self) -> list[dict]:
        """Return the VAT rates the platform accepts."""
        # Reference: docs/emag-api.md §3.1 (vat/read), §3.6
        return self._as_list("vat/read", self._call("vat", "read", {}))

    def read_vat_ids(self) -> frozenset[int]:
        """Return the `vat_id` values the platform accepts on an offer."""
        # docs/emag-api.md §3.6: the item field names are undocumented;
        # the sandbox says `vat_id`, the predecessor looked items up by `id`.
        ids = set()
        for item in self.read_vat():
            value: Any = item.get("vat_id", item.get("id"))
            try:
                ids.add(int(value))
            except (TypeError, ValueError):
                logger.warning("eMAG vat/read: an item without a usable id: %s", item)
        return frozenset(ids)

    def count_orders(self, **filters: Any) -> PageCount:
        """Return how many orders (and pages) match the filters."""
        # Reference: docs/emag-api.md §5.3 (order/count)
        return self._count("order", filters)

    def read_orders(self, *, page: int, per_page: int = MAX_PER_PAGE, **filters: Any) -> list[dict]:
        """Return one page of orders matching the filters."""
        # Reference: docs/emag-api.md §5.3 (order/read), §3.2
        return self._read_page("order", page, per_page, filters)

    def acknowledge_order(self, order_id: int) -> None:
        """Acknowledge a new order, moving it from status 1 to 2 on eMAG."""
        # Reference: docs/emag-api.md §5.2 (order/acknowledge/{orderId}), §1.2
        if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id < 1:
            raise ValueError(f"order_id must be a positive integer, got {order_id!r}")
        # A write, yet retried like a read: acknowledging an already acknowledged order
        # changes nothing in eMAG's flow, so a retry after a timeout (when we cannot tell
        # whether the first attempt arrived) is safe. The id travels in the path.
        self._call("order", f"acknowledge/{order_id}", {}, retry=True)

    def save_offers(self, updates: list[OfferUpdate]) -> dict[int, OfferSaveResult]:
        """Send one light offer/save of up to 50 offers; return each item's result by seller id.

        The envelope may say `isError: false` while items failed, so every item is read on
        its own. Raises EmagWriteUncertain when the outcome of the whole request is unknown.
        """
        # docs/emag-api.md §3.5 (light offer/save), §1.5 (per-item results)
        if not 1 <= len(updates) <= MAX_OFFERS_PER_SAVE:
            raise ValueError(
                f"a light offer/save takes 1 to {MAX_OFFERS_PER_SAVE} offers, got {len(updates)}"
            )
        seller_ids = [update.emag_id for update in updates]
        if len(set(seller_ids)) != len(seller_ids):
            raise ValueError("each offer may appear once in a light offer/save")
        results = self._call(
            "offer", "save", [update.as_payload() for update in updates], write=True
        )
        return self._item_results("offer/save", updates, results)

    def update_offer_stock(self, emag_id: int, stock: int) -> None:
        """Set the stock of one offer through PATCH offer_stock/{id} (204 on success).

        eMAG's refusal (stock campaign, unknown offer) raises EmagApiError with its message;
        an unknown outcome raises EmagWriteUncertain.
        """
        # docs/emag-api.md §3.5 (PATCH offer_stock/{id}), §1.5 (statuses)
        for name, value in (("emag_id", emag_id), ("stock", stock)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of 0 or more, got {value!r}")
        if stock > MAX_STOCK:
            raise ValueError(f"stock must be at most {MAX_STOCK}, got {stock}")
        self._call(
            "offer_stock",
            "patch",
            {"stock": stock},
            write=True,
            method="PATCH",
            path=f"offer_stock/{emag_id}",
        )

    def test_connection(self) -> ConnectionCheck:
        """Make one cheap authenticated call and describe the outcome; never raise for eMAG."""
        # Reference: docs/emag-api.md §1.3 (auth, IP whitelist), §3.3 (product_offer/count)
        env_prefix = f"EMAG_{self.account.name.upper()}_"
        if not self.account.has_credentials:
            return ConnectionCheck(
                ok=False,
                latency_ms=0,
                total_products=None,
                message=gettext(
                    "No credentials for account '%(account)s': set %(prefix)sUSERNAME and "
                    "%(prefix)sPASSWORD."
                )
                % {"account": self.account.name, "prefix": env_prefix},
            )
        reports: list[EmagCall] = []
        try:
            # No retries: a person is waiting for the answer, and the answer is the point.
            count = self._count("product_offer", {}, retry=False, observe=reports.append)
        except EmagError as error:
            return ConnectionCheck(
                ok=False,
                latency_ms=reports[-1].latency_ms if reports else 0,
                total_products=None,
                message=self._explain(error, env_prefix),
            )
        # eMAG's answer time, without the wait for the shared rate limiter.
        latency_ms = reports[-1].latency_ms
        return ConnectionCheck(
            ok=True,
            latency_ms=latency_ms,
            total_products=count.items,
            message=ngettext(
                "Connected to %(url)s as %(user)s: %(count)s offer, answered in %(ms)s ms.",
                "Connected to %(url)s as %(user)s: %(count)s offers, answered in %(ms)s ms.",
                count.items,
            )
            % {
                "url": self.account.api_url,
                "user": self.account.username,
                "count": count.items,
                "ms": latency_ms,
            },
        )

    # --- helpers ------------------------------------------------------------------------------

    def _read_page(self, resource: str, page: int, per_page: int, filters: dict) -> list[dict]:
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValueError(f"page must be a positive integer, got {page!r}")
        if isinstance(per_page, bool) or not isinstance(per_page, int):
            raise ValueError(f"per_page must be an integer, got {per_page!r}")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
        payload = {**self._encode_filters(filters), "currentPage": page, "itemsPerPage": per_page}
        stream = PAGE_STREAMS.get(resource, resource)
        with metrics.page_in_flight(account=self.account.name, stream=stream):
            return self._as_list(f"{resource}/read", self._call(resource, "read", payload))

    def _count(
        self,
        resource: str,
        filters: dict,
        *,
        retry: bool = True,
        observe: Callable[[EmagCall], None] | None = None,
    ) -> PageCount:
        route = f"{resource}/count"
        payload = self._encode_filters(filters)
        results = self._call(resource, "count", payload, retry=retry, observe=observe)
        if not isinstance(results, dict) or not {"noOfItems", "noOfPages"} <= results.keys():
            raise EmagInvalidResponse(
                f"eMAG {route}: expected results with noOfItems and noOfPages, got "
                f"{self._excerpt(json.dumps(results, default=str))}"
            )
        per_page = results.get("itemsPerPage", payload.get("itemsPerPage", MAX_PER_PAGE))
        return PageCount(
            items=self._as_int(route, "noOfItems", results["noOfItems"]),
            pages=self._as_int(route, "noOfPages", results["noOfPages"]),
            per_page=self._as_int(route, "itemsPerPage", per_page),
        )

    def _encode_filters(self, filters: dict) -> dict:
        encoded = {}
        for name, value in filters.items():
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    raise ValueError(
                        f"filter {name}: pass an aware datetime; it is sent in the account's "
                        f"time zone ({self.account.timezone.key})"
                    )
                value = value.astimezone(self.account.timezone).strftime(EMAG_DATETIME_FORMAT)
            elif isinstance(value, bool):
                # eMAG's flags (is_complete, ...) are documented as 0/1.
                value = int(value)
            encoded[name] = value
        return encoded

    def _item_results(
        self, route: str, updates: list[OfferUpdate], results: Any
    ) -> dict[int, OfferSaveResult]:
        """Read each item's result, keyed by the seller id or by eMAG's offer id."""
        # Reference §3.5: the official example keys the result by an id that is not the
        # request's, so a key may be either; an item with no result is left unknown.
        by_key: dict[str, int] = {}
        for update in updates:
            if update.offer_id is not None:
                by_key[str(update.offer_id)] = update.emag_id
        for update in updates:
            by_key[str(update.emag_id)] = update.emag_id  # the seller id wins a clash
        if isinstance(results, list) and not results:
            results = {}  # PHP's empty array
        if not isinstance(results, dict):
            raise EmagWriteUncertain(
                f"eMAG {route}: expected results keyed by offer, got "
                f"{self._excerpt(json.dumps(results, default=str))}",
                cause=EmagInvalidResponse(f"eMAG {route}: results are not keyed by offer"),
            )
        answered: dict[int, OfferSaveResult] = {}
        for key, result in results.items():
            emag_id = by_key.get(str(key).strip())
            if emag_id is None:
                logger.warning("eMAG %s answered for an offer it was not sent: %s", route, key)
                continue
            failed = not isinstance(result, dict) or result.get("isError") not in (
                False,
                0,
                "false",
                "0",
            )
            messages = result.get("messages") if isinstance(result, dict) else result
            answered[emag_id] = OfferSaveResult(
                emag_id=emag_id,
                outcome=ItemOutcome.REJECTED if failed else ItemOutcome.APPLIED,
                messages=tuple(
                    self._redact(text, MESSAGE_CHARS) for text in _message_list(messages)
                ),
            )
        return {
            update.emag_id: answered.get(
                update.emag_id, OfferSaveResult(emag_id=update.emag_id, outcome=ItemOutcome.UNKNOWN)
            )
            for update in updates
        }

    def _as_list(self, route: str, results: Any) -> list[dict]:
        if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
            raise EmagInvalidResponse(
                f"eMAG {route}: expected results to be a list of objects, got "
                f"{self._excerpt(json.dumps(results, default=str))}"
            )
        return results

    def _as_int(self, route: str, name: str, value: Any) -> int:
        # The community simulator (and perhaps eMAG) sends counts as strings.
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        raise EmagInvalidResponse(f"eMAG {route}: {name} is not a whole number: {value!r}")

    def _call(
        self,
        resource: str,
        action: str,
        payload: dict | list,
        *,
        retry: bool = True,
        observe: Callable[[EmagCall], None] | None = None,
        write: bool = False,
        method: str = "POST",
        path: str | None = None,
    ) -> Any:
        """Send one logical call, retrying transient failures, and return its `results`.

        A `write` is retried only when eMAG certainly did not apply it (a 429, a connection
        never made); after any other failure that could follow its arrival it raises
        EmagWriteUncertain. `path` replaces `{resource}/{action}` in the URL (an id in the
        path). The call's report goes to `on_call`, and to `observe` when given.
        """
        route = path or f"{resource}/{action}"
        url = f"{self.account.api_url}/{route}"
        bucket = bucket_for(resource)
        progress = _Progress()
        started_at = datetime.now(UTC)

        def attempt() -> Any:
            progress.attempts += 1
            progress.status_code = None
            waited = self._rate_limiter.acquire(self.account.name, bucket)
            metrics.limiter_wait_observe(account=self.account.name, bucket=bucket, seconds=waited)
            progress.waited_seconds += waited
            return self._send(url, route, payload, progress, method=method)

        def sleep(seconds: float) -> None:
            progress.waited_seconds += seconds
            self._sleep(seconds)

        def spent() -> float:
            return progress.http_seconds + progress.waited_seconds

        def wait(state: RetryCallState) -> float:
            # Never sleep past the deadline: the last attempt starts before it.
            return min(self._backoff(state), max(0.0, self.retry_deadline - spent()))

        read = action in READ_ACTIONS
        retrying = Retrying(
            # Bounded in attempts and in time, so an eMAG that stays down fails the call
            # within retry_deadline plus one attempt (at most `timeout`), whatever it answers.
            # tenacity combines a stop with any callable; its annotations want a stop_base.
            stop=stop_after_attempt(1 + (self.max_retries if retry else 0))
            | (lambda state: spent() >= self.retry_deadline),  # type: ignore[operator]
            retry=retry_if_exception(
                _never_applied if write else lambda exc: _is_retryable(exc, read=read)
            ),
            wait=wait,
            sleep=sleep,
            before_sleep=lambda state: self._log_retry(route, state),
            reraise=True,
        )
        error, failure = "", None
        try:
            return retrying(attempt)
        except EmagError as exc:
            error = self._redact(str(exc), EXCERPT_CHARS) or type(exc).__name__
            if write and _outcome_unknown(exc):
                raise EmagWriteUncertain(
                    f"{exc.message}; eMAG may or may not have applied the write", cause=exc
                ) from exc
            raise
        except Exception as exc:
            error = self._redact(str(exc), EXCERPT_CHARS) or type(exc).__name__
            failure = exc
            raise
        finally:
            metrics.emag_call_observe(
                account=self.account.name, attempts=progress.attempts, error=failure
            )
            report = EmagCall(
                account=self.account.name,
                resource=resource,
                action=action,
                status_code=progress.status_code,
                ok=not error,
                latency_ms=round(progress.http_seconds * 1000),
                attempts=progress.attempts,
                throttled=progress.throttled,
                error=error,
                started_at=started_at,
                waited_ms=round(progress.waited_seconds * 1000),
            )
            if observe is not None:
                observe(report)
            self._report(report)

    def _send(
        self, url: str, route: str, payload: dict | list, progress: _Progress, *, method: str
    ) -> Any:
        started = time.monotonic()
        response = None
        try:
            response = self.session.request(method, url, json=payload, timeout=self._timeouts)
        except requests.Timeout as exc:
            phase = "connecting" if isinstance(exc, requests.ConnectTimeout) else "waiting"
            limit = self._timeouts[0 if phase == "connecting" else 1]
            error: EmagError = EmagTimeout(
                f"eMAG {route}: timed out {phase} for {self.account.api_url} (limit {limit:g} s)"
            )
            # No connection, no request: nothing can have reached eMAG.
            error.never_sent = phase == "connecting"
            raise error from exc
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            error = EmagConnectionError(
                f"eMAG {route}: connection to {self.account.api_url} failed: "
                f"{self._redact(_network_reason(exc), EXCERPT_CHARS)}"
            )
            error.never_sent = _never_connected(exc)
            raise error from exc
        finally:
            seconds = time.monotonic() - started
            progress.http_seconds += seconds
            metrics.emag_request_observe(
                account=self.account.name,
                resource=route.split("/", 1)[0],
                action=route.split("/", 1)[1],
                status=response.status_code if response is not None else None,
                seconds=seconds,
            )
        progress.status_code = response.status_code
        if response.status_code == 429:
            progress.throttled += 1
        return self._parse(route, response)

    def _parse(self, route: str, response: requests.Response) -> Any:
        status = response.status_code
        if status == 204:
            # offer_stock's success: an empty body (docs/emag-api.md §1.5).
            return None
        if status == 429:
            raise EmagRateLimited(
                f"eMAG {route}: rate limit exceeded (HTTP 429)",
                status_code=status,
                retry_after=_retry_after(response),
            )
        if status >= 500:
            raise EmagServerError(
                f"eMAG {route}: server error HTTP {status}: {self._excerpt(response.text)}",
                status_code=status,
                retry_after=_retry_after(response),
            )
        if status >= 400:
            try:
                body = json.loads(response.text)
            except ValueError:
                body = None
            if isinstance(body, dict) and ("messages" in body or "message" in body):
                text = _messages_text(body.get("messages") or body.get("message"))
                # offer_stock's 400 names each problem under `errors` (docs/emag-api.md §1.5).
                details = body.get("errors") if isinstance(body.get("errors"), list) else []
                text = "; ".join([text, *_message_list(details)])
            else:
                text = response.text or "(empty body)"
            raise self._rejection(route, text, status)
        if status != 200:
            raise EmagInvalidResponse(
                f"eMAG {route}: unexpected HTTP {status}: {self._excerpt(response.text)}",
                status_code=status,
            )
        body = self._decode(route, response)
        if not isinstance(body, dict) or "isError" not in body:
            raise EmagInvalidResponse(
                f"eMAG {route}: expected an object with isError, got "
                f"{self._excerpt(response.text)}",
                status_code=status,
            )
        # eMAG's rule: anything but an explicit isError false is a failure (§1.5).
        if body["isError"] not in (False, 0, "false", "0"):
            raise self._rejection(route, _messages_text(body.get("messages")), status)
        return body.get("results")

    def _decode(self, route: str, response: requests.Response) -> Any:
        try:
            # orjson parses a 100-offer page several times faster than json, holding the GIL
            # (which the page writer needs) for less time.
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass  # what json accepts beyond it (integers over 64 bits, NaN) or a real error
        text = response.text
        try:
            return json.loads(text)
        except ValueError as exc:
            stripped = text.strip()
            at_end = getattr(exc, "pos", 0) >= len(text.rstrip())
            if stripped.startswith(("{", "[")) and (
                at_end or getattr(exc, "msg", "").startswith("Unterminated")
            ):
                problem = f"the JSON ends early (truncated after {len(response.content)} bytes)"
            elif stripped.startswith(("{", "[")):
                problem = "the JSON is malformed"
            else:
                problem = "the body is not JSON"
            raise EmagInvalidResponse(
                f"eMAG {route}: {problem}: {self._excerpt(text) or '(empty body)'}",
                status_code=response.status_code,
            ) from None

    def _rejection(self, route: str, text: str, status: int) -> EmagError:
        text = self._redact(text, MESSAGE_CHARS)
        permanence = permanence_of(text)
        name = self.account.name
        if permanence == Permanence.IP_NOT_WHITELISTED:
            return EmagIpNotWhitelisted(
                f"eMAG {route}: this machine's IP address is not whitelisted for account "
                f"'{name}' ({text}); add it in the eMAG Marketplace API settings",
                status_code=status,
            )
        if status in (401, 403) or permanence == Permanence.CREDENTIALS:
            return EmagAuthError(
                f"eMAG {route}: credentials of account '{name}' refused ({text}); check the "
                f"username, the password and that the user has API rights",
                status_code=status,
            )
        if permanence == Permanence.INVALID_REQUEST:
            return EmagInvalidRequest(f"eMAG {route}: invalid request: {text}", status_code=status)
        return EmagApiError(f"eMAG {route}: request rejected: {text}", status_code=status)

    def _backoff(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, EmagError) and error.retry_after is not None:
            return error.retry_after
        # Full jitter: uniform in [0, min(cap, 2^(n-1)) s], so throttled workers spread out.
        return wait_random_exponential(multiplier=1, max=self.retry_max_wait)(state)

    def _log_retry(self, route: str, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "eMAG %s %s: %s; retry %d of %d in %.1f s",
            self.account.name,
            route,
            error,
            state.attempt_number,
            self.max_retries,
            wait,
        )

    def _report(self, call: EmagCall) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(call)
        except Exception:
            # A broken request log must not fail the sync that eMAG answered.
            logger.exception(
                "on_call failed for eMAG %s %s/%s", call.account, call.resource, call.action
            )

    def _explain(self, error: EmagError, env_prefix: str) -> str:
        # eMAG's own words (`error`) stay as eMAG wrote them; the frame is the reader's language.
        text = next(
            (text for kind, text in CONNECTION_TEST_TEXTS if isinstance(error, kind)),
            CONNECTION_TEST_REFUSED,
        )
        return str(text) % {"error": error, "prefix": env_prefix}

    # --- secrets ------------------------------------------------------------------------------

    @staticmethod
    def _secret_strings(account: EmagAccount) -> tuple[str, ...]:
        if not account.password:
            return ()
        secrets = {account.password}
        for encoding in ("latin-1", "utf-8"):
            try:
                raw = f"{account.username}:{account.password}".encode(encoding)
            except UnicodeEncodeError:
                continue
            secrets.add(base64.b64encode(raw).decode("ascii"))
        # Longest first, so a token containing the password is replaced whole.
        return tuple(sorted(secrets, key=len, reverse=True))

    def _redact(self, text: str, limit: int) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def _excerpt(self, text: str) -> str:
        return self._redact(text, EXCERPT_CHARS)
