"""Censorship-safe rewrites of politically sensitive questions.

One reported campaign had the model turn politically sensitive questions into
steered or sanitized versions, i.e. labelled data for training a censoring
model. What is detected is the *operation* (rewrite a sensitive question into a
safe/compliant/official one), never a topic, country or language: a question
about a sensitive topic on its own emits nothing.

Signal ``content.censorship_rewrite`` (capability ``censorship_rewrite``):

* 0.85: a rewrite verb near a political-sensitivity marker (politically
  sensitive, censorship, official narrative/position, content regulation)
  and a safe target (safe, neutral, compliant, harmless, approved, avoids ...).
* 0.6: rewrite near a sensitivity marker without a stated target.
* 0.5: answering "in line with the official position" (steering, no rewrite).
* 0.3: the same rewrite of "sensitive content" with nothing political in
  reach (ordinary moderation or redaction work).
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
    rx,
    signal_at,
)

__all__ = ["CensorshipRewriteDetector"]

_SENSITIVE = rx(
    r"\bpolitical(?:ly)? (?:\w+ )?(?:sensitive|charged|risky|problematic|incorrect|controversial|touchy|delicate|fraught"
    r"|dangerous|explosive|thorny|loaded|awkward|contentious|dicey|hot)",
    r"\b(?:government|state|official|party|political) (?:\w+ )?(?:review|audit|censors?|inspection|approval|vetting)\b",
    r"\bsensitive (?:\w+ )?(?:political|topics?|questions?|issues?|content|subjects?|terms?|keywords?|words?|events?|matters?)",
    r"\bcensor\w*",
    r"\b(?:official|government|state|party|authorities') (?:\w+ )?(?:position|narrative|stance|line|view|approved|sanctioned|talking points|propaganda)\w*",
    r"\bparty line\b",
    r"\b(?:content|internet|national|local|state) (?:regulations?|censorship|review rules|security laws?)",
    r"\bcore socialist values\b",
    r"\b(?:forbidden|taboo|banned|prohibited|restricted) (?:topics?|words?|keywords?|subjects?)",
    r"政治上?的?(?:敏感|风险|不正确|忌讳)|敏感(?:问题|话题|内容|词|词汇|信息|事件|议题)|审查|官方(?:立场|口径|说法|叙事)|主流价值观|核心价值观|正能量|违禁词",
)
_REWRITE = rx(
    r"\b(?:rewrit\w*|re write|rephras\w*|reword\w*|reformulat\w*|paraphras\w*|restat\w*|revis\w*|transform\w*"
    r"|convert\w*|turn\w* (?:it|them|this|these|each|the \w+)? ?into|sanitiz\w*|sanitis\w*|soften\w*|tone down"
    r"|neutrali[sz]\w*|recast\w*|steer\w*|redirect\w*|modify|edit)",
    r"\bmake (?:it |this |these |them |each |the |this )?(?:\w+ )?(?:safe|safer|acceptable|compliant|neutral|harmless|appropriate|inoffensive)\b",
    r"改写|重写|改述|改成|转写|转换|润色|修改|换(?:个|一种)说法|重新表述|规避|洗白|改为",
)
_SAFE = rx(
    r"\b(?:safe|safer|neutral|sanitized|sanitised|compliant|acceptable|non ?sensitive|harmless|innocuous|inoffensive"
    r"|approved|positive|harmonious|allowed|permissible|uncontroversial|avoid\w*|comply|complies|conform\w*|in line with)\b",
    r"\bpass(?:es|ing)? (?:\w+ ){0,3}?(?:review|audit|censors?|inspection|moderation|vetting)\b",
    r"安全|合规|中立|正面|积极|无害|不敏感|符合|可以发布|过审",
)
_STEER = rx(
    r"\b(?:answer|respond|reply|stick|adhere|conform|align)\w* (?:\w+ ){0,4}?(?:in line with|according to|consistent with|following|to) (?:the )?(?:official|government|party)",
    r"(?:按照|根据|符合|遵循)(?:官方|政府)",
)
_POLITICAL = rx(
    r"\b(?:politic\w*|government\w*|regime|communis\w*|party|state media|authorit\w*|protest\w*|democra\w*"
    r"|sovereign\w*|dissident\w*|official|censor\w*|propaganda|socialist|election\w*|leaders?hip)",
    r"政治|政府|政权|党|抗议|民主|主权|官方|审查|审核|过审|和谐|领导人|选举|发布",
)
_WINDOW = 220
_SENSITIVE_ZH = ("敏感", "审查", "官方", "价值观", "正能量", "违禁")
# every alternative of _SENSITIVE starts with one of these words
_SENSITIVE_RULE = Rule(
    _SENSITIVE,
    ("politic", "sensitive", "censor", "official", "government", "state", "party", "authorities", "content",
     "internet", "national", "local", "core socialist", "forbidden", "taboo", "banned", "prohibited", "restricted"),
    ("政治", "敏感", "审查", "官方", "主流", "核心", "正能量", "违禁"),
    limit=4,
)  # fmt: skip

_GATE = keys(
    "sensitiv", "censor", "official", "government", "party", "regulat", "socialist", "taboo", "forbidden", "banned",
    "prohibited", "restricted", "authorities", "politic", "review rules", "security law",
    chinese=("敏感", "审查", "官方", "价值观", "正能量", "违禁"),
)  # fmt: skip


@register
class CensorshipRewriteDetector(ContentDetector):
    """Rewriting politically sensitive questions into sanitized or steered versions."""

    name: ClassVar[str] = "censorship_rewrite"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.censorship_rewrite",)
    threshold: float = 0.5
    triggers: ClassVar[Keys] = _GATE

    def scan(self, part: Part) -> list[Signal]:
        text = part.norm
        for m in _SENSITIVE_RULE.finditer(part):
            lo, hi = max(0, m.start() - _WINDOW), m.end() + _WINDOW
            rewrite = _REWRITE.search(text, lo, hi)
            if rewrite is not None:
                safe = _SAFE.search(text, lo, hi) is not None
                political = _POLITICAL.search(text, lo, hi) is not None
                start, end = min(m.start(), rewrite.start()), max(m.end(), rewrite.end())
                if end - start > 160:
                    start, end = m.start(), m.end()
                return [
                    signal_at(
                        self.signals[0],
                        (0.85 if safe else 0.6) if political else 0.3,
                        (
                            "politically sensitive text rewritten to a safe version"
                            if safe
                            else "politically sensitive text rewritten"
                        )
                        if political
                        else "sensitive text sanitized",
                        part,
                        start,
                        end,
                        "censorship_rewrite",
                    )
                ]
            steer = _STEER.search(text, lo, hi)
            if steer is not None:
                return [
                    signal_at(
                        self.signals[0],
                        0.5,
                        "answer steered to an official position",
                        part,
                        steer.start(),
                        steer.end(),
                        "censorship_rewrite",
                    )
                ]
        return []
