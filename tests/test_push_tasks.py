"""The push task: queued once on commit after edits, on the quick queue, and idle when empty."""

import pytest
import responses
from celery import current_app
from django.conf import settings
from django.core.cache import cache

from emag_sync import tasks
from emag_sync.models import OfferPush, PushState, SyncKind, SyncRun
from emag_sync.services.local_edits import local_edit_set, offer_local_update
from emag_sync.services.sync_runs import sync_run_claim
from tests.conftest import TEST_API_ROOT
from tests.push_support import stored_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch, settings):
    """Record the push tasks sent to the broker instead of sending them."""
    settings.PUSH_ON_EDIT = True
    cache.delete_many(["emag:push-queued:main", "emag:push-queued:fbe"])
    calls = []
    monkeypatch.setattr(
        tasks.push_offers_task, "apply_async", lambda **options: calls.append(options)
    )
    yield calls
    cache.delete_many(["emag:push-queued:main", "emag:push-queued:fbe"])


def test_the_push_task_runs_on_the_queue_a_long_offer_sync_does_not_hold():
    queue = current_app.amqp.router.route({}, tasks.push_offers_task.name)["queue"].name
    assert queue == "emag_orders"
    assert not tasks.push_offers_task.acks_late  # it writes to eMAG
    assert tasks.push_offers_task.time_limit < settings.REDIS_VISIBILITY_TIMEOUT


def test_an_edit_queues_the_push_only_once_it_commits(sent, django_capture_on_commit_callbacks):
    offer = stored_offer()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        local_edit_set(offer=offer, field="sale_price", value="1250")
        assert sent == []

    assert len(callbacks) == 1
    assert sent == [
        {
            "kwargs": {"account": "main", "triggered_by": "edit"},
            "countdown": settings.PUSH_AFTER_EDIT_SECONDS,
        }
    ]


def test_edits_made_together_share_one_push_task(sent, django_capture_on_commit_callbacks):
    offers = [stored_offer(emag_id) for emag_id in (1, 2, 3)]

    with django_capture_on_commit_callbacks(execute=True):
        for offer in offers:
            offer_local_update(offer=offer, edits={"general_stock": 9, "status": 0})

    assert len(sent) == 1


def test_an_empty_outbox_starts_no_run():
    result = tasks.push_offers_task.run(account="main")

    assert result == {"account": "main", "nothing_to_push": True}
    assert not SyncRun.objects.filter(kind=SyncKind.PUSH).exists()


def test_all_fans_out_one_task_per_account(monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.push_offers_task, "apply_async", lambda **options: sent.append(options["kwargs"])
    )

    result = tasks.push_offers_task.run(account="all")

    assert result == {"fanned_out": ["main", "fbe"]}
    assert [kwargs["account"] for kwargs in sent] == ["main", "fbe"]


def test_a_push_already_running_leaves_the_edit_pending():
    offer = stored_offer()
    local_edit_set(offer=offer, field="status", value=0)
    busy = sync_run_claim(account="main", kind=SyncKind.PUSH)

    result = tasks.push_offers_task.run(account="main")

    assert result["already_running"] == busy.pk
    assert OfferPush.objects.get().state == PushState.PENDING


def test_a_pending_edit_is_pushed_by_the_task():
    offer = stored_offer()
    local_edit_set(offer=offer, field="status", value=0)
    with responses.RequestsMock() as mock:
        mock.post(
            f"{TEST_API_ROOT}/main/api-3/offer/save",
            json={"isError": False, "messages": [], "results": {"1": {"isError": False}}},
        )
        result = tasks.push_offers_task.run(account="main", triggered_by="schedule")

    run = SyncRun.objects.get(kind=SyncKind.PUSH)
    assert result == {"run_id": run.pk, "account": "main", "status": "completed"}
    assert (run.items_sent, run.items_applied, run.requests) == (1, 1, 1)
    assert OfferPush.objects.get().state == PushState.APPLIED


def test_the_admin_action_pushes_a_selection_now_in_one_task(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    cache.delete("emag:push-now:main")
    sent = []
    monkeypatch.setattr(
        tasks.push_offers_task, "apply_async", lambda **options: sent.append(options["kwargs"])
    )
    offers = [stored_offer(emag_id) for emag_id in (1, 2, 3)]
    for offer in offers[:2]:
        local_edit_set(offer=offer, field="status", value=0)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/emag_sync/offer/",
            {"action": "push_now", "_selected_action": [offer.pk for offer in offers]},
            follow=True,
        )

    assert "Pushing 2 offers to eMAG now." in response.content.decode()
    assert sent == [{"account": "main", "triggered_by": "push now"}]
    cache.delete("emag:push-now:main")
