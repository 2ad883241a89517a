"""What the API views share: the permission rule, its permission names, CSV lists, and the
steps every view takes alike (validating input, a 404 for an unknown object, a `detail` answer).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from emag_sync.api.permissions import ReadWithViewPermission
from emag_sync.api.renderers import CsvRenderer
from emag_sync.api.throttles import SyncTriggerThrottle
from emag_sync.exports import csv_lines

VIEW_OFFER = "emag_sync.view_offer"
VIEW_SYNC_RUN = "emag_sync.view_syncrun"
VIEW_CONFLICT = "emag_sync.view_conflict"
RUN_SYNC = "emag_sync.run_sync"


def acting_user(request: Request) -> User | None:
    """Return who acts, for a service's record of it (writes need a signed-in user anyway)."""
    return request.user if isinstance(request.user, User) else None


def validated(serializer_class: type[serializers.Serializer], data, **context) -> dict:
    """Return the validated data of an input serializer; raise ValidationError (a 400) if bad."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@contextmanager
def not_found_as_404(message: str) -> Iterator[None]:
    """Turn a selector's DoesNotExist inside the block into a 404 with `message`."""
    try:
        yield
    except ObjectDoesNotExist:
        raise NotFound(message) from None


def detail_response(message: str, code: int = status.HTTP_409_CONFLICT) -> Response:
    """Return a refusal as `{"detail": message}` with its status code (409 unless told)."""
    return Response({"detail": message}, status=code)


# Reads need every permission in `read_permissions`; writes need staff status or
# `write_permission` (see ReadWithViewPermission). No docstrings on these bases:
# drf-spectacular would copy them into every operation's description.
class ApiView(APIView):
    permission_classes = [ReadWithViewPermission]
    read_permissions: tuple[str, ...] = ()
    write_permission: str | None = None


class ApiListView(ListAPIView):
    permission_classes = [ReadWithViewPermission]
    read_permissions: tuple[str, ...] = ()
    write_permission: str | None = None


# A view that starts syncs (or calls eMAG): the run permission, and the trigger throttle.
class SyncTriggerMixin:
    write_permission: str | None = RUN_SYNC
    throttle_classes: Sequence[type[BaseThrottle]] = [SyncTriggerThrottle]


# A list that streams every filtered row as CSV (unpaged) on ?format=csv or Accept: text/csv;
# subclasses give `csv_rows`. Errors stay JSON, since a CSV error body would be unreadable.
class CsvListView(ApiListView):
    renderer_classes = [JSONRenderer, CsvRenderer]
    csv_filename = "export.csv"

    def csv_rows(self) -> Iterator[list[str]]:
        raise NotImplementedError

    def perform_content_negotiation(self, request: Request, force: bool = False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            # DRF answers an unknown ?format= with 404; it is a bad parameter.
            raise ValidationError({"format": [gettext("Use json or csv.")]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and isinstance(renderer, CsvRenderer):
            if response.status_code >= 400:
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def list(self, request: Request, *args, **kwargs):
        if isinstance(request.accepted_renderer, CsvRenderer):
            response = StreamingHttpResponse(
                csv_lines(self.csv_rows()), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
            return response
        return super().list(request, *args, **kwargs)
