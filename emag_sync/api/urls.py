"""URLs of the API (v2), mounted at /api/v2/ without trailing slashes.

The predecessor's clients use /api/v1 (emag_sync/api/v1/), an adapter over the same services.
"""

from django.urls import path
from rest_framework.views import APIView

from emag_sync.api.views import auth, conflicts, health, orders, products, pushes, syncs

app_name = "api"

# One row a route: (pattern, view, URL name).
ROUTES: list[tuple[str, type[APIView], str]] = [
    ("auth/login", auth.LoginView, "login"),
    ("auth/refresh", auth.RefreshView, "refresh"),
    ("emag/products/sync", syncs.ProductSyncView, "products-sync"),
    ("emag/products/sync/<int:pk>", syncs.ProductSyncCancelView, "products-sync-cancel"),
    ("emag/products/status", syncs.ProductSyncStatusView, "products-status"),
    ("emag/products/statistics", products.ProductStatisticsView, "products-statistics"),
    ("emag/products/history", syncs.ProductHistoryView, "products-history"),
    ("emag/products/products", products.OfferListView, "products-list"),
    ("emag/products/products/<int:pk>", products.OfferDetailView, "products-detail"),
    ("emag/products/products/<int:pk>/push", pushes.ProductPushView, "products-push-one"),
    ("emag/products/push", pushes.PushView, "products-push"),
    ("emag/pushes", pushes.PushListView, "pushes-list"),
    ("emag/products/products/<int:pk>/changes", products.OfferChangesView, "products-changes"),
    ("emag/products/test-connection", syncs.ProductTestConnectionView, "products-test-connection"),
    ("emag/conflicts", conflicts.ConflictListView, "conflicts-list"),
    ("emag/conflicts/<int:pk>/resolve", conflicts.ConflictResolveView, "conflicts-resolve"),
    ("emag/orders", orders.OrderListView, "orders-list"),
    ("emag/orders/sync", orders.OrderSyncView, "orders-sync"),
    ("emag/orders/<int:pk>", orders.OrderDetailView, "orders-detail"),
    ("emag/orders/<int:pk>/acknowledge", orders.OrderAcknowledgeView, "orders-acknowledge"),
    ("emag/health", health.HealthDetailView, "health-detail"),
]

urlpatterns = [path(route, view.as_view(), name=name) for route, view, name in ROUTES]
