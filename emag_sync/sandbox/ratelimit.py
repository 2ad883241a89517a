"""Sliding-window rate limits per account, as eMAG's gateway enforces them.

docs/emag-api.md §2.1: at most 3 requests in any second and 180 in any minute for all non-order
resources together, and 12 per second / 720 per minute for `order/*`. A window slides with
each arrival (no fixed buckets), so bursts straddling a second boundary are caught too.
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

ORDERS_GROUP = "orders"
OTHER_GROUP = "other"


@dataclass(frozen=True)
class Limits:
    per_second: int
    per_minute: int


DEFAULT_LIMITS = {
    ORDERS_GROUP: Limits(per_second=12, per_minute=720),
    OTHER_GROUP: Limits(per_second=3, per_minute=180),
}


@dataclass(frozen=True)
class Admission:
    allowed: bool
    limit: int
    remaining: int


class SlidingWindowLimiter:
    """Admit an arrival only if the last second and the last minute still have room.

    Only admitted arrivals are remembered: a client that is refused does not push its own
    window further out. Callers serialize access (the sandbox holds its lock).
    """

    def __init__(self, limits: Limits, monotonic: Callable[[], float]) -> None:
        self.limits = limits
        self._monotonic = monotonic
        self._arrivals: deque[float] = deque()

    def admit(self) -> Admission:
        """Record one arrival if allowed, and say how much of this second is left."""
        now = self._monotonic()
        while self._arrivals and self._arrivals[0] <= now - 60.0:
            self._arrivals.popleft()
        in_last_second = self._count_since(now - 1.0)
        allowed = (
            in_last_second < self.limits.per_second and len(self._arrivals) < self.limits.per_minute
        )
        if allowed:
            self._arrivals.append(now)
            in_last_second += 1
        remaining = max(self.limits.per_second - in_last_second, 0)
        return Admission(allowed=allowed, limit=self.limits.per_second, remaining=remaining)

    def _count_since(self, moment: float) -> int:
        # Newest arrivals sit at the right; at most `per_second` of them are inside a second.
        count = 0
        for arrival in reversed(self._arrivals):
            if arrival <= moment:
                break
            count += 1
        return count
