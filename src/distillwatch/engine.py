"""The online engine: every exchange, from a log replay or the live gateway.

    Exchange ─► content detectors ─► account state ─► families & operator groups
             ─► fusion ─► AccountVerdict (risk, verdict, evidence, first_flagged_ts)

``observe`` updates state with a completed exchange; ``assess`` is the
read-only, inline view the gateway asks for before forwarding a request.
``first_flagged_ts`` is set during ``observe`` from state built only from
exchanges with a smaller or equal ``ts``, so it is causal by construction;
:meth:`Engine.finalize` may then re-score every account with hindsight, which
changes ``risk``/``verdict`` but never ``first_flagged_ts``.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from distillwatch.behaviour.account import EXTRACTION_CAPABILITIES, AccountState
from distillwatch.behaviour.population import PopulationPercentiles
from distillwatch.campaign.families import FamilyIndex, sentence_hashes
from distillwatch.campaign.graph import Cluster
from distillwatch.campaign.links import OperatorGroups
from distillwatch.detectors.base import Detector, Signal, default_registry
from distillwatch.fusion import (
    DUAL_USE_CAPABILITIES,
    FusionConfig,
    FusionResult,
    family_risk,
    fuse_account,
    fuse_content_only,
    verdict_for,
)
from distillwatch.record import Exchange, ExchangeFacts, facts_of

__all__ = ["LAYERS", "EngineConfig", "AccountVerdict", "Assessment", "Engine"]

_FAMILY_FLAG = 0.5  # family risk at which a family is treated as a distillation pattern
_LINK_USES = 5  # uses of a flagged family that tie an account to the family's operator group
_REFUSE_EVERY = 8  # re-fusion period of accounts already at `distillation`
_PATTERN_USES = 6  # uses of a flagged family at which the pattern counts in full for an account
# uses from which an account whose traffic is mostly flagged families counts in full
_DEDICATED_USES = 2
_OWN_FRAME_ACCOUNTS = 3  # a product's few keys (production, staging, a region) share its frame
_OWN_FRAME_END_USERS = 5  # distinct end-user ids that show a product serving its users


LAYERS = ("content", "behaviour", "campaign")


def _dual_use_only(frequent: list[str]) -> bool:
    """Whether every extraction technique among a family's frequent capabilities is dual-use."""
    kinds = EXTRACTION_CAPABILITIES.intersection(frequent)
    return bool(kinds) and kinds <= DUAL_USE_CAPABILITIES


@dataclass(slots=True)
class EngineConfig:
    fusion: FusionConfig = field(default_factory=FusionConfig)
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the highest evidence layer that counts, for ablations ("what does each layer add?"):
    # "content" = strongest single request only, "behaviour" = no campaign evidence
    top_layer: str = "campaign"

    def __post_init__(self) -> None:
        if self.top_layer not in LAYERS:
            raise ValueError(f"top_layer must be one of {', '.join(LAYERS)}")


@dataclass(slots=True)
class AccountVerdict:
    account_id: str
    risk: float
    verdict: str
    first_flagged_ts: float | None
    campaign_id: str | None
    capabilities: list[str]
    evidence: list[Signal]
    exchanges: int


@dataclass(slots=True)
class Assessment:
    request_signals: list[Signal]
    request_score: float
    account: AccountVerdict | None
    family_id: str | None
    family_flagged: bool
    campaign_id: str | None
    campaign_risk: float


_GRADING = "content.reward_grading"


def _own_ask(signals: list[Signal]) -> list[Signal]:
    """The signals that say what the account itself asks for, as techniques go.

    A grading request quotes the material it grades (candidate answers, the
    conversation under review), and that material trips other detectors: a judge
    pipeline grading benchmark answers would otherwise count as asking for
    benchmark items, reconstructions and synthetic data too. So in a grading
    request only the grading counts as a technique; capability tags and request
    parameters stay (the per-exchange log still lists every signal).
    """
    if len(signals) < 2 or not any(s.name == _GRADING for s in signals):
        return signals
    return [
        s for s in signals if s.name == _GRADING or s.name.startswith(("capability.", "param."))
    ]


def extraction_score(signals: list[Signal]) -> float:
    """Strongest extraction evidence of one exchange (capability tags excluded)."""
    best = 0.0
    for sig in signals:
        if sig.score > best and not sig.name.startswith("capability."):
            best = sig.score
    return best


class Engine:
    """Online state for all accounts, families and operator groups."""

    def __init__(
        self, config: EngineConfig | None = None, detectors: list[Detector] | None = None
    ) -> None:
        self.config = config or EngineConfig()
        self.detectors: list[Detector] = (
            detectors if detectors is not None else default_registry().build(self.config.detectors)
        )
        self.accounts: dict[str, AccountState] = {}
        self.families = FamilyIndex()
        self.groups = OperatorGroups()
        self.flagged_families: dict[str, float] = {}
        self.model_first_seen: dict[str, float] = {}
        self.population = PopulationPercentiles({"per_day": _per_active_day})
        self.exchanges_seen = 0
        self.last_ts = 0.0
        self.cluster_of: dict[str, Cluster] = {}  # set by finalize(): hindsight campaigns
        self.last_signals: list[
            Signal
        ] = []  # of the latest observed exchange, for per-exchange logs
        self.last_family: str | None = None

    @property
    def _campaign_layer(self) -> bool:
        return self.config.top_layer == "campaign"

    # ------------------------------------------------------------ hot path
    def observe(
        self,
        ex: Exchange,
        signals: list[Signal] | None = None,
        family_hashes: tuple[list[int], list[int]] | None = None,
    ) -> AccountVerdict:
        """Fold one completed exchange into every layer and re-score its account.

        ``signals`` (the content detectors' output) and ``family_hashes`` (the
        :func:`~distillwatch.campaign.families.sentence_hashes` of the system
        prompt and the last user message) may be computed elsewhere, in worker
        processes or on Spark: both are pure functions of one exchange, the rest
        of the engine is the sequential part.
        """
        if signals is None:
            signals = self._content(ex)
        if family_hashes is None:
            family_hashes = (sentence_hashes(ex.system), sentence_hashes(ex.last_user_text))
        st = self._observe(facts_of(ex), signals, family_hashes)
        return self._verdict(st, [], with_capabilities=False)

    def observe_facts(
        self,
        ex: ExchangeFacts,
        signals: list[Signal],
        family_hashes: tuple[list[int], list[int]],
    ) -> float:
        """:meth:`observe` for a scan: the exchange as its text-free
        :class:`~distillwatch.record.ExchangeFacts`, its signals and family hashes
        computed elsewhere (scan workers); returns the account's risk as
        :attr:`AccountVerdict.risk` gives it, without building the verdict."""
        return round(self._observe(ex, signals, family_hashes).risk, 4)

    def _observe(
        self,
        ex: ExchangeFacts,
        signals: list[Signal],
        family_hashes: tuple[list[int], list[int]],
    ) -> AccountState:
        own = _own_ask(signals)
        extraction = extraction_score(own)
        caps = [sig.capability for sig in own if sig.capability is not None]
        families = self.families
        sys_f, tpl_f = families.assign_hashes(*family_hashes)
        self.last_signals, self.last_family = signals, tpl_f or sys_f

        account_id, ts, model = ex.account_id, ex.ts, ex.model
        accounts = self.accounts
        st = accounts.get(account_id)
        if st is None:
            st = accounts[account_id] = AccountState(account_id)
            self.groups.add_account(account_id)
        st.learn_one(ex, extraction, own, (sys_f, tpl_f))
        self.exchanges_seen += 1
        self.last_ts = ts
        if model and model not in self.model_first_seen:
            self.model_first_seen[model] = ts

        if sys_f is not None or tpl_f is not None:
            self._record_families(st, (sys_f, tpl_f), ts, extraction, caps)
        if st.payment_fingerprint is not None:
            self.groups.union(account_id, "pay:" + st.payment_fingerprint, "payment")

        self.groups.group_of(account_id)[1].count_exchange(ts, model)
        self.population.tick(accounts.values, len(accounts))
        self._rescore(st, ts)
        return st

    def _record_families(
        self,
        st: AccountState,
        fam_ids: tuple[str | None, str | None],
        ts: float,
        extraction: float,
        caps: list[str],
    ) -> None:
        """Count the exchange in its prompt families; flag those that look like a pattern."""
        account_id = st.account_id
        operator = st.payment_fingerprint or st.org_id
        cfg = self.config.fusion
        min_accounts, min_exchanges = cfg.family_min_accounts, cfg.family_min_exchanges
        flagged_families = self.flagged_families
        for fam_id in fam_ids:
            if fam_id is None:
                continue
            fam = self.families.record(fam_id, account_id, operator, ts, extraction, caps)
            if fam.account_count < min_accounts or fam.exchanges < min_exchanges:
                fr = 0.0  # family_risk's own first test, before its coverage is counted
            else:
                frequent = fam.frequent_capabilities()
                fr = family_risk(
                    fam.exchanges,
                    fam.account_count,
                    len(fam.operators),
                    fam.extraction_mean,
                    len(frequent),
                    cfg,
                    _dual_use_only(frequent),
                )
            if fr >= _FAMILY_FLAG:
                newly = fam_id not in flagged_families
                flagged_families[fam_id] = fr
                # link only accounts that carry flagged families repeatedly: a person who
                # used a common phrase once or twice is not part of the operator's group
                for acct in sorted(fam.accounts) if newly else (account_id,):
                    carrier = self.accounts.get(acct)
                    if carrier is not None and self._flagged_uses(carrier) >= _LINK_USES:
                        self.groups.union(acct, "fam:" + fam_id, "prompt_family")
            elif fam_id in flagged_families:
                flagged_families[fam_id] = fr

    def learn_one(self, ex: Exchange, signals: list[Signal] | None = None) -> None:
        """river-style name for :meth:`observe`, for pipelines written against that API."""
        self.observe(ex, signals)

    def score_one(self, ex: Exchange) -> float:
        """The current risk of ``ex``'s account (0 for an account never seen); no state changes.

        This is the account-level number; :meth:`assess` adds what the request
        itself shows and its campaign and prompt family, for an inline decision.
        """
        st = self.accounts.get(ex.account_id)
        return st.risk if st is not None else 0.0

    def _content(self, ex: Exchange) -> list[Signal]:
        out: list[Signal] = []
        for det in self.detectors:
            out.extend(det.detect(ex))
        return out

    def _flagged_uses(self, st: AccountState) -> int:
        flagged = self.flagged_families
        return sum(c for f, c in st.families.counts.items() if f in flagged)

    def _pattern(self, st: AccountState, explain: bool = False) -> tuple[float, str]:
        """Lift from flagged prompt families the account carries.

        Uses are added up over all flagged families, since a paraphrasing
        operator spreads one pattern over several skeletons.
        """
        if not self._campaign_layer:
            return 0.0, ""
        uses, best_fr, best_id = 0, 0.0, None
        for fam_id, count in st.families.counts.items():
            fr = self.flagged_families.get(fam_id)
            if fr is None:
                continue
            uses += count
            if fr > best_fr:
                best_fr, best_id = fr, fam_id
        if not uses:
            return 0.0, ""
        # dedicated accounts (most traffic in flagged families) count from their second use;
        # accounts with cover traffic (hydra) once they reach _PATTERN_USES uses
        participation = min(1.0, uses / _PATTERN_USES)
        if uses >= _DEDICATED_USES and uses >= 0.5 * st.n:
            participation = 1.0
        p = best_fr * participation
        detail = ""
        if explain:
            fam = self.families.families.get(best_id) if best_id else None
            accounts = fam.account_count if fam else 0
            detail = (
                f"{uses} requests use prompt families flagged as distillation patterns, such as "
                f"{best_id}, sent by {accounts} accounts"
            )
        return p, detail

    def _campaign(self, st: AccountState, explain: bool = True) -> tuple[float, str, str | None]:
        """Lift from the account's campaign: the online group, or after ``finalize``
        the re-clustered campaign when that one is stronger. ``explain=False`` (the hot
        path) leaves the detail sentence empty."""
        if not self._campaign_layer:
            return 0.0, "", None
        root, agg = self.groups.group_of(st.account_id)
        k, detail = 0.0, ""
        if agg.members >= 2:
            k = min(1.0, max(0.0, (agg.flagged - 1) / 3)) * min(1.0, 3 * agg.flagged / agg.members)
            if explain:
                detail = (
                    f"linked to {agg.members - 1} other accounts "
                    f"({', '.join(sorted(agg.links))}); {agg.flagged} of them flagged"
                )
        cluster = self.cluster_of.get(st.account_id)
        if cluster is not None and cluster.score > k:
            if explain:
                links = ", ".join(f"{n} {kind}" for kind, n in sorted(cluster.links.items()))
                detail = (
                    f"re-clustered with {len(cluster.accounts) - 1} other accounts ({links}); "
                    f"{cluster.flagged} of them flagged"
                )
            return cluster.score, detail, _cluster_key(cluster)
        return k, detail, (root if agg.members >= 2 else None)

    def _rescore(self, st: AccountState, ts: float) -> None:
        """Re-fuse the account after one of its exchanges (the online, causal verdict).

        Two shortcuts keep the hot path cheap without changing any verdict that
        matters: an account already at ``distillation`` is re-fused every
        ``_REFUSE_EVERY`` exchanges (it cannot be flagged earlier than it was), and
        an account with no evidence of any kind is benign without running fusion.
        The evidence sentences are not built here (``explain=False``).
        """
        if st.verdict == "distillation" and st.n % _REFUSE_EVERY:
            return
        if self._campaign_layer:
            pattern = self._pattern(st)[0]
            camp = self._campaign(st, explain=False)[0]
        else:
            pattern = camp = 0.0
        if (
            st.extraction_sum == 0.0
            and pattern == 0.0
            and camp == 0.0
            and st.distinct_tool_schemas <= 15
            and st.capability_coverage() < 5
        ):
            self._set_verdict(st, 0.0, ts, own_flag=0.0)
            return
        res = self._fuse(st, explain=False, pattern=(pattern, ""), campaign=(camp, ""))
        self._set_verdict(st, res.risk, ts, own_flag=max(res.risk - res.campaign, 0.0))

    def _set_verdict(
        self, st: AccountState, risk: float, ts: float | None, own_flag: float
    ) -> None:
        cfg = self.config.fusion
        st.risk = risk
        st.verdict = verdict_for(risk, cfg)
        if st.verdict != "benign" and st.first_flagged_ts is None and ts is not None:
            st.first_flagged_ts = ts
        # group's flagged count follows members flagged by their own or pattern evidence
        flagged_own = own_flag >= cfg.suspicious
        if flagged_own != bool(st.own_flagged):
            _, agg = self.groups.group_of(st.account_id)
            agg.flagged += 1 if flagged_own else -1
            st.own_flagged = flagged_own

    def _verdict(
        self, st: AccountState, evidence: list[Signal], with_capabilities: bool = True
    ) -> AccountVerdict:
        """The account's verdict; the hot path skips the capability list (costly, unused there)."""
        root, agg = self.groups.group_of(st.account_id)
        campaign_id = None
        if self._campaign_layer and agg.members >= 2 and agg.flagged >= 2:
            campaign_id = campaign_id_for(root)
        cluster = self.cluster_of.get(st.account_id)
        if cluster is not None:
            campaign_id = campaign_id_for(_cluster_key(cluster))
        return AccountVerdict(
            account_id=st.account_id,
            risk=round(st.risk, 4),
            verdict=st.verdict,
            first_flagged_ts=st.first_flagged_ts,
            campaign_id=campaign_id if st.verdict != "benign" else None,
            capabilities=account_capabilities(st) if with_capabilities else [],
            evidence=evidence,
            exchanges=st.n,
        )

    # ------------------------------------------------------------- inline
    def assess(self, ex: Exchange) -> Assessment:
        """Read-only view for a request not yet served (no state changes)."""
        signals = self._content(ex)
        score = extraction_score(signals)
        st = self.accounts.get(ex.account_id)
        account = None
        campaign_id, campaign_risk = None, 0.0
        if st is not None:
            account = AccountVerdict(
                st.account_id,
                round(st.risk, 4),
                st.verdict,
                st.first_flagged_ts,
                None,
                account_capabilities(st),
                [],
                st.n,
            )
            camp, _, root = self._campaign(st)
            if root is not None and camp > 0:
                campaign_id, campaign_risk = campaign_id_for(root), camp
                account.campaign_id = campaign_id
        family_id, flagged = self._peek_family(ex)
        return Assessment(signals, score, account, family_id, flagged, campaign_id, campaign_risk)

    def _peek_family(self, ex: Exchange) -> tuple[str | None, bool]:
        """Family of a request without counting it (the miners are not updated)."""
        p = self.families.prompt_miner.peek(ex.last_user_text)
        s = self.families.system_miner.peek(ex.system)
        ids = [f"tpl_{p:08x}" if p is not None else None, f"sys_{s:08x}" if s is not None else None]
        for fid in ids:
            if fid is not None and fid in self.flagged_families:
                return fid, True
        return next((f for f in ids if f is not None), None), False

    # --------------------------------------------------------- hindsight
    def finalize(self) -> None:
        """Re-score every account with everything now known (risk only, never first_flagged_ts).

        After the online verdicts settle, accounts are re-clustered with hindsight
        (:func:`~distillwatch.campaign.graph.recluster`: payment, shared flagged
        families and independent weak links such as infrastructure and timing), and
        members of a re-clustered campaign get its lift, bounded as online.
        """
        from distillwatch.campaign.graph import recluster

        self.population.refresh(self.accounts.values())
        self.cluster_of = {}
        for _ in range(2):  # campaign flagged counts settle after one pass
            self._refuse(self.accounts.values())
        if not self._campaign_layer:
            return
        seeds = [a for a, st in self.accounts.items() if st.verdict != "benign"]
        clusters = recluster(self.accounts, self.flagged_families, seeds=seeds)
        self.cluster_of = {a: c for c in clusters for a in c.accounts}
        self._refuse(self.accounts[a] for a in self.cluster_of)

    def _fuse(
        self,
        st: AccountState,
        explain: bool,
        pattern: tuple[float, str] | None = None,
        campaign: tuple[float, str] | None = None,
    ) -> FusionResult:
        """Fuse one account with the current population, families and campaigns.

        ``pattern`` and ``campaign`` (score, detail) are passed when the caller
        already computed them.
        """
        if self.config.top_layer == "content":
            return fuse_content_only(st, explain)
        if pattern is None:
            pattern = self._pattern(st, explain=explain)
        if campaign is None:
            campaign = self._campaign(st, explain)[:2]
        vol = self.population.percentile("per_day", st.per_active_day)
        return fuse_account(
            st, vol, *pattern, *campaign, self.config.fusion, explain, self._own_frame(st)
        )

    def _own_frame(self, st: AccountState) -> float:
        """How much of the account's traffic sits inside a prompt frame of its own (0..1).

        A general-purpose product sends its users' requests inside its own system
        prompt or template, so its breadth is its users' (see ``fusion._sweep_score``).
        A frame flagged as a distillation pattern is nobody's own; so is one spread
        over more accounts than a product's few keys, unless those accounts are
        separate payers each serving identified end users (products built on one
        framework's prompt).
        """
        fam_id, count = st.families.top()
        if fam_id is None or st.n < 20 or fam_id in self.flagged_families:
            return 0.0
        fam = self.families.families.get(fam_id)
        if fam is None:
            return 0.0
        accounts = fam.account_count
        if accounts > _OWN_FRAME_ACCOUNTS and (
            accounts > 2 * len(fam.operators) or st.n_user_ids < _OWN_FRAME_END_USERS
        ):
            return 0.0
        share = count / st.n
        return 0.0 if share <= 0.6 else min(1.0, (share - 0.6) / 0.3)

    def _refuse(self, accounts: Iterable[AccountState]) -> None:
        for st in accounts:
            res = self._fuse(st, explain=False)
            self._set_verdict(st, res.risk, None, own_flag=max(res.risk - res.campaign, 0.0))

    def account_verdicts(self) -> list[AccountVerdict]:
        return [
            self._verdict(st, self._fuse(st, explain=True).evidence)
            for st in self.accounts.values()
        ]

    def campaigns(self) -> list[dict]:
        from distillwatch.campaign.report import build_campaign_records

        return build_campaign_records(self) if self._campaign_layer else []

    # ------------------------------------------------------------- state
    def state_bytes(self) -> bytes:
        """Everything needed to resume, without the detectors (rebuilt from config)."""
        detectors, self.detectors = self.detectors, []
        try:
            return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            self.detectors = detectors

    @classmethod
    def from_state_bytes(
        cls,
        blob: bytes,
        config: EngineConfig | None = None,
        detectors: list[Detector] | None = None,
    ) -> Engine:
        """The engine :meth:`state_bytes` saved; ``detectors`` as in the constructor
        (None: built from the config)."""
        engine: Engine = pickle.loads(blob)  # noqa: S301 - our own store, never user input
        if config is not None:
            engine.config = config
        engine.detectors = (
            detectors
            if detectors is not None
            else default_registry().build(engine.config.detectors)
        )
        if not hasattr(engine, "cluster_of"):
            engine.cluster_of = {}
        return engine


def _cluster_key(cluster: Cluster) -> str:
    """A re-clustered campaign is named after its smallest member: stable within a scan."""
    return min(cluster.accounts)


def _per_active_day(st: AccountState) -> float:
    return st.per_active_day


def campaign_id_for(root: str) -> str:
    return "cmp_" + hashlib.blake2b(root.encode(), digest_size=5).hexdigest()


def account_capabilities(st: AccountState) -> list[str]:
    """Extraction techniques first, then capability tags seen in >= 10% of requests."""
    caps = st.extraction_capabilities(min_count=2)
    floor = max(2, st.n // 10)
    for cap, count in sorted(st.capabilities.items(), key=lambda kv: -kv[1]):
        if cap not in EXTRACTION_CAPABILITIES and count >= floor and cap not in caps:
            caps.append(cap)
    return caps
