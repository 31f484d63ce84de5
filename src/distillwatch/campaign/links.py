"""Links between accounts, merged online into operator groups.

Strong links (the same payment instrument, carrying the same flagged prompt
family) merge accounts directly with a union-find; each group keeps running
aggregates so a campaign's size, volume and flagged share are known at every
step of the online replay without rescanning its members.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GroupAggregate", "OperatorGroups"]


_DAY = 86400.0


@dataclass(slots=True)
class GroupAggregate:
    """Running totals of one group of linked accounts."""

    members: int = 0
    flagged: int = 0  # members whose own or pattern evidence reached `suspicious`
    exchanges: int = 0
    first_ts: float = float("inf")
    last_ts: float = 0.0
    days: dict[int, int] = field(default_factory=dict)  # day number -> exchanges
    models: dict[str, list[float]] = field(default_factory=dict)  # model -> [first_ts, count]
    links: dict[str, int] = field(default_factory=dict)  # link kind -> merges

    def count_exchange(self, ts: float, model: str | None) -> None:
        """Add one exchange of a member to the running totals."""
        self.exchanges += 1
        if ts < self.first_ts:
            self.first_ts = ts
        if ts > self.last_ts:
            self.last_ts = ts
        day = int(ts // _DAY)
        self.days[day] = self.days.get(day, 0) + 1
        if model:
            m = self.models.get(model)
            if m is None:
                self.models[model] = [ts, 1]
            else:
                m[1] += 1

    def absorb(self, other: GroupAggregate) -> None:
        self.members += other.members
        self.flagged += other.flagged
        self.exchanges += other.exchanges
        self.first_ts = min(self.first_ts, other.first_ts)
        self.last_ts = max(self.last_ts, other.last_ts)
        for d, c in other.days.items():
            self.days[d] = self.days.get(d, 0) + c
        for m, (first, count) in other.models.items():
            mine = self.models.get(m)
            if mine is None:
                self.models[m] = [first, count]
            else:
                mine[0] = min(mine[0], first)
                mine[1] += count
        for k, c in other.links.items():
            self.links[k] = self.links.get(k, 0) + c


class OperatorGroups:
    """Union-find over account ids and link keys (``pay:…``, ``fam:…``)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.aggregate: dict[str, GroupAggregate] = {}

    def find(self, node: str) -> str:
        parent = self.parent
        root = node
        while True:
            p = parent.get(root)
            if p is None or p == root:
                break
            root = p
        while node != root:  # path compression
            nxt = parent[node]
            parent[node] = root
            node = nxt
        return root

    def add_account(self, account_id: str) -> None:
        if account_id not in self.parent:
            self.parent[account_id] = account_id
            self.aggregate[account_id] = GroupAggregate(members=1)

    def union(self, a: str, b: str, kind: str) -> str:
        """Merge the groups of ``a`` and ``b`` (link keys have no aggregate of their own)."""
        ra, rb = self.find(a), self.find(b)
        if a not in self.parent:
            self.parent[a] = a
        if b not in self.parent:
            self.parent[b] = b
        if ra == rb:
            return ra
        agg_a, agg_b = self.aggregate.get(ra), self.aggregate.get(rb)
        # keep the bigger group's root so ids stay stable as campaigns grow
        if (agg_b.members if agg_b else 0) > (agg_a.members if agg_a else 0):
            ra, rb, agg_a, agg_b = rb, ra, agg_b, agg_a
        self.parent[rb] = ra
        if agg_b is not None:
            del self.aggregate[rb]
            if agg_a is None:
                self.aggregate[ra] = agg_b
                agg_a = agg_b
            else:
                agg_a.absorb(agg_b)
        if agg_a is not None:
            agg_a.links[kind] = agg_a.links.get(kind, 0) + 1
        return ra

    def group_of(self, account_id: str) -> tuple[str, GroupAggregate]:
        root = self.find(account_id)
        return root, self.aggregate[root]
