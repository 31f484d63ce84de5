"""Speed of the store's batched appends and of report rendering.

Prints figures and the ratio against a baseline measured in the same run
(row-by-row ``executemany`` into the same table), so results compare across
machines. Run: ``python benchmarks/bench_store_report.py [--rows 100000]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import orjson

from distillwatch.output.report import render_report
from distillwatch.store import open_store

__all__ = ["main"]


def _signal_rows(n: int) -> list[dict]:
    rng = random.Random(7)
    return [
        {
            "id": f"ex_{i:08d}",
            "ts": 1_770_000_000.0 + i * 0.01,
            "account_id": f"acct_{rng.randrange(20_000):05d}",
            "model": "model-x",
            "family_id": f"fam_{rng.randrange(500)}",
            "risk": rng.random(),
            "signals": [
                {"signal": "cot_elicitation", "score": round(rng.random(), 3)},
                {"signal": "shared_template", "score": round(rng.random(), 3)},
            ],
        }
        for i in range(n)
    ]


def _best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_store(rows: int, baseline_rows: int) -> None:
    data = _signal_rows(rows)
    store = open_store(None)
    batched = _best_of(3, lambda: store.append_signals(data))
    store.close()

    baseline_data = data[:baseline_rows]
    store = open_store(None)
    con = store._conn()

    def row_by_row() -> None:
        con.executemany(
            "INSERT INTO exchange_signals VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    r["id"],
                    r["ts"],
                    r["account_id"],
                    r["model"],
                    r["family_id"],
                    r["risk"],
                    orjson.dumps(r["signals"]).decode(),
                ]
                for r in baseline_data
            ],
        )

    baseline = _best_of(1, row_by_row)
    store.close()
    batched_rate = rows / batched
    baseline_rate = baseline_rows / baseline
    print(f"append_signals batched : {rows:,} rows in {batched:.3f} s ({batched_rate:,.0f} rows/s)")
    print(
        f"executemany baseline   : {baseline_rows:,} rows in {baseline:.3f} s ({baseline_rate:,.0f} rows/s)"
    )
    print(f"speed-up               : {batched_rate / baseline_rate:,.0f}x")


def bench_report(flagged: int) -> None:
    rng = random.Random(3)
    accounts = [
        {
            "account_id": f"acct_{i:05d}",
            "exchanges": rng.randrange(1, 5000),
            "risk": rng.random(),
            "verdict": rng.choice(["distillation", "suspicious"]),
            "first_flagged_ts": "2026-02-03T10:15:30.123Z",
            "campaign_id": f"camp_{i % 40}",
            "capabilities": ["reasoning", "cot_elicitation"],
            "evidence": [
                {
                    "signal": "cot_elicitation",
                    "score": 0.9,
                    "detail": "asks to write out the internal reasoning step by step in 412 of 430 exchanges",
                },
                {
                    "signal": "shared_template",
                    "score": 0.7,
                    "detail": "system prompt family shared with 212 accounts",
                },
            ],
        }
        for i in range(flagged)
    ]
    campaigns = [
        {
            "campaign_id": f"camp_{j}",
            "accounts": [a["account_id"] for a in accounts[j::40]],
            "exchanges": 100_000,
            "risk": 0.9,
            "capabilities": ["reasoning"],
            "indicators": {"ips": [f"198.51.100.{k}" for k in range(20)]},
            "first_ts": "2026-02-01T00:00:00Z",
            "last_ts": "2026-02-20T00:00:00Z",
            "summary": "accounts share one templated system prompt",
            "timeline": [[f"2026-02-{d:02d}", rng.randrange(9000)] for d in range(1, 21)],
        }
        for j in range(40)
    ]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        text = render_report(accounts, campaigns, {"lines": 1, "read": 1, "rejected": 0})
        times.append(time.perf_counter() - start)
    print(
        f"render_report          : {flagged:,} flagged accounts in {statistics.median(times):.3f} s, "
        f"{len(text.encode()) / 1e6:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000)
    parser.add_argument("--flagged", type=int, default=20_000)
    args = parser.parse_args()
    bench_store(args.rows, args.baseline_rows)
    bench_report(args.flagged)


if __name__ == "__main__":
    main()
