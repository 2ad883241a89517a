"""Parse the read/count parameters of product_offer and order into comparable filters.

Each parser validates as eMAG does (pagination bounds, the orders' date-window rules of
docs/emag-api.md §5.3) and returns a frozen filter whose `key` is hashable, so the
sandbox can cache the matching ids and the serialized pages per filter.
"""

import calendar
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from emag_sync.sandbox.orders import FULFILLED_BY_SELLER, WIRE_DATETIME
from emag_sync.sandbox.wire import InputError, as_int, as_int_set, as_text_set

MAX_ITEMS_PER_PAGE = 100
MAX_CURRENT_PAGE = 65535


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size


def parse_page(parameters: dict[str, Any], noun: str) -> Page:
    """Return the requested page; eMAG refuses more than 100 items per page."""
    size = as_int(parameters.get("itemsPerPage", MAX_ITEMS_PER_PAGE), "itemsPerPage")
    if size > MAX_ITEMS_PER_PAGE:
        raise InputError(f"Reading {noun} is limited to maximum {MAX_ITEMS_PER_PAGE} elements")
    if size < 1:
        raise InputError("Invalid value for itemsPerPage: it must be between 1 and 100")
    number = as_int(parameters.get("currentPage", 1), "currentPage")
    if not 1 <= number <= MAX_CURRENT_PAGE:
        raise InputError(
            f"Invalid value for currentPage: it must be between 1 and {MAX_CURRENT_PAGE}"
        )
    return Page(number=number, size=size)


@dataclass(frozen=True)
class OfferFilters:
    """The product_offer/read and /count filters of docs/emag-api.md §3.3."""

    ids: frozenset[int] | None = None
    statuses: frozenset[int] | None = None
    part_numbers: frozenset[str] | None = None
    part_number_keys: frozenset[str] | None = None
    max_general_stock: int | None = None
    max_estimated_stock: int | None = None
    offer_validation_statuses: frozenset[int] | None = None
    validation_statuses: frozenset[int] | None = None
    translation_validation_statuses: frozenset[int] | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field.name) for field in fields(self))

    def matches(self, offer: dict[str, Any]) -> bool:
        """Return whether an offer passes every filter that was given."""
        # Each check gets the filter's value, so it runs only where one was given.
        checks: tuple[tuple[Any, Callable[[Any], bool]], ...] = (
            (self.ids, lambda ids: offer["id"] in ids),
            (self.statuses, lambda statuses: offer["status"] in statuses),
            (self.part_numbers, lambda numbers: offer.get("part_number") in numbers),
            (self.part_number_keys, lambda keys: offer.get("part_number_key") in keys),
            (self.max_general_stock, lambda most: 0 <= offer["general_stock"] <= most),
            (self.max_estimated_stock, lambda most: 0 <= offer["estimated_stock"] <= most),
            (
                self.offer_validation_statuses,
                lambda statuses: offer["offer_validation_status"]["value"] in statuses,
            ),
            (
                self.validation_statuses,
                lambda statuses: _any_value_in(offer["validation_status"], statuses),
            ),
            (
                self.translation_validation_statuses,
                lambda statuses: _any_value_in(offer["translation_validation_status"], statuses),
            ),
        )
        return all(check(wanted) for wanted, check in checks if wanted is not None)


def _any_value_in(entries: list[dict[str, Any]], wanted: frozenset[int]) -> bool:
    return any(entry.get("value") in wanted for entry in entries)


def parse_offer_filters(parameters: dict[str, Any]) -> OfferFilters:
    """Return the offer filters present in a request; unknown keys are ignored as eMAG does."""

    def int_set(name: str) -> frozenset[int] | None:
        return as_int_set(parameters[name], name) if name in parameters else None

    def text_set(name: str) -> frozenset[str] | None:
        return as_text_set(parameters[name], name) if name in parameters else None

    def upper_bound(name: str) -> int | None:
        return as_int(parameters[name], name, minimum=0) if name in parameters else None

    return OfferFilters(
        ids=int_set("id"),
        statuses=int_set("status"),
        part_numbers=text_set("part_number"),
        part_number_keys=text_set("part_number_key"),
        max_general_stock=upper_bound("general_stock"),
        max_estimated_stock=upper_bound("estimated_stock"),
        offer_validation_statuses=int_set("offer_validation_status"),
        validation_statuses=int_set("validation_status"),
        translation_validation_statuses=int_set("translation_validation_status"),
    )


@dataclass(frozen=True)
class OrderFilters:
    """The order/read and /count filters of docs/emag-api.md §5.3.

    Dates stay eMAG's naive local `YYYY-mm-dd HH:MM:SS` strings: that format sorts like the
    moments it names, so comparing strings is comparing local times, as eMAG's own
    zone-less columns do.
    """

    types: frozenset[int]
    ids: frozenset[int] | None = None
    statuses: frozenset[int] | None = None
    payment_mode_ids: frozenset[int] | None = None
    is_complete: int | None = None
    created_after: str | None = None
    created_before: str | None = None
    modified_after: str | None = None
    modified_before: str | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field.name) for field in fields(self))

    def matches(self, order: dict[str, Any]) -> bool:
        """Return whether an order passes every filter that was given."""
        # Orders put in as given (eMAG's own examples) may lack keys eMAG added later; one
        # without a type is what the type filter's default (3) finds.
        return (
            order.get("type", FULFILLED_BY_SELLER) in self.types
            and (self.ids is None or order["id"] in self.ids)
            and (self.statuses is None or order.get("status") in self.statuses)
            and (
                self.payment_mode_ids is None
                or order.get("payment_mode_id") in self.payment_mode_ids
            )
            and (self.is_complete is None or order.get("is_complete") == self.is_complete)
            and _within(order.get("date"), self.created_after, self.created_before)
            and _within(
                order.get("modified") or order.get("date"),
                self.modified_after,
                self.modified_before,
            )
        )


def _within(moment: str | None, after: str | None, before: str | None) -> bool:
    if moment is None:
        return after is None and before is None
    return (after is None or moment >= after) and (before is None or moment <= before)


def parse_order_filters(parameters: dict[str, Any], *, counting: bool) -> OrderFilters:
    """Return the order filters of a request, enforcing eMAG's date-window rules.

    `...Before` requires `...After` and the two may be at most one month apart; on count,
    each of the pair requires the other.
    """
    window: dict[str, str | None] = {}
    for field in ("created", "modified"):
        after = _wire_datetime(parameters, f"{field}After")
        before = _wire_datetime(parameters, f"{field}Before")
        if before is not None and after is None:
            raise InputError(f"{field}Before requires {field}After")
        if counting and after is not None and before is None:
            raise InputError(f"{field}After requires {field}Before when counting orders")
        if after is not None and before is not None and before > _one_month_after(after):
            raise InputError(
                f"The interval between {field}After and {field}Before must be at most one month"
            )
        window[f"{field}_after"], window[f"{field}_before"] = after, before

    def int_set(name: str) -> frozenset[int] | None:
        return as_int_set(parameters[name], name) if name in parameters else None

    is_complete = parameters.get("is_complete")
    return OrderFilters(
        # docs/emag-api.md §5.1: order/read returns only seller-fulfilled (type 3) orders
        # unless asked.
        types=int_set("type") or frozenset({FULFILLED_BY_SELLER}),
        ids=int_set("id"),
        statuses=int_set("status"),
        payment_mode_ids=int_set("payment_mode_id"),
        is_complete=None
        if is_complete is None
        else as_int(is_complete, "is_complete", minimum=0, maximum=1),
        **window,
    )


def _wire_datetime(parameters: dict[str, Any], name: str) -> str | None:
    value = parameters.get(name)
    if value in (None, ""):
        return None
    text = str(value).strip()
    for layout in (WIRE_DATETIME, "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout).strftime(WIRE_DATETIME)  # noqa: DTZ007
        except ValueError:
            continue
    raise InputError(f"Invalid date for {name}: expected YYYY-mm-dd HH:ii:ss, got {text!r}")


def _one_month_after(moment: str) -> str:
    """Return the same local time one calendar month later (the 31st clamps to month end)."""
    start = datetime.strptime(moment, WIRE_DATETIME)  # noqa: DTZ007 (eMAG's dates are naive)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day).strftime(WIRE_DATETIME)
