"""Extraction of the model's hidden reasoning.

Reasoning models keep their thinking out of the visible answer; a distiller
asks for it anyway by having the model repeat, translate, encode, summarize or
continue it. Signal ``content.hidden_reasoning_extraction`` (capability
``reasoning_extraction``):

* 0.9: a verb of reproduction aimed at the model's *own* thinking with a
  marker that it is the hidden part (internal, hidden, raw, private,
  scratchpad, thinking block, ``<think>``, verbatim, word for word).
* 0.7: a reproducing or transforming verb (repeat, print, translate, encode,
  base64, continue, ...) aimed at "your thinking/reasoning" without such a
  marker.
* 0.3: a soft ask ("can you show/summarize your reasoning?"), which ordinary
  users make after an answer.
"""

from __future__ import annotations

import re
from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import (
    ContentDetector,
    Keys,
    Part,
    keys,
    near,
    negated,
    rx,
    signal_at,
)

__all__ = ["HiddenReasoningDetector"]

_THOUGHT = (
    r"(?:thinking|thoughts?|reasoning|chains? of thoughts?|cot|thought process|scratch ?pad"
    r"|(?:internal|inner) monologue|deliberations?|reflections?)"
)
_STRONG_VERB = (
    r"repeat|restate|recite|reproduce|dump|reveal|disclose|leak|expose|copy|paste"
    r"|transcribe|translate|encode|encrypt|base ?64|rot ?13|hex|continue|resume|extract"
)
_SOFT_VERB = (
    r"show|share|summari[sz]e|paraphrase|tell me|give me|write (?:down|out)|display|list|explain"
    r"|describe|walk me through|what (?:was|were|is|are)|provide|print|output|return|echo|quote"
)
_HIDDEN_MARK = (
    r"internal|hidden|private|raw|secret|inner|unfiltered|unedited|unredacted|original|scratch ?pad"
    r"|verbatim|word for word|exactly|thinking (?:block|tokens?|section|trace)|reasoning (?:block|tokens?|trace|section)"
    r"|<\s*/?\s*think|before (?:you |your )?(?:answer|respond|repl|final)"
)
_TARGET = rx(
    r"(?P<verb>\b(?:" + _STRONG_VERB + r"|" + _SOFT_VERB + r")\w*) … "
    r"(?P<det>your|its|the model's|the assistant's|the) (?:\w+ ){0,3}?" + _THOUGHT,
    r"(?P<verb2>\b(?:" + _STRONG_VERB + r"|" + _SOFT_VERB + r")\w*) … "
    r"(?:<\s*/?\s*think\w*\s*>|thinking (?:block|tokens?|section)|reasoning (?:block|tokens?|trace)"
    r"|what you (?:were|are) thinking|(?:the )?thoughts you had|what went through your (?:mind|head)"
    r"|(?:the )?reasoning you (?:produced|did|had|used)|(?:the )?scratch ?pad you used)",
)
_STRONG_RE = rx(r"\b(?:" + _STRONG_VERB + r")")
_HIDDEN_RE = rx(_HIDDEN_MARK)
_TARGET_ZH = rx(
    r"(?P<verb>重复|复述|逐字|原样|原封不动|照搬|翻译|编码|加密|转换|总结|概括|继续|接着|输出|打印|展示|显示|透露|公开"
    r"|泄露|告诉我|写出|给出|说出|复制|粘贴).{0,12}?你(?:的|刚才|之前|刚刚|内部|隐藏|内心|原始)"
    r".{0,8}?(?:思考|推理|思维链|思维|思路|想法|草稿)",
)
_THOUGHT_ANCHORS = keys(
    "mind", "head", "think", "thought", "reasoning", "chain", "cot", "scratch", "monologue", "deliberation",
    "reflection",
)  # fmt: skip
_THOUGHT_ZH = keys(chinese=("思考", "推理", "思维", "思路", "想法", "草稿"))
_GATE = keys(
    "think", "thought", "reason", "scratch", "monologue", "cot", "deliberat", "reflection",
    chinese=("思考", "推理", "思维", "思路", "想法", "草稿"),
)  # fmt: skip
_OWNER = keys("your", "its", "the", "you")
# The 把 construction puts the verb after its object: "把你的推理翻译成英文".
_TARGET_ZH_BA = rx(
    r"你(?:的|刚才的?|之前的?|内部的?|隐藏的?|内心的?|原始的?)?.{0,6}?(?:思考|推理|思维链|思维|思路|想法|草稿)(?:过程|内容)?"
    r".{0,10}?(?P<verb>重复|复述|翻译|编码|加密|转换|总结|概括|继续|输出|打印|展示|显示|透露|公开|泄露|写出|给出|说出|复制|粘贴)",
)
_STRONG_ZH = (
    "重复",
    "复述",
    "逐字",
    "原样",
    "原封不动",
    "照搬",
    "翻译",
    "编码",
    "加密",
    "继续",
    "接着",
    "输出",
    "打印",
    "泄露",
    "复制",
)
_HIDDEN_ZH = ("内部", "隐藏", "内心", "原始", "私有", "逐字", "原样", "原封不动", "草稿", "真实")


_SENTENCE_END = re.compile(r"[.!?\n]")


def _same_sentence(text: str, start: int, end: int, reach: int = 60) -> str:
    """Up to ``reach`` characters around a match, cut at sentence ends.

    A "hidden" marker must qualify the request itself ("repeat your reasoning
    verbatim"), not a word of the task that follows it ("...then give the final
    answer. A plot of private property is fenced...").
    """
    head = text[max(0, start - reach) : start]
    cut = max(head.rfind(c) for c in ".!?\n")
    if cut >= 0:
        head = head[cut + 1 :]
    tail = text[end : end + reach]
    stop = _SENTENCE_END.search(tail)
    if stop is not None:
        tail = tail[: stop.start()]
    return head + text[start:end] + tail


@register
class HiddenReasoningDetector(ContentDetector):
    """Requests to repeat, translate, encode, summarize or continue the model's own thinking."""

    name: ClassVar[str] = "hidden_reasoning"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.hidden_reasoning_extraction",)
    threshold: float = 0.5
    triggers: ClassVar[Keys] = _GATE

    def scan(self, part: Part) -> list[Signal]:
        text = part.norm
        m = (
            near(part, _TARGET, _THOUGHT_ANCHORS, before=90, after=30, limit=3)
            if part.any(_OWNER)
            else None
        )
        if m is not None and negated(text, m.start()):
            m = None
        if m is not None:
            verb = m.group("verb") or m.group("verb2")
            det = m.group("det")
            own = det is None or det == "your" or "'" in det
            if _HIDDEN_RE.search(_same_sentence(text, m.start(), m.end())) is not None:
                score, what = 0.9, "hidden reasoning asked to be reproduced"
            elif not own:
                score, what = 0.25, "reasoning asked to be reproduced"
            elif _STRONG_RE.match(verb) is not None:
                score, what = 0.7, "model's own reasoning asked to be reproduced"
            else:
                score, what = 0.3, "model's reasoning asked to be shown"
            return [
                signal_at(
                    self.signals[0], score, what, part, m.start(), m.end(), "reasoning_extraction"
                )
            ]
        if part.cjk:
            m = near(part, _TARGET_ZH, _THOUGHT_ZH, before=40, after=8) or near(
                part, _TARGET_ZH_BA, _THOUGHT_ZH, before=20, after=30
            )
            if m is not None and not negated(text, m.start()):
                span = text[max(0, m.start() - 20) : m.end() + 10]
                if any(w in span for w in _HIDDEN_ZH):
                    score, what = 0.9, "hidden reasoning asked to be reproduced"
                elif any(w in m.group("verb") for w in _STRONG_ZH):
                    score, what = 0.7, "model's own reasoning asked to be reproduced"
                else:
                    score, what = 0.3, "model's reasoning asked to be shown"
                return [
                    signal_at(
                        self.signals[0],
                        score,
                        what,
                        part,
                        m.start(),
                        m.end(),
                        "reasoning_extraction",
                    )
                ]
        return []
