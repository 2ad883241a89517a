"""Throttles of sync triggers (per user) and login attempts (per username and per address).

Rates come from settings (API_THROTTLE_*), read on every request rather than once at import as
DRF's own throttles do, so a changed setting applies at once. Counts live in the cache: Redis
when configured, so every web process shares them.
"""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class SettingsRateThrottle(SimpleRateThrottle):
    rate_setting = ""

    def get_rate(self) -> str | None:
        return getattr(settings, self.rate_setting, None)

    def allow_request(self, request, view) -> bool:
        # The rate is read per request (see the module docstring).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class SyncTriggerThrottle(SettingsRateThrottle):
    """Limit how often one user may start syncs or test connections: each spends eMAG budget."""

    scope = "sync_trigger"
    rate_setting = "API_THROTTLE_SYNC"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class LoginUsernameThrottle(SettingsRateThrottle):
    """Limit login attempts per username or email, from wherever they come."""

    scope = "login"
    rate_setting = "API_THROTTLE_LOGIN"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        identity = data.get("username") or data.get("email")
        if not isinstance(identity, str) or not identity.strip():
            return None  # nothing to guess against; the request fails validation anyway
        digest = hashlib.sha256(identity.strip().lower().encode("utf-8", "replace")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class LoginAddressThrottle(SettingsRateThrottle):
    """Limit login attempts per client address, whatever usernames they try."""

    scope = "login_ip"
    rate_setting = "API_THROTTLE_LOGIN_IP"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
