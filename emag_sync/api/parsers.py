"""The API's JSON parser: any body that is not a JSON document is a 400, never a crash."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # DRF turns ValueError into 400, but deeply nested JSON exhausts the parser's
            # recursion instead.
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
