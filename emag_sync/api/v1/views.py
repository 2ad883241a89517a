"""Views of /api/v1, the predecessor's contract. Each reads the predecessor's request, calls
the same service or selector as its v2 twin, and answers in the predecessor's shape.

Refused input answers as the predecessor did: 422 for a bad field or body (its validation), 400 for
a request it could not carry out, 401/403/404 with `{"detail": "..."}`.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import cast

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import (
    AuthenticationFailed,
    NotAuthenticated,
    ParseError,
    ValidationError,
)
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from emag_sync.accounts import get_account, get_accounts
from emag_sync.api.filters import OfferFilter, SyncRunFilter
from emag_sync.api.parsers import JSONParser
from emag_sync.api.serializers import ConnectionTestQuery, ErrorOutput, RefreshInput
from emag_sync.api.v1.parsers import FormOrJsonParser
from emag_sync.api.v1.serializers import (
    V1_PRODUCT_COLUMNS,
    V1CancelOutput,
    V1ConnectionOutput,
    V1HistoryOutput,
    V1HistoryQuery,
    V1LoginInput,
    V1ProductListOutput,
    V1ProductQuery,
    V1ProductSyncInput,
    V1RefreshInput,
    V1StatisticsOutput,
    V1StatusOutput,
    V1SyncOutput,
    V1TokenOutput,
    V1UserOutput,
)
from emag_sync.api.views.auth import LoginView
from emag_sync.api.views.base import (
    RUN_SYNC,
    VIEW_OFFER,
    VIEW_SYNC_RUN,
    ApiView,
    SyncTriggerMixin,
    detail_response,
    validated,
)
from emag_sync.api.views.syncs import (
    RECENT_SYNCS_SHOWN,
    finished_sync_body,
    offer_run_cancel,
    offer_syncs_start,
)
from emag_sync.models import SyncKind, SyncStatus
from emag_sync.selectors import offer_list, offer_statistics, sync_run_active_list, sync_run_list
from emag_sync.services.api_tokens import api_token_pair_issue
from emag_sync.services.connection_test import account_connection_test
from emag_sync.services.sync_engine import SyncOptionsError
from emag_sync.services.sync_runs import SyncAlreadyRunning

HTTP_422 = 422
ITEMS_PER_PAGE_NOTE = (
    "items_per_page is accepted but not used: pages are always 100 offers, eMAG's maximum."
)
ERROR_DESCRIPTIONS = {
    400: "The request could not be carried out.",
    401: "Not logged in, the token expired, or wrong credentials.",
    403: "Logged in without the permission this needs.",
    404: "No such object.",
    409: "An account's offer sync is already queued or running; nothing was started.",
    422: "A bad field, or a body that is not JSON; nothing was changed.",
    429: "Too many requests; retry after the Retry-After header's seconds.",
    502: "eMAG refused the account or could not be reached.",
}


def v1_errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Return the documented error answers of v1 ({"detail": "..."}) for status codes."""
    return {
        code: OpenApiResponse(ErrorOutput, description=ERROR_DESCRIPTIONS[code]) for code in codes
    }


def v1_schema(*, tag: str, ok, errors: tuple[int, ...], **kwargs):
    """Return the schema decorator of a v1 operation: one 200 body and the v1 error answers.

    Other extend_schema arguments (summary, description, request, parameters, auth) pass as given.
    """
    return extend_schema(tags=[tag], responses={200: ok, **v1_errors(*errors)}, **kwargs)


def error_sentence(detail, prefix: str = "") -> str:
    """Flatten DRF's field -> messages into one readable line, as the predecessor's detail."""
    if isinstance(detail, Mapping):
        parts = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else f"{prefix}{key}"
            parts.append(error_sentence(value, f"{name}." if name else ""))
        return "; ".join(part for part in parts if part)
    if isinstance(detail, list):
        return "; ".join(error_sentence(item, prefix) for item in detail)
    field = prefix.rstrip(".")
    return f"{field}: {detail}" if field else str(detail)


def _refused(message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return detail_response(message, code)


def _filtered(filterset_class, query: dict, keys: tuple[str, ...], queryset):
    """Return `queryset` filtered by the v2 FilterSet on the query's `keys`; bad values raise."""
    filterset = filterset_class(data={key: query.get(key) for key in keys}, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


class V1ErrorsMixin:
    """Answer validation errors with 422 and one `detail` line, as the predecessor did."""

    parser_classes: Sequence[type[BaseParser]] = [JSONParser, FormOrJsonParser, MultiPartParser]

    def handle_exception(self, exc):
        if isinstance(exc, ValidationError | ParseError):
            return _refused(error_sentence(exc.detail), HTTP_422)
        return super().handle_exception(exc)


class V1View(V1ErrorsMixin, ApiView):
    pass


def _token_answer(*, access: str, refresh: str) -> dict:
    lifetime = cast(timedelta, settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"])
    return {
        "access_token": access,
        "refresh_token": refresh,
        # The token scheme's name (OAuth 2), not a secret.
        "token_type": "bearer",  # nosec B105
        "expires_in": int(lifetime.total_seconds()),
    }


class V1LoginView(V1ErrorsMixin, LoginView):
    # v2's login: no authentication, its throttles, 401 (not 403) for bad credentials.

    @v1_schema(
        tag="auth",
        summary="Log in with a username or an email (in either field) and a password",
        request=V1LoginInput,
        ok=V1TokenOutput,
        errors=(400, 401, 422, 429),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = validated(V1LoginInput, request.data)
        identity = (data.get("username") or data.get("email") or "").strip()
        if not identity or not data.get("password"):
            return _refused("Username and password are required")
        tokens = api_token_pair_issue(
            request=request._request, username=identity, password=data["password"], either=True
        )
        if tokens is None:
            raise AuthenticationFailed("Incorrect username or password")
        return Response(
            V1TokenOutput(_token_answer(access=tokens.access, refresh=tokens.refresh)).data
        )


class V1RefreshView(V1ErrorsMixin, LoginView):
    # The refresh token comes as the Bearer token: as at the login, no authentication class
    # may read it (as an access token) first. Refreshing is not a login attempt: no throttle.
    throttle_classes = []

    @v1_schema(
        tag="auth",
        summary="Trade a refresh token (as the Bearer token, or refresh_token) for a new access",
        description="The refresh token stays valid until it expires and comes back unchanged.",
        request=V1RefreshInput,
        ok=V1TokenOutput,
        errors=(401, 422),
    )
    def post(self, request: Request) -> Response:
        body = V1RefreshInput(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        scheme, _, header_token = request.headers.get("Authorization", "").partition(" ")
        token = body.validated_data.get("refresh_token") or (
            header_token.strip() if scheme.lower() == "bearer" else ""
        )
        if not token:
            raise NotAuthenticated("Not authenticated")
        refresh = RefreshInput(data={"refresh": token})
        try:
            refresh.is_valid(raise_exception=True)
        except (TokenError, AuthenticationFailed, ValidationError):
            raise AuthenticationFailed("Could not validate refresh token") from None
        access = refresh.validated_data["access"]
        return Response(V1TokenOutput(_token_answer(access=access, refresh=token)).data)


class V1CurrentUserView(V1ErrorsMixin, APIView):
    permission_classes = [IsAuthenticated]

    @v1_schema(
        tag="auth",
        summary="The logged-in user",
        ok=V1UserOutput,
        errors=(401,),
    )
    def get(self, request: Request) -> Response:
        return Response(V1UserOutput(request.user).data)


class V1ProductSyncView(SyncTriggerMixin, V1View):
    @v1_schema(
        tag="sync",
        summary="Start an offer sync (run_async false: answered when it ends)",
        description=(
            "max_pages applies to incremental syncs; with another mode it is refused (422), "
            "never ignored. items_per_page is accepted and not used (pages are always 100). "
            "A second trigger while an account syncs is refused with 409."
        ),
        request=V1ProductSyncInput,
        ok=OpenApiResponse(
            V1SyncOutput,
            description="Finished (run_async false) or, with status accepted, queued.",
        ),
        errors=(400, 401, 403, 409, 422, 429),
    )
    def post(self, request: Request) -> Response:
        data = validated(V1ProductSyncInput, request.data)
        try:
            runs = offer_syncs_start(data, triggered_by=request.user.get_username())
        except SyncAlreadyRunning as busy:
            return _refused(busy.explained(), status.HTTP_409_CONFLICT)
        except SyncOptionsError as error:
            return _refused(f"Invalid sync configuration: {error}")
        notes = f" {ITEMS_PER_PAGE_NOTE}" if data["items_per_page"] != 100 else ""
        run_ids = [run.pk for run in runs]
        if data["run_async"]:
            body = {
                "status": "accepted",
                "message": f"Queued offer syncs of {', '.join(data['accounts'])}.{notes}",
                "sync_id": str(run_ids[0]),
                "data": {"run_ids": run_ids},
            }
            return Response(V1SyncOutput(body).data)
        finished = finished_sync_body(runs)
        totals = finished["totals"]
        body = {
            "status": finished["status"],
            "message": finished["message"] + notes,
            "sync_id": str(run_ids[0]),
            "data": {
                "total_processed": totals["processed"],
                "created": totals["created"],
                "updated": totals["updated"],
                "unchanged": totals["unchanged"],
                "failed": totals["failed"],
                "errors": [
                    f"{run.account}: {error.get('message', error)}"
                    for run in runs
                    for error in run.errors or []
                ],
                "run_ids": run_ids,
            },
        }
        return Response(V1SyncOutput(body).data)


class V1ProductSyncCancelView(V1View):
    write_permission = RUN_SYNC

    @v1_schema(
        tag="sync",
        summary="Cancel an offer sync",
        description=(
            "A queued run is cancelled at once; a running one stops after its current page. "
            "400 when the run already ended."
        ),
        ok=V1CancelOutput,
        errors=(400, 401, 403, 404),
    )
    def delete(self, request: Request, pk: int) -> Response:
        run, ended_on_its_own = offer_run_cancel(pk)
        if ended_on_its_own:
            return _refused(f"Cannot cancel sync with status: {run.status}")
        body = {
            "status": "success",
            "message": "Sync cancellation requested",
            "data": {"sync_id": str(run.pk)},
        }
        return Response(V1CancelOutput(body).data)


class V1ProductSyncStatusView(V1View):
    read_permissions = (VIEW_SYNC_RUN,)

    @v1_schema(
        tag="sync",
        summary="Whether an offer sync is queued or running, that sync, and the latest runs",
        ok=V1StatusOutput,
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        active = list(sync_run_active_list(kind=SyncKind.OFFERS))
        running = [run for run in active if run.status == SyncStatus.RUNNING]
        body = {
            "is_running": bool(active),
            "current_sync": next(iter(running or active), None),
            "recent_syncs": list(sync_run_list(kind=SyncKind.OFFERS)[:RECENT_SYNCS_SHOWN]),
        }
        return Response(V1StatusOutput(body).data)


class V1ProductStatisticsView(V1View):
    read_permissions = (VIEW_OFFER, VIEW_SYNC_RUN)

    @v1_schema(
        tag="products",
        summary="Offers per account and the latest runs",
        ok=V1StatisticsOutput,
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        statistics = offer_statistics(accounts=list(get_accounts()))
        body = {
            "products_by_account": statistics["products_by_account"],
            "total_products": statistics["total_products"],
            "recent_syncs": list(sync_run_list(kind=SyncKind.OFFERS)[:RECENT_SYNCS_SHOWN]),
        }
        return Response(V1StatisticsOutput(body).data)


class V1ProductHistoryView(V1View):
    read_permissions = (VIEW_SYNC_RUN,)

    @v1_schema(
        tag="sync",
        summary="Offer sync runs, newest first",
        parameters=[V1HistoryQuery],
        ok=V1HistoryOutput,
        errors=(401, 403, 422),
    )
    def get(self, request: Request) -> Response:
        query = validated(V1HistoryQuery, request.query_params)
        runs = _filtered(
            SyncRunFilter, query, ("account_type", "status"), sync_run_list(kind=SyncKind.OFFERS)
        )
        syncs = list(runs[: query["limit"]])
        return Response(
            V1HistoryOutput(
                {"status": "success", "data": {"syncs": syncs, "count": len(syncs)}}
            ).data
        )


class V1ProductListView(V1View):
    read_permissions = (VIEW_OFFER,)

    @v1_schema(
        tag="products",
        summary="Offers, with skip and limit; search matches SKU (any part), name, PNK, EAN, id",
        parameters=[V1ProductQuery],
        ok=V1ProductListOutput,
        errors=(401, 403, 422),
    )
    def get(self, request: Request) -> Response:
        data = validated(V1ProductQuery, request.query_params)
        offers = _filtered(
            OfferFilter,
            data,
            ("account_type", "search"),
            offer_list().only(*V1_PRODUCT_COLUMNS),
        )
        skip, limit = data["skip"], data["limit"]
        page = list(offers[skip : skip + limit])
        body = {
            "status": "success",
            "data": {
                "products": page,
                "pagination": {"skip": skip, "limit": limit, "total": offers.count()},
            },
        }
        return Response(V1ProductListOutput(body).data)


class V1ProductTestConnectionView(SyncTriggerMixin, V1View):
    @v1_schema(
        tag="sync",
        summary="Test an account's connection to eMAG",
        description=(
            "200 with the account's real offer count; 400 when the account has no "
            "credentials; 502 with a detail that tells bad credentials, an IP eMAG has not "
            "whitelisted and an unreachable eMAG apart."
        ),
        parameters=[
            OpenApiParameter("account_type", str, description="One account (default: the first).")
        ],
        request=None,
        ok=V1ConnectionOutput,
        errors=(400, 401, 403, 422, 429, 502),
    )
    def post(self, request: Request) -> Response:
        account = get_account(validated(ConnectionTestQuery, request.query_params)["account_type"])
        if not account.has_credentials:
            return _refused(f"Missing credentials for {account.name} account.")
        check = account_connection_test(account=account.name)
        if not check.ok:
            return _refused(check.message, status.HTTP_502_BAD_GATEWAY)
        body = {
            "status": "success",
            "message": f"Connection to {account.name} account successful",
            "data": {
                "account_type": account.name,
                "base_url": account.api_url,
                "total_products": check.total_products or 0,
            },
        }
        return Response(V1ConnectionOutput(body).data)
