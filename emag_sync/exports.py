"""CSV exports of the local mirror, streamed row by row (never built in memory)."""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from emag_sync.models import Offer

OFFER_CSV_COLUMNS = [
    "account",
    "emag_id",
    "part_number",
    "part_number_key",
    "name",
    "brand",
    "sale_price",
    "recommended_price",
    "min_sale_price",
    "max_sale_price",
    "currency",
    "general_stock",
    "estimated_stock",
    "status",
    "validation_status",
    "offer_validation_status",
    "vat_id",
    "ean",
    "synced_at",
    "missing_since",
]
# Rows fetched per round trip: bounded memory whatever the catalogue size.
EXPORT_CHUNK = 2000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return str(value)


def offer_csv_rows(offers: QuerySet[Offer]) -> Iterator[list[str]]:
    """Yield the header, then one row per offer, prices exactly as stored."""
    yield OFFER_CSV_COLUMNS
    for row in offers.values_list(*OFFER_CSV_COLUMNS).iterator(chunk_size=EXPORT_CHUNK):
        yield [_cell(value) for value in row]


class _Echo:
    """A file-like object whose write returns the line, for streaming responses."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Yield CSV-encoded lines for rows, one at a time."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
