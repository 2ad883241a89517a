"""Serializers of the API, one per direction: `*Input` validates a request, `*Output` shapes an
answer. None of them writes anything; views hand validated data to a service.
"""

from emag_sync.api.serializers.auth import AccessOutput, LoginInput, RefreshInput, TokenPairOutput
from emag_sync.api.serializers.common import ErrorOutput, StrictInputSerializer, storable_json
from emag_sync.api.serializers.conflicts import ConflictOutput, ConflictResolveInput
from emag_sync.api.serializers.offers import (
    OFFER_LIST_COLUMNS,
    OfferChangeOutput,
    OfferDetailOutput,
    OfferListOutput,
    OfferUpdateInput,
)
from emag_sync.api.serializers.pushes import OfferPushOutput, PushInput
from emag_sync.api.serializers.syncs import (
    ConnectionCheckOutput,
    ConnectionTestQuery,
    OfferSyncFiltersInput,
    ProductSyncInput,
    StatisticsOutput,
    SyncBusyOutput,
    SyncFinishedOutput,
    SyncQueuedOutput,
    SyncRunOutput,
    SyncStatusOutput,
)

__all__ = [
    "AccessOutput",
    "ConflictOutput",
    "ConflictResolveInput",
    "ConnectionCheckOutput",
    "ConnectionTestQuery",
    "ErrorOutput",
    "LoginInput",
    "OfferChangeOutput",
    "OfferDetailOutput",
    "OFFER_LIST_COLUMNS",
    "OfferListOutput",
    "OfferPushOutput",
    "OfferSyncFiltersInput",
    "OfferUpdateInput",
    "ProductSyncInput",
    "PushInput",
    "RefreshInput",
    "StatisticsOutput",
    "StrictInputSerializer",
    "SyncBusyOutput",
    "SyncFinishedOutput",
    "SyncQueuedOutput",
    "SyncRunOutput",
    "SyncStatusOutput",
    "TokenPairOutput",
    "storable_json",
]
