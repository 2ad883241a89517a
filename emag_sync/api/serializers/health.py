"""The stored health check, shown whole. Imported only once its model exists."""

from rest_framework import serializers

from emag_sync.models import HealthCheck


class HealthCheckOutput(serializers.ModelSerializer):
    class Meta:
        model = HealthCheck
        fields = [field.name for field in HealthCheck._meta.concrete_fields]
        read_only_fields = fields
