"""The local mirror of eMAG offers, and the bookkeeping of the syncs that fill it."""

from .health import AlertIncident, HealthCheck, HealthStatus, IncidentKind
from .offers import (
    MONEY,
    Conflict,
    ConflictResolution,
    ConflictStatus,
    EditableField,
    LocalEdit,
    Offer,
    OfferChange,
    OfferEan,
    OfferStatus,
)
from .runs import (
    ACTIVE_STATUSES,
    ConflictStrategy,
    EmagRequestLog,
    RateLimitBucket,
    SyncKind,
    SyncMode,
    SyncRun,
    SyncState,
    SyncStatus,
)

__all__ = [
    "ACTIVE_STATUSES",
    "MONEY",
    "AlertIncident",
    "Conflict",
    "ConflictResolution",
    "ConflictStatus",
    "ConflictStrategy",
    "EditableField",
    "EmagRequestLog",
    "HealthCheck",
    "HealthStatus",
    "IncidentKind",
    "LocalEdit",
    "Offer",
    "OfferChange",
    "OfferEan",
    "OfferStatus",
    "RateLimitBucket",
    "SyncKind",
    "SyncMode",
    "SyncRun",
    "SyncState",
    "SyncStatus",
]
