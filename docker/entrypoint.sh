#!/bin/sh
# Entry point of every container (web, worker, beat): empty this container's Prometheus
# multiprocess folder, then become the command. The processes a command forks (gunicorn's
# workers, Celery's pool) share the folder; a restarted container starts counting from zero.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"
