"""Request-parameter signals."""

from __future__ import annotations

import pytest

from content_support import exchange, signals


def _by_name(**fields: object) -> dict[str, float]:
    return {s.name: s.score for s in signals("request_params", exchange("hi", **fields))}


def test_absent_parameters_are_unknown_not_evidence() -> None:
    assert _by_name() == {}


@pytest.mark.parametrize(
    ("fields", "name", "low", "high"),
    [
        ({"logprobs": True}, "param.logprobs", 0.4, 0.5),
        ({"logprobs": True, "top_logprobs": 20}, "param.logprobs", 0.65, 0.75),
        ({"n": 2}, "param.n_samples", 0.2, 0.3),
        ({"n": 16}, "param.n_samples", 0.45, 0.55),
        ({"max_tokens": 64000}, "param.max_tokens", 0.2, 0.3),
        ({"max_tokens": 128000}, "param.max_tokens", 0.3, 0.4),
        ({"temperature": 1.8}, "param.temperature", 0.1, 0.3),
        ({"reasoning_effort": "high"}, "param.reasoning_max", 0.2, 0.3),
        ({"thinking_budget": 64000}, "param.reasoning_max", 0.3, 0.4),
    ],
)
def test_levels(fields: dict[str, object], name: str, low: float, high: float) -> None:
    assert low <= _by_name(**fields)[name] <= high


@pytest.mark.parametrize(
    "fields",
    [
        {"n": 1},
        {"max_tokens": 4096},
        {"temperature": 0.7},
        {"reasoning_effort": "low"},
        {"logprobs": False},
    ],
)
def test_ordinary_settings_are_quiet(fields: dict[str, object]) -> None:
    assert _by_name(**fields) == {}


def test_thresholds_are_configurable() -> None:
    found = signals("request_params", exchange("hi", max_tokens=20000), long_output_tokens=16000)
    assert [s.name for s in found] == ["param.max_tokens"]
    assert "max_tokens=20000" in found[0].detail
