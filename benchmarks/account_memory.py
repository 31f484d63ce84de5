"""Memory per account of the behaviour state, in RAM and pickled.

    python benchmarks/account_memory.py [--accounts 20000] [--seed 7] [--impl FILE.py]

Feeds synthetic exchanges from a realistic mix of accounts (many light chat
users, SaaS products sending one template, judge pipelines, heavy extraction
accounts with many signals, families, tool schemas and rotating addresses)
into one ``AccountState`` per account, then reports:

* bytes per account from ``tracemalloc`` (everything the states and the
  ``{account_id: state}`` table allocated; exchanges are freed as they go),
  overall and per population, and the heaviest single account kind;
* pickle bytes per account (the whole table pickled at once, as the engine is);
* the projection for one million accounts against the 4 GB budget of issue 5.

Strings in the exchanges are built fresh for each exchange, as a JSON parser
would, so no implementation profits from sharing that a real log would not give.
``--impl`` loads another ``account.py`` (for example the version before a
change, ``git show HEAD:src/distillwatch/behaviour/account.py > /tmp/old.py``)
to print before/after figures from the same synthetic data.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import pickle
import random
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import Any

from distillwatch.detectors.base import Signal
from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn

__all__ = [
    "Kind",
    "KINDS",
    "synthetic_stream",
    "load_impl",
    "measure",
    "deep_sizes",
    "traced_bytes",
]

_BUDGET_BYTES = 4096  # issue 5: one million accounts in 4 GB
_T0 = 1_767_225_600.0  # 2026-01-01 UTC

_CONTENT = (
    ("content.reasoning_reconstruction", "reasoning_extraction"),
    ("content.cot_demand", "cot_elicitation"),
    ("content.reward_grading", "reward_grading"),
    ("content.censorship_rewrite", "censorship_rewrite"),
    ("content.bulk_synthetic_data", "synthetic_data"),
    ("content.prompt_extraction", "prompt_extraction"),
    ("content.benchmark_mcq", "benchmark_probe"),
    ("content.hidden_reasoning_extraction", "reasoning_extraction"),
    ("content.expert_transparent_reasoning", "reasoning_extraction"),
    ("content.synthetic_tool_task", "tool_use"),
    ("content.agent_trajectory", "agentic"),
    ("content.orchestration_prompt", "agentic"),
)
_CAPS = (
    ("capability.coding", "coding"),
    ("capability.tool_use", "tool_use"),
    ("capability.agentic", "agentic"),
    ("capability.vision", "vision"),
    ("capability.data_analysis", "data_analysis"),
    ("capability.computer_use", "computer_use"),
)
_PARAMS = ("param.max_tokens", "param.logprobs", "param.n_samples", "param.reasoning_max")
_MODELS = ("gpt-large-2025-11", "gpt-large-2026-02", "claude-x-4", "small-fast-1")
_UAS = (
    "OpenAI/Python 1.54.3 (linux; x86_64) CPython/3.11.7",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "anthropic-typescript/0.32.1 node/20.11.0 darwin arm64",
    "curl/8.5.0",
    "langchain-openai/0.2.9 python-httpx/0.27.2",
)
_WORDS = "matched phrase step by step reasoning behind the final answer grade rubric tool schema"
_VOCAB = _WORDS.split() + ["alpha", "bravo", "delta", "gamma", "kappa", "sigma", "omega", "lambda"]


def _skeleton(fid: int) -> str:
    """A prompt skeleton sentence named by a family number (digits would be folded away)."""
    words = [_VOCAB[(fid >> (4 * k)) % len(_VOCAB)] for k in range(6)]
    return "You are the " + " ".join(words) + " assistant; answer in full sentences."


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of account in the synthetic population."""

    name: str
    share: float  # of accounts
    exchanges: tuple[int, int]  # min, max per account
    gap_s: tuple[float, float]  # min, max seconds between its exchanges
    ips: int  # distinct client addresses it rotates through
    uas: int
    models: int
    followup: float  # share of exchanges that continue a conversation
    signal_rate: float  # chance of one content signal per exchange
    n_content: int  # how many content techniques it uses
    n_caps: int  # capability tags it shows
    families: int  # distinct prompt families it sends (0: none)
    tool_schemas: int
    user_ids: int
    harvest: float  # share of max_tokens/logprobs/n>1 requests


KINDS = (
    Kind("chat_user", 0.62, (1, 40), (30, 4000), 2, 1, 1, 0.6, 0.02, 1, 2, 0, 0, 0, 0.0),
    Kind("saas_app", 0.15, (30, 300), (5, 300), 3, 1, 1, 0.1, 0.05, 1, 2, 3, 2, 200, 0.1),
    Kind("eval_team", 0.08, (30, 400), (1, 30), 2, 2, 3, 0.0, 0.5, 2, 3, 4, 0, 0, 0.3),
    Kind("judge_pipeline", 0.05, (60, 500), (1, 20), 1, 1, 1, 0.0, 0.9, 1, 1, 1, 0, 0, 0.0),
    Kind("agent_product", 0.05, (60, 400), (2, 120), 4, 2, 2, 0.8, 0.2, 2, 5, 2, 6, 50, 0.1),
    Kind("extraction", 0.05, (200, 1000), (1, 60), 40, 6, 3, 0.02, 0.9, 9, 6, 12, 60, 0, 0.8),
)


def _fresh(s: str) -> str:
    """A new string object with the same text, as a JSON parser hands out."""
    return "".join([s[:1], s[1:]])


def _signals(kind: Kind, rng: random.Random, i: int) -> list[Signal]:
    out: list[Signal] = []
    if kind.signal_rate and rng.random() < kind.signal_rate:
        name, cap = _CONTENT[rng.randrange(kind.n_content)]
        detail = f"'{_WORDS[: rng.randrange(30, 90)]}' at char {rng.randrange(5000)} (#{i})"
        out.append(Signal(_fresh(name), round(rng.uniform(0.3, 1.0), 2), detail, _fresh(cap)))
    if kind.n_caps and rng.random() < 0.5:
        name, cap = _CAPS[rng.randrange(kind.n_caps)]
        out.append(Signal(_fresh(name), 0.2, f"{rng.randrange(1, 9)} tools declared", _fresh(cap)))
    if kind.harvest and rng.random() < kind.harvest:
        name = _PARAMS[rng.randrange(len(_PARAMS))]
        out.append(Signal(_fresh(name), 0.5, f"max_tokens={rng.choice((8192, 16384, 32000))}"))
    return out


def synthetic_stream(
    n_accounts: int, seed: int = 7
) -> Iterator[tuple[str, Exchange, float, list[Signal], tuple[str | None, str | None]]]:
    """(kind name, exchange, extraction score, signals, families), one account after another."""
    rng = random.Random(seed)
    weights = [k.share for k in KINDS]
    for a in range(n_accounts):
        kind = rng.choices(KINDS, weights)[0]
        account_id = f"acct_{a:07d}_{rng.getrandbits(32):08x}"
        pay = f"pay_{rng.getrandbits(40):010x}" if rng.random() < 0.7 else None
        created = _T0 - rng.uniform(0, 400) * 86400
        ts = _T0 + rng.uniform(0, 5 * 86400)
        fam_base = rng.getrandbits(24) << 8
        for i in range(rng.randint(*kind.exchanges)):
            ts += rng.uniform(*kind.gap_s)
            fid = fam_base + rng.randrange(kind.families) if kind.families else -1
            in_family = fid >= 0 and rng.random() < 0.8
            text = _skeleton(fid) + f" Item {i}: {rng.choice(_VOCAB)}" if in_family else "hi"
            turns = [Turn("user", text)]
            if rng.random() < kind.followup:
                turns = [Turn("user", "first question"), Turn("assistant", "an answer"), *turns]
            ex = Exchange(
                id=f"ex{a}_{i}",
                ts=ts,
                account_id=_fresh(account_id),
                api="openai.chat.completions",
                model=_fresh(_MODELS[rng.randrange(kind.models)]),
                system=_skeleton(fid + 1) if in_family and rng.random() < 0.5 else "",
                turns=turns,
                tool_schema_hash=(
                    f"ts_{fam_base + rng.randrange(kind.tool_schemas):012x}"
                    if kind.tool_schemas and rng.random() < 0.6
                    else None
                ),
                max_tokens=16384 if rng.random() < kind.harvest else 1024,
                logprobs=True if rng.random() < kind.harvest / 3 else None,
                n=2 if rng.random() < kind.harvest / 4 else None,
                reasoning_effort="high" if rng.random() < kind.harvest / 2 else None,
                input_tokens=rng.randrange(20, 3000),
                output_tokens=rng.randrange(20, 9000),
                org_id=_fresh(f"org_{a // 3:06d}"),
                user_id=(f"user_{rng.randrange(kind.user_ids)}" if kind.user_ids else None),
                client=ClientInfo(
                    ip=f"203.{a % 200}.{rng.randrange(kind.ips)}.{a % 250 + 1}",
                    user_agent=_fresh(_UAS[(a + rng.randrange(kind.uas)) % len(_UAS)]),
                    tls_fingerprint=_fresh("t13d1516h2_8daaf6152771_02713d6af862"),
                    asn=64500 + a % 20,
                ),
                account=AccountInfo(
                    created_at=created,
                    tier=_fresh("tier-2"),
                    payment_fingerprint=pay,
                    verified=True,
                    email_domain=_fresh("example.com"),
                ),
            )
            sigs = _signals(kind, rng, i)
            extraction = max(
                (s.score for s in sigs if not s.name.startswith("capability.")), default=0.0
            )
            fams: tuple[str | None, str | None] = (None, None)
            if in_family:  # what the engine's template miner would name them
                fams = (f"sys_{fid + 1:08x}" if ex.system else None, f"tpl_{fid:08x}")
            yield kind.name, ex, extraction, sigs, fams


def load_impl(path: str | None) -> ModuleType:
    """The ``account`` module to measure: the installed one, or a file given by path."""
    if path is None:
        from distillwatch.behaviour import account

        return account
    spec = importlib.util.spec_from_file_location("account_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pickle finds the classes by module name
    spec.loader.exec_module(module)
    return module


def _build(impl: ModuleType, n_accounts: int, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    accounts: dict[str, Any] = {}
    kind_of: dict[str, str] = {}
    state_cls = impl.AccountState
    for kind, ex, extraction, sigs, fams in synthetic_stream(n_accounts, seed):
        st = accounts.get(ex.account_id)
        if st is None:
            st = accounts[ex.account_id] = state_cls(ex.account_id)
            kind_of[ex.account_id] = kind
        st.learn_one(ex, extraction, sigs, fams)
    return accounts, kind_of


def _reachable(root: object) -> list[object]:
    """Objects a state holds, shared singletons (None, bools, small ints, classes) excluded."""
    out, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SKIP_TYPES) or obj is None or obj is True:
            continue
        if obj is False or (type(obj) is int and -5 <= obj <= 256) or obj == ():
            continue
        seen.add(id(obj))
        out.append(obj)
        stack.extend(gc.get_referents(obj))
    return out


_SKIP_TYPES = (type, ModuleType, FunctionType, BuiltinFunctionType)


def deep_sizes(accounts: dict[str, Any]) -> dict[str, float]:
    """Bytes per account, an object shared by k accounts counted 1/k to each of them."""
    held = {acct: _reachable(st) for acct, st in accounts.items()}
    owners: Counter[int] = Counter()
    for objs in held.values():
        owners.update(id(o) for o in objs)
    return {
        acct: sum(sys.getsizeof(o) / owners[id(o)] for o in objs) for acct, objs in held.items()
    }


def _traced_residue(build: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - base
        del kept
        return used
    finally:
        tracemalloc.stop()


def traced_bytes(impl: ModuleType, n_accounts: int, seed: int) -> float:
    """tracemalloc: what the states and their table hold, per account.

    The same stream is first consumed without states: what it leaves behind
    (interpreter free lists, caches) is subtracted, so only the states count.
    """
    stream_only = _traced_residue(lambda: sum(1 for _ in synthetic_stream(n_accounts, seed)))
    with_states = _traced_residue(lambda: _build(impl, n_accounts, seed)[0])
    return (with_states - stream_only) / n_accounts


def measure(impl: ModuleType, n_accounts: int, seed: int = 7) -> dict[str, Any]:
    """Sizes of ``n_accounts`` states: per kind (deep size), pickled, and the table."""
    t0 = time.perf_counter()
    accounts, kind_of = _build(impl, n_accounts, seed)
    build_s = time.perf_counter() - t0
    exchanges = sum(st.n for st in accounts.values())
    sizes = deep_sizes(accounts)
    per_kind: dict[str, list[float]] = {}
    for acct, size in sizes.items():
        per_kind.setdefault(kind_of[acct], []).append(size)
    blob = pickle.dumps(accounts, protocol=pickle.HIGHEST_PROTOCOL)
    restored = pickle.loads(blob)  # noqa: S301 - our own bytes
    assert len(restored) == len(accounts)
    table = sys.getsizeof(accounts) / len(accounts)
    return {
        "accounts": len(accounts),
        "exchanges": exchanges,
        "deep_bytes_per_account": sum(sizes.values()) / len(sizes) + table,
        "table_bytes_per_account": table,
        "max_account_bytes": max(sizes.values()),
        "pickle_bytes_per_account": len(blob) / len(accounts),
        "per_kind": {k: (len(v), sum(v) / len(v), max(v)) for k, v in per_kind.items()},
        "build_us_per_exchange": build_s / exchanges * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument(
        "--traced", type=int, default=2_000, help="accounts built under tracemalloc (slow)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--impl", default=None, help="path of another account.py to measure")
    args = parser.parse_args()
    impl = load_impl(args.impl)
    res = measure(impl, args.accounts, args.seed)
    print(f"implementation: {args.impl or impl.__name__}")
    print(f"{res['accounts']:,} accounts, {res['exchanges']:,} exchanges")
    print(f"{'kind':<16}{'accounts':>10}{'mean B':>10}{'max B':>10}")
    for kind, (n, mean, top) in sorted(res["per_kind"].items(), key=lambda kv: kv[1][1]):
        print(f"{kind:<16}{n:>10,}{mean:>10,.0f}{top:>10,.0f}")
    deep = res["deep_bytes_per_account"]
    print(
        f"deep size   bytes/account: {deep:,.0f} (incl. {res['table_bytes_per_account']:.0f} "
        f"for the id -> state table; heaviest account {res['max_account_bytes']:,.0f})"
    )
    print(f"pickle      bytes/account: {res['pickle_bytes_per_account']:,.0f} (one dump)")
    if args.traced:
        traced = traced_bytes(impl, min(args.traced, args.accounts), args.seed)
        print(f"tracemalloc bytes/account: {traced:,.0f} (first {args.traced:,} accounts)")
        deep = max(deep, traced)
    print(
        f"one million accounts: {deep * 1e6 / 2**30:.2f} GiB; "
        f"{deep / _BUDGET_BYTES:.0%} of the {_BUDGET_BYTES} B/account budget"
    )


if __name__ == "__main__":
    main()
