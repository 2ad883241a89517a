"""A faithful simulator of eMAG's Marketplace API: one core, an HTTP and a `responses` adapter.

Paths `/<account>/api-3/<resource>/<action>`, per-account Basic credentials, every body
encoding eMAG accepts, its envelope, quirks and rate limits (docs/emag-api.md), a seeded
catalogue and orders, drift over time and fault injection. Run it with
`python manage.py emag_sandbox`; in tests use `Sandbox` with `responses_adapter.register` or
`http.start_in_thread`.
"""

from emag_sync.sandbox.catalogue import (
    DEFAULT_OFFER_COUNTS,
    DEFAULT_SEED,
    default_offer_count,
    generate_offers,
    sandbox_credentials,
)
from emag_sync.sandbox.core import Sandbox, SandboxResponse
from emag_sync.sandbox.faults import FaultKind
from emag_sync.sandbox.http import RunningSandbox, make_server, start_in_thread
from emag_sync.sandbox.orders import generate_orders

__all__ = [
    "DEFAULT_OFFER_COUNTS",
    "DEFAULT_SEED",
    "FaultKind",
    "RunningSandbox",
    "Sandbox",
    "SandboxResponse",
    "default_offer_count",
    "generate_offers",
    "generate_orders",
    "make_server",
    "sandbox_credentials",
    "start_in_thread",
]
