"""The sync dashboard: cards (offers, orders, health, alerts), connection tests, the Sync form,
live progress, cancel, permissions."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from emag_sync.models import AlertIncident, Conflict, EmagRequestLog, HealthCheck, Offer, SyncRun
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.sync_runs import sync_run_claim, sync_run_finish
from tests.admin_support import client_with, make_orders

pytestmark = [
    pytest.mark.django_db,
    # DEBUG serves static files itself; whitenoise only notes that STATIC_ROOT is not built.
    pytest.mark.filterwarnings("ignore:No directory at"),
]

DASHBOARD = "admin:emag_sync_dashboard"
PROGRESS = "admin:emag_sync_dashboard_progress"


@pytest.fixture
def synced(live_sandbox):
    """Both accounts mirrored from a small sandbox catalogue."""
    sandbox, server = live_sandbox(offers={"main": 130, "fbe": 40})
    for account in ("main", "fbe"):
        offer_sync(account=account, options=OfferSyncOptions(mode="full"))
    return sandbox


def test_the_admin_index_and_every_admin_page_link_to_the_dashboard(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert page.count(reverse(DASHBOARD)) >= 2  # the banner and the user links


def test_the_dashboard_shows_each_account_with_offers_stock_missing_and_last_sync(
    admin_client, synced
):
    Offer.objects.filter(
        account="main",
        emag_id__in=list(
            Offer.objects.filter(account="main").values_list("emag_id", flat=True)[:3]
        ),
    ).update(missing_since=timezone.now())
    response = admin_client.get(reverse(DASHBOARD))

    assert response.status_code == 200
    cards = {card.name: card for card in response.context["accounts"]}
    main = cards["main"]
    assert main.offers == 130
    assert main.missing == 3
    assert (
        main.in_stock
        == Offer.objects.filter(
            account="main", general_stock__gt=0, missing_since__isnull=True
        ).count()
    )
    assert main.last_success is not None and not main.is_stale and not main.is_failing
    assert cards["fbe"].offers == 40
    page = response.content.decode()
    assert "mf-card mf-colour-main" in page and "mf-card mf-colour-fbe" in page  # blue, green
    assert "Test connection" in page and "Start sync" in page


def test_an_account_never_synced_or_whose_last_run_failed_is_flagged(admin_client):
    run = sync_run_claim(account="fbe", kind="offers")
    sync_run_finish(run=run, status="failed", errors=[{"message": "eMAG said no"}])

    response = admin_client.get(reverse(DASHBOARD))

    cards = {card.name: card for card in response.context["accounts"]}
    assert cards["main"].is_stale and cards["main"].last_success is None
    assert cards["fbe"].is_failing
    page = response.content.decode()
    assert "this account was never synced" in page
    assert "ended failed: eMAG said no" in page


def test_a_completed_sync_older_than_a_day_is_stale(admin_client):
    run = sync_run_claim(account="main", kind="offers")
    sync_run_finish(run=run, status="completed")
    SyncRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(hours=25))

    cards = {c.name: c for c in admin_client.get(reverse(DASHBOARD)).context["accounts"]}

    assert cards["main"].is_stale and not cards["main"].is_failing


def test_progress_reports_running_runs_with_pages_speed_eta_and_a_cancel_url(admin_client):
    run = sync_run_claim(account="main", kind="offers", mode="full")
    SyncRun.objects.filter(pk=run.pk).update(
        pages_total=10,
        pages_done=4,
        items_seen=400,
        started_at=timezone.now() - timedelta(seconds=8),
        heartbeat_at=timezone.now(),
    )

    data = admin_client.get(reverse(PROGRESS)).json()

    [shown] = data["runs"]
    assert shown["id"] == run.pk and shown["active"]
    assert shown["percent"] == 40 and shown["pages_done"] == 4 and shown["pages_total"] == 10
    assert shown["items_per_second"] == pytest.approx(50, rel=0.1)
    assert shown["eta"].endswith("s")
    assert shown["can_cancel"] and shown["cancel_url"].endswith(f"/{run.pk}/cancel/")
    assert shown["colour"] == "#1668dc"
    assert "cards_html" not in data  # fragments only when asked


def test_progress_keeps_reporting_a_tracked_run_after_it_ends(admin_client):
    run = sync_run_claim(account="fbe", kind="offers")
    SyncRun.objects.filter(pk=run.pk).update(pages_total=3, pages_done=3)
    sync_run_finish(run=run, status="completed")
    other = sync_run_claim(account="main", kind="offers")
    sync_run_finish(run=other, status="completed")

    data = admin_client.get(reverse(PROGRESS), {"track": f"{run.pk},junk"}).json()

    assert [(r["id"], r["status"], r["percent"], r["active"]) for r in data["runs"]] == [
        (run.pk, "completed", 100, False)
    ]


def test_progress_fragments_carry_the_cards_history_and_open_conflicts(admin_client, synced):
    offer = Offer.objects.filter(account="main").first()
    Conflict.objects.create(
        offer=offer,
        field="sale_price",
        base_value="1",
        local_value="2",
        emag_value="3",
        detected_at=timezone.now(),
    )

    data = admin_client.get(reverse(PROGRESS), {"fragments": "1"}).json()

    assert 'data-account="main"' in data["cards_html"]
    assert "Completed" in data["history_html"]
    assert "1 open conflict waiting for review" in data["conflicts_html"]


def test_the_sync_form_queues_a_run_and_hands_it_to_a_worker_after_commit(
    admin_client, django_capture_on_commit_callbacks
):
    with mock.patch("emag_sync.tasks.sync_products_task.apply_async") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse(DASHBOARD),
                {
                    "account": "main",
                    "mode": "incremental",
                    "conflict_strategy": "manual",
                    "max_pages": "3",
                    "include_inactive": "on",
                    "skus": "ignored because the mode is not selective",
                },
            )

    assert response.status_code == 302
    run = SyncRun.objects.get()
    assert (run.account, run.status, run.mode, run.conflict_strategy) == (
        "main",
        "queued",
        "incremental",
        "manual",
    )
    assert run.triggered_by == "admin"
    assert run.parameters["max_pages"] == 3 and run.parameters["include_inactive"] is True
    delay.assert_called_once()
    assert delay.call_args.kwargs["kwargs"]["run_id"] == run.pk
    assert delay.call_args.kwargs["kwargs"]["skus"] == []


def test_a_selective_sync_passes_skus_ids_and_filters(admin_client):
    with mock.patch("emag_sync.tasks.sync_products_task.apply_async"):
        admin_client.post(
            reverse(DASHBOARD),
            {
                "account": "fbe",
                "mode": "selective",
                "conflict_strategy": "emag_priority",
                "skus": "ABC-1\nABC 2, ABC-3",
                "emag_ids": "11 12,13",
                "status": "1",
                "validation_status": "9",
            },
        )

    run = SyncRun.objects.get()
    assert run.parameters["skus"] == ["ABC-1", "ABC 2", "ABC-3"]
    assert run.parameters["ids"] == [11, 12, 13]
    assert run.parameters["filters"] == {"status": 1, "validation_status": 9}


def test_a_selective_sync_without_anything_to_select_is_explained_and_not_queued(admin_client):
    response = admin_client.post(
        reverse(DASHBOARD),
        {"account": "main", "mode": "selective", "conflict_strategy": "emag_priority"},
    )

    assert response.status_code == 200
    assert "a selective sync needs filters, ids or SKUs" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_bad_ids_are_pointed_out(admin_client):
    response = admin_client.post(
        reverse(DASHBOARD),
        {
            "account": "main",
            "mode": "selective",
            "conflict_strategy": "emag_priority",
            "emag_ids": "12 abc",
        },
    )
    assert "“abc” is not an eMAG id" in response.content.decode()


def test_syncing_all_accounts_queues_each_and_reports_the_busy_one(admin_client):
    busy = sync_run_claim(account="fbe", kind="offers")
    with mock.patch("emag_sync.tasks.sync_products_task.apply_async"):
        response = admin_client.post(
            reverse(DASHBOARD),
            {"account": "all", "mode": "full", "conflict_strategy": "emag_priority"},
            follow=True,
        )

    page = response.content.decode()
    assert "MAIN: full sync queued as run" in page
    assert f"FBE: a sync is already queued or running (run #{busy.pk})" in page
    assert SyncRun.objects.filter(account="main", status="queued").count() == 1


def test_test_connection_shows_latency_and_offer_count_and_logs_the_call(
    admin_client, live_sandbox
):
    live_sandbox(offers={"main": 57, "fbe": 5})

    data = admin_client.post(
        reverse("admin:emag_sync_test_connection", args=["main"]),
        HTTP_ACCEPT="application/json",
    ).json()

    assert data["ok"] is True
    assert data["total_products"] == 57
    assert data["latency_ms"] >= 0
    log = EmagRequestLog.objects.get()
    assert (log.account, log.action, log.ok, log.run) == ("main", "count", True, None)


def test_test_connection_explains_a_refusal(admin_client, live_sandbox, monkeypatch):
    from emag_sync.accounts import get_accounts

    live_sandbox(offers={"main": 5, "fbe": 5})
    monkeypatch.setenv("EMAG_FBE_PASSWORD", "wrong")
    get_accounts.cache_clear()

    data = admin_client.post(
        reverse("admin:emag_sync_test_connection", args=["fbe"]),
        HTTP_ACCEPT="application/json",
    ).json()

    assert data["ok"] is False
    assert "EMAG_FBE_" in data["message"]


def test_test_connection_without_javascript_answers_with_a_message(admin_client, live_sandbox):
    live_sandbox(offers={"main": 5, "fbe": 5})
    response = admin_client.post(
        reverse("admin:emag_sync_test_connection", args=["main"]), follow=True
    )
    assert "MAIN: Connected to" in response.content.decode()


def test_cancel_asks_a_running_run_to_stop(admin_client):
    run = sync_run_claim(account="main", kind="offers")

    data = admin_client.post(
        reverse("admin:emag_sync_syncrun_cancel", args=[run.pk]), HTTP_ACCEPT="application/json"
    ).json()

    run.refresh_from_db()
    assert run.cancel_requested and data["cancel_requested"] and not data["can_cancel"]


def test_a_viewer_sees_the_dashboard_without_any_trigger(django_user_model):
    client = client_with(django_user_model, "view_syncrun")
    run = sync_run_claim(account="main", kind="offers")

    page = client.get(reverse(DASHBOARD)).content.decode()
    progress = client.get(reverse(PROGRESS)).json()

    assert "Start sync" not in page and "Test connection" not in page
    assert progress["runs"][0]["can_cancel"] is False
    assert client.post(reverse(DASHBOARD), {"account": "main", "mode": "full"}).status_code == 403
    test_url = reverse("admin:emag_sync_test_connection", args=["main"])
    assert client.post(test_url).status_code == 403
    cancel_url = reverse("admin:emag_sync_syncrun_cancel", args=[run.pk])
    assert client.post(cancel_url).status_code == 403


def test_a_user_who_may_trigger_but_not_cancel_gets_no_cancel_button(django_user_model):
    client = client_with(django_user_model, "view_syncrun", "add_syncrun")
    sync_run_claim(account="main", kind="offers")

    page = client.get(reverse(DASHBOARD)).content.decode()

    assert "Start sync" in page
    assert client.get(reverse(PROGRESS)).json()["runs"][0]["can_cancel"] is False


def test_staff_without_the_view_permission_cannot_open_the_dashboard(django_user_model):
    client = client_with(django_user_model)
    assert client.get(reverse(DASHBOARD)).status_code == 403
    assert client.get(reverse(PROGRESS)).status_code == 403


def test_every_dashboard_post_needs_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    run = sync_run_claim(account="main", kind="offers")

    posts = [
        (reverse(DASHBOARD), {"account": "main", "mode": "full", "conflict_strategy": "manual"}),
        (reverse("admin:emag_sync_test_connection", args=["main"]), {}),
        (reverse("admin:emag_sync_syncrun_cancel", args=[run.pk]), {}),
    ]

    assert [client.post(url, data).status_code for url, data in posts] == [403, 403, 403]
    run.refresh_from_db()
    assert not run.cancel_requested and SyncRun.objects.count() == 1


def test_an_account_whose_first_sync_is_running_is_not_called_stale(admin_client):
    sync_run_claim(account="main", kind="offers")

    page = admin_client.get(reverse(DASHBOARD)).content.decode()

    assert "The first sync of this account is running." in page
    assert page.count("this account was never synced") == 1  # FBE only


# --- orders and health on the cards ---------------------------------------------------------


def finished_run(account: str, kind: str, status: str, *, minutes_ago: float = 1, error=None):
    """Record a run of a stream that ended `minutes_ago` with the given status."""
    run = sync_run_claim(account=account, kind=kind, mode="incremental")
    sync_run_finish(run=run, status=status, errors=[{"message": error}] if error else None)
    SyncRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return run


def cards_of(client) -> tuple[dict, str]:
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    return {card.name: card for card in response.context["accounts"]}, response.content.decode()


def card_html(page: str, account: str) -> str:
    start = page.index(f'data-account="{account}"')
    return page[start : page.index("</article>", start)]


def test_each_card_shows_its_orders_the_new_ones_and_the_order_streams(admin_client):
    make_orders("main", 12)  # statuses cycle 1, 2, ..., 5, 0: two of twelve are new
    make_orders("fbe", 3, first_id=1001)
    finished_run("main", "orders", "completed", minutes_ago=4)
    finished_run("main", "acknowledge", "completed", minutes_ago=7)

    cards, page = cards_of(admin_client)

    main = cards["main"]
    assert (main.orders.total, main.orders.new) == (12, 2)
    assert not main.order_stream.is_flagged and not main.acknowledge_stream.is_flagged
    html = card_html(page, "main")
    orders = reverse("admin:emag_sync_order_changelist")
    assert f'data-field="orders" href="{orders}?account=main">12</a>' in html
    assert f'href="{orders}?account=main&amp;status__exact=1" class="mf-new-orders">2 new' in html
    assert "Last successful order sync:" in html and "4\xa0minutes ago" in html
    assert "Last acknowledge:" in html and "7\xa0minutes ago" in html
    assert "never run" in card_html(page, "fbe")  # its order streams never ran: not flagged


def test_a_stale_or_failing_order_stream_flags_the_card(admin_client, settings):
    settings.SYNC_STALE_AFTER_MINUTES = {"offers": 180, "orders": 30, "acknowledge": 60}
    for account in ("main", "fbe"):
        finished_run(account, "offers", "completed")
    finished_run("main", "orders", "completed", minutes_ago=31)
    finished_run("fbe", "orders", "completed")
    finished_run("fbe", "acknowledge", "failed", error="eMAG refused order 42")

    cards, page = cards_of(admin_client)

    assert cards["main"].order_stream.is_stale and cards["main"].is_flagged
    assert not cards["main"].is_stale  # the offers are fine
    assert cards["fbe"].acknowledge_stream.is_failing and cards["fbe"].is_flagged
    assert 'title="No completed run within 30\xa0minutes' in card_html(page, "main")
    fbe = card_html(page, "fbe")
    assert "last run failed" in fbe and "ended failed: eMAG refused order 42" in fbe
    assert "mf-card-flagged" in page[page.rindex("<article", 0, page.index('"fbe"')) :][:80]


def test_an_order_stream_trying_without_success_for_too_long_is_stale(admin_client, settings):
    settings.SYNC_STALE_AFTER_MINUTES = {"offers": 180, "orders": 30, "acknowledge": 60}
    run = finished_run("main", "orders", "cancelled")
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=45))

    cards, _ = cards_of(admin_client)

    assert cards["main"].order_stream.is_stale and cards["main"].order_stream.is_flagged


def test_staleness_follows_the_schedules_settings(admin_client, settings):
    settings.SYNC_STALE_AFTER_MINUTES = {"offers": 10, "orders": 30, "acknowledge": 60}
    finished_run("main", "offers", "completed", minutes_ago=15)

    cards, page = cards_of(admin_client)

    assert cards["main"].is_stale
    assert "No completed offer sync within 10\xa0minutes." in card_html(page, "main")


def test_cards_show_whether_emag_was_reachable_at_the_last_health_check(admin_client):
    HealthCheck.objects.create(
        checked_at=timezone.now() - timedelta(minutes=3),
        status="degraded",
        database_ok=True,
        broker_ok=True,
        accounts={
            "main": {"ok": True, "latency_ms": 85, "total_products": 130, "message": "ok"},
            "fbe": {"ok": False, "latency_ms": None, "message": "Bad credentials for fbe"},
        },
    )

    cards, page = cards_of(admin_client)

    assert cards["main"].health.ok and not cards["fbe"].health.ok
    main, fbe = card_html(page, "main"), card_html(page, "fbe")
    assert "eMAG reachable</span>\n    at the last health check" in main and "85 ms" in main
    assert "eMAG unreachable" in fbe and "Bad credentials for fbe" in fbe
    assert 'data-flag="unreachable"' in fbe and 'data-flag="unreachable"' not in main
    assert "Last eMAG call" not in page  # the stand-in is only for before the first check
    assert "Health check: <strong>Degraded</strong>" in page


def test_before_any_health_check_the_last_emag_call_stands_in(admin_client):
    EmagRequestLog.objects.create(
        account="main",
        resource="product_offer",
        action="count",
        status_code=200,
        latency_ms=42,
        created_at=timezone.now(),
    )

    _, page = cards_of(admin_client)

    assert "Last eMAG call:" in card_html(page, "main") and "42 ms" in card_html(page, "main")
    assert "No health check has run yet" in page


def test_open_alerts_are_flagged_on_their_account_and_above_the_cards(admin_client):
    finished_run("main", "offers", "completed")
    now = timezone.now()
    for key, kind, account, message, resolved_at in [
        ("stale:fbe:orders", "stream_stale", "fbe", "The orders sync of fbe is stale", None),
        ("service:broker", "service_down", "", "The broker is down: refused", None),
        ("account:main", "account_unreachable", "main", "main was unreachable", now),
    ]:
        AlertIncident.objects.create(
            key=key,
            kind=kind,
            account=account,
            message=message,
            opened_at=now - timedelta(minutes=20),
            last_seen_at=now,
            resolved_at=resolved_at,
        )

    cards, page = cards_of(admin_client)

    assert [incident.key for incident in cards["fbe"].incidents] == ["stale:fbe:orders"]
    assert cards["main"].incidents == [] and not cards["main"].is_flagged
    fbe = card_html(page, "fbe")
    assert "1 open alert</span>" in fbe and "The orders sync of fbe is stale" in fbe
    assert "The broker is down: refused" in page  # no account: above the cards
    assert "main was unreachable" not in page  # resolved


def test_progress_fragments_carry_the_health_check(admin_client):
    data = admin_client.get(reverse(PROGRESS), {"fragments": "1"}).json()
    assert "No health check has run yet" in data["health_html"]


def test_a_user_who_may_not_view_orders_sees_their_counts_without_links(django_user_model):
    client = client_with(django_user_model, "view_syncrun")
    make_orders("main", 6)

    page = client.get(reverse(DASHBOARD)).content.decode()

    assert '<span data-field="orders">6</span>' in card_html(page, "main")
    assert reverse("admin:emag_sync_order_changelist") not in page


def test_an_order_run_on_the_board_counts_orders(admin_client):
    run = sync_run_claim(account="main", kind="orders", mode="incremental")

    [shown] = admin_client.get(reverse(PROGRESS)).json()["runs"]

    assert (shown["id"], shown["items_noun"]) == (run.pk, "orders")
