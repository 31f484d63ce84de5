"""Expert-persona and data-analysis harvesting."""

from __future__ import annotations

import pytest

from content_support import assert_quotes, disguises, exchange, signals, top

DET = "expert_persona"
SYSTEM = "You are an expert data analyst. Provide complete, transparent reasoning for every step of your analysis."


def test_persona_with_transparent_reasoning() -> None:
    found = signals(DET, exchange("Here is my sales CSV; what drives churn?", system=SYSTEM))
    assert found and 0.5 <= found[0].score < 0.8
    assert found[0].capability == "data_analysis"
    assert_quotes(found[0], SYSTEM)


def test_training_purpose_scores_high() -> None:
    system = SYSTEM + " Your answers will be used to train a student model."
    assert top(DET, exchange("Explain the trend.", system=system)) >= 0.8


@pytest.mark.parametrize("kind", list(disguises(SYSTEM)))
def test_disguises(kind: str) -> None:
    assert top(DET, exchange("What is the median?", system=disguises(SYSTEM)[kind])) >= 0.5, kind


def test_chinese() -> None:
    assert (
        top(DET, exchange("分析一下", system="你是一名资深数据分析专家，请给出完整的推理过程。"))
        >= 0.5
    )


def test_persona_split_across_system_and_user() -> None:
    ex = exchange(
        "Show all your work and do not skip any steps.",
        system="You are a world-class mathematician.",
    )
    found = signals(DET, ex)
    assert found and found[0].capability == "reasoning"


@pytest.mark.parametrize(
    ("system", "user"),
    [
        ("You are an expert travel planner.", "Plan 3 days in Rome."),
        ("You are a helpful assistant.", "Explain your reasoning step by step."),
    ],
)
def test_persona_or_demand_alone_is_quiet(system: str, user: str) -> None:
    assert signals(DET, exchange(user, system=system)) == []
