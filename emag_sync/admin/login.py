"""The admin's login form, throttled like the API's login: per username and per address.

Both logins share the counts (API_THROTTLE_LOGIN per username or email, API_THROTTLE_LOGIN_IP
per client address), so guessing a password cannot double its budget by switching between
them. Only submitted attempts count; showing the form costs nothing.
"""

import math

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request

from emag_sync.api.throttles import LoginAddressThrottle, LoginUsernameThrottle


@never_cache
def admin_login(request, extra_context=None):
    """Show or check the admin's login form, unless this user or address tried too often."""
    if request.method == "POST":
        # The API's throttles read the form's username and the client's address.
        attempt = Request(request, parsers=[FormParser(), MultiPartParser()])
        for throttle in (LoginAddressThrottle(), LoginUsernameThrottle()):
            if not throttle.allow_request(attempt, None):
                return _too_many_attempts(request, math.ceil(throttle.wait() or 1))
    return admin.site.login(request, extra_context)


def _too_many_attempts(request, wait_seconds: int) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Too many login attempts",
        "wait_seconds": wait_seconds,
        "login_url": reverse("admin:login"),
    }
    response = TemplateResponse(
        request, "admin/emag_sync/login_throttled.html", context, status=429
    )
    response["Retry-After"] = str(wait_seconds)
    return response
