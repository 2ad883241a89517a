"""Property-based checks of /api/v1 against its own committed schema (docs/openapi-v1.yaml).

The same checks, world and sandbox as test_schemathesis.py: up to 25 generated requests per
operation, valid and invalid; none may get a 5xx or an answer its schema does not describe.
"""

import pytest

from tests.api.test_schemathesis import (  # noqa: F401 (fixtures)
    GENERATED_REQUESTS,
    bearer,
    call_and_validate,
    committed_schema,
    world,
)

schema = committed_schema("openapi-v1.yaml")
KNOWN_ID_OF = {"/api/v1/emag/products/sync/{id}": "run"}


@pytest.mark.slow
@schema.parametrize()
@GENERATED_REQUESTS
def test_no_v1_request_gets_a_5xx_or_an_answer_outside_its_schema(case, bearer, world):  # noqa: F811
    call_and_validate(case, bearer, world, KNOWN_ID_OF)
