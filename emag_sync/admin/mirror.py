"""What every admin over eMAG-owned rows shares: rows come only from syncs."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class EmagMirrorMixin:
    """Refuse adding and deleting rows that only eMAG creates, and load the shared assets."""

    class Media:
        css = {"all": ["emag_sync/admin.css"]}
        js = ["emag_sync/copy.js"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("content hash"))
    def content_hash_hex(self, obj) -> str:
        return bytes(obj.content_hash).hex() if obj.content_hash else "—"
