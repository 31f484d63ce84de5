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
* Each feature is a small lexicon (see "mechanism" below), so paraphrases
  ("pick the stronger reply", "满分10分", "answer 'A' or 'B'") count as the
  same features and the scores above keep their meaning.
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
_PAIR_A = Rule(
    rx(
        r"\b(?:response|answer|assistant|output|completion|candidate|model|reply) \(?[a1]\)?(?:'s)?\b"
    ),
    ("response", "answer", "assistant", "output", "completion", "candidate", "model", "reply"),
    limit=6,
)
_RESP_NOUNS = (
    "response",
    "answer",
    "assistant",
    "output",
    "completion",
    "candidate",
    "model",
    "reply",
)
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
                    + r"\b",
                    # "scoring AI-written answers", "you grade chatbot replies"
                    r"\b(?:evaluat\w*|assess\w*|judg\w*|rat(?:e|es|ed|ing)|scor(?:e|es|ed|ing)|grad(?:e|es|ed|ing)|compar\w*"
                    r"|rank\w*|critiqu\w*|annotat\w*|review\w*) (?:\w+ ){0,3}?(?:ai|model|chatbot|assistant|llm|bot|machine)"
                    r"(?: ?(?:written|generated|produced))? " + _RESP + r"\b",
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
            _PAIR_A,
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
# --- mechanism: candidate responses x an evaluative act (issue 4) ---------------
#
# Paraphrases of grading name the same parts with other words: candidates
# ("two chatbots replied", "AI-written answers", "回答一/回答二"), an act of
# judging them (pick the stronger one, decide which does a better job, 判断哪个
# 更好, 给...打分), a scale ("from 1 (poor) to 7", 满分10分) and a verdict format
# ("answer 'A' or 'B'", 只输出分数). Each extra rule below adds one of these
# lexicons to the feature it stands for, so scores keep their meaning (one
# feature 0.3, two 0.5, three 0.55) and a company's own judge stays modest.
_M_RESP = (
    r"(?:responses?|answers?|outputs?|completions?|generations?|candidates?|replies|reply|assistants?|chatbots?"
    r"|models?|bots?|ais?|llms?|translations?|summar(?:y|ies))"
)
_M_BETTER = (
    r"(?:better|stronger|best|superior|preferable|preferred|higher ?quality|more (?:helpful|accurate|correct|useful"
    r"|complete|appropriate|relevant|faithful|harmless|honest)|a better job|wins?|winner)"
)
_EXTRA_FEATURES: dict[str, tuple[Rule, ...]] = {
    "judge role": (
        Rule(
            rx(
                r"\b(?:your (?:job|task|role) is (?:to )?|you (?:will |must |should )?)(?:grad|scor|rat|evaluat|judg|assess|review"
                r"|rank|annotat|label)\w* (?:\w+ ){0,3}?" + _M_RESP + r"\b"
            ),
            (
                "grad",
                "scor",
                "rate",
                "rating",
                "evaluat",
                "judg",
                "assess",
                "review",
                "rank",
                "annotat",
                "label",
            ),
            before=60,
            after=50,
            limit=3,
        ),
        Rule(
            rx(
                r"(?:你|您)(?:负责|的任务是|的工作是|需要|要)(?:给|对|为)?.{0,14}?(?:打分|评分|评估|评判|评审|评级|排序)"
            ),
            (),
            ("你", "您"),
            limit=4,
        ),
    ),
    "grading of responses": (
        Rule(
            rx(
                r"(?:评估|评价|评分|打分|比较|评判|对比|评审|评级|排序|排名|判断).{0,12}?(?:回答|回复|答案|输出|模型|助手)",
                r"(?:给|对|为)[^。！？；\n]{0,10}?(?:回答|回复|答案|输出)[^。！？；\n]{0,12}?(?:打|评|给)[^。！？；\n]{0,8}?(?:分|评级)",
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
                "评审",
                "评级",
                "排序",
                "排名",
                "判断",
                "给",
                "对",
                "为",
            ),
            before=20,
            after=20,
        ),
    ),
    "numeric scale": (
        Rule(
            rx(
                r"\b(?:integer|number|score|rating) (?:from|between) (?:0|1)\b",
            ),
            ("integer", "number", "score", "rating"),
            limit=6,
        ),
        Rule(
            rx(
                r"满分\s*(?:为|是)?\s*(?:\d+|五|十|一百)\s*分?",
                r"分值\s*(?:为|是|在)?\s*\d+\s*(?:到|至|-|~)\s*\d+",
            ),
            (),
            ("满分", "分值"),
        ),
    ),
    "pairwise comparison": (
        Rule(
            rx(
                r"\b(?:which|pick|choose|select|decide|determine|identify)\w* (?:\w+ ){0,5}?"
                + _M_RESP
                + r" (?:\w+ ){0,3}?"
                + _M_BETTER,
                r"\bwhich (?:of (?:the|these) )?(?:two|2|both) (?:\w+ ){0,6}?" + _M_BETTER,
                r"\b(?:pick|choose|select|identify)\w* (?:the |which )?(?:one )?"
                + _M_BETTER
                + r" (?:\w+ )?"
                + _M_RESP
                + r"\b",
            ),
            (
                "which",
                "pick",
                "choos",
                "select",
                "decid",
                "determin",
                "identif",
            ),
            limit=4,
        ),
        # "two replies below ... which does a better job": tried at "two/both/pair" only
        Rule(
            rx(
                r"\b(?:two|both|pair of) (?:\w+ )?"
                + _M_RESP
                + r"\b.{0,200}?\bwhich\b(?: \w+){0,5}? "
                + _M_BETTER
            ),
            ("two", "both", "pair"),
            limit=2,
        ),
        Rule(
            rx(
                r"哪(?:个|一个|一份|一条|位)?(?:回答|回复|答案|输出|模型|助手).{0,8}?(?:更好|更优|更准确|更高|更有帮助|更合适|更佳|更强|胜出)",
                r"(?:两个|两份|两条|2个|这两个|以下两个|下面两个)(?:\w{0,6}的)?(?:回答|回复|答案|输出).{0,60}?(?:哪|选出|选择|判断).{0,12}?"
                r"(?:更好|更优|更准确|更高|更有帮助|更合适|更佳|更强|胜出|最好)",
            ),
            (),
            ("哪", "两个", "两份", "两条", "2个", "这两个", "以下两个", "下面两个"),
        ),
    ),
    "verdict format": (
        Rule(
            rx(
                r"\b(?:reply|answer|respond|output|return|say|choose|pick|write|print)\w* (?:with )?(?:just |only |either )?"
                r"\W{0,2}(?:a|1|first|left)\W{0,2} or \W{0,2}(?:b|2|second|right)\b",
                r"\bwinner\W{0,3}(?:1|2|a|b)\b",
            ),
            (" or ", "winner"),
            before=45,
            after=16,
            limit=4,
        ),
        Rule(
            rx(r"只(?:输出|给出|返回|回答)(?:一个)?(?:分数|分值|评分|数字|a|b|1|2|字母)"),
            (),
            ("只输出", "只给出", "只返回", "只回答"),
        ),
    ),
}
_FEATURES = tuple((label, rules + _EXTRA_FEATURES.get(label, ())) for label, rules in _FEATURES)

_PAIR_B = Rule(
    rx(
        r"\b(?:response|answer|assistant|output|completion|candidate|model|reply) \(?[b2]\)?(?:'s)?\b"
    ),
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
        r"|(?:回答|回复|答案|输出)\s?([a-e1-9一二三四五甲乙丙])"
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
    "reward", "rubric", "assess", "critiq", "annotat", "[[", "stronger", "superior", "winner", "scoring", "higher quality", "quality",
    "higher-quality", "preferable",
    chinese=("评", "打分", "更好", "奖励", "偏好", "满分", "分值", "分数", "哪个", "哪一个", "更优", "更准确", "更高"),
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
                m = first(part, *rules[rules.index(_PAIR_A) + 1 :])
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
