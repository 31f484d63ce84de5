"""Bulk synthetic-data requests and self-instruct seeding.

"Generate 50 diverse instructions with answers, as JSONL" turns one call into
a slice of a training set. Teachers and testers also ask for "10 quiz
questions with answers", so the score adds up evidence rather than firing on
one phrase. Signal ``content.bulk_synthetic_data`` (capability
``synthetic_data``):

* 0.3 base: a request to generate a counted batch (>= 5, or "dozens",
  "hundreds") of instructions, tasks, questions, prompts, examples or
  conversations.
* +0.2 when diversity or seeding is asked for (diverse, varied, cover many
  domains, no duplicates, "in the style of / similar to this example"); +0.15 when each item comes with its answer/response; +0.25 for
  dataset framing (training data, fine-tuning, self-instruct, seed tasks,
  JSONL, "instruction"/"output" fields); +0.1 for 50 or more items.
* 0.7 for self-instruct seeding ("here are seed tasks ... write new ones").
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
    keys,
    rx,
    signal_at,
)

__all__ = ["SyntheticDataDetector"]

_NUMBER_WORDS = {
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "a hundred": 100,
    "dozens": 36, "dozens of": 36, "hundreds": 200, "hundreds of": 200, "thousands": 2000, "thousands of": 2000,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "二十": 20, "三十": 30, "五十": 50, "一百": 100, "百": 100,
    "几十": 36, "上百": 100, "数百": 200, "一千": 1000, "上千": 1000,
}  # fmt: skip
_ITEMS = (
    r"(?:instructions?|tasks?|questions?|prompts?|problems?|examples?|samples?|exercises?|conversations?|dialogues?"
    r"|dialogs?|quer(?:y|ies)|q ?& ?as?|qa pairs?|data ?points?|test cases?|user (?:requests?|queries|messages)"
    r"|scenarios?|(?:question|instruction|prompt) ?(?:and |& |/ |- )?(?:answer|response|output) pairs?|entries|records|items)"
)
_GENERATE_RE = rx(
    r"\b(?:generate|create|write|produce|come up with|give me|list|brainstorm|synthesi[sz]e|make|compose|draft|design"
    r"|craft|invent|provide|output|need|want|return|send)\w* (?:me |us )?(?:a (?:list|set|batch|collection|dataset) of )?"
    r"(?P<n>\d{1,6}|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty|fifty|a hundred|hundred|dozens(?: of)?"
    r"|hundreds(?: of)?|thousands(?: of)?) (?:\w+ ){0,4}?" + _ITEMS + r"\b",
    r"(?:生成|创建|编写|写出?|列出|给出|设计|构造|提供|造|出|编|拟|命制)(?P<nz>\d{1,6}|[五六七八九十]|二十|三十|五十|一百|百|几十|上百|数百|一千|上千)"
    r"\s*(?:个|条|道|组|份|段)?.{0,10}?(?:指令|问题|任务|题目?|样本|示例|例子|数据|问答对|对话|提示词?|测试用例)",
)
_DIVERSE_RE = rx(
    r"\b(?:diverse|diversity|varied|variety|different|distinct|unique|wide range|broad range|range of|various"
    r"|cover\w* (?:many|various|different|a range|all)|non ?repetitive|do not repeat|don't repeat|no duplicates?"
    r"|in the style of|similar to (?:this|these|the)|like (?:this|these|the) (?:one|example|examples)|brand ?new"
    r"|based on (?:this|these|the) (?:examples?|seeds?))\b",
    r"多样|不同|各种|不重复|多种|覆盖|仿照|参照|模仿|照着|类似",
)
_WITH_ANSWERS_RE = rx(
    r"\b(?:with|and|including|plus|along with|paired with|followed by|include) (?:\w+ ){0,3}?"
    r"(?:answers?|responses?|solutions?|outputs?|completions?|repl(?:y|ies))\b",
    r"\"(?:output|answer|response|completion)\" ?:",
    r"(?:及|和|并|附|带)(?:其|上)?(?:参考)?(?:答案|回答|解答|回复)",
)
_DATASET_RE = rx(
    r"\b(?:dataset|data set|training data|train(?:ing)? (?:a|our|my) (?:model|llm)|fine ?tun\w*|self ?instruct|seed (?:tasks?|instructions?|examples?)"
    r"|jsonl|synthetic data|instruction tuning|sft|distill\w*)\b",
    r"\"instruction\" ?:",
    r"训练数据|数据集|微调|指令微调|种子任务|jsonl|合成数据",
)
_SELF_INSTRUCT_RE = rx(
    r"\b(?:here are|below are|following are) (?:\w+ ){0,3}?(?:seed |example |sample )?(?:tasks|instructions|examples|prompts)\b"
    r".{0,1500}?\b(?:generate|come up with|create|write|brainstorm|produce) … (?:more|new|additional|similar|another|novel|further)\b",
)
_GENERATE = Rule(
    _GENERATE_RE,
    ("generat", "creat", "write", "produc", "come up", "give me", "list", "brainstorm", "synthes", "make", "compose",
     "draft", "design", "craft", "invent", "provide", "output", "need", "want", "return", "send"),
    ("生成", "创建", "编写", "写", "列出", "给出", "设计", "构造", "提供", "造", "出", "编", "拟", "命制"),
)  # fmt: skip
_DIVERSE = Rule(
    _DIVERSE_RE,
    ("divers", "varied", "variety", "different", "distinct", "unique", "wide range", "broad range", "range of",
     "various", "cover", "non", "do not repeat", "don't repeat", "no duplicate", "in the style", "similar", "like",
     "brand", "based"),
    ("多样", "不同", "各种", "不重复", "多种", "覆盖", "仿照", "参照", "模仿", "照着", "类似"),
)  # fmt: skip
_WITH_ANSWERS = Rule(
    _WITH_ANSWERS_RE,
    (
        "with",
        "and",
        "including",
        "plus",
        "along with",
        "paired",
        "followed",
        "include",
        '"output"',
        '"answer"',
        '"response"',
        '"completion"',
    ),
    ("及", "和", "并", "附", "带"),
    limit=12,
)
_DATASET = Rule(
    _DATASET_RE,
    ("dataset", "data set", "training", "train", "fine", "self", "seed", "jsonl", "synthetic data", "instruction tuning",
     "sft", "distill", '"instruction"'),
    ("训练数据", "数据集", "微调", "指令微调", "种子任务", "jsonl", "合成数据"),
)  # fmt: skip
_SELF_INSTRUCT = Rule(_SELF_INSTRUCT_RE, ("here are", "below are", "following are"), limit=2)
_DIGITS = re.compile(r"\d+")
_GATE = keys(
    "instruction", "task", "question", "prompt", "problem", "example", "sample", "exercise", "conversation", "dialog",
    "quer", "q&a", "pair", "scenario", "test case", "entries", "records", "items",
    chinese=("指令", "问题", "任务", "题", "样本", "示例", "例子", "数据", "问答", "对话", "提示", "用例"),
)  # fmt: skip


@register
class SyntheticDataDetector(ContentDetector):
    """Requests to generate many instructions/questions/tasks, with answers, as a dataset."""

    name: ClassVar[str] = "synthetic_data"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ("content.bulk_synthetic_data",)
    threshold: float = 0.5
    triggers: ClassVar[Keys] = _GATE

    def scan(self, part: Part) -> list[Signal]:
        gen = _GENERATE.find(part)
        if gen is None:
            seed = _SELF_INSTRUCT.find(part)
            if seed is None:
                return []
            end = min(seed.end(), seed.start() + 120)
            return [
                signal_at(
                    self.signals[0],
                    0.7,
                    "self-instruct seeding",
                    part,
                    seed.start(),
                    end,
                    "synthetic_data",
                )
            ]
        count = self._count(gen.group("n") or gen.group("nz") or "")
        if count < 5:
            return []
        score = 0.3
        reasons = [f"batch of {count}"]
        if _DIVERSE.find(part) is not None:
            score += 0.2
            reasons.append("diverse")
        if _WITH_ANSWERS.find(part) is not None:
            score += 0.15
            reasons.append("with answers")
        if _DATASET.find(part) is not None:
            score += 0.25
            reasons.append("dataset framing")
        if count >= 50:
            score += 0.1
        what = "bulk generation request (" + ", ".join(reasons) + ")"
        return [
            signal_at(
                self.signals[0],
                min(score, 0.95),
                what,
                part,
                gen.start(),
                gen.end(),
                "synthetic_data",
            )
        ]

    @staticmethod
    def _count(token: str) -> int:
        token = " ".join(token.split())
        if token.isdigit():
            return int(token)
        digits = _DIGITS.match(token)
        if digits is not None:
            return int(digits.group(0))
        return _NUMBER_WORDS.get(token) or _NUMBER_WORDS.get(token.split(" ")[0], 0)
