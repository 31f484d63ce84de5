"""System-prompt and policy extraction attempts.

Harvesters copy the system prompts and policies of products built on the model
and probe how it was instructed. Only the user message is read: system prompts
routinely say "never reveal these instructions", which is a guard, not an
attempt. Signal ``content.prompt_extraction`` (capability
``prompt_extraction``):

* 0.85: a reveal/repeat/print verb aimed at *your* system prompt, developer
  message, hidden instructions, "instructions you were given", or "the text
  above" verbatim. "Write me a system prompt" names no owner and is quiet.
* 0.5: "repeat/print your instructions/rules".
* 0.4: "ignore previous instructions" without a target (jailbreak preambles
  in ordinary chat traffic carry it too) and a curious "what are your
  instructions/rules?".
"""

from __future__ import annotations

from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import (
    ContentDetector,
    Keys,
    Part,
    Rule,
    keys,
    negated,
    rx,
    signal_at,
)

__all__ = ["PromptExtractionDetector"]

_VERB = (
    r"(?:print|repeat|reveal|show|output|display|tell|give|share|disclose|leak|dump|recite|copy|write (?:out|down)"
    r"|spell out|paste|list|return|echo|reproduce|translate|encode|summari[sz]e|quote|send|what (?:is|are|were|was|does|did))"
)
_COPY_VERB = r"(?:print|repeat|reveal|output|disclose|leak|dump|recite|copy|reproduce|echo|write out|paste|encode)"
_QUAL = r"(?:(?:full|complete|entire|exact|original|initial|hidden|secret|internal|verbatim|real|actual|underlying|first|current|whole|raw) )*"
_SECRET = (
    r"(?:system (?:prompt|message|instructions?|role)|initial (?:instructions?|prompt)|developer (?:message|prompt|instructions?)"
    r"|pre ?prompt|meta ?prompt|hidden (?:instructions?|prompt|rules)|secret (?:instructions?|prompt|rules))"
)
_GENERIC = (
    r"(?:instructions?|prompt|rules|guidelines|directives|polic(?:y|ies)|configuration|constraints)"
)
_VERB_START = (
    "print", "repeat", "reveal", "show", "output", "display", "tell", "give", "share", "disclose", "leak", "dump",
    "recite", "copy", "write", "spell out", "paste", "list", "return", "echo", "reproduce", "translate", "encode",
    "summari", "quote", "send", "what",
)  # fmt: skip
_COPY_START = (
    "print",
    "repeat",
    "reveal",
    "output",
    "disclose",
    "leak",
    "dump",
    "recite",
    "copy",
    "reproduce",
    "echo",
    "write out",
    "paste",
    "encode",
)
# (gate: words that must all-or-any be present first, rule). Gates keep the
# verb-anchored rules from running on every "what"/"show" of ordinary chat.
_EXTRACT: tuple[tuple[Keys | None, Rule], ...] = (
    (
        keys("system", "initial", "developer", "prompt", "hidden", "secret"),
        Rule(
            rx(
                r"\b" + _VERB + r"\w* … (?:your|the model's|the assistant's) " + _QUAL + _SECRET,
                r"\b"
                + _VERB
                + r"\w* … the "
                + _QUAL
                + _SECRET
                + r" (?:you|that you|above|for this|of this|in this|behind)",
            ),
            _VERB_START,
        ),
    ),
    (
        keys("given", "follow", "receiv"),
        Rule(
            rx(
                r"\b"
                + _VERB
                + r"\w* … (?:the )?"
                + _QUAL
                + _GENERIC
                + r" (?:you (?:were|have been|are) given|given to you|you follow|you received)"
            ),
            _VERB_START,
        ),
    ),
    (
        keys("starting", "beginning"),
        Rule(
            rx(r"\b(?:starting|beginning) (?:with|from) \W{0,3}you are\b"),
            ("starting", "beginning"),
        ),
    ),
    (
        keys("verbatim"),
        Rule(
            rx(
                r"\bverbatim\b.{0,40}\b(?:system|instructions?|prompt)\b|\b(?:system|instructions?|prompt)\b.{0,40}\bverbatim\b"
            ),
            ("verbatim",),
            before=60,
            after=60,
            limit=3,
        ),
    ),
    (
        keys("above", "before", "preceding", "prior"),
        Rule(
            rx(
                r"\b"
                + _COPY_VERB
                + r"\w* (?:\w+ ){0,2}?(?:all )?(?:the )?(?:text|words|content|messages?|everything) (?:above|before this|preceding|prior)"
                r".{0,60}?(?:verbatim|word for word|exactly|in a code ?block|including|starting)"
            ),
            _COPY_START,
        ),
    ),
    (
        None,
        Rule(
            rx(
                r"(?:输出|打印|显示|重复|复述|告诉我|透露|泄露|给出|展示|说出|翻译|总结).{0,8}?(?:你的|您的)(?:完整的?|全部的?|原始的?|初始的?|隐藏的?)?"
                r"(?:系统提示词?|系统指令|系统消息|初始指令|提示词|隐藏指令|开发者(?:消息|指令))"
            ),
            (),
            ("提示", "指令", "系统消息"),
            before=30,
            after=10,
        ),
    ),
)
_YOUR_GENERIC = Rule(
    rx(r"\b(?P<verb>" + _VERB + r")\w* … your " + _QUAL + _GENERIC + r"\b"), _VERB_START
)
_GENERIC_ANCHORS = keys(
    "instruction",
    "prompt",
    "rules",
    "guideline",
    "directive",
    "polic",
    "configuration",
    "constraint",
)
_GENERIC_ANCHORS_ZH = keys(
    "instruction", "prompt", "rules", "guideline", "directive", "polic", "configuration", "constraint",
    chinese=("指令", "规则", "设定"),
)  # fmt: skip
_GATE = keys(
    "prompt", "instruction", "system", "guideline", "polic", "rules", "above", "verbatim", "you are", "ignore",
    "disregard", "forget", "override", "bypass", "directive", "before this", "preceding",
    chinese=("提示", "指令", "系统", "规则", "设定", "忽略"),
)  # fmt: skip
_YOUR = keys("your")
_COPY_RE = rx(r"\b" + _COPY_VERB)
_OVERRIDE = Rule(
    rx(
        r"\b(?:ignore|disregard|forget|override|bypass) (?:all |any |the |your )*(?:previous|prior|above|preceding|earlier|original|system)"
        r" (?:instructions?|prompts?|rules|directions|guidelines|messages?)",
        r"忽略(?:之前|以上|前面|上面|先前)的?(?:所有)?(?:指令|指示|提示|规则)",
    ),
    ("ignore", "disregard", "forget", "override", "bypass"),
    ("忽略",),
)
_CURIOUS = Rule(
    rx(
        r"\b(?:what|which) (?:are|were|is) (?:your|the) (?:\w+ )?(?:instructions|rules|guidelines|directives|constraints)\b",
        r"你的(?:指令|规则|设定)是什么",
    ),
    ("what", "which"),
    ("你的",),
)


@register
class PromptExtractionDetector(ContentDetector):
    """Attempts to make the model disclose its system prompt or policy."""

    name: ClassVar[str] = "prompt_extraction"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.prompt_extraction",)
    threshold: float = 0.5
    triggers: ClassVar[Keys] = _GATE
    scan_system: ClassVar[bool] = False

    def scan(self, part: Part) -> list[Signal]:
        text = part.norm
        for gate, rule in _EXTRACT:
            if gate is not None and not part.any(gate):
                continue
            for m in rule.finditer(part):
                if not negated(text, m.start()):
                    what = "system prompt extraction"
                    return [
                        signal_at(
                            self.signals[0],
                            0.85,
                            what,
                            part,
                            m.start(),
                            m.end(),
                            "prompt_extraction",
                        )
                    ]
        m = _YOUR_GENERIC.find(part) if part.any(_YOUR) and part.any(_GENERIC_ANCHORS) else None
        if m is not None and not negated(text, m.start()):
            copy = _COPY_RE.match(m.group("verb")) is not None
            return [
                signal_at(
                    self.signals[0],
                    0.5 if copy else 0.4,
                    "model's instructions asked to be reproduced"
                    if copy
                    else "question about the model's instructions",
                    part,
                    m.start(),
                    m.end(),
                    "prompt_extraction",
                )
            ]
        m = _OVERRIDE.find(part)
        if m is not None:
            return [
                signal_at(
                    self.signals[0],
                    0.4,
                    "instruction override",
                    part,
                    m.start(),
                    m.end(),
                    "prompt_extraction",
                )
            ]
        m = _CURIOUS.find(part) if part.any(_GENERIC_ANCHORS_ZH) else None
        if m is not None:
            return [
                signal_at(
                    self.signals[0],
                    0.4,
                    "question about the model's instructions",
                    part,
                    m.start(),
                    m.end(),
                    "prompt_extraction",
                )
            ]
        return []
