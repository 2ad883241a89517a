"""The REST API (v1): serializers, filters, views and URLs over the services and selectors.

Views validate input with an input serializer, call one service (writes) or selector (reads),
and answer with an output serializer. Paths, request fields and defaults follow the
predecessor's API (docs/emag-api.md §6.8); the README lists every difference.
"""
