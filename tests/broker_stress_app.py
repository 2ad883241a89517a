"""A minimal Celery app on the embedded broker, for the broker stress test (no Django).

Its one task appends the number it carries to `received` in the broker folder
(STRESS_BROKER_DIR); a short append is one write, whole, under O_APPEND.
"""

import os
from pathlib import Path

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

from tests.broker_support import filesystem_broker_options

TRANSPORT_ALIASES["filesystem"] = "magflow.broker:AtomicFilesystemTransport"

FOLDER = Path(os.environ["STRESS_BROKER_DIR"])

app = Celery("broker_stress", broker="filesystem://")
app.conf.update(
    broker_transport_options=filesystem_broker_options(FOLDER, polling_interval=0.05),
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="stress.record")
def record(number: int) -> None:
    """Note that message `number` arrived."""
    descriptor = os.open(FOLDER / "received", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, f"{number}\n".encode())
    finally:
        os.close(descriptor)


def produce(first: int, count: int) -> None:
    """Send `count` messages numbered from `first` (run in a producer process)."""
    with app.producer_or_acquire() as producer:
        for number in range(first, first + count):
            record.apply_async(args=(number,), producer=producer)
