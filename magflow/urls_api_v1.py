"""The predecessor's contract, /api/v1: the URL conf of docs/openapi-v1.yaml."""

from django.urls import include, path, re_path

from magflow.api_errors import api_not_found

urlpatterns = [
    path("api/v1/", include("emag_sync.api.v1.urls")),
    re_path(r"^api/v1/", api_not_found),
]
