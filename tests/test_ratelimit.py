"""The eMAG rate limiters: sliding windows per (account, bucket), shared by threads and processes."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
from django.db import connections

from emag_sync.models import RateLimitBucket
from emag_sync.ratelimit import (
    DEFAULT,
    ORDERS,
    WINDOW_MARGIN,
    DatabaseRateLimiter,
    NullRateLimiter,
    RedisRateLimiter,
    bucket_for,
    get_rate_limiter,
    seconds_until_free,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Seven calls at 3 per (1 s + margin): grants at 0, 0, 0, 1.1, 1.1, 1.1, 2.2.
SEVEN_CALLS_SECONDS = 2 * (1 + WINDOW_MARGIN)


def most_in_any_second(times: list[float]) -> int:
    """Return the largest number of grant times inside any half-open 1 s window."""
    ordered = sorted(times)
    return max(
        sum(1 for other in ordered[index:] if other - start < 1.0)
        for index, start in enumerate(ordered)
    )


def acquire_from_threads(
    limiter, account: str, bucket: str, calls: int, threads: int = 3
) -> list[float]:
    """Acquire `calls` slots from several threads; return the monotonic grant times."""
    remaining = list(range(calls))
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not remaining:
                        return
                    remaining.pop()
                limiter.acquire(account, bucket)
                with lock:
                    granted.append(time.monotonic())
        finally:
            # Each thread has its own database connection; the test must not leak it.
            connections.close_all()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=30)
    assert len(granted) == calls
    return granted


# --- the sliding-window rule -------------------------------------------------------------------


def test_bucket_for_sends_order_routes_to_the_orders_bucket():
    assert bucket_for("order") == ORDERS
    assert bucket_for("order/attachments") == ORDERS
    assert bucket_for("product_offer") == DEFAULT
    assert bucket_for("vat") == DEFAULT
    assert bucket_for("orders_report") == DEFAULT


def test_a_fourth_call_in_the_same_second_waits_for_the_first_to_age_out():
    assert seconds_until_free([], 100.0, DEFAULT) == 0
    assert seconds_until_free([100.0, 100.0], 100.0, DEFAULT) == 0
    assert seconds_until_free([100.0, 100.5, 100.9], 101.0, DEFAULT) == pytest.approx(
        100.0 + 1.0 + WINDOW_MARGIN - 101.0
    )
    assert seconds_until_free([98.0, 99.0, 99.5], 101.0, DEFAULT) == 0


def test_the_minute_window_holds_even_when_every_second_has_room():
    # 180 grants 0.32 s apart: at most 2 in the last second, but the minute is full.
    grants = [1000.0 + i * 0.32 for i in range(180)]
    now = grants[-1] + 0.5
    assert seconds_until_free(grants, now, DEFAULT) == pytest.approx(
        grants[0] + 60 + WINDOW_MARGIN - now
    )
    assert seconds_until_free(grants[:179], now, DEFAULT) == 0


def test_the_orders_bucket_allows_twelve_calls_a_second():
    assert seconds_until_free([5.0] * 11, 5.0, ORDERS) == 0
    assert seconds_until_free([5.0] * 12, 5.0, ORDERS) == pytest.approx(1 + WINDOW_MARGIN)


def test_an_unknown_bucket_is_an_error():
    with pytest.raises(ValueError, match="unknown rate-limit bucket"):
        NullRateLimiter().acquire("main", "offers")


def test_the_null_limiter_never_waits():
    limiter = NullRateLimiter()
    assert all(limiter.acquire("main", DEFAULT) == 0 for _ in range(50))


def test_get_rate_limiter_follows_the_settings(settings):
    settings.EMAG_RATE_LIMIT = False
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert isinstance(get_rate_limiter(), NullRateLimiter)
    settings.EMAG_RATE_LIMIT = True
    assert isinstance(get_rate_limiter(), RedisRateLimiter)
    settings.REDIS_URL = None
    assert isinstance(get_rate_limiter(), DatabaseRateLimiter)


# --- Redis ------------------------------------------------------------------------------------


@pytest.mark.services
def test_redis_limiter_never_grants_more_than_three_in_any_second_across_threads(redis_url):
    limiter = RedisRateLimiter(redis_url)
    started = time.monotonic()
    grants = acquire_from_threads(limiter, "main", DEFAULT, calls=7)
    elapsed = max(grants) - started
    assert most_in_any_second(grants) <= 3
    # Paced, but not wastefully: the seventh call goes as soon as the margin allows.
    assert SEVEN_CALLS_SECONDS - 0.05 <= elapsed < SEVEN_CALLS_SECONDS + 0.4


@pytest.mark.services
def test_redis_limiter_keeps_each_accounts_budget_separate(redis_url):
    limiter = RedisRateLimiter(redis_url)
    started = time.monotonic()
    for account in ("main", "fbe"):
        for _ in range(3):
            limiter.acquire(account, DEFAULT)
    assert time.monotonic() - started < 0.3


@pytest.mark.services
def test_redis_limiter_allows_twelve_order_calls_a_second_then_waits(redis_url):
    limiter = RedisRateLimiter(redis_url)
    started = time.monotonic()
    for _ in range(12):
        limiter.acquire("main", ORDERS)
    assert time.monotonic() - started < 0.3
    # The default bucket is separate from the orders bucket.
    assert limiter.acquire("main", DEFAULT) < 0.1
    waited = limiter.acquire("main", ORDERS)
    assert 1 + WINDOW_MARGIN - 0.35 < waited < 1 + WINDOW_MARGIN + 0.2


@pytest.mark.services
def test_redis_limiter_enforces_180_calls_a_minute(redis_url):
    server = redis_lib.Redis.from_url(redis_url)
    seconds, micros = server.time()
    now_ms = seconds * 1000 + micros // 1000
    key = RedisRateLimiter.key("main", DEFAULT)
    # 180 grants 59.9 s ago: every second has room, the minute does not for ~0.14 s more.
    server.zadd(key, {f"earlier-{i}": now_ms - 59_900 for i in range(180)})
    waited = RedisRateLimiter(redis_url).acquire("main", DEFAULT)
    assert 0.06 < waited < 0.4
    server.close()


_PROCESS_SCRIPT = """
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magflow.settings")
import django
django.setup()
from emag_sync.ratelimit import RedisRateLimiter
url, start_at, calls = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
limiter = RedisRateLimiter(url)
time.sleep(max(0.0, start_at - time.time()))
for _ in range(calls):
    limiter.acquire("main", "default")
    print(repr(time.time()), flush=True)
"""


@pytest.mark.services
@pytest.mark.slow
def test_two_processes_sharing_a_redis_key_never_exceed_three_a_second(redis_url):
    # Both processes start together once Django has loaded in each.
    start_at = time.time() + 2.5
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, redis_url, repr(start_at), "4"],
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    grants: list[float] = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        grants += [float(line) for line in stdout.split()]
    assert len(grants) == 8
    assert most_in_any_second(grants) <= 3
    assert max(grants) - start_at < SEVEN_CALLS_SECONDS + 0.6


# --- database ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_limiter_never_grants_more_than_three_in_any_second_across_threads():
    limiter = DatabaseRateLimiter()
    started = time.monotonic()
    grants = acquire_from_threads(limiter, "main", DEFAULT, calls=7)
    elapsed = max(grants) - started
    assert most_in_any_second(grants) <= 3
    assert SEVEN_CALLS_SECONDS - 0.05 <= elapsed < SEVEN_CALLS_SECONDS + 0.5
    assert RateLimitBucket.objects.get(key="main:default").recent


@pytest.mark.django_db(transaction=True)
def test_database_limiter_keeps_each_accounts_budget_separate():
    limiter = DatabaseRateLimiter()
    started = time.monotonic()
    for account in ("main", "fbe"):
        for _ in range(3):
            limiter.acquire(account, DEFAULT)
    assert time.monotonic() - started < 0.5
    assert RateLimitBucket.objects.filter(key__in=["main:default", "fbe:default"]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_database_limiter_enforces_180_calls_a_minute_and_forgets_old_grants():
    now = time.time()
    RateLimitBucket.objects.create(
        key=DatabaseRateLimiter.key("main", DEFAULT),
        recent=[now - 120.0] * 5 + [now - 59.9] * 180,
    )
    waited = DatabaseRateLimiter().acquire("main", DEFAULT)
    assert 0.06 < waited < 0.5
    recent = RateLimitBucket.objects.get(key="main:default").recent
    # Grants older than the longest window are pruned on the next grant.
    assert all(stamp > now - 61 for stamp in recent)
