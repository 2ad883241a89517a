"""Bodies of /api/v1: JSON, forms, and a JSON document sent as a form.

The predecessor's guide posts JSON with `curl -d '{...}'` and no Content-Type, which curl
sends as a form; its server read the JSON anyway, so this one does too.
"""

import json

from rest_framework import parsers


class FormOrJsonParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        text = body.decode(encoding, errors="replace")
        if text.lstrip().startswith("{"):
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):
                document = None
            if isinstance(document, dict):
                return document
        return super().parse(_Replay(body), media_type, parser_context)


class _Replay:
    """A stream over bytes already read, for the form parser."""

    def __init__(self, body: bytes):
        self._body = body

    def read(self, *args) -> bytes:
        body, self._body = self._body, b""
        return body
