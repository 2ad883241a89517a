from django.apps import AppConfig


class EmagSyncConfig(AppConfig):
    name = "emag_sync"
    verbose_name = "eMAG sync"
    default_auto_field = "django.db.models.BigAutoField"
