"""Per-account eMAG rate limits, shared by every process that calls eMAG.

eMAG allows 12 requests a second (720 a minute) on order routes and 3 a second (180 a minute)
on everything else, cumulative across resources, per account (docs/emag-api.md §2.1).
It counts arrivals in any sliding window, so the limiters here keep a sliding log of grant
times per (account, bucket) key, in Redis when it is configured and in the database otherwise.
State is never process-local: the web server and every Celery worker share one budget.
"""

import time
import uuid
from collections.abc import Callable, Sequence
from functools import cache
from typing import Protocol

import redis as redis_lib
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from emag_sync.models import RateLimitBucket

ORDERS = "orders"
DEFAULT = "default"

# (max requests, window in seconds) pairs; a grant must fit every window of its bucket.
BUCKET_LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    ORDERS: ((12, 1.0), (720, 60.0)),
    DEFAULT: ((3, 1.0), (180, 60.0)),
}

# eMAG counts arrivals at its gateway in any sliding 1,000 ms. Two requests granted exactly
# 1,000 ms apart can arrive less than 1,000 ms apart when the first one left later (a busy
# CPU, a slow network path), and that earns a 429. 40 ms was enough on an idle machine but
# let three 429s through with both cores saturated; 100 ms absorbs that jitter for 10% of
# the budget (N requests take about (N/3 - 1) * 1.1 s).
WINDOW_MARGIN = 0.100

_REDIS_KEY_PREFIX = "magflow:ratelimit"


class RateLimiter(Protocol):
    def acquire(self, account: str, bucket: str) -> float:
        """Block until the (account, bucket) budget grants one request; return seconds waited."""
        ...


def bucket_for(resource: str) -> str:
    """Return the bucket a resource's calls count against (`order/...` or everything else)."""
    # "order", "order/attachments" and acknowledge ("order" + "acknowledge/{id}") share the
    # orders budget; eMAG's other resources share one cumulative budget.
    return ORDERS if resource.strip("/").split("/", 1)[0] == "order" else DEFAULT


def _limits(bucket: str) -> tuple[tuple[int, float], ...]:
    try:
        return BUCKET_LIMITS[bucket]
    except KeyError:
        raise ValueError(
            f"unknown rate-limit bucket {bucket!r}; use {ORDERS!r} or {DEFAULT!r}"
        ) from None


def _longest_window(limits: Sequence[tuple[int, float]]) -> float:
    return max(window for _, window in limits) + WINDOW_MARGIN


def seconds_until_free(grants: Sequence[float], now: float, bucket: str) -> float:
    """Return how long a new request must wait given earlier grant times (0 = grant now).

    `grants` are epoch seconds in ascending order. A grant counts against a window while it
    is younger than the window plus WINDOW_MARGIN.
    """
    wait = 0.0
    for limit, window in _limits(bucket):
        span = window + WINDOW_MARGIN
        in_window = [granted for granted in grants if granted > now - span]
        if len(in_window) >= limit:
            # The request may go once enough old grants have aged out to leave limit - 1.
            wait = max(wait, in_window[len(in_window) - limit] + span - now)
    return wait


class NullRateLimiter:
    """Grant every request at once: for EMAG_RATE_LIMIT=0 and unthrottled benchmarks."""

    def acquire(self, account: str, bucket: str) -> float:
        """Grant immediately."""
        _limits(bucket)
        return 0.0


# The sliding log as one atomic script, so concurrent callers in any process see each
# other's grants. Scores are Redis server milliseconds (TIME), so callers' clocks never
# matter. Milliseconds keep scores exact in Lua 5.1's number formatting (14 digits).
# KEYS[1] the bucket's sorted set; ARGV[1] a unique member for this grant; ARGV[2] the
# margin (ms); ARGV[3..] pairs of limit and window (ms). Returns 0 when granted, otherwise
# the milliseconds to wait before asking again.
_SLIDING_LOG_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local margin = tonumber(ARGV[2])
local longest = 0
local wait = 0
for i = 3, #ARGV, 2 do
  local limit = tonumber(ARGV[i])
  local span = tonumber(ARGV[i + 1]) + margin
  if span > longest then longest = span end
  local since = now - span
  local count = redis.call('ZCOUNT', KEYS[1], '(' .. since, '+inf')
  if count >= limit then
    local oldest = redis.call(
      'ZRANGEBYSCORE', KEYS[1], '(' .. since, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
    local free_in = tonumber(oldest[2]) + span - now
    if free_in > wait then wait = free_in end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
if wait > 0 then
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], longest + 1000)
return 0
"""


class RateLimiterUnavailable(Exception):
    """The shared limiter's store stayed unreachable: no request may go out unpaced."""


# How long a Redis outage (a restart, a failover) is waited out before the sync stops.
REDIS_OUTAGE_TOLERANCE = 30.0


class RedisRateLimiter:
    """A sliding-log limiter in Redis, shared by every process and machine using the server."""

    def __init__(self, url: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._redis = redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._redis.register_script(_SLIDING_LOG_LUA)
        self._sleep = sleep

    @staticmethod
    def key(account: str, bucket: str) -> str:
        """Return the Redis key holding one (account, bucket) log."""
        return f"{_REDIS_KEY_PREFIX}:{account}:{bucket}"

    def acquire(self, account: str, bucket: str) -> float:
        """Block until Redis grants a slot; return seconds waited."""
        limits = _limits(bucket)
        args: list[int | str] = [uuid.uuid4().hex, round(WINDOW_MARGIN * 1000)]
        for limit, window in limits:
            args += [limit, round(window * 1000)]
        key = self.key(account, bucket)
        started = time.monotonic()
        outage_started: float | None = None
        while True:
            try:
                wait_ms = int(self._script(keys=[key], args=args))
            except (redis_lib.ConnectionError, redis_lib.TimeoutError) as error:
                # Never send unpaced: wait for Redis to come back, then give up loudly.
                outage_started = outage_started or time.monotonic()
                if time.monotonic() - outage_started > REDIS_OUTAGE_TOLERANCE:
                    raise RateLimiterUnavailable(
                        f"Redis rate limiter unreachable: {error}"
                    ) from error
                self._sleep(0.5)
                continue
            outage_started = None
            if wait_ms <= 0:
                return time.monotonic() - started
            self._sleep(wait_ms / 1000)

    def close(self) -> None:
        """Release the connection pool."""
        self._redis.close()


class DatabaseRateLimiter:
    """A sliding-log limiter in `RateLimitBucket` rows, for installations without Redis.

    Each attempt runs in its own short transaction holding the bucket's row lock
    (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's IMMEDIATE transactions take the write
    lock at BEGIN), and sleeps outside it. Called inside an outer `atomic()` block the lock
    would be held until that block ends, so callers should not do that.
    """

    def __init__(
        self, *, using: str = DEFAULT_DB_ALIAS, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._using = using
        self._sleep = sleep
        self._known_keys: set[str] = set()

    @staticmethod
    def key(account: str, bucket: str) -> str:
        """Return the `RateLimitBucket.key` of one (account, bucket)."""
        return f"{account}:{bucket}"

    def acquire(self, account: str, bucket: str) -> float:
        """Block until the database grants a slot; return seconds waited."""
        _limits(bucket)
        key = self.key(account, bucket)
        if key not in self._known_keys:
            # get_or_create survives two processes creating the same row at once.
            RateLimitBucket.objects.using(self._using).get_or_create(key=key)
            self._known_keys.add(key)
        started = time.monotonic()
        while True:
            wait = self._try_grant(key, bucket)
            if wait <= 0:
                return time.monotonic() - started
            self._sleep(wait)

    def _try_grant(self, key: str, bucket: str) -> float:
        with transaction.atomic(using=self._using):
            row = RateLimitBucket.objects.using(self._using).select_for_update().get(key=key)
            # Read the clock only once the lock is held: time spent queueing for the lock
            # must not make this grant look older than it is.
            now = self._now()
            horizon = now - _longest_window(_limits(bucket))
            grants = sorted(float(t) for t in row.recent if float(t) > horizon)
            wait = seconds_until_free(grants, now, bucket)
            if wait <= 0:
                grants.append(round(now, 6))
                row.recent = grants
                row.save(update_fields=["recent"])
            return wait

    def _now(self) -> float:
        connection = connections[self._using]
        if connection.vendor == "postgresql":
            # The server's clock, so workers on machines with skewed clocks agree.
            with connection.cursor() as cursor:
                cursor.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())")
                return float(cursor.fetchone()[0])
        # SQLite lives on one machine, so every process shares this clock.
        return time.time()


@cache
def _redis_rate_limiter(url: str) -> RedisRateLimiter:
    # One connection pool per process and URL; the limiter's state stays in Redis.
    return RedisRateLimiter(url)


def get_rate_limiter() -> RateLimiter:
    """Return the limiter the settings ask for: none, Redis when configured, else the database."""
    if not settings.EMAG_RATE_LIMIT:
        return NullRateLimiter()
    if settings.REDIS_URL:
        return _redis_rate_limiter(settings.REDIS_URL)
    return DatabaseRateLimiter()
