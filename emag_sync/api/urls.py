"""URLs of the API (v2), mounted at /api/v2/ without trailing slashes.

The predecessor's clients use /api/v1 (emag_sync/api/v1/), an adapter over the same services.
"""

from django.urls import path

from emag_sync.api.views import auth, conflicts, health, orders, products, pushes, syncs

app_name = "api"

urlpatterns = [
    path("auth/login", auth.LoginView.as_view(), name="login"),
    path("auth/refresh", auth.RefreshView.as_view(), name="refresh"),
    path("emag/products/sync", syncs.ProductSyncView.as_view(), name="products-sync"),
    path(
        "emag/products/sync/<int:pk>",
        syncs.ProductSyncCancelView.as_view(),
        name="products-sync-cancel",
    ),
    path("emag/products/status", syncs.ProductSyncStatusView.as_view(), name="products-status"),
    path(
        "emag/products/statistics",
        products.ProductStatisticsView.as_view(),
        name="products-statistics",
    ),
    path("emag/products/history", syncs.ProductHistoryView.as_view(), name="products-history"),
    path("emag/products/products", products.OfferListView.as_view(), name="products-list"),
    path(
        "emag/products/products/<int:pk>",
        products.OfferDetailView.as_view(),
        name="products-detail",
    ),
    path(
        "emag/products/products/<int:pk>/push",
        pushes.ProductPushView.as_view(),
        name="products-push-one",
    ),
    path("emag/products/push", pushes.PushView.as_view(), name="products-push"),
    path("emag/pushes", pushes.PushListView.as_view(), name="pushes-list"),
    path(
        "emag/products/products/<int:pk>/changes",
        products.OfferChangesView.as_view(),
        name="products-changes",
    ),
    path(
        "emag/products/test-connection",
        syncs.ProductTestConnectionView.as_view(),
        name="products-test-connection",
    ),
    path("emag/conflicts", conflicts.ConflictListView.as_view(), name="conflicts-list"),
    path(
        "emag/conflicts/<int:pk>/resolve",
        conflicts.ConflictResolveView.as_view(),
        name="conflicts-resolve",
    ),
    path("emag/orders", orders.OrderListView.as_view(), name="orders-list"),
    path("emag/orders/sync", orders.OrderSyncView.as_view(), name="orders-sync"),
    path("emag/orders/<int:pk>", orders.OrderDetailView.as_view(), name="orders-detail"),
    path(
        "emag/orders/<int:pk>/acknowledge",
        orders.OrderAcknowledgeView.as_view(),
        name="orders-acknowledge",
    ),
    path("emag/health", health.HealthDetailView.as_view(), name="health-detail"),
]
