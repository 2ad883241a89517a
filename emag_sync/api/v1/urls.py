"""URLs of /api/v1, the predecessor's contract: its paths, without trailing slashes."""

from django.urls import path
from rest_framework.views import APIView

from emag_sync.api.v1.views import (
    V1CurrentUserView,
    V1LoginView,
    V1ProductHistoryView,
    V1ProductListView,
    V1ProductStatisticsView,
    V1ProductSyncCancelView,
    V1ProductSyncStatusView,
    V1ProductSyncView,
    V1ProductTestConnectionView,
    V1RefreshView,
)

app_name = "api_v1"

# One row a route: (pattern, view, URL name).
ROUTES: list[tuple[str, type[APIView], str]] = [
    ("auth/login", V1LoginView, "login"),
    ("auth/refresh-token", V1RefreshView, "refresh-token"),
    ("users/me", V1CurrentUserView, "users-me"),
    ("emag/products/sync", V1ProductSyncView, "products-sync"),
    ("emag/products/sync/<int:pk>", V1ProductSyncCancelView, "products-sync-cancel"),
    ("emag/products/status", V1ProductSyncStatusView, "products-status"),
    ("emag/products/statistics", V1ProductStatisticsView, "products-statistics"),
    ("emag/products/history", V1ProductHistoryView, "products-history"),
    ("emag/products/products", V1ProductListView, "products-list"),
    ("emag/products/test-connection", V1ProductTestConnectionView, "products-test-connection"),
]

urlpatterns = [path(route, view.as_view(), name=name) for route, view, name in ROUTES]
