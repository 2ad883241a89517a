"""URLs of the orders API, for when `Order`, `OrderLine` and `OrderStatusChange` exist.

Switch them on in urls.py, then regenerate the committed schema (`make schema`).
"""

from django.urls import path

from emag_sync.api.views import orders

urlpatterns = [
    path("emag/orders", orders.OrderListView.as_view(), name="orders-list"),
    path("emag/orders/sync", orders.OrderSyncView.as_view(), name="orders-sync"),
    path("emag/orders/<int:pk>", orders.OrderDetailView.as_view(), name="orders-detail"),
    path(
        "emag/orders/<int:pk>/acknowledge",
        orders.OrderAcknowledgeView.as_view(),
        name="orders-acknowledge",
    ),
]
