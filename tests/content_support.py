"""Helpers shared by the content-detector tests: exchanges and cheap disguises."""

from __future__ import annotations

import json
from typing import Any

from distillwatch.detectors.base import Signal, default_registry
from distillwatch.detectors.content.text import fold
from distillwatch.record import Exchange, Turn

__all__ = ["exchange", "signals", "top", "disguises", "quoted", "assert_quotes"]

_counter = 0
_HOMOGLYPHS = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "i": "і"})


def exchange(
    user: str, system: str = "", history: list[Turn] | None = None, **fields: Any
) -> Exchange:
    """A one-request exchange; every call gets a fresh id."""
    global _counter
    _counter += 1
    turns = [*(history or []), Turn("user", user)]
    return Exchange(
        id=f"t{_counter}",
        ts=0.0,
        account_id="acct",
        api="openai.chat.completions",
        system=system,
        turns=turns,
        **fields,
    )


def signals(detector: str, ex: Exchange, **options: Any) -> list[Signal]:
    """Signals of one registered detector (built with ``options``)."""
    return default_registry().get(detector)(**options).detect(ex)


def top(detector: str, ex: Exchange, name: str | None = None) -> float:
    """Highest score of the detector (optionally of one signal name); 0 when quiet."""
    return max(
        (s.score for s in signals(detector, ex) if name is None or s.name == name), default=0.0
    )


def disguises(text: str) -> dict[str, str]:
    """What an attacker does cheaply to dodge keyword rules."""
    words = text.split(" ")
    return {
        "upper": text.upper(),
        "homoglyph": text.translate(_HOMOGLYPHS),
        "zero_width": " ".join(w[:2] + "\u200b" + w[2:] if len(w) > 4 else w for w in words),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text),
        "markdown": "```\n" + " ".join(f"**{w}**" if len(w) > 6 else w for w in words) + "\n```",
        "json": json.dumps({"messages": [{"role": "user", "content": text}]}),
        "whitespace": "  \n".join(words),
    }


def quoted(signal: Signal) -> str:
    """The span a detail quotes (between its first and last double quote)."""
    start, end = signal.detail.index('"'), signal.detail.rindex('"')
    return signal.detail[start + 1 : end].rstrip("…")


def assert_quotes(signal: Signal, raw: str) -> None:
    """The quoted span can be found in the request text (raw, or folded when disguised)."""
    span = quoted(signal)
    assert span, signal
    flat_raw, flat_fold = " ".join(raw.split()), " ".join(fold(raw).split())
    assert span in flat_raw or span in flat_fold, (span, raw)
    assert len(span) <= 80
