"""Cheap liveness probes of the database and the Celery broker, for /health and health checks.

A probe never raises: it answers up or down, with the reason for logs and the stored check.
The reason may name hosts; /health shows only up or down.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError, connections

# A monitor polls /health every few seconds: a probe must answer well inside that.
BROKER_PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Probe:
    ok: bool
    latency_ms: int
    error: str = ""


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def probe_database(alias: str = "default") -> Probe:
    """Run `SELECT 1` on the database and report whether it answered."""
    started = time.monotonic()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Probe(ok=False, latency_ms=_elapsed_ms(started), error=str(error).strip())
    return Probe(ok=True, latency_ms=_elapsed_ms(started))


def probe_broker(timeout: float = BROKER_PROBE_TIMEOUT) -> Probe:
    """Connect to the Celery broker once, without retrying, and report whether it answered."""
    from magflow.celery import app

    started = time.monotonic()
    try:
        with app.connection_for_write(
            connect_timeout=timeout,
            transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
        ) as broker:
            # kombu takes any number of seconds here; its stubs say int.
            broker.ensure_connection(max_retries=0, timeout=timeout)  # type: ignore[arg-type]
            if broker.transport_cls == "filesystem":
                _check_filesystem_broker(broker.transport_options or {})
    except Exception as error:  # kombu raises transport-specific errors; any means "down"
        return Probe(ok=False, latency_ms=_elapsed_ms(started), error=str(error).strip())
    return Probe(ok=True, latency_ms=_elapsed_ms(started))


def _check_filesystem_broker(options: dict) -> None:
    """The filesystem transport "connects" to anything: check its folders are usable."""
    for key in ("data_folder_in", "data_folder_out"):
        folder = Path(options.get(key, ""))
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise OSError(f"the broker folder {folder} is missing or not writable")
