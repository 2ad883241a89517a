"""What /metrics serves, to whom, and that the shipped dashboard and rules fit it."""

import json
import re
import shutil
import subprocess

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from emag_sync.models import Offer, OfferPush, PushState, SyncKind, SyncStatus
from emag_sync.observability.metrics import normalised_action
from emag_sync.services.sync_runs import sync_run_claim, sync_run_finish
from tests.conftest import _missing_service
from tests.metrics_support import (
    ALERTS,
    DASHBOARD,
    METRIC_NAME,
    dashboard_queries,
    exported_names,
    rule_expressions,
)

TOKEN = "a-metrics-token"  # nosec B105  (a test's token)


def promtool() -> str:
    binary = shutil.which("promtool")
    if not binary:
        _missing_service("promtool is not installed (Debian's prometheus package)")
    return binary


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["magflow.example.com"]
    return settings


def scrape(client, **headers):
    return client.get("/metrics", headers=headers, HTTP_HOST="magflow.example.com")


@pytest.mark.django_db
def test_production_refuses_a_scrape_without_the_token(client, production):
    production.METRICS_TOKEN = TOKEN

    assert scrape(client).status_code == 401
    assert scrape(client, Authorization="Bearer wrong").status_code == 401
    assert scrape(client, Authorization=TOKEN).status_code == 401
    answer = scrape(client, Authorization=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")


@pytest.mark.django_db
def test_production_without_a_token_serves_no_metrics_at_all(client, production):
    production.METRICS_TOKEN = None

    assert scrape(client).status_code == 404
    assert scrape(client, REMOTE_ADDR="127.0.0.1").status_code == 404


@pytest.mark.django_db
def test_debug_mode_without_a_token_serves_loopback_only(client, settings):
    settings.DEBUG, settings.METRICS_TOKEN = True, None

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.20").status_code == 404


@pytest.mark.django_db
def test_a_finished_run_counts_its_status_duration_and_items():
    labels = {"account": "main", "stream": SyncKind.ORDERS}
    started = REGISTRY.get_sample_value("magflow_sync_runs_started_total", labels) or 0
    done = {**labels, "status": SyncStatus.PARTIAL}
    finished = REGISTRY.get_sample_value("magflow_sync_runs_finished_total", done) or 0
    created = {**labels, "outcome": "created"}
    items = REGISTRY.get_sample_value("magflow_sync_items_total", created) or 0

    run = sync_run_claim(account="main", kind=SyncKind.ORDERS)
    sync_run_finish(run=run, status=SyncStatus.PARTIAL, items_created=7, items_seen=9)
    sync_run_finish(run=run, status=SyncStatus.COMPLETED)  # already ended: not counted again

    assert REGISTRY.get_sample_value("magflow_sync_runs_started_total", labels) == started + 1
    assert REGISTRY.get_sample_value("magflow_sync_runs_finished_total", done) == finished + 1
    assert REGISTRY.get_sample_value("magflow_sync_items_total", created) == items + 7
    assert REGISTRY.get_sample_value("magflow_sync_run_duration_seconds_count", labels) >= 1


@pytest.mark.django_db
def test_a_finished_push_run_counts_its_outcomes():
    labels = {"account": "main", "outcome": "rejected"}
    rejected = REGISTRY.get_sample_value("magflow_pushes_total", labels) or 0
    applied_labels = {**labels, "outcome": "applied"}
    applied = REGISTRY.get_sample_value("magflow_pushes_total", applied_labels) or 0

    run = sync_run_claim(account="main", kind=SyncKind.PUSH)
    sync_run_finish(
        run=run, status=SyncStatus.COMPLETED, items_sent=5, items_applied=3, items_rejected=2
    )

    assert REGISTRY.get_sample_value("magflow_pushes_total", labels) == rejected + 2
    assert REGISTRY.get_sample_value("magflow_pushes_total", applied_labels) == applied + 3


@pytest.mark.django_db
def test_the_push_backlog_gauge_counts_each_offers_current_push(client, settings):
    settings.DEBUG, settings.METRICS_TOKEN = True, None
    now = timezone.now()
    common = {"content_hash": b"\x00", "synced_at": now, "first_seen_at": now}
    first, second, third = Offer.objects.bulk_create(
        [Offer(account="main", emag_id=n, status=1, **common) for n in (1, 2, 3)]
    )
    pushed = {"account": "main", "requested_at": now, "values": {"stock": 4}}
    OfferPush.objects.bulk_create(
        [
            OfferPush(offer=first, state=PushState.PENDING, **pushed),
            # An older rejected push of the same offer is history, not backlog.
            OfferPush(offer=first, state=PushState.REJECTED, is_current=False, **pushed),
            OfferPush(offer=second, state=PushState.REJECTED, **pushed),
            OfferPush(offer=third, state=PushState.CONFIRMED, **pushed),
        ]
    )

    text = client.get("/metrics").content.decode()

    assert 'magflow_pushes_waiting{account="main",state="pending"} 1.0' in text
    assert 'magflow_pushes_waiting{account="main",state="rejected"} 1.0' in text
    assert 'magflow_pushes_waiting{account="main",state="uncertain"} 0.0' in text
    assert 'magflow_pushes_waiting{account="fbe",state="pending"} 0.0' in text


def test_request_labels_carry_no_ids():
    assert normalised_action("acknowledge/412345678") == "acknowledge"
    assert normalised_action("read") == "read"


@pytest.mark.django_db
def test_the_database_gauges_equal_what_the_database_says(client, settings):
    settings.DEBUG, settings.METRICS_TOKEN = True, None
    now = timezone.now()
    common = {"content_hash": b"\x00", "synced_at": now, "first_seen_at": now}
    Offer.objects.bulk_create(
        [Offer(account="main", emag_id=n, status=n % 2, **common) for n in range(1, 6)]
        + [Offer(account="fbe", emag_id=9, status=2, missing_since=now, **common)]
    )
    run = sync_run_claim(account="fbe", kind=SyncKind.OFFERS)
    sync_run_finish(run=run, status=SyncStatus.COMPLETED)
    run.refresh_from_db()

    text = client.get("/metrics").content.decode()

    assert 'magflow_offers{account="main",status="active"} 3.0' in text
    assert 'magflow_offers{account="main",status="inactive"} 2.0' in text
    assert 'magflow_offers{account="fbe",status="end_of_life"} 1.0' in text
    assert 'magflow_offers_missing{account="fbe"} 1.0' in text
    assert 'magflow_offers_missing{account="main"} 0.0' in text
    freshness = re.search(
        r'magflow_sync_last_success_timestamp_seconds\{account="fbe",stream="offers"\} (\S+)', text
    )
    assert float(freshness.group(1)) == pytest.approx(run.finished_at.timestamp())
    assert 'magflow_sync_stale_after_seconds{stream="orders"} 1800.0' in text


@pytest.mark.django_db
def test_promtool_accepts_what_we_serve_and_the_rules_we_ship(client, settings):
    settings.DEBUG, settings.METRICS_TOKEN = True, None
    binary = promtool()
    served = client.get("/metrics").content

    metrics = subprocess.run(  # nosec B603  (fixed arguments)
        [binary, "check", "metrics"], input=served, capture_output=True, check=False
    )
    rules = subprocess.run(  # nosec B603  (fixed arguments)
        [binary, "check", "rules", str(ALERTS)], capture_output=True, check=False
    )

    assert metrics.returncode == 0, metrics.stdout + metrics.stderr
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_the_dashboard_is_grafana_json_with_an_account_variable_and_one_row_per_concern():
    dashboard = json.loads(DASHBOARD.read_text())

    for field in ("title", "uid", "schemaVersion", "panels", "templating", "time"):
        assert field in dashboard
    assert "account" in [variable["name"] for variable in dashboard["templating"]["list"]]
    rows = [panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"]
    assert rows == [
        "Freshness per account and stream",
        "Throughput",
        "eMAG errors and 429s",
        "Backlog",
    ]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.django_db
def test_every_panel_query_and_rule_names_a_metric_we_export(client, settings):
    settings.DEBUG, settings.METRICS_TOKEN = True, None
    exported = exported_names(client.get("/metrics").content.decode())

    named = {
        name
        for expression in [*dashboard_queries(), *rule_expressions()]
        for name in METRIC_NAME.findall(expression)
    }

    assert named, "the dashboard and the rules should query our metrics"
    assert named - exported == set()
    for expression in dashboard_queries():
        assert METRIC_NAME.search(expression), expression
