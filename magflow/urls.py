from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog, set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from emag_sync.admin.login import admin_login
from emag_sync.api.v1.schema import SCHEMA_SETTINGS as V1_SCHEMA_SETTINGS
from emag_sync.views import liveness, metrics

admin.site.site_header = "MagFlow eMAG Sync"
admin.site.site_title = "MagFlow eMAG Sync"
admin.site.index_title = _("eMAG mirror")
# The project has no public site: no "View site" link to a page that does not exist.
admin.site.site_url = None


urlpatterns = [
    # Before the admin's own URLs: its login form, throttled like the API's.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("health", liveness, name="health"),
    path("metrics", metrics, name="metrics"),
    # The admin header's language switch (POST, remembered in a cookie) and the translations
    # the dashboard's scripts read, served from here: no script comes from elsewhere (CSP).
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["emag_sync"]), name="javascript-catalog"),
    # The API (v2) and, for clients of the predecessor, its contract (v1); each has its schema.
    path("", include("magflow.urls_api_v2")),
    path("", include("magflow.urls_api_v1")),
    path(
        "api/schema/", SpectacularAPIView.as_view(urlconf="magflow.urls_api_v2"), name="api-schema"
    ),
    path(
        "api/schema/v1/",
        SpectacularAPIView.as_view(
            urlconf="magflow.urls_api_v1", custom_settings=V1_SCHEMA_SETTINGS
        ),
        name="api-schema-v1",
    ),
    # The split view serves the UI's start-up script as a file: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
]
