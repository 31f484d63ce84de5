"""System-prompt and policy extraction attempts.

Harvesters copy the system prompts and policies of products built on the model
and probe how it was instructed. Only the user message is read: system prompts
routinely say "never reveal these instructions", which is a guard, not an
attempt. Signal ``content.prompt_extraction`` (capability
``prompt_extraction``):

* 0.85: a reveal/repeat/print verb aimed at *your* system prompt, developer
  message, hidden instructions, "instructions you were given", or "the text
  above" verbatim. "Write me a system prompt" names no owner and is quiet.
* 0.5: "repeat/print your instructions/rules" and "ignore previous
  instructions" (injection preamble) without a target.
* 0.4: a curious "what are your instructions/rules?".
"""

from __future__ import annotations

from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import ContentDetector, Part, negated, rx, signal_at

__all__ = ["PromptExtractionDetector"]

_VERB = (
    r"(?:print|repeat|reveal|show|output|display|tell|give|share|disclose|leak|dump|recite|copy|write (?:out|down)"
    r"|spell out|paste|list|return|echo|reproduce|translate|encode|summari[sz]e|what (?:is|are|were|was))"
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
_EXTRACT = rx(
    r"\b" + _VERB + r"\w* … (?:your|the model's|the assistant's) " + _QUAL + _SECRET,
    r"\b"
    + _VERB
    + r"\w* … the "
    + _QUAL
    + _SECRET
    + r" (?:you|that you|above|for this|of this|in this|behind)",
    r"\b"
    + _VERB
    + r"\w* … (?:the )?"
    + _QUAL
    + _GENERIC
    + r" (?:you (?:were|have been|are) given|given to you|you follow|you received)",
    r"\b(?:starting|beginning) (?:with|from) \W{0,3}you are\b",
    r"\bverbatim\b.{0,40}\b(?:system|instructions?|prompt)\b|\b(?:system|instructions?|prompt)\b.{0,40}\bverbatim\b",
    r"\b"
    + _COPY_VERB
    + r"\w* (?:\w+ ){0,2}?(?:all )?(?:the )?(?:text|words|content|messages?|everything) (?:above|before this|preceding|prior)"
    r".{0,60}?(?:verbatim|word for word|exactly|in a code ?block|including|starting)",
    r"(?:输出|打印|显示|重复|复述|告诉我|透露|泄露|给出|展示|说出|翻译|总结).{0,8}?(?:你的|您的)(?:完整的?|全部的?|原始的?|初始的?|隐藏的?)?"
    r"(?:系统提示词?|系统指令|系统消息|初始指令|提示词|隐藏指令|开发者(?:消息|指令))",
)
_YOUR_GENERIC = rx(r"\b(?P<verb>" + _VERB + r")\w* … your " + _QUAL + _GENERIC + r"\b")
_COPY_RE = rx(r"\b" + _COPY_VERB)
_OVERRIDE = rx(
    r"\b(?:ignore|disregard|forget|override|bypass) (?:all |any |the |your )*(?:previous|prior|above|preceding|earlier|original|system)"
    r" (?:instructions?|prompts?|rules|directions|guidelines|messages?)",
    r"忽略(?:之前|以上|前面|上面|先前)的?(?:所有)?(?:指令|指示|提示|规则)",
)
_CURIOUS = rx(
    r"\b(?:what|which) (?:are|were|is) (?:your|the) (?:\w+ )?(?:instructions|rules|guidelines|directives|constraints)\b",
    r"你的(?:指令|规则|设定)是什么",
)


@register
class PromptExtractionDetector(ContentDetector):
    """Attempts to make the model disclose its system prompt or policy."""

    name: ClassVar[str] = "prompt_extraction"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.prompt_extraction",)
    threshold: float = 0.5
    scan_system: ClassVar[bool] = False

    def scan(self, part: Part) -> list[Signal]:
        if not part.any(
            ("prompt", "instruction", "system", "guideline", "polic", "rules", "above", "verbatim", "you are",
             "ignore", "disregard", "forget", "override", "bypass", "directive", "before this", "preceding"),
            ("提示", "指令", "系统", "规则", "设定", "忽略"),
        ):  # fmt: skip
            return []
        text = part.norm
        m = _EXTRACT.search(text)
        if m is not None and not negated(text, m.start()):
            return [
                signal_at(
                    self.signals[0],
                    0.85,
                    "system prompt extraction",
                    part,
                    m.start(),
                    m.end(),
                    "prompt_extraction",
                )
            ]
        m = _YOUR_GENERIC.search(text)
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
        m = _OVERRIDE.search(text)
        if m is not None:
            return [
                signal_at(
                    self.signals[0],
                    0.5,
                    "instruction override",
                    part,
                    m.start(),
                    m.end(),
                    "prompt_extraction",
                )
            ]
        m = _CURIOUS.search(text)
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
