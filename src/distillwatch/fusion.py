"""Fusion: turn content, behaviour and campaign evidence into risk and words.

The model is deliberately simple and readable, so an analyst can see why an
account was flagged and an operator can tune it:

* **content** (C): how much of the account's traffic asks for what a distiller
  wants, how many distinct techniques it uses, and how often it makes explicit
  extraction requests. One technique alone (a judge pipeline's grading, an eval
  team's "think step by step") counts for less than several.
* **pace** (S): how far the account's behaviour is from a person's: volume
  percentile among all accounts, round-the-clock activity, machine-regular
  pacing, output harvesting, single-turn use, rotating addresses, a fresh
  account. Busy products show these too, so pace only amplifies content.
* **explicit** (X): repeated requests that only a distiller makes (fabricate
  the reasoning behind a given answer, reveal hidden thinking); two suffice.
* **sweep** (B): coverage-seeking that a product does not show: many
  capability areas, many synthetic tool schemas. Needs some content to count.
* **pattern** (P): the account carries prompt families flagged as distillation
  patterns (extraction-shaped or capability-sweeping skeletons sent in volume
  across many accounts). This catches hydra accounts whose own traffic is
  mostly cover.
* **campaign** (K): the account is linked to flagged accounts (shared payment,
  shared flagged families). Guilt by association is bounded: the lift scales
  with the account's own content evidence.

``own = 1 - (1 - C·(a + (1-a)·S)) · (1 - B·min(1, 0.5 + C + S/2)) · (1 - X)`` and
``risk = 1 - (1 - own) · (1 - P) · (1 - K)``; verdict thresholds come from
:class:`FusionConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from distillwatch.behaviour.account import AccountState
from distillwatch.detectors.base import Signal

__all__ = [
    "FusionConfig",
    "FusionResult",
    "fuse_account",
    "fuse_content_only",
    "family_risk",
    "DUAL_USE_CAPABILITIES",
    "verdict_for",
]


#: extraction-shaped requests that legitimate pipelines also send at volume (judges, evals)
DUAL_USE_CAPABILITIES = frozenset({"reward_grading", "cot_elicitation", "benchmark_probe"})


@dataclass(slots=True)
class FusionConfig:
    suspicious: float = 0.5
    distillation: float = 0.8
    content_alone: float = 0.45  # share of content evidence that counts without any scale evidence
    min_exchanges: int = 5  # below this an account's own behaviour says little
    family_min_accounts: int = 3
    family_min_exchanges: int = 30
    # a content signal counts as a technique of the account when its mean score reaches
    # this: generic phrases ("show your reasoning") score below it in every detector
    technique_min_mean: float = 0.35


@dataclass(slots=True)
class FusionResult:
    risk: float
    content: float
    scale: float
    pattern: float
    campaign: float
    evidence: list[Signal]


def _clamp(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def verdict_for(risk: float, cfg: FusionConfig) -> str:
    if risk >= cfg.distillation:
        return "distillation"
    if risk >= cfg.suspicious:
        return "suspicious"
    return "benign"


def family_risk(
    exchanges: int,
    accounts: int,
    operators: int,
    extraction_mean: float,
    coverage: int,
    cfg: FusionConfig,
    dual_use: bool = False,
) -> float:
    """How strongly a prompt family looks like a distillation pattern (0..1).

    A family is a pattern when it is shaped like training data (its requests
    are extraction-shaped, or one skeleton sweeps many capability areas) *and*
    it is spread over several accounts in volume; a family that one product
    sends at high volume is a template, not an attack, however repetitive.
    ``dual_use``: the family's only extraction-shaped content is what judge
    pipelines and eval harnesses send (grading, step-by-step demands,
    benchmark-shaped items), often from the same public templates and often
    from one company's many keys on one card. Such a family is not a pattern:
    it would carry every independent user of a public judge template with it.
    Accounts that harvest that way are judged on their own evidence.
    """
    if dual_use or accounts < cfg.family_min_accounts or exchanges < cfg.family_min_exchanges:
        return 0.0
    # many accounts behind few payers/orgs is coordination, not independent customers
    coordinated = bool(operators) and operators * 2 <= accounts
    shape = max(_clamp((extraction_mean - 0.25) / 0.4), 0.8 * _clamp((coverage - 4) / 2))
    spread = _clamp((accounts - 3) / 10)
    volume = _clamp(math.log10(exchanges / cfg.family_min_exchanges + 1) / 0.8)
    return shape * spread * volume * (1.0 if coordinated else 0.75)


_BREADTH = (0.0, 0.4, 0.7, 1.0)  # by number of distinct techniques: 0, 1, 2, 3+


def _content_score(
    st: AccountState, cfg: FusionConfig, explain: bool
) -> tuple[float, list[Signal]]:
    """How much the account asks for what a distiller wants.

    Two routes: a broad mix of extraction-shaped requests (one technique alone,
    such as a judge pipeline's grading or an eval team's step-by-step prompts,
    counts for less than several), or repeated explicit extraction requests
    ("reconstruct the hidden reasoning behind this answer").
    """
    if st.n == 0:
        return 0.0, []
    techniques = st.techniques(min_mean=cfg.technique_min_mean)
    breadth = _BREADTH[min(len(techniques), 3)]
    soft = _clamp(st.extraction_mean / 0.45) * breadth
    strong = _clamp(st.strong_hits / 4) * _clamp(st.strong_hits / st.n / 0.1)
    c = max(soft, strong)
    ev: list[Signal] = []
    if explain and (st.extraction_hits or techniques):
        detail = (
            f"{st.extraction_hits} of {st.n} requests ({st.extraction_hits / st.n:.0%}) are "
            f"extraction-shaped, {st.strong_hits} of them explicit"
        )
        if techniques:
            detail += f"; {len(techniques)} recurring techniques: {', '.join(sorted(techniques))}"
        ev.append(Signal("content.extraction", round(c, 3), detail))
    return c, ev


_Part = tuple[str, float, Callable[[], str]]


def _combine(parts: list[_Part], explain: bool) -> tuple[float, list[Signal]]:
    """Noisy-OR of the parts; sentences are built only when asked for."""
    if not parts:
        return 0.0, []
    prod = 1.0
    for _, score, _ in parts:
        prod *= 1.0 - score
    ev = (
        [Signal(name, round(score, 3), detail()) for name, score, detail in parts]
        if explain
        else []
    )
    return 1.0 - prod, ev


def _explicit_score(st: AccountState, explain: bool) -> tuple[float, list[Signal]]:
    """Repeated requests that only a distiller makes, counted without waiting for scale.

    Fabricating the reasoning behind a handed-over answer, or asking for the
    model's hidden thinking, has no product use (see ``SINGLE_PURPOSE``), so two
    such requests make an account suspicious on their own, as long as they make
    up a real share (5%) of its traffic, not a handful among the thousands of a
    busy shared account or an evaluation run whose phrasing trips a rule.
    """
    hits = st.single_purpose_hits
    if hits < 2:
        return 0.0, []
    x = _clamp(0.3 + 0.15 * hits) * _clamp(hits / (0.05 * st.n))
    if not explain:
        return x, []
    detail = (
        f"{hits} of {st.n} requests explicitly ask to fabricate the reasoning behind a given "
        "answer or to reveal hidden reasoning"
    )
    return x, [Signal("content.single_purpose", round(x, 3), detail)]


def _scale_score(st: AccountState, volume_pct: float, explain: bool) -> tuple[float, list[Signal]]:
    """How far the account's pace is from a person's: common to bots and busy products alike."""
    parts: list[_Part] = []
    n = st.n
    if n >= 20:
        v = _clamp((volume_pct - 0.80) / 0.18)
        if v > 0:
            parts.append(
                (
                    "behaviour.volume",
                    v,
                    lambda: (
                        f"{st.per_active_day:.0f} requests per active day, more than "
                        f"{volume_pct:.1%} of accounts"
                    ),
                )
            )
    cov = st.hour_coverage
    if n >= 100 and cov >= 0.85:
        parts.append(
            (
                "behaviour.round_the_clock",
                _clamp((cov - 0.8) / 0.2),
                lambda: (
                    f"active in {cov * 24:.0f} of 24 hours of the day across {st.active_days} days"
                ),
            )
        )
    cv = st.gap_cv
    if n >= 50 and not math.isnan(cv) and cv < 0.5:
        parts.append(
            (
                "behaviour.regular_pacing",
                _clamp((0.5 - cv) / 0.4),
                lambda: f"inter-arrival gaps vary by only {cv:.2f} (log-sd) over {st.gap_n} gaps",
            )
        )
    if n >= 20:
        share = (st.max_tokens_high + st.logprobs + st.multi_n) / n
        if share >= 0.5:
            parts.append(
                (
                    "behaviour.output_harvesting",
                    _clamp(share),
                    lambda: (
                        f"{st.max_tokens_high} requests ask >= 8K output tokens, "
                        f"{st.logprobs} ask logprobs, {st.multi_n} ask n > 1"
                    ),
                )
            )
    if n >= 30 and st.single_turn_ratio >= 0.95 and st.n_user_ids <= 1:
        parts.append(
            (
                "behaviour.single_turn",
                0.3,
                lambda: (
                    f"{st.single_turn_ratio:.0%} of {n} requests are single-turn, never followed up"
                ),
            )
        )
    if len(st.ips) >= 6:
        parts.append(
            (
                "behaviour.ip_rotation",
                0.5 * _clamp((len(st.ips) - 4) / 8),
                lambda: (
                    f"used at least {len(st.ips)} different client addresses over {st.n} requests"
                ),
            )
        )
    if st.created_at is not None and n >= 5:
        age_days = (st.first_ts - st.created_at) / 86400
        if 0 <= age_days < 3:
            parts.append(
                (
                    "context.fresh_account",
                    0.4 * (1 - age_days / 3),
                    lambda: f"first request {age_days * 24:.0f} h after the account was created",
                )
            )
    return _combine(parts, explain)


def _sweep_score(st: AccountState, explain: bool, frame: float = 0.0) -> tuple[float, list[Signal]]:
    """Coverage-seeking: what a dataset builder does and a product does not.

    A product sends one task with its own tools; a distiller sweeps capability
    areas and synthetic tool schemas to cover what it wants to train. A
    general-purpose product (an assistant or agent serving many end users) is
    broad too, and an agent platform whose users bring their own tools declares
    many tool sets, but their requests sit inside the product's own prompt
    frame: ``frame`` (0..1, see ``Engine._own_frame``) discounts both sweeps.
    """
    parts: list[_Part] = []

    def discounted() -> str:  # built only when the evidence is explained
        return (
            f" (discounted {frame:.0%}: most requests share the account's own prompt frame)"
            if frame
            else ""
        )

    schemas = _clamp((st.distinct_tool_schemas - 15) / 30) * (1.0 - frame)
    if schemas > 0:
        parts.append(
            (
                "behaviour.tool_schema_sweep",
                schemas,
                lambda: (
                    f"declared at least {st.distinct_tool_schemas} different tool schemas"
                    + discounted()
                ),
            )
        )
    coverage = st.capability_coverage()
    sweep = _clamp((coverage - 4) / 3) * (1.0 - frame) if st.n >= 20 and coverage >= 5 else 0.0
    if sweep > 0:
        parts.append(
            (
                "behaviour.capability_sweep",
                sweep,
                lambda: (
                    f"{coverage} capability areas each make up >= 5% of {st.n} requests: "
                    + ", ".join(sorted(st.capabilities, key=lambda c: -st.capabilities[c])[:8])
                    + discounted()
                ),
            )
        )
    return _combine(parts, explain)


def fuse_content_only(st: AccountState, explain: bool = True) -> FusionResult:
    """The account as the content detectors alone see it: its strongest single request.

    For ablations only (``EngineConfig.top_layer = "content"``): it shows what the
    behaviour and campaign layers add, since one request cannot tell a judge
    pipeline's grading from a distiller's.
    """
    best_name, best, best_detail = "", 0.0, ""
    for name, (score, detail) in st.signal_best.items():
        if score > best and not name.startswith(("capability.", "param.")):
            best_name, best, best_detail = name, score, detail
    ev: list[Signal] = []
    if explain and best_name:
        ev.append(Signal(best_name, round(best, 3), best_detail))
    return FusionResult(risk=best, content=best, scale=0.0, pattern=0.0, campaign=0.0, evidence=ev)


def fuse_account(
    st: AccountState,
    volume_pct: float,
    pattern: float,
    pattern_detail: str,
    campaign: float,
    campaign_detail: str,
    cfg: FusionConfig,
    explain: bool = True,
    frame: float = 0.0,
) -> FusionResult:
    """Combine the four kinds of evidence for one account.

    ``explain=False`` skips building the evidence sentences: the online hot
    path needs only the number, the report needs the words.
    """
    c, ev = _content_score(st, cfg, explain)
    s, sev = _scale_score(st, volume_pct, explain)
    b, bev = _sweep_score(st, explain, frame)
    ev.extend(sev)
    ev.extend(bev)
    x, xev = _explicit_score(st, explain)
    ev.extend(xev)
    a = cfg.content_alone
    # a sweep counts in full with content or at a machine's pace: developers trying
    # many things by hand sweep too, but neither at volume nor with extraction prompts
    own = 1.0 - (1.0 - c * (a + (1 - a) * s)) * (1.0 - b * _clamp(0.5 + c + 0.5 * s)) * (1.0 - x)
    p = pattern
    if p > 0 and explain:
        ev.append(Signal("campaign.prompt_family", round(p, 3), pattern_detail))
    k = campaign * _clamp(0.3 + c) if campaign > 0 else 0.0  # bounded guilt by association
    if k > 0 and explain:
        ev.append(Signal("campaign.membership", round(k, 3), campaign_detail))
    risk = 1.0 - (1.0 - own) * (1.0 - p) * (1.0 - k)
    if explain:
        best = sorted(st.signal_best.items(), key=lambda kv: -kv[1][0])[:4]
        for name, (score, detail) in best:
            if not name.startswith("capability."):
                ev.append(
                    Signal(name, round(score, 3), f"{st.signal_counts[name]}x; strongest: {detail}")
                )
    ev.sort(key=lambda sig: -sig.score)
    return FusionResult(risk=_clamp(risk), content=c, scale=s, pattern=p, campaign=k, evidence=ev)
