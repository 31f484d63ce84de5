"""Persistent results: raw exchanges, per-exchange signals, verdict history, engine state.

``open_store(path)`` is the one entry point callers need; it returns the
embedded DuckDB backend, which needs no server and keeps everything in a
single file next to the scan output (or in memory when no path is given).
"""

from __future__ import annotations

from pathlib import Path

from distillwatch.store.base import SCHEMA_VERSION, Store
from distillwatch.store.duckdb_store import DuckDBStore, SchemaVersionError

__all__ = ["Store", "DuckDBStore", "SchemaVersionError", "SCHEMA_VERSION", "open_store"]


def open_store(path: str | Path | None, *, threads: int = 1) -> DuckDBStore:
    """Open (creating if missing) the store at ``path``; ``None`` keeps it in memory.

    The returned store is used by one thread at a time; see :class:`DuckDBStore`.
    ``threads`` is DuckDB's worker count; raise it for heavy analytical reads.
    """
    return DuckDBStore(path, threads=threads)
