"""Conflict review (one by one, in bulk) and the read-only run, request-log and checkpoint pages."""

import pytest
from django.test import Client
from django.urls import reverse

from emag_sync.admin import runs as runs_admin
from emag_sync.models import Conflict, LocalEdit, SyncRun
from emag_sync.services.sync_runs import sync_run_claim
from tests.admin_support import client_with, make_offers, make_overlay, make_runs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at"),
]

CONFLICTS = reverse("admin:emag_sync_conflict_changelist")


@pytest.fixture
def conflicts():
    """Four open conflicts on MAIN (offers 1, 11, 21, 31) and one on FBE (offer 1001)."""
    make_overlay(make_offers("main", 40))
    make_overlay(make_offers("fbe", 5, first_id=1001))
    return Conflict.objects.order_by("offer__account", "offer__emag_id")


def resolve_url(conflict) -> str:
    return reverse("admin:emag_sync_conflict_resolve", args=[conflict.pk])


def test_the_review_page_shows_base_local_and_emag_side_by_side_with_decisions(
    admin_client, conflicts
):
    page = admin_client.get(CONFLICTS, {"status__exact": "open"}).content.decode()

    assert "Base (last synced)" in page and "Local" in page and "EMAG now" in page
    assert "11.50 RON" in page and "99.00 RON" in page and "88.00 RON" in page
    assert page.count('name="resolution" value="accept_emag"') == 5
    assert page.count('name="resolution" value="keep_local"') == 5
    assert f'formaction="{resolve_url(conflicts[0])}"' in page


def test_keep_local_resolves_the_conflict_and_keeps_the_local_value(
    admin_client, admin_user, conflicts
):
    conflict = conflicts.first()
    back = CONFLICTS + "?status__exact=open"

    response = admin_client.post(
        resolve_url(conflict), {"resolution": "keep_local"}, HTTP_REFERER="http://testserver" + back
    )

    assert response.status_code == 302 and response["Location"].endswith(back)
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolution, conflict.resolved_by) == (
        "resolved",
        "keep_local",
        admin_user,
    )
    assert LocalEdit.objects.filter(offer=conflict.offer).exists()


def test_accept_emag_drops_the_local_value(admin_client, conflicts):
    conflict = conflicts.first()
    admin_client.post(resolve_url(conflict), {"resolution": "accept_emag"})
    conflict.refresh_from_db()
    assert conflict.resolution == "accept_emag"
    assert not LocalEdit.objects.filter(offer=conflict.offer).exists()


def test_a_foreign_referer_is_not_followed(admin_client, conflicts):
    response = admin_client.post(
        resolve_url(conflicts.first()),
        {"resolution": "keep_local"},
        HTTP_REFERER="https://evil.example/",
    )
    assert response["Location"] == CONFLICTS + "?status__exact=open"


def test_an_unknown_resolution_is_refused_with_a_message_and_changes_nothing(
    admin_client, conflicts
):
    conflict = conflicts.first()
    edits_before = list(LocalEdit.objects.values_list("offer_id", "field", "value"))

    response = admin_client.post(resolve_url(conflict), {"resolution": "set"}, follow=True)

    assert response.redirect_chain == [(CONFLICTS + "?status__exact=open", 302)]
    assert "Choose “Accept eMAG” or “Keep local”." in response.content.decode()
    assert not Conflict.objects.exclude(status="open").exists()
    assert list(LocalEdit.objects.values_list("offer_id", "field", "value")) == edits_before
    # The same button with a known resolution does decide: the refusal above was the check.
    admin_client.post(resolve_url(conflict), {"resolution": "keep_local"})
    assert Conflict.objects.get(pk=conflict.pk).status == "resolved"


def test_a_bulk_decision_applies_to_every_conflict_the_filter_selects(admin_client, conflicts):
    response = admin_client.post(
        CONFLICTS + "?account=main&status__exact=open",
        {
            "action": "accept_emag",
            "select_across": "1",
            "index": "0",
            "_selected_action": [conflicts.first().pk],
        },
        follow=True,
    )

    assert "4 conflicts: accepted eMAG&#x27;s value." in response.content.decode()
    decided = Conflict.objects.filter(status="resolved")
    assert sorted(decided.values_list("offer__emag_id", flat=True)) == [1, 11, 21, 31]
    assert Conflict.objects.get(status="open").offer.account == "fbe"
    assert LocalEdit.objects.filter(offer__account="main").count() == 0


def test_the_conflict_page_compares_values_and_offers_both_decisions(admin_client, conflicts):
    conflict = conflicts.first()
    page = admin_client.get(
        reverse("admin:emag_sync_conflict_change", args=[conflict.pk])
    ).content.decode()

    assert '<table class="mf-compare">' in page
    assert 'value="keep_local">Keep local' in page and 'value="accept_emag">Accept eMAG' in page
    assert 'name="_save"' not in page


def test_a_viewer_can_review_but_not_decide(django_user_model, conflicts):
    client = client_with(django_user_model, "view_conflict")
    conflict = conflicts.first()

    page = client.get(reverse("admin:emag_sync_conflict_change", args=[conflict.pk]))

    assert page.status_code == 200 and 'value="keep_local"' not in page.content.decode()
    response = client.post(resolve_url(conflict), {"resolution": "keep_local"})
    assert response.status_code == 403
    assert not Conflict.objects.exclude(status="open").exists()


def test_deciding_needs_the_csrf_token(admin_user, conflicts):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert (
        client.post(resolve_url(conflicts.first()), {"resolution": "keep_local"}).status_code == 403
    )


def test_the_run_list_shows_status_tags_and_counters(admin_client):
    make_runs(3)
    page = admin_client.get(reverse("admin:emag_sync_syncrun_changelist")).content.decode()
    assert "mf-status-completed" in page and "mf-status-partial" in page
    assert "13/13" in page and "1274" in page


def test_a_run_page_shows_every_counter_its_errors_and_its_request_log(admin_client, monkeypatch):
    monkeypatch.setattr(runs_admin, "REQUEST_LOG_SHOWN", 2)
    partial = make_runs(1)[0]

    page = admin_client.get(
        reverse("admin:emag_sync_syncrun_change", args=[partial.pk])
    ).content.decode()

    for label in (
        "Pages done",
        "Items seen",
        "Items created",
        "Items updated",
        "Items unchanged",
        "Items failed",
        "Items missing",
        "Requests",
        "Throttled",
        "Retries",
        "Duration",
    ):
        assert label in page, label
    assert "eMAG answered 503" in page
    assert 'id="mf-request-log"' in page and page.count("product_offer/read") == 2
    assert f"?run__id__exact={partial.pk}" in page  # the link to all of them


def test_a_completed_run_with_warnings_shows_their_count_and_what_could_not_be_read(
    admin_client,
):
    run = SyncRun.objects.create(
        kind="orders",
        account="main",
        status="completed",
        items_seen=3,
        items_warned=1,
        warnings=[{"page": 1, "order": 41200, "message": "cashed_cod should be a price"}],
    )

    page = admin_client.get(
        reverse("admin:emag_sync_syncrun_change", args=[run.pk])
    ).content.decode()
    listing = admin_client.get(reverse("admin:emag_sync_syncrun_changelist")).content.decode()

    assert "Items warned" in page and "cashed_cod should be a price" in page
    assert "41200" in page and "field-items_warned" in listing


def test_runs_are_read_only(admin_client):
    run = make_runs(1)[0]
    url = reverse("admin:emag_sync_syncrun_change", args=[run.pk])
    assert admin_client.post(url, {"status": "completed"}).status_code == 403
    assert admin_client.get(reverse("admin:emag_sync_syncrun_add")).status_code == 403


def test_an_active_run_page_has_a_cancel_button_that_works(admin_client):
    run = sync_run_claim(account="main", kind="offers")
    url = reverse("admin:emag_sync_syncrun_change", args=[run.pk])
    cancel = reverse("admin:emag_sync_syncrun_cancel", args=[run.pk])

    assert f'action="{cancel}"' in admin_client.get(url).content.decode()
    response = admin_client.post(cancel, {"next": "run"})

    assert response["Location"] == url
    assert SyncRun.objects.get(pk=run.pk).cancel_requested


def test_the_request_log_and_checkpoints_lists_open(admin_client):
    runs = make_runs(2)
    log = admin_client.get(
        reverse("admin:emag_sync_emagrequestlog_changelist"), {"run__id__exact": runs[0].pk}
    )
    assert log.status_code == 200 and len(log.context["cl"].result_list) == 3
    assert admin_client.get(reverse("admin:emag_sync_syncstate_changelist")).status_code == 200
