"""Faults the sandbox can be told to serve, so clients can be tested against a bad day.

The kinds mirror what eMAG and its gateways really do (docs/emag-api.md §1.3, §1.5,
§2.2): 5xx pages, 429s, `isError` on HTTP 200, auth and IP-whitelist refusals, and broken
transports (slow answers, dropped connections, damaged bodies).
"""

import random
from collections import Counter
from dataclasses import asdict, dataclass
from enum import StrEnum

from emag_sync.sandbox.wire import JSON_HEADERS, error_envelope, json_bytes

DEFAULT_SLOW_SECONDS = 5.0
NOT_ALLOWED_MESSAGE = "ERROR: You are not allowed to use this API"
RATE_LIMIT_BODY = json_bytes({"message": "API rate limit exceeded"})
IS_ERROR_MESSAGE = "ERROR: An unexpected error occurred. Please try again later."


class FaultKind(StrEnum):
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    CONNECTION_RESET = "connection_reset"
    MALFORMED_JSON = "malformed_json"
    TRUNCATED_JSON = "truncated_json"
    IS_ERROR = "is_error"
    AUTH = "auth"
    IP_WHITELIST = "ip_whitelist"
    # A gateway's or maintenance page's HTML served with HTTP 200.
    HTML_200 = "html_200"
    # eMAG calling the request invalid, as it does for a bad parameter or filter.
    INVALID_REQUEST = "invalid_request"
    # No answer in time, and the request was NOT carried out (it died before eMAG): with
    # `timeout` (carried out, answer lost) it makes the two sides of an uncertain write.
    TIMEOUT_UNAPPLIED = "timeout_unapplied"


PERMANENT_KINDS = frozenset({FaultKind.AUTH, FaultKind.IP_WHITELIST, FaultKind.INVALID_REQUEST})
# What a flaky eMAG does on any call, and no retry of a read should fail on. The unapplied
# timeout is left out: to a read it is a timeout, and seeded fault decks stay as they were.
TRANSIENT_KINDS = tuple(
    kind
    for kind in FaultKind
    if kind not in PERMANENT_KINDS and kind != FaultKind.TIMEOUT_UNAPPLIED
)
INVALID_REQUEST_MESSAGE = "Invalid value for currentPage: it must be between 1 and 65535"


# These kinds damage the real answer, so the request is still carried out: a client that
# timed out cannot know whether eMAG applied it, and must cope with both.
AFTER_HANDLING = frozenset({FaultKind.TIMEOUT, FaultKind.TRUNCATED_JSON})

_GATEWAY_PAGES = {
    FaultKind.HTTP_500: (500, "500 Internal Server Error"),
    FaultKind.HTTP_502: (502, "502 Bad Gateway"),
    FaultKind.HTTP_503: (503, "503 Service Temporarily Unavailable"),
}


@dataclass
class Fault:
    """One injected fault: which account and action it hits, and how many times still."""

    kind: FaultKind
    account: str | None = None
    action: str | None = None
    remaining: int | None = 1
    slow_seconds: float = DEFAULT_SLOW_SECONDS

    def applies_to(self, account: str, action: str) -> bool:
        return self.account in (None, account) and self.action in (None, action)

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"kind": str(self.kind)}


@dataclass
class RandomFaults:
    """A seeded share of requests (on every account and action) that get a random fault."""

    rate: float
    seed: int
    kinds: tuple[FaultKind, ...] = TRANSIENT_KINDS
    slow_seconds: float = DEFAULT_SLOW_SECONDS

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"the fault rate must be between 0 and 1, got {self.rate!r}")
        if not self.kinds:
            raise ValueError("random faults need at least one kind")
        # Seeded generator for simulated faults, not security.
        self._rng = random.Random(f"faults:{self.seed}")  # nosec B311
        self._deck: list[FaultKind] = []

    def draw(self) -> Fault | None:
        if self._rng.random() >= self.rate:
            return None
        # Kinds are dealt from a shuffled deck, so every kind comes up within each
        # len(kinds) faults, however few are served.
        if not self._deck:
            self._deck = list(self.kinds)
            self._rng.shuffle(self._deck)
        return Fault(self._deck.pop(), slow_seconds=self.slow_seconds)

    def as_dict(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "seed": self.seed,
            "kinds": [str(kind) for kind in self.kinds],
            "slow_seconds": self.slow_seconds,
        }


class FaultBook:
    """Keep injected faults in order and hand out the first one matching a request.

    Injected faults come first; when none matches, the random faults (if set) may draw one.
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self.random: RandomFaults | None = None
        self.served: Counter[str] = Counter()

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()
        self.random = None

    def active(self) -> list[Fault]:
        return list(self._faults)

    def take(self, account: str, action: str) -> Fault | None:
        """Return the fault for this request, using up one of its occurrences."""
        chosen = None
        for fault in self._faults:
            if fault.applies_to(account, action):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                chosen = fault
                break
        if chosen is None and self.random is not None:
            chosen = self.random.draw()
        if chosen is not None:
            self.served[str(chosen.kind)] += 1
        return chosen


def fault_reply(kind: FaultKind, *, client_ip: str) -> tuple[int, dict[str, str], bytes] | None:
    """Return (status, headers, body) for a fault served instead of handling the request.

    Returns None for the kinds that act on the transport or on the real answer.
    """
    if kind in _GATEWAY_PAGES:
        status, title = _GATEWAY_PAGES[kind]
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return status, {"Content-Type": "text/html"}, page.encode()
    if kind == FaultKind.RATE_LIMIT:
        return 429, {"Content-Type": "application/json; charset=utf-8"}, RATE_LIMIT_BODY
    if kind == FaultKind.MALFORMED_JSON:
        # What a PHP notice printed ahead of the JSON looks like to a client.
        body = b'<br />\n<b>Notice</b>: Undefined index in api.php<br />\n{"isError":false,'
        return 200, dict(JSON_HEADERS), body
    if kind == FaultKind.HTML_200:
        page = (
            "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>"
            "<h1>We'll be back soon</h1></body></html>"
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
    if kind == FaultKind.IS_ERROR:
        return 200, dict(JSON_HEADERS), error_envelope(IS_ERROR_MESSAGE)
    if kind == FaultKind.AUTH:
        return 200, dict(JSON_HEADERS), error_envelope(NOT_ALLOWED_MESSAGE)
    if kind == FaultKind.INVALID_REQUEST:
        return 200, dict(JSON_HEADERS), error_envelope(INVALID_REQUEST_MESSAGE)
    if kind == FaultKind.IP_WHITELIST:
        return 200, dict(JSON_HEADERS), error_envelope(f"ERROR: Invalid vendor ip [{client_ip}]")
    return None
