"""Faults the sandbox can be told to serve, so clients can be tested against a bad day.

The kinds mirror what eMAG and its gateways really do (emag-api-reference.md §1.3, §1.5,
§2.2): 5xx pages, 429s, `isError` on HTTP 200, auth and IP-whitelist refusals, and broken
transports (slow answers, dropped connections, damaged bodies).
"""

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


class FaultBook:
    """Keep injected faults in order and hand out the first one matching a request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def active(self) -> list[Fault]:
        return list(self._faults)

    def take(self, account: str, action: str) -> Fault | None:
        """Return the first fault for this request, using up one of its occurrences."""
        for fault in self._faults:
            if fault.applies_to(account, action):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None


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
    if kind == FaultKind.IS_ERROR:
        return 200, dict(JSON_HEADERS), error_envelope(IS_ERROR_MESSAGE)
    if kind == FaultKind.AUTH:
        return 200, dict(JSON_HEADERS), error_envelope(NOT_ALLOWED_MESSAGE)
    if kind == FaultKind.IP_WHITELIST:
        return 200, dict(JSON_HEADERS), error_envelope(f"ERROR: Invalid vendor ip [{client_ip}]")
    return None
