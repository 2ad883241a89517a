"""A full sync over real HTTP leaves the local table equal to eMAG's catalogue, exactly."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from emag_sync.models import Offer, OfferChange, SyncRun
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync

pytestmark = pytest.mark.django_db(transaction=True)

# Values the sandbox's generator gives with its default seed (42), written out by hand so the
# test does not lean on the app's own mapping: JSON numbers, 4-decimal strings, missing keys,
# booleans, EOL and inactive statuses, several EANs, Romanian diacritics.
EXPECTED = {
    ("main", 233746): {
        "part_number": "SW506AMT",
        "part_number_key": "D7658AXYB",
        "name": "Mașină de tuns iarba Gardena SW506AMT, 1600 W, lățime 38 cm",
        "sale_price": Decimal("1621.0165"),
        "recommended_price": Decimal("1912.7994"),
        "min_sale_price": Decimal("1296.8132"),
        "best_offer_sale_price": Decimal("1394.0741"),
        "general_stock": 113,
        "estimated_stock": 112,
        "status": 1,
        "ownership": 2,
        "validation_status": 9,
        "offer_validation_status": 1,
        "emag_offer_id": 84144369,
        "ean": ["5947119444934"],
        "currency": "RON",
    },
    ("main", 233808): {
        "part_number": "XG2655TP",
        "sale_price": Decimal("1931.3967"),
        "recommended_price": Decimal("2433.5598"),
        "ean": [],
    },
    ("main", 233847): {
        "part_number": "HP673XMN",
        "sale_price": Decimal("2534.9256"),
        "recommended_price": None,
        "status": 0,
        "ean": ["5948251000835", "5945447073116"],
    },
    ("main", 233857): {
        "name": "Carte Litera NS2917SKN, ediție cartonată",
        "sale_price": Decimal("42.0496"),
        "general_stock": 226,
    },
    ("main", 233937): {"part_number": "MS1396E", "status": 2},
    ("fbe", 26504): {
        "part_number": "XX848T",
        "part_number_key": "D8AVY03UB",
        "name": "Cafetieră Heinner XX848T, 1000 W, 10 căni, Alb",
        "sale_price": Decimal("1403.4876"),
        "recommended_price": None,
        "status": 0,
        "general_stock": 17,
        "estimated_stock": 15,
        "ownership": 2,
    },
}


def money(value):
    return None if value is None else Decimal(str(value))


def test_a_full_sync_of_both_accounts_stores_exactly_the_sandbox_catalogue(live_sandbox, capsys):
    sandbox, _ = live_sandbox()

    with pytest.raises(SystemExit) as exit_info:
        call_command("emag_sync", "products", "--account", "all", "--mode", "full", "--json")
        raise SystemExit(0)
    report = json.loads(capsys.readouterr().out)

    assert exit_info.value.code == 0
    assert {run["account"]: run["created"] for run in report["runs"]} == {"main": 1274, "fbe": 1271}
    assert all(run["status"] == "completed" for run in report["runs"])
    assert Offer.objects.filter(account="main").count() == 1274
    assert Offer.objects.filter(account="fbe").count() == 1271
    for (account, emag_id), expected in EXPECTED.items():
        offer = Offer.objects.get(account=account, emag_id=emag_id)
        assert {name: getattr(offer, name) for name in expected} == expected, (account, emag_id)
    for account in ("main", "fbe"):
        stored = {offer.emag_id: offer for offer in Offer.objects.filter(account=account)}
        for raw in sandbox.offers(account):
            offer = stored[raw["id"]]
            assert offer.raw == raw
            assert offer.part_number == raw["part_number"]
            assert offer.name == raw["name"]
            assert offer.sale_price == money(raw.get("sale_price"))
            assert offer.recommended_price == money(raw.get("recommended_price"))
            assert offer.general_stock == raw.get("general_stock")
            assert offer.status == raw["status"]
            assert offer.ean == raw.get("ean", [])


def test_a_second_full_sync_writes_no_rows_and_reports_every_offer_unchanged(live_sandbox):
    live_sandbox(offers={"main": 450, "fbe": 10})
    offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    before = list(Offer.objects.order_by("pk").values_list("pk", "synced_at", "content_hash"))

    with CaptureQueriesContext(connection) as queries:
        run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))

    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and any(
            f'"{table}"' in query["sql"]
            for table in (
                "emag_sync_offer",
                "emag_sync_offerchange",
                "emag_sync_conflict",
            )
        )
    ]
    assert writes == []
    assert (run.status, run.items_seen, run.items_unchanged) == ("completed", 450, 450)
    assert (run.items_created, run.items_updated, run.items_missing) == (0, 0, 0)
    assert (
        list(Offer.objects.order_by("pk").values_list("pk", "synced_at", "content_hash")) == before
    )
    assert not OfferChange.objects.exists()


def test_a_run_records_its_pages_requests_and_duration(live_sandbox):
    live_sandbox(offers={"main": 250, "fbe": 10})
    run = offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    assert run.pages_total == 3
    assert run.pages_done == 3
    assert run.requests == 4  # one count, three pages
    assert run.request_logs.count() == 4
    assert run.duration_seconds > 0
    assert SyncRun.objects.get(pk=run.pk).status == "completed"


def test_the_csv_export_has_one_row_per_offer_with_the_values_emag_sent(live_sandbox, capsys):
    sandbox, _ = live_sandbox(offers={"main": 120, "fbe": 30})
    offer_sync(account="main", options=OfferSyncOptions(mode="full"))
    offer_sync(account="fbe", options=OfferSyncOptions(mode="full"))
    capsys.readouterr()

    call_command("emag_export", "products", "--account", "main")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    assert len(rows) == 120
    assert {
        "account",
        "emag_id",
        "part_number",
        "part_number_key",
        "name",
        "brand",
        "sale_price",
        "recommended_price",
        "currency",
        "general_stock",
        "estimated_stock",
        "status",
        "vat_id",
        "synced_at",
    } <= set(rows[0])
    by_id = {int(row["emag_id"]): row for row in rows}
    for raw in sandbox.offers("main"):
        row = by_id[raw["id"]]
        assert row["account"] == "main"
        assert row["part_number"] == raw["part_number"]
        assert row["name"] == raw["name"]
        assert Decimal(row["sale_price"]) == Decimal(str(raw["sale_price"]))
        assert len(row["sale_price"].split(".")[1]) == 4  # exactly as stored
        assert row["general_stock"] == str(raw["general_stock"])
        assert row["status"] == str(raw["status"])
