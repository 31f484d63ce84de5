"""The online engine and the hindsight re-clustering at the reported campaign size.

    python benchmarks/campaign_scale.py [--exchanges 2000000] [--accounts 24000] [--seed 7]
                                        [--out docs/benchmarks-campaign.md | --no-write]

The reported operations sent ~16M exchanges through ~24,000 accounts. This
script synthesizes that many accounts (benign chat users, corporate accounts
behind shared NATs, SaaS products, eval/judge teams) with a few campaigns of
hundreds of accounts mixed in (shared cards and lockstep night shifts; rotating
cloud addresses; a tool-harvesting operation that pivots to a new model; a
hydra reseller hiding a harvesting template in cover traffic), and streams
exchanges in time order into :meth:`Engine.observe` with precomputed content
signals, so only the sequential part of the engine is measured. The default
2M exchanges finish in minutes (the script then projects the time of 16M from
the measured rate); ``--exchanges 16000000`` is the full size. Progress lines on
stderr carry the rate and the resident memory, to stop a run that outgrows the
machine.

It prints and writes: exchanges/s of ``observe`` (generation excluded), peak
RSS and bytes per account, ``finalize`` and ``recluster`` times (with how many
accounts the re-clustering indexed: its seeds' neighbourhood), recall per
campaign and benign flags, and the adjusted Rand index between the online
operator groups and the re-clustering over flagged accounts (and of both
against the synthetic truth).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import resource
import sys
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from distillwatch.campaign.graph import ReclusterStats, recluster
from distillwatch.detectors.base import Signal
from distillwatch.engine import Engine
from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn

__all__ = ["Population", "build_world", "stream", "main"]

_T0 = 1_769_904_000.0  # 2026-02-01 UTC
_DAY = 86400.0
_FULL_SIZE = 16_000_000
_CHUNK = 20_000
_VOCAB = [
    "data",
    "model",
    "plan",
    "river",
    "cloud",
    "train",
    "paper",
    "garden",
    "market",
    "letter",
    "sensor",
    "budget",
    "kernel",
    "recipe",
    "travel",
    "invoice",
    "chapter",
    "meeting",
    "summary",
    "lesson",
    "theory",
    "engine",
    "harbor",
    "signal",
    "forest",
    "mirror",
    "ticket",
    "window",
    "desert",
    "coffee",
    "portal",
    "folder",
    "canvas",
    "orbit",
    "violin",
    "ladder",
    "museum",
    "tunnel",
    "pepper",
    "rocket",
    "blanket",
    "castle",
    "diary",
    "feather",
    "glacier",
    "hammer",
    "island",
    "jacket",
]
_UAS = (
    "openai-python/1.99.0",
    "anthropic-sdk-python/0.40.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "langchain-openai/0.3.1 python-httpx/0.27.2",
    "node-fetch/3.3.2",
)
_TLS = ("t13d1516h2_8daaf6152771", "t13d1715h2_5b57614c22b0", "t13d0912h2_a09f3c656075")


def _sig(name: str, score: float, cap: str | None) -> Signal:
    return Signal(name, score, f"synthetic {name}", cap)


# precomputed signal lists, shared by every exchange that carries them
_COT = [_sig("content.cot_demand", 0.8, "cot_elicitation")]
_RM = [_sig("content.reward_grading", 0.75, "reward_grading")]
_CENSOR = [_sig("content.censorship_rewrite", 0.7, "censorship_rewrite")]
_AGENT = [
    _sig("content.agent_trajectory", 0.65, "agentic"),
    _sig("capability.coding", 0.3, "coding"),
]
_TOOLS = [
    _sig("content.synthetic_tool_task", 0.6, "tool_use"),
    _sig("capability.tool_use", 0.3, "tool_use"),
]
_VISION = [_sig("capability.vision", 0.3, "vision"), _sig("content.cot_demand", 0.5, None)]
_DATA = [_sig("capability.data_analysis", 0.3, "data_analysis")]
_JUDGE = [_sig("content.reward_grading", 0.6, "reward_grading")]
_CODING = [_sig("capability.coding", 0.3, "coding")]


@dataclass(slots=True)
class Account:
    account_id: str
    truth: str  # population name; campaigns' names are their ground truth
    info: AccountInfo
    clients: list[ClientInfo]  # one per exchange is picked; rotating accounts have many
    org_id: str | None = None


@dataclass(slots=True)
class Population:
    """One kind of traffic: its accounts, share of exchanges, hours and content."""

    name: str
    attack: bool
    share: float
    hours: list[float]  # relative activity by UTC hour
    content: Callable[[random.Random, float, int], tuple[str, str, list[Signal], str]]
    skew: float = 1.0  # > 1: a few accounts send most of the traffic
    accounts: list[Account] = field(default_factory=list)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_VOCAB) for _ in range(n))


def _chat(rng: random.Random, ts: float, member: int = 0) -> tuple[str, str, list[Signal], str]:
    return "", f"{_words(rng, 7)} {_words(rng, 6)}?", [], "model-flagship"


def _templated(templates: list[str], signal_sets: list[list[Signal]], system: str, pivot=False):
    """Content of an operation: a fixed instruction sentence, a unique item after it."""

    def content(rng: random.Random, ts: float, member: int) -> tuple[str, str, list[Signal], str]:
        model = "model-flagship"
        if pivot and ts >= _T0 + 7 * _DAY and rng.random() < 0.5:
            model = "model-new"
        k = rng.randrange(len(templates))
        text = f"{templates[k]}.\n{_words(rng, 9)} {rng.randrange(10**6)}"
        return system, text, signal_sets[k % len(signal_sets)], model

    return content


def _judge(rng: random.Random, ts: float, member: int) -> tuple[str, str, list[Signal], str]:
    """Eval and LLM-as-judge teams: each team (five accounts) grades with its own rubric."""
    team = member // 5
    text = (
        f"Grade the answer below against rubric number {team} of team {_VOCAB[team % len(_VOCAB)]} {_VOCAB[team // len(_VOCAB)]}.\n"
        f"{_words(rng, 9)}"
    )
    return "You are a strict grader.", text, _JUDGE, "model-flagship"


def _hydra(rng: random.Random, ts: float, member: int) -> tuple[str, str, list[Signal], str]:
    if rng.random() < 0.3:
        text = (
            "Imagine and articulate the internal reasoning behind this completed response step by step.\n"
            f"{_words(rng, 10)}"
        )
        return "", text, _COT, "model-flagship"
    return _chat(rng, ts)


def _profile(active: range | None, base: float = 0.0) -> list[float]:
    if active is None:  # a human rhythm over mixed time zones
        return [0.3 + math.exp(-(((h - 14) / 4) ** 2)) for h in range(24)]
    return [1.0 if h in active else base for h in range(24)]


def _ip(rng: random.Random) -> str:
    return (
        f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    )


def build_world(n_accounts: int, seed: int) -> list[Population]:
    """Populations scaled to ``n_accounts`` (campaigns keep their hundreds of accounts)."""
    rng = random.Random(seed)
    scale = n_accounts / 24_000
    pops = [
        Population("chat", False, 0.25, _profile(None), _chat, skew=2.0),
        Population("corporate_nat", False, 0.08, _profile(range(7, 18), 0.05), _chat),
        Population(
            "saas",
            False,
            0.12,
            _profile(None),
            _templated(["Summarize the customer ticket below in two sentences"], [_CODING], ""),
            skew=1.5,
        ),
        Population("eval_judge", False, 0.05, _profile(range(24)), _judge),
        Population(
            "attack:reasoning_rm",
            True,
            0.03,
            _profile(range(1, 6)),
            _templated(
                [
                    "Write out the internal reasoning behind the completed response step by step",
                    "Score this response using the rubric below and justify each criterion",
                    "Rewrite the question so that it is safe to answer in a neutral way",
                ],
                [_COT, _RM, _CENSOR],
                "You are an expert analyst who explains every step of your reasoning.",
            ),
        ),
        Population(
            "attack:agentic_multi",
            True,
            0.12,
            _profile(range(24)),
            _templated(
                [
                    "Act as an autonomous coding agent and solve the task with the tools given",
                    "Analyse the attached table and report every intermediate computation",
                    "Describe the screenshot and plan the next computer-use action in detail",
                ],
                [_AGENT, _DATA + _COT, _VISION],
                "You are an agent with access to a shell, a browser and a python tool.",
            ),
        ),
        Population(
            "attack:tool_orchestration",
            True,
            0.25,
            _profile(range(24)),
            _templated(
                [
                    "Call the right tools in the right order to complete the workflow described",
                    "Produce the full tool-call trajectory for the orchestration task below",
                ],
                [_TOOLS],
                "You orchestrate tools. Always emit every tool call explicitly.",
                pivot=True,
            ),
        ),
        Population("attack:hydra_reseller", True, 0.10, _profile(None), _hydra),
    ]
    sizes = {
        "corporate_nat": round(1000 * scale),
        "saas": round(150 * scale),
        "eval_judge": round(100 * scale),
        "attack:reasoning_rm": 300,
        "attack:agentic_multi": 600,
        "attack:tool_orchestration": 900,
        "attack:hydra_reseller": 1400,
    }
    sizes["chat"] = max(n_accounts - sum(sizes.values()), 100)
    hydra_pool = [ClientInfo(ip=_ip(rng), user_agent=_UAS[0], asn=64600) for _ in range(500)]
    tool_pool = [
        ClientInfo(ip=_ip(rng), user_agent=_UAS[3], tls_fingerprint=_TLS[1], asn=16509)
        for _ in range(2000)
    ]
    agent_blocks = [f"198.18.{b}." for b in range(3)]
    serial = 0
    for pop in pops:
        for i in range(sizes[pop.name]):
            serial += 1
            acct_id = f"acct_{rng.getrandbits(40):010x}"
            created = _T0 - rng.uniform(1, 300) * _DAY
            tier, pay, domain, org, clients = (
                "free",
                f"pf_{rng.getrandbits(48):012x}",
                "mail.example",
                None,
                [],
            )
            if pop.name == "chat":
                clients = [
                    ClientInfo(
                        ip=_ip(rng), user_agent=rng.choice(_UAS), asn=rng.randrange(1000, 60000)
                    )
                ]
            elif pop.name == "corporate_nat":
                corp = i // 40
                org, domain, tier = f"org_corp{corp}", f"corp{corp}.example", "enterprise"
                pay = f"pf_corp{corp}_{i}"
                clients = [
                    ClientInfo(
                        ip=f"192.0.{corp % 250}.1",
                        user_agent=_UAS[0],
                        tls_fingerprint=_TLS[0],
                        asn=64512 + corp,
                    )
                ]
            elif pop.name in ("saas", "eval_judge"):
                tier = "startup"
                clients = [
                    ClientInfo(ip=_ip(rng), user_agent=_UAS[3], tls_fingerprint=_TLS[1], asn=16509)
                ]
            elif pop.name == "attack:reasoning_rm":
                tier, pay = "standard", f"pf_rm_card{i % 12}"
                created = _T0 - 20 * _DAY + (i // 20) * 3600 + rng.uniform(0, 300)  # sign-up bursts
                clients = [
                    ClientInfo(
                        ip=f"203.0.113.{1 + i % 250}",
                        user_agent=_UAS[0],
                        tls_fingerprint=_TLS[2],
                        asn=64700,
                    )
                ]
            elif pop.name == "attack:agentic_multi":
                tier = rng.choice(("free", "standard", "startup", "edu"))
                block = agent_blocks[i % 3]
                clients = [
                    ClientInfo(
                        ip=block + str(rng.randrange(1, 255)),
                        user_agent=rng.choice(_UAS),
                        asn=64800,
                    )
                    for _ in range(4)
                ]
            elif pop.name == "attack:tool_orchestration":
                tier, clients = "startup", tool_pool
            else:  # hydra reseller: a rotating pool, mixed customers
                clients = hydra_pool
            info = AccountInfo(
                created_at=created, tier=tier, payment_fingerprint=pay, email_domain=domain
            )
            pop.accounts.append(Account(acct_id, pop.name, info, clients, org))
    return pops


def stream(pops: list[Population], n: int, seed: int, days: float = 14.0):
    """Exchanges in time order, in lists of ``_CHUNK`` (generation is not timed)."""
    rng = random.Random(seed + 1)
    cum_by_hour = [
        list(accumulate(p.share * p.hours[h] / (sum(p.hours) / 24) for p in pops))
        for h in range(24)
    ]
    dt = days * _DAY / n
    chunk: list[tuple[Exchange, list[Signal]]] = []
    for i in range(n):
        ts = _T0 + i * dt
        cum = cum_by_hour[int(ts // 3600) % 24]
        pop = pops[min(bisect_right(cum, rng.random() * cum[-1]), len(pops) - 1)]
        accts = pop.accounts
        member = int(len(accts) * rng.random() ** pop.skew)
        acct = accts[member]
        system, text, signals, model = pop.content(rng, ts, member)
        client = (
            acct.clients[rng.randrange(len(acct.clients))]
            if len(acct.clients) > 1
            else acct.clients[0]
        )
        ex = Exchange(
            id=f"x{i}",
            ts=ts,
            account_id=acct.account_id,
            api="openai.chat.completions",
            model=model,
            system=system,
            turns=[Turn("user", text)],
            max_tokens=16384 if pop.attack and rng.random() < 0.5 else 1024,
            tool_schema_hash=f"ts_{rng.randrange(300)}"
            if pop.name == "attack:tool_orchestration"
            else None,
            input_tokens=200,
            output_tokens=600,
            org_id=acct.org_id,
            client=client,
            account=acct.info,
        )
        chunk.append((ex, signals))
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(args: argparse.Namespace) -> list[str]:
    pops = build_world(args.accounts, args.seed)
    truth = {a.account_id: p.name for p in pops for a in p.accounts}
    attack = {p.name for p in pops if p.attack}
    gc.collect()
    rss_before = _rss_bytes()
    engine = Engine(detectors=[])
    observe_s, observe_cpu, seen = 0.0, 0.0, 0
    report_every = max(args.exchanges // 20, _CHUNK)
    started = time.perf_counter()
    for chunk in stream(pops, args.exchanges, args.seed):
        t, c = time.perf_counter(), time.process_time()
        for ex, signals in chunk:
            engine.observe(ex, signals)
        observe_s += time.perf_counter() - t
        observe_cpu += time.process_time() - c
        seen += len(chunk)
        if seen % report_every < _CHUNK:
            print(
                f"  {seen:>10,} exchanges, {seen / observe_cpu:,.0f}/s of CPU, "
                f"{seen / observe_s:,.0f}/s of wall time, RSS {_rss_bytes() / 2**20:,.0f} MiB, "
                f"{(time.perf_counter() - started) / 60:.1f} min",
                file=sys.stderr,
            )
    del chunk
    gc.collect()
    rss_after = _rss_bytes()
    rate, wall_rate = seen / observe_cpu, seen / observe_s

    c = time.process_time()
    engine.finalize()
    finalize_s = time.process_time() - c
    flagged = sorted(a for a, st in engine.accounts.items() if st.verdict != "benign")
    c = time.process_time()
    stats = ReclusterStats()
    clusters = recluster(engine.accounts, engine.flagged_families, seeds=flagged, stats=stats)
    recluster_s = time.process_time() - c

    cluster_of = {a: i for i, c in enumerate(clusters) for a in c.accounts}
    online = [engine.groups.find(a) for a in flagged]
    hindsight = [f"c{cluster_of[a]}" if a in cluster_of else f"s:{a}" for a in flagged]
    real = [truth[a] if truth[a] in attack else f"b:{a}" for a in flagged]
    ari = adjusted_rand_score(online, hindsight) if flagged else float("nan")
    ari_online = adjusted_rand_score(real, online) if flagged else float("nan")
    ari_hindsight = adjusted_rand_score(real, hindsight) if flagged else float("nan")

    n_acc = len(engine.accounts)
    per_pop: dict[str, tuple[int, int, int]] = {}
    flagged_set = set(flagged)
    for p in pops:
        ids = [a.account_id for a in p.accounts if a.account_id in engine.accounts]
        per_pop[p.name] = (
            len(ids),
            sum(1 for a in ids if a in flagged_set),
            sum(1 for a in ids if a in cluster_of),
        )
    benign_in_clusters = sum(1 for a in cluster_of if truth[a] not in attack)
    projected = (
        f"; projected for 16M exchanges: {_FULL_SIZE / rate / 60:.1f} CPU-min"
        if seen < _FULL_SIZE
        else f"; all {seen:,} in {observe_cpu / 60:.1f} CPU-min ({observe_s / 60:.1f} min of wall time)"
    )

    lines = [
        f"- exchanges observed: {seen:,} over {n_acc:,} accounts "
        f"({len(engine.flagged_families)} prompt families flagged)",
        f"- `Engine.observe`: {rate:,.0f} exchanges per CPU-second ({1e6 / rate:.1f} µs each; "
        f"{wall_rate:,.0f}/s of wall time on this shared machine){projected}",
        f"- memory: peak RSS {_peak_rss_bytes() / 2**20:,.0f} MiB; engine growth "
        f"{(rss_after - rss_before) / 2**20:,.0f} MiB = {(rss_after - rss_before) / n_acc:,.0f} B "
        "per account (families and template tables included)",
        f"- `Engine.finalize` (re-scoring, one `recluster` included): {finalize_s:.2f} CPU-s; "
        f"`recluster` alone over {len(flagged):,} flagged accounts: {recluster_s:.2f} CPU-s, "
        f"{len(clusters)} clusters (sizes {', '.join(str(len(c.accounts)) for c in clusters[:8])}"
        f"{', ...' if len(clusters) > 8 else ''}); {stats.passes} counting passes over the "
        f"{n_acc:,} accounts, {len(stats.indexed):,} accounts indexed, {stats.nodes:,} in the graph",
        f"- agreement online groups vs re-clustering (ARI over flagged accounts): {ari:.3f}; "
        f"vs truth: online {ari_online:.3f}, re-clustering {ari_hindsight:.3f}",
        f"- benign accounts placed in a cluster: {benign_in_clusters}",
        "",
        "| population | accounts | flagged | in a cluster |",
        "|---|---:|---:|---:|",
    ]
    for name, (total, flg, clu) in per_pop.items():
        lines.append(f"| {name} | {total:,} | {flg:,} ({flg / max(total, 1):.0%}) | {clu:,} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=2_000_000)
    parser.add_argument("--accounts", type=int, default=24_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="docs/benchmarks-campaign.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = "python benchmarks/campaign_scale.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    load = os.getloadavg()[0]
    started = time.perf_counter()
    lines = run(args)
    wall = time.perf_counter() - started
    lines.append("")
    lines.append(f"Wall time of the whole run (generation included): {wall / 60:.1f} min.")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        doc = (
            "# Campaign detection at scale\n\n"
            "Measured by `benchmarks/campaign_scale.py` (synthetic accounts and exchanges, "
            "content signals precomputed, so only the engine's sequential part is timed; "
            "one process on this 2-core machine). Times are CPU time of the process, since "
            "other jobs share the machine (load average at the start: "
            f"{load:.1f}).\n\n"
            f"```\n{command.strip()}\n```\n\n{text}\n\n"
            "The synthetic world is easy on purpose (campaigns differ cleanly from benign "
            "traffic): these figures measure speed, memory and whether the online groups and "
            "the re-clustering agree at full size, not detection quality, which `distillwatch "
            "bench` measures.\n"
        )
        Path(args.out).write_text(doc, encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
