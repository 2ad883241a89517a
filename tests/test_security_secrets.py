"""eMAG passwords and their Basic tokens never appear in logs, run errors or the request log."""

import base64
import json
import logging

import pytest
from django.core.management import call_command

from emag_sync.accounts import get_accounts
from emag_sync.models import EmagRequestLog, SyncRun
from emag_sync.sandbox import sandbox_credentials

pytestmark = pytest.mark.django_db(transaction=True)


def secrets_of(username: str, password: str) -> list[str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return [password, token]


def everything_recorded(caplog, capsys) -> str:
    captured = capsys.readouterr()
    runs = list(SyncRun.objects.values("errors", "parameters", "triggered_by"))
    logs = list(EmagRequestLog.objects.values_list("error", flat=True))
    return "\n".join(
        [caplog.text, captured.out, captured.err, json.dumps(runs, default=str), *logs]
    )


def test_no_secret_leaks_from_successful_failing_and_faulty_syncs(
    live_sandbox, monkeypatch, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    sandbox, _ = live_sandbox(offers={"main": 250, "fbe": 120}, orders={"main": 30, "fbe": 30})
    leaked = secrets_of(*sandbox_credentials("main")) + secrets_of(*sandbox_credentials("fbe"))

    call_command("emag_sync", "products", "--account", "all", "--mode", "full")
    sandbox.inject_fault("main", "http_502", count=None)
    sandbox.inject_fault("fbe", "malformed_json", count=None)
    for stream in ("products", "orders"):
        with pytest.raises(SystemExit):
            call_command("emag_sync", stream, "--account", "all")
    sandbox.clear_faults()
    wrong_password = "Wr0ng-Pa55word-For-Leak-Test"
    monkeypatch.setenv("EMAG_MAIN_PASSWORD", wrong_password)
    get_accounts.cache_clear()
    leaked += secrets_of(sandbox_credentials("main")[0], wrong_password)
    with pytest.raises(SystemExit):
        call_command("emag_sync", "products", "--account", "main", "--mode", "full")

    recorded = everything_recorded(caplog, capsys)
    assert "not allowed" in recorded.lower()  # the failures were recorded...
    assert "502" in recorded
    for secret in leaked:
        assert secret not in recorded  # ...without a single secret
