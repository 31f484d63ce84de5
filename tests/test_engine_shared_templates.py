"""A public judge template is not a distillation pattern, whoever shares it; fabrication is."""

from __future__ import annotations

from distillwatch.detectors.base import Signal
from distillwatch.engine import Engine
from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn

_T0 = 1_767_225_600.0
_JUDGE_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the response provided by an "
    "AI assistant to the user question displayed below. Be as objective as possible."
)
_GRADE = Signal("content.reward_grading", 0.65, 'judge role: "impartial judge"', "reward_grading")
_FABRICATE = Signal(
    "content.reasoning_reconstruction", 0.9, 'answer handed over: "invent the steps"', "reasoning"
)


def _verdicts(payer: str | None, signals: list[Signal]) -> list[str]:
    """20 accounts sending one template; each its own payer, or all behind ``payer``."""
    engine = Engine(detectors=[])
    traffic = []
    for a in range(20):
        for i in range(150):
            traffic.append(
                Exchange(
                    id=f"j{a}-{i}",
                    ts=_T0 + i * 900.0 + a * 7.0,
                    account_id=f"judge-{a}",
                    api="openai.chat.completions",
                    model="m1",
                    system=_JUDGE_SYSTEM,
                    turns=[Turn("user", f"[Question]\nquestion {i} of company {a}\n[Answer]\n...")],
                    client=ClientInfo(ip=f"198.51.100.{a}", user_agent="python-requests"),
                    account=AccountInfo(payment_fingerprint=payer or f"card-{a}"),
                )
            )
    traffic.sort(key=lambda ex: ex.ts)
    for ex in traffic:
        engine.observe(ex, signals)
    engine.finalize()
    return [v.verdict for v in engine.account_verdicts()]


def test_independent_companies_sharing_a_judge_template_are_not_flagged() -> None:
    assert set(_verdicts(payer=None, signals=[_GRADE])) == {"benign"}


def test_one_companys_many_judge_keys_on_one_card_are_not_flagged() -> None:
    assert set(_verdicts(payer="one-card", signals=[_GRADE])) == {"benign"}


def test_a_shared_template_that_fabricates_reasoning_behind_one_card_is_flagged() -> None:
    """The control: the same spread and payer with a single-purpose technique is a campaign."""
    assert all(v != "benign" for v in _verdicts(payer="one-card", signals=[_FABRICATE]))
