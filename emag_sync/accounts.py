"""The eMAG seller accounts, read from the environment.

`EMAG_ACCOUNTS` lists the names (default `main,fbe`); each name NAME reads
`EMAG_<NAME>_USERNAME`, `_PASSWORD`, `_API_URL` (default the predecessor's `_BASE_URL`, else
the real eMAG RO URL),
`_TIMEZONE` (default Europe/Bucharest: eMAG's dates carry no zone) and `_FULFILLMENT`
(`emag` for an account fulfilled by eMAG, default for a name of `fbe`; otherwise `seller`).
Adding an account is configuration, not code. Secrets live only here, never in the database.
"""

import os
import re
import zoneinfo
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALL_ACCOUNTS = "all"
# The predecessor's API and CLI said "both" for MAIN plus FBE; it stays an alias of "all".
ACCOUNT_ALIASES = {"both": ALL_ACCOUNTS}
ACCOUNT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class Fulfillment:
    SELLER = "seller"
    EMAG = "emag"


@dataclass(frozen=True)
class EmagAccount:
    """One eMAG seller account: its name, endpoint, credentials and time zone."""

    name: str
    username: str
    password: str = field(repr=False)
    api_url: str
    timezone: zoneinfo.ZoneInfo
    fulfillment: str

    @property
    def is_fulfilled_by_emag(self) -> bool:
        return self.fulfillment == Fulfillment.EMAG

    @property
    def has_credentials(self) -> bool:
        return bool(self.username and self.password)


def _account_from_env(name: str) -> EmagAccount:
    prefix = f"EMAG_{name.upper()}_"

    def read(key: str, default: str = "") -> str:
        value = os.environ.get(prefix + key, "").strip()
        return value or default

    username, password = read("USERNAME"), read("PASSWORD")
    if not settings.DEBUG and not (username and password):
        raise ImproperlyConfigured(
            f"{prefix}USERNAME and {prefix}PASSWORD must be set when DEBUG=0 "
            f"(account {name!r} is listed in EMAG_ACCOUNTS)"
        )
    timezone_name = read("TIMEZONE", "Europe/Bucharest")
    try:
        timezone = zoneinfo.ZoneInfo(timezone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{prefix}TIMEZONE: unknown time zone {timezone_name!r}"
        ) from None
    fulfillment = read("FULFILLMENT", Fulfillment.EMAG if name == "fbe" else Fulfillment.SELLER)
    if fulfillment not in (Fulfillment.SELLER, Fulfillment.EMAG):
        raise ImproperlyConfigured(f"{prefix}FULFILLMENT must be 'seller' or 'emag'")
    # BASE_URL is the predecessor's name for it.
    api_url = read("API_URL", read("BASE_URL", settings.EMAG_DEFAULT_API_URL)).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{prefix}API_URL must be an http(s) URL")
    return EmagAccount(
        name=name,
        username=username,
        password=password,
        api_url=api_url,
        timezone=timezone,
        fulfillment=fulfillment,
    )


@cache
def get_accounts() -> dict[str, EmagAccount]:
    """Return the configured accounts by name, in the order EMAG_ACCOUNTS lists them."""
    accounts = {}
    for raw_name in settings.EMAG_ACCOUNTS:
        name = raw_name.lower()
        if not ACCOUNT_NAME_PATTERN.match(name) or name in (ALL_ACCOUNTS, *ACCOUNT_ALIASES):
            raise ImproperlyConfigured(f"EMAG_ACCOUNTS: invalid account name {raw_name!r}")
        accounts[name] = _account_from_env(name)
    if not accounts:
        raise ImproperlyConfigured("EMAG_ACCOUNTS must name at least one account")
    return accounts


def get_account(name: str) -> EmagAccount:
    """Return one account by name, or raise KeyError with the names that exist."""
    accounts = get_accounts()
    try:
        return accounts[name.lower()]
    except KeyError:
        raise KeyError(
            f"unknown eMAG account {name!r}; configured: {', '.join(accounts)}"
        ) from None


def resolve_account_names(selector: str) -> list[str]:
    """Turn an account name, `all` or `both` into the list of account names it means."""
    normalized = ACCOUNT_ALIASES.get(selector.lower(), selector.lower())
    if normalized == ALL_ACCOUNTS:
        return list(get_accounts())
    return [get_account(normalized).name]


def account_choices() -> list[tuple[str, str]]:
    """Return (name, label) pairs of the configured accounts, for forms and filters."""
    return [(name, name.upper()) for name in get_accounts()]
