"""A general-purpose product is broad because its users are: its own prompt frame discounts the sweep."""

from __future__ import annotations

import random

from distillwatch.detectors.base import Signal
from distillwatch.engine import Engine
from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn

_T0 = 1_767_225_600.0
_CAPS = ("coding", "tool_use", "agentic", "vision", "data_analysis", "computer_use")
_WORDS = [
    "solve",
    "plan",
    "write",
    "code",
    "chart",
    "image",
    "table",
    "agent",
    "tool",
    "step",
    "data",
    "model",
    "task",
    "answer",
]
_PRODUCT_PROMPT = (
    "You are Nova, the assistant inside the Acme Workspace app. Answer the user's request. "
    "Use the tools you are given when they help. Keep answers short and cite files you read."
)


def _system(kind: str, account: int, i: int) -> str:
    if kind == "own frame":
        return _PRODUCT_PROMPT
    if kind in ("shared frame", "framework"):
        return _PRODUCT_PROMPT  # the same frame, sent by several accounts
    # a new framing every request, as a dataset builder sweeping areas writes them
    rng = random.Random(account * 100_003 + i)
    return " ".join(rng.choice(_WORDS) for _ in range(12)) + "."


def _traffic(kind: str, accounts: int, per_account: int) -> list[tuple[Exchange, list[Signal]]]:
    out = []
    for a in range(accounts):
        for i in range(per_account):
            cap = _CAPS[i % len(_CAPS)]
            ex = Exchange(
                id=f"{kind}-{a}-{i}",
                ts=_T0 + i * 60.0 + a,  # one request a minute, round the clock: a machine's pace
                account_id=f"{kind}-{a}",
                api="openai.chat.completions",
                model="m1",
                system=_system(kind, a, i),
                turns=[Turn("user", f"request {i} of end user {i % 97}")],
                user_id=f"user{i % 97}",
                client=ClientInfo(ip="198.51.100.7", user_agent="backend/2.0"),
                # products built on one framework's prompt are separate companies, separate payers
                account=AccountInfo(
                    payment_fingerprint=f"card-{a}" if kind == "framework" else None
                ),
            )
            out.append((ex, [Signal(f"capability.{cap}", 0.1, "", cap)]))
    return out


def _verdicts(*kinds: tuple[str, int]) -> dict[str, str]:
    engine = Engine(detectors=[])
    background = [
        (
            Exchange(
                id=f"bg{i}",
                ts=_T0 + i * 3600.0,
                account_id=f"person{i % 50}",
                api="openai.chat.completions",
                turns=[Turn("user", "hello")],
            ),
            [],
        )
        for i in range(400)
    ]
    traffic = background + [item for kind, n in kinds for item in _traffic(kind, n, 600)]
    traffic.sort(key=lambda item: item[0].ts)
    for ex, signals in traffic:
        engine.observe(ex, signals)
    engine.finalize()
    return {v.account_id: v.verdict for v in engine.account_verdicts()}


def test_a_broad_product_inside_its_own_frame_is_not_a_sweep() -> None:
    verdicts = _verdicts(("own frame", 1), ("no frame", 1))
    assert verdicts["own frame-0"] == "benign"
    assert verdicts["no frame-0"] != "benign"  # the same breadth and pace without a frame


def test_a_frame_shared_by_many_accounts_of_one_operator_is_not_a_products_own() -> None:
    verdicts = _verdicts(("shared frame", 5))
    assert all(verdicts[f"shared frame-{a}"] != "benign" for a in range(5))


def test_products_of_separate_payers_may_share_a_framework_prompt() -> None:
    verdicts = _verdicts(("framework", 5))
    assert all(verdicts[f"framework-{a}"] == "benign" for a in range(5))
