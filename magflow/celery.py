"""The Celery app: settings from Django's CELERY_ namespace, tasks found by autodiscovery."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magflow.settings")

app = Celery("magflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
