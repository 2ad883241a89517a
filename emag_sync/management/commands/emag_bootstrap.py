"""Prepare a local installation: migrate, seed the schedule, ensure an admin, queue first syncs.

Run by `make run` on every start; safe to repeat. The admin's password is printed once,
when the user is created (random unless DJANGO_SUPERUSER_PASSWORD is set), and never again.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from emag_sync.accounts import get_accounts
from emag_sync.models import Offer, SyncKind, SyncMode, SyncRun
from emag_sync.services.sync_runs import SyncAlreadyRunning, sync_run_claim, sync_run_task_id


class Command(BaseCommand):
    help = (
        "Migrate, create the default schedule, ensure the local admin user, and queue a full "
        "sync of empty accounts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-username", default=os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        )
        parser.add_argument(
            "--admin-password",
            help="Password of the admin user if it is created now; the caller shows it.",
        )
        parser.add_argument("--no-initial-sync", action="store_true")
        parser.add_argument(
            "--first-order-sync",
            action="store_true",
            help="Also queue an order sync of every account that never had one.",
        )

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date.")
        call_command("setup_periodic_tasks", stdout=self.stdout)
        self._ensure_admin(options["admin_username"], options.get("admin_password"))
        if not options["no_initial_sync"]:
            self._queue_initial_syncs()
            if options["first_order_sync"]:
                self._queue_first_order_syncs()

    def _ensure_admin(self, username: str, given_password: str | None = None) -> None:
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user {username!r} exists; its password is unchanged.")
            return
        password = (
            given_password
            or os.environ.get("DJANGO_SUPERUSER_PASSWORD")
            or secrets.token_urlsafe(12)
        )
        users.objects.create_superuser(username=username, email="", password=password)
        if given_password:
            self.stdout.write(f"Created admin user {username!r}.")
        elif os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            self.stdout.write(f"Created admin user {username!r} with DJANGO_SUPERUSER_PASSWORD.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user {username!r} with password: {password}  "
                    "(shown only this once)"
                )
            )

    def _queue_initial_syncs(self) -> None:
        from emag_sync.tasks import sync_products_task

        for name in get_accounts():
            if Offer.objects.filter(account=name).exists():
                continue
            try:
                run = sync_run_claim(
                    account=name,
                    kind=SyncKind.OFFERS,
                    mode=SyncMode.FULL,
                    parameters={"reason": "first start"},
                    triggered_by="first start",
                    queued=True,
                )
            except SyncAlreadyRunning:
                continue
            sync_products_task.apply_async(
                kwargs={
                    "account": name,
                    "mode": SyncMode.FULL,
                    "run_id": run.pk,
                    "triggered_by": "first start",
                },
                task_id=sync_run_task_id(run.pk),
            )
            self.stdout.write(f"Queued a first full sync of account {name!r} (run #{run.pk}).")

    def _queue_first_order_syncs(self) -> None:
        from emag_sync.services.sync_triggers import order_syncs_enqueue

        for name in get_accounts():
            if SyncRun.objects.filter(account=name, kind=SyncKind.ORDERS).exists():
                continue
            try:
                [run] = order_syncs_enqueue(
                    accounts=[name], mode="incremental", since=None, triggered_by="first start"
                )
            except SyncAlreadyRunning:
                continue
            self.stdout.write(f"Queued a first order sync of account {name!r} (run #{run.pk}).")
