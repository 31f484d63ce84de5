"""Stream a labelled benchmark: ``exchanges.jsonl`` plus a separate ``labels.jsonl``.

Accounts are cut into shards of at most ``shard_size``. For each shard the
generator walks the 14 days, asks every account for the (cheap) plan of the
next day, sorts the shard's pending plans and renders only those that fall in
the current day; later ones wait for the next day. Memory is therefore
bounded by one shard's day of plans, whatever the scale. Within a shard the
output is in time order; with a single shard (scale up to about 1.3) the whole
file is, and beyond that it is a concatenation of sorted runs (``scan`` sorts).

Labels go to their own file and nowhere else: account ids are seeded hashes,
and no record carries its population or campaign name.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from distillwatch.bench.campaigns import ATTACK_CAMPAIGNS
from distillwatch.bench.populations import BENIGN_POPULATIONS, Population
from distillwatch.bench.textsource import TextSource
from distillwatch.bench.world import Account, Calendar, World

__all__ = [
    "GenerateResult",
    "all_populations",
    "iter_labels",
    "iter_exchanges",
    "generate",
    "DEFAULT_SHARD_SIZE",
]

DEFAULT_SHARD_SIZE = 4096


@dataclass
class GenerateResult:
    out_dir: Path
    exchanges_path: Path
    labels_path: Path
    exchanges: int
    accounts: int
    attack_accounts: int
    accounts_by_group: dict[str, int] = field(default_factory=dict)
    exchanges_by_group: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def all_populations() -> list[Population]:
    """Every benign population and attack campaign, in a fixed order."""
    return [cls() for cls in (*BENIGN_POPULATIONS, *ATTACK_CAMPAIGNS)]


def iter_labels(world: World, pops: list[Population] | None = None) -> Iterator[dict[str, str]]:
    for pop in pops or all_populations():
        for i in range(pop.n_accounts(world)):
            yield {"account_id": pop._aid(world, i), "label": pop.label, "group": pop.group}


def _shards(
    world: World, pops: list[Population], shard_size: int
) -> Iterator[list[tuple[int, int]]]:
    shard: list[tuple[int, int]] = []
    for p, pop in enumerate(pops):
        for i in range(pop.n_accounts(world)):
            shard.append((p, i))
            if len(shard) >= shard_size:
                yield shard
                shard = []
    if shard:
        yield shard


def _iter_tagged(
    world: World, pops: list[Population], shard_size: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    cal = world.calendar
    for shard in _shards(world, pops, shard_size):
        accounts: dict[tuple[int, int], Account] = {
            key: pops[key[0]].account(world, key[1]) for key in shard
        }
        pending: list[tuple[Any, ...]] = []

        def plan(
            day: int,
            _accounts: dict[tuple[int, int], Account] = accounts,
            _pending: list[tuple[Any, ...]] = pending,
        ) -> None:
            for (p, i), acct in _accounts.items():
                for ts, kind, seed, args in pops[p].plan_day(world, acct, i, day):
                    if ts >= acct.created_at:  # nothing is sent before the account exists
                        _pending.append((ts, p, i, seed, kind, args))

        plan(0)
        for day in range(cal.days):
            if day + 1 < cal.days:
                plan(day + 1)  # sessions of far-east time zones start in the previous UTC day
            pending.sort()
            cut = cal.day_start(day + 1) if day + 1 < cal.days else float("inf")
            k = 0
            while k < len(pending) and pending[k][0] < cut:
                ts, p, i, seed, kind, args = pending[k]
                yield p, pops[p].render(world, accounts[(p, i)], ts, kind, seed, args)
                k += 1
            del pending[:k]


def iter_exchanges(
    source: TextSource,
    *,
    scale: float = 1.0,
    seed: int = 0,
    shard_size: int = DEFAULT_SHARD_SIZE,
    calendar: Calendar | None = None,
) -> Iterator[dict[str, Any]]:
    """Exchange-log v1 records, lazily: nothing is generated until asked for."""
    world = World(seed=seed, scale=scale, source=source, calendar=calendar or Calendar())
    for _, record in _iter_tagged(world, all_populations(), shard_size):
        yield record


def generate(
    out_dir: str | Path,
    *,
    source: TextSource,
    scale: float = 1.0,
    seed: int = 0,
    shard_size: int = DEFAULT_SHARD_SIZE,
    calendar: Calendar | None = None,
) -> GenerateResult:
    """Write ``exchanges.jsonl`` and ``labels.jsonl`` into ``out_dir``; deterministic per seed."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = World(seed=seed, scale=scale, source=source, calendar=calendar or Calendar())
    pops = all_populations()
    labels_path, exchanges_path = out / "labels.jsonl", out / "exchanges.jsonl"
    by_group: Counter[str] = Counter()
    attack = 0
    with labels_path.open("wb") as fh:
        for row in iter_labels(world, pops):
            by_group[row["group"]] += 1
            attack += row["label"] == "attack"
            fh.write(orjson.dumps(row) + b"\n")
    ex_by_group: Counter[str] = Counter()
    total = 0
    with exchanges_path.open("wb", buffering=1 << 20) as fh:
        for p, record in _iter_tagged(world, pops, shard_size):
            fh.write(orjson.dumps(record) + b"\n")
            ex_by_group[pops[p].group] += 1
            total += 1
    return GenerateResult(
        out_dir=out,
        exchanges_path=exchanges_path,
        labels_path=labels_path,
        exchanges=total,
        accounts=sum(by_group.values()),
        attack_accounts=attack,
        accounts_by_group=dict(by_group),
        exchanges_by_group=dict(ex_by_group),
        seconds=time.perf_counter() - started,
    )
