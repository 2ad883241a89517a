"""Starting, queuing and cancelling offer syncs; their status, history and statistics."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.response import Response

from emag_sync.accounts import get_accounts
from emag_sync.models import EmagRequestLog, Offer, SyncRun
from tests.api.conftest import API, client_for, predecessor_sync_body
from tests.factories import make_conflict, make_offer, make_run

SYNC = f"{API}/emag/products/sync"


@pytest.mark.django_db(transaction=True)
def test_a_synchronous_sync_answers_with_the_finished_runs_like_the_predecessor(live_sandbox, api):
    live_sandbox(offers={"main": 30, "fbe": 20})

    response = api.post(
        SYNC,
        predecessor_sync_body(
            "both", run_async=False, mode="incremental", max_pages=2, items_per_page=50,
            include_inactive=False,
        ),
        format="json",
    )  # fmt: skip

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed"
    assert {run["account_type"]: run["status"] for run in body["runs"]} == {
        "main": "completed",
        "fbe": "completed",
    }
    assert body["totals"]["created"] == Offer.objects.count() > 0
    assert body["run_ids"] == sorted(run["id"] for run in body["runs"])
    assert all(run["triggered_by"] == "root" for run in body["runs"])


@pytest.mark.django_db(transaction=True)
def test_a_sync_that_cannot_reach_emag_ends_failed_in_the_answer_not_as_a_500(live_sandbox, api):
    _, server = live_sandbox(offers={"main": 5, "fbe": 5})
    server.stop()

    response = api.post(SYNC, {"account_type": "main"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] in ("partial", "failed")
    assert not SyncRun.objects.filter(status__in=("queued", "running")).exists()


@pytest.mark.django_db
def test_run_async_queues_one_run_per_account_and_sends_their_tasks_after_commit(
    api, queued_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            SYNC,
            {
                "account_type": "all",
                "mode": "full",
                "conflict_strategy": "manual",
                "run_async": True,
            },
            format="json",
        )
        assert queued_tasks == []  # nothing is sent before the runs are committed

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted"
    runs = SyncRun.objects.order_by("id")
    assert body["run_ids"] == [run.pk for run in runs]
    assert [(run.account, run.status, run.mode) for run in runs] == [
        ("main", "queued", "full"),
        ("fbe", "queued", "full"),
    ]
    assert [(task["account"], task["run_id"]) for task in queued_tasks] == [
        (run.account, run.pk) for run in runs
    ]
    assert len(callbacks) == 2
    assert queued_tasks[0]["conflict_strategy"] == "manual"


@pytest.mark.django_db
def test_a_selective_sync_takes_filters_ids_and_skus(
    api, queued_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            SYNC,
            {
                "account_type": "main",
                "mode": "selective",
                "filters": {"status": 1, "part_number_key": "D7658AXYB"},
                "ids": [233746],
                "skus": ["SW506AMT"],
                "run_async": True,
            },
            format="json",
        )

    assert response.status_code == 202
    [task] = queued_tasks
    assert task["filters"] == {"status": 1, "part_number_key": "D7658AXYB"}
    assert (task["ids"], task["skus"]) == ([233746], ["SW506AMT"])


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_fails_the_run_instead_of_blocking_the_account(api, monkeypatch):
    def broker_down(kwargs, task_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("emag_sync.tasks.sync_products_task.apply_async", broker_down)

    response = api.post(SYNC, {"account_type": "main", "run_async": True}, format="json")

    assert response.status_code == 202
    assert response.json()["runs"][0]["status"] == "failed"
    assert "broker unreachable" in SyncRun.objects.get().errors[0]["message"]


@pytest.mark.django_db
def test_a_second_trigger_gets_409_and_starts_nothing_for_any_account(api, queued_tasks):
    busy = make_run("fbe", status="running")

    response = api.post(SYNC, {"account_type": "both", "run_async": True}, format="json")

    assert response.status_code == 409
    assert response.json()["run_ids"] == [busy.pk]
    assert "already running" in response.json()["detail"]
    assert list(SyncRun.objects.all()) == [busy]
    assert queued_tasks == []


@pytest.mark.django_db
def test_a_synchronous_trigger_of_a_busy_account_gets_409_without_calling_emag(api):
    make_run("main", status="queued")

    with mock.patch("emag_sync.services.offer_sync.offer_sync") as offer_sync:
        response = api.post(SYNC, {"account_type": "main"}, format="json")

    assert response.status_code == 409
    offer_sync.assert_not_called()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"account_type": "bg"}, "account_type"),
        ({"mode": "quick"}, "mode"),
        ({"max_pages": 0}, "max_pages"),
        ({"mode": "full", "max_pages": 2}, "max_pages"),
        ({"items_per_page": 0}, "items_per_page"),
        ({"items_per_page": 101}, "items_per_page"),
        ({"include_inactive": "sometimes"}, "include_inactive"),
        ({"conflict_strategy": "coin_flip"}, "conflict_strategy"),
        ({"run_async": None}, "run_async"),
        ({"mode": "selective"}, "filters"),
        ({"filters": {"status": 1}}, "mode"),
        ({"mode": "selective", "filters": {"colour": "red"}}, "filters"),
        ({"mode": "selective", "filters": {"status": "active"}}, "filters"),
        ({"mode": "selective", "filters": {"part_number": "a\x00"}}, "filters"),
        ({"mode": "selective", "ids": [0]}, "ids"),
        ({"mode": "selective", "skus": ["x"] * 101}, "skus"),
        ({"account": "main"}, "account"),
    ],
)
def test_a_bad_sync_request_is_a_400_naming_the_field_and_starts_nothing(
    api, queued_tasks, body, field
):
    response = api.post(SYNC, {"run_async": True, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not SyncRun.objects.exists()
    assert queued_tasks == []


@pytest.mark.django_db
def test_sync_triggers_are_throttled_per_user(settings, api, operator, queued_tasks):
    settings.API_THROTTLE_SYNC = "2/minute"
    for account in ("main", "fbe"):
        assert api.post(SYNC, {"account_type": account, "run_async": True}).status_code == 202

    assert api.post(SYNC, {"account_type": "main", "run_async": True}).status_code == 429
    other_user = client_for(operator).post(SYNC, {"account_type": "main", "run_async": True})
    assert other_user.status_code == 409  # not throttled: main is simply busy


def cancel_a_run(api, status: str) -> tuple[SyncRun, Response]:
    """Store an offer run with this status and ask the API to cancel it."""
    run = make_run(status=status)
    return run, api.delete(f"{SYNC}/{run.pk}")


@pytest.mark.django_db
def test_cancelling_a_queued_run_cancels_it_at_once(api):
    _, response = cancel_a_run(api, "queued")

    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"


@pytest.mark.django_db
def test_cancelling_a_running_run_asks_it_to_stop_after_its_page(api):
    run, response = cancel_a_run(api, "running")

    assert response.status_code == 202
    assert response.json()["status"] == "running"
    assert response.json()["cancel_requested"] is True
    assert api.delete(f"{SYNC}/{run.pk}").status_code == 202  # asking twice is harmless


@pytest.mark.django_db
@pytest.mark.parametrize("finished", ["completed", "failed", "partial", "cancelled"])
def test_cancelling_a_finished_run_is_a_409(api, finished):
    run, response = cancel_a_run(api, finished)

    assert response.status_code == 409
    run.refresh_from_db()
    assert run.status == finished


@pytest.mark.django_db
def test_cancelling_an_unknown_run_or_an_order_run_is_a_404(api):
    orders_run = make_run(kind="orders", status="running")

    assert api.delete(f"{SYNC}/999").status_code == 404
    assert api.delete(f"{SYNC}/{orders_run.pk}").status_code == 404


@pytest.mark.django_db
def test_status_shows_live_progress_of_running_syncs_and_the_latest_runs(api):
    now = timezone.now()
    finished = make_run("fbe", status="completed")
    running = make_run(
        "main",
        status="running",
        started_at=now - timedelta(seconds=10),
        heartbeat_at=now,
        pages_total=10,
        pages_done=4,
        items_seen=400,
    )

    body = api.get(f"{API}/emag/products/status").json()

    assert body["is_running"] is True
    [live] = body["running_syncs"]
    assert live["id"] == running.pk
    assert live["progress_percent"] == 40
    assert live["items_per_second"] == pytest.approx(40, rel=0.1)
    assert live["eta_seconds"] == pytest.approx(15, rel=0.1)
    assert [run["id"] for run in body["recent_syncs"]] == [running.pk, finished.pk]


@pytest.mark.django_db
def test_history_filters_runs_by_account_status_and_mode_and_keeps_the_limit(api):
    make_run("main", status="completed", mode="full")
    failed = make_run("main", status="failed", mode="incremental", errors=[{"message": "x"}])
    make_run("fbe", status="completed")
    make_run("main", kind="orders", status="completed")

    def ids(**params):
        return [
            run["id"] for run in api.get(f"{API}/emag/products/history", params).json()["results"]
        ]

    assert len(ids()) == 3
    assert ids(account_type="main", status="failed", mode="incremental") == [failed.pk]
    assert len(ids(limit=1)) == 1
    run = api.get(f"{API}/emag/products/history", {"status": "failed"}).json()["results"][0]
    assert run["errors"] == [{"message": "x"}]
    assert {"items_seen", "items_missing", "requests", "throttled", "retries"} <= set(run)


@pytest.mark.django_db
def test_statistics_count_offers_stock_conflicts_and_judge_recent_runs(api):
    now = timezone.now()
    make_offer("main", status=1, general_stock=4)
    make_offer("main", status=0, general_stock=0)
    conflicted = make_offer("main", status=2, general_stock=6)
    make_offer("main", status=1, general_stock=100, missing_since=now)
    make_offer("fbe", status=1, general_stock=7)
    make_conflict(conflicted)
    success = make_run("main", status="completed", items_seen=100)
    make_run("main", status="failed")
    make_run("fbe", status="cancelled")

    body = api.get(f"{API}/emag/products/statistics").json()

    assert body["total_products"] == 4
    assert body["products_by_account"] == {"main": 3, "fbe": 1}
    assert body["open_conflicts"] == 1
    main = body["accounts"][0]
    assert (main["active"], main["inactive"], main["end_of_life"]) == (1, 1, 1)
    assert (main["stock_total"], main["in_stock"], main["missing"]) == (10, 2, 1)
    assert main["last_successful_sync"]["id"] == success.pk
    assert body["accounts"][1]["last_successful_sync"] is None
    assert body["recent_runs"]["runs"] == 3
    assert body["recent_runs"]["success_rate"] == 0.5  # the cancelled run is not judged


@pytest.mark.django_db(transaction=True)
def test_test_connection_reports_each_account_and_logs_the_call(live_sandbox, api):
    live_sandbox(offers={"main": 7, "fbe": 3})

    main = api.post(f"{API}/emag/products/test-connection?account_type=main").json()
    fbe = api.post(f"{API}/emag/products/test-connection?account_type=fbe").json()

    assert (main["ok"], main["total_products"], main["account_type"]) == (True, 7, "main")
    assert (fbe["ok"], fbe["total_products"]) == (True, 3)
    assert EmagRequestLog.objects.filter(resource="product_offer", action="count").count() == 2


@pytest.mark.django_db(transaction=True)
def test_test_connection_names_bad_credentials(live_sandbox, monkeypatch, api):
    live_sandbox(offers={"main": 1, "fbe": 1})
    monkeypatch.setenv("EMAG_MAIN_PASSWORD", "wrong-password-value")
    get_accounts.cache_clear()

    body = api.post(f"{API}/emag/products/test-connection").json()

    assert body["ok"] is False
    assert body["account_type"] == "main"  # the first account is the default
    assert "Bad credentials" in body["message"]
    assert "wrong-password-value" not in body["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("account_type", ["bg", "both", "all"])
def test_test_connection_takes_one_known_account(api, account_type):
    response = api.post(f"{API}/emag/products/test-connection?account_type={account_type}")

    assert response.status_code == 400
    assert "account_type" in response.json()
