"""URL of the detailed health check, for when `HealthCheck` and `health_check_latest` exist.

Switch it on in urls.py, then regenerate the committed schema (`make schema`).
"""

from django.urls import path

from emag_sync.api.views import health

urlpatterns = [
    path("emag/health", health.HealthDetailView.as_view(), name="health-detail"),
]
