"""Feed requests intercepted by `responses` into a Sandbox, for fast in-process unit tests.

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock, sandbox, "https://sandbox.emag.test")
        client = EmagClient(api_url="https://sandbox.emag.test/main/api-3", ...)

Transport faults become the exceptions `requests` would raise: a timeout fault raises
`ReadTimeout`, a connection reset raises `ConnectionError`.
"""

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests
import responses

from emag_sync.sandbox.core import TRANSPORT_RESET, TRANSPORT_TIMEOUT, Sandbox


def register(
    mock: responses.RequestsMock,
    sandbox: Sandbox,
    base_url: str,
    *,
    methods: Iterable[str] = ("POST", "GET", "PATCH"),
) -> None:
    """Answer every request under `base_url` (any account, any action) from the sandbox.

    Only the given methods are registered; a mock that asserts all its responses fired
    should be built with `assert_all_requests_are_fired=False` or get `methods=("POST",)`.
    """
    base_url = base_url.rstrip("/")
    base_path = urlsplit(base_url).path

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(request.url or "")
        path = url.path.removeprefix(base_path) + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        response = sandbox.handle(request.method or "POST", path, dict(request.headers), body)
        if response.transport_fault == TRANSPORT_TIMEOUT:
            raise requests.exceptions.ReadTimeout(
                f"sandbox: no answer within the client's timeout ({path})", request=request
            )
        if response.transport_fault == TRANSPORT_RESET:
            raise requests.exceptions.ConnectionError(
                ConnectionResetError(104, "Connection reset by peer"), request=request
            )
        return response.status, response.headers, response.body

    pattern = re.compile(re.escape(base_url) + r"(/.*)?$")
    for method in methods:
        mock.add_callback(method, pattern, callback=answer, content_type=None)


def api_url(base_url: str, account: str) -> str:
    """Return the API base an account's client should use under a registered base URL."""
    return f"{base_url.rstrip('/')}/{account}/api-3"
