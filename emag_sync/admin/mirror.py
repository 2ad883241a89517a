"""What every admin over eMAG-owned rows shares: rows come only from syncs."""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _


class EmagMirrorMixin:
    """Refuse adding and deleting rows that only eMAG creates; search them; load the assets."""

    class Media:
        css = {"all": ["emag_sync/admin.css"]}
        js = ["emag_sync/copy.js"]

    # The mirror's own changelist (its columns, prefetches, counts) and search: a selector
    # over the search columns and their indexes, not ModelAdmin's icontains on every field.
    changelist_class: type[ChangeList]

    def mirror_search(self, queryset: QuerySet, term: str) -> QuerySet:
        raise NotImplementedError

    def get_changelist(self, request, **kwargs):
        return self.changelist_class

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return self.mirror_search(queryset, search_term), False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("content hash"))
    def content_hash_hex(self, obj) -> str:
        return bytes(obj.content_hash).hex() if obj.content_hash else "—"
