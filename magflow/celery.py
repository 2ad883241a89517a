"""The Celery app: settings from Django's CELERY_ namespace, tasks found by autodiscovery."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

from emag_sync.worker import DeadRunReaper

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magflow.settings")

# `filesystem://` (the embedded default) is kombu's filesystem transport with atomic writes.
TRANSPORT_ALIASES["filesystem"] = "magflow.broker:AtomicFilesystemTransport"

app = Celery("magflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker reaps runs whose process died, so none stays `running` for long.
app.steps["worker"].add(DeadRunReaper)
