"""The bases of our ModelAdmins: read-only records, and the mixins' base for the type checker.

A mixin calls ModelAdmin's methods and reads its attributes (`self.opts`, `super().get_urls()`);
deriving it from ModelAdmin only while type checking lets mypy check those uses without
changing the classes' method resolution order.
"""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    ModelAdminMixin = ModelAdmin[Any]
else:
    ModelAdminMixin = object


class NoHandWritesMixin:
    """Refuse adding, changing and deleting by hand (a ModelAdmin's or an inline's)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoHandWritesMixin, admin.ModelAdmin):
    """Records written only by the product: viewable, never added, changed or deleted by hand."""

    show_facets = admin.ShowFacets.NEVER

    class Media:
        css = {"all": ["emag_sync/admin.css"]}


class OfferRecordAdmin(ReadOnlyAdmin):
    """Records that belong to one offer (`offer`), listed with a link to it."""

    @admin.display(description=_("offer"), ordering="offer__part_number")
    def offer_link(self, record):
        url = reverse("admin:emag_sync_offer_change", args=[record.offer_id])
        return format_html(
            '<a href="{}">{}</a>', url, record.offer.part_number or record.offer.emag_id
        )
