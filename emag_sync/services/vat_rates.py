"""Know which `vat_id` values eMAG accepts per account, from `vat/read`, cached for a day.

An edit of an offer's VAT rate is checked against this list before it is saved, so a value
eMAG would refuse never reaches the outbox (docs/emag-api.md §3.4: vat_id is required
and must be one of eMAG's; §3.6: vat/read lists them).
"""

from django.core.cache import cache

from emag_sync.accounts import get_account
from emag_sync.client import EmagClient, EmagError
from emag_sync.ratelimit import RateLimiterUnavailable

# eMAG's VAT list changes with the law (the Aug-2025 Romanian change), not by the hour.
VAT_IDS_CACHE_SECONDS = 24 * 3600


class VatRatesUnavailable(Exception):
    """eMAG's VAT list could not be read now (eMAG down, throttled, refused)."""


def _cache_key(account: str) -> str:
    return f"emag:vat-ids:{account}"


def vat_ids_accepted(*, account: str) -> frozenset[int]:
    """Return the vat_id values eMAG accepts on the account, reading vat/read once a day."""
    cached = cache.get(_cache_key(account))
    if cached is not None:
        return frozenset(cached)
    try:
        with EmagClient(get_account(account)) as client:
            ids = client.read_vat_ids()
    except (EmagError, RateLimiterUnavailable) as error:
        raise VatRatesUnavailable(str(error)) from error
    cache.set(_cache_key(account), sorted(ids), VAT_IDS_CACHE_SECONDS)
    return ids


def vat_ids_forget(*, account: str) -> None:
    """Drop the cached list, so the next check reads eMAG's again."""
    cache.delete(_cache_key(account))
