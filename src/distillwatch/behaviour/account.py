"""Per-account behaviour state, learned one exchange at a time.

A single prompt rarely proves anything; how an account behaves over days does.
:class:`AccountState` keeps a fixed-size summary of an account (counters, a
24-bin hour histogram, running moments of inter-arrival gaps, a few top-k
tables), in the style of river's ``learn_one``: memory does not grow with the
number of exchanges, only with the number of accounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from distillwatch.record import Exchange

__all__ = ["AccountState", "TopK", "EXTRACTION_CAPABILITIES"]

# Capabilities whose requests are what a distiller wants as training data, as
# opposed to plain capability tags (coding, vision) that every user has.
EXTRACTION_CAPABILITIES = frozenset(
    {
        "cot_elicitation",
        "reasoning_extraction",
        "reward_grading",
        "censorship_rewrite",
        "synthetic_data",
        "prompt_extraction",
        "benchmark_probe",
        "output_harvesting",
    }
)

_DAY = 86400.0


class TopK:
    """Space-saving heavy hitters over a small fixed number of slots."""

    __slots__ = ("k", "counts")

    def __init__(self, k: int = 6) -> None:
        self.k = k
        self.counts: dict[str, int] = {}

    def add(self, key: str, n: int = 1) -> None:
        counts = self.counts
        if key in counts:
            counts[key] += n
        elif len(counts) < self.k:
            counts[key] = n
        else:
            victim = min(counts, key=counts.__getitem__)
            counts[key] = counts.pop(victim) + n

    def top(self) -> tuple[str | None, int]:
        if not self.counts:
            return None, 0
        key = max(self.counts, key=self.counts.__getitem__)
        return key, self.counts[key]

    def items(self) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: -kv[1])


@dataclass(slots=True)
class AccountState:
    """Fixed-size behavioural summary of one account."""

    account_id: str
    org_id: str | None = None
    payment_fingerprint: str | None = None
    created_at: float | None = None
    tier: str | None = None
    verified: bool | None = None
    email_domain: str | None = None
    last_ip: str | None = None
    last_user_agent: str | None = None
    last_tls: str | None = None
    last_asn: int | None = None

    n: int = 0
    first_ts: float = 0.0
    last_ts: float = 0.0
    # inter-arrival gaps (log seconds): Welford running moments
    gap_n: int = 0
    gap_mean: float = 0.0
    gap_m2: float = 0.0
    fast_gaps: int = 0  # gaps under 2 s: machine-like bursts
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    first_day: int = 0
    day_mask: int = 0  # bit d set = active on first_day + d (first 256 days)
    single_turn: int = 0
    followups: int = 0  # requests that continue a conversation (history with an assistant turn)
    input_tokens: int = 0
    output_tokens: int = 0
    max_tokens_high: int = 0  # requests asking for >= 8K output tokens
    logprobs: int = 0
    multi_n: int = 0
    reasoning_max: int = 0  # reasoning effort / thinking budget at a maximum
    images: int = 0
    tool_requests: int = 0
    tool_schemas: TopK = field(default_factory=lambda: TopK(8))
    distinct_tool_schemas: int = 0  # lower bound, counted by TopK misses
    ips: set[str] = field(default_factory=set)  # capped
    user_ids: set[str] = field(default_factory=set)  # end-user ids the customer passed, capped
    user_agents: set[str] = field(default_factory=set)  # capped
    models: dict[str, float] = field(default_factory=dict)  # model -> first ts, capped
    # content evidence
    extraction_sum: float = 0.0  # summed per-exchange extraction score
    extraction_hits: int = 0  # exchanges with extraction score >= 0.5
    signal_counts: dict[str, int] = field(default_factory=dict)
    signal_sums: dict[str, float] = field(default_factory=dict)
    strong_hits: int = 0  # exchanges with an explicit extraction request (score >= 0.8)
    signal_best: dict[str, tuple[float, str]] = field(
        default_factory=dict
    )  # name -> (score, detail)
    capabilities: dict[str, int] = field(default_factory=dict)
    families: TopK = field(default_factory=lambda: TopK(6))
    family_exchanges: int = 0  # exchanges that belonged to any recurring family
    # verdict bookkeeping (set by fusion)
    risk: float = 0.0
    verdict: str = "benign"
    first_flagged_ts: float | None = None
    own_flagged: bool = (
        False  # flagged by its own or its prompt family's evidence, not by association
    )

    MAX_SET = 16

    # ------------------------------------------------------------------ learn
    def learn_one(self, ex: Exchange, extraction: float, signals: list, families: tuple) -> None:
        """Fold one exchange (and its content signals) into the state."""
        ts = ex.ts
        if self.n == 0:
            self.first_ts = ts
            self.first_day = int(ts // _DAY)
        else:
            gap = ts - self.last_ts
            if gap < 2.0:
                self.fast_gaps += 1
            x = math.log1p(max(gap, 0.0))
            self.gap_n += 1
            d = x - self.gap_mean
            self.gap_mean += d / self.gap_n
            self.gap_m2 += d * (x - self.gap_mean)
        self.n += 1
        self.last_ts = ts
        self.hours[int(ts // 3600) % 24] += 1
        day = int(ts // _DAY) - self.first_day
        if 0 <= day < 256:
            self.day_mask |= 1 << day

        acct, client = ex.account, ex.client
        if ex.org_id is not None:
            self.org_id = ex.org_id
        if acct.payment_fingerprint is not None:
            self.payment_fingerprint = acct.payment_fingerprint
        if acct.created_at is not None:
            self.created_at = acct.created_at
        if acct.tier is not None:
            self.tier = acct.tier
        if acct.verified is not None:
            self.verified = acct.verified
        if acct.email_domain is not None:
            self.email_domain = acct.email_domain
        if client.ip is not None:
            self.last_ip = client.ip
            if len(self.ips) < self.MAX_SET:
                self.ips.add(client.ip)
        if client.user_agent is not None:
            self.last_user_agent = client.user_agent
            if len(self.user_agents) < self.MAX_SET:
                self.user_agents.add(client.user_agent)
        if client.tls_fingerprint is not None:
            self.last_tls = client.tls_fingerprint
        if client.asn is not None:
            self.last_asn = client.asn
        if ex.user_id is not None and len(self.user_ids) < self.MAX_SET:
            self.user_ids.add(ex.user_id)
        if ex.model and ex.model not in self.models and len(self.models) < self.MAX_SET:
            self.models[ex.model] = ts

        has_assistant = False
        for t in ex.turns:
            if t.role == "assistant":
                has_assistant = True
                break
        if has_assistant:
            self.followups += 1
        else:
            self.single_turn += 1
        self.input_tokens += ex.input_tokens or 0
        self.output_tokens += ex.output_tokens or 0
        if ex.max_tokens is not None and ex.max_tokens >= 8192:
            self.max_tokens_high += 1
        if ex.logprobs or (ex.top_logprobs or 0) > 0:
            self.logprobs += 1
        if (ex.n or 1) > 1:
            self.multi_n += 1
        if ex.reasoning_effort in ("high", "xhigh", "max") or (ex.thinking_budget or 0) >= 16000:
            self.reasoning_max += 1
        imgs = ex.images
        if imgs:
            self.images += 1
        if ex.tool_schema_hash is not None:
            self.tool_requests += 1
            if ex.tool_schema_hash not in self.tool_schemas.counts:
                self.distinct_tool_schemas += 1
            self.tool_schemas.add(ex.tool_schema_hash)

        self.extraction_sum += extraction
        if extraction >= 0.5:
            self.extraction_hits += 1
            if extraction >= 0.8:
                self.strong_hits += 1
        for sig in signals:
            name = sig.name
            self.signal_counts[name] = self.signal_counts.get(name, 0) + 1
            self.signal_sums[name] = self.signal_sums.get(name, 0.0) + sig.score
            best = self.signal_best.get(name)
            if best is None or sig.score > best[0]:
                self.signal_best[name] = (sig.score, sig.detail)
            cap = sig.capability
            if cap is not None:
                self.capabilities[cap] = self.capabilities.get(cap, 0) + 1
        in_family = False
        for fam in families:
            if fam is not None:
                self.families.add(fam)
                in_family = True
        if in_family:
            self.family_exchanges += 1

    # --------------------------------------------------------------- features
    @property
    def n_user_ids(self) -> int:
        return len(self.user_ids)

    @property
    def active_days(self) -> int:
        return max(self.day_mask.bit_count(), 1)

    @property
    def span_days(self) -> float:
        return max((self.last_ts - self.first_ts) / _DAY, 1.0 / 24)

    @property
    def per_active_day(self) -> float:
        return self.n / self.active_days

    @property
    def extraction_mean(self) -> float:
        return self.extraction_sum / self.n if self.n else 0.0

    @property
    def single_turn_ratio(self) -> float:
        return self.single_turn / self.n if self.n else 0.0

    @property
    def hour_coverage(self) -> float:
        """Share of the 24 UTC hours with real activity: ~0.6 for a human, ~1 for a bot."""
        if self.n < 24:
            return 0.0
        threshold = self.n / 24 * 0.25
        return sum(1 for h in self.hours if h > threshold) / 24

    @property
    def gap_cv(self) -> float:
        """Spread of log inter-arrival gaps; low means machine-regular pacing."""
        if self.gap_n < 10:
            return float("nan")
        return math.sqrt(self.gap_m2 / (self.gap_n - 1))

    @property
    def top_family_share(self) -> float:
        _, count = self.families.top()
        return count / self.n if self.n else 0.0

    def capability_coverage(self, share: float = 0.05) -> int:
        """How many capability areas make up a real part of the traffic: a product is
        narrow, a dataset builder sweeps coding, tools, agents, vision, analysis, ..."""
        floor = max(3, share * self.n)
        return sum(1 for k in self.capabilities.values() if k >= floor)

    def techniques(self, min_count: int = 3, min_mean: float = 0.3) -> list[str]:
        """Content signals this account shows repeatedly and clearly (capability tags and
        request parameters excluded): how many distinct extraction techniques it uses."""
        floor = max(min_count, self.n // 50)
        out = []
        for name, count in self.signal_counts.items():
            if count < floor or name.startswith(("capability.", "param.")):
                continue
            if self.signal_sums[name] / count >= min_mean:
                out.append(name)
        return out

    def extraction_capabilities(self, min_count: int = 3) -> list[str]:
        return sorted(
            (
                c
                for c, k in self.capabilities.items()
                if c in EXTRACTION_CAPABILITIES and k >= min_count
            ),
            key=lambda c: -self.capabilities[c],
        )
