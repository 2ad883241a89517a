"""The stored health check, shown whole. Imported only once its model exists."""

from django.apps import apps
from rest_framework import serializers

from emag_sync.selectors import HEALTH_CHECK_MODEL

HealthCheck = apps.get_model("emag_sync", HEALTH_CHECK_MODEL)


class HealthCheckOutput(serializers.ModelSerializer):
    class Meta:
        model = HealthCheck
        fields = [field.name for field in HealthCheck._meta.concrete_fields]
        read_only_fields = fields
