"""What every API view shares: the permission rule and the permission names."""

from rest_framework.views import APIView

from emag_sync.api.permissions import ReadWithViewPermission

VIEW_OFFER = "emag_sync.view_offer"
VIEW_SYNC_RUN = "emag_sync.view_syncrun"
VIEW_CONFLICT = "emag_sync.view_conflict"
RUN_SYNC = "emag_sync.run_sync"


# Reads need every permission in `read_permissions`; writes need staff status or
# `write_permission` (see ReadWithViewPermission). No docstring here: drf-spectacular would
# copy it into every operation's description.
class ApiView(APIView):
    permission_classes = [ReadWithViewPermission]
    read_permissions: tuple[str, ...] = ()
    write_permission: str | None = None
