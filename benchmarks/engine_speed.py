"""Per-exchange cost of the behaviour state and of the online engine, content detectors excluded.

    python benchmarks/engine_speed.py [--accounts 600] [--seed 7] [--impl FILE.py]

Synthetic exchanges (the account mix of ``account_memory.py``: chat users, SaaS
products, eval teams, judge pipelines, agent products, extraction accounts),
interleaved in time order, with their content signals computed beforehand.
Each call is timed on its own with ``perf_counter_ns``; the script prints the
median, p99 and mean in microseconds of

* ``AccountState.learn_one`` (issue 5 budget: 20 us per exchange, one core);
* ``Engine.observe(ex, signals)``: families, operator groups, fusion, verdict;

and, timed the same way in the same run so that the figures can be compared on
a loaded machine, two baselines: an empty Python call with the same arguments,
and constructing one ``Exchange``. ``--impl`` times another ``account.py`` (for
example the version before a change) in both the state and the engine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from time import perf_counter_ns
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from account_memory import load_impl, synthetic_stream  # noqa: E402

import distillwatch.engine as engine_module  # noqa: E402
from distillwatch.record import ClientInfo, Exchange, Turn  # noqa: E402

__all__ = ["summarize", "main"]

_BUDGET_US = 20.0


def summarize(ns: list[int]) -> dict[str, float]:
    """Median, p99 and mean of per-call times, in microseconds."""
    ns = sorted(ns)
    return {
        "median": statistics.median(ns) / 1000,
        "p99": ns[min(len(ns) - 1, int(len(ns) * 0.99))] / 1000,
        "mean": sum(ns) / len(ns) / 1000,
    }


def _noop(ex: Any, extraction: float, signals: list, families: tuple) -> None:
    return None


def _time_calls(fn: Callable[..., Any], calls: list[tuple]) -> list[int]:
    out = []
    for args in calls:
        t0 = perf_counter_ns()
        fn(*args)
        out.append(perf_counter_ns() - t0)
    return out


def _time_exchange_construction(n: int) -> list[int]:
    out = []
    client = ClientInfo(ip="203.0.113.9", user_agent="sdk/1.0")
    for i in range(n):
        t0 = perf_counter_ns()
        Exchange(
            id="ex",
            ts=1.0 * i,
            account_id="acct",
            api="openai.chat.completions",
            model="m",
            turns=[Turn("user", "hello")],
            max_tokens=1024,
            input_tokens=10,
            output_tokens=100,
            client=client,
        )
        out.append(perf_counter_ns() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--impl", default=None, help="path of another account.py to time")
    args = parser.parse_args()
    impl = load_impl(args.impl)

    stream = sorted(synthetic_stream(args.accounts, args.seed), key=lambda row: row[1].ts)
    print(f"implementation: {args.impl or impl.__name__}")
    print(f"{args.accounts:,} accounts, {len(stream):,} exchanges in time order")

    noop = _time_calls(_noop, [(ex, x, sigs, fams) for _, ex, x, sigs, fams in stream])
    build = _time_exchange_construction(len(stream))

    states: dict[str, Any] = {}
    learn_calls = []
    for _, ex, x, sigs, fams in stream:
        st = states.get(ex.account_id)
        if st is None:
            st = states[ex.account_id] = impl.AccountState(ex.account_id)
        learn_calls.append((st, ex, x, sigs, fams))
    learn = _time_calls(lambda st, ex, x, sigs, fams: st.learn_one(ex, x, sigs, fams), learn_calls)
    del learn_calls, states

    engine_module.AccountState = impl.AccountState  # the engine builds the states it times
    engine = engine_module.Engine(detectors=[])
    observe = _time_calls(engine.observe, [(ex, sigs) for _, ex, _, sigs, _ in stream])
    flagged = sum(st.verdict != "benign" for st in engine.accounts.values())

    rows = [
        ("empty call (baseline)", summarize(noop)),
        ("Exchange(...) (baseline)", summarize(build)),
        ("AccountState.learn_one", summarize(learn)),
        ("Engine.observe(ex, signals)", summarize(observe)),
    ]
    base = rows[0][1]["median"]
    print(f"{'per exchange, us':<30}{'median':>9}{'p99':>9}{'mean':>9}{'x empty':>9}")
    for name, s in rows:
        ratio = s["median"] / base if base else float("nan")
        print(f"{name:<30}{s['median']:>9.2f}{s['p99']:>9.2f}{s['mean']:>9.2f}{ratio:>9.1f}")
    learn_s = rows[2][1]
    print(
        f"learn_one: median {learn_s['median']:.2f} us, p99 {learn_s['p99']:.2f} us; "
        f"budget {_BUDGET_US:.0f} us ({learn_s['p99'] / _BUDGET_US:.0%} used at p99)"
    )
    print(f"engine: {len(engine.accounts):,} accounts, {flagged} not benign after the replay")


if __name__ == "__main__":
    main()
