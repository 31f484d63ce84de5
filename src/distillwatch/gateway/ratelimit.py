"""Token buckets keyed by account, campaign and prompt family.

A campaign spreads its traffic over hundreds of accounts precisely so that
per-account limits never bite; a bucket per campaign and per prompt family
limits the operator, not the individual account.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from distillwatch.gateway.config import BucketConfig, RateLimitConfig

__all__ = ["BucketSet", "Throttle"]


class BucketSet:
    """Many token buckets of one shape, created on first use, least recently used evicted."""

    def __init__(self, shape: BucketConfig, *, max_keys: int = 100_000):
        self.rate = shape.rate
        self.burst = shape.burst
        self.max_keys = max_keys
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, stamp)

    def _level(self, key: str, now: float) -> float:
        state = self._state.get(key)
        if state is None:
            return self.burst
        tokens, stamp = state
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def wait_time(self, key: str, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        level = self._level(key, now)
        return 0.0 if level >= 1.0 else (1.0 - level) / self.rate

    def take(self, key: str, now: float) -> None:
        """Remove one token; call only after ``wait_time`` said one is there."""
        self._state[key] = (self._level(key, now) - 1.0, now)
        self._state.move_to_end(key)
        if len(self._state) > self.max_keys:
            self._state.popitem(last=False)

    def __len__(self) -> int:
        return len(self._state)


class Throttle:
    """All-or-nothing admission against the account, campaign and family buckets."""

    def __init__(self, config: RateLimitConfig, *, clock: Callable[[], float] = time.monotonic):
        self.account = BucketSet(config.account, max_keys=config.max_keys)
        self.campaign = BucketSet(config.campaign, max_keys=config.max_keys)
        self.family = BucketSet(config.family, max_keys=config.max_keys)
        self._clock = clock

    def admit(
        self, account_id: str, campaign_id: str | None, family_id: str | None
    ) -> tuple[bool, float, str | None]:
        """``(admitted, retry_after_seconds, limiting_bucket)``; tokens are taken only on admission."""
        now = self._clock()
        checks: Sequence[tuple[str, BucketSet, str | None]] = (
            ("account", self.account, account_id),
            ("campaign", self.campaign, campaign_id),
            ("family", self.family, family_id),
        )
        worst_wait, worst_name = 0.0, None
        for name, buckets, key in checks:
            if key is None:
                continue
            wait = buckets.wait_time(key, now)
            if wait > worst_wait:
                worst_wait, worst_name = wait, name
        if worst_name is not None:
            return False, max(1.0, math.ceil(worst_wait)), worst_name
        for _, buckets, key in checks:
            if key is not None:
                buckets.take(key, now)
        return True, 0.0, None
