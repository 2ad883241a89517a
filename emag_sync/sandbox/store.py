"""Items of one kind (offers or orders) with their serialized forms and cached pages.

A benchmark measures the client, not the simulator: once a page has been built, serving it
again is a dictionary lookup. Any change to the items drops what depends on them.
"""

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

# Distinct (filters, page) bodies kept per store; a full catalogue scan needs ~13 per filter.
MAX_CACHED_PAGES = 2048


class ItemStore:
    """Hold items by id, in id order, with per-item JSON and an LRU of built bodies."""

    def __init__(self, items: Iterable[dict[str, Any]] = ()) -> None:
        self.items: dict[int, dict[str, Any]] = {item["id"]: item for item in items}
        self._sorted_ids: list[int] | None = None
        self._item_json: dict[int, bytes] = {}
        self._matching: dict[Any, list[int]] = {}
        self._bodies: OrderedDict[Any, bytes] = OrderedDict()

    def changed(self, ids: Iterable[int] | None = None) -> None:
        """Forget cached forms after items were edited, added or removed (all when None)."""
        if ids is None:
            self._item_json.clear()
        else:
            for item_id in ids:
                self._item_json.pop(item_id, None)
        self._sorted_ids = None
        self._matching.clear()
        self._bodies.clear()

    def sorted_ids(self) -> list[int]:
        if self._sorted_ids is None:
            self._sorted_ids = sorted(self.items)
        return self._sorted_ids

    def matching_ids(
        self, filter_key: Any, predicate: Callable[[dict[str, Any]], bool] | None
    ) -> list[int]:
        """Return the ids passing a filter, in id order, computed once per filter."""
        if predicate is None:
            return self.sorted_ids()
        ids = self._matching.get(filter_key)
        if ids is None:
            ids = [item_id for item_id in self.sorted_ids() if predicate(self.items[item_id])]
            self._matching[filter_key] = ids
        return ids

    def item_json(self, item_id: int) -> bytes:
        body = self._item_json.get(item_id)
        if body is None:
            body = json.dumps(self.items[item_id], separators=(",", ":")).encode()
            self._item_json[item_id] = body
        return body

    def body(self, key: Any, build: Callable[[], bytes]) -> bytes:
        """Return the cached response body for a key, building and keeping it if missing."""
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
            return body
        body = build()
        self._bodies[key] = body
        if len(self._bodies) > MAX_CACHED_PAGES:
            self._bodies.popitem(last=False)
        return body
