import os

from django.apps import AppConfig
from django.conf import settings


class EmagSyncConfig(AppConfig):
    name = "emag_sync"
    verbose_name = "eMAG sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from emag_sync.predecessor_env import predecessor_variables_report

        # Once per process, at start: a predecessor's .env is never silently half-applied.
        predecessor_variables_report(environ=os.environ, accounts=settings.EMAG_ACCOUNTS)
