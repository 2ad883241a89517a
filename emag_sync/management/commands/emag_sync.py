"""Run eMAG syncs from the command line.

    python manage.py emag_sync products --account all --mode full
    python manage.py emag_sync products --account main --mode selective --filter status=1 --sku ABC-1
    python manage.py emag_sync orders --account all
    python manage.py emag_sync orders --account main --mode full --since 2025-01-01
    python manage.py emag_sync acknowledge --account main
    python manage.py emag_sync push --account main --dry-run
    python manage.py emag_sync push --account all --json
    python manage.py emag_sync cancel 42

Exit status: 0 when every run completed, 3 when a sync of that stream was already
running, 1 when a run ended partial, failed, cancelled or interrupted, 2 for bad arguments.
"""

import json
import sys
import threading
from collections.abc import Callable
from datetime import date
from functools import partial

from django.core.management.base import BaseCommand, CommandError, CommandParser

from emag_sync.accounts import get_account, resolve_account_names
from emag_sync.models import (
    ConflictStrategy,
    StatusChangeSource,
    SyncKind,
    SyncMode,
    SyncRun,
    SyncStatus,
)
from emag_sync.services.offer_push import offers_push
from emag_sync.services.offer_sync import OfferSyncOptions, offer_sync
from emag_sync.services.order_acknowledge import orders_acknowledge
from emag_sync.services.order_sync import ORDER_SYNC_MODES, order_sync
from emag_sync.services.push_outbox import pushes_preview
from emag_sync.services.push_plan import request_preview, request_preview_text
from emag_sync.services.sync_engine import SyncOptionsError, side_by_side
from emag_sync.services.sync_runs import SyncAlreadyRunning, sync_run_cancel

EXIT_ALREADY_RUNNING = 3
EXIT_USAGE = 2
# A dry run shows at most this many offers per account (20 requests).
PREVIEW_LIMIT = 1000


def _key_value(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise CommandError(f"--filter takes KEY=VALUE, got {text!r}", returncode=EXIT_USAGE)
    return key.strip(), value.strip()


def _split_list(values: list[str] | None) -> list[str]:
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--since takes a date as YYYY-MM-DD, got {text!r}", returncode=EXIT_USAGE
        ) from None


def run_summary(run: SyncRun) -> dict:
    """Return the run fields the --json output promises."""
    summary = {
        "id": run.pk,
        "kind": run.kind,
        "account": run.account,
        "status": run.status,
        "seen": run.items_seen,
        "created": run.items_created,
        "updated": run.items_updated,
        "unchanged": run.items_unchanged,
        "failed": run.items_failed,
        "warned": run.items_warned,
        "missing": run.items_missing,
        "pages": run.pages_done,
        "requests": run.requests,
        "throttled": run.throttled,
        "duration_s": round(run.duration_seconds or 0.0, 3),
    }
    if run.kind == SyncKind.PUSH:
        summary.update(
            sent=run.items_sent,
            applied=run.items_applied,
            rejected=run.items_rejected,
            uncertain=run.items_uncertain,
        )
    if run.kind == SyncKind.ACKNOWLEDGE:
        summary["acknowledged"] = run.order_status_changes.filter(
            source=StatusChangeSource.ACKNOWLEDGE
        ).count()
    return summary


class Command(BaseCommand):
    help = (
        "Sync offers or orders from eMAG, acknowledge new orders, push local values to eMAG, "
        "or cancel a running sync."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        streams = parser.add_subparsers(dest="stream", required=True)
        products = streams.add_parser("products", help="Sync offers (eMAG product offers).")
        products.add_argument("--account", default="all", help="Account name, all or both.")
        products.add_argument("--mode", choices=SyncMode.values, default=SyncMode.INCREMENTAL)
        products.add_argument(
            "--conflict-strategy",
            choices=ConflictStrategy.values,
            default=ConflictStrategy.EMAG_PRIORITY,
        )
        products.add_argument("--max-pages", type=int, help="Incremental: pages per run.")
        products.add_argument(
            "--restart",
            action="store_true",
            help="Full: start a new pass at page 1 instead of resuming an interrupted one.",
        )
        products.add_argument(
            "--include-inactive", action="store_true", help="Incremental: inactive offers too."
        )
        products.add_argument(
            "--filter",
            action="append",
            dest="filters",
            metavar="KEY=VALUE",
            help="Selective: an eMAG filter (status, part_number, part_number_key, id, "
            "general_stock, estimated_stock, validation_status, offer_validation_status).",
        )
        products.add_argument("--id", action="append", dest="ids", help="Selective: seller ids.")
        products.add_argument("--sku", action="append", dest="skus", help="Selective: SKUs.")
        products.add_argument("--json", action="store_true", help="Print a JSON summary.")
        orders = streams.add_parser("orders", help="Sync orders (both fulfilment types).")
        orders.add_argument("--account", default="all", help="Account name, all or both.")
        orders.add_argument(
            "--mode",
            choices=[str(mode) for mode in ORDER_SYNC_MODES],
            default=SyncMode.INCREMENTAL,
            help="incremental: changed since the last run; full: created since --since.",
        )
        orders.add_argument(
            "--since",
            type=_iso_date,
            metavar="YYYY-MM-DD",
            help="Read from this local date (default: the cursor, or "
            "EMAG_ORDERS_INITIAL_DAYS back).",
        )
        orders.add_argument("--json", action="store_true", help="Print a JSON summary.")
        acknowledge = streams.add_parser(
            "acknowledge", help="Acknowledge the orders still new on eMAG."
        )
        acknowledge.add_argument("--account", default="all", help="Account name, all or both.")
        acknowledge.add_argument("--json", action="store_true", help="Print a JSON summary.")
        push = streams.add_parser(
            "push", help="Send pending local values (prices, stock, status...) to eMAG."
        )
        push.add_argument("--account", default="all", help="Account name, all or both.")
        push.add_argument("--json", action="store_true", help="Print a JSON summary.")
        push.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the requests a push would send now, and send nothing.",
        )
        cancel = streams.add_parser("cancel", help="Ask a running sync to stop.")
        cancel.add_argument("run_id", type=int)

    def handle(self, *args, **options) -> None:
        if options["stream"] == "cancel":
            return self._cancel(options["run_id"])
        if options["stream"] == "orders":
            return self._orders(options)
        if options["stream"] == "acknowledge":
            return self._acknowledge(options)
        if options["stream"] == "push":
            return self._push(options)
        return self._products(options)

    def _cancel(self, run_id: int) -> None:
        try:
            run = sync_run_cancel(run_id=run_id)
        except SyncRun.DoesNotExist:
            raise CommandError(f"no sync run #{run_id}", returncode=EXIT_USAGE) from None
        if run.is_active:
            self.stdout.write(f"Run #{run.pk} will stop after its current page.")
        else:
            self.stdout.write(f"Run #{run.pk} is {run.status}.")

    def _products(self, options: dict) -> None:
        accounts = self._accounts(options)
        try:
            ids = [int(value) for value in _split_list(options["ids"])]
        except ValueError:
            raise CommandError("--id takes whole numbers", returncode=EXIT_USAGE) from None
        try:
            sync_options = OfferSyncOptions.from_values(
                mode=options["mode"],
                conflict_strategy=options["conflict_strategy"],
                max_pages=options["max_pages"],
                include_inactive=options["include_inactive"],
                restart=options["restart"],
                filters=dict(_key_value(text) for text in options["filters"] or []),
                ids=ids,
                skus=_split_list(options["skus"]),
            )
        except SyncOptionsError as error:
            raise CommandError(str(error), returncode=EXIT_USAGE) from None
        self._run_each(accounts, partial(offer_sync, options=sync_options), as_json=options["json"])

    def _orders(self, options: dict) -> None:
        self._run_each(
            self._accounts(options),
            partial(order_sync, mode=options["mode"], since=options["since"]),
            as_json=options["json"],
        )

    def _acknowledge(self, options: dict) -> None:
        self._run_each(self._accounts(options), orders_acknowledge, as_json=options["json"])

    def _push(self, options: dict) -> None:
        accounts = self._accounts(options)
        if options["dry_run"]:
            return self._push_preview(accounts, as_json=options["json"])
        self._run_each(accounts, offers_push, as_json=options["json"])

    def _push_preview(self, accounts: list[str], *, as_json: bool) -> None:
        previews = {
            account: request_preview(
                get_account(account).api_url, pushes_preview(account=account, limit=PREVIEW_LIMIT)
            )
            for account in accounts
        }
        if as_json:
            self.stdout.write(json.dumps({"dry_run": True, "requests": previews}))
            return
        for account, requests in previews.items():
            offers = sum(len(request["body"]) for request in requests)
            self.stdout.write(
                f"{account}: {len(requests)} request(s) for {offers} offer(s) would be sent"
            )
            if requests:
                self.stdout.write(request_preview_text(requests))

    def _accounts(self, options: dict) -> list[str]:
        try:
            return resolve_account_names(options["account"])
        except KeyError as error:
            raise CommandError(error.args[0], returncode=EXIT_USAGE) from None

    def _run_each(
        self,
        accounts: list[str],
        run_one: Callable[..., SyncRun],
        *,
        as_json: bool,
    ) -> None:
        """Run one sync per account in parallel, report them, and exit with their verdict.

        `run_one` is a stream's entry service: called with `account` and `on_progress`, it is
        triggered by "cli", its default.
        """
        progress = _Progress(self.stdout, enabled=not as_json and self.stdout.isatty())

        results = side_by_side(
            accounts, lambda account: run_one(account=account, on_progress=progress.update)
        )
        progress.finish()
        self._report(results, as_json=as_json)
        busy = [result for result in results if isinstance(result, SyncAlreadyRunning)]
        runs = [result for result in results if isinstance(result, SyncRun)]
        if any(run.status != SyncStatus.COMPLETED for run in runs):
            sys.exit(1)
        if busy:
            sys.exit(EXIT_ALREADY_RUNNING)

    def _report(self, results: list, *, as_json: bool) -> None:
        if as_json:
            payload = {
                "runs": [run_summary(r) for r in results if isinstance(r, SyncRun)],
                "already_running": [
                    {"account": r.account, "run_id": r.run.pk if r.run else None}
                    for r in results
                    if isinstance(r, SyncAlreadyRunning)
                ],
            }
            self.stdout.write(json.dumps(payload))
            return
        for result in results:
            if isinstance(result, SyncAlreadyRunning):
                self.stderr.write(f"{result.account}: already running ({result})")
                continue
            summary = run_summary(result)
            line = (
                f"{result.account}: run #{result.pk} {result.status} in {summary['duration_s']} s, "
                f"{result.pages_done} pages, {result.items_seen} seen, {result.items_created} "
                f"created, {result.items_updated} updated, {result.items_unchanged} unchanged, "
                f"{result.items_failed} failed, {result.items_missing} missing, "
                f"{result.requests} requests ({result.throttled} throttled)"
            )
            if result.kind == SyncKind.PUSH:
                line = (
                    f"{result.account}: push #{result.pk} {result.status} in "
                    f"{summary['duration_s']} s, {result.items_sent} sent, "
                    f"{result.items_applied} applied, {result.items_rejected} rejected, "
                    f"{result.items_uncertain} uncertain, {result.requests} requests "
                    f"({result.throttled} throttled)"
                )
            if "acknowledged" in summary:
                line += f", {summary['acknowledged']} acknowledged"
            if result.items_warned:
                line += f", {result.items_warned} stored with read warnings"
            style = (
                self.style.SUCCESS if result.status == SyncStatus.COMPLETED else self.style.ERROR
            )
            self.stdout.write(style(line))
            for error in result.errors[:10]:
                self.stderr.write(f"  {_where(error)}: {error.get('message')}")


def _where(error: dict) -> str:
    if error.get("order") is not None:
        return f"order {error['order']}"
    if error.get("batch") is not None:
        return f"batch {error['batch']}"
    if error.get("page") is not None:
        return f"page {error['page']}"
    return "run"


class _Progress:
    """A one-line progress display of every account's run, for terminals."""

    def __init__(self, stream, *, enabled: bool):
        self.stream, self.enabled = stream, enabled
        self.runs: dict[str, SyncRun] = {}
        self.lock = threading.Lock()

    def update(self, run: SyncRun) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.runs[run.account] = run
            parts = []
            for account, current in sorted(self.runs.items()):
                total = current.pages_total or "?"
                percent = current.progress_percent
                bar = "#" * ((percent or 0) // 5)
                parts.append(f"{account} [{bar:<20}] {current.pages_done}/{total} pages")
            self.stream.write("\r" + "  ".join(parts), ending="")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.runs:
            self.stream.write("")
