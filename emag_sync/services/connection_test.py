"""Test an account's connection to eMAG with one cheap authenticated call."""

from emag_sync.accounts import get_account
from emag_sync.client import ConnectionCheck, EmagCall, EmagClient
from emag_sync.services.request_log import request_log_write


def account_connection_test(*, account: str) -> ConnectionCheck:
    """Call eMAG once as the account and describe the outcome; the call is logged like any other.

    Raises KeyError for an account that is not configured.
    """
    calls: list[EmagCall] = []
    # The shared rate limiter paces this call too: it spends the same budget as syncs.
    with EmagClient(get_account(account), on_call=calls.append) as client:
        check = client.test_connection()
    request_log_write(calls, run=None)
    return check
