"""The pseudo-locale: every marked string transformed, so what was never marked shows as English.

tests/pseudo_support.py builds it from our catalogues and the third-party ones; these tests
check the machinery itself, then render the seller's admin pages in it.
"""

import json
import re

import polib
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation.trans_real import DjangoTranslation

from tests.pseudo_support import (
    CLOSE,
    OPEN,
    PSEUDO,
    english,
    findings,
    pseudo,
    pseudo_catalogue,
    source_catalogues,
    untranslated,
    use_pseudo_locale,
    visible_texts,
)

pytestmark = [pytest.mark.i18n]

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
TAG = re.compile(r"<[^<>]+>")


@pytest.fixture
def pseudo_locale(settings, monkeypatch):
    use_pseudo_locale(settings, monkeypatch)


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_msgid_of_every_catalogue_gets_a_pseudo_translation(domain):
    sources = source_catalogues()[domain]
    msgids = {
        (entry.msgctxt, entry.msgid)
        for path in sources
        for entry in (polib.mofile if path.suffix == ".mo" else polib.pofile)(str(path))
        if entry.msgid and not entry.obsolete
    }
    catalogue = pseudo_catalogue(domain)

    assert {(entry.msgctxt, entry.msgid) for entry in catalogue} == msgids
    for entry in catalogue:
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for translated in translations:
            assert translated.startswith(OPEN) and translated.endswith(CLOSE), entry.msgid
            assert english(translated) in (entry.msgid, entry.msgid_plural), entry.msgid


def test_the_catalogues_include_ours_and_the_third_party_ones_a_seller_sees():
    packages = {path.as_posix() for path in source_catalogues()["django"]}
    for package in ("django/conf", "contrib/admin", "contrib/auth", "rest_framework"):
        assert any(f"/{package}/" in path for path in packages), package
    for package in ("django_celery_beat", "django_filters", "import_export", "/locale/ro/"):
        assert any(package in path for path in packages), package
    assert any("contrib/admin" in path.as_posix() for path in source_catalogues()["djangojs"])


def test_a_pseudo_translation_keeps_placeholders_tags_and_entities():
    source = 'Sync %(account)s: <a href="/x/">%s offers</a> of {total} &amp; 5%%'

    translated = pseudo(source)

    assert PLACEHOLDER.findall(translated) == PLACEHOLDER.findall(source)
    assert TAG.findall(translated) == TAG.findall(source)
    assert "&amp;" in translated and "5%%" in translated
    assert translated.startswith("⟦Šýñç %(account)s: <a ") and "óƒƒéŕš" in translated
    assert english(translated) == source


def test_plural_forms_and_contexts_are_translated_each():
    catalogue = pseudo_catalogue("djangojs")
    selected = catalogue.find("%(sel)s of %(cnt)s selected")
    january = next(e for e in catalogue if e.msgctxt == "abbrev. month January")

    assert selected.msgstr_plural == {
        0: pseudo("%(sel)s of %(cnt)s selected"),
        1: pseudo("%(sel)s of %(cnt)s selected"),
    }
    assert january.msgstr == pseudo(january.msgid)


def test_activating_the_pseudo_locale_changes_admin_strings_and_ours(pseudo_locale):
    with translation.override(PSEUDO):
        assert gettext("Log in") == pseudo("Log in")  # Django's admin
        assert gettext("Sync dashboard") == pseudo("Sync dashboard")  # ours
        assert gettext("Periodic Tasks") == pseudo("Periodic Tasks")  # django-celery-beat
    scripts = DjangoTranslation(PSEUDO, domain="djangojs")
    assert scripts.gettext("Testing…") == pseudo("Testing…")  # the dashboard's JavaScript
    assert scripts.gettext("Show") == pseudo("Show")  # the admin's JavaScript


@pytest.mark.django_db
def test_a_browser_can_choose_the_pseudo_locale_and_gets_its_javascript_catalogue(
    pseudo_locale, client
):
    dashboard = reverse("admin:emag_sync_dashboard")
    page = client.get(reverse("admin:login"), {"next": dashboard})
    catalogue = client.get(reverse("javascript-catalog")).content.decode()

    assert '<html lang="en-xa"' in page.content.decode()
    assert pseudo("Log in") in page.content.decode()
    assert json.dumps(pseudo("Testing…")) in catalogue


def test_the_scanner_flags_plain_english_labels():
    found = untranslated(
        [pseudo("Offers"), "Test connection", f"{pseudo('Status')}: Connected", "Save"],
        exempt=["Test product 1 blue widget"],
    )

    assert found == ["Test connection", f"{pseudo('Status')}: Connected", "Save"]


def test_the_scanner_exempts_data_but_never_a_label_that_shares_a_word_with_data():
    data = ["Test product 1 blue widget", "Maria Popescu", "Health check"]
    shown = [
        "Test product 1 blue widget",
        pseudo("Conflicts of %(offer)s") % {"offer": "Test product 1 blue widget"},
        "MAIN-SKU-00001",
        "1,500",
        "2025-09-15 14:30",
        "https://marketplace.emag.ro/api-3",
        "/admin/emag_sync/offer/",
        "emag_sync.tasks.sync_offers",
        "emag_priority",
        "MagFlow · eMAG · MAIN · FBE · 1.403,49 RON",
        "seller@example.com",
        "Maria Popescu",
        "Health check",
    ]

    assert untranslated(shown, exempt=data) == []
    assert untranslated(["Health", "blue widget", "Health check now"], exempt=data) == [
        "Health",
        "blue widget",
        "Health check now",
    ]


def test_the_scanner_catches_an_unmarked_word_inside_a_marked_sentence():
    shown = pseudo("Run ended %(status)s") % {"status": "failed"}

    assert untranslated([shown]) == [shown]


def test_visible_texts_are_texts_and_read_attributes_not_scripts_code_or_other_languages():
    html = """<html lang="en-xa"><head><title>Offers</title><script>var a = "Hidden";</script>
    </head><body><p title="Tip">Hello <b>world</b></p><input type="submit" value="Save">
    <input type="text" value="typed data" placeholder="Search"><input type="hidden" value="x">
    <code>make run</code><strong lang="ro">Română</strong><button lang="en">English</button>
    <select><option>All</option></select></body></html>"""

    assert visible_texts(html) == [
        "Offers", "Tip", "Hello", "world", "Save", "Search", "All",
    ]  # fmt: skip


# --- The gate: the seller's admin pages show no English in the pseudo-locale ------------------


@pytest.fixture
def seeded_admin(pseudo_locale, admin_client):
    """Seed what the seller's pages list: offers with local prices and conflicts, orders, runs,
    the default schedule; return the logged-in client and the data shown as it is."""
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from emag_sync.models import Offer, Order, OrderLine, SyncRun
    from tests.admin_support import make_offers, make_orders, make_overlay, make_runs

    offers = make_offers("main", 30) + make_offers("fbe", 10, first_id=1000)
    make_overlay(offers)
    make_orders("main", 12, offers=offers)
    make_runs(4)
    call_command("setup_periodic_tasks", verbosity=0)
    data = [
        "admin",
        *Offer.objects.values_list("name", flat=True),
        *Offer.objects.values_list("part_number", flat=True),
        *Order.objects.values_list("customer_name", flat=True),
        *Order.objects.values_list("payment_mode", flat=True),
        *PeriodicTask.objects.values_list("name", flat=True),
        *PeriodicTask.objects.values_list("description", flat=True),
        *PeriodicTask.objects.values_list("kwargs", flat=True),
        *OrderLine.objects.values_list("name", flat=True),
        # What eMAG or the network answered, as recorded in a run (the seeded runs' say so).
        *(
            error["message"]
            for errors in SyncRun.objects.values_list("errors", flat=True)
            for error in errors
        ),
    ]
    return admin_client, data


def admin_pages() -> dict[str, str]:
    from django_celery_beat.models import PeriodicTask

    from emag_sync.models import Offer, Order

    offer = Offer.objects.filter(local_edits__isnull=False).order_by("pk").first()
    order = Order.objects.order_by("pk").first()
    task = PeriodicTask.objects.order_by("pk").first()
    assert offer and order and task
    return {
        "index": reverse("admin:index"),
        "dashboard": reverse("admin:emag_sync_dashboard"),
        "offers": reverse("admin:emag_sync_offer_changelist"),
        "offers searched and filtered": reverse("admin:emag_sync_offer_changelist")
        + "?q=widget&account=main",
        "offer": reverse("admin:emag_sync_offer_change", args=[offer.pk]),
        "conflicts": reverse("admin:emag_sync_conflict_changelist"),
        "orders": reverse("admin:emag_sync_order_changelist"),
        "order": reverse("admin:emag_sync_order_change", args=[order.pk]),
        "sync runs": reverse("admin:emag_sync_syncrun_changelist"),
        "periodic tasks": reverse("admin:django_celery_beat_periodictask_changelist"),
        "periodic task": reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]),
    }


@pytest.mark.django_db
def test_no_page_of_the_seller_path_shows_an_unmarked_string(seeded_admin):
    client, data = seeded_admin
    found = {}
    for name, path in admin_pages().items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        english = untranslated(visible_texts(response.content.decode()), exempt=data)
        if english:
            found[name] = english

    assert found == {}, findings(found)
