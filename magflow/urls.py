from django.contrib import admin
from django.urls import path

from emag_sync.views import health

admin.site.site_header = "MagFlow eMAG Sync"
admin.site.site_title = "MagFlow eMAG Sync"
admin.site.index_title = "eMAG mirror"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
]
