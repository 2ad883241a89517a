"""What sets the v1 schema (docs/openapi-v1.yaml) apart: its title, version and description."""

SCHEMA_SETTINGS = {
    "TITLE": "MagFlow eMAG Sync API v1 (the predecessor's contract)",
    "DESCRIPTION": (
        "For clients of the predecessor: its paths, request fields, answers and token names. "
        "Log in with POST /api/v1/auth/login and send access_token as `Authorization: Bearer "
        "<token>`. New work belongs on /api/v2 (docs/openapi.yaml)."
    ),
    "VERSION": "1.0.0",
}
