"""Pieces of the OpenAPI description shared by the views: error answers, CSV-capable lists."""

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from emag_sync.api.serializers import ErrorOutput

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Field name (or non_field_errors) to a list of messages; nested for objects.",
    "additionalProperties": True,
}

ERROR_DESCRIPTIONS = {
    400: "Bad input; nothing was changed.",
    401: "Not logged in, or the token expired.",
    403: "Logged in without the permission this needs.",
    404: "No such object.",
    409: "In conflict with the object's state.",
    429: "Too many requests; retry after the Retry-After header's seconds.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Return documented error answers for status codes, keyed as extend_schema wants them."""
    responses = {}
    for code in codes:
        body = VALIDATION_ERROR_SCHEMA if code == 400 else ErrorOutput
        responses[code] = OpenApiResponse(body, description=ERROR_DESCRIPTIONS[code])
    return responses


# Every authenticated operation can answer these.
READ_ERRORS = (401, 403)


def csv_list_schema(*, tag: str, summary: str, output, noun: str, description: str | None = None):
    """Return the schema decorator of a list that answers JSON pages or, with ?format=csv, CSV."""
    return extend_schema(
        tags=[tag],
        summary=summary,
        description=description,
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv"],
                description="csv streams the filtered list as CSV.",
            )
        ],
        responses={
            (200, "application/json"): output(many=True),
            (200, "text/csv"): OpenApiResponse(
                {"type": "string"}, description=f"Every filtered {noun}, one per line."
            ),
            **error_responses(400, *READ_ERRORS),
        },
    )


class ApiSchemaGenerator(SchemaGenerator):
    """Describe /api/v2 unless told another URL conf: the project's URL conf has both versions,
    whose operations share names (v1 has its own schema, docs/openapi-v1.yaml)."""

    def __init__(self, *args, urlconf=None, **kwargs):
        super().__init__(*args, urlconf=urlconf or "magflow.urls_api_v2", **kwargs)
