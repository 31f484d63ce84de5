"""Capability and benchmark probing by the *shape* of the request.

Distillers measure what they harvest with benchmark-shaped items and sweep
capabilities with them. Items are recognized by form only, never by benchmark
ids or text. Eval teams send exactly these shapes, so all scores are modest;
volume and concentration are judged at account level.
Signals (capability ``benchmark_probe``):

``content.benchmark_mcq``
    Options A-D, one per line or inline "(a) ... (d)": 0.25; with an answer
    cue ("Answer:" at the end, "answer with the letter"): 0.45.
``content.benchmark_fewshot``
    Three or more "Q:/Question:" items with answers and an open last answer
    slot (completion-style scoring): 0.5.
``content.benchmark_word_problem``
    A short numeric word problem ending in "how many/how much ...?": 0.25;
    with a trailing "Let's think step by step": 0.4; with a bare completion
    slot (trailing "Answer:", "####", boxed answer request): 0.45.
``content.benchmark_code_stub``
    A Python function signature plus docstring and no body: 0.35; with doctest
    examples (``>>>``): 0.45.
"""

from __future__ import annotations

import re
from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import ContentDetector, Keys, Part, keys, signal_at

__all__ = ["BenchmarkProbeDetector"]

_MAX_ITEM_CHARS = 6000  # benchmark items are short; longer texts are documents, not probes
_CUE_REACH = 300  # an answer cue sits at the end (or opening line) of an item
_OPTION_B = keys("\nb.", "\nb)", "\nb:", "\nb]", "(b)", " b)", " b.", "*b", "\tb", "\n- b", "\n  b")
_OPTION_D = keys("\nd.", "\nd)", "\nd:", "\nd]", "(d)", " d)", " d.", "*d", "\td", "\n- d", "\n  d")
_HOW_MUCH = keys(
    "how many", "how much", "how long", "how far", "how old", "how fast", "how often", "what is the", "what was the",
    "what were the", "what will be the",
)  # fmt: skip
_DEF = keys("def ")
# each check needs one of: option (b), a "\nq"/"\nproblem" line, a quantity question, "def "
_TRIGGERS = keys(*_OPTION_B.english, "\nq", "\nproblem", *_HOW_MUCH.english, *_DEF.english)
_OPTION_LINE = re.compile(r"(?m)^[ \t>*_#-]*(?:\*\*)?\(?([a-e])[\).:\]](?:\*\*)?[ \t]+\S")
_OPTION_INLINE = re.compile(r"\(([a-e])\)[ \t]*\S")
_ANSWER_CUE = re.compile(
    r"(?:\banswer\W{0,3}$|\b(?:answer|respond|reply|output)\w* (?:\w+ ){0,2}?(?:letter|option|choice)\b"
    r"|\bthe (?:correct |right |best )?(?:answer|option|choice) is\W{0,3}$|答案\W{0,3}$|正确答案是)",
    re.MULTILINE,
)
_QUESTION_LINE = re.compile(r"(?m)^[ \t]*(?:q|question|problem)[ \t]*\d*[ \t]*[:.]")
_ANSWER_LINE = re.compile(r"(?m)^[ \t]*(?:a|answer|solution)[ \t]*[:.]")
_OPEN_ANSWER = re.compile(r"(?:\n[ \t]*(?:a|answer|solution)[ \t]*:[ \t]*)$")
_WORD_QUESTION = re.compile(
    r"\b(?:how (?:many|much|long|far|old|fast|often)|what (?:is|was|were|will be) the (?:total|sum|difference|number|amount"
    r"|cost|price|average|percentage|value|area|ratio))\b"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD_CUE = re.compile(
    r"(?:\banswer\W{0,3}$|^a:\W*$|####|\\boxed|final answer (?:after|at the end|in the form|as)|let's think step by step\W*$)",
    re.MULTILINE,
)
_CODE_STUB = re.compile(
    r"^[ \t]*def[ \t]+\w+[ \t]*\([^)]*\)[ \t]*(?:->[ \t]*[^:\n]+)?:[ \t]*\n[ \t]+(\"\"\"|''')(.*?)\1[\s`]*\Z",
    re.MULTILINE | re.DOTALL,
)


@register
class BenchmarkProbeDetector(ContentDetector):
    """Requests shaped like multiple-choice, few-shot, word-problem or code-stub benchmark items."""

    name: ClassVar[str] = "benchmark_probe"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = (
        "content.benchmark_mcq",
        "content.benchmark_fewshot",
        "content.benchmark_word_problem",
        "content.benchmark_code_stub",
    )
    threshold: float = 0.45
    triggers: ClassVar[Keys] = _TRIGGERS
    scan_system: ClassVar[bool] = False  # benchmark items are what the user turn carries

    def scan(self, part: Part) -> list[Signal]:
        out: list[Signal] = []
        text = part.norm
        for check in (self._mcq, self._fewshot, self._word_problem, self._code_stub):
            sig = check(part, text)
            if sig is not None:
                out.append(sig)
        return out

    def _mcq(self, part: Part, text: str) -> Signal | None:
        if len(text) > _MAX_ITEM_CHARS or not (part.any(_OPTION_B) and part.any(_OPTION_D)):
            return None
        options = _OPTION_LINE.findall(text)
        if len(set(options) & {"a", "b", "c", "d"}) < 4:
            options = _OPTION_INLINE.findall(text)
            if len(set(options) & {"a", "b", "c", "d"}) < 4:
                return None
        first = _OPTION_LINE.search(text) or _OPTION_INLINE.search(text)
        if first is None:
            return None
        stripped = text.rstrip()
        tail = max(0, len(stripped) - _CUE_REACH)
        cue = _ANSWER_CUE.search(stripped, tail) or _ANSWER_CUE.search(
            stripped, 0, min(tail, _CUE_REACH)
        )
        if cue is not None:
            return signal_at(
                self.signals[0],
                0.45,
                "multiple-choice item with answer cue",
                part,
                cue.start(),
                cue.end(),
                "benchmark_probe",
            )
        return signal_at(
            self.signals[0],
            0.25,
            "multiple-choice item",
            part,
            first.start(),
            first.end() + 40,
            "benchmark_probe",
        )

    def _fewshot(self, part: Part, text: str) -> Signal | None:
        if len(text) > _MAX_ITEM_CHARS or text.count("\nq") + text.count("\nproblem") < 2:
            return None
        questions = _QUESTION_LINE.findall(text)
        if len(questions) < 3 or len(_ANSWER_LINE.findall(text)) < 2:
            return None
        tail = _OPEN_ANSWER.search(text.rstrip(" \t"))
        if tail is None:
            return None
        return signal_at(
            self.signals[1],
            0.5,
            f"few-shot block of {len(questions)} items with an open answer",
            part,
            tail.start(),
            tail.end(),
            "benchmark_probe",
        )

    def _word_problem(self, part: Part, text: str) -> Signal | None:
        if len(text) > 900 or not part.any(_HOW_MUCH):
            return None
        q = _WORD_QUESTION.search(text)
        if q is None or len(_NUMBER.findall(text)) < 2:
            return None
        stripped = text.rstrip()
        cue = _WORD_CUE.search(stripped)
        if cue is not None:
            # a bare completion slot ("Answer:", "####") is scoring; a CoT trigger is an eval prompt
            return signal_at(
                self.signals[2],
                0.4 if "step" in cue.group(0) else 0.45,
                "numeric word problem with completion cue",
                part,
                q.start(),
                q.end() + 40,
                "benchmark_probe",
            )
        if not stripped.endswith("?"):
            return None
        return signal_at(
            self.signals[2],
            0.25,
            "numeric word problem",
            part,
            q.start(),
            q.end() + 40,
            "benchmark_probe",
        )

    def _code_stub(self, part: Part, text: str) -> Signal | None:
        if not text.rstrip(" \t\r\n`").endswith(('"""', "'''")) or not part.any(_DEF):
            return None
        m = _CODE_STUB.search(text)
        if m is None:
            return None
        doctest = ">>>" in m.group(2)
        return signal_at(
            self.signals[3],
            0.45 if doctest else 0.35,
            "function stub with docstring and doctests"
            if doctest
            else "function stub with docstring",
            part,
            m.start(),
            m.start() + 60,
            "benchmark_probe",
        )
