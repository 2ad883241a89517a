"""Read request bodies and write response envelopes the way eMAG's API does.

eMAG accepts several body encodings (docs/emag-api.md §1.4): form-encoded
`data[currentPage]=1`, JSON `{"data": {...}}`, flat JSON and flat form fields. All of them
turn into one plain dict of parameters here, so the handlers never see the encoding.
"""

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

# PHP's max_input_vars on eMAG's side; a larger form body is refused (docs/emag-api.md §1.4).
MAX_INPUT_VARS = 4000
JSON_HEADERS = {"Content-Type": "application/json"}


class InputError(Exception):
    """A request eMAG would answer with an `isError: true` envelope carrying this message."""


def json_bytes(value: Any) -> bytes:
    """Serialize compactly; ASCII escapes like PHP's json_encode, so any client decodes it."""
    return json.dumps(value, separators=(",", ":")).encode()


def envelope(results: Any, messages: Iterable[str] = ()) -> bytes:
    """Return a successful `{"isError": false, "messages": [...], "results": ...}` body."""
    return json_bytes({"isError": False, "messages": list(messages), "results": results})


def error_envelope(*messages: str) -> bytes:
    """Return an `isError: true` body; eMAG sends these with HTTP 200."""
    return json_bytes({"isError": True, "messages": list(messages), "results": []})


def list_envelope(item_bodies: Iterable[bytes]) -> bytes:
    """Return a successful envelope around already-serialized result items."""
    return b'{"isError":false,"messages":[],"results":[' + b",".join(item_bodies) + b"]}"


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """Return (username, password) from an `Authorization: Basic ...` header, if valid."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else None


def parse_parameters(body: bytes, content_type: str = "", query: str = "") -> Any:
    """Return the request's parameters, whatever encoding the client chose.

    A `data` key (form `data[...]` or JSON `{"data": ...}`) wins; otherwise the flat fields
    are the parameters. Query-string fields fill in what the body does not set.
    """
    text = body.decode("utf-8", errors="replace").strip() if body else ""
    is_json = "json" in content_type.lower() or text[:1] in ("{", "[")
    if not text:
        parameters: Any = {}
    elif is_json:
        try:
            parameters = json.loads(text)
        except ValueError:
            raise InputError("Invalid JSON in the request body") from None
    else:
        parameters = _parse_form(text)
    if isinstance(parameters, dict) and "data" in parameters:
        parameters = _unwrap_data(parameters["data"])
    if query and isinstance(parameters, dict):
        for key, value in _parse_form(query).items():
            parameters.setdefault(key, value)
    return parameters


def _unwrap_data(data: Any) -> Any:
    # Some clients post `data=<json>` as a single form field.
    if isinstance(data, str) and data.strip()[:1] in ("{", "["):
        try:
            return json.loads(data)
        except ValueError:
            raise InputError("Invalid JSON in the data field") from None
    return data


def _parse_form(text: str) -> dict[str, Any]:
    pairs = parse_qsl(text, keep_blank_values=True)
    if len(pairs) > MAX_INPUT_VARS:
        raise InputError(f"Maximum input vars of {MAX_INPUT_VARS} exceeded")
    root: dict[str, Any] = {}
    for key, value in pairs:
        _assign(root, _key_path(key), value)
    return _lists_from_indexes(root)


def _key_path(key: str) -> list[str]:
    """Split PHP-style `data[status][]` into ["data", "status", ""]."""
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    parts = [head]
    for piece in ("[" + rest).split("]")[:-1]:
        parts.append(piece.removeprefix("["))
    return parts


def _assign(node: dict[str, Any], path: list[str], value: str) -> None:
    for position, part in enumerate(path[:-1]):
        if part == "":
            part = str(len(node))
        appends = path[position + 1] == "" and position + 2 == len(path)
        child = node.setdefault(part, [] if appends else {})
        if appends and isinstance(child, list):
            # `key[]=a&key[]=b`: PHP appends each value to one list.
            child.append(value)
            return
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    last = path[-1]
    if last == "":
        last = str(len(node))
    node[last] = value


def _lists_from_indexes(node: Any) -> Any:
    """Turn dicts keyed "0", "1", ... (from `key[0]=..`) into lists, as PHP arrays read."""
    if isinstance(node, list):
        return [_lists_from_indexes(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _lists_from_indexes(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def as_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return a parameter as an int (JSON number or digit string), or raise InputError."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise InputError(f"Invalid value for {name}: {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InputError(f"Invalid value for {name}: {value!r}")
    return value


def as_int_set(value: Any, name: str) -> frozenset[int]:
    """Return a parameter given as one int or a list of ints as a set."""
    values = value if isinstance(value, list | tuple) else [value]
    return frozenset(as_int(item, name) for item in values)


def as_text_set(value: Any, name: str) -> frozenset[str]:
    """Return a parameter given as one string or a list of strings as a set."""
    values = value if isinstance(value, list | tuple) else [value]
    if any(isinstance(item, dict | list) for item in values):
        raise InputError(f"Invalid value for {name}")
    return frozenset(str(item) for item in values)


def lowercase_keys(headers: Mapping[str, str]) -> dict[str, str]:
    """Return headers keyed in lower case, since HTTP header names are case-insensitive."""
    return {key.lower(): value for key, value in headers.items()}
