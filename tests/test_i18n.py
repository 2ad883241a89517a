"""Romanian and English: complete catalogues, each language's formats, the language a person gets.

These tests choose their languages themselves (marker `i18n`); every other test runs in English.
"""

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.urls import reverse
from django.utils import translation

from emag_sync.admin.display import account_time, count, money
from emag_sync.exports import ORDER_CSV_COLUMNS
from emag_sync.services import alerts
from emag_sync.services.alerts import Problem, alert_incidents_update
from tests.admin_support import make_orders

pytestmark = [pytest.mark.i18n, pytest.mark.django_db]

LOCALE = Path(__file__).resolve().parent.parent / "locale"
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


@pytest.fixture(autouse=True)
def _romanian_by_default(settings):
    settings.LANGUAGE_CODE = "ro"


def test_there_is_a_romanian_catalogue_for_python_and_templates_and_for_javascript():
    assert {path.relative_to(LOCALE).as_posix() for path in CATALOGUES} >= {
        "ro/LC_MESSAGES/django.po",
        "ro/LC_MESSAGES/djangojs.po",
    }


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.name)
def test_every_marked_string_is_translated_with_the_same_placeholders(catalogue):
    entries = [entry for entry in polib.pofile(str(catalogue)) if not entry.obsolete]

    untranslated = [entry.msgid for entry in entries if not entry.translated()]
    assert untranslated == []
    for entry in entries:
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for translated in translations:
            assert sorted(PLACEHOLDER.findall(translated)) == sorted(
                PLACEHOLDER.findall(sources[-1])
            ), entry.msgid


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.name)
def test_the_committed_compiled_catalogue_matches_its_source(catalogue):
    source = {
        (entry.msgctxt, entry.msgid): entry.msgstr
        for entry in polib.pofile(str(catalogue))
        if entry.translated() and not entry.obsolete and not entry.msgid_plural
    }
    compiled = {
        (entry.msgctxt, entry.msgid): entry.msgstr
        for entry in polib.mofile(str(catalogue.with_suffix(".mo")))
        if entry.msgid and not entry.msgid_plural
    }

    assert compiled == source, "run `make messages` and commit the .mo files"


def test_romanian_letters_use_the_comma_below_never_the_cedilla():
    for catalogue in CATALOGUES:
        for entry in polib.pofile(str(catalogue)):
            assert not set("şţŞŢ") & set(entry.msgstr), entry.msgid


MOMENT = datetime(2025, 9, 15, 11, 30, tzinfo=UTC)  # 14:30 in Bucharest


@pytest.mark.parametrize(
    "language, four_places, two_places, offers, moment",
    [
        ("ro", "1.403,4876 lei", "1.403,49 lei", "12.345", "15.09.2025, 14:30"),
        ("en", "1,403.4876 RON", "1,403.49 RON", "12,345", "2025-09-15 14:30"),
    ],
)
def test_each_language_shows_prices_dates_and_counts_its_own_way(
    language, four_places, two_places, offers, moment
):
    with translation.override(language):
        assert money(Decimal("1403.4876"), "RON") == four_places
        assert money(Decimal("1403.4900"), "RON") == two_places
        assert count(12345) == offers
        assert account_time(MOMENT, "main") == moment


def test_a_price_never_loses_a_stored_digit_in_any_language():
    for language in ("ro", "en"):
        with translation.override(language):
            shown = money(Decimal("0.0001"), "EUR")
            assert shown.endswith("0001 EUR"), shown


def test_the_admin_speaks_romanian_to_a_browser_asking_for_it_or_for_nothing(admin_client):
    dashboard = reverse("admin:emag_sync_dashboard")

    for headers in ({}, {"Accept-Language": "ro-RO,ro;q=0.9"}):
        page = admin_client.get(dashboard, headers=headers).content.decode()
        assert '<html lang="ro"' in page
        assert "Panou de sincronizare" in page

    english = admin_client.get(dashboard, headers={"Accept-Language": "en-US,en;q=0.8"})
    assert '<html lang="en"' in english.content.decode()


def test_a_user_who_switches_to_english_keeps_it(admin_client):
    dashboard = reverse("admin:emag_sync_dashboard")
    page = admin_client.get(dashboard).content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="en"' in page
    assert ">English</button>" in page and ">Română</strong>" in page  # each in its own name

    switched = admin_client.post(reverse("set_language"), {"language": "en", "next": dashboard})

    assert switched.status_code == 302 and switched["Location"] == dashboard
    later = admin_client.get(dashboard, headers={"Accept-Language": "ro"}).content.decode()
    assert '<html lang="en"' in later and "Sync dashboard" in later


def test_the_javascript_catalogue_is_served_here_in_the_page_language(client):
    romanian = client.get(reverse("javascript-catalog"), headers={"Accept-Language": "ro"})
    english = client.get(reverse("javascript-catalog"), headers={"Accept-Language": "en"})

    assert romanian.status_code == 200
    assert "Se testeaz" in romanian.content.decode()
    assert "Se testeaz" not in english.content.decode()


def test_a_csv_export_stays_machine_readable_in_romanian(admin_client):
    make_orders("main", 2)

    response = admin_client.get(reverse("admin:emag_sync_order_export"))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header == ORDER_CSV_COLUMNS
    status_names = {row[header.index("status_name")] for row in body}
    assert status_names and status_names <= {
        "Cancelled",
        "New",
        "In progress",
        "Prepared",
        "Finalized",
        "Returned",
    }
    # Dot decimals, no grouping: 101.5000, never 101,5000.
    assert all(re.fullmatch(r"\d+\.\d{4}", row[header.index("total")]) for row in body)


def test_alerts_speak_the_installations_language_and_keep_their_webhook_keys(settings, mailoutbox):
    settings.ADMINS = [("Seller", "seller@example.com")]
    problem = Problem(
        key="account:main", kind="account_unreachable", message="Timeout", account="main"
    )

    with translation.override("en"):  # the reader's language does not matter
        (incident,) = alert_incidents_update(problems=[problem]).opened
    payload = alerts._webhook_payload(incident, "opened")

    (mail,) = mailoutbox
    assert "Alertă: Timeout" in mail.subject
    assert "Tip: Cont inaccesibil" in mail.body and "Cont: main" in mail.body
    assert set(payload) == {"source", "event", "text", "incident"}
    assert payload["event"] == "opened" and payload["incident"]["kind"] == "account_unreachable"
