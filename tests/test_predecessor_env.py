"""The predecessor's environment variables are read where they map and named where they don't;
CORS is off unless CORS_ALLOWED_ORIGINS names a front end."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from emag_sync.predecessor_env import predecessor_variables_ignored
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parent.parent
OFFER_ENTRIES = {"eMAG products: incremental sync, hourly", "eMAG products: full sync, nightly"}
START_AND_SCHEDULE = """
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from emag_sync.accounts import get_account
call_command("setup_periodic_tasks")
print("retention", settings.SYNC_LOG_RETENTION_DAYS)
print("url", get_account("main").api_url)
"""


@pytest.mark.django_db(transaction=True)
def test_a_predecessors_env_seeds_offer_syncs_disabled_maps_what_it_can_and_names_the_rest(
    subprocess_env,
):
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="magflow.settings",
        EMAG_ENABLE_SCHEDULED_SYNC="false",
        EMAG_MAIN_BASE_URL="https://marketplace-api.emag.ro/api-3",
        EMAG_MAIN_LOG_RETENTION="7",
        EMAG_SYNC_INTERVAL_MINUTES="30",
        EMAG_FBE_MAX_PAGES="100",
    )
    for name in ("EMAG_MAIN_API_URL", "SYNC_LOG_RETENTION_DAYS"):
        env.pop(name, None)

    started = run_python(["-c", START_AND_SCHEDULE], env, timeout=120, check=True)

    entries = dict(PeriodicTask.objects.values_list("name", "enabled"))
    assert {name for name, enabled in entries.items() if not enabled} == OFFER_ENTRIES
    assert len(entries) == 7  # the push entry stays enabled: it is no offer sync
    assert "retention 7" in started.stdout
    assert "url https://marketplace-api.emag.ro/api-3" in started.stdout
    warnings = [line for line in started.stderr.splitlines() if "Predecessor setting" in line]
    assert len(warnings) == 2, started.stderr
    assert any("EMAG_SYNC_INTERVAL_MINUTES is ignored" in line for line in warnings)
    assert any("EMAG_FBE_MAX_PAGES is ignored; use max_pages" in line for line in warnings)
    assert "(disabled: EMAG_ENABLE_SCHEDULED_SYNC is false)" in started.stdout


@pytest.mark.django_db
def test_without_the_switch_every_default_entry_is_created_enabled(settings):
    settings.EMAG_ENABLE_SCHEDULED_SYNC = True
    call_command("setup_periodic_tasks", stdout=io.StringIO())

    assert set(PeriodicTask.objects.values_list("enabled", flat=True)) == {True}


def test_each_ignored_variable_is_named_with_what_to_use_instead():
    environ = {
        "EMAG_MAIN_TIMEOUT": "30",
        "EMAG_BG_ITEMS_PER_PAGE": "50",
        "EMAG_MAIN_LOG_RETENTION": "30",
        "SYNC_LOG_RETENTION_DAYS": "10",
        "EMAG_FBE_BASE_URL": "https://a.example",
        "EMAG_FBE_API_URL": "https://b.example",
        "EMAG_BACKUP_ENABLED": "",
    }

    lines = predecessor_variables_ignored(environ=environ, accounts=["main", "fbe", "bg"])

    assert lines == [
        "EMAG_MAIN_TIMEOUT is ignored; use EMAG_TIMEOUT",
        "EMAG_FBE_BASE_URL is ignored: EMAG_FBE_API_URL is set and wins",
        "EMAG_BG_ITEMS_PER_PAGE is ignored; use nothing: offers are read 100 to a page, "
        "eMAG's maximum",
        "EMAG_MAIN_LOG_RETENTION is ignored: SYNC_LOG_RETENTION_DAYS is set and wins",
    ]
    assert predecessor_variables_ignored(environ={}, accounts=["main"]) == []


@pytest.mark.django_db
def test_cors_answers_only_the_origins_it_is_given(settings, client):
    preflight = {
        "HTTP_ORIGIN": "http://localhost:5173",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization,content-type",
    }

    closed = client.options("/api/v1/auth/login", **preflight)
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:5173"]
    opened = client.options("/api/v1/auth/login", **preflight)
    other = client.options(
        "/api/v1/auth/login", **{**preflight, "HTTP_ORIGIN": "https://evil.test"}
    )

    assert "access-control-allow-origin" not in closed.headers
    assert opened.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert opened.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in opened.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in other.headers
