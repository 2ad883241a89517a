"""The admin: the product's UI for sellers.

- `dashboard`: the sync dashboard (cards, connection tests, Sync form, live progress, history)
- `offers`: the offer mirror (filters, search, CSV export, local overlay) and local edits
- `conflicts`: base, local and eMAG values side by side, decided one by one or in bulk
- `runs`: sync runs with their request log, checkpoints, the eMAG request log

Admin code only reads through `emag_sync.selectors` and writes through `emag_sync.services`.
"""

from emag_sync.admin import conflicts, offers, runs  # noqa: F401  (registers the ModelAdmins)
