"""Who may call what: reading needs the model's view permission; acting needs more.

Starting or cancelling syncs, testing connections, editing offers, resolving conflicts and
acknowledging orders need staff status or a dedicated permission (the views name it).
"""

from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadWithViewPermission(BasePermission):
    """Allow reads to users with every permission in `view.read_permissions`, and writes to
    staff or users with `view.write_permission`."""

    message = gettext_lazy("You do not have permission to do this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS:
            return user.has_perms(getattr(view, "read_permissions", ()))
        write_permission = getattr(view, "write_permission", None)
        return user.is_staff or bool(write_permission and user.has_perm(write_permission))
