"""The embedded broker: whole messages only, each delivered once, never fatal to a worker."""

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from tests.broker_support import filesystem_broker_options

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 10_000
PRODUCERS = 4
STRESS_TIMEOUT = 240


def _connection(folder: Path) -> Connection:
    return Connection(
        transport="magflow.broker:AtomicFilesystemTransport",
        transport_options=filesystem_broker_options(folder, polling_interval=0.05),
    )


def test_it_writes_no_message_file_into_the_queue_folder_before_it_is_whole(tmp_path):
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("q")
        queue.put({"n": 1})
        names = os.listdir(tmp_path / "queue")
        assert len(names) == 1 and names[0].endswith(".q.msg")
        assert (tmp_path / "queue" / names[0]).stat().st_size > 0
        assert os.listdir(tmp_path / "staging") == []  # the temporary file was renamed
        assert queue.get(timeout=5).payload == {"n": 1}
        queue.close()


def test_it_sets_aside_an_unreadable_message_and_delivers_the_next(tmp_path, caplog):
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("q2")
        (tmp_path / "queue" / "000000000000001_empty.q2.msg").write_bytes(b"")
        queue.put({"n": 2})
        assert queue.get(timeout=5).payload == {"n": 2}
        assert os.listdir(tmp_path / "broken") == ["000000000000001_empty.q2.msg"]
        assert "cannot be read" in caplog.text
        with pytest.raises(Empty):
            queue.get(block=False)
        queue.close()


def test_it_names_each_message_file_after_its_task_so_the_broker_can_be_asked(tmp_path):
    with _connection(tmp_path) as connection:
        producer = connection.Producer()
        producer.publish({"x": 1}, routing_key="q", headers={"id": "sync-run-42"})
        producer.publish({"x": 2}, routing_key="q", headers={"id": "bad.id/with dots"})
        names = sorted(os.listdir(tmp_path / "queue"))
        assert len(names) == 2
        assert sum("_sync-run-42." in name for name in names) == 1
        assert not any("bad.id" in name for name in names)


def _start_worker(env: dict, log: Path, name: str) -> subprocess.Popen:
    with open(log, "w") as output:
        return subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tests.broker_stress_app", "worker",
                "--pool", "threads", "--concurrency", "4", "--hostname", f"{name}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel", "WARNING",
            ],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _produce(folder: str, first: int, count: int) -> None:
    os.environ["STRESS_BROKER_DIR"] = folder
    from tests.broker_stress_app import produce

    produce(first, count)


@pytest.mark.slow
def test_it_passes_ten_thousand_messages_from_several_producers_to_two_workers_exactly_once(
    tmp_path,
):
    for sub in ("queue", "processed", "control"):
        (tmp_path / sub).mkdir()
    # Without DJANGO_SETTINGS_MODULE: Celery's Django fix-up would time each task, not the broker.
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(STRESS_BROKER_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    workers = [_start_worker(env, tmp_path / f"worker-{n}.log", f"stress{n}") for n in (1, 2)]
    try:
        per_producer = MESSAGES // PRODUCERS
        context = multiprocessing.get_context("spawn")
        producers = [
            context.Process(target=_produce, args=(str(tmp_path), n * per_producer, per_producer))
            for n in range(PRODUCERS)
        ]
        for producer in producers:
            producer.start()
        received = tmp_path / "received"
        deadline = time.monotonic() + STRESS_TIMEOUT
        lines: list[str] = []
        while time.monotonic() < deadline:
            lines = received.read_text().split() if received.exists() else []
            if len(lines) >= MESSAGES and not any(p.is_alive() for p in producers):
                break
            assert all(worker.poll() is None for worker in workers), "a worker died"
            time.sleep(0.5)
        time.sleep(1)  # a duplicate would land within the next poll or two
        lines = received.read_text().split()
        for producer in producers:
            producer.join(timeout=10)
            assert producer.exitcode == 0
        assert all(worker.poll() is None for worker in workers), "a worker died"
        numbers = [int(line) for line in lines]
        assert len(numbers) == len(set(numbers)), "a message was delivered twice"
        assert set(numbers) == set(range(MESSAGES)), "a message was lost"
        assert os.listdir(tmp_path / "queue") == []
        assert not (tmp_path / "broken").exists() or os.listdir(tmp_path / "broken") == []
        for n in (1, 2):
            log = (tmp_path / f"worker-{n}.log").read_text()
            assert "CRITICAL" not in log and "Unrecoverable" not in log, log[-3000:]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
