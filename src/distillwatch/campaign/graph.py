"""Hindsight re-clustering of flagged accounts into campaigns.

The online engine merges accounts with a union-find as links appear (same
payment instrument, same flagged prompt family). That is cheap and causal, but
it never splits a group that a generic link over-merged, and it ignores the
weak evidence (shared addresses, client stacks, sign-up bursts, lockstep
timing) that only means something in combination. :func:`recluster` looks at
everything at once, with hindsight:

1. **Indexes of the seeds' neighbourhood, not all pairs.** An account is
   described by the values it carries (payment fingerprint, flagged families,
   IPs, /24 and /48 networks, the (user agent, TLS, ASN) triple, organisation,
   e-mail domain, sign-up burst). The graph holds the seeds (accounts flagged
   now) and the accounts that share a value with them. Only those are indexed:
   a counting pass over all accounts learns how many share each of the seeds'
   values (the dilution below needs the count) and who carries the few specific
   ones, and keeps nothing of an account that carries none; a last pass counts
   the values linked accounts share among themselves. Memory and the graph work
   follow the seeds' neighbourhood, not the population: a pass reads each state
   and keeps nothing of it. Pairs are generated only inside small buckets.
2. **Dilution.** A value shared by many accounts (a corporate NAT, a stock SDK,
   a big organisation) is weak evidence: its weight falls with the number of
   accounts sharing it, it stops counting as evidence above ``specific_max``
   and is ignored above ``hub_cap``.
3. **Admissible links.** An account can join others only through a shared
   payment instrument, a shared flagged family both accounts use repeatedly,
   or at least two *independent* kinds of weak link with one other account (an
   address and its network are one kind). A shared NAT or organisation alone
   admits no one; a common capability focus (most developers' is coding) only
   adds weight.
4. **Strong links merge, weak links weigh.** Inside each group of admissibly
   linked accounts, payment groups are merged (union-find) and every link adds
   edge weight; Louvain community detection (fixed seed) splits what a generic
   link over-joined (two operators sharing a common harvesting template), and
   the admissible links are kept only inside a community.

The result is a list of :class:`Cluster` objects that contain at least one seed.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from distillwatch.behaviour.account import AccountState

__all__ = [
    "WeakKind",
    "ClusterConfig",
    "Cluster",
    "ReclusterStats",
    "recluster",
    "network_key",
]

_PAYMENT = "payment"
_FAMILY = "prompt_family"
_LOCKSTEP = "lockstep"
_FOCUS = "capability"
_WEIGHT_ONLY = ""  # independence class of links that add weight but never admit (focus)


@dataclass(slots=True, frozen=True)
class WeakKind:
    """How one kind of shared value counts as evidence.

    ``independence`` names the class of evidence: two kinds in one class (an
    address and its /24) are not independent and count once. ``specific_max``
    is the number of accounts sharing a value up to which the value counts as
    evidence; ``hub_cap`` the number beyond which it is ignored entirely.
    """

    independence: str
    weight: float
    specific_max: int
    hub_cap: int


def _default_kinds() -> dict[str, WeakKind]:
    return {
        "ip": WeakKind("network", 1.0, specific_max=6, hub_cap=400),
        "network": WeakKind("network", 0.6, specific_max=12, hub_cap=800),
        "client": WeakKind("client", 0.5, specific_max=12, hub_cap=800),
        "org": WeakKind("org", 0.5, specific_max=12, hub_cap=2000),
        "email_domain": WeakKind("org", 0.3, specific_max=8, hub_cap=800),
        "burst": WeakKind("burst", 0.6, specific_max=40, hub_cap=800),
    }


@dataclass(slots=True)
class ClusterConfig:
    """Thresholds of the re-clustering; the defaults favour precision."""

    kinds: dict[str, WeakKind] = field(default_factory=_default_kinds)
    burst_seconds: float = 600.0  # accounts created this close together, same tier
    family_strong_uses: int = 3  # uses of a shared flagged family that link two accounts alone
    family_weight: float = 3.0  # per carrier: a shared pattern outweighs shared infrastructure
    family_cap: int = 20_000  # a "family" carried by more accounts is not one operator's
    payment_cap: int = 2_000  # larger payment buckets are placeholders, not instruments
    lockstep_weight: float = 0.5
    lockstep_min_exchanges: int = 24
    lockstep_min_cosine: float = 0.9  # hour histograms
    lockstep_min_residual: float = 0.6  # same after removing the population's daily rhythm
    lockstep_min_days: float = 0.6  # Jaccard of the active days
    lockstep_min_focus: float = 2 / 3  # share of activity in the busiest 8 hours: a schedule
    focus_weight: float = 0.3
    focus_share: float = 0.5  # dominant capability's share of the account's requests
    focus_min_exchanges: int = 10
    hops: int = 1  # expansion from the seeds
    resolution: float = 1.0
    min_modularity: float = 0.3  # a split weaker than this is noise inside one dense campaign
    seed: int = 7


@dataclass(slots=True)
class Cluster:
    """Accounts re-clustered into one campaign.

    ``links`` counts the admissible links by kind; ``score`` (0..1) is the lift
    the cluster lends its members: it needs several flagged members, a real
    share of flagged members, and is higher when strong links hold it together.
    """

    accounts: list[str]
    links: dict[str, int]
    score: float
    flagged: int = 0  # members among the seeds


@dataclass(slots=True)
class ReclusterStats:
    """What one re-clustering touched: evidence that its work follows the seeds.

    ``indexed`` holds every account whose id or values were kept (the graph's
    accounts, and carriers of a seed's value recorded while it was still
    specific enough to link); an account sharing no value with a seed (with
    ``hops`` > 1: with an account linked to one) is never in it. ``passes`` counts the reads of all account states, ``values`` the
    distinct (kind, value) pairs counted over them, ``nodes`` the graph's size.
    """

    passes: int = 0
    values: int = 0
    nodes: int = 0
    indexed: set[str] = field(default_factory=set)


# ----------------------------------------------------------------- indexing
def network_key(ip: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) of an address, fast for dotted quads."""
    if ip.count(".") == 3 and ":" not in ip:
        head, _, last = ip.rpartition(".")
        if last.isdigit() and all(p.isdigit() and int(p) < 256 for p in head.split(".")):
            return head + ".0/24"
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


_ALL_KINDS = frozenset(
    (_PAYMENT, _FAMILY, "ip", "network", "client", "org", "email_domain", "burst")
)


def _keys_of(
    st: AccountState,
    flagged: Mapping[str, float],
    burst: float,
    kinds: Collection[str] = _ALL_KINDS,
) -> list[tuple[str, str]]:
    """Every (kind, value) the account carries that could link it to another.

    ``kinds`` limits the work to the kinds a counting pass looks for: most of
    the cost is in addresses and networks, which a pass often does not need.
    """
    keys: list[tuple[str, str]] = []
    if st.payment_fingerprint and _PAYMENT in kinds:
        keys.append((_PAYMENT, st.payment_fingerprint))
    if _FAMILY in kinds:
        for fam in st.families.counts:
            if fam in flagged:
                keys.append((_FAMILY, fam))
    want_ip, want_net = "ip" in kinds, "network" in kinds
    if want_ip or want_net:
        ips = set(st.ips)
        if st.last_ip:
            ips.add(st.last_ip)
        nets: set[str] = set()
        for ip in sorted(ips):
            if want_ip:
                keys.append(("ip", ip))
            if want_net:
                net = network_key(ip)
                if net is not None and net not in nets:
                    nets.add(net)
                    keys.append(("network", net))
    if st.last_user_agent and st.last_tls and "client" in kinds:
        keys.append(("client", f"{st.last_user_agent}\x1f{st.last_tls}\x1f{st.last_asn}"))
    if st.org_id and "org" in kinds:
        keys.append(("org", st.org_id))
    if st.email_domain and "email_domain" in kinds:
        keys.append(("email_domain", st.email_domain.lower()))
    if st.created_at is not None and st.tier is not None and "burst" in kinds:
        # two grids offset by half a window: any two sign-ups within half a window share a cell
        slot = st.created_at / burst
        keys.append(("burst", f"{st.tier}|a{math.floor(slot)}"))
        keys.append(("burst", f"{st.tier}|b{math.floor(slot + 0.5)}"))
    return keys


class _UnionFind:
    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while (p := parent.get(root, root)) != root:
            root = p
        while x != root:
            nxt = parent[x]
            parent[x] = root
            x = nxt
        return root

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb < ra:  # smallest id is the root: independent of the order of unions
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


# ------------------------------------------------------------------ census
class _Census:
    """How many accounts carry chosen values, counted one pass over all states at a time.

    The dilution of a shared value needs its count over the whole population,
    but only the values of the seeds' neighbourhood are ever asked for. A pass
    counts those alone and keeps a value's carriers only while few enough
    carry it for it to link accounts; an account carrying none of them leaves
    nothing behind. The first pass also learns the population's daily rhythm,
    the background against which lockstep timing is judged.
    """

    def __init__(
        self,
        accounts: Mapping[str, AccountState],
        flagged: Mapping[str, float],
        cfg: ClusterConfig,
        stats: ReclusterStats,
    ) -> None:
        self.accounts = accounts
        self.flagged = flagged
        self.cfg = cfg
        self.stats = stats
        self.count: dict[tuple[str, str], int] = {}
        self.carriers: dict[tuple[str, str], list[str]] = {}
        self.background: np.ndarray | None = None

    def linking_limit(self, kind: str) -> int:
        """Carriers up to which a value is usable and specific enough to link accounts."""
        cfg = self.cfg
        if kind == _PAYMENT:
            return cfg.payment_cap
        if kind == _FAMILY:
            return cfg.family_cap
        spec = cfg.kinds[kind]
        return min(spec.specific_max, spec.hub_cap)

    def run(self, want: set[tuple[str, str]], keep_carriers: bool) -> None:
        """Count ``want`` over all accounts (and their carriers while they can link)."""
        first = self.background is None
        if not want and not first:
            return
        self.stats.passes += 1
        count, carriers, indexed = self.count, self.carriers, self.stats.indexed
        for key in want:
            count[key] = 0
        kinds = frozenset(kind for kind, _ in want)
        limits = {key: self.linking_limit(key[0]) for key in want} if keep_carriers else {}
        flagged, burst = self.flagged, self.cfg.burst_seconds
        minimum = self.cfg.lockstep_min_exchanges
        background = np.zeros(24)
        rhythms = 0
        for acct, st in self.accounts.items():
            if first:  # same order and arithmetic as a separate loop: results do not move
                hours = st.hours
                total = sum(hours)
                if total >= minimum:
                    background += np.asarray(hours, dtype=float) / total
                    rhythms += 1
            if not kinds:
                continue
            for key in _keys_of(st, flagged, burst, kinds):
                if key not in want:
                    continue
                n = count[key] = count[key] + 1
                if keep_carriers:
                    limit = limits[key]
                    if n <= limit:
                        carriers.setdefault(key, []).append(acct)
                        indexed.add(acct)
                    elif n == limit + 1:  # too common to link: forget who carries it
                        carriers.pop(key, None)
        if first:
            background /= max(rhythms, 1)
            self.background = background
        self.stats.values = len(count)

    def rhythm(self) -> np.ndarray:
        """The population's mean hour profile (a pass of its own if none has run)."""
        if self.background is None:
            self.run(set(), keep_carriers=False)
        assert self.background is not None
        return self.background


# ------------------------------------------------------------ timing, focus
class _Behaviour:
    """Hour-of-day profiles and capability focus of the graph's accounts."""

    def __init__(
        self,
        accounts: Mapping[str, AccountState],
        nodes: Iterable[str],
        background: np.ndarray,
        cfg: ClusterConfig,
    ) -> None:
        self.cfg = cfg
        self.accounts = accounts
        self.profile: dict[str, np.ndarray] = {}
        self.residual: dict[str, np.ndarray] = {}
        self.focus: dict[str, str] = {}
        for acct in nodes:
            st = accounts[acct]
            self._learn_rhythm(acct, st.hours, background)
            if st.n >= cfg.focus_min_exchanges and st.capabilities:
                cap, k = max(st.capabilities.items(), key=lambda kv: (kv[1], kv[0]))
                if k >= cfg.focus_share * st.n:
                    self.focus[acct] = cap

    def _learn_rhythm(self, acct: str, hours: list[int], background: np.ndarray) -> None:
        """Keep an account's hour profile only when it is a schedule of its own."""
        total = sum(hours)
        if total < self.cfg.lockstep_min_exchanges:
            return
        p = np.asarray(hours, dtype=float) / total
        if float(np.sort(p)[-8:].sum()) < self.cfg.lockstep_min_focus:
            return  # round the clock: 24 hourly bins cannot tell one scheduler from another
        norm = float(np.linalg.norm(p))
        r = p - background
        rnorm = float(np.linalg.norm(r))
        if rnorm < 0.25 * norm:
            return  # the population's common rhythm is no signature
        self.profile[acct] = p / norm
        self.residual[acct] = r / rnorm

    def lockstep(self, a: str, b: str) -> bool:
        """Active in the same hours of the same days, in a rhythm the population lacks."""
        pa, pb = self.profile.get(a), self.profile.get(b)
        ra, rb = self.residual.get(a), self.residual.get(b)
        if pa is None or pb is None or ra is None or rb is None:
            return False
        cfg = self.cfg
        if float(pa @ pb) < cfg.lockstep_min_cosine or float(ra @ rb) < cfg.lockstep_min_residual:
            return False
        sa, sb = self.accounts[a], self.accounts[b]
        base = min(sa.first_day, sb.first_day)
        da = sa.day_mask << (sa.first_day - base)
        db = sb.day_mask << (sb.first_day - base)
        union = (da | db).bit_count()
        return union > 0 and (da & db).bit_count() / union >= cfg.lockstep_min_days

    def same_focus(self, a: str, b: str) -> bool:
        fa = self.focus.get(a)
        return fa is not None and fa == self.focus.get(b)


# ------------------------------------------------------------------- main
def recluster(
    accounts: Mapping[str, AccountState],
    flagged_families: Mapping[str, float],
    *,
    seeds: Iterable[str],
    config: ClusterConfig | None = None,
    stats: ReclusterStats | None = None,
) -> list[Cluster]:
    """Campaigns among the seeds and the accounts linked to them, with hindsight.

    Reads the account states and changes nothing; deterministic for a
    given input. Clusters have at least two accounts and one seed; they are
    sorted by size, then by their first account id. Pass ``stats`` to learn
    what was read and indexed (a benchmark's or a test's question).
    """
    cfg = config or ClusterConfig()
    stats = stats if stats is not None else ReclusterStats()
    seed_set = {s for s in seeds if s in accounts}
    if not seed_set:
        return []

    # 1. the seeds' values, counted over all accounts; nothing else is indexed
    census = _Census(accounts, flagged_families, cfg, stats)
    count = census.count
    keys_by_account = {
        acct: _keys_of(accounts[acct], flagged_families, cfg.burst_seconds)
        for acct in sorted(seed_set)
    }

    def usable(key: tuple[str, str]) -> bool:
        kind, m = key[0], count[key]
        if kind == _PAYMENT:
            return m <= cfg.payment_cap
        if kind == _FAMILY:
            return m <= cfg.family_cap
        return m <= cfg.kinds[kind].hub_cap

    def counts(key: tuple[str, str]) -> bool:
        """Whether a shared value is specific enough to count as evidence."""
        kind = key[0]
        if kind in (_PAYMENT, _FAMILY):
            return True
        return count[key] <= cfg.kinds[kind].specific_max

    # 2. the graph's accounts: seeds plus what shares a specific value with them
    nodes = set(seed_set)
    frontier = sorted(seed_set)
    for _ in range(cfg.hops):
        census.run(
            {key for acct in frontier for key in keys_by_account[acct] if key not in count},
            keep_carriers=True,
        )
        reached: set[str] = set()
        for acct in frontier:
            for key in keys_by_account[acct]:
                if usable(key) and counts(key):
                    reached.update(census.carriers[key])
        frontier = sorted(reached - nodes)
        nodes |= reached
        for acct in frontier:
            keys_by_account[acct] = _keys_of(accounts[acct], flagged_families, cfg.burst_seconds)
    census.carriers.clear()
    ordered_nodes = sorted(nodes)
    stats.nodes = len(ordered_nodes)
    stats.indexed.update(ordered_nodes)

    # values two graph accounts share are the only ones that can link: count the rest of them
    carried: dict[tuple[str, str], int] = {}
    for acct in ordered_nodes:
        for key in keys_by_account[acct]:
            carried[key] = carried.get(key, 0) + 1
    shared = {key for key, n in carried.items() if n >= 2}
    census.run(shared - count.keys(), keep_carriers=False)

    # 3. strong links merge first
    strong = _UnionFind()
    strong_links: list[str] = []  # accounts merged by payment (one entry per merge)
    local: dict[tuple[str, str], list[str]] = {}
    for acct in ordered_nodes:
        for key in keys_by_account[acct]:
            if key in shared and usable(key):
                local.setdefault(key, []).append(acct)
    for key, members in local.items():
        if key[0] == _PAYMENT:
            for other in members[1:]:
                if strong.union(members[0], other):
                    strong_links.append(other)

    # 4. weights: pair edges for specific values, hub nodes for common ones
    behaviour = _Behaviour(accounts, ordered_nodes, census.rhythm(), cfg)
    pair_kinds: dict[tuple[str, str], dict[str, float]] = {}
    hub_edges: dict[tuple[str, str], float] = {}
    for key in sorted(local):
        members = local[key]
        kind = key[0]
        if len(members) < 2 or kind == _PAYMENT:
            continue
        hub = f"\x00{kind}\x00{key[1]}"
        if kind == _FAMILY:
            risk = float(flagged_families.get(key[1], 0.0))
            for acct in members:
                uses = accounts[acct].families.counts.get(key[1], 0)
                w = cfg.family_weight * risk * min(1.0, math.log1p(uses) / math.log1p(10))
                _add(hub_edges, (acct, hub), w)
            continue
        spec = cfg.kinds[kind]
        m = count[key]
        w = spec.weight * min(1.0, spec.specific_max / m)
        if counts(key):  # few accounts by definition: pairs stay cheap
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    kinds = pair_kinds.setdefault((a, b), {})
                    if kinds.get(kind, 0.0) < w:
                        kinds[kind] = w
        else:  # too common to count as evidence: a hub adds a little weight, no pairs
            for acct in members:
                _add(hub_edges, (acct, hub), w / 2)

    for (a, b), kinds in pair_kinds.items():
        if behaviour.lockstep(a, b):
            kinds[_LOCKSTEP] = cfg.lockstep_weight
        if behaviour.same_focus(a, b):
            kinds[_FOCUS] = cfg.focus_weight

    # 5. admissible links, before any splitting: payment, repeated families, >= 2 weak kinds
    flagged_of = {
        a: {f for f in accounts[a].families.counts if f in flagged_families} for a in ordered_nodes
    }
    family_carriers: list[list[str]] = []
    for key in sorted(local):
        if key[0] == _FAMILY:
            uses_floor = cfg.family_strong_uses
            carriers = [
                a for a in local[key] if accounts[a].families.counts.get(key[1], 0) >= uses_floor
            ]
            if len(carriers) >= 2:
                family_carriers.append(carriers)
    weak_links: list[tuple[str, str, list[str]]] = []
    for (a, b), kinds in sorted(pair_kinds.items()):
        classes = {_independence(k, cfg) for k in kinds} - {_WEIGHT_ONLY}
        if flagged_of[a] & flagged_of[b]:
            classes.add(_FAMILY)
        if len(classes) >= 2:
            weak_links.append((a, b, sorted(kinds)))
    candidate = _UnionFind()
    for acct in strong_links:
        candidate.union(strong.find(acct), acct)
    for carriers in family_carriers:
        for other in carriers[1:]:
            candidate.union(carriers[0], other)
    for a, b, _ in weak_links:
        candidate.union(a, b)
    cand_of = {a: candidate.find(a) for a in ordered_nodes}
    candidates: dict[str, list[str]] = {}
    for acct in ordered_nodes:
        candidates.setdefault(cand_of[acct], []).append(acct)
    kept = {
        c
        for c, members in candidates.items()
        if len(members) >= 2 and seed_set.intersection(members)
    }

    # 6. Louvain inside each candidate: split what a generic link over-joined
    edges_by_cand: dict[str, dict[tuple[str, str], float]] = {c: {} for c in kept}
    for (a, b), kinds in pair_kinds.items():
        c = cand_of[a]
        if c in kept and cand_of[b] == c:
            ra, rb = strong.find(a), strong.find(b)
            if ra != rb:
                _add(edges_by_cand[c], (ra, rb) if ra < rb else (rb, ra), sum(kinds.values()))
    for (acct, hub), w in hub_edges.items():
        c = cand_of[acct]
        if c in kept:
            _add(edges_by_cand[c], (strong.find(acct), hub), w)
    comm_of: dict[str, tuple[str, int]] = {}
    for c in sorted(kept):
        members = candidates[c]
        community = _communities(members, edges_by_cand[c], strong, cfg)
        for acct in members:
            comm_of[acct] = (c, community.get(strong.find(acct), 0))

    # 7. admissible links inside each community
    joined = _UnionFind()
    events: list[tuple[str, str]] = []  # (account, link kind) of every admissible link
    strongly_joined: set[str] = set()
    for acct in strong_links:
        root = strong.find(acct)
        if acct in comm_of:
            joined.union(root, acct)
            events.append((acct, _PAYMENT))
            strongly_joined.update((acct, root))
    for carriers in family_carriers:
        by_comm: dict[tuple[str, int], list[str]] = {}
        for acct in carriers:
            if acct in comm_of:
                by_comm.setdefault(comm_of[acct], []).append(acct)
        for members in by_comm.values():
            if len(members) < 2:
                continue
            for other in members[1:]:
                if joined.union(members[0], other):
                    events.append((other, _FAMILY))
            strongly_joined.update(members)
    for a, b, kinds in weak_links:
        if a in comm_of and comm_of[a] == comm_of.get(b):
            joined.union(a, b)
            events.extend((a, k) for k in kinds)

    # 8. clusters: components of admissible links that hold a seed
    groups: dict[str, list[str]] = {}
    for acct in ordered_nodes:
        if acct in comm_of:
            groups.setdefault(joined.find(acct), []).append(acct)
    link_counts: dict[str, dict[str, int]] = {}
    for acct, kind in events:
        per = link_counts.setdefault(joined.find(acct), {})
        per[kind] = per.get(kind, 0) + 1
    clusters = []
    for root, members in groups.items():
        flagged = sum(1 for a in members if a in seed_set)
        if len(members) < 2 or not flagged:
            continue
        clusters.append(
            Cluster(
                accounts=members,
                links=dict(sorted(link_counts.get(root, {}).items())),
                score=_score(members, flagged, strongly_joined),
                flagged=flagged,
            )
        )
    clusters.sort(key=lambda c: (-len(c.accounts), c.accounts[0]))
    return clusters


def _communities(
    members: list[str],
    edges: dict[tuple[str, str], float],
    strong: _UnionFind,
    cfg: ClusterConfig,
) -> dict[str, int]:
    """Louvain communities (fixed seed) of one candidate's payment groups."""
    roots = sorted({strong.find(a) for a in members})
    if len(roots) < 3 or not edges:
        return {}
    graph = nx.Graph()
    graph.add_nodes_from(roots)
    for (u, v), w in sorted(edges.items()):
        graph.add_edge(u, v, weight=w)
    parts = nx.community.louvain_communities(
        graph, weight="weight", resolution=cfg.resolution, seed=cfg.seed
    )
    if len(parts) < 2:
        return {}
    quality = nx.community.modularity(graph, parts, weight="weight", resolution=cfg.resolution)
    if quality < cfg.min_modularity:
        return {}
    community: dict[str, int] = {}
    for i, part in enumerate(sorted((sorted(p) for p in parts), key=lambda p: p[0])):
        for node in part:
            community[node] = i
    return community


def _add(table: dict, key: tuple[str, str], w: float) -> None:
    table[key] = table.get(key, 0.0) + w


def _independence(kind: str, cfg: ClusterConfig) -> str:
    if kind == _LOCKSTEP:
        return _LOCKSTEP
    if kind == _FOCUS:
        return _WEIGHT_ONLY
    return cfg.kinds[kind].independence


def _score(members: list[str], flagged: int, strongly_joined: set[str]) -> float:
    """Campaign lift: several flagged members, a real flagged share, strong ties."""
    size = len(members)
    association = min(1.0, (flagged - 1) / 3) * min(1.0, 3 * flagged / size)
    strong = sum(1 for a in members if a in strongly_joined)
    strength = (strong + 0.6 * (size - strong)) / size
    return round(max(0.0, association * strength), 4)
