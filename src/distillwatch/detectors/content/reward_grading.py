"""Reward-model use: rubric, pairwise and pointwise grading of candidate responses.

A distiller uses the model as a reward model or preference labeller, which is
exactly what a company's own LLM-as-judge pipeline does, so content alone says
"this is grading", not "this is an attack". Signal ``content.reward_grading``
(capability ``reward_grading``):

* Features: a judge role ("act as an impartial judge"), an evaluation verb
  aimed at responses/answers/outputs, a numeric scale ("from 1 to 10",
  ``[[5]]``), a pairwise set-up (response A/B, "which is better"), a verdict
  format ("Rating:", "final verdict"), a rubric/criteria.
* One feature that names responses: 0.3; two: 0.5; three or more (a judge
  template): 0.55. Two or more labelled candidates ("Response 1", "Text 2")
  count as a feature; three or more (bulk labelling) add 0.1.
* Explicit reward-model or preference-data framing ("you are a reward model",
  "chosen and rejected", "preference labels") together with grading: 0.8;
  that framing alone (e.g. a question about RLHF): 0.2.
"""

from __future__ import annotations

import re
from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import (
    ContentDetector,
    Keys,
    Part,
    Rule,
    first,
    keys,
    rx,
    signal_at,
)

__all__ = ["RewardGradingDetector"]

_RESP = (
    r"(?:responses?|answers?|outputs?|completions?|generations?|candidates?|assistants?|replies|reply"
    r"|texts?|summar(?:y|ies)|translations?|model outputs?)"
)
_RESP_NOUNS = ("response", "answer", "assistant", "output", "completion", "candidate", "model")
# (label, rules): a feature is present when any of its rules matches
_FEATURES: tuple[tuple[str, tuple[Rule, ...]], ...] = (
    (
        "judge role",
        (
            Rule(
                rx(
                    r"\b(?:act|serve|behave|work) as (?:an? )?(?:\w+ ){0,2}?(?:judge|grader|evaluator|rater|annotator|critic|reward model)",
                    r"\byou are (?:an? |the )?(?:\w+ ){0,2}?(?:judge|grader|evaluator|rater|annotator|reward model)\b",
                ),
                ("act", "serve", "behave", "work", "you are"),
            ),
            Rule(
                rx(
                    r"(?:作为|扮演|你是)(?:一[名个位])?.{0,6}?(?:裁判|评委|评审|评估者|评分员|打分员|奖励模型)"
                ),
                (),
                ("作为", "扮演", "你是"),
            ),
        ),
    ),
    (
        "grading of responses",
        (
            Rule(
                rx(
                    r"\b(?:evaluat\w*|assess\w*|judg\w*|rat(?:e|es|ed|ing)|scor(?:e|es|ed|ing)|grad(?:e|es|ed|ing)|compar\w*|rank\w*"
                    r"|critiqu\w*|annotat\w*|review\w*) … (?:the |each |both |two |these |following |given |ai |model )*"
                    + _RESP
                    + r"\b"
                ),
                (
                    "evaluat",
                    "assess",
                    "judg",
                    "rat",
                    "scor",
                    "grad",
                    "compar",
                    "rank",
                    "critiqu",
                    "annotat",
                    "review",
                ),
                limit=6,
            ),
            Rule(
                rx(
                    r"(?:评估|评价|评分|打分|比较|评判|对比).{0,10}?(?:回答|回复|答案|输出|模型)",
                    r"(?:回答|回复|答案|输出).{0,10}?(?:评分|打分|打个分)",
                ),
                (),
                (
                    "评估",
                    "评价",
                    "评分",
                    "打分",
                    "比较",
                    "评判",
                    "对比",
                    "回答",
                    "回复",
                    "答案",
                    "输出",
                ),
            ),
        ),
    ),
    (
        "numeric scale",
        (
            Rule(
                rx(
                    r"\b(?:scale|score|rating|rate|grade|points?)\w* … (?:from |of |between |on )?(?:0|1|one|zero) ?(?:to|-|and|–|~|/) ?(?:3|4|5|7|10|100|five|ten)\b",
                    r"\[\[\s*\d+(?:\.\d+)?\s*\]\]",
                    r"\b(?:0|1) ?(?:-|to|–|~) ?(?:3|4|5|7|10|100) (?:point )?scale\b",
                    r"\bout of (?:5|10|100)\b",
                    r"\b(?:between|from) 0(?:\.0)? (?:and|to) 1(?:\.0)?\b",
                ),
                (
                    "scale",
                    "score",
                    "rating",
                    "rate",
                    "grade",
                    "point",
                    "[[",
                    "0",
                    "1",
                    "out of",
                    "between",
                    "from",
                ),
                limit=6,
            ),
            Rule(
                rx(r"(?:1|一|0)\s*(?:到|至|-|~)\s*(?:5|10|100|五|十)\s*分"),
                (),
                ("分",),
                before=12,
                after=2,
            ),
        ),
    ),
    (
        "pairwise comparison",
        (
            Rule(rx(r"\[\[a\]\]|\[\[b\]\]"), ("[[a]]", "[[b]]")),
            Rule(
                rx(
                    r"\bwhich (?:one |of the (?:two |following )?)?(?:\w+ )?(?:response|answer|output|completion|assistant|reply)s? (?:is |was )?"
                    r"(?:better|more helpful|preferred|superior|best)"
                ),
                ("which",),
            ),
            Rule(
                rx(
                    r"\b(?:response|answer|assistant|output|completion|candidate|model) \(?[a1]\)?(?:'s)?\b"
                ),
                _RESP_NOUNS,
                limit=6,
            ),
            Rule(rx(r"哪[个一]?(?:回答|回复|答案|输出).{0,4}?更好"), (), ("哪",)),
        ),
    ),
    (
        "verdict format",
        (
            Rule(
                rx(
                    r"\b(?:final verdict|output (?:your |the |a )?(?:final )?(?:verdict|score|rating|grade)|rating: ?\[|score: ?\[|preferred: |winner: )",
                    r"\brationale\s*:.{0,200}?\brating\s*:|\brating\s*:.{0,200}?\brationale\s*:",
                ),
                ("final verdict", "output", "rating", "score", "preferred", "winner", "rationale"),
                limit=4,
            ),
        ),
    ),
    (
        "rubric",
        (
            Rule(
                rx(
                    r"\b(?:rubric|scoring (?:criteria|guide)|evaluation criteria|grading criteria)",
                    r"评分(?:标准|细则)",
                ),
                ("rubric", "scoring", "evaluation criteria", "grading criteria"),
                ("评分",),
            ),
        ),
    ),
)
_PAIR_B = Rule(
    rx(r"\b(?:response|answer|assistant|output|completion|candidate|model) \(?[b2]\)?(?:'s)?\b"),
    _RESP_NOUNS,
    limit=8,
)
_REWARD = Rule(
    rx(
        r"\b(?:reward model|reward signal|scalar reward|preference (?:label|data|pair|annotation)\w*|chosen (?:and|/|vs\.?) rejected"
        r"|(?:chosen|rejected) (?:response|completion|answer)|dpo (?:pair|data)\w*|rlhf (?:data|label)\w*)",
        r"奖励模型|偏好(?:标注|数据|标签)",
    ),
    ("reward", "scalar", "preference", "chosen", "rejected", "dpo", "rlhf"),
    ("奖励", "偏好"),
)
_CANDIDATE_LABEL = Rule(
    re.compile(
        r"\b(?:response|answer|output|text|candidate|completion|reply|assistant)\W{0,3}(\d|[a-e])\b(?!\.\d)|<text (\d)>"
        r"|(?:回答|回复|答案)\s?([a-e1-9])"
    ),
    (
        "response",
        "answer",
        "output",
        "text",
        "candidate",
        "completion",
        "reply",
        "assistant",
        "<text",
    ),
    ("回答", "回复", "答案"),
)

_GATE = keys(
    "evaluat", "judg", " rate", "\nrate", "rating", "score", "grade", "grading", "compar", "rank", "better", "prefer",
    "reward", "rubric", "assess", "critiq", "annotat", "[[",
    chinese=("评", "打分", "更好", "奖励", "偏好"),
)  # fmt: skip


@register
class RewardGradingDetector(ContentDetector):
    """LLM-as-judge and preference-labelling requests."""

    name: ClassVar[str] = "reward_grading"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.reward_grading",)
    threshold: float = 0.5
    triggers: ClassVar[Keys] = _GATE

    def scan(self, part: Part) -> list[Signal]:
        found: list[tuple[str, re.Match[str]]] = []
        for label, rules in _FEATURES:
            m = first(part, *rules)
            # "response A" needs a "response B" to be a comparison
            if (
                m is not None
                and label == "pairwise comparison"
                and m.group(0).startswith(_RESP_NOUNS)
                and _PAIR_B.find(part) is None
            ):
                m = None
            if m is not None:
                found.append((label, m))
        reward = _REWARD.find(part)
        names_responses = any(
            label in ("judge role", "grading of responses", "pairwise comparison")
            for label, _ in found
        )
        if not names_responses:
            if reward is None:
                return []
            return [
                signal_at(
                    self.signals[0],
                    0.2,
                    "reward-model framing",
                    part,
                    reward.start(),
                    reward.end(),
                    "reward_grading",
                )
            ]
        labels = {m.group(1) or m.group(2) or m.group(3) for m in _CANDIDATE_LABEL.finditer(part)}
        if len(labels) >= 2:
            found.append(("labelled candidates", found[0][1]))
        n = len(found)
        score = 0.3 if n == 1 else 0.5 if n == 2 else 0.55
        if len(labels) >= 3:
            score += 0.1
        what = ", ".join(label for label, _ in found)
        if reward is not None:
            score = max(score, 0.8)
            what = "reward-model framing with " + what
        anchor = reward or found[0][1]
        return [
            signal_at(
                self.signals[0], score, what, part, anchor.start(), anchor.end(), "reward_grading"
            )
        ]
