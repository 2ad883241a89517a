"""The embedded broker: kombu's filesystem transport, with atomic writes, and broker look-ups.

kombu's filesystem transport writes a message file in place under its final name, so a
consumer listing the folder can take the file before its bytes are written and die on an
empty payload (celery/kombu#1551: `JSONDecodeError: Expecting value`). Here a message is
written under a temporary name outside the queue folder, flushed, and renamed into it: a
rename within one file system is atomic, so a consumer sees a whole file or none. Taking a
message is a rename too (into `processing/`, beside the queue folder), so of two consumers
exactly one wins it; a file that still cannot be decoded is moved to `broken/` and logged,
never fatal to the worker.

Like every kombu virtual transport it has no acknowledgements: a message taken by a worker
that then dies is gone. The run it carried stays `queued` until `broker_holds_task` says the
message is nowhere (see emag_sync.services.sync_runs), and every sync resumes from its
checkpoint, so a lost message costs a retry, never data.

Registered under kombu's `filesystem` alias (magflow.celery), so `filesystem://` means this.
"""

import json
import logging
import os
import re
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

# A task id goes into the message's file name (so the broker can be asked about a task by
# listing a folder) only when it cannot be mistaken for the name's dots and separators.
SAFE_TASK_ID = re.compile(r"\A[A-Za-z0-9-]{1,100}\Z")
PROCESSING_STALE_SECONDS = 60
REDIS_PRIORITY_SEP = "\x06\x16"


class AtomicFilesystemChannel(filesystem.Channel):
    """kombu's filesystem channel whose messages appear whole and are taken by exactly one."""

    def _sibling(self, name: str) -> Path:
        folder = Path(self.data_folder_in).parent / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _put(self, queue, payload, **kwargs):
        """Write the message under a temporary name, then rename it into the queue folder."""
        task_id = str((payload.get("headers") or {}).get("id") or "")
        tag = f"_{task_id}" if SAFE_TASK_ID.match(task_id) else ""
        # Sorted by name = by time sent; the uuid keeps names unique, the task id findable.
        name = f"{int(round(monotonic() * 1000)):015d}_{uuid.uuid4().hex}{tag}.{queue}.msg"
        staging = self._sibling("staging")
        try:
            descriptor, temporary = tempfile.mkstemp(dir=staging, suffix=".tmp")
            with os.fdopen(descriptor, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the queue folder") from exc

    def _get(self, queue):
        """Take the oldest message of `queue`; set aside any file that cannot be decoded.

        One listing of the folder serves the following takes until it runs out, so a long
        queue costs one listing per batch rather than one per message.
        """
        processing = self._sibling("processing")
        pending = self._pending_names(queue)
        for relisted in (False, True):
            if relisted or not pending:
                pending.clear()
                pending.extend(self._queue_names(queue))
            while pending:
                filename = pending.popleft()
                taken = processing / filename
                try:
                    os.rename(os.path.join(self.data_folder_in, filename), taken)
                except OSError:
                    continue  # another consumer took it first
                try:
                    message = loads(bytes_to_str(taken.read_bytes()))
                except (OSError, ValueError) as error:
                    broken = self._sibling("broken") / filename
                    os.replace(taken, broken)
                    logger.error(
                        "Set aside broker message %s that cannot be read: %s", broken, error
                    )
                    continue
                taken.unlink(missing_ok=True)
                return message
        raise Empty()

    def _pending_names(self, queue) -> deque:
        if not hasattr(self, "_pending"):
            self._pending: dict[str, deque] = {}
        return self._pending.setdefault(queue, deque())

    def _queue_names(self, queue) -> list[str]:
        wanted = f"{queue}.msg"
        return sorted(
            name for name in os.listdir(self.data_folder_in) if name.partition(".")[2] == wanted
        )


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicFilesystemChannel


def broker_holds_task(*, task_id: str) -> bool:
    """Return whether the broker still holds a message of `task_id`, waiting or taken.

    Redis: the queues' lists and the `unacked` hash (messages a worker took and has not
    acknowledged). The embedded broker: the queue and processing folders (a message being
    decoded), and the messages this process holds reserved when it is a Celery worker
    (the only place a taken message lives on a transport without acknowledgements).
    Each place is looked at twice, so a message moving from one to the next is seen.
    """
    from celery.worker import state as worker_state

    from magflow.celery import app

    url = app.conf.broker_url or ""
    if url.startswith(("redis://", "rediss://")):
        look = _redis_look(url, task_id)
    elif url.startswith("filesystem://"):
        look = _filesystem_look(app.conf.broker_transport_options or {}, task_id)
    else:
        return True  # a broker this cannot ask: assume it holds the message

    def reserved_here() -> bool:
        return any(request.id == task_id for request in list(worker_state.reserved_requests))

    return look() or reserved_here() or look() or reserved_here()


def _filesystem_look(options: dict, task_id: str):
    queue_folder = Path(options.get("data_folder_in", ""))
    processing = queue_folder.parent / "processing"
    marker = f"_{task_id}."

    def look() -> bool:
        if any(marker in name for name in _names(queue_folder)):
            return True
        # A file stays in processing/ for the milliseconds of its decoding; one older than
        # that was left by a consumer that died holding it, and will never be delivered.
        for name in _names(processing):
            if marker in name:
                try:
                    # ctime: when it was renamed in (a rename keeps the time it was written).
                    age = time.time() - (processing / name).stat().st_ctime
                except FileNotFoundError:
                    return True  # decoded meanwhile: it was being delivered
                if age < PROCESSING_STALE_SECONDS:
                    return True
        return False

    return look


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _redis_look(url: str, task_id: str):
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    needle = json.dumps(task_id).encode()
    queues = sorted(
        {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
        | {settings.CELERY_TASK_DEFAULT_QUEUE}
    )
    # kombu keeps a list per queue and priority step: the queue's name, then name + sep + step.
    keys = list(queues) + [
        f"{queue}{REDIS_PRIORITY_SEP}{step}" for queue in queues for step in (3, 6, 9)
    ]

    def look() -> bool:
        for key in keys:
            if any(needle in message for message in client.lrange(key, 0, -1)):
                return True
        return any(needle in message for message in client.hvals("unacked"))

    return look
