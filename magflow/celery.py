"""The Celery app: settings from Django's CELERY_ namespace, tasks found by autodiscovery."""

import os

from celery import Celery

from emag_sync.worker import DeadRunReaper

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magflow.settings")

app = Celery("magflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker reaps runs whose process died, so none stays `running` for long.
app.steps["worker"].add(DeadRunReaper)
