"""One engine, two threads: the event loop asks ``assess``, the recorder thread calls ``observe``.

The engine is not thread-safe, so a lock serialises the two. A plain lock is
not enough: it is not fair, and the recorder, observing a batch back to back,
could re-take it before the waiting event loop wakes up, holding every request
for the whole batch. The gate lets the loop go first: the recorder waits while
an ``assess`` is pending, so a request waits for at most one ``observe``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["EngineGate"]

_YIELD_S = 0.00005


class EngineGate:
    """Serialised access to an engine, with the event loop (``assess``) given priority."""

    def __init__(self, engine: Any):
        self.engine = engine
        self._lock = threading.Lock()
        self._assess_pending = 0  # written by the loop thread only

    def assess(self, exchange: Any) -> Any:
        self._assess_pending += 1
        try:
            with self._lock:
                return self.engine.assess(exchange)
        finally:
            self._assess_pending -= 1

    def observe(self, exchange: Any) -> Any:
        for _ in range(2000):  # yields to pending assessments; bounded so observe cannot starve
            if not self._assess_pending:
                break
            time.sleep(_YIELD_S)
        with self._lock:
            return self.engine.observe(exchange)

    def call(self, method: str) -> Any:
        """Any other engine method (admin views), under the same lock; run it off the loop."""
        with self._lock:
            return getattr(self.engine, method)()
