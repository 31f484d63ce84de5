"""Fusion: each kind of evidence moves risk the way its docstring says, and no further."""

from __future__ import annotations

import random

from distillwatch.behaviour.account import AccountState
from distillwatch.detectors.base import Signal
from distillwatch.fusion import FusionConfig, family_risk, fuse_account, verdict_for
from distillwatch.record import ClientInfo, Exchange, Turn

_T0 = 1_767_225_600.0
_CFG = FusionConfig()
_RECONSTRUCT = Signal(
    "content.reasoning_reconstruction",
    0.9,
    'answer handed over: "imagine the reasoning"',
    "reasoning",
)
_GRADE = Signal("content.reward_grading", 0.8, 'rubric grading: "score 1-10"', "reward_grading")


def _ex(i: int, ts: float) -> Exchange:
    return Exchange(
        id=f"ex{i}",
        ts=ts,
        account_id="acct",
        api="openai.chat.completions",
        model="m1",
        turns=[Turn("user", "hello")],
        client=ClientInfo(ip="198.51.100.7", user_agent="sdk/1.0"),
    )


def _account(
    signals_per_exchange: list[list[Signal]], gap: float = 3600.0, human: bool = False
) -> AccountState:
    """Machine traffic at a fixed gap, or a person's: office hours, irregular gaps."""
    rng = random.Random(3)
    st = AccountState("acct")
    for i, signals in enumerate(signals_per_exchange):
        if human:
            ts = _T0 + (i // 10) * 86400 + 9 * 3600 + (i % 10) * 2400 + rng.uniform(0, 2000)
        else:
            ts = _T0 + i * gap
        extraction = max((s.score for s in signals if s.capability != "coding"), default=0.0)
        st.learn_one(_ex(i, ts), extraction, signals, (None, None))
    return st


def _verdict(st: AccountState, volume_pct: float = 0.5) -> tuple[str, float, list[str]]:
    res = fuse_account(st, volume_pct, 0.0, "", 0.0, "", _CFG)
    return verdict_for(res.risk, _CFG), res.risk, [e.name for e in res.evidence]


def test_two_single_purpose_requests_make_a_new_account_suspicious() -> None:
    one = _account([[_RECONSTRUCT], [], []])
    assert _verdict(one)[0] == "benign"
    two = _account([[_RECONSTRUCT], [], [_RECONSTRUCT]])
    verdict, _, names = _verdict(two)
    assert verdict == "suspicious"
    assert "content.single_purpose" in names


def test_single_purpose_requests_lost_among_thousands_do_not_flag_a_busy_account() -> None:
    traffic: list[list[Signal]] = [[] for _ in range(5000)]
    traffic[10] = traffic[4000] = [_RECONSTRUCT]
    assert _verdict(_account(traffic, gap=60.0))[0] == "benign"


def test_dual_use_grading_alone_does_not_count_as_single_purpose() -> None:
    """A judge pipeline grades every request; grading is not a single-purpose request."""
    verdict, _, names = _verdict(_account([[_GRADE] for _ in range(3)]))
    assert verdict == "benign"
    assert "content.single_purpose" not in names


def _sweep(n: int) -> list[list[Signal]]:
    caps = ["coding", "tool_use", "agentic", "vision", "data_analysis", "computer_use"]
    return [[Signal(f"capability.{caps[i % 6]}", 0.2, "", caps[i % 6])] for i in range(n)]


def test_a_capability_sweep_counts_in_full_only_at_a_machines_pace() -> None:
    by_hand = fuse_account(_account(_sweep(120), human=True), 0.3, 0.0, "", 0.0, "", _CFG).risk
    at_volume = fuse_account(_account(_sweep(120)), 0.99, 0.0, "", 0.0, "", _CFG).risk
    assert by_hand < _CFG.suspicious <= at_volume


def test_a_sweep_inside_the_accounts_own_prompt_frame_is_discounted() -> None:
    """A general-purpose product is broad because its users are (``frame``: its own prompt frame)."""
    st = _account(_sweep(120))
    loose = fuse_account(st, 0.99, 0.0, "", 0.0, "", _CFG).risk
    half = fuse_account(st, 0.99, 0.0, "", 0.0, "", _CFG, frame=0.5).risk
    framed = fuse_account(st, 0.99, 0.0, "", 0.0, "", _CFG, frame=1.0)
    assert framed.risk < half < loose
    assert verdict_for(framed.risk, _CFG) == "benign" != verdict_for(loose, _CFG)
    assert "behaviour.capability_sweep" not in [e.name for e in framed.evidence]


def test_a_dual_use_family_is_never_a_pattern() -> None:
    """Public judge templates are shared by independent companies and by one company's many keys."""
    grading = dict(exchanges=5000, accounts=20, extraction_mean=0.65, coverage=1, cfg=_CFG)
    assert family_risk(operators=20, dual_use=True, **grading) == 0.0
    assert family_risk(operators=2, dual_use=True, **grading) == 0.0
    # fabricating reasoning is not dual-use: the same spread counts, coordinated or not
    assert family_risk(operators=20, dual_use=False, **grading) >= 0.5
    assert family_risk(operators=2, dual_use=False, **grading) > family_risk(
        operators=20, dual_use=False, **grading
    )


def test_an_agent_platform_whose_users_bring_their_own_tools_is_not_a_schema_sweep() -> None:
    """Many tool sets inside the product's own frame are its users' tools, not synthetic schemas."""
    st = AccountState("acct")
    for i in range(200):
        ex = _ex(i, _T0 + i * 60.0)
        ex.tool_schema_hash = f"tools-of-user-{i % 80}"
        st.learn_one(ex, 0.0, [], (None, None))
    loose = fuse_account(st, 0.99, 0.0, "", 0.0, "", _CFG)
    framed = fuse_account(st, 0.99, 0.0, "", 0.0, "", _CFG, frame=1.0)
    assert "behaviour.tool_schema_sweep" in [e.name for e in loose.evidence]
    assert verdict_for(loose.risk, _CFG) != "benign"
    assert verdict_for(framed.risk, _CFG) == "benign"
