"""Request-parameter signals: how the call asks to be sampled.

Log-probabilities feed soft-label distillation, many samples per prompt feed
rejection sampling, and maximal output or reasoning budgets buy the longest
traces. Each is also a normal knob for some legitimate use, so scores stay
modest and say *how* a request samples, not *what* it extracts: the pure
sampling signals carry no capability (they would blur the capability
concentration measured at account level); effort and thinking budgets carry
``reasoning``.

``param.logprobs``        0.45 logprobs on; 0.6 with top_logprobs >= 5; 0.7 with >= 20.
``param.n_samples``       0.25 for n >= 2; 0.5 for n >= 8.
``param.max_tokens``      0.25 for >= 32768; 0.35 for >= 65536.
``param.temperature``     0.2 for temperature >= 1.5 (sweeps are an account-level pattern).
``param.reasoning_max``   0.25 for the highest reasoning effort; 0.35 for a thinking budget >= 32000.
"""

from __future__ import annotations

from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.record import Exchange

__all__ = ["RequestParamsDetector"]

_MAX_EFFORT = frozenset({"high", "max", "maximum", "xhigh", "very_high", "highest"})


@register
class RequestParamsDetector:
    """Sampling parameters that favour harvesting: logprobs, many samples, maximal budgets."""

    name: ClassVar[str] = "request_params"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = (
        "param.logprobs",
        "param.n_samples",
        "param.max_tokens",
        "param.temperature",
        "param.reasoning_max",
    )
    threshold: float = 0.5

    def __init__(
        self,
        threshold: float | None = None,
        long_output_tokens: int = 32768,
        thinking_budget_tokens: int = 32000,
    ) -> None:
        if threshold is not None:
            self.threshold = float(threshold)
        self.long_output_tokens = long_output_tokens
        self.thinking_budget_tokens = thinking_budget_tokens

    def detect(self, exchange: Exchange) -> list[Signal]:
        out: list[Signal] = []
        top = exchange.top_logprobs
        if exchange.logprobs or (top is not None and top > 0):
            score = (
                0.7
                if top is not None and top >= 20
                else 0.6
                if top is not None and top >= 5
                else 0.45
            )
            out.append(
                Signal("param.logprobs", score, f"logprobs requested (top_logprobs={top})", None)
            )
        n = exchange.n
        if n is not None and n >= 2:
            out.append(
                Signal(
                    "param.n_samples", 0.5 if n >= 8 else 0.25, f"n={n} samples per prompt", None
                )
            )
        mt = exchange.max_tokens
        if mt is not None and mt >= self.long_output_tokens:
            out.append(
                Signal(
                    "param.max_tokens",
                    0.35 if mt >= 2 * self.long_output_tokens else 0.25,
                    f"max_tokens={mt}",
                    None,
                )
            )
        t = exchange.temperature
        if t is not None and t >= 1.5:
            out.append(Signal("param.temperature", 0.2, f"temperature={t:g}", None))
        effort = exchange.reasoning_effort
        budget = exchange.thinking_budget
        if budget is not None and budget >= self.thinking_budget_tokens:
            out.append(
                Signal("param.reasoning_max", 0.35, f"thinking budget={budget} tokens", "reasoning")
            )
        elif effort is not None and effort.lower() in _MAX_EFFORT:
            out.append(
                Signal("param.reasoning_max", 0.25, f"reasoning_effort={effort}", "reasoning")
            )
        return out
