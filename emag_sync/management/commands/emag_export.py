"""Write the local mirror as UTF-8 CSV to standard output.

python manage.py emag_export products --account main > offers.csv
python manage.py emag_export orders --account all > orders.csv
"""

from typing import TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from emag_sync.accounts import ACCOUNT_ALIASES, ALL_ACCOUNTS, get_account
from emag_sync.exports import csv_lines, offer_csv_rows, order_csv_rows
from emag_sync.selectors import offer_list, order_list


class Command(BaseCommand):
    help = "Export local offers or orders as CSV (header first, one row per offer or order)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["products", "orders"], help="What to export.")
        parser.add_argument("--account", help="One account name (default: every account).")
        parser.add_argument("--format", choices=["csv"], default="csv")

    def handle(self, *args, **options) -> None:
        account = options["account"]
        if account and ACCOUNT_ALIASES.get(account.lower(), account.lower()) == ALL_ACCOUNTS:
            account = None
        if account:
            try:
                account = get_account(account).name
            except KeyError as error:
                raise CommandError(error.args[0], returncode=2) from None
        if options["what"] == "orders":
            rows = order_csv_rows(order_list(account=account, with_lines=True))
        else:
            rows = offer_csv_rows(offer_list(account=account))
        # The raw stream: the CSV writer already ends lines with \r\n.
        out = cast(TextIO, self.stdout._out)
        for line in csv_lines(rows):
            out.write(line)
        out.flush()
