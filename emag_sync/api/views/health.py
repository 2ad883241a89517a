"""The latest stored health check, in detail."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from emag_sync.api.openapi import READ_ERRORS, error_responses
from emag_sync.api.serializers.health import HealthCheckOutput
from emag_sync.api.views.base import ApiView
from emag_sync.selectors import health_check_latest


class HealthDetailView(ApiView):
    read_permissions = ("emag_sync.view_healthcheck",)

    @extend_schema(
        tags=["health"],
        summary="The latest stored health check, in detail",
        responses={200: HealthCheckOutput, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request: Request) -> Response:
        check = health_check_latest()
        if check is None:
            raise NotFound("No health check has run yet.")
        return Response(HealthCheckOutput(check).data)
