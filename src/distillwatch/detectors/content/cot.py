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
    answer key also writes. Paraphrases are also caught as concept
    co-occurrence (see "mechanism" below): a cue that an answer is handed over
    (lexicon, en + zh) near a verb of producing aimed at a reasoning noun; that
    pair scores 0.9 with a fabrication/reconstruction marker in the request's
    sentence and is otherwise left to the rules above.

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
from itertools import islice
from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import (
    ContentDetector,
    Keys,
    Part,
    Rule,
    fast,
    first,
    iter_near,
    keys,
    negated,
    rx,
    sentence_bounds,
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

# --- mechanism: answer handed over x request to produce reasoning -------------
#
# Paraphrases avoid the phrases above, so reconstruction is also recognized as
# the co-occurrence of two concepts, each a lexicon rather than a phrase: a cue
# that an answer/result is handed over (or already known), and a verb of
# producing aimed at a reasoning noun (reasoning, derivation, working, steps,
# justification, monologue, "how to get there", ...), close to each other. A
# student with an answer key makes the same two moves ("the answer is 42, show me
# the steps"), so the pair alone stays modest (0.45); it scores 0.9 only with a
# marker of fabrication or reconstruction close to the request (invent,
# plausible, as though, must end in that answer, fill the gap, backfill, ...).
_M_NOUN = (
    r"(?:(?:reasoning|rationale|thought process(?:es)?|thinking|thoughts|chains? of (?:thoughts?|thinking|reasoning)"
    r"|trains? of thought|lines? of (?:reasoning|thought|thinking)|derivations?|deliberations?|monologue"
    r"|(?:intermediate |solution |solving |reasoning |logical |mental |missing |working )?steps|workings?"
    r"|solution path|justifications?|explanations?|logic|scratch ?pad|working out|worked (?:out )?solutions?"
    r"|(?:full|complete|detailed|step by step) solutions?)\b"
    r"|how (?:\w+ ){0,3}?(?:get|got|gets|getting|arrive[sd]?|reach\w*|c[ao]me|comes|land\w*|end\w* up|work\w* (?:it )?out"
    r"|figur\w*) (?:there|to it|at it|to that|to this|to the|at the|on the|on it)\b)"
)
_M_VERB = (
    r"(?:write|produce|generat|give(?!n)|provide|output|reconstruct|imagin|articulat|infer|explain|show|creat|recreat"
    r"|derive|deriving|spell out|lay out|narrat|describ|pretend|reverse engineer|work backward|draft|compos|suppl|add|fill in"
    r"|backfill|back fill|fabricat|invent|make up|come up with|annotat|construct|synthesi[sz]|simulat|render"
    r"|walk (?:me |us )?through|outline|detail|present|document|rebuild|recover|restor|reproduc)"
)
# the words between verb and noun stay inside one sentence ("... is given. Your job is to
# write the logic" must not read as "given ... logic")
_M_REQUEST = fast(
    re.compile(
        (r"\b" + _M_VERB + r"\w* (?:\w+ ){0,7}?" + _M_NOUN).replace(" ", r"[^\w.!?;]+"), re.DOTALL
    )
)
_M_ANSWER = (
    r"(?:answers?|solutions?|results?|values?|outputs?|labels?|numbers?|responses?|repl(?:y|ies)|conclusions?"
    r"|ground truths?|answer keys?|targets?)\b"
)
# "final answer" alone is how eval prompts ask for one; "final answer: 42" hands one over.
_M_GIVEN = Rule(
    rx(
        r"\b(?:known|given|accepted|gold|correct|right|reference|completed|finished|provided|existing|official"
        r"|expected|target|verified|true|worked|solved|supplied) (?:\w+ ){0,2}?"
        r"(?:answers?|solutions?|results?|responses?|repl(?:y|ies)|labels?|outputs?|conclusions?|values?|examples?)\b",
        r"\b(?:answers?|solutions?|results?|labels?|outputs?|conclusions?|values?) ?(?:[:=]|\W(?:is|was|are|were|should be"
        r"|must be|comes? out to|equals?|says?|reads?)\b) ?[^\s]",
        r"\banswer key\b",
        r"\bground truth\b",
        r"\b(?:i|we) (?:already )?(?:have|know|got) (?:the|its|their) (?:\w+ )?" + _M_ANSWER,
        r"\balready (?:have|know|known|got|has|written|given|filled|solved|been) (?:\w+ ){0,3}?" + _M_ANSWER,
        r"\b" + _M_ANSWER + r" (?:[^\s]+ ){0,2}?(?:(?:is|are|was|were|been) )?(?:already )?(?:given|known|provided|supplied|fixed|stated"
        r"|filled in|written)\b",
        r"\b(?:comes?|coming|should come|must come) out (?:to|as|at)\b",
        r"\b(?:qa|q ?& ?a|question ?(?:and|/|-) ?answer) pairs?\b",
        r"\na ?: ?[^\s]",
        r"\b(?:questions?|problems?|tasks?) (?:and|with|together with|plus|along with) (?:its |their |the |an? )?(?:\w+ )?"
        r"(?:answers?|solutions?|results?)\b",
        r"\b(?:answers?|solutions?|results?) (?:below|above|provided|shown|attached)\b",
        r"\b(?:land\w*|arriv\w*|end\w* up|reach\w*) (?:on |at |with )?\d",
    ),
    # every alternative holds one of these (an answer noun, or the few words of the others)
    ("answer", "solution", "result", "label", "output", "conclusion", "value", "number", "respons", "repl",
     "example", "come", "pair", "\na", "land", "arriv", "reach", "truth", "target"),
    before=40,
    after=40,
    limit=6,
)  # fmt: skip
_M_STRONG = rx(
    r"\b(?:fabricat\w*|invent\w*|make up|made up|making up|believab\w*|convincing\w*|plausib\w*|consistent with"
    r"|imagin\w*|reconstruct\w*|recreat\w*|reverse engineer\w*|rebuil\w*|back ?fill\w*|annotat\w*|simulat\w*"
    r"|pretend\w*|as though|as if|first person|think\w* (?:aloud|out loud)|natural(?:ly)?|retro\w*"
    r"|work\w* backwards?|rationali[sz]\w*|without (?:mentioning|revealing|saying|admitting|referring)"
    r"|(?:internal|inner|hidden) (?:\w+ )?(?:reasoning|thoughts?|thinking|monologue|deliberation|steps|chain)"
    r"|(?:as|like) (?:your|its) own|(?:would|should|must) have (?:been )?(?:gone|thought|had|reasoned|produced|generated|written|taken)"
    r"|(?:discover|solv|work|figur|reason)\w* (?:\w+ ){0,3}?(?:yourself|on your own)"
    r"|(?:a|the|an|its|your) (?:\w+ ){0,2}?scratch ?pad"
    r"|missing|fill (?:in )?(?:that|the|this) (?:gap|blank|hole)|supply (?:the )?missing|(?:rationale|reasoning) (?:generation|writing)"
    r"|(?:ends?|ending|conclud\w*|terminat\w*|lands?|landing|arriv\w*|lead\w*|reach\w*|finish\w*|result\w* in)"
    r" (?:\w+ ){0,3}?(?:that|this|the (?:given|correct|known|target|final|provided|reference|gold|verified|stated|same))"
    r" (?:\w+ )?(?:answer|result|solution|value|output|label|number|conclusion)"
    r"|(?:must|has to|have to|needs? to) (?:\w+ )?(?:end|arrive|reach|lead|conclude|land|match|produce|yield))"
)
_M_NOUN_WORDS = keys(
    "path", "worked", "working out", "full solution", "complete solution", "detailed solution", "reasoning", "rationale", "thought", "thinking", "chain", "derivation", "deliberation", "monologue", "step",
    "justification", "explanation", "logic", "scratch",
)  # fmt: skip
# the answer cue is the object of a request ("then give the final answer"), not handed over
_M_ASKED = re.compile(
    r"\b(?:give|giving|provide|state|write|output|put|print|return|include|end with|finish with|followed by|then"
    r"|report|box|mark)\W+(?:(?:your|the|a|an|only|just|its)\W+)*(?:final\W+|correct\W+)?$"
)
# Without one of these words no marker of _M_STRONG can occur, and the pair alone
# (what a student with an answer key writes) is left to the phrase rules above.
_M_STRONG_WORDS = keys(
    "fabricat", "invent", "make up", "made up", "made-up", "making up", "believab", "convinc", "plausib",
    "consistent", "imagin", "reconstruct", "recreat", "reverse", "rebuil", "backfill", "back fill", "back-fill",
    "annotat", "simulat", "pretend", "as though", "as if", "first person", "first-person", "aloud", "out loud",
    "natural", "retro", "backward", "rationali", "without mentioning", "without revealing", "without saying",
    "without admitting", "without referring", "internal", "inner", "hidden", "your own", "its own", "would have",
    "should have", "must have", "yourself", "missing", "gap", "blank", "hole", "rationale generation",
    "reasoning generation", "rationale writing", "reasoning writing", "scratch", "must", "has to", "have to",
    "need to", "needs to", "that answer", "this answer", "that result", "this result", "that value", "this value",
    "that number", "this number", "that solution", "this solution", "that conclusion", "that output", "the given",
    "the correct", "the known", "the target", "the final", "the provided", "the reference", "the gold",
    "the verified", "the stated", "the same",
)  # fmt: skip
_M_TRIES = 6  # requests (and twice as many cues) looked at per part
_OWN_EARLIER = re.compile(
    r"\b(?:your|previous|last|earlier|prior|preceding)\W+(?:[^\W_]+\W+)?(?:answer|response|reply|output|completion)s?\W*$"
)
# the model's own earlier answer is not one handed over ("the reasoning behind your last reply"
# is hidden-reasoning extraction, another detector)
_M_OWN_ANSWER = re.compile(r"\b(?:your|previous|last|earlier|prior|preceding)\W+(?:[^\W_]+\W+)?$")
_M_REACH = 900  # a handed-over worked solution can sit between the cue and the request

_M_NOUN_ZH = r"(?:推理|思考|思维|思路|心路|推导|演算|解题|求解|逻辑|步骤|思维链|推理链|理由|论证)"
_M_REQUEST_ZH = rx(
    r"(?:写|给出|生成|编写|编造|虚构|捏造|补|还原|重建|重构|复原|模拟|模仿|推导|构造|想象|描述|列出|输出|整理|反推|倒推"
    r"|设计|创作|提供|展示|呈现|解释|说明|讲解|讲述|梳理|复现|再现)[^。！？；\n]{0,14}?"
    + _M_NOUN_ZH
)
_M_GIVEN_ZH = rx(
    r"(?:已知|给定|给出的|标准|参考|正确|最终|已有|现成|已经有了?|指定|目标|它的|其|该题的|这道题的|对应的)的?"
    r"(?:答案|结果|结论|解答|答|输出|数值)",
    r"(?:答案|结果|结论|解答|答)\s*(?:必须|应该|应当|一定|需要|要)?\s*(?:是|为|：|:|=)",
)
_M_STRONG_ZH = (
    "想象", "重建", "还原", "反推", "倒推", "重构", "复原", "补全", "补写", "补出", "补上", "编造", "虚构", "捏造",
    "模拟", "模仿", "假装", "你自己", "像是你", "像你", "仿佛", "好像", "内部", "内在", "内心", "心路", "必须以",
    "必须得", "必须推", "必须是", "必须为", "使其", "使之", "让它", "自然地", "结尾", "一致", "吻合", "倒着", "反向", "逆向", "使它", "落在",
)  # fmt: skip
_M_GIVEN_ZH_WORDS = keys(chinese=("答案", "结果", "结论", "解答", "答"))
_M_NOUN_ZH_WORDS = keys(
    chinese=(
        "推理",
        "思考",
        "思维",
        "思路",
        "心路",
        "推导",
        "演算",
        "解题",
        "求解",
        "逻辑",
        "步骤",
        "理由",
        "论证",
    )
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

# words without which the phrase rules and the demand rules find nothing
_PHRASE_GATE = keys(
    "reason", "thought", "think", "step", "rationale", "monologue", "deliberat", "cot",
    chinese=("推理", "思考", "思维", "思路", "步", "心路"),
)  # fmt: skip
# ... and the mechanism's extra reasoning nouns (a part with only these skips the phrase rules)
_GATE = keys(
    *_PHRASE_GATE.english, "derivation", "justification", "explanation", "logic", "scratch", "solution path",
    "worked solution", "worked out", "working out", "full solution", "complete solution", "detailed solution",
    chinese=(*_PHRASE_GATE.chinese, "推导", "演算", "解题", "求解", "逻辑", "理由", "论证"),
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
        phrased = part.any(_PHRASE_GATE)
        rebuilt = self._reconstruction(part, phrased)
        if rebuilt is not None:
            out.append(rebuilt)
        demand = self._demand(part) if phrased else None
        if demand is not None:
            out.append(demand)
        return out

    def _reconstruction(self, part: Part, phrased: bool) -> Signal | None:
        text = part.norm
        m = None
        strong = False
        if phrased and part.any(_ANSWER_WORDS):
            m = first(part, _BEHIND, _GIVEN) or self._cooccurring(part)
            if m is not None and _OWN_EARLIER.search(m.group(0)) is not None:
                m = None  # "the chain of thought you generated for the previous reply": hidden reasoning
            if m is not None:
                strong = _STRONG_EN.search(text, max(0, m.start() - 160), m.end() + 40) is not None
        if m is None and phrased and part.cjk:
            m = first(part, _BEHIND_ZH, _GIVEN_ZH)
            if m is not None:
                window = text[max(0, m.start() - 60) : m.end() + 20]
                strong = any(w in window for w in _STRONG_ZH)
        if not strong:
            found = self._mechanism(part)
            if found is not None and (m is None or found[1]):
                m, strong = found
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

    @staticmethod
    def _mechanism(part: Part) -> tuple[re.Match[str], bool] | None:
        """An answer handed over and a request to produce reasoning (concept lexicons, en + zh).

        Returns the request and whether a fabrication/reconstruction marker is
        in its sentence or between it and the answer cue.
        """
        text = part.norm
        best: tuple[re.Match[str], bool] | None = None
        # requests first (anchored on the reasoning nouns), cues once and only if needed:
        # both lexicons are common, the pair is rare
        # all three keyword sets must occur before any pattern runs (one mask test each)
        if part.any(_M_NOUN_WORDS) and part.any(_M_GIVEN.words) and part.any(_M_STRONG_WORDS):
            cues: list[re.Match[str]] | None = None
            requests = iter_near(part, _M_REQUEST, _M_NOUN_WORDS, before=90, after=70, limit=3)
            for request in islice(requests, _M_TRIES):
                own_start = sentence_bounds(text, request.start(), request.start(), 160)[0]
                if negated(text, request.start(), min(20, request.start() - own_start)):
                    continue  # a "not" of the previous sentence does not negate this one
                if cues is None:
                    cues = [
                        g
                        for g in islice(_M_GIVEN.finditer(part), _M_TRIES * 2)
                        if _M_ASKED.search(text, max(0, g.start() - 32), g.start()) is None
                        and _M_OWN_ANSWER.search(text, max(0, g.start() - 24), g.start()) is None
                    ]  # "... then give the final answer: ..." asks for one
                    if not cues:
                        break
                apart = [
                    g for g in cues if g.end() <= request.start() or request.end() <= g.start()
                ]
                if not apart:
                    continue
                given = min(apart, key=lambda g: abs(g.start() - request.start()))
                if abs(given.start() - request.start()) > _M_REACH:
                    continue
                a, b = sentence_bounds(
                    text, min(given.start(), request.start()), request.end(), 160
                )
                if request.start() > given.end():  # cue first: the request's own sentence
                    a = max(a, sentence_bounds(text, request.start(), request.end(), 160)[0])
                if _M_STRONG.search(text, a, b) is not None:
                    return request, True
                if best is None:
                    best = (request, False)
        if (
            part.cjk
            and part.any(_M_GIVEN_ZH_WORDS)
            and part.any(_M_NOUN_ZH_WORDS)
            and any(w in text for w in _M_STRONG_ZH)
        ):
            cues = None
            for request in islice(_M_REQUEST_ZH.finditer(text), _M_TRIES):
                if negated(text, request.start(), 6):
                    continue
                if cues is None:
                    cues = list(islice(_M_GIVEN_ZH.finditer(text), _M_TRIES * 2))
                    if not cues:
                        break
                given = min(cues, key=lambda g: abs(g.start() - request.start()))
                if abs(given.start() - request.start()) > _M_REACH:
                    continue
                a, b = min(given.start(), request.start()), max(given.end(), request.end())
                window = text[max(0, a - 30) : b + 30]
                if any(w in window for w in _M_STRONG_ZH):
                    return request, True
                if best is None:
                    best = (request, False)
        return best

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
