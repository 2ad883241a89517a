"""Recompute stored orders' totals and columns from the payloads eMAG sent, and say what changed.

python manage.py emag_orders_recompute --dry-run
python manage.py emag_orders_recompute --account main
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from emag_sync.accounts import ALL_ACCOUNTS, resolve_account_names
from emag_sync.services.order_recompute import DEFAULT_BATCH_SIZE, orders_recompute


class Command(BaseCommand):
    help = (
        "Read every stored order again from its raw payload with today's mapping (voucher "
        "totals, PNKs, cancellation reasons, read warnings) and report how many changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", default=ALL_ACCOUNTS, help="Account name, all or both.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Orders read and written per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )

    def handle(self, *args, **options) -> None:
        try:
            accounts = resolve_account_names(options["account"])
        except KeyError as error:
            raise CommandError(error.args[0], returncode=2) from None
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=2)
        result = orders_recompute(
            accounts=accounts, batch_size=options["batch_size"], dry_run=options["dry_run"]
        )
        verb = "would change" if options["dry_run"] else "changed"
        self.stdout.write(
            f"Read {result.read} orders: totals {verb} on {result.totals_changed}, other "
            f"columns only on {result.other_changed}; {result.lines_changed} lines {verb}."
        )
        if result.unreadable:
            self.stdout.write(f"{result.unreadable} stored payloads have no order id; left as is.")
