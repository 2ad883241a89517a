"""A local HTTP endpoint that records the JSON bodies POSTed to it: the alert webhook's target."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast


class WebhookReceiver:
    """Serve on 127.0.0.1 (a free port, or `port`) from a thread; `received` lists the bodies."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with receiver._lock:
                    receiver.received.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = cast(tuple[str, int], self.server.server_address[:2])
        return f"http://{host}:{port}/alerts"

    def events(self, event: str | None = None) -> list[dict]:
        with self._lock:
            return [body for body in self.received if event is None or body["event"] == event]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
