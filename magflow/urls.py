from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from emag_sync.admin.login import admin_login
from emag_sync.views import health

admin.site.site_header = "MagFlow eMAG Sync"
admin.site.site_title = "MagFlow eMAG Sync"
admin.site.index_title = "eMAG mirror"
# The project has no public site: no "View site" link to a page that does not exist.
admin.site.site_url = None


@csrf_exempt  # it changes nothing, and a CSRF refusal would answer in HTML
def api_not_found(request, *args, **kwargs):
    """Answer an unknown API path in JSON, as the API answers everything else."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    # Before the admin's own URLs: its login form, throttled like the API's.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("api/v1/", include("emag_sync.api.urls")),
    # Without it Django would answer, say, a negative id with an HTML page.
    re_path(r"^api/v1/", api_not_found),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves the UI's start-up script as a file: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
]
