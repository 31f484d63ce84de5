"""Capability and benchmark probing by the shape of the request."""

from __future__ import annotations

import json

import pytest

from content_support import assert_quotes, exchange, signals, top

DET = "benchmark_probe"
MCQ = "Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Earth\nAnswer:"
STUB = (
    'def add(a: int, b: int) -> int:\n    """Add two numbers.\n    >>> add(1, 2)\n    3\n    """\n'
)
FEWSHOT = "Q: 1+1?\nA: 2\nQ: 2+2?\nA: 4\nQ: 3+3?\nA:"


@pytest.mark.parametrize(
    ("text", "name", "minimum"),
    [
        (MCQ, "content.benchmark_mcq", 0.45),
        (
            "**Question:** Which planet is largest?\n(A) Mars (B) Jupiter (C) Venus (D) Earth\nAnswer with the letter only.",
            "content.benchmark_mcq",
            0.45,
        ),
        (STUB, "content.benchmark_code_stub", 0.45),
        ("```python\n" + STUB + "```", "content.benchmark_code_stub", 0.45),
        (FEWSHOT, "content.benchmark_fewshot", 0.45),
        (
            "Tom has 3 apples and buys 5 more. How many apples does he have?\nAnswer:",
            "content.benchmark_word_problem",
            0.4,
        ),
    ],
)
def test_shapes(text: str, name: str, minimum: float) -> None:
    found = [s for s in signals(DET, exchange(text)) if s.name == name]
    assert found and found[0].score >= minimum
    assert found[0].capability == "benchmark_probe"
    assert_quotes(found[0], text)


def test_upper_case_and_json_wrapped_mcq() -> None:
    assert top(DET, exchange(MCQ.upper())) >= 0.45
    wrapped = json.dumps({"prompt": MCQ})
    assert top(DET, exchange(wrapped)) >= 0.25


def test_chinese_mcq() -> None:
    text = "哪个行星最大？\nA. 火星\nB. 木星\nC. 金星\nD. 地球\n答案："
    assert top(DET, exchange(text)) >= 0.45


@pytest.mark.parametrize(
    "text",
    [
        "Tom has 3 apples and buys 5 more. How many apples does he have?",
        "My quiz: which is a mammal? a) shark b) whale c) trout d) eel — I think it's b, right? Explain why.",
        'def add(a, b):\n    """Add."""\n    return a + b\n\nWhy does this fail on strings?',
        "Let's think step by step about my business plan.",
    ],
)
def test_ordinary_questions_stay_below_threshold(text: str) -> None:
    assert top(DET, exchange(text)) < 0.45


def test_shapes_in_system_prompt_are_not_scanned() -> None:
    assert signals(DET, exchange("hi", system=MCQ)) == []
