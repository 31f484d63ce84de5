"""Chain-of-thought elicitation and reasoning reconstruction.

Reasoning traces are what a distiller wants most, and the reported campaign
asked the model to "imagine and articulate the internal reasoning behind a
completed response". Two signals:

``content.reasoning_reconstruction`` (capability ``reasoning``)
    The request hands over an answer and asks for the reasoning behind it,
    found by phrase rules ("the reasoning behind the completed response") or
    by co-occurrence (a given/known/gold answer and a request to produce
    reasoning within ~300 characters). 0.9 when phrased as reconstruction
    (imagine, pretend, reconstruct, articulate, reverse-engineer, infer,
    internal/inner reasoning, "as if", "your own"); 0.45 when it is a plain
    "explain the reasoning that led to this answer", which a student with an
    answer key also writes.

``content.cot_demand`` (capability ``cot_elicitation``)
    Step-by-step reasoning asked for as the product. 0.15 for the everyday
    "let's think step by step" / "show your work" (eval teams and students say
    it; it only adds up at account level); 0.35 for demands of complete,
    exhaustive, never-skipped reasoning; 0.45 for a reasoning trace in a fixed
    container (``<thinking>`` tags, "Reasoning: ... Final answer:"), +0.1 when
    both appear. Never above 0.6: content alone cannot tell a tutor product
    from a harvester.
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

__all__ = ["CotElicitationDetector"]

_REASONING = (
    r"\b(?:reasoning|thought process(?:es)?|thinking(?: process)?|chains? of thoughts?|cot|thoughts"
    r"|rationale|(?:internal|inner) monologue|deliberations?|derivation|line of reasoning"
    r"|reasoning (?:steps|trace|chain)|mental steps)"
)
# literal starts of _REASONING alternatives (anchor mode) and words inside it (window mode)
_REASON_START = (
    "reasoning",
    "thought",
    "thinking",
    "chain",
    "cot",
    "rationale",
    "internal",
    "inner",
    "deliberation",
    "derivation",
    "line of",
    "mental",
)
_REASON_INSIDE = (
    "reasoning",
    "thought",
    "thinking",
    "rationale",
    "monologue",
    "deliberation",
    "derivation",
    "mental steps",
    " cot",
)
_ANSWER = r"(?:answer|response|solution|output|completion|conclusion|reply|result)s?\b"
_LINK = (
    r"(?:behind|underlying|leading to|(?:that|which) (?:would )?(?:have )?(?:led|leads?|produced?|produces"
    r"|resulted|results?|arrived|arrives?|gave|gives?|generated|yields?|yielded)(?: (?:in|to|at))?"
    r"|(?:needed|required|used) to (?:arrive at|reach|get to|produce)|for)"
)
_VERBS = (
    r"(?:write|produce|generate|give|provide|output|reconstruct|imagine|articulate|infer|explain|show|create"
    r"|recreate|derive|fill in|spell out|walk)"
)

# "the reasoning behind the completed response", "thought process that led to this answer"
_BEHIND = Rule(rx(_REASONING + r" … " + _LINK + r" … " + _ANSWER), _REASON_START)
# "here is a completed answer ... write out the reasoning"
_GIVEN = Rule(
    rx(
        r"\b(?:here is|here's|below is|given|provided|following is) … (?:completed |finished |final |correct |reference |full |existing )?"
        + _ANSWER
        + r".{0,300}?\b"
        + _VERBS
        + r"\w* … "
        + _REASONING
    ),
    ("here", "below is", "given", "provided", "following is"),
    limit=4,
)
# Concept co-occurrence, for paraphrases the phrase rules miss: an answer that
# is handed over, a request to produce reasoning, both within a few sentences.
# "final" is not a marker of a handed-over answer: "show your reasoning, then give
# the final answer" is how evaluation prompts ask for one.
_ANSWER_GIVEN = Rule(
    rx(
        r"\b(?:known|given|accepted|gold|correct|reference|completed|finished|provided|existing|official|expected|target)"
        r" (?:\w+ ){0,2}?(?:answer|solution|result|response|reply|label|output|conclusion)s?\b",
        r"\b(?:answer|solution|result|response|reply|label|output)s? (?:is |was |has been )?(?:already|known|given|provided)\b",
    ),
    ("known", "given", "accepted", "gold", "correct", "reference", "completed", "finished", "provided", "existing",
     "official", "expected", "target", "answer", "solution", "result", "response", "reply", "label", "output"),
    limit=6,
)  # fmt: skip
_PRODUCE_REASONING = rx(
    r"\b(?:write|produce|generate|give|provide|output|reconstruct|imagine|articulate|infer|explain|show|create|recreate"
    r"|derive|spell out|lay out|narrate|describe|pretend|reverse engineer|work backwards?)\w* … (?:\w+ ){0,3}?"
    r"(?:reasoning|rationale|thought process|thinking|thoughts|chain of thought|deliberation|monologue|derivation)\b"
)
_REACH = 320
_STRONG_EN = rx(
    r"\b(?:imagin\w*|reconstruct\w*|articulat\w*|recreat\w*|reverse engineer\w*|infer\w*|simulat\w*"
    r"|back ?fill\w*|rationali[sz]\w*|work(?:ing)? backwards?|as if you|internal|inner|hidden"
    r"|completed (?:answer|response|solution)|plausible (?:reasoning|chain|thought)|pretend\w*|narrat\w*|your own|yourself"
    r"|justif\w*|retro\w*|gold (?:answer|label)|would have (?:gone|thought|had|done|reasoned))"
)
_REASON_ZH = ("推理", "思考", "思维", "思路", "心路")
_BEHIND_ZH = Rule(
    rx(
        r"(?:背后|得出|得到|产生|导致|推出|支撑|形成)(?:这个|该|此|上述|以下)?(?:答案|回答|回复|解答|结论|结果)?的?"
        r"(?:完整的?|详细的?|内部的?|内在的?)?(?:推理|思考|思维|思路|心路)"
    ),
    (),
    ("背后", "得出", "得到", "产生", "导致", "推出", "支撑", "形成"),
)
_GIVEN_ZH = Rule(
    rx(
        r"(?:答案|回答|回复|解答|结论).{0,80}?(?:想象|重建|还原|反推|推测|倒推|重构|复原|补全|写出|给出|解释)"
        r".{0,20}?(?:推理|思考|思维|思路|心路)"
    ),
    (),
    ("答案", "回答", "回复", "解答", "结论"),
    limit=3,
)
_STRONG_ZH = (
    "想象",
    "重建",
    "还原",
    "反推",
    "倒推",
    "重构",
    "复原",
    "补全",
    "内部",
    "内在",
    "内心",
    "已完成",
)

_DEMAND_WEAK = Rule(
    rx(
        r"step by step",
        r"show (?:your|all|the) (?:work|working|steps)",
        r"explain (?:your|the) (?:reasoning|thinking|thought process)",
        r"think (?:carefully|it through|aloud|out loud)",
        r"一步一步|一步步|逐步",
    ),
    ("step", "show", "explain", "think"),
    ("一步", "逐步"),
    limit=3,
)
_DEMAND_FULL = (
    Rule(
        rx(
            r"\b(?:complete|full|entire|detailed|exhaustive|every|all|explicit|transparent|verbose|thorough|each"
            r"|whole|unabridged) … " + _REASONING
        ),
        _REASON_INSIDE,
        before=70,
        after=25,
        limit=3,
    ),
    Rule(
        rx(r"\b(?:do not|don't|never|without) (?:skip\w*|omit\w*|leav\w* out|jump\w*) … steps?"),
        ("do not", "don't", "never", "without"),
        limit=3,
    ),
    Rule(rx(r"\bevery (?:single |intermediate |reasoning )?step"), ("every",), limit=4),
    Rule(
        rx(
            r"(?:完整|详细|全部|所有|每一步|每个步骤)的?(?:推理|思考|思维|思路|解题)(?:过程|步骤|链)?",
            r"不要(?:跳过|省略)(?:任何)?(?:步骤|推理)",
        ),
        (),
        ("完整", "详细", "全部", "所有", "每一步", "每个步骤", "不要"),
    ),
)
_DEMAND_FORMAT = (
    Rule(
        rx(r"<\s*/?\s*(?:think|thinking|reasoning|thoughts?|scratchpad|cot|rationale)\s*>"),
        ("<",),
        limit=12,
    ),
    Rule(
        rx(
            r"\b(?:wrap|put|enclose|place|write|output|format|include) (?:your |the |all )?(?:full |complete )?"
            r"(?:reasoning|thinking|thoughts|chain of thought|thought process) (?:in|inside|within|between|under|as)\b"
        ),
        ("reasoning", "thinking", "thoughts", "chain of thought", "thought process"),
        before=45,
        after=30,
        limit=3,
    ),
    Rule(rx(r"\breasoning\W{0,3}:.{0,200}?final answer\W{0,3}:"), ("reasoning",), limit=3),
    Rule(
        rx(
            r"\b(?:reasoning|thought process|chain of thought) (?:is|matters) more (?:important|valuable) than",
            r"\bonly (?:need|want|care about) (?:your |the )?(?:reasoning|thought process|chain of thought)",
        ),
        ("more important", "more valuable", " only "),
        before=40,
        after=40,
        limit=3,
    ),
    Rule(rx(r"(?:推理|思考)过程(?:放在|写在|包含在)"), (), ("推理过程", "思考过程")),
)

_GATE = keys(
    "reason", "thought", "think", "step", "rationale", "monologue", "deliberat", "cot",
    chinese=("推理", "思考", "思维", "思路", "步", "心路"),
)  # fmt: skip
_ANSWER_WORDS = keys(
    "answer", "respons", "solution", "output", "completion", "conclusion", "repl", "result", "label"
)
_REASONING_WORDS = keys(
    "reasoning", "rationale", "thought", "thinking", "deliberation", "monologue", "derivation"
)


@register
class CotElicitationDetector(ContentDetector):
    """Step-by-step reasoning demanded as the product, and reasoning rebuilt from a given answer."""

    name: ClassVar[str] = "cot_elicitation"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.reasoning_reconstruction", "content.cot_demand")
    threshold: float = 0.5
    triggers: ClassVar[Keys] = _GATE

    def scan(self, part: Part) -> list[Signal]:
        out: list[Signal] = []
        rebuilt = self._reconstruction(part)
        if rebuilt is not None:
            out.append(rebuilt)
        demand = self._demand(part)
        if demand is not None:
            out.append(demand)
        return out

    def _reconstruction(self, part: Part) -> Signal | None:
        text = part.norm
        m = None
        strong = False
        if part.any(_ANSWER_WORDS):
            m = first(part, _BEHIND, _GIVEN) or self._cooccurring(part)
            if m is not None:
                strong = _STRONG_EN.search(text, max(0, m.start() - 160), m.end() + 40) is not None
        if m is None and part.cjk:
            m = first(part, _BEHIND_ZH, _GIVEN_ZH)
            if m is not None:
                window = text[max(0, m.start() - 60) : m.end() + 20]
                strong = any(w in window for w in _STRONG_ZH)
        if m is None:
            return None
        return signal_at(
            "content.reasoning_reconstruction",
            0.9 if strong else 0.45,
            "reasoning reconstructed for a given answer"
            if strong
            else "reasoning behind an answer requested",
            part,
            m.start(),
            m.end(),
            "reasoning",
        )

    @staticmethod
    def _cooccurring(part: Part) -> re.Match[str] | None:
        """A handed-over answer with a request to produce reasoning close by."""
        if not part.any(_REASONING_WORDS):
            return None
        text = part.norm
        for given in _ANSWER_GIVEN.finditer(part):
            lo, hi = max(0, given.start() - _REACH), given.end() + _REACH
            produce = _PRODUCE_REASONING.search(text, lo, hi)
            if produce is not None:
                return produce
        return None

    def _demand(self, part: Part) -> Signal | None:
        full = first(part, *_DEMAND_FULL)
        fmt = first(part, *_DEMAND_FORMAT)
        if full is not None and fmt is not None:
            score, m, what = 0.55, fmt, "full reasoning trace demanded in a fixed format"
        elif fmt is not None:
            score, m, what = 0.45, fmt, "reasoning trace demanded in a fixed format"
        elif full is not None:
            score, m, what = 0.35, full, "complete step-by-step reasoning demanded"
        else:
            weak = _DEMAND_WEAK.find(part)
            if weak is None:
                return None
            score, m, what = 0.15, weak, "step-by-step reasoning requested"
        return signal_at(
            "content.cot_demand", score, what, part, m.start(), m.end(), "cot_elicitation"
        )
