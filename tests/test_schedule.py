"""The default schedule: created once, never overwriting the admin, firing when it should.

Crontab entries are checked the way beat checks them: `is_due` on the entry's schedule,
with the clock frozen at each minute of a window, including both daylight-saving changes
of the sellers' time zone.
"""

import inspect
import io
import itertools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery import current_app
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from emag_sync.management.commands.setup_periodic_tasks import default_schedule
from tests.admin_support import run_changelist_action

pytestmark = pytest.mark.django_db

BUCHAREST = ZoneInfo("Europe/Bucharest")
HOURLY = "eMAG products: incremental sync, hourly"
NIGHTLY = "eMAG products: full sync, nightly"
ORDERS = "eMAG orders: sync, every 5 minutes"
ACKNOWLEDGE = "eMAG orders: acknowledge, every 10 minutes"
CLEANUP = "Cleanup: old runs, request logs and history, daily"
HEALTH = "Health check, every 15 minutes"
PUSH = "eMAG products: push local values, every minute"
PERIOD_MINUTES = {HOURLY: 60, ORDERS: 5, ACKNOWLEDGE: 10, HEALTH: 15}


@pytest.fixture
def schedule(settings):
    settings.SCHEDULE_TIMEZONE = "Europe/Bucharest"
    setup()
    return {entry.name: entry for entry in PeriodicTask.objects.all()}


def setup() -> str:
    output = io.StringIO()
    call_command("setup_periodic_tasks", stdout=output)
    return output.getvalue()


def fire_times(entry: PeriodicTask, start: datetime, end: datetime) -> list[datetime]:
    """Ask the entry's schedule at every minute from start to end, as beat would; return when
    it was due (beat then records that moment as the last run)."""
    schedule = entry.schedule
    last_run_at = start
    fired = []
    now = start
    while now < end:
        schedule.nowfun = lambda frozen=now: frozen.astimezone(schedule.tz)
        if schedule.is_due(last_run_at).is_due:
            fired.append(now)
            last_run_at = now
        now += timedelta(minutes=1)
    return fired


def local(moments: list[datetime]) -> list[str]:
    return [moment.astimezone(BUCHAREST).strftime("%Y-%m-%d %H:%M %Z") for moment in moments]


def gaps_in_minutes(moments: list[datetime]) -> set[float]:
    pairs = itertools.pairwise(moments)
    return {(later - earlier).total_seconds() / 60 for earlier, later in pairs}


# --- setup_periodic_tasks ---------------------------------------------------------------------


def test_running_setup_twice_creates_each_default_entry_once():
    first = setup()
    second = setup()

    names = list(PeriodicTask.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(entry.name for entry in default_schedule())
    assert Counter(names).most_common(1)[0][1] == 1
    crons = {entry.cron for entry in default_schedule() if entry.cron}
    assert CrontabSchedule.objects.count() == len(crons)
    assert IntervalSchedule.objects.count() == 1
    assert "7 created" in first
    assert "0 created" in second


def test_admin_edits_survive_a_third_run(schedule):
    orders = schedule[ORDERS]
    orders.enabled = False
    orders.save()
    hourly = schedule[HOURLY]
    hourly.crontab = None
    hourly.interval = IntervalSchedule.objects.create(every=30, period=IntervalSchedule.MINUTES)
    hourly.kwargs = json.dumps({"account": "main", "mode": "incremental", "max_pages": 20})
    hourly.save()

    setup()

    orders.refresh_from_db()
    hourly.refresh_from_db()
    assert orders.enabled is False
    assert hourly.crontab is None
    assert (hourly.interval.every, hourly.interval.period) == (30, "minutes")
    assert json.loads(hourly.kwargs)["max_pages"] == 20
    assert PeriodicTask.objects.count() == len(default_schedule())


def test_a_deleted_entry_comes_back_on_the_next_run(schedule):
    schedule[HEALTH].delete()

    setup()

    assert PeriodicTask.objects.filter(name=HEALTH).exists()


def test_every_entry_names_a_registered_task_with_arguments_it_accepts(schedule):
    current_app.loader.import_default_modules()
    for entry in schedule.values():
        task = current_app.tasks[entry.task]
        inspect.signature(task.run).bind(**json.loads(entry.kwargs))


def test_the_push_runs_every_60_seconds_off_the_round_second(schedule):
    push = schedule[PUSH]
    start = datetime(2026, 6, 10, 8, 0, 37, tzinfo=UTC)  # when beat first ran it

    fired = fire_times(push, start, start + timedelta(hours=1))

    assert push.crontab is None
    assert (push.interval.every, push.interval.period) == (60, "seconds")
    assert len(fired) == 59 and gaps_in_minutes(fired) == {1.0}
    assert {moment.second for moment in fired} == {37}
    assert json.loads(push.kwargs) == {"account": "all"}
    assert 0 < push.expire_seconds < 60


def test_every_entry_expires_before_its_next_tick(schedule):
    for name, minutes in PERIOD_MINUTES.items():
        assert 0 < schedule[name].expire_seconds < minutes * 60
    for name in (NIGHTLY, CLEANUP):
        assert 0 < schedule[name].expire_seconds < 24 * 3600


def test_daily_entries_run_on_the_sellers_clock_and_frequent_ones_in_utc(schedule):
    assert str(schedule[NIGHTLY].crontab.timezone) == "Europe/Bucharest"
    assert str(schedule[CLEANUP].crontab.timezone) == "Europe/Bucharest"
    for name in PERIOD_MINUTES:
        assert str(schedule[name].crontab.timezone) == "UTC"


# --- is_due at frozen times -------------------------------------------------------------------


def test_on_an_ordinary_day_each_entry_fires_at_its_off_round_minutes(schedule):
    start = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
    end = start + timedelta(days=1)

    fired = {name: fire_times(entry, start, end) for name, entry in schedule.items()}

    assert {moment.minute for moment in fired[HOURLY]} == {23}
    assert len(fired[HOURLY]) == 24
    assert {moment.minute % 5 for moment in fired[ORDERS]} == {1}
    assert len(fired[ORDERS]) == 288
    assert {moment.minute % 10 for moment in fired[ACKNOWLEDGE]} == {3}
    assert len(fired[ACKNOWLEDGE]) == 144
    assert {moment.minute for moment in fired[HEALTH]} == {4, 19, 34, 49}
    assert len(fired[HEALTH]) == 96
    assert local(fired[NIGHTLY]) == ["2026-06-11 02:07 EEST"]
    assert local(fired[CLEANUP]) == ["2026-06-10 03:13 EEST"]


def test_is_due_turns_true_at_the_minute_and_not_a_second_before(schedule):
    nightly = schedule[NIGHTLY].schedule
    yesterday = datetime(2026, 6, 9, 23, 7, tzinfo=UTC)  # 02:07 EEST on the 10th
    at = datetime(2026, 6, 10, 23, 7, tzinfo=UTC)  # 02:07 EEST on the 11th

    nightly.nowfun = lambda: (at - timedelta(seconds=1)).astimezone(BUCHAREST)
    before = nightly.is_due(yesterday)
    nightly.nowfun = lambda: at.astimezone(BUCHAREST)
    due = nightly.is_due(yesterday)

    assert not before.is_due and 0 < before.next <= 1
    assert due.is_due
    assert 24 * 3600 - 60 < due.next <= 24 * 3600


@pytest.mark.parametrize(
    ("start", "nightly", "cleanup"),
    [
        pytest.param(
            # Bucharest moves from 03:00 EET to 04:00 EEST on 29 March 2026 (01:00 UTC).
            datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
            ["2026-03-29 02:07 EET", "2026-03-30 02:07 EEST"],
            # 03:13 does not exist on the 29th: cleanup runs once, an hour of wall clock later.
            ["2026-03-29 04:13 EEST", "2026-03-30 03:13 EEST"],
            id="spring",
        ),
        pytest.param(
            # Bucharest goes back from 04:00 EEST to 03:00 EET on 25 October 2026 (01:00 UTC):
            # 03:00-03:59 happens twice.
            datetime(2026, 10, 24, 12, 0, tzinfo=UTC),
            ["2026-10-25 02:07 EEST", "2026-10-26 02:07 EET"],
            # The repeated 03:13 runs cleanup once, not twice.
            ["2026-10-25 03:13 EEST", "2026-10-26 03:13 EET"],
            id="autumn",
        ),
    ],
)
def test_across_a_clock_change_every_entry_fires_once_per_tick(schedule, start, nightly, cleanup):
    end = start + timedelta(hours=48)

    fired = {name: fire_times(entry, start, end) for name, entry in schedule.items()}

    assert local(fired[NIGHTLY]) == nightly
    assert local(fired[CLEANUP]) == cleanup
    for name, minutes in PERIOD_MINUTES.items():
        assert gaps_in_minutes(fired[name]) == {minutes}, name
        assert len(fired[name]) == 48 * 60 // minutes


def test_an_entry_can_be_run_now_from_the_beat_admin(schedule, admin_client, monkeypatch):
    from emag_sync.tasks import health_check_task

    sent = []
    monkeypatch.setattr(health_check_task, "apply_async", lambda **options: sent.append(options))

    changelist = admin_client.get("/admin/django_celery_beat/periodictask/")
    response = run_changelist_action(
        admin_client, "/admin/django_celery_beat/periodictask/", "run_tasks", [schedule[HEALTH]]
    )

    assert changelist.status_code == 200
    assert all(name.encode() in changelist.content for name in schedule)
    assert response.status_code == 302
    assert sent == [{"args": [], "kwargs": {}, "headers": {"periodic_task_name": HEALTH}}]


def test_beat_adds_no_backend_cleanup_entry_since_there_is_no_result_backend():
    from django_celery_beat.schedulers import DatabaseScheduler

    from magflow.celery import app

    installed = {}
    scheduler = DatabaseScheduler.__new__(DatabaseScheduler)
    scheduler.app = app
    scheduler.update_from_dict = installed.update
    scheduler.install_default_entries({})

    assert "celery.backend_cleanup" not in installed
