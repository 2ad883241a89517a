"""Infrastructure failing mid-sync: the database connection killed, Redis restarted.

The run is resumed or ends with an honest status (never stuck `running`) and nothing is
lost: the next run leaves the mirror equal to the sandbox.
"""

import shutil
import socket
import subprocess
import time

import pytest
from django.db import connection

from emag_sync.models import Offer, SyncRun
from tests.conftest import REQUIRE_SERVICES
from tests.test_offer_sync_processes import start_sync, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def mirror_matches(sandbox, account="main"):
    present = Offer.objects.filter(account=account, missing_since__isnull=True)
    return dict(present.values_list("emag_id", "raw")) == {
        offer["id"]: offer for offer in sandbox.offers(account)
    }


def test_a_database_connection_killed_mid_page_fails_the_run_and_the_next_run_repairs(
    live_sandbox, subprocess_env, postgres_required, settings
):
    settings.SYNC_REAP_AFTER = 3
    sandbox, _ = live_sandbox(
        offers={"main": 1100, "fbe": 5}, rate_limit=True, client_rate_limit=True
    )
    env = subprocess_env()
    victim = start_sync(env, "--account", "main", "--mode", "full")
    wait_for(lambda: SyncRun.objects.filter(account="main", pages_done__gte=3).exists())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    victim.communicate(timeout=60)

    def settled():
        run = SyncRun.objects.get(account="main")
        return run if run.status != "running" else None

    broken = wait_for(settled, timeout=settings.SYNC_REAP_AFTER + 30)
    assert broken.status in {"failed", "partial", "completed"}

    survivor = start_sync(env, "--account", "main", "--mode", "full", "--restart")
    survivor.communicate(timeout=60)
    assert survivor.returncode == 0
    assert mirror_matches(sandbox)
    assert not SyncRun.objects.filter(status="running").exists()


@pytest.fixture
def private_redis():
    """Start a redis-server of our own on a free port (never the machine's shared one)."""
    binary = shutil.which("redis-server")
    if not binary:
        if REQUIRE_SERVICES:
            pytest.fail("REQUIRE_SERVICES=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def start():
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: _pings(port), timeout=10)
        return process

    server = {"process": start()}

    def restart(down_for: float):
        server["process"].terminate()
        server["process"].wait(timeout=10)
        time.sleep(down_for)
        server["process"] = start()

    yield f"redis://127.0.0.1:{port}/0", restart
    server["process"].terminate()
    server["process"].wait(timeout=10)


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_redis_restarted_mid_run_is_waited_out_and_the_run_completes(
    live_sandbox, subprocess_env, private_redis
):
    redis_url, restart_redis = private_redis
    sandbox, _ = live_sandbox(
        offers={"main": 1100, "fbe": 5}, rate_limit=True, client_rate_limit=True
    )
    process = start_sync(subprocess_env(REDIS_URL=redis_url), "--account", "main", "--mode", "full")
    wait_for(lambda: SyncRun.objects.filter(account="main", pages_done__gte=3).exists())
    restart_redis(down_for=1.5)
    out, err = process.communicate(timeout=90)

    run = SyncRun.objects.get(account="main")
    assert process.returncode == 0, err
    assert run.status == "completed"
    assert mirror_matches(sandbox)
    assert sandbox.stats()["main"]["total"]["rate_limited"] == 0
