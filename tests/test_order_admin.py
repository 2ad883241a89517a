"""The plain order admin lists, filters and shows orders with their lines, read-only."""

import pytest
from django.utils import timezone

from emag_sync.models import Order
from emag_sync.sandbox import generate_orders
from emag_sync.services.order_pages import order_page_write
from emag_sync.services.sync_runs import sync_run_claim
from tests.orders_support import BUCHAREST, NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders():
    run = sync_run_claim(account="main", kind="orders", mode="incremental")
    payloads = generate_orders("main", 30, 42, NOW)
    order_page_write(
        run=run,
        account="main",
        zone=BUCHAREST,
        payloads=payloads,
        fetched_at=timezone.now(),
        page=1,
    )
    return payloads


def test_the_order_list_filters_by_account_status_and_type(admin_client, orders):
    response = admin_client.get("/admin/emag_sync/order/", {"status": "1", "type": "3"})

    assert response.status_code == 200
    shown = {order.emag_id for order in response.context["cl"].result_list}
    assert shown == {o["id"] for o in orders if o["status"] == 1 and o["type"] == 3}


def test_an_order_page_shows_its_lines_and_history_without_editing(admin_client, orders):
    order = Order.objects.get(emag_id=orders[0]["id"])

    response = admin_client.get(f"/admin/emag_sync/order/{order.pk}/change/")

    assert response.status_code == 200
    assert orders[0]["products"][0]["ext_part_number"] in response.content.decode()
    assert admin_client.post(f"/admin/emag_sync/order/{order.pk}/delete/").status_code == 403
