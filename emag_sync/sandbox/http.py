"""Serve a Sandbox over real HTTP, for `make run`, benchmarks and end-to-end tests.

A `ThreadingHTTPServer` with HTTP/1.1 keep-alive, so a client's connection pool behaves as it
does against eMAG. Transport faults are acted out for real: a timeout answers late, a
connection reset closes the socket with no answer.
"""

import socket
import struct
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

from emag_sync.sandbox.control import handle_control, is_control_path
from emag_sync.sandbox.core import TRANSPORT_RESET, TRANSPORT_TIMEOUT, Sandbox, SandboxResponse

# Idle keep-alive connections are dropped after this, so stopped servers free their threads.
IDLE_CONNECTION_SECONDS = 120
DEFAULT_DRIFT_CHANGES = 20


class SandboxHTTPServer(ThreadingHTTPServer):
    """The HTTP server; it carries the sandbox its handlers answer from."""

    daemon_threads = True
    allow_reuse_address = True
    # Benchmarks open many connections at once; the default backlog of 5 would refuse them.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], sandbox: Sandbox, *, verbose: bool = False
    ) -> None:
        self.sandbox = sandbox
        self.verbose = verbose
        super().__init__(address, SandboxRequestHandler)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: tuple[str, int]
    ) -> None:
        """Ignore clients that hang up (they do, on purpose, in fault tests); report the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def base_url(self) -> str:
        # A TCP server's address is (host, port); only AF_UNIX servers hold bytes there.
        host, port = cast(tuple[str, int], self.server_address[:2])
        # Maps a wildcard bind address to loopback for display.
        if host in ("0.0.0.0", ""):  # nosec B104
            host = "127.0.0.1"
        return f"http://{host}:{port}"


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS
    # Headers and body leave in separate writes; with Nagle's algorithm on, each response
    # would wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Invalid Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        if is_control_path(self.path):
            response = handle_control(self.server.sandbox, method, self.path, body)
        else:
            response = self.server.sandbox.handle(
                method,
                self.path,
                dict(self.headers.items()),
                body,
                client_ip=self.client_address[0],
            )
        if response.transport_fault == TRANSPORT_RESET:
            self._reset_connection()
            return
        if response.transport_fault == TRANSPORT_TIMEOUT:
            time.sleep(response.delay_seconds)
        self._send(response)

    def _send(self, response: SandboxResponse) -> None:
        # The client may have given up already (a timeout fault); that is not our error.
        with suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

    def _reset_connection(self) -> None:
        """Drop the connection without a byte of answer; linger 0 makes close() send RST."""
        self.close_connection = True
        with suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def version_string(self) -> str:
        return "nginx"

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


def make_server(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 8001, *, verbose: bool = False
) -> SandboxHTTPServer:
    """Bind a server for the sandbox; call `serve_forever()` on it (port 0 picks a free one)."""
    return SandboxHTTPServer((host, port), sandbox, verbose=verbose)


def start_periodic_drift(
    sandbox: Sandbox, every_seconds: float, *, changes: int = DEFAULT_DRIFT_CHANGES
) -> threading.Event:
    """Drift every account every `every_seconds` in a daemon thread; set the event to stop."""
    stop = threading.Event()

    def drift_until_stopped() -> None:
        while not stop.wait(every_seconds):
            sandbox.drift(changes=changes)

    threading.Thread(target=drift_until_stopped, name="sandbox-drift", daemon=True).start()
    return stop


@dataclass
class RunningSandbox:
    """A sandbox served from a background thread; `stop()` it (or use it as a context)."""

    sandbox: Sandbox
    server: SandboxHTTPServer
    thread: threading.Thread
    drift_stop: threading.Event | None = field(default=None)

    @property
    def url(self) -> str:
        return self.server.base_url

    def api_url(self, account: str) -> str:
        """Return the account's API base, to use in place of eMAG's `.../api-3`."""
        return f"{self.url}/{account}/api-3"

    def stop(self) -> None:
        if self.drift_stop is not None:
            self.drift_stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "RunningSandbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(
    sandbox: Sandbox,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    verbose: bool = False,
    drift_every: float | None = None,
) -> RunningSandbox:
    """Serve the sandbox from a daemon thread and return once it accepts connections."""
    server = make_server(sandbox, host, port, verbose=verbose)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
    )
    thread.start()
    drift_stop = start_periodic_drift(sandbox, drift_every) if drift_every else None
    return RunningSandbox(sandbox=sandbox, server=server, thread=thread, drift_stop=drift_stop)
