"""The conflict queue: list conflicts and resolve them."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from emag_sync.api.filters import ConflictFilter
from emag_sync.api.openapi import READ_ERRORS, error_responses
from emag_sync.api.pagination import DetailListPagination
from emag_sync.api.serializers import (
    ConflictOutput,
    ConflictResolveInput,
    ErrorOutput,
)
from emag_sync.api.views.base import (
    VIEW_CONFLICT,
    ApiListView,
    ApiView,
    acting_user,
    detail_response,
    not_found_as_404,
    validated,
)
from emag_sync.models import Conflict, ConflictStatus
from emag_sync.selectors import (
    conflict_get,
    conflict_list,
)
from emag_sync.services.conflicts import conflict_resolve
from emag_sync.services.local_edits import LocalEditError


@extend_schema(
    tags=["conflicts"],
    summary="Conflicts between local values and eMAG, newest first",
    responses={200: ConflictOutput(many=True), **error_responses(400, *READ_ERRORS)},
)
class ConflictListView(ApiListView):
    read_permissions = (VIEW_CONFLICT,)
    serializer_class = ConflictOutput
    filterset_class = ConflictFilter
    pagination_class = DetailListPagination

    def get_queryset(self) -> QuerySet[Conflict]:
        return conflict_list()


class ConflictResolveView(ApiView):
    write_permission = "emag_sync.change_conflict"

    @extend_schema(
        tags=["conflicts"],
        summary="Resolve a conflict: accept eMAG's value, keep the local one, or set another",
        request=ConflictResolveInput,
        responses={
            200: ConflictOutput,
            409: OpenApiResponse(ErrorOutput, description="The conflict is already resolved."),
            **error_responses(400, *READ_ERRORS, 404),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        with not_found_as_404(f"No conflict #{pk}."):
            conflict = conflict_get(conflict_id=pk)
        if conflict.status != ConflictStatus.OPEN:
            return self._already_resolved(conflict)
        resolution = validated(ConflictResolveInput, request.data, conflict=conflict)
        try:
            resolved = conflict_resolve(
                conflicts=[conflict],
                resolution=resolution["resolution"],
                value=resolution.get("value"),
                user=acting_user(request),
            )
        except LocalEditError as error:
            raise ValidationError({"value": [str(error)]}) from None
        if not resolved:
            return self._already_resolved(conflict)
        return Response(ConflictOutput(conflict_get(conflict_id=pk)).data)

    @staticmethod
    def _already_resolved(conflict: Conflict) -> Response:
        return detail_response(f"Conflict #{conflict.pk} is already resolved.")
