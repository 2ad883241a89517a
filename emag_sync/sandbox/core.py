"""The eMAG API simulator's core: one request in, one response out, no HTTP library.

Adapters (the threaded HTTP server in `http.py`, the `responses` callback in
`responses_adapter.py`) only translate their transport to `Sandbox.handle` and back, so unit
tests and end-to-end tests exercise the same behaviour.
"""

import copy
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from emag_sync.sandbox.catalogue import (
    DEFAULT_SEED,
    default_currency,
    default_offer_count,
    generate_offers,
    sandbox_credentials,
)
from emag_sync.sandbox.drift import drift_offers, drift_orders
from emag_sync.sandbox.faults import (
    AFTER_HANDLING,
    DEFAULT_SLOW_SECONDS,
    NOT_ALLOWED_MESSAGE,
    RATE_LIMIT_BODY,
    Fault,
    FaultBook,
    FaultKind,
    RandomFaults,
    fault_reply,
)
from emag_sync.sandbox.orders import (
    ALLOWED_TRANSITIONS,
    DEFAULT_TIMEZONE,
    generate_orders,
    local_time,
    move_order,
)
from emag_sync.sandbox.ratelimit import DEFAULT_LIMITS, SlidingWindowLimiter
from emag_sync.sandbox.resources import (
    HANDLERS,
    AccountState,
    Request,
    Route,
    parse_route,
    prebuild_offer_pages,
)
from emag_sync.sandbox.store import ItemStore
from emag_sync.sandbox.wire import (
    JSON_HEADERS,
    InputError,
    basic_credentials,
    error_envelope,
    json_bytes,
    lowercase_keys,
    parse_parameters,
)
from emag_sync.sandbox.writes import RESULT_KEYS, patch_offer_stock, save_offers_light

DEFAULT_ACCOUNTS = ("main", "fbe")
TRANSPORT_TIMEOUT = "timeout"
TRANSPORT_RESET = "connection_reset"


@dataclass
class SandboxResponse:
    """What the sandbox answers; `transport_fault` asks the adapter to misbehave instead."""

    status: int
    headers: dict[str, str]
    body: bytes
    # "timeout": deliver the answer only after `delay_seconds`; "connection_reset": none.
    transport_fault: str | None = None
    delay_seconds: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)


class Sandbox:
    """A thread-safe, deterministic stand-in for eMAG's Marketplace API, for several accounts.

    `offers` and `orders` give per-account sizes (offers default to the predecessor's
    real sizes, orders to none). `clock` (aware UTC) dates orders and drift; `monotonic`
    drives the rate limiter; both are injectable so tests never sleep.
    """

    def __init__(
        self,
        accounts: Iterable[str] = DEFAULT_ACCOUNTS,
        *,
        seed: int = DEFAULT_SEED,
        offers: Mapping[str, int] | None = None,
        orders: Mapping[str, int] | None = None,
        rate_limit: bool = True,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        timezones: Mapping[str, str | tzinfo] | None = None,
        currencies: Mapping[str, str] | None = None,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        fulfilled_by_emag: Iterable[str] | None = None,
        save_result_key: str = "id",
    ) -> None:
        names = list(dict.fromkeys(accounts))
        for option, mapping in (("offers", offers), ("orders", orders), ("timezones", timezones)):
            unknown = set(mapping or {}) - set(names)
            if unknown:
                raise ValueError(f"{option}: unknown sandbox accounts {sorted(unknown)}")
        self.seed = seed
        self.rate_limit = rate_limit
        self.save_result_key = _result_key(save_result_key)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._faults = FaultBook()
        by_emag = set(fulfilled_by_emag) if fulfilled_by_emag is not None else {"fbe"}
        self._accounts: dict[str, AccountState] = {}
        for name in names:
            username, password = (credentials or {}).get(name) or sandbox_credentials(name)
            zone = (timezones or {}).get(name, DEFAULT_TIMEZONE)
            self._accounts[name] = AccountState(
                name=name,
                username=username,
                password=password,
                timezone=ZoneInfo(zone) if isinstance(zone, str) else zone,
                currency=(currencies or {}).get(name) or default_currency(name),
                fulfilled_by_emag=name in by_emag,
                offer_count=(offers or {}).get(name, default_offer_count(name)),
                order_count=(orders or {}).get(name, 0),
            )
            self._populate(self._accounts[name])

    # --- Requests -------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        client_ip: str = "127.0.0.1",
    ) -> SandboxResponse:
        """Answer one API request as eMAG would, including rate limits and injected faults."""
        route = parse_route(path)
        state = self._accounts.get(route.account) if route else None
        if route is None or state is None:
            return SandboxResponse(404, dict(JSON_HEADERS), json_bytes({"message": "Invalid URL"}))
        with self._lock:
            counters = state.stats.setdefault(route.action, Counter())
            counters["requests"] += 1
            admission = state.limiters[route.group].admit() if self.rate_limit else None
            limit = DEFAULT_LIMITS[route.group].per_second
            remaining = admission.remaining if admission else limit
            rate_headers = {
                "X-RateLimit-Limit-3second": str(limit),
                "X-RateLimit-Remaining-3second": str(remaining),
            }
            if admission is not None and not admission.allowed:
                counters["rate_limited"] += 1
                return _too_many_requests(rate_headers)

            fault = self._faults.take(state.name, route.action)
            if fault is not None:
                counters["faults"] += 1
                if fault.kind == FaultKind.CONNECTION_RESET:
                    return SandboxResponse(0, {}, b"", transport_fault=TRANSPORT_RESET)
                if fault.kind == FaultKind.TIMEOUT_UNAPPLIED:
                    # A gateway's late 504; the client has given up on it long before.
                    return SandboxResponse(
                        504,
                        {"Content-Type": "text/html"},
                        b"<html><body><h1>504 Gateway Time-out</h1></body></html>",
                        transport_fault=TRANSPORT_TIMEOUT,
                        delay_seconds=fault.slow_seconds,
                    )
                reply = fault_reply(fault.kind, client_ip=client_ip)
                if reply is not None:
                    status, fault_headers, fault_body = reply
                    if status == 429:
                        counters["rate_limited"] += 1
                        return _too_many_requests({**rate_headers, **fault_headers})
                    return SandboxResponse(status, {**fault_headers, **rate_headers}, fault_body)

            response = self._respond(state, route, method, lowercase_keys(headers), body)
            response.headers.update(rate_headers)
            if fault is not None and fault.kind in AFTER_HANDLING:
                if fault.kind == FaultKind.TIMEOUT:
                    response.transport_fault = TRANSPORT_TIMEOUT
                    response.delay_seconds = fault.slow_seconds
                else:
                    response.body = response.body[: max(len(response.body) // 2, 1)]
            return response

    def _respond(
        self, state: AccountState, route: Route, method: str, headers: dict[str, str], body: bytes
    ) -> SandboxResponse:
        # Reference §1.2: classic routes are POST (some reads GET too); offer_stock is PATCH.
        allowed = ("PATCH",) if route.action == "offer_stock" else ("POST", "GET")
        if method.upper() not in allowed:
            return SandboxResponse(
                405, dict(JSON_HEADERS), json_bytes({"message": "Method not allowed"})
            )
        authorized = basic_credentials(headers.get("authorization")) == (
            state.username,
            state.password,
        )
        if route.action == "offer_stock":
            if not authorized:
                # Reference §1.3: the official offer_stock example answers 403.
                return SandboxResponse(403, dict(JSON_HEADERS), error_envelope(NOT_ALLOWED_MESSAGE))
            return self._patch_offer_stock(state, route, body)
        if not authorized:
            return _ok(error_envelope(NOT_ALLOWED_MESSAGE))
        if route.action == "offer/save":
            try:
                parameters = parse_parameters(body, headers.get("content-type", ""))
                return _ok(save_offers_light(state, parameters, result_key=self.save_result_key))
            except InputError as error:
                return _ok(error_envelope(str(error)))
        handler = HANDLERS.get(route.action)
        if handler is None:
            return SandboxResponse(404, dict(JSON_HEADERS), json_bytes({"message": "Invalid URL"}))
        try:
            parameters = parse_parameters(body, headers.get("content-type", ""), route.query)
            if not isinstance(parameters, dict):
                raise InputError("The data parameter must be an object for this action")
            return _ok(handler(Request(state, parameters, route.resource_id, self._clock)))
        except InputError as error:
            return _ok(error_envelope(str(error)))

    def _patch_offer_stock(self, state: AccountState, route: Route, body: bytes) -> SandboxResponse:
        try:
            parsed = json.loads(body) if body.strip() else None
        except ValueError:
            parsed = None
        status, answer = patch_offer_stock(state, route.resource_id, parsed)
        return SandboxResponse(status, dict(JSON_HEADERS) if answer else {}, answer)

    # --- Control (tests, the management command, the HTTP control endpoints) -----------------

    @property
    def accounts(self) -> list[str]:
        return list(self._accounts)

    def credentials(self, account: str) -> tuple[str, str]:
        """Return the (username, password) the sandbox accepts for an account."""
        state = self._state(account)
        return state.username, state.password

    def offers(self, account: str) -> list[dict[str, Any]]:
        """Return deep copies of an account's current offers, in id order."""
        with self._lock:
            store = self._state(account).offers
            return [copy.deepcopy(store.items[offer_id]) for offer_id in store.sorted_ids()]

    def orders(self, account: str) -> list[dict[str, Any]]:
        """Return deep copies of an account's current orders (every type), in id order."""
        with self._lock:
            store = self._state(account).orders
            return [copy.deepcopy(store.items[order_id]) for order_id in store.sorted_ids()]

    def update_offer(self, account: str, offer_id: int, changes: Mapping[str, Any]) -> None:
        """Overwrite fields of one offer, as if the seller edited it on eMAG."""
        with self._lock:
            store = self._state(account).offers
            store.items[offer_id].update(copy.deepcopy(dict(changes)))
            store.changed([offer_id])

    def move_order(self, account: str, order_id: int, status: int) -> None:
        """Move one order to a status the transition matrix allows, stamped with the clock."""
        with self._lock:
            state = self._state(account)
            order = state.orders.items[order_id]
            if status not in ALLOWED_TRANSITIONS[order["status"]]:
                raise ValueError(f"order {order_id}: {order['status']} -> {status} is not allowed")
            now_local = local_time(self._clock(), state.timezone)
            # Seeded generator for simulated data, not security.
            move_order(order, status, now_local, rng=random.Random(f"move:{order_id}:{status}"))  # nosec B311
            state.orders.changed([order_id])

    def update_order(self, account: str, order_id: int, changes: Mapping[str, Any]) -> None:
        """Overwrite fields of one order, as if eMAG staff edited it."""
        with self._lock:
            store = self._state(account).orders
            store.items[order_id].update(copy.deepcopy(dict(changes)))
            store.changed([order_id])

    def put_orders(self, account: str, orders: Iterable[Mapping[str, Any]]) -> None:
        """Add orders exactly as given (or replace those with their ids), e.g. eMAG's examples."""
        with self._lock:
            store = self._state(account).orders
            for order in orders:
                store.items[int(order["id"])] = copy.deepcopy(dict(order))
            store.changed()

    def remove_offer(self, account: str, offer_id: int) -> None:
        """Delete one offer, as if it vanished from eMAG."""
        with self._lock:
            store = self._state(account).offers
            del store.items[offer_id]
            store.changed([offer_id])

    def offer_saves(self, account: str) -> dict[int, int]:
        """Return how many writes (offer/save items, offer_stock patches) each offer took."""
        with self._lock:
            return dict(sorted(self._state(account).saves.items()))

    def set_campaign(self, account: str, offer_id: int, campaign: str | None) -> None:
        """Put an offer in a stock campaign (its stock then cannot change), or take it out."""
        with self._lock:
            state = self._state(account)
            if offer_id not in state.offers.items:
                raise ValueError(f"account {account!r} has no offer {offer_id}")
            if campaign:
                state.campaigns[offer_id] = str(campaign)
            else:
                state.campaigns.pop(offer_id, None)

    def set_save_result_key(self, key: str) -> None:
        """Key offer/save results by the seller's `id` or by eMAG's `offer_id`."""
        with self._lock:
            self.save_result_key = _result_key(key)

    def drift(
        self, account: str | None = None, *, changes: int = 20, seed: int | None = None
    ) -> dict[str, dict[str, dict[str, list[int]]]]:
        """Change offers (and orders, where enabled) of one or all accounts; return what changed.

        The result maps account -> {"offers": {kind: ids}, "orders": {kind: ids}}. Without a
        seed each drift round still differs deterministically from the previous one.
        """
        with self._lock:
            summary = {}
            names = [self._state(account).name] if account else list(self._accounts)
            for name in names:
                state = self._accounts[name]
                state.drift_rounds += 1
                tag = f"{self.seed}:{state.drift_rounds}" if seed is None else f"seed:{seed}"
                # Seeded generator for simulated data, not security.
                rng = random.Random(f"drift:{name}:{tag}")  # nosec B311
                summary[name] = {
                    "offers": drift_offers(
                        state.offers,
                        rng,
                        changes=changes,
                        seed=self.seed,
                        product_prefix=f"{name}:drift:{tag}",
                        currency=state.currency,
                    ),
                    "orders": self._drift_orders(state, rng, changes),
                }
            return summary

    def _drift_orders(
        self, state: AccountState, rng: random.Random, changes: int
    ) -> dict[str, list[int]]:
        # Accounts configured without orders stay without them, so offer tests stay quiet.
        if not state.order_count:
            return {"added": [], "status_changed": [], "cancelled": []}
        offers = [state.offers.items[offer_id] for offer_id in state.offers.sorted_ids()]
        return drift_orders(
            state.orders,
            rng,
            changes=changes,
            now=self._clock(),
            timezone=state.timezone,
            currency=state.currency,
            fulfilled_by_emag=state.fulfilled_by_emag,
            offers=offers,
            seed=self.seed,
        )

    def reset(self, account: str | None = None) -> None:
        """Regenerate the initial catalogue and orders (of one account or all)."""
        with self._lock:
            for name in [self._state(account).name] if account else list(self._accounts):
                self._populate(self._accounts[name])

    def inject_fault(
        self,
        account: str | None,
        kind: str,
        *,
        count: int | None = 1,
        action: str | None = None,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
    ) -> None:
        """Serve a fault for the next `count` matching requests (None: until cleared).

        `account` None matches every account; `action` (e.g. "product_offer/read") narrows
        the fault to one action.
        """
        fault_kind = _fault_kind(kind)
        if account is not None:
            self._state(account)
        if count is not None and count < 1:
            raise ValueError("count must be at least 1, or None for a persistent fault")
        with self._lock:
            self._faults.add(Fault(fault_kind, account, action, count, slow_seconds))

    def set_random_faults(
        self,
        rate: float,
        *,
        seed: int | None = None,
        kinds: Iterable[str] | None = None,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
    ) -> None:
        """Serve a random fault on `rate` of all requests (every account and action).

        The draws are seeded (by default from the sandbox's seed), so a run that sends the
        same requests in the same order meets the same faults. `kinds` defaults to every
        transient kind; rate 0 turns random faults off.
        """
        chosen = tuple(_fault_kind(kind) for kind in kinds) if kinds is not None else None
        with self._lock:
            if not rate:
                self._faults.random = None
                return
            self._faults.random = RandomFaults(
                rate=float(rate),
                seed=self.seed if seed is None else int(seed),
                **({"kinds": chosen} if chosen is not None else {}),
                slow_seconds=slow_seconds,
            )

    def clear_faults(self) -> None:
        """Drop every injected fault and the random ones."""
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, object]]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults.active()]

    def random_faults(self) -> dict[str, object] | None:
        with self._lock:
            return self._faults.random.as_dict() if self._faults.random else None

    def faults_served(self) -> dict[str, int]:
        """Return how many faults of each kind were served since the sandbox started."""
        with self._lock:
            return dict(sorted(self._faults.served.items()))

    def stats(self) -> dict[str, Any]:
        """Return requests, 429s and faults per account and action, as plain JSON data."""
        with self._lock:
            report: dict[str, Any] = {}
            for name, state in self._accounts.items():
                actions = {
                    action: {key: counters[key] for key in ("requests", "rate_limited", "faults")}
                    for action, counters in sorted(state.stats.items())
                }
                total = sum(state.stats.values(), Counter())
                report[name] = {
                    "total": {key: total[key] for key in ("requests", "rate_limited", "faults")},
                    "actions": actions,
                }
            return report

    def reset_stats(self) -> None:
        with self._lock:
            for state in self._accounts.values():
                state.stats.clear()

    def _state(self, account: str) -> AccountState:
        try:
            return self._accounts[account]
        except KeyError:
            raise ValueError(
                f"unknown sandbox account {account!r}; known: {', '.join(self._accounts)}"
            ) from None

    def prebuild(self, page_size: int = 100) -> int:
        """Serialize every account's full offer scan now instead of on first read.

        Return the number of pages built. Any later change to the offers drops them again.
        """
        with self._lock:
            return sum(prebuild_offer_pages(state, page_size) for state in self._accounts.values())

    def _populate(self, state: AccountState) -> None:
        offers = generate_offers(state.name, state.offer_count, self.seed, currency=state.currency)
        orders = generate_orders(
            state.name,
            state.order_count,
            self.seed,
            self._clock(),
            offers=[offer for offer in offers if offer["status"] == 1] or offers,
            timezone=state.timezone,
            currency=state.currency,
            fulfilled_by_emag=state.fulfilled_by_emag,
        )
        state.offers, state.orders = ItemStore(offers), ItemStore(orders)
        state.limiters = {
            group: SlidingWindowLimiter(limits, self._monotonic)
            for group, limits in DEFAULT_LIMITS.items()
        }
        state.drift_rounds = 0
        state.saves.clear()
        state.campaigns.clear()


def _result_key(key: str) -> str:
    if key not in RESULT_KEYS:
        raise ValueError(f"offer/save results are keyed by one of {', '.join(RESULT_KEYS)}")
    return key


def _fault_kind(kind: str) -> FaultKind:
    try:
        return FaultKind(kind)
    except ValueError:
        choices = ", ".join(str(member) for member in FaultKind)
        raise ValueError(f"unknown fault kind {kind!r}; choose one of: {choices}") from None


def _ok(body: bytes) -> SandboxResponse:
    return SandboxResponse(200, dict(JSON_HEADERS), body)


def _too_many_requests(rate_headers: dict[str, str]) -> SandboxResponse:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        **rate_headers,
        "X-RateLimit-Remaining-3second": "0",
    }
    return SandboxResponse(429, headers, RATE_LIMIT_BODY)
