"""The orders API and the detailed health check.

The order services are replaced by fakes that keep their contract: take the claimed run over
and finish it.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from emag_sync.models import SyncRun
from emag_sync.services.sync_runs import sync_run_finish, sync_run_start
from tests.api.conftest import API, client_for
from tests.factories import make_health_check, make_order, make_run

pytestmark = pytest.mark.django_db
ORDERS = f"{API}/emag/orders"


def finishing(status="completed"):
    def fake_service(*, account, triggered_by, run_id=None, **options):
        run = sync_run_start(run_id=run_id)
        return sync_run_finish(run=run, status=status)

    return fake_service


@pytest.fixture
def order_sync_calls(monkeypatch) -> list[dict]:
    """Record the arguments of every order sync the API starts; each then finishes."""
    calls = []

    def recording(**kwargs):
        calls.append(kwargs)
        return finishing()(**kwargs)

    monkeypatch.setattr("emag_sync.services.order_sync.order_sync", recording)
    return calls


def test_the_order_list_filters_by_account_status_type_and_date(api):
    now = timezone.now()
    make_order("main", emag_id=1, status=1, ordered_at=now - timedelta(days=3))
    make_order("main", emag_id=2, status=4, ordered_at=now - timedelta(days=1))
    make_order("fbe", emag_id=3, status=1, order_type=2, ordered_at=now)

    def ids(**params):
        return [order["emag_id"] for order in api.get(ORDERS, params).json()["results"]]

    assert ids() == [3, 2, 1]  # newest first
    assert ids(account_type="main") == [2, 1]
    assert ids(status=1, type=2) == [3]
    assert ids(date_from=(now - timedelta(days=2)).isoformat()) == [3, 2]
    assert ids(search="2") == [2]
    assert ids(search="not-an-id") == []


def test_orders_stored_with_read_warnings_show_them_and_can_be_listed_alone(api):
    make_order(emag_id=1)
    make_order(
        emag_id=2,
        read_warnings=["cashed_cod should be a price, got 'x'"],
        reason_cancellation=31,
        reason_cancellation_name="Cerut de partener",
        refund_status="refunded",
    )

    listed = api.get(ORDERS, {"read_warnings": "true"}).json()["results"]

    assert [order["emag_id"] for order in listed] == [2]
    assert listed[0]["read_warnings"] == ["cashed_cod should be a price, got 'x'"]
    assert listed[0]["reason_cancellation_name"] == "Cerut de partener"
    assert listed[0]["refund_status"] == "refunded"
    assert [o["emag_id"] for o in api.get(ORDERS, {"read_warnings": "0"}).json()["results"]] == [1]
    assert api.get(ORDERS, {"read_warnings": "maybe"}).status_code == 400


def test_the_order_list_streams_as_csv(api):
    make_order(emag_id=7)

    response = api.get(ORDERS, {"format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("account,emag_id,")
    assert len(lines) == 2


def test_one_order_shows_its_lines_and_status_history(api):
    order = make_order(emag_id=8)

    response = api.get(f"{ORDERS}/{order.pk}")

    assert response.status_code == 200
    assert response.json()["emag_id"] == 8
    assert "raw" not in response.json()
    assert api.get(f"{ORDERS}/999999").status_code == 404


def test_orders_need_the_view_permission(reader, outsider):
    assert client_for().get(ORDERS).status_code == 401
    assert client_for(outsider).get(ORDERS).status_code == 403


# The accounts' syncs run side by side, each thread on its own connection: they must see
# the committed runs.
@pytest.mark.django_db(transaction=True)
def test_an_order_sync_runs_each_account_and_answers_with_the_runs(api, monkeypatch):
    monkeypatch.setattr("emag_sync.services.order_sync.order_sync", finishing())

    response = api.post(f"{ORDERS}/sync", {"account_type": "both"}, format="json")

    assert response.status_code == 200
    assert [run["status"] for run in response.json()["runs"]] == ["completed", "completed"]
    assert set(SyncRun.objects.values_list("kind", flat=True)) == {"orders"}


def test_an_async_order_sync_queues_runs_and_their_tasks(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "emag_sync.tasks.sync_orders_task.apply_async",
        lambda kwargs, task_id: sent.append(kwargs),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{ORDERS}/sync",
            {
                "account_type": "main",
                "sync_mode": "historical",
                "start_date": "2026-01-15",
                "run_async": True,
            },
            format="json",
        )

    assert response.status_code == 202
    assert [task["run_id"] for task in sent] == response.json()["run_ids"]
    assert sent[0]["since"] == "2026-01-15T00:00:00+00:00"  # the task wants a zone


def test_an_order_sync_of_a_busy_account_is_a_409(api):
    make_run("main", kind="orders", status="running")

    assert api.post(f"{ORDERS}/sync", {"account_type": "main"}, format="json").status_code == 409


def test_the_predecessors_order_sync_fields_map_onto_modes_and_a_start(api, order_sync_calls):
    body = {
        "account_type": "main",
        "sync_mode": "full",
        "days_back": 7,
        "max_pages": 50,
        "status_filter": 1,
        "auto_acknowledge": False,
    }

    assert api.post(f"{ORDERS}/sync", body, format="json").status_code == 200
    assert order_sync_calls[0]["mode"] == "full"
    assert order_sync_calls[0]["since"] == timezone.localdate() - timedelta(days=7)


@pytest.mark.parametrize(
    "body",
    [
        {"sync_mode": "historical"},
        {
            "sync_mode": "historical",
            "start_date": "2026-01-01T00:00:00Z",
            "end_date": "2026-02-01T00:00:00Z",
        },
        {"start_date": "2026-01-01T00:00:00Z"},
        {"days_back": 3},
        {"sync_mode": "quick"},
        {"mode": "full"},
    ],
)
def test_a_bad_order_sync_request_is_a_400(api, body):
    assert api.post(f"{ORDERS}/sync", body, format="json").status_code == 400
    assert not SyncRun.objects.exists()


def test_acknowledging_a_new_order_runs_the_accounts_acknowledge_stream(api, monkeypatch):
    monkeypatch.setattr("emag_sync.services.order_acknowledge.orders_acknowledge", finishing())
    order = make_order(emag_id=9, status=1)

    response = api.post(f"{ORDERS}/{order.pk}/acknowledge")

    assert response.status_code == 200
    assert response.json()["kind"] == "acknowledge"


def test_acknowledging_an_order_that_is_not_new_is_a_409_and_unknown_a_404(api, reader):
    done = make_order(emag_id=10, status=4, total=Decimal("1"))

    assert api.post(f"{ORDERS}/{done.pk}/acknowledge").status_code == 409
    assert api.post(f"{ORDERS}/424242/acknowledge").status_code == 404
    assert client_for(reader).post(f"{ORDERS}/{done.pk}/acknowledge").status_code == 403


def test_a_historical_order_sync_starts_on_its_start_date(api, order_sync_calls):
    body = {"account_type": "fbe", "sync_mode": "historical", "start_date": "2026-01-15"}

    assert api.post(f"{ORDERS}/sync", body, format="json").status_code == 200
    assert (order_sync_calls[0]["mode"], str(order_sync_calls[0]["since"])) == (
        "full",
        "2026-01-15",
    )


def test_the_health_check_is_shown_in_detail_to_logged_in_users(api):
    assert api.get(f"{API}/emag/health").status_code == 404
    assert client_for().get(f"{API}/emag/health").status_code == 401
    make_health_check()

    assert api.get(f"{API}/emag/health").status_code == 200
