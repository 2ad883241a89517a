"""The admin: the product's UI for sellers.

- `dashboard`: the sync dashboard (cards, connection tests, Sync form, live progress, history)
- `offers`: the offer mirror (filters, search, CSV export, local overlay)
- `local_edits`: every local value, with who set it; dropping one restores eMAG's
- `pushes`: every push of local values to eMAG, its outcome and eMAG's messages; retry
- `conflicts`: base, local and eMAG values side by side, decided one by one or in bulk
- `orders`: the order mirror, read-only (lines, status history); sync now, acknowledge, CSV
- `runs`: sync runs with their request log, checkpoints, the eMAG request log

Admin code writes only through `emag_sync.services`; what it reads beyond a ModelAdmin's own
queryset comes from `emag_sync.selectors`.
"""

from django.contrib import admin

from emag_sync.admin import (  # noqa: F401  (registers the ModelAdmins)
    conflicts,
    local_edits,
    offers,
    orders,
    pushes,
    runs,
)

# The app list beside every page takes 300 of a 1,366-pixel laptop screen's width, which the
# lists need for their columns; every page links home and to the Sync dashboard instead.
admin.site.enable_nav_sidebar = False
