"""Property-based checks of /api/v1 against its own committed schema (docs/openapi-v1.yaml).

The same checks, world and sandbox as test_schemathesis.py: up to 25 generated requests per
operation, valid and invalid; none may get a 5xx or an answer its schema does not describe.
"""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from magflow.wsgi import application
from tests.api.test_schemathesis import CHECKS, bearer, world  # noqa: F401 (fixtures)

schema = schemathesis.openapi.from_path(
    Path(__file__).resolve().parents[2] / "docs" / "openapi-v1.yaml"
)
KNOWN_ID_OF = {"/api/v1/emag/products/sync/{id}": "run"}


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_v1_request_gets_a_5xx_or_an_answer_outside_its_schema(case, bearer, world):  # noqa: F811
    case.call_and_validate(app=application, headers=bearer, checks=CHECKS)
    if case.operation.path in KNOWN_ID_OF and isinstance(case.path_parameters.get("id"), int):
        case.path_parameters["id"] = world[KNOWN_ID_OF[case.operation.path]]
        case.call_and_validate(app=application, headers=bearer, checks=CHECKS)
