"""Data-analysis and expert-persona harvesting.

One campaign used families of "you are an expert <X>" system prompts that
demand complete, transparent reasoning, a cheap way to farm expert
worked-solutions across domains. An expert persona by itself is everywhere in
SaaS prompts and emits nothing. Signal ``content.expert_transparent_reasoning``
(capability ``data_analysis`` when the text is about data, else ``reasoning``):

* 0.55: an expert persona (system prompt or user message) plus a demand for
  complete/transparent/every-step reasoning (either part).
* 0.85: the same with a stated training purpose ("will be used to train",
  "for a dataset", "fine-tuning").
"""

from __future__ import annotations

import re
from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import (
    ContentDetector,
    Part,
    Rule,
    keys,
    normalized,
    quote,
    rx,
    signal_at,
)
from distillwatch.record import Exchange

__all__ = ["ExpertPersonaDetector"]

_PERSONA = rx(
    r"\b(?:you are|you're|act as|acting as|assume the role of|take the role of|role ?play as) (?:an? |the )?(?:\w+ ){0,5}?"
    r"(?:expert|specialist|analyst|scientist|statistician|mathematician|researcher|consultant|professor|strategist"
    r"|economist|engineer|physician|attorney|quant|actuary|auditor|tutor|teacher)s?\b",
    r"\b(?:you are|you're|act as|acting as|as|role ?:) (?:an? |the )?(?:world ?class|top ?tier|top|seasoned|senior|leading|elite|renowned|expert"
    r"|veteran|distinguished|highly (?:skilled|experienced)|experienced|professional)\b",
    r"(?:你是|作为|扮演)(?:一[名位个])?.{0,12}?(?:专家|分析师|科学家|统计学家|数学家|研究员|顾问|教授|工程师|资深)",
)
_TRANSPARENT = rx(
    r"\b(?:complete|full|fully|entire|transparent|transparently|explicit|explicitly|detailed|exhaustive|thorough|every|all|each|whole)"
    r" (?:\w+ ){0,2}?(?:reasoning|thought process|chain of thought|thinking|steps|step by step|working|derivations?|rationale"
    r"|methodology|analytical process|analysis process)\b",
    r"\bshow (?:all|every|each) (?:of )?(?:your )?(?:work|steps|reasoning|calculations)\b",
    r"\b(?:do not|don't|never) (?:skip|omit|leave out|hide) (?:any )?(?:steps?|reasoning|details)\b",
    r"\b(?:make|keep) (?:your |the )?reasoning (?:fully )?(?:transparent|explicit|visible)\b",
    r"(?:完整|透明|详细|全部|每一步|所有)的?(?:推理|思考|分析|思维|解题)(?:过程|步骤|链)?",
)
_TRAINING = rx(
    r"\b(?:will be used to train|used (?:for|as) training|for (?:a |our |the )?(?:training )?dataset|training (?:data|examples|corpus)"
    r"|fine ?tun\w*|to train (?:a |our |another )?(?:model|llm|student))\b",
    r"训练数据|数据集|用于训练|微调",
)
_DATA = re.compile(
    r"\b(?:data|dataset|datasets|csv|sql|dataframe|pandas|regression|statistic\w*|forecast\w*|metrics?|spreadsheet|excel|analytics|kpis?)\b|数据|统计"
)
_PERSONA_WORDS = ("world", "top", "seasoned", "senior", "leading", "elite", "renowned", "veteran", "distinguished", "highly", "experienced", "professional",
    "expert", "specialist", "analyst", "scientist", "statistician", "mathematician", "researcher", "consultant",
    "professor", "strategist", "economist", "engineer", "physician", "attorney", "quant", "actuary", "auditor", "tutor", "teacher",
)  # fmt: skip
_PERSONA_ZH = (
    "专家",
    "分析师",
    "科学家",
    "统计学家",
    "数学家",
    "研究员",
    "顾问",
    "教授",
    "工程师",
    "资深",
)
_TRANSPARENT_WORDS = (
    "reasoning",
    "thought",
    "thinking",
    "step",
    "working",
    "derivation",
    "rationale",
    "methodolog",
    "process",
    "work",
    "skip",
    "omit",
)
_TRANSPARENT_ZH = ("推理", "思考", "分析", "思维", "解题")


_PERSONA_RULE = Rule(
    _PERSONA,
    ("you are", "you're", "act as", "acting as", "assume the role", "take the role", "role", "as "),
    ("你是", "作为", "扮演"),
)
_TRANSPARENT_RULE = Rule(
    _TRANSPARENT,
    ("complete", "full", "entire", "transparent", "explicit", "detailed", "exhaustive", "thorough", "every", "all",
     "each", "whole", "show", "do not", "don't", "never", "make", "keep"),
    ("完整", "透明", "详细", "全部", "每一步", "所有"),
    limit=6,
)  # fmt: skip


_PERSONA_GATE = keys(*_PERSONA_WORDS, chinese=_PERSONA_ZH)
_TRANSPARENT_GATE = keys(*_TRANSPARENT_WORDS, chinese=_TRANSPARENT_ZH)
_TRAINING_GATE = keys("train", "dataset", "fine", "tun", chinese=("训练", "数据集", "微调"))


def _persona(part: Part) -> re.Match[str] | None:
    return _PERSONA_RULE.find(part) if part.any(_PERSONA_GATE) else None


def _demand(part: Part) -> re.Match[str] | None:
    return _TRANSPARENT_RULE.find(part) if part.any(_TRANSPARENT_GATE) else None


@register
class ExpertPersonaDetector(ContentDetector):
    """Expert personas that demand complete, transparent reasoning."""

    name: ClassVar[str] = "expert_persona"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.expert_transparent_reasoning",)
    threshold: float = 0.5

    def detect(self, exchange: Exchange) -> list[Signal]:
        view = normalized(exchange)
        sys_persona, sys_demand = view.system.memo.get(self._memo_key) or self._remember(
            view.system
        )
        user = view.user
        persona = sys_persona or ((view.user, m) if (m := _persona(user)) else None)
        if persona is None:
            return []
        demand = sys_demand or ((user, m) if (m := _demand(user)) else None)
        if demand is None:
            return []
        part, m = demand
        training = any(
            p.norm and p.any(_TRAINING_GATE) and _TRAINING.search(p.norm)
            for p in (view.system, user)
        )
        about_data = any(p.norm and _DATA.search(p.norm) is not None for p in (view.system, user))
        persona_part, pm = persona
        what = f"expert persona ({quote(persona_part.quote(pm.start(), pm.end()), 40)}) demanding complete reasoning"
        if training:
            what += " for training data"
        return [
            signal_at(
                self.signals[0],
                0.85 if training else 0.55,
                what,
                part,
                m.start(),
                m.end(),
                "data_analysis" if about_data else "reasoning",
            )
        ]

    def _remember(
        self, system: Part
    ) -> tuple[tuple[Part, re.Match[str]] | None, tuple[Part, re.Match[str]] | None]:
        """Persona and demand found in a system prompt, memoized on its cached part."""
        if not system.norm:
            return None, None
        p = _persona(system)
        d = _demand(system)
        found = ((system, p) if p else None, (system, d) if d else None)
        system.memo[self._memo_key] = found
        return found

    def scan(self, part: Part) -> list[Signal]:  # pragma: no cover - detect() combines parts itself
        return []
