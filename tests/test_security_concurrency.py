"""Five triggers of one account's offer sync at the same instant, from everywhere a sync can
start: two command-line processes, two API calls (one waiting for the sync, one queueing it)
and a Celery task. Exactly one run happens; every other trigger is told "already running".
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connections
from rest_framework.test import APIClient

from emag_sync.models import Offer, SyncRun
from emag_sync.tasks import sync_products_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
OFFERS = 1000  # 10 pages plus a count: over 3 s at eMAG's 3 requests/s, longer than any start
# A command-line process that loads Django, says it is ready, and waits for the signal to run.
CLI_AT_SIGNAL = """
import os, sys, time
import django
django.setup()
from django.core.management import execute_from_command_line
ready, go, *command = sys.argv[1:]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
execute_from_command_line(["manage.py", *command])
"""


def in_thread(function, results: list, go: threading.Event) -> threading.Thread:
    def run() -> None:
        go.wait()
        try:
            results.append(function())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_five_simultaneous_triggers_from_cli_api_and_task_give_exactly_one_run(
    live_sandbox, subprocess_env, admin_user, monkeypatch, tmp_path
):
    sandbox, _ = live_sandbox(
        offers={"main": OFFERS, "fbe": 5}, rate_limit=True, client_rate_limit=True
    )
    go_file, go = tmp_path / "go", threading.Event()
    queued_tasks = []

    def run_queued_task(kwargs, task_id) -> None:
        # The broker's part: a worker picks the queued run up, here in a thread of its own.
        queued_tasks.append(
            in_thread(lambda: sync_products_task.apply(kwargs=kwargs).get(), [], go)
        )

    monkeypatch.setattr(sync_products_task, "apply_async", run_queued_task)

    env = subprocess_env(DJANGO_SETTINGS_MODULE="magflow.settings")
    command = ["emag_sync", "products", "--account", "main", "--mode", "full", "--json"]
    processes = []
    for number in range(2):
        ready = tmp_path / f"ready-{number}"
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", CLI_AT_SIGNAL, str(ready), str(go_file), *command],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    api_answers, task_answers = [], []

    def api_trigger(run_async: bool):
        client = APIClient()
        client.force_authenticate(admin_user)
        body = {"account_type": "main", "mode": "full", "run_async": run_async}
        return client.post("/api/v2/emag/products/sync", body, format="json")

    threads = [
        in_thread(lambda: api_trigger(False), api_answers, go),
        in_thread(lambda: api_trigger(True), api_answers, go),
        in_thread(
            lambda: sync_products_task.apply(
                kwargs={"account": "main", "mode": "full", "triggered_by": "task"}
            ).get(),
            task_answers,
            go,
        ),
    ]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"ready-{number}").exists() for number in range(2)):
        assert time.monotonic() < deadline, "the command-line processes did not start"
        time.sleep(0.01)

    go_file.touch()  # all five at once
    go.set()
    cli = [process.communicate(timeout=90) for process in processes]
    for thread in threads:
        thread.join(timeout=90)
    for thread in queued_tasks:
        thread.join(timeout=90)

    runs = SyncRun.objects.filter(account="main", kind="offers")
    assert runs.count() == 1, list(runs.values("id", "status", "triggered_by"))
    won = (
        [process.returncode == 0 for process in processes]
        + [answer.status_code in (200, 202) for answer in api_answers]
        + ["run_id" in answer for answer in task_answers]
    )
    assert sum(won) == 1, (cli, [a.status_code for a in api_answers], task_answers)
    # Every other trigger said so, each in its own way.
    for process, (out, _err) in zip(processes, cli, strict=True):
        if process.returncode != 0:
            assert process.returncode == 3
            assert json.loads(out)["already_running"][0]["account"] == "main"
    for answer in api_answers:
        if answer.status_code not in (200, 202):
            assert answer.status_code == 409
            assert "already running" in answer.json()["detail"]
    for answer in task_answers:
        if "run_id" not in answer:
            assert answer["already_running"] == runs.get().pk
    # And the one run did the whole job.
    run = runs.get()
    assert run.status == "completed", run.errors
    stored = set(Offer.objects.filter(account="main").values_list("emag_id", flat=True))
    assert stored == {offer["id"] for offer in sandbox.offers("main")}
    assert Offer.objects.filter(account="main").count() == OFFERS
