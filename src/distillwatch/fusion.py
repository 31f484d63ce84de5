"""Fusion: turn content, behaviour and campaign evidence into risk and words.

The model is deliberately simple and readable, so an analyst can see why an
account was flagged and an operator can tune it:

* **content** (C): how much of the account's traffic asks for what a distiller
  wants, and how many distinct techniques it uses. Content alone cannot separate
  an eval team's "think step by step" from a distiller's, so it is capped.
* **scale** (S): how far the account's behaviour is from a human's or a
  product's: volume percentile among all accounts, round-the-clock activity,
  machine-regular pacing, output harvesting, sweeping many tool schemas.
* **pattern** (P): the account carries a prompt family that is flagged as a
  distillation pattern (sent in volume across many accounts, shaped like
  training data). This catches hydra accounts whose own traffic is mostly cover.
* **campaign** (K): the account belongs to a campaign whose members are flagged.
  Guilt by association is bounded: the lift needs some evidence of its own.

``risk = 1 - (1 - C·(a + (1-a)·S)) · (1 - P) · (1 - K)``, verdict thresholds
from :class:`FusionConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from distillwatch.behaviour.account import AccountState
from distillwatch.detectors.base import Signal

__all__ = ["FusionConfig", "FusionResult", "fuse_account", "family_risk", "verdict_for"]


@dataclass(slots=True)
class FusionConfig:
    suspicious: float = 0.5
    distillation: float = 0.8
    content_alone: float = 0.45  # share of content evidence that counts without any scale evidence
    min_exchanges: int = 5  # below this an account's own behaviour says little
    family_min_accounts: int = 3
    family_min_exchanges: int = 30


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
    exchanges: int, accounts: int, operators: int, extraction_mean: float, cfg: FusionConfig
) -> float:
    """How strongly a prompt family looks like a distillation pattern (0..1).

    A family is a pattern when its requests are extraction-shaped *and* it is
    spread over several accounts in volume; a family that one product sends
    at high volume is a template, not an attack, however repetitive.
    """
    if accounts < cfg.family_min_accounts or exchanges < cfg.family_min_exchanges:
        return 0.0
    shape = _clamp((extraction_mean - 0.25) / 0.4)
    spread = _clamp((accounts - 2) / 6)
    volume = _clamp(math.log10(exchanges / cfg.family_min_exchanges + 1) / 1.5)
    # many accounts behind few payers/orgs is coordination, not independent customers
    coordination = 1.0 if operators and operators * 2 <= accounts else 0.75
    return shape * spread * volume * coordination


def _content_score(st: AccountState, explain: bool) -> tuple[float, list[Signal]]:
    if st.n == 0:
        return 0.0, []
    mean = st.extraction_mean
    hits = st.extraction_hits
    n_caps = st.extraction_technique_count()
    confidence = _clamp(hits / 5)
    breadth = _clamp((n_caps - 1) / 2)  # 2+ distinct techniques is characteristic
    c = _clamp(mean / 0.6) * confidence
    c = _clamp(c + 0.25 * breadth * confidence)
    ev: list[Signal] = []
    if hits and explain:
        caps = st.extraction_capabilities()
        ev.append(
            Signal(
                "content.extraction",
                round(c, 3),
                f"{hits} of {st.n} requests ({hits / st.n:.0%}) are extraction-shaped"
                + (f"; techniques: {', '.join(caps)}" if caps else ""),
            )
        )
    return c, ev


def _scale_score(st: AccountState, volume_pct: float, explain: bool) -> tuple[float, list[Signal]]:
    parts: list[tuple[str, float, Callable[[], str]]] = []
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
    if st.distinct_tool_schemas >= 6:
        parts.append(
            (
                "behaviour.tool_schema_sweep",
                _clamp((st.distinct_tool_schemas - 4) / 10),
                lambda: f"declared at least {st.distinct_tool_schemas} different tool schemas",
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
    if not parts:
        return 0.0, []
    prod = 1.0
    for _, s, _ in parts:
        prod *= 1.0 - s
    ev = [Signal(name, round(s, 3), detail()) for name, s, detail in parts] if explain else []
    return 1.0 - prod, ev


def fuse_account(
    st: AccountState,
    volume_pct: float,
    pattern: float,
    pattern_detail: str,
    campaign: float,
    campaign_detail: str,
    cfg: FusionConfig,
    explain: bool = True,
) -> FusionResult:
    """Combine the four kinds of evidence for one account.

    ``explain=False`` skips building the evidence sentences: the online hot
    path needs only the number, the report needs the words.
    """
    c, ev = _content_score(st, explain)
    s, sev = _scale_score(st, volume_pct, explain)
    ev.extend(sev)
    a = cfg.content_alone
    own = c * (a + (1 - a) * s)
    p = pattern
    if p > 0 and explain:
        ev.append(Signal("campaign.prompt_family", round(p, 3), pattern_detail))
    k = campaign * _clamp(0.3 + c) if campaign > 0 else 0.0  # bounded guilt by association
    if k > 0 and explain:
        ev.append(Signal("campaign.membership", round(k, 3), campaign_detail))
    risk = 1.0 - (1.0 - own) * (1.0 - p) * (1.0 - k)
    for name, (score, detail) in sorted(st.signal_best.items(), key=lambda kv: -kv[1][0])[:4]:
        if explain and not name.startswith("capability."):
            ev.append(
                Signal(name, round(score, 3), f"{st.signal_counts[name]}x; strongest: {detail}")
            )
    ev.sort(key=lambda sig: -sig.score)
    return FusionResult(risk=_clamp(risk), content=c, scale=s, pattern=p, campaign=k, evidence=ev)
