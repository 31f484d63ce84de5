"""Embedded DuckDB implementation of :class:`~distillwatch.store.base.Store`.

DuckDB is columnar: row-by-row ``executemany`` costs a round trip per row and
is orders of magnitude slower than handing it a whole column batch. Every
append therefore builds one :class:`pyarrow.Table` from the rows and runs a
single ``INSERT ... SELECT`` over it, so the gateway's writer thread can flush
tens of thousands of rows per call without falling behind.

Threading: a DuckDB connection must not be used by two threads at once. The
store is meant to be owned by one thread at a time (the gateway's writer
thread); an internal lock serialises calls anyway so that a mistaken second
caller waits instead of corrupting the connection.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from distillwatch.store.base import SCHEMA_VERSION

__all__ = ["DuckDBStore", "SchemaVersionError"]

_JSON_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

# Appends name their columns explicitly, so a later schema version can add
# columns (with a migration keyed on meta.schema_version) without breaking them.
_TABLES: dict[str, str] = {
    "meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
    "exchanges": "id VARCHAR, ts DOUBLE, account_id VARCHAR, body VARCHAR",
    "exchange_signals": (
        "id VARCHAR, ts DOUBLE, account_id VARCHAR, model VARCHAR, family_id VARCHAR, "
        "risk DOUBLE, signals VARCHAR"
    ),
    "scans": "scan_id VARCHAR PRIMARY KEY, ts DOUBLE, seq BIGINT, accounts BIGINT, campaigns BIGINT",
    "verdicts": (
        "scan_id VARCHAR, ts DOUBLE, account_id VARCHAR, risk DOUBLE, verdict VARCHAR, "
        "first_flagged_ts VARCHAR, campaign_id VARCHAR, record VARCHAR"
    ),
    "campaigns": "scan_id VARCHAR, campaign_id VARCHAR, record VARCHAR",
    "state": "key VARCHAR PRIMARY KEY, blob BLOB, updated_at DOUBLE",
}

_SIGNAL_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("ts", pa.float64()),
        ("account_id", pa.string()),
        ("model", pa.string()),
        ("family_id", pa.string()),
        ("risk", pa.float64()),
        ("signals", pa.string()),
    ]
)


class SchemaVersionError(RuntimeError):
    """The file was written by a newer distillwatch whose schema this one cannot read."""


def _json_fallback(value: Any) -> Any:
    """Last resort for values JSON has no type for, so one odd field never loses a batch."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _to_json(value: Any) -> str:
    """JSON text for a column; text that already is JSON passes through unchanged."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return orjson.dumps(value, default=_json_fallback, option=_JSON_OPTS).decode("utf-8")


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _column(
    rows: Sequence[dict],
    key: str,
    arrow_type: pa.DataType,
    convert: Callable[[Any], Any] | None = None,
) -> pa.Array:
    """One Arrow column from ``row[key]``, converted by Arrow in C when the values allow.

    Values of an unexpected type (an int id, a numeric string risk, an RFC 3339
    ``ts``) take the slower per-value ``convert`` path instead of failing the
    batch; NaN becomes NULL.
    """
    values = [r.get(key) for r in rows]
    try:
        return pa.array(values, arrow_type, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        if convert is None:
            convert = _opt_str if pa.types.is_string(arrow_type) else _opt_float
        return pa.array([convert(v) for v in values], arrow_type)


def _epoch_seconds(value: Any) -> float | None:
    """Epoch seconds of an exchange-log ``ts`` (number or RFC 3339); None if unreadable.

    The gateway writes records it built itself, so an unreadable ``ts`` is kept
    as NULL rather than failing a whole batch.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _opt_float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return None


def _rfc3339(value: Any) -> str | None:
    """Scan output keeps times as RFC 3339 text; accept epoch seconds too."""
    if value is None or isinstance(value, str):
        return value
    seconds = _opt_float(value)
    if seconds is None:
        return None
    stamp = datetime.fromtimestamp(seconds, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _record_dict(record: Any) -> dict:
    """Accept scan-output dicts and also dataclass verdicts (converted the same way)."""
    if isinstance(record, dict):
        return record
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.asdict(record)
    raise TypeError(f"expected a dict record, got {type(record).__name__}")


class DuckDBStore:
    """Results, history and engine snapshots in one DuckDB file (or in memory).

    Opening an existing file keeps its data; missing tables are created and the
    schema version is checked so an old binary never misreads a newer file.
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1) -> None:
        self.path: Path | None = None if path in (None, ":memory:") else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # One DuckDB worker thread by default: the store's work is batched appends
        # and point lookups, where extra threads only add hand-off cost (appends ran
        # about 2x faster single-threaded in benchmarks/bench_store_report.py), and
        # it leaves the other cores to the engine and the gateway.
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(
            str(self.path) if self.path is not None else ":memory:",
            config={"threads": max(1, int(threads))},
        )
        self._lock = threading.RLock()
        self._batch_no = 0
        self._ensure_schema()

    # ------------------------------------------------------------------ setup
    def _ensure_schema(self) -> None:
        con = self._conn()
        for name, columns in _TABLES.items():
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('created_at', ?)",
                [str(SCHEMA_VERSION), repr(time.time())],
            )
            return
        found = int(row[0])
        if found > SCHEMA_VERSION:
            self.close()
            raise SchemaVersionError(
                f"store {self.path} has schema version {found}; this distillwatch reads "
                f"up to {SCHEMA_VERSION}"
            )

    def _conn(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("store is closed")
        return self._con

    @property
    def schema_version(self) -> int:
        with self._lock:
            row = self._conn().execute("SELECT value FROM meta WHERE key = 'schema_version'")
            return int(row.fetchone()[0])

    # ---------------------------------------------------------------- appends
    def _insert_arrow(self, table_name: str, batch: pa.Table) -> None:
        """One ``INSERT ... SELECT`` over a registered Arrow table: the fast path."""
        if batch.num_rows == 0:
            return
        with self._lock:
            con = self._conn()
            self._batch_no += 1
            view = f"_dw_batch_{self._batch_no}"
            con.register(view, batch)
            try:
                cols = ", ".join(batch.column_names)
                con.execute(f"INSERT INTO {table_name} ({cols}) SELECT {cols} FROM {view}")
            finally:
                con.unregister(view)

    def append_exchanges(self, rows: Sequence[dict]) -> None:
        """Raw exchange-log v1 dicts as the gateway wrote them, plus id/ts/account_id columns."""
        if not rows:
            return
        batch = pa.table(
            {
                "id": _column(rows, "id", pa.string()),
                "ts": _column(rows, "ts", pa.float64(), _epoch_seconds),
                "account_id": _column(rows, "account_id", pa.string()),
                "body": pa.array([_to_json(r) for r in rows], pa.string()),
            }
        )
        self._insert_arrow("exchanges", batch)

    def append_signals(self, rows: Sequence[dict] | pa.Table) -> None:
        """Per-exchange summaries; a ready Arrow table with the same columns is accepted too."""
        if isinstance(rows, pa.Table):
            batch = rows.select(_SIGNAL_SCHEMA.names).cast(_SIGNAL_SCHEMA)
        else:
            if not rows:
                return
            columns = [
                _column(
                    rows,
                    name,
                    _SIGNAL_SCHEMA.field(name).type,
                    _epoch_seconds if name == "ts" else None,
                )
                for name in _SIGNAL_SCHEMA.names[:-1]
            ]
            columns.append(pa.array([_to_json(r.get("signals") or []) for r in rows], pa.string()))
            batch = pa.Table.from_arrays(columns, schema=_SIGNAL_SCHEMA)
        self._insert_arrow("exchange_signals", batch)

    def save_verdicts(
        self, scan_id: str, ts: float, accounts: Sequence[dict], campaigns: Sequence[dict]
    ) -> None:
        """Store one scan's results; saving the same ``scan_id`` again replaces it."""
        accounts = [_record_dict(a) for a in accounts]
        campaigns = [_record_dict(c) for c in campaigns]
        n_acc, n_camp = len(accounts), len(campaigns)
        verdict_batch = pa.table(
            {
                "scan_id": pa.array([scan_id] * n_acc, pa.string()),
                "ts": pa.array([float(ts)] * n_acc, pa.float64()),
                "account_id": _column(accounts, "account_id", pa.string()),
                "risk": _column(accounts, "risk", pa.float64()),
                "verdict": _column(accounts, "verdict", pa.string()),
                "first_flagged_ts": pa.array(
                    [_rfc3339(a.get("first_flagged_ts")) for a in accounts], pa.string()
                ),
                "campaign_id": pa.array(
                    [_opt_str(a.get("campaign_id")) for a in accounts], pa.string()
                ),
                "record": pa.array([_to_json(a) for a in accounts], pa.string()),
            }
        )
        campaign_batch = pa.table(
            {
                "scan_id": pa.array([scan_id] * n_camp, pa.string()),
                "campaign_id": pa.array(
                    [_opt_str(c.get("campaign_id")) for c in campaigns], pa.string()
                ),
                "record": pa.array([_to_json(c) for c in campaigns], pa.string()),
            }
        )
        with self._lock:
            con = self._conn()
            con.execute("BEGIN TRANSACTION")
            try:
                for table_name in ("verdicts", "campaigns", "scans"):
                    con.execute(f"DELETE FROM {table_name} WHERE scan_id = ?", [scan_id])
                seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM scans").fetchone()[0]
                con.execute(
                    "INSERT INTO scans VALUES (?, ?, ?, ?, ?)",
                    [scan_id, float(ts), seq, n_acc, n_camp],
                )
                self._insert_arrow("verdicts", verdict_batch)
                self._insert_arrow("campaigns", campaign_batch)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def save_state(self, key: str, blob: bytes) -> None:
        """Upsert an opaque engine snapshot; the newest one under a key wins."""
        with self._lock:
            self._conn().execute(
                "INSERT INTO state VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
                "SET blob = excluded.blob, updated_at = excluded.updated_at",
                [key, bytes(blob), time.time()],
            )

    def load_state(self, key: str) -> bytes | None:
        with self._lock:
            row = self._conn().execute("SELECT blob FROM state WHERE key = ?", [key]).fetchone()
        return None if row is None else bytes(row[0])

    # ------------------------------------------------------------------ reads
    def scan_ids(self) -> list[str]:
        """Every scan, oldest first (by scan time, then by the order they were saved)."""
        with self._lock:
            rows = self._conn().execute("SELECT scan_id FROM scans ORDER BY ts, seq").fetchall()
        return [r[0] for r in rows]

    def _latest_scan_id(self) -> str | None:
        row = (
            self._conn()
            .execute("SELECT scan_id FROM scans ORDER BY ts DESC, seq DESC LIMIT 1")
            .fetchone()
        )
        return None if row is None else row[0]

    def latest_verdicts(self) -> list[dict]:
        """Account records of the most recent scan, riskiest first."""
        with self._lock:
            scan_id = self._latest_scan_id()
            if scan_id is None:
                return []
            rows = (
                self._conn()
                .execute(
                    "SELECT record FROM verdicts WHERE scan_id = ? "
                    "ORDER BY risk DESC NULLS LAST, account_id",
                    [scan_id],
                )
                .fetchall()
            )
        return [orjson.loads(r[0]) for r in rows]

    def latest_campaigns(self) -> list[dict]:
        """Campaign records of the most recent scan."""
        with self._lock:
            scan_id = self._latest_scan_id()
            if scan_id is None:
                return []
            rows = (
                self._conn()
                .execute(
                    "SELECT record FROM campaigns WHERE scan_id = ? ORDER BY campaign_id",
                    [scan_id],
                )
                .fetchall()
            )
        return [orjson.loads(r[0]) for r in rows]

    _HISTORY_KEYS = (
        "scan_id",
        "ts",
        "account_id",
        "risk",
        "verdict",
        "first_flagged_ts",
        "campaign_id",
    )

    def _history_rows(self, rows: list[tuple], with_record: bool) -> list[dict]:
        out = []
        for row in rows:
            item = dict(zip(self._HISTORY_KEYS, row[:7], strict=True))
            if with_record:
                item["record"] = orjson.loads(row[7])
            out.append(item)
        return out

    def verdict_history(self, account_id: str) -> list[dict]:
        """One row per scan that saw the account, oldest first; ``record`` is the full record."""
        with self._lock:
            rows = (
                self._conn()
                .execute(
                    "SELECT v.scan_id, v.ts, v.account_id, v.risk, v.verdict, v.first_flagged_ts, "
                    "v.campaign_id, v.record FROM verdicts v JOIN scans s USING (scan_id) "
                    "WHERE v.account_id = ? ORDER BY v.ts, s.seq",
                    [account_id],
                )
                .fetchall()
            )
        return self._history_rows(rows, with_record=True)

    def verdict_histories(
        self, account_ids: Sequence[str], *, with_record: bool = False
    ) -> dict[str, list[dict]]:
        """Histories of many accounts in one query (the report's "Change" column).

        One query instead of one per account: thousands of point lookups would
        cost seconds. Full records are left out unless asked for, to stay small.
        """
        wanted = pa.table({"account_id": pa.array(list(dict.fromkeys(account_ids)), pa.string())})
        out: dict[str, list[dict]] = {str(a): [] for a in wanted.column(0).to_pylist()}
        if not out:
            return out
        record_col = "v.record" if with_record else "NULL"
        with self._lock:
            con = self._conn()
            self._batch_no += 1
            view = f"_dw_ids_{self._batch_no}"
            con.register(view, wanted)
            try:
                rows = con.execute(
                    "SELECT v.scan_id, v.ts, v.account_id, v.risk, v.verdict, v.first_flagged_ts, "
                    f"v.campaign_id, {record_col} FROM verdicts v JOIN scans s USING (scan_id) "
                    f"JOIN {view} w ON w.account_id = v.account_id "
                    "ORDER BY v.account_id, v.ts, s.seq"
                ).fetchall()
            finally:
                con.unregister(view)
        for item in self._history_rows(rows, with_record):
            out[item["account_id"]].append(item)
        return out

    def signals_for_account(self, account_id: str, limit: int | None = None) -> list[dict]:
        """Per-exchange signal rows of one account, oldest first (for drill-down)."""
        sql = (
            "SELECT id, ts, account_id, model, family_id, risk, signals FROM exchange_signals "
            "WHERE account_id = ? ORDER BY ts, id"
        )
        params: list[Any] = [account_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock:
            rows = self._conn().execute(sql, params).fetchall()
        out = []
        for row in rows:
            item = dict(zip(_SIGNAL_SCHEMA.names, row, strict=True))
            item["signals"] = orjson.loads(item["signals"]) if item["signals"] else []
            out.append(item)
        return out

    def iter_exchanges(
        self, since_ts: float | None = None, batch_size: int = 10_000
    ) -> Iterator[dict]:
        """Raw stored exchanges in ``ts`` order, e.g. to rebuild engine state by replay.

        Fetches in batches so a large log never has to fit in memory at once.
        """
        sql = "SELECT body FROM exchanges"
        params: list[Any] = []
        if since_ts is not None:
            sql += " WHERE ts >= ?"
            params.append(float(since_ts))
        sql += " ORDER BY ts NULLS LAST, id"
        with self._lock:
            cursor = self._conn().cursor()
        try:
            cursor.execute(sql, params)
            while True:
                with self._lock:
                    chunk = cursor.fetchmany(batch_size)
                if not chunk:
                    return
                for (body,) in chunk:
                    yield orjson.loads(body)
        finally:
            cursor.close()

    def count(self, table_name: str) -> int:
        """Row count of one of the store's tables (for status pages and tests)."""
        if table_name not in _TABLES:
            raise ValueError(f"unknown table {table_name!r}")
        with self._lock:
            return int(self._conn().execute(f"SELECT count(*) FROM {table_name}").fetchone()[0])

    def export_signals_parquet(self, path: str | Path) -> Path:
        """Write every per-exchange signal row to Parquet (the optional ``exchanges.parquet``)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        escaped = str(target).replace("'", "''")
        with self._lock:
            self._conn().execute(
                f"COPY (SELECT * FROM exchange_signals ORDER BY ts, id) TO '{escaped}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
        return target

    # -------------------------------------------------------------- lifecycle
    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
