"""Behaviour of the DuckDB store: round trips, resume, history order, batch appends."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillwatch.store import (
    SCHEMA_VERSION,
    DuckDBStore,
    SchemaVersionError,
    Store,
    open_store,
)


def _signal_row(i: int, account: str = "acct_a") -> dict:
    return {
        "id": f"ex_{i:06d}",
        "ts": 1_770_000_000.0 + i,
        "account_id": account,
        "model": "model-x",
        "family_id": f"fam_{i % 7}",
        "risk": (i % 100) / 100,
        "signals": [{"signal": "cot_elicitation", "score": 0.5 + (i % 5) / 10}],
    }


def _account(account_id: str, risk: float, verdict: str, campaign: str | None = None) -> dict:
    return {
        "account_id": account_id,
        "exchanges": 10,
        "risk": risk,
        "verdict": verdict,
        "first_flagged_ts": "2026-02-03T10:15:30.123Z" if verdict != "benign" else None,
        "campaign_id": campaign,
        "capabilities": ["reasoning"],
        "evidence": [{"signal": "cot_elicitation", "score": risk, "detail": "asks for steps"}],
    }


@pytest.fixture
def store() -> DuckDBStore:
    st = open_store(None)
    yield st
    st.close()


def test_open_store_satisfies_protocol(store: DuckDBStore) -> None:
    assert isinstance(store, Store)
    assert store.schema_version == SCHEMA_VERSION


def test_signals_round_trip_in_ts_order(store: DuckDBStore) -> None:
    rows = [_signal_row(i) for i in (3, 1, 2)] + [_signal_row(9, account="acct_b")]
    store.append_signals(rows)
    got = store.signals_for_account("acct_a")
    assert [r["id"] for r in got] == ["ex_000001", "ex_000002", "ex_000003"]
    first = got[0]
    assert first["ts"] == pytest.approx(1_770_000_001.0)
    assert first["model"] == "model-x"
    assert first["family_id"] == "fam_1"
    assert first["risk"] == pytest.approx(0.01)
    assert first["signals"] == [{"signal": "cot_elicitation", "score": 0.6}]
    assert store.count("exchange_signals") == 4


def test_signals_missing_optional_fields_become_null(store: DuckDBStore) -> None:
    store.append_signals([{"id": "e1", "ts": 5, "account_id": "a"}])
    (row,) = store.signals_for_account("a")
    assert row["model"] is None and row["family_id"] is None and row["risk"] is None
    assert row["signals"] == []


def test_batch_of_10k_signal_rows(store: DuckDBStore) -> None:
    rows = [_signal_row(i, account=f"acct_{i % 50}") for i in range(10_000)]
    store.append_signals(rows)
    assert store.count("exchange_signals") == 10_000
    con = store._conn()
    total_risk, distinct_ids = con.execute(
        "SELECT sum(risk), count(DISTINCT id) FROM exchange_signals"
    ).fetchone()
    assert total_risk == pytest.approx(sum(r["risk"] for r in rows))
    assert distinct_ids == 10_000
    assert len(store.signals_for_account("acct_7")) == 200


def test_append_signals_accepts_arrow_table(store: DuckDBStore) -> None:
    table = pa.table(
        {
            "signals": ['[{"signal":"x","score":1.0}]'],
            "id": ["e1"],
            "ts": [10.0],
            "account_id": ["a"],
            "model": [None],
            "family_id": ["f"],
            "risk": [0.5],
            "extra": [1],
        }
    )
    store.append_signals(table)
    (row,) = store.signals_for_account("a")
    assert row["signals"] == [{"signal": "x", "score": 1.0}]
    assert row["family_id"] == "f"


def test_empty_appends_are_noops(store: DuckDBStore) -> None:
    store.append_signals([])
    store.append_exchanges([])
    assert store.count("exchange_signals") == 0
    assert store.count("exchanges") == 0


def test_exchanges_keep_body_and_parse_ts(store: DuckDBStore) -> None:
    raw = [
        {
            "id": "ex_2",
            "ts": "2026-02-03T10:15:31Z",
            "account_id": "acct_42",
            "api": "openai.chat.completions",
            "request": {"messages": [{"role": "user", "content": "<b>é</b>"}]},
        },
        {"id": "ex_1", "ts": 1770113730.5, "account_id": "acct_42", "api": "anthropic.messages"},
        {"id": "ex_3", "ts": "2026-02-03T11:15:30+01:00", "account_id": "acct_7", "api": "x"},
    ]
    store.append_exchanges(raw)
    con = store._conn()
    ts_by_id = dict(con.execute("SELECT id, ts FROM exchanges").fetchall())
    assert ts_by_id["ex_2"] == pytest.approx(1770113731.0)
    assert ts_by_id["ex_3"] == pytest.approx(1770113730.0)
    replay = list(store.iter_exchanges(batch_size=1))
    assert [r["id"] for r in replay] == ["ex_3", "ex_1", "ex_2"]
    assert replay[2] == raw[0]
    assert [r["id"] for r in store.iter_exchanges(since_ts=1770113731.0)] == ["ex_2"]


def test_unreadable_exchange_ts_is_kept_as_null(store: DuckDBStore) -> None:
    store.append_exchanges([{"id": "bad", "ts": "yesterday", "account_id": "a"}])
    assert store._conn().execute("SELECT ts FROM exchanges").fetchone()[0] is None
    assert [r["id"] for r in store.iter_exchanges()] == ["bad"]


def test_state_upsert_and_missing_key(store: DuckDBStore) -> None:
    assert store.load_state("engine") is None
    store.save_state("engine", b"\x00first")
    store.save_state("engine", b"\x00second\xff")
    store.save_state("other", b"x")
    assert store.load_state("engine") == b"\x00second\xff"
    assert store.load_state("other") == b"x"
    assert store.count("state") == 2


def test_resume_from_file_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dw.duckdb"
    with open_store(path) as first:
        first.save_state("engine", b"snapshot-1")
        first.append_signals([_signal_row(1)])
        first.append_exchanges([{"id": "e", "ts": 1.0, "account_id": "acct_a"}])
        first.save_verdicts("scan-1", 100.0, [_account("acct_a", 0.9, "distillation", "c1")], [])
    with open_store(path) as again:
        assert again.load_state("engine") == b"snapshot-1"
        assert again.count("exchange_signals") == 1
        assert again.count("exchanges") == 1
        assert again.scan_ids() == ["scan-1"]
        assert again.latest_verdicts()[0]["account_id"] == "acct_a"
        assert again.schema_version == SCHEMA_VERSION
        again.save_state("engine", b"snapshot-2")
    with open_store(path) as third:
        assert third.load_state("engine") == b"snapshot-2"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dw.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(SchemaVersionError):
        open_store(path)


def test_history_is_oldest_first_by_scan_time(store: DuckDBStore) -> None:
    # Saved out of time order: the history must follow scan time, not insertion.
    store.save_verdicts("scan-late", 300.0, [_account("acct_a", 0.9, "distillation", "c1")], [])
    store.save_verdicts("scan-early", 100.0, [_account("acct_a", 0.1, "benign")], [])
    store.save_verdicts(
        "scan-mid",
        200.0,
        [_account("acct_a", 0.5, "suspicious"), _account("acct_b", 0.2, "benign")],
        [],
    )
    history = store.verdict_history("acct_a")
    assert [h["scan_id"] for h in history] == ["scan-early", "scan-mid", "scan-late"]
    assert [h["verdict"] for h in history] == ["benign", "suspicious", "distillation"]
    assert history[-1]["campaign_id"] == "c1"
    assert history[-1]["record"]["evidence"][0]["detail"] == "asks for steps"
    assert history[0]["first_flagged_ts"] is None
    assert [h["scan_id"] for h in store.verdict_history("acct_b")] == ["scan-mid"]
    assert store.verdict_history("nobody") == []
    assert store.scan_ids() == ["scan-early", "scan-mid", "scan-late"]


def test_latest_verdicts_and_campaigns_come_from_newest_scan(store: DuckDBStore) -> None:
    assert store.latest_verdicts() == []
    assert store.scan_ids() == []
    store.save_verdicts(
        "s1", 100.0, [_account("old", 0.3, "benign")], [{"campaign_id": "c_old", "accounts": []}]
    )
    newest = [_account("low", 0.2, "benign"), _account("high", 0.95, "distillation", "c_new")]
    store.save_verdicts("s2", 200.0, newest, [{"campaign_id": "c_new", "accounts": ["high"]}])
    latest = store.latest_verdicts()
    assert [a["account_id"] for a in latest] == ["high", "low"]
    assert latest[0] == newest[1]
    assert store.latest_campaigns() == [{"campaign_id": "c_new", "accounts": ["high"]}]


def test_same_ts_scans_keep_save_order(store: DuckDBStore) -> None:
    for name in ("b", "a", "c"):
        store.save_verdicts(name, 50.0, [_account("x", 0.1, "benign")], [])
    assert store.scan_ids() == ["b", "a", "c"]
    assert store.latest_verdicts()[0]["account_id"] == "x"
    assert [h["scan_id"] for h in store.verdict_history("x")] == ["b", "a", "c"]


def test_saving_a_scan_again_replaces_it(store: DuckDBStore) -> None:
    store.save_verdicts("s1", 100.0, [_account("a", 0.1, "benign")], [{"campaign_id": "c"}])
    store.save_verdicts("s1", 100.0, [_account("a", 0.7, "suspicious")], [])
    history = store.verdict_history("a")
    assert len(history) == 1 and history[0]["verdict"] == "suspicious"
    assert store.count("campaigns") == 0
    assert store.scan_ids() == ["s1"]


def test_numeric_first_flagged_ts_is_stored_as_rfc3339(store: DuckDBStore) -> None:
    record = _account("a", 0.8, "distillation")
    record["first_flagged_ts"] = 1770113730.25
    store.save_verdicts("s", 1.0, [record], [])
    assert store.verdict_history("a")[0]["first_flagged_ts"] == "2026-02-03T10:15:30.250Z"


def test_failed_save_leaves_previous_scan_intact(
    store: DuckDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_verdicts("s1", 100.0, [_account("a", 0.1, "benign")], [{"campaign_id": "c"}])
    real_insert = store._insert_arrow

    def failing_insert(table_name: str, batch: pa.Table) -> None:
        if table_name == "campaigns":  # fail after verdict rows were written
            raise OSError("disk full")
        real_insert(table_name, batch)

    monkeypatch.setattr(store, "_insert_arrow", failing_insert)
    with pytest.raises(OSError):
        store.save_verdicts(
            "s1", 100.0, [_account("a", 0.9, "distillation")], [{"campaign_id": "d"}]
        )
    monkeypatch.undo()
    history = store.verdict_history("a")
    assert [h["verdict"] for h in history] == ["benign"]
    assert store.latest_campaigns() == [{"campaign_id": "c"}]


def test_non_dict_record_is_refused(store: DuckDBStore) -> None:
    with pytest.raises(TypeError):
        store.save_verdicts("s1", 100.0, [42], [])
    assert store.scan_ids() == []


def test_export_signals_parquet(store: DuckDBStore, tmp_path: Path) -> None:
    store.append_signals([_signal_row(i) for i in range(5)])
    out = store.export_signals_parquet(tmp_path / "out" / "exchanges.parquet")
    table = pq.read_table(out)
    assert table.num_rows == 5
    assert table.column("id").to_pylist() == [f"ex_{i:06d}" for i in range(5)]


def test_usable_from_a_writer_thread(store: DuckDBStore) -> None:
    """The gateway opens the store in one thread and writes from another."""
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for start in range(0, 1000, 100):
                store.append_signals([_signal_row(i) for i in range(start, start + 100)])
            store.save_state("engine", b"from-thread")
        except BaseException as exc:  # pragma: no cover - surfaced by the assert below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    assert errors == []
    assert store.count("exchange_signals") == 1000
    assert store.load_state("engine") == b"from-thread"


def test_closed_store_refuses_work_and_close_is_idempotent() -> None:
    st = open_store(None)
    st.close()
    st.close()
    with pytest.raises(RuntimeError, match="closed"):
        st.load_state("x")


def test_count_rejects_unknown_table(store: DuckDBStore) -> None:
    with pytest.raises(ValueError):
        store.count("exchanges; DROP TABLE state")


def test_nan_risk_is_stored_as_null(store: DuckDBStore) -> None:
    row = _signal_row(1)
    row["risk"] = math.nan
    store.append_signals([row])
    assert store.signals_for_account("acct_a")[0]["risk"] is None


def test_bulk_histories_match_single_lookups(store: DuckDBStore) -> None:
    store.save_verdicts(
        "s2", 200.0, [_account("a", 0.6, "suspicious"), _account("b", 0.1, "benign")], []
    )
    store.save_verdicts("s1", 100.0, [_account("a", 0.2, "benign")], [])
    bulk = store.verdict_histories(["a", "b", "a", "ghost"])
    assert list(bulk) == ["a", "b", "ghost"]
    assert [h["scan_id"] for h in bulk["a"]] == ["s1", "s2"]
    assert bulk["ghost"] == []
    single = store.verdict_history("a")
    assert [{k: v for k, v in h.items() if k != "record"} for h in single] == bulk["a"]
    with_records = store.verdict_histories(["a"], with_record=True)
    assert with_records["a"] == single
    assert store.verdict_histories([]) == {}


def test_unexpected_value_types_are_converted(store: DuckDBStore) -> None:
    np = pytest.importorskip("numpy")
    store.append_signals(
        [
            {"id": 17, "ts": "12.5", "account_id": "a", "risk": np.float32(0.25), "signals": "[]"},
            {"id": "x", "ts": 13, "account_id": "a", "risk": "0.75", "model": 4},
            {"id": "y", "ts": "1970-01-01T00:00:14Z", "account_id": "a"},
        ]
    )
    got = store.signals_for_account("a")
    assert [r["id"] for r in got] == ["17", "x", "y"]
    assert [r["ts"] for r in got] == [12.5, 13.0, 14.0]
    assert [r["risk"] for r in got] == [0.25, 0.75, None]
    assert got[1]["model"] == "4"


def test_exchange_with_non_json_values_is_still_stored(store: DuckDBStore) -> None:
    store.append_exchanges(
        [{"id": "e", "ts": 1.0, "account_id": "a", "raw": b"\xffbytes", "tags": {"x"}}]
    )
    (body,) = list(store.iter_exchanges())
    assert body["raw"] == "\\xffbytes"
    assert body["tags"] == ["x"]
