"""Real processes: a sync killed with SIGKILL resumes, two triggers never both run, progress shows.

Each test runs `manage.py emag_sync` in child processes against the sandbox over HTTP with
eMAG's real rate limits, sharing the test database and the rate limiter with this process.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emag_sync.models import Offer, SyncRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
REAP_AFTER = 2


def start_sync(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "emag_sync", "products", "--json", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def throttled_sandbox(live_sandbox, settings):
    settings.SYNC_REAP_AFTER = REAP_AFTER

    def start(**options):
        return live_sandbox(rate_limit=True, client_rate_limit=True, **options)

    return start


def test_a_sync_killed_mid_run_is_resumed_by_the_next_run_with_nothing_lost_or_duplicated(
    throttled_sandbox, subprocess_env
):
    sandbox, _ = throttled_sandbox(offers={"main": 1274, "fbe": 5})
    env = subprocess_env()
    victim = start_sync(env, "--account", "main", "--mode", "full")
    wait_for(lambda: SyncRun.objects.filter(account="main", pages_done__gte=5).exists())
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    killed = SyncRun.objects.get(account="main")
    assert killed.status == "running"  # nobody could mark it: the reaper will

    time.sleep(REAP_AFTER + 0.5)
    survivor = start_sync(env, "--account", "main", "--mode", "full")
    out, err = survivor.communicate(timeout=60)

    assert survivor.returncode == 0, err
    resumed = json.loads(out)["runs"][0]
    killed.refresh_from_db()
    assert killed.status == "failed"
    assert "reaped" in killed.errors[-1]["message"]
    resumed_run = SyncRun.objects.get(pk=resumed["id"])
    assert resumed_run.resumed_from_page is not None and resumed_run.resumed_from_page > 1
    assert resumed["requests"] < 14  # a whole pass is 1 count + 13 pages
    assert resumed["missing"] == 0  # a pass stitched from two runs marks nothing missing
    catalogue = {offer["id"]: offer for offer in sandbox.offers("main")}
    stored = dict(Offer.objects.filter(account="main").values_list("emag_id", "raw"))
    assert stored == catalogue  # every offer, once, as eMAG has it
    assert sandbox.stats()["main"]["total"]["rate_limited"] == 0


def test_two_processes_syncing_one_account_run_once_and_the_other_exits_3(
    throttled_sandbox, subprocess_env
):
    sandbox, _ = throttled_sandbox(offers={"main": 700, "fbe": 5})
    env = subprocess_env()
    first = start_sync(env, "--account", "main", "--mode", "full")
    second = start_sync(env, "--account", "main", "--mode", "full")
    results = [process.communicate(timeout=60) for process in (first, second)]

    assert sorted([first.returncode, second.returncode]) == [0, 3], results
    assert SyncRun.objects.filter(account="main").count() == 1
    assert Offer.objects.filter(account="main").count() == 700
    assert sandbox.stats()["main"]["total"]["rate_limited"] == 0


def test_two_processes_syncing_different_accounts_both_run_within_the_limits(
    throttled_sandbox, subprocess_env
):
    sandbox, _ = throttled_sandbox(offers={"main": 700, "fbe": 650})
    env = subprocess_env()
    processes = [start_sync(env, "--account", name, "--mode", "full") for name in ("main", "fbe")]
    results = [process.communicate(timeout=60) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], results
    assert Offer.objects.filter(account="main").count() == 700
    assert Offer.objects.filter(account="fbe").count() == 650
    stats = sandbox.stats()
    assert stats["main"]["total"]["rate_limited"] == 0
    assert stats["fbe"]["total"]["rate_limited"] == 0


def test_another_connection_sees_a_running_sync_make_progress(throttled_sandbox, subprocess_env):
    throttled_sandbox(offers={"main": 1000, "fbe": 5})
    process = start_sync(subprocess_env(), "--account", "main", "--mode", "full")
    observed = []
    try:
        run = wait_for(lambda: SyncRun.objects.filter(account="main").first())
        while True:
            run.refresh_from_db()
            if run.status != "running":
                break
            observed.append(run.pages_done)
            time.sleep(0.1)
    finally:
        process.communicate(timeout=60)

    mid_run = sorted({pages for pages in observed if 0 < pages < 10})
    assert run.status == "completed"
    assert run.pages_total == 10
    assert len(mid_run) >= 3, observed  # committed page by page, visible while running
