"""Orders in the admin: the list, filters, search, detail, acknowledge action, permissions, CSV."""

import csv
import io
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from emag_sync.accounts import get_accounts
from emag_sync.admin.display import money
from emag_sync.models import Order, SyncRun
from emag_sync.sandbox import generate_orders
from emag_sync.services.order_pages import order_page_write
from emag_sync.services.sync_runs import sync_run_claim
from emag_sync.services.sync_triggers import orders_acknowledge_enqueue
from tests.admin_support import client_with, make_offers, make_orders, run_changelist_action
from tests.orders_support import BUCHAREST, NOW, write_order_page

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at"),
]

CHANGELIST = reverse("admin:emag_sync_order_changelist")
EXPORT = reverse("admin:emag_sync_order_export")
ACKNOWLEDGE = "acknowledge_new_orders"


@pytest.fixture
def orders():
    """MAIN: 24 orders, lines linked to local offers; FBE: 6 orders with unlinked lines."""
    offers = make_offers("main", 5)
    return make_orders("main", 24, offers=offers), make_orders("fbe", 6, first_id=1001)


def listed(client, **params) -> list[int]:
    """Return the eMAG ids the changelist shows for these query parameters."""
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200, response
    return sorted(order.emag_id for order in response.context["cl"].result_list)


def ids(orders, condition=lambda order: True) -> list[int]:
    return sorted(order.emag_id for order in orders if condition(order))


def exported(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def acknowledge(client, orders, *, follow=True):
    return run_changelist_action(client, CHANGELIST, ACKNOWLEDGE, orders, follow=follow)


def test_the_list_shows_account_status_type_date_customer_total_and_line_count(
    admin_client, orders
):
    main, _ = orders

    response = admin_client.get(CHANGELIST, {"account": "main"})

    page = response.content.decode()
    shown = {order.emag_id: order for order in response.context["cl"].result_list}
    assert [shown[order.emag_id].line_count for order in main] == [
        1 + order.emag_id % 3 for order in main
    ]
    assert '<span class="mf-tag mf-order-status-1" title="eMAG status 1">New</span>' in page
    assert "In progress" in page and "Finalized" in page
    assert '<abbr title="Fulfilled by seller (FBS)">FBS</abbr>' in page
    assert "101.50 RON" in page  # the total of order 1, with its currency
    assert "Client 1 Popescu" in page
    placed = main[0].date.astimezone(BUCHAREST).strftime("%Y-%m-%d %H:%M")
    assert placed in page  # on the account's clock, as eMAG shows it
    assert "Export CSV" in page and "Europe/Bucharest" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"account": "fbe"}, lambda order: order.account == "fbe"),
        ({"status__exact": "1"}, lambda order: order.status == 1),
        ({"type__exact": "2"}, lambda order: order.type == 2),
        (
            {"account": "main", "status__exact": "2", "type__exact": "3"},
            lambda order: (order.account, order.status, order.type) == ("main", 2, 3),
        ),
    ],
)
def test_each_filter_narrows_the_list(admin_client, orders, params, expected):
    assert listed(admin_client, **params) == ids([*orders[0], *orders[1]], expected)


def test_the_date_filter_takes_whole_days_on_the_accounts_clock(admin_client, orders):
    # 22:30 UTC on 14 September is 01:30 on the 15th in Bucharest (UTC+3 in summer).
    late = Order.objects.filter(account="main", emag_id=1)
    late.update(date=datetime(2025, 9, 14, 22, 30, tzinfo=UTC))
    early = Order.objects.filter(account="main", emag_id=2)
    early.update(date=datetime(2025, 9, 15, 20, 59, tzinfo=UTC))  # 23:59 in Bucharest
    Order.objects.filter(account="main", emag_id=3).update(
        date=datetime(2025, 9, 15, 21, 0, tzinfo=UTC)  # already the 16th there
    )

    assert listed(admin_client, date_from="2025-09-15", date_to="2025-09-15") == [1, 2]
    assert listed(admin_client, date_from="2025-09-16", date_to="2025-09-16") == [3]
    assert 1 not in listed(admin_client, date_to="2025-09-14")
    response = admin_client.get(CHANGELIST, {"date_from": "15 Sept"})
    assert response.status_code == 302 and response.url.endswith("?e=1")


def test_accounts_on_different_clocks_each_get_their_own_days(admin_client, orders, monkeypatch):
    monkeypatch.setenv("EMAG_FBE_TIMEZONE", "UTC")
    get_accounts.cache_clear()
    moment = datetime(2025, 9, 14, 22, 30, tzinfo=UTC)  # the 15th in Bucharest, the 14th in UTC
    Order.objects.filter(emag_id__in=[1, 1001]).update(date=moment)

    assert listed(admin_client, date_from="2025-09-15", date_to="2025-09-15") == [1]
    assert listed(admin_client, date_from="2025-09-14", date_to="2025-09-14") == [1001]


def test_the_date_presets_are_links_and_the_range_form_keeps_the_other_filters(
    admin_client, orders
):
    today = timezone.now().astimezone(BUCHAREST).date().isoformat()

    params = {"account": "main", "status__exact": "1", "p": "1", "e": "1"}
    page = admin_client.get(CHANGELIST, params).content.decode()

    assert f"date_from={today}&amp;date_to={today}" in page  # "Today"
    assert '<input type="hidden" name="account" value="main">' in page
    assert '<input type="hidden" name="status__exact" value="1">' in page
    assert 'name="p"' not in page and 'name="e"' not in page  # a new range starts afresh
    assert listed(admin_client, date_from=today, date_to=today) == ids(
        [*orders[0], *orders[1]],
        lambda order: order.date.astimezone(BUCHAREST).date().isoformat() == today,
    )


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("1003", [1003]),  # an eMAG id, exactly
        ("ionescu", [3, 6, 9, 12, 15, 18, 21, 24, 1002, 1005]),  # any case
        ("client 12 ionescu", [12]),  # every word
        ("  ", None),  # blank: everything
        ("99999999999999999999999", []),  # beyond any id: no error
        ("Vasilescu", []),
    ],
)
def test_search_finds_an_emag_id_exactly_or_every_word_of_the_customer(
    admin_client, orders, term, expected
):
    everything = ids([*orders[0], *orders[1]])
    assert listed(admin_client, q=term) == (everything if expected is None else expected)


def test_an_order_shows_its_lines_linked_to_local_offers_and_its_status_history(
    admin_client, orders
):
    main, fbe = orders
    order = main[4]  # status 5: first seen new, then returned
    line = order.lines.order_by("id").first()

    response = admin_client.get(reverse("admin:emag_sync_order_change", args=[order.pk]))

    page = response.content.decode()
    offer_url = reverse("admin:emag_sync_offer_change", args=[line.offer_id])
    assert f'<a href="{offer_url}" title="The local offer">{line.ext_part_number}</a>' in page
    assert "25.00 RON" in page and "21 %" in page
    assert "first seen" in page and ">Returned</span>" in page
    assert 'name="_save"' not in page  # read-only: nothing to save
    unlinked = fbe[0].lines.first()
    page = admin_client.get(reverse("admin:emag_sync_order_change", args=[fbe[0].pk]))
    assert unlinked.ext_part_number in page.content.decode()
    assert 'title="The local offer"' not in page.content.decode()


def test_an_order_from_emag_shows_its_payload_totals_and_customer(admin_client):
    """A realistic order (the sandbox's payload, stored by the page writer) on its page."""
    payloads = generate_orders("main", 8, 42, NOW)
    run = sync_run_claim(account="main", kind="orders", mode="incremental")
    write_order_page(run, payloads)
    order = Order.objects.get(emag_id=payloads[0]["id"])

    page = admin_client.get(
        reverse("admin:emag_sync_order_change", args=[order.pk])
    ).content.decode()

    assert payloads[0]["products"][0]["ext_part_number"] in page
    assert money(order.total, order.currency) in page
    assert order.customer_name in page


def test_an_order_page_shows_its_cancellation_refund_locker_and_read_warnings(admin_client):
    payload = {
        **generate_orders("main", 1, 42, NOW)[0],
        "status": 0,
        "reason_cancellation": {"id": 31, "name": "Cerut de partener"},
        "refund_status": "refunded",
        "cancellation_request": {"reason": "Comandă dublă"},
        "details": {"locker_id": "9194", "locker_name": "easybox Mega Mall"},
        "cashed_cod": "plătit",
    }
    run = sync_run_claim(account="main", kind="orders", mode="incremental")
    order_page_write(
        run=run, account="main", zone=BUCHAREST, payloads=[payload], fetched_at=timezone.now()
    )
    order = Order.objects.get(emag_id=payload["id"])

    page = admin_client.get(
        reverse("admin:emag_sync_order_change", args=[order.pk])
    ).content.decode()
    warned = listed(admin_client, read_warnings="yes")

    assert "31 · Cerut de partener" in page and "refunded" in page
    assert "Comandă dublă" in page and "easybox Mega Mall (#9194)" in page
    assert "Could not be read" in page and "cashed_cod should be a price" in page
    assert warned == [order.emag_id]


def test_an_order_emag_sent_without_a_status_is_listed_and_shown(admin_client):
    payload = {**generate_orders("main", 1, 42, NOW)[0], "status": None}
    run = sync_run_claim(account="main", kind="orders", mode="incremental")
    order_page_write(
        run=run, account="main", zone=BUCHAREST, payloads=[payload], fetched_at=timezone.now()
    )
    order = Order.objects.get(emag_id=payload["id"])

    page = admin_client.get(reverse("admin:emag_sync_order_change", args=[order.pk]))

    assert listed(admin_client) == [order.emag_id]
    assert page.status_code == 200 and "status is missing" in page.content.decode()
    assert "eMAG sent no status" in page.content.decode()


def test_orders_are_never_added_changed_or_deleted_by_hand(admin_client, orders):
    order = orders[0][0]
    change = reverse("admin:emag_sync_order_change", args=[order.pk])

    assert admin_client.post(change, {"status": 4}).status_code == 403
    assert admin_client.post(change.replace("change", "delete")).status_code == 403
    assert admin_client.get(reverse("admin:emag_sync_order_add")).status_code == 403
    assert Order.objects.get(pk=order.pk).status == order.status


def test_acknowledging_queues_one_run_per_account_and_sends_it_after_commit(
    admin_client, orders, django_capture_on_commit_callbacks
):
    main, fbe = orders
    selected = [main[0], main[1], fbe[2]]  # MAIN: new and in progress; FBE: new (1003 % 6)

    with mock.patch("emag_sync.tasks.acknowledge_orders_task.apply_async") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = acknowledge(admin_client, selected)

    runs = {run.account: run for run in SyncRun.objects.filter(kind="acknowledge")}
    assert {account: run.status for account, run in runs.items()} == {
        "main": "queued",
        "fbe": "queued",
    }
    assert runs["main"].triggered_by == "admin"
    assert sorted(call.kwargs["kwargs"]["run_id"] for call in delay.call_args_list) == sorted(
        run.pk for run in runs.values()
    )
    page = response.content.decode()
    new_in_main = sum(order.status == 1 for order in main)
    assert f"MAIN: acknowledge run #{runs['main'].pk} queued" in page
    assert f"still new here ({new_in_main}, not only the selected ones)" in page
    assert "Each is read from eMAG first" in page


def test_acknowledging_orders_none_of_which_is_new_queues_nothing(admin_client, orders):
    main, _ = orders
    not_new = [order for order in main if order.status != 1][:3]

    with mock.patch("emag_sync.tasks.acknowledge_orders_task.apply_async") as delay:
        page = acknowledge(admin_client, not_new).content.decode()

    assert "MAIN: none of the selected orders is new, so nothing was queued." in page
    assert not SyncRun.objects.exists()
    delay.assert_not_called()


def test_acknowledging_while_a_run_holds_the_stream_says_so(admin_client, orders):
    busy = sync_run_claim(account="main", kind="acknowledge", mode="selective")

    with mock.patch("emag_sync.tasks.acknowledge_orders_task.apply_async"):
        page = acknowledge(admin_client, [orders[0][0]]).content.decode()

    assert f"MAIN: an acknowledge run is already queued or running (run #{busy.pk})" in page
    assert SyncRun.objects.count() == 1


def test_an_acknowledge_run_that_cannot_be_queued_fails_and_frees_the_stream(
    orders, django_capture_on_commit_callbacks
):
    with mock.patch(
        "emag_sync.tasks.acknowledge_orders_task.apply_async",
        side_effect=ConnectionError("no broker"),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run = orders_acknowledge_enqueue(account="main", triggered_by="admin")

    run.refresh_from_db()
    assert run.status == "failed"
    assert "could not queue the run: ConnectionError: no broker" in run.errors[0]["message"]


def test_a_viewer_browses_and_exports_orders_but_cannot_acknowledge(django_user_model, orders):
    client = client_with(django_user_model, "view_order")

    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert ACKNOWLEDGE not in response.content.decode()
    assert "export_selected_csv" in response.content.decode()
    assert client.get(reverse("admin:emag_sync_order_change", args=[orders[0][0].pk])).status_code
    assert len(exported(client.get(EXPORT))) == 30

    with mock.patch("emag_sync.tasks.acknowledge_orders_task.apply_async") as delay:
        acknowledge(client, [orders[0][0]])
    assert not SyncRun.objects.exists()
    delay.assert_not_called()


def test_a_user_who_may_change_orders_may_acknowledge_them(django_user_model, orders):
    client = client_with(django_user_model, "view_order", "change_order")

    assert ACKNOWLEDGE in client.get(CHANGELIST).content.decode()
    with mock.patch("emag_sync.tasks.acknowledge_orders_task.apply_async"):
        acknowledge(client, [orders[0][0]])
    assert SyncRun.objects.get().kind == "acknowledge"


def test_lines_and_history_follow_the_order_view_permission(django_user_model, orders):
    client = client_with(django_user_model, "view_order")
    assert not Permission.objects.filter(codename="view_orderline", user__username="seller")
    order = orders[0][4]

    page = client.get(reverse("admin:emag_sync_order_change", args=[order.pk])).content.decode()

    assert order.lines.first().ext_part_number in page and ">Returned</span>" in page


def test_staff_without_the_view_permission_can_neither_list_nor_export(django_user_model):
    client = client_with(django_user_model, "view_offer")
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_export_streams_exactly_the_filtered_and_searched_orders_with_their_lines(
    admin_client, orders
):
    main, _ = orders

    rows = exported(admin_client.get(EXPORT, {"account": "main", "status__exact": "1", "p": "3"}))

    expected = [order for order in main if order.status == 1]
    assert [int(row["emag_id"]) for row in rows] == [o.emag_id for o in expected]  # newest first
    assert {row["status_name"] for row in rows} == {"New"}
    first = expected[0]
    assert rows[0]["lines"] == str(1 + first.emag_id % 3)
    assert rows[0]["items"].startswith(f"{first.lines.order_by('id')[0].ext_part_number} x ")
    assert rows[0]["total"] == f"{first.total}"
    searched = exported(admin_client.get(EXPORT, {"q": "client 12 ionescu"}))
    assert [row["emag_id"] for row in searched] == ["12"]


def test_the_export_link_carries_the_current_filters(admin_client, orders):
    page = admin_client.get(CHANGELIST, {"account": "fbe", "type__exact": "2"}).content.decode()
    assert f'href="{EXPORT}?account=fbe&amp;type__exact=2"' in page


def test_the_export_selected_action_exports_the_ticked_orders(admin_client, orders):
    main, _ = orders

    response = run_changelist_action(
        admin_client, CHANGELIST, "export_selected_csv", [main[5], main[1]]
    )

    assert [row["emag_id"] for row in exported(response)] == ["2", "6"]
    assert 'filename="orders-selected-' in response["Content-Disposition"]


SYNC = reverse("admin:emag_sync_order_sync")


def test_sync_orders_now_queues_an_incremental_sync_of_each_account_after_commit(
    admin_client, django_capture_on_commit_callbacks
):
    busy = sync_run_claim(account="fbe", kind="orders", mode="incremental")

    with mock.patch("emag_sync.tasks.sync_orders_task.apply_async") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(SYNC, follow=True)

    run = SyncRun.objects.get(account="main", kind="orders")
    assert (run.status, run.mode, run.triggered_by) == ("queued", "incremental", "admin")
    delay.assert_called_once()
    assert delay.call_args.kwargs["kwargs"] == {
        "account": "main",
        "mode": "incremental",
        "since": None,
        "run_id": run.pk,
        "triggered_by": "admin",
    }
    # Sent under the run's own task id, so the reaper can ask the broker about it.
    assert delay.call_args.kwargs["task_id"] == f"sync-run-{run.pk}"
    page = response.content.decode()
    assert f"MAIN: order sync queued as run #{run.pk}" in page
    assert f"FBE: an order sync is already queued or running (run #{busy.pk})." in page


def test_only_users_who_may_start_syncs_see_and_use_sync_orders_now(django_user_model):
    viewer = client_with(django_user_model, "view_order")
    assert 'id="mf-sync-orders"' not in viewer.get(CHANGELIST).content.decode()
    assert viewer.post(SYNC).status_code == 403

    starter = client_with(django_user_model, "view_order", "add_syncrun", username="starter")
    assert 'id="mf-sync-orders"' in starter.get(CHANGELIST).content.decode()
    assert starter.get(SYNC).status_code == 405
    assert not SyncRun.objects.exists()


def test_order_posts_need_the_csrf_token(admin_user, orders):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(SYNC).status_code == 403
    assert acknowledge(client, [orders[0][0]], follow=False).status_code == 403
    assert not SyncRun.objects.exists()
