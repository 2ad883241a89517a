"""The predecessor's environment variables: read where they map, named once where they don't.

Read (see magflow/settings.py and emag_sync/accounts.py): `EMAG_<NAME>_BASE_URL` as
`EMAG_<NAME>_API_URL`, `EMAG_ENABLE_SCHEDULED_SYNC` (false creates the offer sync entries
disabled), `EMAG_MAIN_LOG_RETENTION` as `SYNC_LOG_RETENTION_DAYS`. Every other one of its
variables that is set is reported at start, with what to use instead, so a predecessor's
`.env` is never silently half-applied.
"""

import logging
from collections.abc import Iterable, Mapping

logger = logging.getLogger("emag_sync.config")

SCHEDULE_ADMIN = "the entries under Periodic tasks in the admin"
NOTHING_BUILT_IN = "nothing: eMAG's limits (3 requests/s, 12/s for orders) are built in"

# Per-account variables (EMAG_<NAME>_...) of the predecessor that have no twin here.
ACCOUNT_VARIABLES = {
    "TIMEOUT": "EMAG_TIMEOUT",
    "MAX_RETRIES": "EMAG_MAX_RETRIES",
    "RETRY_DELAY": "EMAG_RETRY_MAX_WAIT",
    "RETRY_BASE_DELAY": "EMAG_RETRY_MAX_WAIT",
    "RETRY_MAX_DELAY": "EMAG_RETRY_MAX_WAIT",
    "ORDERS_RPS": NOTHING_BUILT_IN,
    "OTHER_RPS": NOTHING_BUILT_IN,
    "ORDERS_RPM": NOTHING_BUILT_IN,
    "OTHER_RPM": NOTHING_BUILT_IN,
    "DELAY": NOTHING_BUILT_IN,
    "JITTER_MAX": "nothing: retries are jittered",
    "BULK_MAX": "nothing: offers are read 100 to a page, eMAG's maximum",
    "ITEMS_PER_PAGE": "nothing: offers are read 100 to a page, eMAG's maximum",
    "MAX_PAGES": f"max_pages in the arguments of the hourly incremental entry ({SCHEDULE_ADMIN})",
    "AUTO_SYNC": f"EMAG_ENABLE_SCHEDULED_SYNC, or {SCHEDULE_ADMIN}",
    "CONCURRENT": "EMAG_PAGE_CONCURRENCY",
    "PROGRESS_LOG": "LOG_LEVEL",
    "DETAILED_LOG": "LOG_LEVEL",
    "METRICS": "nothing: every run records its counters and timings",
    "ERROR_RECOVERY": "nothing: checkpoints and retries are always on",
    "LOG_RETENTION": "SYNC_LOG_RETENTION_DAYS (one retention for every account)",
}
GLOBAL_VARIABLES = {
    "EMAG_SYNC_INTERVAL_MINUTES": f"the crontab of the hourly incremental entry ({SCHEDULE_ADMIN})",
    "EMAG_ENVIRONMENT": "EMAG_<NAME>_API_URL (eMAG, or the sandbox)",
    "EMAG_BACKUP_ENABLED": "the database's own backups (pg_dump)",
    "EMAG_BACKUP_INTERVAL_HOURS": "the database's own backups (pg_dump)",
}


def predecessor_variables_ignored(
    *, environ: Mapping[str, str], accounts: Iterable[str]
) -> list[str]:
    """Return one line per predecessor variable that is set but not read, with its stand-in."""
    ignored = []

    def is_set(name: str) -> bool:
        return bool(environ.get(name, "").strip())

    for name, instead in GLOBAL_VARIABLES.items():
        if is_set(name):
            ignored.append(f"{name} is ignored; use {instead}")
    for account in dict.fromkeys(name.upper() for name in (*accounts, "main", "fbe")):
        prefix = f"EMAG_{account}_"
        for key, instead in ACCOUNT_VARIABLES.items():
            if key == "LOG_RETENTION" and account == "MAIN":
                continue  # read: it stands in for SYNC_LOG_RETENTION_DAYS
            if is_set(prefix + key):
                ignored.append(f"{prefix}{key} is ignored; use {instead}")
        if is_set(prefix + "BASE_URL") and is_set(prefix + "API_URL"):
            ignored.append(f"{prefix}BASE_URL is ignored: {prefix}API_URL is set and wins")
    if is_set("EMAG_MAIN_LOG_RETENTION") and is_set("SYNC_LOG_RETENTION_DAYS"):
        ignored.append(
            "EMAG_MAIN_LOG_RETENTION is ignored: SYNC_LOG_RETENTION_DAYS is set and wins"
        )
    return ignored


def predecessor_variables_report(*, environ: Mapping[str, str], accounts: Iterable[str]) -> None:
    """Log, once, each predecessor variable this process does not read."""
    for line in predecessor_variables_ignored(environ=environ, accounts=accounts):
        logger.warning("Predecessor setting: %s.", line)
