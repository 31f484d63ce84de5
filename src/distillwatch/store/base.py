"""The storage contract shared by ``scan`` (verdict history) and the gateway.

The engine keeps its working state in memory; a store is where that state and
the results survive a restart: raw exchanges the gateway saw, one compact
signal row per exchange, every scan's verdicts and campaigns, and opaque
engine snapshots for resuming. Keeping this a :class:`typing.Protocol` lets a
different backend (e.g. a server database) replace the embedded DuckDB file
without touching callers.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Store", "SCHEMA_VERSION"]

#: Bumped whenever a table changes shape; stored in the ``meta`` table.
SCHEMA_VERSION = 1


@runtime_checkable
class Store(Protocol):
    """Persistent results of distillwatch.

    A store is used by one thread at a time: the gateway hands it to a single
    writer thread; nothing here is meant to be called concurrently.
    """

    def append_exchanges(self, rows: list[dict]) -> None:
        """Append raw exchange-log v1 dicts (kept as JSON text with id, ts, account_id)."""
        ...

    def append_signals(self, rows: list[dict]) -> None:
        """Append per-exchange summaries: id, ts, account_id, model, family_id, risk, signals."""
        ...

    def save_verdicts(
        self, scan_id: str, ts: float, accounts: list[dict], campaigns: list[dict]
    ) -> None:
        """Record one scan's account and campaign records (scan-output v1 shape)."""
        ...

    def save_state(self, key: str, blob: bytes) -> None:
        """Insert or replace an engine snapshot under ``key``."""
        ...

    def load_state(self, key: str) -> bytes | None:
        """The snapshot saved under ``key``, or None."""
        ...

    def verdict_history(self, account_id: str) -> list[dict]:
        """That account's verdict rows over all scans, oldest first."""
        ...

    def latest_verdicts(self) -> list[dict]:
        """Account records of the most recent scan (empty when there was none)."""
        ...

    def scan_ids(self) -> list[str]:
        """Every saved scan id, oldest first."""
        ...

    def close(self) -> None:
        """Flush and release the backend; calling it twice is harmless."""
        ...
