"""URLs of /api/v1, the predecessor's contract: its paths, without trailing slashes."""

from django.urls import path

from emag_sync.api.v1 import views

app_name = "api_v1"

urlpatterns = [
    path("auth/login", views.V1LoginView.as_view(), name="login"),
    path("auth/refresh-token", views.V1RefreshView.as_view(), name="refresh-token"),
    path("users/me", views.V1CurrentUserView.as_view(), name="users-me"),
    path("emag/products/sync", views.V1ProductSyncView.as_view(), name="products-sync"),
    path(
        "emag/products/sync/<int:pk>",
        views.V1ProductSyncCancelView.as_view(),
        name="products-sync-cancel",
    ),
    path("emag/products/status", views.V1ProductSyncStatusView.as_view(), name="products-status"),
    path(
        "emag/products/statistics",
        views.V1ProductStatisticsView.as_view(),
        name="products-statistics",
    ),
    path("emag/products/history", views.V1ProductHistoryView.as_view(), name="products-history"),
    path("emag/products/products", views.V1ProductListView.as_view(), name="products-list"),
    path(
        "emag/products/test-connection",
        views.V1ProductTestConnectionView.as_view(),
        name="products-test-connection",
    ),
]
