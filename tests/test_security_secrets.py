"""eMAG passwords and their Basic tokens never appear in logs, CLI output, run errors, the request
log, admin pages or API answers, whatever failed on the way."""

import base64
import json
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

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


# --- what users see: admin pages and API answers --------------------------------------------

API = "/api/v2"


def admin_pages() -> list[str]:
    """Every admin list and every stored run's, request's and offer's page, and the dashboard."""
    from django.contrib import admin

    pages = [
        reverse("admin:index"),
        reverse("admin:emag_sync_dashboard"),
        reverse("admin:emag_sync_dashboard_progress") + "?fragments=1",
    ]
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model in (SyncRun, EmagRequestLog):
            pages += [
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
                for pk in model._default_manager.values_list("pk", flat=True)
            ]
    return pages


def api_answers(client) -> list[str]:
    paths = [
        "/emag/products/status",
        "/emag/products/statistics",
        "/emag/products/history?limit=100",
        "/emag/products/products?limit=5",
        "/emag/orders",
        "/emag/health",
    ]
    return [client.get(API + path).content.decode() for path in paths]


def test_no_secret_shows_in_admin_pages_or_api_answers_after_failures_of_every_kind(
    live_sandbox, monkeypatch, admin_client, admin_user, caplog
):
    from rest_framework.test import APIClient

    from emag_sync.services.health import health_check_run

    caplog.set_level(logging.DEBUG)
    sandbox, _ = live_sandbox(offers={"main": 150, "fbe": 60}, orders={"main": 10, "fbe": 10})
    leaked = secrets_of(*sandbox_credentials("main")) + secrets_of(*sandbox_credentials("fbe"))
    api = APIClient()
    api.force_authenticate(admin_user)
    answers = []

    # Syncs that work, then faults of several kinds in every stream, then bad credentials.
    call_command("emag_sync", "products", "--account", "all", "--mode", "full")
    call_command("emag_sync", "orders", "--account", "all")
    for account, fault in (("main", "http_500"), ("fbe", "truncated_json")):
        sandbox.inject_fault(account, fault, count=None)
    for stream in ("products", "orders"):
        with pytest.raises(SystemExit):
            call_command("emag_sync", stream, "--account", "all")
    sandbox.clear_faults()
    sandbox.inject_fault("fbe", "ip_whitelist", count=None)
    wrong_password = "An0ther-Wr0ng-Pa55word"
    monkeypatch.setenv("EMAG_MAIN_PASSWORD", wrong_password)
    get_accounts.cache_clear()
    leaked += secrets_of(sandbox_credentials("main")[0], wrong_password)
    for stream in ("products", "orders"):
        with pytest.raises(SystemExit):
            call_command("emag_sync", stream, "--account", "all")
    health_check_run()

    # Connection tests with failing credentials, from the dashboard and from the API.
    for account in ("main", "fbe"):
        url = reverse("admin:emag_sync_test_connection", args=[account])
        answers.append(admin_client.post(url, HTTP_ACCEPT="application/json").content.decode())
        answers.append(admin_client.post(url, follow=True).content.decode())
        test_connection = f"{API}/emag/products/test-connection?account_type={account}"
        answers.append(api.post(test_connection).content.decode())
    answers.append(
        api.post(
            f"{API}/emag/products/sync", {"account_type": "all", "mode": "full"}, format="json"
        ).content.decode()
    )

    for page in admin_pages():
        response = admin_client.get(page)
        assert response.status_code == 200, page
        answers.append(response.content.decode())
    answers += api_answers(api)

    seen = "\n".join([*answers, caplog.text])
    assert "not allowed" in seen.lower() and "whitelist" in seen.lower()  # failures shown...
    for secret in leaked:
        assert secret not in seen  # ...and no secret among them
