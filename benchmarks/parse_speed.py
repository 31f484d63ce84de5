"""How fast the input side is, against the floor of just decoding JSON.

Usage::

    python benchmarks/parse_speed.py [FILE ...] [--lines N] [--unsorted]

Without FILE a synthetic exchange log is generated (mixed API shapes, typical
1-3 KB lines). Prints exchanges per second for

  (a) orjson.loads of every line (the floor: nothing can be faster),
  (b) orjson.loads + parse_record,
  (c) ExchangeStream over the file(s) (reading, order check, parsing, merge),

and each one's cost relative to (a), all measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

from distillwatch.ingest import ExchangeStream, Rejection, iter_raw, parse_record

WORDS = [
    "explain",
    "reasoning",
    "step",
    "carefully",
    "analyse",
    "data",
    "function",
    "return",
    "value",
    "test",
    "case",
    "python",
    "code",
    "refactor",
    "module",
    "error",
    "trace",
    "tool",
    "result",
    "weather",
    "rubric",
    "score",
    "answer",
    "grade",
    "response",
    "quality",
    "summary",
    "table",
    "column",
    "query",
    "latency",
    "cache",
    "request",
]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def synthetic_record(rng: random.Random, i: int, ts: float) -> dict:
    """A plausible exchange of one of the three shapes, 1-3 KB once serialised."""
    shape = rng.random()
    common = {
        "id": f"ex_{i}",
        "ts": ts if rng.random() < 0.5 else _rfc3339(ts),
        "account_id": f"acct_{rng.randrange(5000)}",
        "status": 200,
        "latency_ms": rng.randrange(200, 9000),
        "client": {"ip": f"203.0.113.{rng.randrange(256)}", "user_agent": "openai-python/1.99.0"},
        "account": {"tier": "startup", "payment_fingerprint": f"pf_{rng.randrange(900)}"},
    }
    user = sentence(rng, rng.randrange(40, 160))
    answer = sentence(rng, rng.randrange(60, 220))
    if shape < 0.5:
        return {
            **common,
            "api": "openai.chat.completions",
            "request": {
                "model": "gpt-x",
                "messages": [
                    {"role": "system", "content": sentence(rng, 25)},
                    {"role": "user", "content": user},
                ],
                "max_tokens": 4096,
                "temperature": 0.7,
            },
            "response": {
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 180, "completion_tokens": 420},
            },
        }
    if shape < 0.75:
        return {
            **common,
            "api": "openai.responses",
            "request": {
                "model": "gpt-x",
                "instructions": sentence(rng, 20),
                "input": [{"role": "user", "content": [{"type": "input_text", "text": user}]}],
                "reasoning": {"effort": "high"},
            },
            "response": {
                "status": "completed",
                "output": [
                    {
                        "type": "reasoning",
                        "summary": [{"type": "summary_text", "text": sentence(rng, 30)}],
                    },
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": answer}],
                    },
                ],
                "usage": {"input_tokens": 200, "output_tokens": 500},
            },
        }
    return {
        **common,
        "api": "anthropic.messages",
        "request": {
            "model": "claude-x",
            "max_tokens": 2048,
            "system": sentence(rng, 25),
            "messages": [{"role": "user", "content": [{"type": "text", "text": user}]}],
        },
        "response": {
            "content": [{"type": "text", "text": answer}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 210, "output_tokens": 380},
        },
    }


def _rfc3339(ts: float) -> str:
    from distillwatch.ingest import to_rfc3339

    return to_rfc3339(ts)


def generate(path: Path, lines: int, *, unsorted: bool, seed: int = 7) -> None:
    rng = random.Random(seed)
    base = 1770000000.0
    with path.open("wb") as handle:
        for i in range(lines):
            jitter = rng.uniform(-30, 30) if unsorted else 0.0
            handle.write(orjson.dumps(synthetic_record(rng, i, base + i * 0.05 + jitter)) + b"\n")


def raw_lines(paths: list[Path]) -> list[bytes]:
    out: list[bytes] = []
    for path in paths:
        out.extend(item[1] for item in iter_raw(path) if not isinstance(item, Rejection))  # type: ignore[misc]
    return out


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f} exchanges/s  ({seconds * 1e6 / max(count, 1):6.2f} µs each)"


def call_overhead() -> float:
    """Seconds per empty function call: tells how fast this machine is right now."""

    def nothing() -> None:
        return None

    rounds = 200_000
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            nothing()
        best = min(best, (time.perf_counter() - start) / rounds)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--lines", type=int, default=50_000, help="synthetic lines when no FILE")
    parser.add_argument("--unsorted", action="store_true", help="synthetic file out of ts order")
    parser.add_argument("--chunk-records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        paths = args.files
        if not paths:
            synthetic = Path(tmp) / "synthetic.jsonl"
            generate(synthetic, args.lines, unsorted=args.unsorted)
            paths = [synthetic]
            print(
                f"synthetic log: {args.lines} lines, {synthetic.stat().st_size / 1e6:.1f} MB, "
                f"{'unsorted' if args.unsorted else 'sorted'}"
            )
        lines = raw_lines(paths)
        mean = sum(map(len, lines)) / max(len(lines), 1)
        print(f"{len(lines)} lines, mean {mean:.0f} bytes")

        def only_loads() -> int:
            loads = orjson.loads
            for line in lines:
                loads(line)
            return len(lines)

        def loads_and_parse() -> int:
            loads = orjson.loads
            parsed = 0
            for line in lines:
                try:
                    parse_record(loads(line))
                    parsed += 1
                except ValueError:
                    pass
            return parsed

        stream = ExchangeStream(paths, on_reject=lambda r: None, chunk_records=args.chunk_records)

        def whole_stream() -> int:
            return sum(1 for _ in stream)

        # best of N, interleaved: the machine may be shared, and the ratios must
        # compare runs made under the same conditions
        best = {only_loads: float("inf"), loads_and_parse: float("inf"), whole_stream: float("inf")}
        counts = {}
        for _ in range(args.repeat):
            for job in best:
                start = time.perf_counter()
                counts[job] = job()
                best[job] = min(best[job], time.perf_counter() - start)
        floor, with_parse, full = best[only_loads], best[loads_and_parse], best[whole_stream]
        parsed, streamed = counts[loads_and_parse], counts[whole_stream]

    print(f"(a) orjson.loads only          {rate(len(lines), floor)}   1.00x")
    print(f"(b) loads + parse_record       {rate(parsed, with_parse)}   {with_parse / floor:.2f}x")
    print(
        f"(c) ExchangeStream             {rate(streamed, full)}   {full / floor:.2f}x"
        f"   (spilled runs: {stream.spilled_runs})"
    )
    print(
        f"    parse_record alone: {(with_parse - floor) * 1e6 / max(parsed, 1):.2f} µs per exchange"
    )
    print(f"    machine speed: {call_overhead() * 1e9:.0f} ns per empty Python call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
