"""The health check stores what it saw and alerts once per incident; /health says up or down."""

import json
import logging
from datetime import timedelta

import pytest
from celery import current_app
from django.db import OperationalError, connections
from django.utils import timezone

from emag_sync.models import AlertIncident, HealthCheck, SyncKind, SyncRun, SyncStatus
from emag_sync.sandbox import sandbox_credentials
from emag_sync.services import alerts
from emag_sync.services.alerts import Problem, alert_incidents_update
from emag_sync.services.health import health_check_run
from tests.webhook_receiver import WebhookReceiver

SMALL = {"offers": {"main": 30, "fbe": 20}}
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]


@pytest.fixture
def webhook(settings):
    receiver = WebhookReceiver()
    settings.ALERT_WEBHOOK_URL = receiver.url
    yield receiver
    receiver.stop()


def finished_run(*, kind=SyncKind.OFFERS, account="main", status=SyncStatus.COMPLETED, **ago):
    """Return a run that ended `ago` (timedelta keywords) before now."""
    when = timezone.now() - timedelta(**ago)
    run = SyncRun.objects.create(
        kind=kind,
        account=account,
        status=status,
        started_at=when,
        finished_at=when,
        errors=[{"message": "eMAG answered 503 on page 4"}] if status != "completed" else [],
    )
    SyncRun.objects.filter(pk=run.pk).update(created_at=when)
    return SyncRun.objects.get(pk=run.pk)


def stream(check: HealthCheck, account: str, kind: str) -> dict:
    (found,) = [s for s in check.streams if (s["account"], s["stream"]) == (account, kind)]
    return found


# --- the stored check -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_healthy_installation_stores_an_ok_check_with_every_detail(live_sandbox, mailoutbox):
    live_sandbox(**SMALL)
    finished_run(minutes=10)

    check = health_check_run()

    assert check.status == "ok" and check.problems == []
    assert check.database_ok and check.broker_ok
    assert check.accounts["main"]["ok"] and check.accounts["main"]["total_products"] == 30
    assert check.accounts["fbe"]["ok"] and check.accounts["fbe"]["total_products"] == 20
    assert len(check.streams) == 2 * len(SyncKind.values)
    main_offers = stream(check, "main", "offers")
    assert 595 <= main_offers["age_seconds"] <= 660
    assert main_offers["stale"] is False
    assert stream(check, "fbe", "orders")["last_success_at"] is None
    assert HealthCheck.objects.get() == check
    assert not AlertIncident.objects.exists() and mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_a_stale_stream_is_alerted_once_however_many_checks_see_it(
    live_sandbox, admins, mailoutbox
):
    live_sandbox(**SMALL)
    finished_run(hours=4)  # offers are stale after 3 hours by default

    for _ in range(3):
        health_check_run()

    (incident,) = AlertIncident.objects.all()
    assert incident.key == "stale:main:offers" and incident.is_open
    assert incident.notified_at is not None
    (mail,) = mailoutbox
    assert mail.subject == (
        "[MagFlow] Alert: The offers sync of main is stale: it last succeeded 4 hours ago"
    )
    assert mail.to == ["ops@example.com"]

    finished_run(minutes=1)
    health_check_run()

    incident.refresh_from_db()
    assert not incident.is_open
    assert [m.subject.split(":")[0] for m in mailoutbox] == [
        "[MagFlow] Alert",
        "[MagFlow] Resolved",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_failed_or_partial_run_is_an_incident_until_a_run_of_that_stream_completes(
    live_sandbox, admins, mailoutbox, caplog
):
    live_sandbox(**SMALL)
    finished_run(kind=SyncKind.ORDERS, status=SyncStatus.PARTIAL, minutes=2)

    with caplog.at_level(logging.ERROR):
        first = health_check_run()
        finished_run(kind=SyncKind.ORDERS, status=SyncStatus.FAILED, minutes=1)
        health_check_run()

    assert first.status == "degraded"
    (problem,) = first.problems
    assert problem["key"] == "run:main:orders"
    assert problem["message"].startswith("The last orders sync of main (run #")
    assert problem["message"].endswith("ended partial: eMAG answered 503 on page 4")
    assert [r.name for r in caplog.records if r.levelno >= logging.ERROR] == [
        "emag_sync.services.alerts"
    ]
    assert AlertIncident.objects.filter(resolved_at__isnull=True).count() == 1
    assert len(mailoutbox) == 1

    finished_run(kind=SyncKind.ORDERS, minutes=0)
    assert health_check_run().status == "ok"
    assert not AlertIncident.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_stream_that_never_succeeded_is_stale_once_it_has_tried_long_enough(live_sandbox):
    live_sandbox(**SMALL)
    finished_run(kind=SyncKind.ORDERS, account="fbe", status=SyncStatus.FAILED, hours=1)

    check = health_check_run()

    keys = {problem["key"] for problem in check.problems}
    assert keys == {"run:fbe:orders", "stale:fbe:orders"}
    stale = [p for p in check.problems if p["key"] == "stale:fbe:orders"][0]
    assert stale["message"] == "The orders sync of fbe is stale: it has never succeeded"


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_account_is_alerted_by_mail_and_webhook_without_secrets(
    live_sandbox, admins, mailoutbox, webhook
):
    sandbox, _ = live_sandbox(**SMALL)
    sandbox.inject_fault("fbe", "auth", count=None)

    check = health_check_run()
    health_check_run()

    assert check.accounts["fbe"]["ok"] is False
    (mail,) = mailoutbox
    assert mail.subject.startswith("[MagFlow] Alert: eMAG account fbe is unreachable: Bad cred")
    (event,) = webhook.events()
    assert event["event"] == "opened"
    assert event["text"].startswith("MagFlow eMAG Sync Alert: eMAG account fbe is unreachable")
    assert event["incident"]["kind"] == "account_unreachable"
    assert event["incident"]["account"] == "fbe"
    password = sandbox_credentials("fbe")[1]
    assert password not in json.dumps(event) and password not in mail.body

    sandbox.clear_faults()
    health_check_run()

    assert [e["event"] for e in webhook.events()] == ["opened", "resolved"]
    assert webhook.events("resolved")[0]["incident"]["resolved_at"] is not None


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_fails_is_logged_without_its_address_and_the_check_is_kept(
    live_sandbox, settings, monkeypatch, caplog
):
    sandbox, _ = live_sandbox(**SMALL)
    sandbox.inject_fault("main", "auth", count=None)
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:1/hooks/secret-token"
    monkeypatch.setattr(alerts, "WEBHOOK_RETRY_DELAY_SECONDS", 0)

    with caplog.at_level(logging.ERROR):
        check = health_check_run()

    assert HealthCheck.objects.filter(pk=check.pk).exists()
    assert "Could not post the opened alert account:main" in caplog.text
    assert "secret-token" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_check_reaps_runs_whose_heartbeat_went_cold(live_sandbox, settings):
    live_sandbox(**SMALL)
    cold = timezone.now() - timedelta(seconds=2 * settings.SYNC_REAP_AFTER)
    dead = SyncRun.objects.create(
        kind=SyncKind.OFFERS, account="main", status=SyncStatus.RUNNING, heartbeat_at=cold
    )

    check = health_check_run()

    dead.refresh_from_db()
    assert check.runs_reaped == 1
    assert dead.status == SyncStatus.FAILED
    assert {p["key"] for p in check.problems} == {"run:main:offers"}


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_makes_the_check_down(live_sandbox, monkeypatch):
    live_sandbox(**SMALL)
    monkeypatch.setattr(current_app.conf, "broker_url", UNREACHABLE_BROKER)

    check = health_check_run()

    assert check.status == "down"
    assert check.broker_ok is False and check.database_ok is True
    assert {p["key"] for p in check.problems} == {"service:broker"}


@pytest.mark.django_db
def test_problems_seen_again_stay_one_incident_and_a_changed_message_is_kept(admins, mailoutbox):
    first = Problem(key="account:main", kind="account_unreachable", message="Timeout")
    again = Problem(key="account:main", kind="account_unreachable", message="Unreachable")

    opened = alert_incidents_update(problems=[first])
    ongoing = alert_incidents_update(problems=[again])

    assert len(opened.opened) == 1 and ongoing.opened == []
    assert AlertIncident.objects.get().message == "Unreachable"
    assert len(mailoutbox) == 1


# --- GET /health ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_answers_anyone_with_a_minimal_ok(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_answers_503_when_the_broker_is_down_and_says_nothing_more(client, monkeypatch):
    monkeypatch.setattr(current_app.conf, "broker_url", UNREACHABLE_BROKER)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}
    assert b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "db.internal" failed')

    monkeypatch.setattr(connections["default"], "cursor", refuse)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "broker": "ok"}
    assert b"db.internal" not in response.content


def test_health_only_answers_reads(client):
    assert client.post("/health").status_code == 405
