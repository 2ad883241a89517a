"""Serve the metrics: who may read them, and what a scrape of the web or a worker returns.

The web's /metrics adds the database gauges to the processes' counters; a worker's own port
(METRICS_WORKER_PORT) serves its processes' counters only, so a worker on another host is
scraped on its own and no gauge is reported twice.
"""

import hmac
import ipaddress
import logging
import os
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

logger = logging.getLogger(__name__)


class Access:
    ALLOWED, UNAUTHORISED, OFF = "allowed", "unauthorised", "off"


def metrics_access(*, authorization: str, remote_addr: str) -> str:
    """Decide whether a scrape may read the metrics.

    With METRICS_TOKEN set, only `Authorization: Bearer <token>` may. Without it the metrics
    are off in production mode, and open to loopback clients only in DEBUG mode (`make run`).
    """
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return Access.ALLOWED
        return Access.UNAUTHORISED
    if not settings.DEBUG:
        return Access.OFF
    try:
        return Access.ALLOWED if ipaddress.ip_address(remote_addr).is_loopback else Access.OFF
    except ValueError:
        return Access.OFF


def process_registry() -> CollectorRegistry:
    """Return a registry of the counters of every process sharing the multiprocess folder."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def web_scrape() -> bytes:
    """Return the web's exposition: the processes' counters and the database gauges."""
    from emag_sync.observability.gauges import DatabaseCollector

    registry = CollectorRegistry()
    registry.register(_Chain(process_registry()))
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class _Chain:
    """Expose another registry's metrics inside a fresh one (the default one is global)."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def _worker_app(environ, start_response):
    access = metrics_access(
        authorization=environ.get("HTTP_AUTHORIZATION", ""),
        remote_addr=environ.get("REMOTE_ADDR", ""),
    )
    if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
        access = Access.OFF
    if access == Access.UNAUTHORISED:
        start_response("401 Unauthorized", [("WWW-Authenticate", 'Bearer realm="metrics"')])
        return [b"a bearer token (METRICS_TOKEN) is required\n"]
    if access == Access.OFF:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    body = generate_latest(process_registry())
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        pass


def worker_metrics_serve(port: int, address: str = "0.0.0.0") -> WSGIServer:  # nosec B104
    """Serve the worker's counters on a port from a daemon thread; return the server."""
    server = make_server(address, port, _worker_app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("Worker metrics on port %s", server.server_port)
    return server
