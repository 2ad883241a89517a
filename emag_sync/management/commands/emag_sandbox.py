"""Serve the eMAG API simulator over HTTP until interrupted.

    python manage.py emag_sandbox --port 8001 --orders main=500,fbe=300

Accounts are the ones configured in EMAG_ACCOUNTS, with their time zones and fulfilment.
The sandbox accepts its own fixed credentials (`emag_sync.sandbox.sandbox_credentials`),
never the real ones.
"""

import signal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from emag_sync.accounts import get_accounts
from emag_sync.sandbox import DEFAULT_SEED, Sandbox, make_server
from emag_sync.sandbox.http import start_periodic_drift


def parse_sizes(text: str, option: str, accounts: list[str]) -> dict[str, int]:
    """Turn `main=1274,fbe=1271` into {"main": 1274, "fbe": 1271}, or raise CommandError."""
    sizes: dict[str, int] = {}
    for item in filter(None, (piece.strip() for piece in text.split(","))):
        name, separator, value = item.partition("=")
        name = name.strip().lower()
        if not separator:
            raise CommandError(f"{option}: expected ACCOUNT=NUMBER, got {item!r}")
        if name not in accounts:
            raise CommandError(
                f"{option}: unknown account {name!r}; configured: {', '.join(accounts)}"
            )
        if not value.strip().isdigit():
            raise CommandError(f"{option}: {name}={value!r} is not a whole number >= 0")
        sizes[name] = int(value)
    return sizes


class Command(BaseCommand):
    help = "Serve the eMAG API sandbox (a simulator of eMAG's Marketplace API) over HTTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind.")
        parser.add_argument("--port", type=int, default=8001, help="Port to listen on.")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Data seed.")
        parser.add_argument(
            "--offers",
            default="",
            help="Offers per account, e.g. main=1274,fbe=1271 (default: those; others 50).",
        )
        parser.add_argument(
            "--orders", default="", help="Orders per account, e.g. main=500,fbe=300 (default 0)."
        )
        parser.add_argument(
            "--no-rate-limit",
            action="store_true",
            help="Do not enforce eMAG's 3 (12 for orders) requests per second.",
        )
        parser.add_argument(
            "--prebuild",
            action="store_true",
            help="Serialize every page of a full offer scan before serving (for benchmarks).",
        )
        parser.add_argument(
            "--fault-rate",
            type=float,
            default=0.0,
            metavar="SHARE",
            help="Serve a seeded random transient fault on this share of requests (0-1).",
        )
        parser.add_argument(
            "--drift-every",
            type=float,
            metavar="SECONDS",
            help="Change offers and orders of every account this often.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            accounts = get_accounts()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        names = list(accounts)
        offer_sizes = parse_sizes(options["offers"], "--offers", names)
        order_sizes = parse_sizes(options["orders"], "--orders", names)
        if options["drift_every"] is not None and options["drift_every"] <= 0:
            raise CommandError("--drift-every must be a positive number of seconds")

        sandbox = Sandbox(
            names,
            seed=options["seed"],
            offers=offer_sizes,
            orders=order_sizes,
            rate_limit=not options["no_rate_limit"],
            timezones={name: account.timezone for name, account in accounts.items()},
            fulfilled_by_emag=[
                name for name, account in accounts.items() if account.is_fulfilled_by_emag
            ],
        )
        if not 0 <= options["fault_rate"] <= 1:
            raise CommandError("--fault-rate must be between 0 and 1")
        if options["fault_rate"]:
            sandbox.set_random_faults(options["fault_rate"])
        if options["prebuild"]:
            pages = sandbox.prebuild()
            self.stdout.write(f"eMAG sandbox: {pages} offer pages built ahead.")
        try:
            server = make_server(
                sandbox, options["host"], options["port"], verbose=options["verbosity"] > 1
            )
        except OSError as error:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {error}"
            ) from error

        for name in names:
            username, _ = sandbox.credentials(name)
            self.stdout.write(
                f"eMAG sandbox {name}: {server.base_url}/{name}/api-3 (username {username})"
            )
        drift_stop = None
        if options["drift_every"]:
            drift_stop = start_periodic_drift(sandbox, options["drift_every"])
        # SIGTERM (docker stop, honcho) ends the loop like Ctrl-C does.
        previous_handler = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous_handler)
            if drift_stop is not None:
                drift_stop.set()
            server.server_close()
            self.stdout.write("eMAG sandbox stopped.")


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
