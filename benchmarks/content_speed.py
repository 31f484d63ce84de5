"""Speed of all content detectors together, per exchange, on one core.

Exchanges are built like production traffic: a system prompt drawn from a small
pool (SaaS and attack traffic reuse a few system prompts, so the per-prompt
cache is exercised as it would be) plus a user message taken from the public
corpora (ShareGPT, HH-RLHF, Arena-Hard, GSM8K, BFCL, judge templates). Without
the corpora, user messages are synthesized from a fixed vocabulary.

Three scenarios are timed:

* ``corpus mix``: user messages as they come (most chat turns are short);
* ``1-3 KB prompts``: system + user between 1 and 3 KB, the typical API call;
* ``uncached 3 KB``: every exchange brings a new 3 KB system prompt (worst case
  for the cache).

Each figure is printed with a baseline measured in the same run, parsing the
exchange's JSON line with orjson (what ingestion costs anyway), so results on
a busy machine stay comparable. ``--log`` adds a fourth scenario: the first
``--log-limit`` exchanges of a real exchange log (v1 JSONL), in time order,
where the mean matters as much as the median (it is what a scan pays).

    python benchmarks/content_speed.py [--corpora ../shared/corpora] [--n 5000] [--log FILE]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import os
import random
import statistics
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from distillwatch.detectors.base import default_registry
from distillwatch.record import Exchange, Turn

__all__ = ["main"]

_VOCAB = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "for",
    "on",
    "with",
    "that",
    "this",
    "it",
    "as",
    "be",
    "by",
    "are",
    "from",
    "or",
    "an",
    "can",
    "your",
    "you",
    "we",
    "data",
    "model",
    "report",
    "please",
    "write",
    "explain",
    "summarize",
    "customer",
    "order",
    "table",
    "function",
    "error",
    "value",
    "list",
    "step",
    "answer",
    "question",
    "code",
    "python",
    "file",
    "user",
    "account",
    "price",
    "market",
    "plan",
    "team",
    "email",
    "draft",
    "review",
    "test",
    "result",
    "analysis",
    "chart",
    "time",
]


def _system_pool(rng: random.Random, size: int, chars: int) -> list[str]:
    """Product-like system prompts of roughly ``chars`` characters."""
    pool = []
    for i in range(size):
        words = [rng.choice(_VOCAB) for _ in range(chars // 6)]
        pool.append(f"You are assistant #{i} for a product team. " + " ".join(words)[:chars])
    return pool


def _corpus_messages(corpora: Path, limit: int) -> list[str]:
    files = [
        ("benign/sharegpt.jsonl.gz", 0.5),
        ("benign/hh_rlhf_harmless_test.jsonl.gz", 0.15),
        ("benign/arena_hard_v01.jsonl.gz", 0.1),
        ("distill/gsm8k_train.jsonl.gz", 0.1),
        ("distill/bfcl.jsonl.gz", 0.1),
        ("distill/gpteacher_codegen.jsonl.gz", 0.05),
    ]
    out: list[str] = []
    for rel, share in files:
        path = corpora / rel
        if not path.exists():
            continue
        want = max(1, int(limit * share))
        with gzip.open(path, "rb") as fh:
            for line in fh:
                rec = orjson.loads(line)
                users = [m["content"] for m in rec["messages"] if m["role"] == "user"]
                if users:
                    out.append(users[-1])
                    want -= 1
                if want == 0:
                    break
    return out


def _synthetic_messages(rng: random.Random, limit: int) -> list[str]:
    out = []
    for _ in range(limit):
        n = int(rng.lognormvariate(3.0, 1.2)) + 3
        out.append(" ".join(rng.choice(_VOCAB) for _ in range(min(n, 1500))) + "?")
    return out


def _exchange(i: int, system: str, user: str) -> Exchange:
    return Exchange(
        id=f"s{i}",
        ts=0.0,
        account_id="bench",
        api="openai.chat.completions",
        system=system,
        turns=[Turn("user", user)],
    )


def _line(ex: Exchange) -> bytes:
    body: dict[str, Any] = {
        "model": "m",
        "messages": [
            {"role": "system", "content": ex.system},
            {"role": "user", "content": ex.last_user_text},
        ],
    }
    return orjson.dumps(
        {"id": ex.id, "ts": 0, "account_id": "bench", "api": ex.api, "request": body}
    )


def _time_each(items: list[Any], fn: Callable[[Any], object]) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for item in items:
        t0 = clock()
        fn(item)
        out.append((clock() - t0) / 1000.0)
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _log_exchanges(path: Path, limit: int) -> list[Exchange]:
    from distillwatch.ingest.order import ExchangeStream  # noqa: PLC0415

    out: list[Exchange] = []
    for ex in ExchangeStream([path], on_reject=lambda _r: None):
        out.append(ex)
        if len(out) >= limit:
            break
    return out


def run(
    corpora: Path | None, n: int, seed: int, log: Path | None = None, log_limit: int = 30000
) -> list[str]:
    rng = random.Random(seed)
    messages = _corpus_messages(corpora, n) if corpora is not None and corpora.is_dir() else []
    source = "corpora" if messages else "synthetic"
    if not messages:
        messages = _synthetic_messages(rng, n)
    rng.shuffle(messages)
    pool = _system_pool(rng, 40, 900)
    detectors = default_registry().build()

    def detect_all(ex: Exchange) -> None:
        for det in detectors:
            det.detect(ex)

    scenarios: dict[str, list[Exchange]] = {}
    scenarios["corpus mix"] = [_exchange(i, rng.choice(pool), m) for i, m in enumerate(messages)]
    sized = []
    for i, m in enumerate(messages):
        system = rng.choice(pool)
        user = m if len(system) + len(m) <= 3000 else m[: 3000 - len(system)]
        while len(system) + len(user) < 1000:
            user = user + " " + rng.choice(messages)[:400]
        sized.append(_exchange(i, system, user[: 3000 - len(system)]))
    scenarios["1-3 KB prompts"] = sized
    fresh = _system_pool(rng, min(len(messages), 2000), 2600)
    scenarios["uncached 3 KB"] = [
        _exchange(i, fresh[i % len(fresh)] + f" v{i}", m[:400])
        for i, m in enumerate(messages[: len(fresh)])
    ]

    if log is not None:
        scenarios[f"log {log.name}"] = _log_exchanges(log, log_limit)

    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    lines = [
        f"user messages: {len(messages)} from {source}; detectors: {len(detectors)}; one core; "
        f"machine reference: sum(range(1000)) takes {reference:.1f} µs here (about 8-10 µs on a current desktop core)",
        "",
        "| scenario | exchanges | median µs | mean µs | p90 µs | p99 µs | baseline median µs (orjson.loads of the line) | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, exchanges in scenarios.items():
        raw = [_line(ex) for ex in exchanges]
        detect_all(exchanges[0])  # warm regex caches
        gc.collect()
        gc.freeze()
        try:
            costs = _time_each(exchanges, detect_all)
            base = _time_each(raw, orjson.loads)
        finally:
            gc.unfreeze()
        med, base_med = statistics.median(costs), statistics.median(base)
        lines.append(
            f"| {name} | {len(exchanges)} | {med:.1f} | {statistics.fmean(costs):.1f} | {_quantile(costs, 0.9):.1f} "
            f"| {_quantile(costs, 0.99):.1f} "
            f"| {base_med:.1f} | {med / base_med:.1f}x |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=Path("../shared/corpora"))
    parser.add_argument("--n", type=int, default=5000, help="user messages to draw")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--markdown", type=Path, default=None, help="also write the table to this file"
    )
    parser.add_argument("--log", type=Path, default=None, help="also time a real exchange log")
    parser.add_argument("--log-limit", type=int, default=30000, help="exchanges read from --log")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    lines = run(args.corpora, args.n, args.seed, args.log, args.log_limit)
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
