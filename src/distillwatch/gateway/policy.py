"""From an Assessment to an action: allow, flag, throttle, withhold reasoning or block.

Manual overrides from the admin API win over everything, so an analyst can
unblock a customer the engine got wrong (or block one it missed) at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distillwatch.gateway.config import PolicyConfig, Trigger
from distillwatch.gateway.ratelimit import Throttle

__all__ = ["Decision", "PolicyEngine", "trigger_reasons", "OVERRIDE_ACTIONS", "OVERRIDES_STATE_KEY"]

OVERRIDE_ACTIONS = ("allow", "deny")
OVERRIDES_STATE_KEY = "gateway.overrides"  # store.save_state key of the manual overrides


@dataclass(slots=True)
class Decision:
    """What the gateway does with one request.

    ``action`` is the label counted in metrics: ``allow``, ``flag``,
    ``withhold``, ``throttle`` (admitted through a bucket), ``rate_limited``
    (429), ``block`` (403) or ``unavailable`` (fail-closed 503).
    """

    action: str = "allow"
    withhold_reasoning: bool = False
    reasons: list[str] = field(default_factory=list)
    retry_after: float | None = None

    @property
    def refused(self) -> bool:
        return self.action in ("block", "rate_limited", "unavailable")

    @property
    def status(self) -> int:
        return {"block": 403, "rate_limited": 429, "unavailable": 503}.get(self.action, 200)

    def log_view(self) -> dict[str, Any]:
        """The ``gateway`` object added to the exchange log (unknown fields are kept by readers)."""
        out: dict[str, Any] = {"decision": self.action}
        if self.withhold_reasoning:
            out["withheld_reasoning"] = True
        if self.reasons:
            out["reasons"] = list(self.reasons)
        return out


ALLOW = Decision()


def trigger_reasons(trigger: Trigger, assessment: Any) -> list[str]:
    """Every condition of ``trigger`` that ``assessment`` meets, in words."""
    reasons: list[str] = []
    account = assessment.account
    if account is not None:
        if trigger.verdicts and account.verdict in trigger.verdicts:
            reasons.append(f"account verdict {account.verdict}")
        if trigger.risk is not None and account.risk >= trigger.risk:
            reasons.append(f"account risk {account.risk:.2f}")
    if trigger.request_score is not None and assessment.request_score >= trigger.request_score:
        reasons.append(f"request score {assessment.request_score:.2f}")
    if (
        trigger.campaign_risk is not None
        and assessment.campaign_id is not None
        and assessment.campaign_risk >= trigger.campaign_risk
    ):
        reasons.append(f"campaign {assessment.campaign_id} risk {assessment.campaign_risk:.2f}")
    if trigger.family_flagged and assessment.family_flagged:
        reasons.append(f"prompt family {assessment.family_id} flagged")
    return reasons


class PolicyEngine:
    """Applies the configured triggers, the buckets and the manual overrides."""

    def __init__(self, config: PolicyConfig, throttle: Throttle):
        self.config = config
        self.throttle = throttle
        self.overrides: dict[str, dict[str, Any]] = {}  # account_id -> {"action", "reason", "ts"}

    def override_for(self, account_id: str) -> Decision | None:
        entry = self.overrides.get(account_id)
        if entry is None:
            return None
        reason = f"manual {entry['action']}" + (
            f": {entry['reason']}" if entry.get("reason") else ""
        )
        if entry["action"] == "deny":
            return Decision(action="block", reasons=[reason])
        return Decision(action="allow", reasons=[reason])

    def decide(self, account_id: str, assessment: Any | None) -> Decision:
        """The action for one request; ``assessment`` is None when detection is off."""
        override = self.override_for(account_id)
        if override is not None:
            return override
        if assessment is None:
            return ALLOW
        cfg = self.config
        block = trigger_reasons(cfg.block, assessment)
        if block:
            return Decision(action="block", reasons=block)
        decision = Decision()
        throttle = trigger_reasons(cfg.throttle, assessment)
        if throttle:
            campaign_id = assessment.campaign_id
            if campaign_id is None and assessment.account is not None:
                campaign_id = assessment.account.campaign_id
            admitted, retry_after, bucket = self.throttle.admit(
                account_id, campaign_id, assessment.family_id
            )
            if not admitted:
                return Decision(
                    action="rate_limited",
                    reasons=[*throttle, f"{bucket} bucket empty"],
                    retry_after=retry_after,
                )
            decision.action = "throttle"
            decision.reasons.extend(throttle)
        withhold = trigger_reasons(cfg.withhold_reasoning, assessment)
        if withhold:
            decision.withhold_reasoning = True
            if decision.action == "allow":
                decision.action = "withhold"
            decision.reasons.extend(r for r in withhold if r not in decision.reasons)
        flag = trigger_reasons(cfg.flag, assessment)
        if flag:
            if decision.action == "allow":
                decision.action = "flag"
            decision.reasons.extend(r for r in flag if r not in decision.reasons)
        return decision if decision.action != "allow" else ALLOW
