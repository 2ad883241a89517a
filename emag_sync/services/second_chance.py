"""Read again, before a run ends, the pages that still failed after their retries.

A page whose read failed (after the client's bounded retries) does not end the pass: the
run carries on with the other pages and, after a pause, tries each failed page once more,
still through the shared rate limiter. Only pages that fail that second chance too leave
the run `partial`. When pages fail one after another with no success between them, eMAG
looks down: the pass stops reading ahead instead of spending a full retry budget on every
remaining page, so a run against a dead eMAG ends in minutes.
"""

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import TypeVar

from django.conf import settings
from django.db.models import F

from emag_sync.client import is_permanent
from emag_sync.models import SyncRun

T = TypeVar("T")


def failures_before_giving_up(concurrency: int) -> int:
    """Return how many pages failing in a row, none read between them, mean eMAG is down.

    A whole wave of pages in flight failing together is what an outage looks like; random
    faults that outlast every retry of one page almost never hit several pages in a row.
    """
    return max(2, concurrency)


def second_chance(
    pool: Executor,
    fetch: Callable[[int], T],
    failed: dict[int, BaseException],
    *,
    run: SyncRun,
    concurrency: int,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[int, T], dict[int, BaseException]]:
    """Fetch each failed page once more after EMAG_SECOND_CHANCE_PAUSE; return (read, failed).

    Pages are fetched `concurrency` at a time in page order; after enough failures in a
    row the rest are not tried and keep their first error. A permanent error (refused
    credentials, an invalid request) is raised at once. The run counts every page given a
    second chance.
    """
    if not failed:
        return {}, {}
    SyncRun.objects.filter(pk=run.pk).update(
        pages_second_chance=F("pages_second_chance") + len(failed)
    )
    sleep(settings.EMAG_SECOND_CHANCE_PAUSE)
    pages = sorted(failed)
    give_up_after = failures_before_giving_up(concurrency)
    read: dict[int, T] = {}
    still_failed: dict[int, BaseException] = {}
    in_a_row = 0
    for start in range(0, len(pages), concurrency):
        wave = pages[start : start + concurrency]
        if in_a_row >= give_up_after:
            still_failed.update((page, failed[page]) for page in wave)
            continue
        futures: list[tuple[int, Future]] = [(page, pool.submit(fetch, page)) for page in wave]
        for page, future in futures:
            try:
                read[page] = future.result()
                in_a_row = 0
            except Exception as error:
                if is_permanent(error):
                    for _, other in futures:
                        other.cancel()
                    raise
                still_failed[page] = error
                in_a_row += 1
    return read, still_failed
