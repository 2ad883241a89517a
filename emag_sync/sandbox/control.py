"""Control endpoints under `/_sandbox/`, so tests in other processes can steer a running sandbox.

They exist only in the simulator and need no credentials:

    GET    /_sandbox/health              accounts served
    GET    /_sandbox/stats               requests, 429s and faults per account and action
    POST   /_sandbox/stats/reset         zero the counters
    GET    /_sandbox/faults              faults still pending
    POST   /_sandbox/faults              {"account", "kind", "count", "action", "slow_seconds"}
    DELETE /_sandbox/faults              clear every fault, the random ones too
    POST   /_sandbox/faults/random       {"rate", "seed", "kinds", "slow_seconds"}: rate 0 stops
    GET    /_sandbox/faults/served       faults served so far, by kind
    POST   /_sandbox/drift               {"account", "changes", "seed"} -> what changed
    POST   /_sandbox/reset               {"account"}: back to the generated data
    GET    /_sandbox/offers/<account>    the current offers
    GET    /_sandbox/orders/<account>    the current orders
    GET    /_sandbox/saves/<account>     applied offer writes per offer id
    POST   /_sandbox/campaigns           {"account", "offer_id", "campaign"}: null ends it
    POST   /_sandbox/save-result-key     {"key": "id" | "offer_id"}: how offer/save keys results
"""

import json
from typing import Any

from emag_sync.sandbox.core import Sandbox, SandboxResponse
from emag_sync.sandbox.wire import JSON_HEADERS, json_bytes

CONTROL_PREFIX = "/_sandbox/"


def is_control_path(path: str) -> bool:
    return path.startswith(CONTROL_PREFIX)


def handle_control(sandbox: Sandbox, method: str, path: str, body: bytes) -> SandboxResponse:
    """Answer one control request; bad input gets a 400 with the reason."""
    route = path.partition("?")[0].removeprefix(CONTROL_PREFIX).strip("/")
    method = method.upper()
    try:
        payload = json.loads(body) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        result = _dispatch(sandbox, method, route, payload)
    except ValueError as error:  # also json.JSONDecodeError
        return _json(400, {"error": str(error)})
    if result is None:
        return _json(404, {"error": f"no control endpoint {method} {path}"})
    return _json(200, result)


def _dispatch(sandbox: Sandbox, method: str, route: str, payload: dict[str, Any]) -> Any:
    kind, _, account = route.partition("/")
    if (method, route) == ("GET", "health"):
        return {"accounts": sandbox.accounts}
    if (method, route) == ("GET", "stats"):
        return sandbox.stats()
    if (method, route) == ("POST", "stats/reset"):
        sandbox.reset_stats()
        return {"ok": True}
    if (method, route) == ("GET", "faults"):
        return {"faults": sandbox.faults(), "random": sandbox.random_faults()}
    if (method, route) == ("POST", "faults"):
        if "kind" not in payload:
            raise ValueError("a fault needs a kind")
        options: dict[str, Any] = {
            "count": payload.get("count", 1),
            "action": payload.get("action"),
        }
        if "slow_seconds" in payload:
            options["slow_seconds"] = float(payload["slow_seconds"])
        sandbox.inject_fault(payload.get("account"), str(payload["kind"]), **options)
        return {"ok": True, "faults": sandbox.faults()}
    if (method, route) == ("POST", "faults/random"):
        kinds = payload.get("kinds")
        if kinds is not None and not isinstance(kinds, list):
            raise ValueError("kinds must be a list of fault kinds")
        options = {"seed": payload.get("seed"), "kinds": kinds}
        if "slow_seconds" in payload:
            options["slow_seconds"] = float(payload["slow_seconds"])
        sandbox.set_random_faults(float(payload.get("rate", 0)), **options)
        return {"ok": True, "random": sandbox.random_faults()}
    if (method, route) == ("GET", "faults/served"):
        return {"served": sandbox.faults_served()}
    if (method, route) == ("DELETE", "faults"):
        sandbox.clear_faults()
        return {"ok": True}
    if (method, route) == ("POST", "drift"):
        seed = payload.get("seed")
        return sandbox.drift(
            payload.get("account"),
            changes=int(payload.get("changes", 20)),
            seed=None if seed is None else int(seed),
        )
    if (method, route) == ("POST", "reset"):
        sandbox.reset(payload.get("account"))
        return {"ok": True}
    if (method, route) == ("POST", "campaigns"):
        if "account" not in payload or "offer_id" not in payload:
            raise ValueError("a campaign needs an account and an offer_id")
        sandbox.set_campaign(
            str(payload["account"]), int(payload["offer_id"]), payload.get("campaign")
        )
        return {"ok": True}
    if (method, route) == ("POST", "save-result-key"):
        sandbox.set_save_result_key(str(payload.get("key")))
        return {"ok": True, "key": sandbox.save_result_key}
    if method == "GET" and kind == "saves" and account:
        return {str(offer_id): count for offer_id, count in sandbox.offer_saves(account).items()}
    if method == "GET" and kind == "offers" and account:
        return sandbox.offers(account)
    if method == "GET" and kind == "orders" and account:
        return sandbox.orders(account)
    return None


def _json(status: int, value: Any) -> SandboxResponse:
    return SandboxResponse(status, dict(JSON_HEADERS), json_bytes(value))
