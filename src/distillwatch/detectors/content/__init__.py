"""Built-in content detectors: one module per extraction technique.

Importing this package registers every detector with
:func:`distillwatch.detectors.base.register`. All of them share one
normalization pass per exchange (:mod:`.text`). Scores mean "how strongly this
exchange shows the technique" and are calibrated so that only explicit
extraction phrasing reaches 0.8+; ambiguous shapes that legitimate products
also send stay at 0.15-0.6 and are left to account and campaign context.
"""

from __future__ import annotations

from distillwatch.detectors.content import (
    benchmark_probe,
    capability,
    censorship,
    cot,
    expert_persona,
    hidden_reasoning,
    prompt_extraction,
    request_params,
    reward_grading,
    synthetic_data,
    tool_harvest,
)

__all__ = [
    "benchmark_probe",
    "capability",
    "censorship",
    "cot",
    "expert_persona",
    "hidden_reasoning",
    "prompt_extraction",
    "request_params",
    "reward_grading",
    "synthetic_data",
    "tool_harvest",
]
