"""Both OpenAPI schemas (v2, the API; v1, the predecessor's contract) validate without
warnings, match their committed copies, and are served."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from emag_sync.api.filters import EnglishOrderingFilter
from tests.api.conftest import client_for

DOCS = Path(__file__).resolve().parents[2] / "docs"
COMMITTED_SCHEMA = DOCS / "openapi.yaml"
SCHEMAS = {
    "v2": (["--urlconf", "magflow.urls_api_v2"], COMMITTED_SCHEMA),
    "v1": (
        [
            "--urlconf",
            "magflow.urls_api_v1",
            "--custom-settings",
            "emag_sync.api.v1.schema.SCHEMA_SETTINGS",
        ],
        DOCS / "openapi-v1.yaml",
    ),
}


@pytest.mark.parametrize("version", SCHEMAS)
def test_the_schema_validates_and_matches_the_committed_copy(tmp_path, version):
    options, committed = SCHEMAS[version]
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", *options, "--file", str(generated))

    assert generated.read_text() == committed.read_text(), (
        f"The API changed but docs/{committed.name} did not: run `make schema` and commit it."
    )


@pytest.mark.django_db
def test_swagger_ui_is_served_from_the_sidecar_without_a_cdn():
    page = client_for().get("/api/docs/").content.decode()

    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


@pytest.mark.django_db
def test_the_served_schema_lists_every_endpoint_of_issue_6():
    schema = client_for().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert not any(path.startswith("/api/v1/") for path in schema["paths"])
    assert set(schema["paths"]) >= {
        "/api/v2/auth/login",
        "/api/v2/auth/refresh",
        "/api/v2/emag/products/sync",
        "/api/v2/emag/products/sync/{id}",
        "/api/v2/emag/products/status",
        "/api/v2/emag/products/statistics",
        "/api/v2/emag/products/history",
        "/api/v2/emag/products/products",
        "/api/v2/emag/products/products/{id}",
        "/api/v2/emag/products/products/{id}/changes",
        "/api/v2/emag/products/test-connection",
        "/api/v2/emag/conflicts",
        "/api/v2/emag/conflicts/{id}/resolve",
    }


@pytest.mark.django_db
def test_the_served_v1_schema_lists_the_predecessors_endpoints_and_nothing_new():
    schema = client_for().get("/api/schema/v1/", HTTP_ACCEPT="application/json").json()

    assert set(schema["paths"]) == {
        "/api/v1/auth/login",
        "/api/v1/auth/refresh-token",
        "/api/v1/users/me",
        "/api/v1/emag/products/sync",
        "/api/v1/emag/products/sync/{id}",
        "/api/v1/emag/products/status",
        "/api/v1/emag/products/statistics",
        "/api/v1/emag/products/history",
        "/api/v1/emag/products/products",
        "/api/v1/emag/products/test-connection",
    }


@pytest.mark.i18n
def test_ordering_labels_stay_english_when_the_filter_is_built_under_romanian():
    # A FilterSet's filters are built once, when its module is imported: under a Romanian
    # request that would freeze "(descrescător)" into the labels and into the schema.
    with translation.override("ro"):
        ordering = EnglishOrderingFilter(fields=(("emag_id", "emag_id"),))

    labels = dict(ordering.extra["choices"])
    assert labels["-emag_id"] == "Emag id (descending)"
