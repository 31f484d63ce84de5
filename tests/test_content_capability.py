"""Plain capability tags."""

from __future__ import annotations

from content_support import exchange, signals
from distillwatch.detectors.content.capability import TAG_SCORE
from distillwatch.record import Turn


def _caps(ex) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {s.capability: s.score for s in signals("capability", ex)}


def test_each_capability_is_tagged_low() -> None:
    history = [Turn("assistant", "", tool_calls=1), Turn("tool", "42", tool_results=1)]
    ex = exchange(
        "Here is a screenshot; click the Submit button. Also load sales.csv with pandas and fix this code:\n```py\nx=1\n```",
        history=history,
        tool_names=("computer", "run_python"),
    )
    ex.turns[-1].images = 1
    caps = _caps(ex)
    assert set(caps) == {"coding", "tool_use", "agentic", "vision", "data_analysis", "computer_use"}
    assert all(score == TAG_SCORE < 0.5 for score in caps.values())


def test_chinese_coding_request() -> None:
    assert "coding" in _caps(exchange("请帮我写一个Python函数来排序列表"))


def test_plain_chat_has_no_tags() -> None:
    assert _caps(exchange("What should I cook tonight?")) == {}


def test_data_analysis_from_system_prompt() -> None:
    ex = exchange(
        "What changed last week?", system="You answer questions about the company's sales dataset."
    )
    assert "data_analysis" in _caps(ex)
