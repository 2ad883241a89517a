import os

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class EmagSyncConfig(AppConfig):
    name = "emag_sync"
    verbose_name = _("eMAG sync")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import pre_migrate

        from emag_sync.predecessor_env import predecessor_variables_report
        from emag_sync.schema_history import refuse_superseded_schema_before_migrating

        # Once per process, at start: a predecessor's .env is never silently half-applied.
        predecessor_variables_report(environ=os.environ, accounts=settings.EMAG_ACCOUNTS)
        # Before migrate touches a database built by the migrations replaced before release.
        pre_migrate.connect(refuse_superseded_schema_before_migrating, sender=self)
