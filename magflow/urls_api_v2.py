"""The API's own version, /api/v2: the URL conf its OpenAPI schema (docs/openapi.yaml) is made of."""

from django.urls import include, path, re_path

from magflow.api_errors import api_not_found

urlpatterns = [
    path("api/v2/", include("emag_sync.api.urls")),
    # Without it Django would answer, say, a negative id with an HTML page.
    re_path(r"^api/v2/", api_not_found),
]
