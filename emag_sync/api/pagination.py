"""Limit/offset pagination that also takes the predecessor's `skip`, and refuses bad values.

DRF's LimitOffsetPagination quietly clamps or ignores a bad `limit`; here a limit, offset or
skip that is not a whole number in range is a 400 naming the parameter, like any bad input.
"""

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

# Far beyond any catalogue, and still inside every database's OFFSET range.
MAX_OFFSET = 1_000_000_000


class LimitSkipPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000
    skip_query_param = "skip"

    def get_limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None or raw == "":
            return self.default_limit
        return self._whole_number(self.limit_query_param, raw, minimum=1, maximum=self.max_limit)

    def get_offset(self, request) -> int:
        offset = request.query_params.get(self.offset_query_param)
        skip = request.query_params.get(self.skip_query_param)
        if offset not in (None, "") and skip not in (None, "") and offset != skip:
            raise ValidationError(
                {
                    self.skip_query_param: [
                        gettext("Give offset or skip (the same thing), not both.")
                    ]
                }
            )
        name, raw = (
            (self.offset_query_param, offset)
            if offset not in (None, "")
            else (self.skip_query_param, skip)
        )
        if raw in (None, ""):
            return 0
        return self._whole_number(name, raw, minimum=0, maximum=MAX_OFFSET)

    @staticmethod
    def _whole_number(name: str, raw: str, *, minimum: int, maximum: int) -> int:
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or not minimum <= int(text) <= maximum:
            raise ValidationError(
                {
                    name: [
                        gettext("Must be a whole number from %(minimum)s to %(maximum)s.")
                        % {"minimum": minimum, "maximum": maximum}
                    ]
                }
            )
        return int(text)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Items per page (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Items to skip before the page.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
            {
                "name": self.skip_query_param,
                "required": False,
                "in": "query",
                "description": "The predecessor's name for offset.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
        ]


class HistoryPagination(LimitSkipPagination):
    """Sync history: the predecessor allowed 1 to 100 runs a request."""

    default_limit = 20
    max_limit = 100


class DetailListPagination(LimitSkipPagination):
    """Changes, conflicts and orders."""

    default_limit = 50
    max_limit = 500
