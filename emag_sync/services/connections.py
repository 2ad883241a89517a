"""Check an account's eMAG credentials on request, and log the call like every other."""

from django.db import transaction

from emag_sync.accounts import get_account
from emag_sync.client import ConnectionCheck, EmagClient
from emag_sync.models import EmagRequestLog
from emag_sync.services.request_log import request_log_rows


def account_connection_test(*, account: str) -> ConnectionCheck:
    """Make one cheap authenticated eMAG call for the account and describe the outcome."""
    calls: list = []
    # The shared rate limiter paces this call too: it spends the same budget as syncs.
    with EmagClient(get_account(account), on_call=calls.append) as client:
        check = client.test_connection()
    with transaction.atomic():
        EmagRequestLog.objects.bulk_create(request_log_rows(calls, run=None))
    return check
