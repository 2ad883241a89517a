"""Gunicorn settings read from the working directory: the Prometheus bookkeeping only.

Every other setting comes from the command line (docker-compose.yml, Dockerfile). The
multiprocess folder (PROMETHEUS_MULTIPROC_DIR) is emptied before gunicorn starts, by the
docker entrypoint (docker/entrypoint.sh), not here: a restarted worker must keep its
siblings' counts.
"""

import os


def child_exit(server, worker):
    """Drop an exited worker's share of the live gauges; its counters stay counted."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
