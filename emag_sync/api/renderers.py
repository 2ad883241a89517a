"""The CSV format of the offer list (`?format=csv`), streamed by the view itself."""

import json

from rest_framework.renderers import BaseRenderer


class CsvRenderer(BaseRenderer):
    """Select CSV in content negotiation; the list view streams the rows itself.

    Only a body the view did not stream reaches `render`, and the view answers errors in
    JSON, so this fallback never shapes a real answer.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return json.dumps(data, default=str).encode(self.charset)
