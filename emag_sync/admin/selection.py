"""Admin actions only on selections that can name rows: ticked ids are checked first.

Django filters the changelist by the posted `_selected_action` values as they come, so a
forged or stale value ("abc", "1.5", an id beyond any database integer) ends in a server
error instead of an answer. Such a selection is refused with a message, and nothing is done.
"""

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db import connection

from emag_sync.admin.bases import ModelAdminMixin


class CheckedSelectionMixin(ModelAdminMixin):
    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        low, high = connection.ops.integer_field_range(pk.get_internal_type())
        for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
            try:
                number = pk.to_python(value)
            except ValidationError:
                number = None
            if not isinstance(number, int) or not low <= number <= high:
                self.message_user(
                    request, "Those rows do not exist; nothing was done.", messages.WARNING
                )
                return None
        return super().response_action(request, queryset)
