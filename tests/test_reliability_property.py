"""Property: whatever happens between syncs, one clean full sync restores an exact mirror.

Random sequences of eMAG changes (new, changed, vanished offers), faults, local edits and
sync runs in any mode are followed by one clean full sync (a new pass from page 1, not the
resumption of an interrupted one); then the eMAG columns equal the
sandbox and the local overlay is exactly what the seller wrote (local priority keeps it).
"""

import pytest
import responses
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from emag_sync.models import Conflict, LocalEdit, Offer, OfferChange, SyncRun, SyncState
from emag_sync.sandbox import Sandbox
from emag_sync.sandbox.responses_adapter import api_url, register
from emag_sync.services.local_edits import local_edit_set
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from tests.conftest import point_accounts_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BASE_URL = "http://property.emag.test"
FAULT_KINDS = ["http_502", "rate_limit", "malformed_json", "connection_reset", "is_error"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("drift"), st.integers(min_value=1, max_value=40), st.integers(0, 99)),
        st.tuples(st.just("fault"), st.sampled_from(FAULT_KINDS), st.integers(1, 6)),
        st.tuples(st.just("edit"), st.integers(0, 450), st.integers(1, 500)),
        st.tuples(
            st.just("sync"),
            st.sampled_from(["full", "incremental", "selective"]),
            st.integers(1, 3),
        ),
    ),
    min_size=1,
    max_size=8,
)


def _reset_database():
    for model in (Conflict, LocalEdit, OfferChange, Offer, SyncState, SyncRun):
        model.objects.all().delete()


@hypothesis_settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_one_clean_full_sync_after_anything_restores_an_exact_mirror(
    steps, monkeypatch, settings, fast_retries
):
    settings.EMAG_RATE_LIMIT = False
    settings.EMAG_MAX_RETRIES = 1
    _reset_database()
    sandbox = Sandbox(accounts=("main",), offers={"main": 450}, rate_limit=False)
    settings.EMAG_ACCOUNTS = ["main"]
    point_accounts_at(monkeypatch, lambda name: api_url(BASE_URL, name), names=("main",))
    overlay: dict[int, str] = {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock_http:
        register(mock_http, sandbox, BASE_URL, methods=("POST",))
        offer_sync(account="main", options=OfferSyncOptions(mode="full"))
        for step in steps:
            kind = step[0]
            if kind == "drift":
                sandbox.drift("main", changes=step[1], seed=step[2])
            elif kind == "fault":
                sandbox.inject_fault("main", step[1], count=step[2], action="product_offer/read")
            elif kind == "edit":
                offers = list(Offer.objects.order_by("emag_id"))
                offer = offers[step[1] % len(offers)]
                value = f"Nume local {step[2]}"
                local_edit_set(offer=offer, field="name", value=value)
                overlay[offer.pk] = value
            else:
                mode, pages = step[1], step[2]
                options = OfferSyncOptions(mode=mode, conflict_strategy="local_priority")
                if mode == "incremental":
                    options.max_pages = pages
                elif mode == "selective":
                    options.filters = {"status": 1, "general_stock": pages * 20}
                offer_sync(account="main", options=options)
        sandbox.clear_faults()
        final = offer_sync(
            account="main",
            options=OfferSyncOptions(mode="full", conflict_strategy="local_priority", restart=True),
        )

    assert final.status == "completed"
    present = Offer.objects.filter(account="main", missing_since__isnull=True)
    assert dict(present.values_list("emag_id", "raw")) == {
        offer["id"]: offer for offer in sandbox.offers("main")
    }
    assert dict(LocalEdit.objects.filter(field="name").values_list("offer_id", "value")) == overlay
