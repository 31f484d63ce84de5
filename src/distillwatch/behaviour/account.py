"""Per-account behaviour state, learned one exchange at a time.

A single prompt rarely proves anything; how an account behaves over days does.
:class:`AccountState` keeps a fixed-size summary of an account (counters, a
24-bin hour histogram, running moments of inter-arrival gaps, a few top-k
tables), in the style of river's ``learn_one``: memory does not grow with the
number of exchanges, only with the number of accounts.

Memory is the constraint (issue 5: <= 4 KB per account, so a million accounts
fit in 4 GB), hence the layout:

* the fields every exchange touches (count, last timestamp, gap moments,
  tokens) and those fusion reads on every re-score are plain slots, for speed;
  the hour histogram and the other counters share one 32-bit ``array``: 4
  bytes each, where a Python int above 256 in a slot costs 36 (their public
  names are properties);
* containers are created on first use (most accounts never declare a tool,
  carry a prompt family or trigger a content signal);
* addresses, user agents and end-user ids keep a few real values and 4-byte
  hashes of the next ones (:class:`CappedSet`), so ``len()`` still counts past
  the kept values, exactly up to a cap and never more than the truth;
* strings from a small vocabulary (signal and capability names, models, user
  agents, TLS fingerprints, tiers, prompt family ids) are interned, so a
  million accounts share one copy of each;
* evidence text is kept only for the strongest few signals, cut to 120 chars.

The state pickles as one flat tuple (``__getstate__``), so it survives restarts
through the engine's store without the per-field names a default pickle repeats.
"""

from __future__ import annotations

import math
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping
from itertools import repeat
from typing import Any

from distillwatch.record import Exchange, ExchangeFacts, facts_of

__all__ = [
    "AccountState",
    "TopK",
    "CappedSet",
    "EXTRACTION_CAPABILITIES",
    "DETAIL_CHARS",
    "SINGLE_PURPOSE",
    "SINGLE_PURPOSE_SCORE",
]

# Explicit requests with no product use: fabricating the reasoning behind a handed-over
# answer, or asking the model to reveal its hidden thinking. Dual-use techniques (grading,
# step-by-step demands, synthetic data, tool schemas) are not here: judge pipelines, eval
# teams and agent products use them every day.
SINGLE_PURPOSE = frozenset(
    {"content.reasoning_reconstruction", "content.hidden_reasoning_extraction"}
)
SINGLE_PURPOSE_SCORE = 0.8  # the detectors' score for an explicit request of that kind


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

DETAIL_CHARS = 120  # evidence text kept per signal: enough to find the request in the log
_DETAILS_KEPT = 4  # fusion shows the strongest four signals; only those need their words
_DAY = 86400.0
_NAN = float("nan")
_NEW_SIGNAL = array("d", (0.0, 0.0, -1.0))  # count, score sum, best score
_intern = sys.intern


class TopK:
    """Space-saving heavy hitters over a small fixed number of slots.

    The table is created on the first ``add``: most accounts never fill it.
    """

    __slots__ = ("k", "_counts")

    _EMPTY: dict[str, int] = {}  # shared read-only view for an empty table

    def __init__(self, k: int = 6) -> None:
        self.k = k
        self._counts: dict[str, int] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Key -> count (treat as read-only; use :meth:`add`)."""
        return self._counts if self._counts is not None else self._EMPTY

    def add(self, key: str, n: int = 1) -> None:
        counts = self._counts
        if counts is None:
            counts = self._counts = {}
        if key in counts:
            counts[key] += n
        elif len(counts) < self.k:
            counts[key] = n
        else:
            victim = min(counts, key=counts.__getitem__)
            counts[key] = counts.pop(victim) + n

    def top(self) -> tuple[str | None, int]:
        counts = self._counts
        if not counts:
            return None, 0
        key = max(counts, key=counts.__getitem__)
        return key, counts[key]

    def items(self) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: -kv[1])

    def __getstate__(self) -> tuple[int, dict[str, int] | None]:
        return self.k, self._counts

    def __setstate__(self, state: tuple[int, dict[str, int] | None]) -> None:
        self.k, counts = state
        self._counts = {_intern(k): v for k, v in counts.items()} if counts else None


def _hash32(value: str) -> int:
    """crc32 rather than ``hash``: the same after a restart, so counts survive pickling."""
    return zlib.crc32(value.encode("utf-8", "surrogatepass"))


class CappedSet:
    """The first ``keep`` distinct values, and how many distinct values there were.

    Past ``keep`` values, further distinct values are remembered by a 32-bit hash
    only (4 bytes each, up to ``extra``), so ``len()`` stays exact up to
    ``keep + extra`` values (two values sharing a crc32 count once, which can
    only undercount); past that it reports ``keep + extra + 1``. It never
    overstates, so "at least N addresses" stays true in evidence. Iteration and
    ``in`` see the kept real values only.
    """

    __slots__ = ("keep", "extra", "values", "hashes", "overflow")

    def __init__(self, keep: int = 8, values: Iterable[str] = (), extra: int = 56) -> None:
        self.keep = keep
        self.extra = extra
        self.values: tuple[str, ...] = ()
        self.hashes: array | None = None  # crc32 of distinct values past the kept ones
        self.overflow = False
        for v in values:
            self.add(v)

    def add(self, value: str) -> None:
        values = self.values
        if value in values:
            return
        if len(values) < self.keep:
            self.values = (*values, value)
            return
        h = _hash32(value)
        hashes = self.hashes
        if hashes is None:
            self.hashes = array("I", (h,)) if self.extra else None
            self.overflow = not self.extra
        elif h not in hashes:
            if len(hashes) < self.extra:
                self.hashes = hashes + array("I", (h,))  # exact size, unlike append()
            else:
                self.overflow = True

    def __len__(self) -> int:
        hashes = self.hashes
        return len(self.values) + (len(hashes) if hashes is not None else 0) + self.overflow

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __contains__(self, value: object) -> bool:
        return value in self.values

    def __bool__(self) -> bool:
        return bool(self.values)

    def __repr__(self) -> str:
        return f"CappedSet({list(self.values)!r}, len={len(self)})"

    def __reduce__(self) -> tuple[Any, tuple]:
        hashes = self.hashes.tolist() if self.hashes is not None else None
        return _restore_capped_set, (self.keep, self.extra, self.values, hashes, self.overflow)


# What the getters return for an account that never sent a value: reading a
# property must not allocate a table per account (finalize reads them all).
# Read-only by convention: the state adds through its private fields only.
_NO_VALUES = CappedSet(0, extra=0)


def _restore_capped_set(
    keep: int, extra: int, values: tuple[str, ...], hashes: list[int] | None, overflow: bool
) -> CappedSet:
    cs = CappedSet.__new__(CappedSet)
    cs.keep, cs.extra, cs.values, cs.overflow = keep, extra, values, overflow
    cs.hashes = array("I", hashes) if hashes is not None else None
    return cs


def _as_capped(
    values: Iterable[str] | None, keep: int, intern: bool = False, extra: int = 56
) -> CappedSet | None:
    if values is None:
        return None
    if isinstance(values, CappedSet):
        return values
    return CappedSet(keep, (_intern(v) if intern else v for v in values), extra)


# ------------------------------------------------------------ numeric layout
# Counters that change on some exchanges only, in ``_counts`` after the 24 hour bins.
# They are 32-bit: an account would need 4 billion exchanges to overflow one (the
# array then raises OverflowError rather than wrapping).
_COUNT_FIELDS = (
    "fast_gaps",  # gaps under 2 s: machine-like bursts
    "first_day",  # day number (since the epoch) of the first exchange
    "reasoning_max",  # reasoning effort / thinking budget at a maximum
    "images",
    "tool_requests",
    "family_exchanges",  # exchanges that belonged to any recurring family
    "single_purpose_hits",  # explicit requests that only a distiller makes (see SINGLE_PURPOSE)
)
_HOURS = 24
(
    _FAST_GAPS,
    _FIRST_DAY,
    _REASONING_MAX,
    _IMAGES,
    _TOOL_REQUESTS,
    _FAMILY_EXCHANGES,
    _SINGLE_PURPOSE_HITS,
) = range(_HOURS, _HOURS + len(_COUNT_FIELDS))
_ZERO_COUNTS = array("I", [0] * (_HOURS + len(_COUNT_FIELDS)))


def _count_property(index: int, name: str) -> property:
    def get(self: AccountState) -> int:
        return self._counts[index]

    def put(self: AccountState, value: int) -> None:
        self._counts[index] = value

    return property(get, put, doc=f"``{name}`` (kept in the 32-bit counter array)")


def _truncate(detail: str) -> str:
    """At most DETAIL_CHARS; the mark is ASCII so an ASCII text stays 1 byte per char."""
    return detail if len(detail) <= DETAIL_CHARS else detail[: DETAIL_CHARS - 3] + "..."


_STATE_VERSION = 1  # layout of the pickled tuple


class AccountState:
    """Fixed-size behavioural summary of one account."""

    __slots__ = (
        "account_id",
        "org_id",
        "payment_fingerprint",
        "created_at",
        "tier",
        "verified",
        "email_domain",
        "last_ip",
        "last_user_agent",
        "last_tls",
        "last_asn",
        "n",
        "first_ts",
        "last_ts",
        "gap_n",
        "gap_mean",  # inter-arrival gaps (log seconds): Welford running moments
        "gap_m2",
        "single_turn",
        "input_tokens",
        "output_tokens",
        "extraction_sum",  # summed per-exchange extraction score
        "extraction_hits",  # exchanges with extraction score >= 0.5
        "strong_hits",  # exchanges with an explicit extraction request (score >= 0.8)
        "max_tokens_high",  # requests asking for >= 8K output tokens
        "logprobs",
        "multi_n",
        "distinct_tool_schemas",  # lower bound, counted by TopK misses
        "families",  # prompt families the account sends most (TopK; its table is lazy)
        "day_mask",  # bit d set = active on first_day + d (first 256 days)
        "risk",  # verdict bookkeeping, set by fusion
        "verdict",
        "first_flagged_ts",
        "own_flagged",  # flagged by its own or its prompt family's evidence, not by association
        "_counts",  # hours[24] then _COUNT_FIELDS
        "_ips",
        "_user_agents",
        "_user_ids",
        "_models",  # flat (model, first ts, model, first ts, ...), capped
        "_tool_schemas",
        "_sig_names",  # signal names in order of first appearance
        "_sig_stats",  # per signal: count, score sum, best score
        "_details",  # flat (name, detail, ...) for the strongest few non-capability signals
        "_cap_names",
        "_cap_counts",
    )

    # counters of _COUNT_FIELDS (fast_gaps, first_day, ...) are properties added after the class
    fast_gaps: int
    first_day: int
    reasoning_max: int
    images: int
    tool_requests: int
    family_exchanges: int

    MAX_SET = 8  # real values kept per address / user-agent set
    MAX_MODELS = 16
    TOOL_SCHEMA_SLOTS = 8
    FAMILY_SLOTS = 6

    def __init__(self, account_id: str, **fields: Any) -> None:
        self.account_id = account_id
        self.org_id: str | None = None
        self.payment_fingerprint: str | None = None
        self.created_at: float | None = None
        self.tier: str | None = None
        self.verified: bool | None = None
        self.email_domain: str | None = None
        self.last_ip: str | None = None
        self.last_user_agent: str | None = None
        self.last_tls: str | None = None
        self.last_asn: int | None = None
        self.n = 0
        self.first_ts = 0.0
        self.last_ts = 0.0
        self.gap_n = 0
        self.gap_mean = 0.0
        self.gap_m2 = 0.0
        self.single_turn = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.extraction_sum = 0.0
        self.extraction_hits = 0
        self.strong_hits = 0
        self.max_tokens_high = 0
        self.logprobs = 0
        self.multi_n = 0
        self.distinct_tool_schemas = 0
        self.families = TopK(self.FAMILY_SLOTS)
        self.day_mask = 0
        self.risk = 0.0
        self.verdict = "benign"
        self.first_flagged_ts: float | None = None
        self.own_flagged = False
        self._counts = array("I", _ZERO_COUNTS)
        self._ips: CappedSet | None = None
        self._user_agents: CappedSet | None = None
        self._user_ids: CappedSet | None = None
        self._models: tuple[str | float, ...] = ()
        self._tool_schemas: TopK | None = None
        self._sig_names: tuple[str, ...] = ()
        self._sig_stats: array | None = None
        self._details: tuple[str, ...] = ()
        self._cap_names: tuple[str, ...] = ()
        self._cap_counts: array | None = None
        for name, value in fields.items():
            setattr(self, name, value)

    # ------------------------------------------------------------------ learn
    def learn_one(
        self, ex: ExchangeFacts | Exchange, extraction: float, signals: list, families: tuple
    ) -> None:
        """Fold one exchange (and its content signals) into the state (the hot path).

        ``ex`` is the exchange's :class:`~distillwatch.record.ExchangeFacts` (what a
        scan gets from its workers) or the parsed :class:`Exchange` itself.
        """
        if type(ex) is not ExchangeFacts:
            ex = facts_of(ex)  # type: ignore[arg-type]
        counts = self._counts
        ts = ex.ts
        n = self.n
        if n == 0:
            self.first_ts = ts
            counts[_FIRST_DAY] = first_day = int(ts // _DAY)
        else:
            first_day = counts[_FIRST_DAY]
            gap = ts - self.last_ts
            if gap < 2.0:
                counts[_FAST_GAPS] += 1
            x = math.log1p(gap if gap > 0.0 else 0.0)
            k = self.gap_n = self.gap_n + 1
            mean = self.gap_mean
            d = x - mean
            self.gap_mean = mean = mean + d / k
            self.gap_m2 += d * (x - mean)
        self.n = n + 1
        self.last_ts = ts
        counts[int(ts // 3600.0) % 24] += 1
        day = int(ts // _DAY) - first_day
        if 0 <= day < 256 and not (self.day_mask >> day) & 1:
            self.day_mask |= 1 << day

        # account and client context: the latest value, and the distinct values seen
        org_id = ex.org_id
        if org_id is not None and org_id != self.org_id:
            self.org_id = org_id
        pay = ex.payment_fingerprint
        if pay is not None and pay != self.payment_fingerprint:
            self.payment_fingerprint = pay
        if ex.created_at is not None:
            self.created_at = ex.created_at
        tier = ex.tier
        if tier is not None and tier != self.tier:
            self.tier = _intern(tier)
        if ex.verified is not None:
            self.verified = ex.verified
        domain = ex.email_domain
        if domain is not None and domain != self.email_domain:
            self.email_domain = _intern(domain)
        ip = ex.ip
        if ip is not None and ip != self.last_ip:
            self.last_ip = ip
            ips = self._ips
            if ips is None:
                ips = self._ips = CappedSet(self.MAX_SET)
            if ip not in ips.values:  # rotating among kept addresses: nothing to do
                ips.add(ip)
        ua = ex.user_agent
        if ua is not None and ua != self.last_user_agent:
            ua = self.last_user_agent = _intern(ua)
            uas = self._user_agents
            if uas is None:
                uas = self._user_agents = CappedSet(self.MAX_SET)
            if ua not in uas.values:
                uas.add(ua)
        tls = ex.tls_fingerprint
        if tls is not None and tls != self.last_tls:
            self.last_tls = _intern(tls)
        if ex.asn is not None:
            self.last_asn = ex.asn
        user_id = ex.user_id
        if user_id is not None:
            if self._user_ids is None:
                self._user_ids = CappedSet(1, extra=7)  # only the count (<= 1?) is used
            self._user_ids.add(user_id)
        model = ex.model
        if model and model not in self._models and len(self._models) < 2 * self.MAX_MODELS:
            self._models = (*self._models, _intern(model), ts)

        # request shape (the flags are the tests facts_of makes)
        if ex.single_turn:
            self.single_turn += 1
        if ex.input_tokens:
            self.input_tokens += ex.input_tokens
        if ex.output_tokens:
            self.output_tokens += ex.output_tokens
        if ex.max_tokens_high:
            self.max_tokens_high += 1
        if ex.logprobs:
            self.logprobs += 1
        if ex.multi_n:
            self.multi_n += 1
        if ex.reasoning_max:
            counts[_REASONING_MAX] += 1
        if ex.images:
            counts[_IMAGES] += 1
        schema = ex.tool_schema_hash
        if schema is not None:
            counts[_TOOL_REQUESTS] += 1
            schemas = self._tool_schemas
            if schemas is None:
                schemas = self._tool_schemas = TopK(self.TOOL_SCHEMA_SLOTS)
            if schemas._counts is None or schema not in schemas._counts:
                self.distinct_tool_schemas += 1
            schemas.add(schema)

        # content evidence
        self.extraction_sum += extraction
        if extraction >= 0.5:
            self.extraction_hits += 1
            if extraction >= 0.8:
                self.strong_hits += 1
        if signals:
            self._learn_signals(signals)
        in_family = False
        for fam in families:
            if fam is not None:
                table = self.families
                if table._counts is None or fam not in table._counts:
                    fam = _intern(fam)  # one copy per family across all accounts
                table.add(fam)
                in_family = True
        if in_family:
            counts[_FAMILY_EXCHANGES] += 1

    def _learn_signals(self, signals: list) -> None:
        names, stats = self._sig_names, self._sig_stats
        single_purpose = False
        for sig in signals:
            name = sig.name
            try:
                i = 3 * names.index(name)
            except ValueError:
                name = _intern(name)
                i = 3 * len(names)
                names = self._sig_names = (*names, name)
                # concatenation allocates the exact size; extend() would over-allocate
                stats = self._sig_stats = stats + _NEW_SIGNAL if stats else array("d", _NEW_SIGNAL)
            score = sig.score
            if score >= SINGLE_PURPOSE_SCORE and name in SINGLE_PURPOSE:
                single_purpose = True
            stats[i] += 1.0
            stats[i + 1] += score
            if score > stats[i + 2]:
                stats[i + 2] = score
                if not name.startswith("capability."):
                    self._keep_detail(name, sig.detail)
            cap = sig.capability
            if cap is not None:
                cap_names = self._cap_names
                try:
                    self._cap_counts[cap_names.index(cap)] += 1  # type: ignore[index]
                except ValueError:
                    self._add_capability(cap, 1)
        if single_purpose:  # once per exchange, however many such signals it raised
            self._counts[_SINGLE_PURPOSE_HITS] += 1

    def _keep_detail(self, name: str, detail: str) -> None:
        """Keep the words of the strongest few non-capability signals.

        Called when ``name``'s best score rose. The kept names are always the top
        ``_DETAILS_KEPT`` by (best score, first seen), as fusion ranks them; a best
        score only rises, so a kept name stays kept and a new one can displace only
        the weakest kept name.
        """
        kept = self._details
        words = _truncate(detail)
        for j in range(0, len(kept), 2):
            if kept[j] == name:  # already among the strongest: new words for its new best
                self._details = (*kept[:j], name, words, *kept[j + 2 :])
                return
        if len(kept) < 2 * _DETAILS_KEPT:
            # fewer kept than the cap: every non-capability name is kept, so this one joins
            self._details = (*kept, name, words)
            return
        names, stats = self._sig_names, self._sig_stats
        assert stats is not None
        # weakest kept name: lowest best score, and among equals the latest seen
        weakest, weakest_key = -1, (math.inf, 0)
        for j in range(0, len(kept), 2):
            pos = names.index(kept[j])
            key = (stats[3 * pos + 2], -pos)
            if key < weakest_key:
                weakest, weakest_key = j, key
        pos = names.index(name)
        if (stats[3 * pos + 2], -pos) > weakest_key:
            self._details = (*kept[:weakest], *kept[weakest + 2 :], name, words)

    def _add_capability(self, cap: str, k: int) -> None:
        self._cap_names = (*self._cap_names, _intern(cap))
        grown = array("I", (k,))
        self._cap_counts = self._cap_counts + grown if self._cap_counts else grown

    # ---------------------------------------------------------- public views
    @property
    def followups(self) -> int:
        """Requests that continue a conversation (their history has an assistant turn)."""
        return self.n - self.single_turn

    @property
    def hours(self) -> list[int]:
        """Exchanges per UTC hour of the day (a copy: 24 ints)."""
        return self._counts[:_HOURS].tolist()

    @hours.setter
    def hours(self, values: Iterable[int]) -> None:
        values = list(values)
        if len(values) != _HOURS:
            raise ValueError("hours needs 24 values")
        self._counts[:_HOURS] = array("I", values)

    @property
    def ips(self) -> CappedSet:
        """Client addresses: up to MAX_SET real values, ``len()`` a lower bound of all."""
        return self._ips if self._ips is not None else _NO_VALUES

    @ips.setter
    def ips(self, values: Iterable[str] | None) -> None:
        self._ips = _as_capped(values, self.MAX_SET)

    @property
    def user_agents(self) -> CappedSet:
        return self._user_agents if self._user_agents is not None else _NO_VALUES

    @user_agents.setter
    def user_agents(self, values: Iterable[str] | None) -> None:
        self._user_agents = _as_capped(values, self.MAX_SET, intern=True)

    @property
    def user_ids(self) -> CappedSet:
        """End-user ids the customer passed; only their count is kept exactly."""
        return self._user_ids if self._user_ids is not None else _NO_VALUES

    @user_ids.setter
    def user_ids(self, values: Iterable[str] | None) -> None:
        self._user_ids = _as_capped(values, 1, extra=7)

    @property
    def n_user_ids(self) -> int:
        return len(self._user_ids) if self._user_ids is not None else 0

    @property
    def models(self) -> dict[str, float]:
        """Model -> first use (a copy), capped at MAX_MODELS models."""
        m = self._models
        return dict(zip(m[::2], m[1::2], strict=False))  # type: ignore[arg-type]

    @models.setter
    def models(self, values: Mapping[str, float]) -> None:
        self._models = tuple(x for k, v in values.items() for x in (_intern(k), float(v)))

    @property
    def tool_schemas(self) -> TopK:
        table = self._tool_schemas
        if table is None:
            table = self._tool_schemas = TopK(self.TOOL_SCHEMA_SLOTS)
        return table

    @tool_schemas.setter
    def tool_schemas(self, table: TopK) -> None:
        self._tool_schemas = table

    @property
    def signal_counts(self) -> dict[str, int]:
        """Signal name -> exchanges that carried it (a copy, first-seen order)."""
        s = self._sig_stats
        return {n: int(c) for n, c in zip(self._sig_names, s[::3], strict=False)} if s else {}

    @property
    def signal_sums(self) -> dict[str, float]:
        """Signal name -> summed score (a copy)."""
        s = self._sig_stats
        return dict(zip(self._sig_names, s[1::3], strict=False)) if s else {}

    @property
    def signal_best(self) -> dict[str, tuple[float, str]]:
        """Signal name -> (best score, its detail). Details are kept, cut to DETAIL_CHARS,
        for the strongest few non-capability signals only; others read ``""``."""
        s = self._sig_stats
        if not s:
            return {}
        # built in C (fusion reads it on every re-score), then the few kept words set
        out = dict(zip(self._sig_names, zip(s[2::3], repeat("")), strict=False))
        d = self._details
        for j in range(0, len(d), 2):
            name = d[j]
            out[name] = (out[name][0], d[j + 1])
        return out

    def strongest_signals(self, k: int = 4) -> list[tuple[str, tuple[float, str]]]:
        """``sorted(signal_best.items(), key=-score)[:k]`` without building the whole dict:
        the (name, (best score, detail)) pairs fusion shows as evidence."""
        s = self._sig_stats
        if not s:
            return []
        bests = s[2::3]
        order = sorted(range(len(bests)), key=lambda i: -bests[i])[:k]
        d = self._details
        words = dict(zip(d[::2], d[1::2], strict=False)) if d else {}
        names = self._sig_names
        return [(names[i], (bests[i], words.get(names[i], ""))) for i in order]

    @property
    def capabilities(self) -> dict[str, int]:
        """Capability -> exchanges tagged with it (a copy, first-seen order)."""
        c = self._cap_counts
        return dict(zip(self._cap_names, c, strict=False)) if c else {}

    @capabilities.setter
    def capabilities(self, values: Mapping[str, int]) -> None:
        self._cap_names, self._cap_counts = (), None
        for cap, k in values.items():
            self._add_capability(cap, k)

    # --------------------------------------------------------------- features
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
        return sum(1 for h in self._counts[:_HOURS] if h > threshold) / 24

    @property
    def gap_cv(self) -> float:
        """Spread of log inter-arrival gaps; low means machine-regular pacing."""
        if self.gap_n < 10:
            return _NAN
        return math.sqrt(self.gap_m2 / (self.gap_n - 1))

    @property
    def top_family_share(self) -> float:
        return self.families.top()[1] / self.n if self.n else 0.0

    def capability_coverage(self, share: float = 0.05) -> int:
        """How many capability areas make up a real part of the traffic: a product is
        narrow, a dataset builder sweeps coding, tools, agents, vision, analysis, ..."""
        counts = self._cap_counts
        if not counts:
            return 0
        floor = max(3, share * self.n)
        return sum(1 for k in counts if k >= floor)

    def techniques(self, min_count: int = 3, min_mean: float = 0.3) -> list[str]:
        """Content signals this account shows repeatedly and clearly (capability tags and
        request parameters excluded): how many distinct extraction techniques it uses."""
        s = self._sig_stats
        if not s:
            return []
        floor = max(min_count, self.n // 50)
        return [
            name
            for name, count, total in zip(self._sig_names, s[::3], s[1::3], strict=False)
            if count >= floor
            and total / count >= min_mean
            and not name.startswith(("capability.", "param."))
        ]

    def extraction_capabilities(self, min_count: int = 3) -> list[str]:
        caps = self.capabilities
        return sorted(
            (c for c, k in caps.items() if c in EXTRACTION_CAPABILITIES and k >= min_count),
            key=lambda c: -caps[c],
        )

    def __repr__(self) -> str:
        return f"AccountState({self.account_id!r}, n={self.n}, verdict={self.verdict!r})"

    # ------------------------------------------------------------------ state
    _PLAIN = (
        "account_id", "org_id", "payment_fingerprint", "created_at", "verified", "last_ip",
        "last_asn", "n", "first_ts", "last_ts", "gap_n", "gap_mean", "gap_m2", "single_turn",
        "input_tokens", "output_tokens", "extraction_sum", "day_mask", "risk", "verdict",
        "first_flagged_ts", "own_flagged", "_ips", "_user_ids", "_tool_schemas", "families",
        "extraction_hits", "strong_hits", "max_tokens_high", "logprobs", "multi_n",
        "distinct_tool_schemas",
    )  # fmt: skip
    _SHARED = ("tier", "email_domain", "last_user_agent", "last_tls")  # interned again on load

    def __getstate__(self) -> tuple:
        """One flat tuple; arrays as lists, which pickle small numbers in 2-5 bytes each."""
        sig, caps = self._sig_stats, self._cap_counts
        return (
            _STATE_VERSION,
            tuple(getattr(self, name) for name in self._PLAIN),
            tuple(getattr(self, name) for name in self._SHARED),
            self._counts.tolist(),
            self._user_agents,
            self._models,
            self._sig_names,
            sig.tolist() if sig is not None else None,
            self._details,
            self._cap_names,
            caps.tolist() if caps is not None else None,
        )

    def __setstate__(self, state: tuple) -> None:
        if state[0] != _STATE_VERSION:
            raise ValueError(f"unknown AccountState layout {state[0]!r}")
        _, plain, shared, counts, uas, models, sig_names, sig, details, cap_names, caps = state
        for name, value in zip(self._PLAIN, plain, strict=True):
            setattr(self, name, value)
        # a fresh process shares nothing yet: intern again what accounts have in common
        for name, value in zip(self._SHARED, shared, strict=True):
            setattr(self, name, _intern(value) if value is not None else None)
        self._counts = array("I", counts)
        if len(counts) < len(_ZERO_COUNTS):  # saved before newer counters existed
            self._counts.extend([0] * (len(_ZERO_COUNTS) - len(counts)))
        if uas is not None:
            uas.values = tuple(_intern(v) for v in uas.values)
        self._user_agents = uas
        self._models = tuple(_intern(x) if isinstance(x, str) else x for x in models)
        self._sig_names = tuple(_intern(n) for n in sig_names)
        self._sig_stats = array("d", sig) if sig is not None else None
        self._details = tuple(_intern(x) if i % 2 == 0 else x for i, x in enumerate(details))
        self._cap_names = tuple(_intern(c) for c in cap_names)
        self._cap_counts = array("I", caps) if caps is not None else None


for _i, _name in enumerate(_COUNT_FIELDS):
    setattr(AccountState, _name, _count_property(_HOURS + _i, _name))
del _i, _name
