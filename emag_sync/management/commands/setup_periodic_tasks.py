"""Create the default schedule in django-celery-beat, once; never touch what exists.

    python manage.py setup_periodic_tasks

Run on every start (`make run`, docker-compose): an entry is created only when no periodic
task of that name exists, so what an operator changed in the admin (disabled, re-timed,
other arguments) stays as they left it. A deleted entry comes back on the next start:
disable an entry to turn it off.

Minutes are deliberately off the round ones, as eMAG asks of integrators, and spread so
two jobs rarely start together; the minutely push is an interval, off the round second. Daily entries run at night on the sellers' wall clock
(SCHEDULE_TIMEZONE); sub-daily ones in UTC, so a daylight-saving change neither skips nor
repeats them. Each entry expires before its next tick, so missed ticks never pile up.

The offer sync entries are created disabled when EMAG_ENABLE_SCHEDULED_SYNC is false (the
predecessor's switch, honoured for its users); enable them in the admin when wanted.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class Cron:
    """A crontab: https://crontab.guru explains each expression."""

    minute: str
    hour: str = "*"
    timezone: str = "UTC"


@dataclass(frozen=True)
class DefaultEntry:
    name: str
    task: str
    # A crontab, or (every_seconds) an interval counted from when beat first runs the entry.
    cron: Cron | None
    expire_seconds: int
    description: str
    kwargs: dict = field(default_factory=dict)
    # Created disabled when EMAG_ENABLE_SCHEDULED_SYNC is false.
    scheduled_sync: bool = False
    every_seconds: int | None = None


def default_schedule() -> list[DefaultEntry]:
    """Return the default periodic tasks, in the order the admin should list them."""
    local = settings.SCHEDULE_TIMEZONE
    return [
        DefaultEntry(
            name="eMAG products: incremental sync, hourly",
            task="emag_sync.sync_products",
            cron=Cron(minute="23"),  # https://crontab.guru/#23_*_*_*_*
            kwargs={"account": "all", "mode": "incremental", "max_pages": 10},
            expire_seconds=50 * 60,
            description="Active offers, 10 new pages per account per run, continuing where "
            "the previous run stopped, so the whole catalogue is covered in rotation.",
            scheduled_sync=True,
        ),
        DefaultEntry(
            name="eMAG products: full sync, nightly",
            task="emag_sync.sync_products",
            cron=Cron(minute="7", hour="2", timezone=local),  # https://crontab.guru/#7_2_*_*_*
            kwargs={"account": "all", "mode": "full"},
            expire_seconds=3 * 3600,
            description="Every offer, active and inactive; marks offers eMAG no longer "
            "returns as missing.",
            scheduled_sync=True,
        ),
        DefaultEntry(
            name="eMAG orders: sync, every 5 minutes",
            task="emag_sync.sync_orders",
            cron=Cron(minute="1-59/5"),  # https://crontab.guru/#1-59/5_*_*_*_*
            kwargs={"account": "all", "mode": "incremental"},
            expire_seconds=4 * 60,
            description="Orders modified since the last run, with an overlap window.",
        ),
        DefaultEntry(
            name="eMAG orders: acknowledge, every 10 minutes",
            task="emag_sync.acknowledge_orders",
            cron=Cron(minute="3-59/10"),  # https://crontab.guru/#3-59/10_*_*_*_*
            kwargs={"account": "all"},
            expire_seconds=9 * 60,
            description="Acknowledge new orders on eMAG, as eMAG expects of sellers.",
        ),
        DefaultEntry(
            name="eMAG products: push local values, every minute",
            task="emag_sync.push_offers",
            # An interval, not a crontab: a crontab fires at second 0 of each minute, the
            # round time eMAG asks integrators to avoid; an interval keeps the second beat
            # first ran it at. Edits are pushed at once anyway; this drains what is left.
            cron=None,
            every_seconds=60,
            kwargs={"account": "all"},
            expire_seconds=50,
            description="Send pending local values (prices, stock, handling time, status, "
            "VAT rate) to eMAG and settle uncertain pushes; an empty outbox starts no run.",
        ),
        DefaultEntry(
            name="Cleanup: old runs, request logs and history, daily",
            task="emag_sync.cleanup",
            cron=Cron(minute="13", hour="3", timezone=local),  # https://crontab.guru/#13_3_*_*_*
            expire_seconds=3 * 3600,
            description="Deletes sync runs and request logs older than "
            "SYNC_LOG_RETENTION_DAYS and change history older than SYNC_CHANGE_RETENTION_DAYS.",
        ),
        DefaultEntry(
            name="Health check, every 15 minutes",
            task="emag_sync.health_check",
            cron=Cron(minute="4-59/15"),  # https://crontab.guru/#4-59/15_*_*_*_*
            expire_seconds=14 * 60,
            description="Database, broker, eMAG reachability of each account, freshness of "
            "each stream; alerts once per incident.",
        ),
    ]


def crontab_for(cron: Cron) -> CrontabSchedule:
    """Return the crontab row for an expression, reusing an identical one if it exists."""
    spec = {
        "minute": cron.minute,
        "hour": cron.hour,
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": cron.timezone,
    }
    existing = CrontabSchedule.objects.filter(**spec).order_by("pk").first()
    return existing or CrontabSchedule.objects.create(**spec)


def _timing(entry: DefaultEntry) -> dict:
    if entry.cron is not None:
        return {"crontab": crontab_for(entry.cron)}
    spec = {"every": entry.every_seconds, "period": IntervalSchedule.SECONDS}
    # No unique key on intervals: reuse the oldest identical one, as crontab_for does.
    existing = IntervalSchedule.objects.filter(**spec).order_by("pk").first()
    return {"interval": existing or IntervalSchedule.objects.create(**spec)}


class Command(BaseCommand):
    help = "Create the default periodic tasks (django-celery-beat); keep existing ones as they are."

    def handle(self, *args, **options) -> None:
        created = 0
        for entry in default_schedule():
            enabled = settings.EMAG_ENABLE_SCHEDULED_SYNC or not entry.scheduled_sync
            if self._create(entry, enabled=enabled):
                created += 1
                note = "" if enabled else " (disabled: EMAG_ENABLE_SCHEDULED_SYNC is false)"
                self.stdout.write(f"  created  {entry.name}{note}")
            else:
                self.stdout.write(f"  kept     {entry.name}")
        self.stdout.write(f"Periodic tasks: {created} created, the others kept as they are.")

    def _create(self, entry: DefaultEntry, *, enabled: bool) -> bool:
        """Create the entry unless one of that name exists; return whether it was created."""
        if PeriodicTask.objects.filter(name=entry.name).exists():
            return False
        try:
            with transaction.atomic():
                PeriodicTask.objects.create(
                    name=entry.name,
                    task=entry.task,
                    **_timing(entry),
                    kwargs=json.dumps(entry.kwargs),
                    expire_seconds=entry.expire_seconds,
                    description=entry.description,
                    enabled=enabled,
                )
        except IntegrityError:
            return False  # another process created it a moment ago (the name is unique)
        return True
