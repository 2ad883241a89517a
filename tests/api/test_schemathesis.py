"""Property-based checks of the whole API against its own OpenAPI schema (schemathesis).

Every operation gets up to 25 generated requests, valid and invalid, sent as a logged-in
superuser through the WSGI app, with both accounts pointed at a 50-offer sandbox without
rate limits. No request may get a 5xx, an undocumented status or content type, or an answer
that breaks the schema.
"""

from pathlib import Path

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emag_sync.models import LocalEdit
from magflow.wsgi import application
from tests.factories import make_conflict, make_offer, make_run

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def committed_schema(name: str):
    """Load a schema committed under docs/ (test_schema.py keeps each equal to the code's)."""
    return schemathesis.openapi.from_path(Path(__file__).resolve().parents[2] / "docs" / name)


schema = committed_schema("openapi.yaml")


# Generated ids rarely name a stored object; these paths are also called with one that does.
KNOWN_ID_OF = {
    "/api/v2/emag/products/products/{id}": "offer",
    "/api/v2/emag/products/products/{id}/changes": "offer",
    "/api/v2/emag/products/sync/{id}": "run",
    "/api/v2/emag/conflicts/{id}/resolve": "conflict",
}


@pytest.fixture
def world(live_sandbox, transactional_db, monkeypatch) -> dict[str, int]:
    """A sandbox, an offer with a local edit and a conflict per account, and runs."""
    live_sandbox(offers={"main": 50, "fbe": 50})
    # Queued syncs stay queued: the test runs no worker, and no broker may receive them.
    monkeypatch.setattr("emag_sync.tasks.sync_products_task.apply_async", lambda **kwargs: None)
    known = {}
    for account in ("main", "fbe"):
        offer = make_offer(account, ean=["5941234567890"])
        LocalEdit.objects.create(
            offer=offer, field="name", value="Local", edited_at=offer.synced_at
        )
        known["offer"] = offer.pk
        known["conflict"] = make_conflict(offer, field="name").pk
        known["run"] = make_run(account, status="completed").pk
    return known


@pytest.fixture
def bearer(world) -> dict[str, str]:
    user = get_user_model().objects.create_superuser("schemathesis", "st@example.com", "x-pass-1")
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


# Up to 25 generated requests per operation, the same ones on every run (both APIs).
GENERATED_REQUESTS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def call_and_validate(
    case, headers: dict[str, str], world: dict[str, int], known_id_of: dict[str, str]
) -> None:
    """Send a generated request and check its answer; where the path takes an id, again with
    the id of an object that exists, so the operation is also checked past its 404."""
    case.call_and_validate(app=application, headers=headers, checks=CHECKS)
    if case.operation.path in known_id_of and isinstance(case.path_parameters.get("id"), int):
        case.path_parameters["id"] = world[known_id_of[case.operation.path]]
        case.call_and_validate(app=application, headers=headers, checks=CHECKS)


@schema.parametrize()
@GENERATED_REQUESTS
def test_no_request_gets_a_5xx_or_an_answer_outside_the_schema(case, bearer, world):
    call_and_validate(case, bearer, world, KNOWN_ID_OF)
