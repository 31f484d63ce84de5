"""Tool-use and agentic harvesting.

Two campaigns went after tool use, agentic coding, orchestration and
computer-use agents. Declaring tools, looping over tool results and running a
planner are what every agent product does, so those facts alone stay low; the
score rises when the request asks the model to *manufacture* agent data.
Signals:

``content.synthetic_tool_task`` (``tool_use``)
    0.75: generate user tasks/queries that exercise the (declared) tools, or
    write out complete tool-call trajectories / simulated tool results; also
    from concept lexicons (see "mechanism" below): made-up tool results in a run
    of calls, training data for tool-using agents, invented user requests next
    to the tools (zh).
``content.agent_trajectory`` (``agentic``)
    0.25: the request carries a multi-step trajectory (>= 4 tool results).
``content.orchestration_prompt`` (``agentic``)
    0.35: a planner/orchestrator prompt that decomposes a goal into subtasks and
    delegates them to sub-agents or tools.
``content.computer_use_step`` (``computer_use``)
    0.3: screenshot-driven click/type steps or computer-control tools; 0.5
    when each action must come with its reasoning written out.
``content.tool_catalog`` (``tool_use``)
    0.2: an unusually large tool catalogue (>= 16 declared tools), typical of
    function-calling sweeps.
"""

from __future__ import annotations

import re
from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.capability import computer_tools
from distillwatch.detectors.content.text import (
    ContentDetector,
    Keys,
    Part,
    Rule,
    keys,
    near,
    normalized,
    rx,
    signal_at,
    strongest,
)
from distillwatch.record import Exchange

__all__ = ["ToolHarvestDetector"]

TRAJECTORY_TOOL_RESULTS = 4
LARGE_CATALOG = 16

_SYNTH_TASK: tuple[tuple[Keys | None, Rule], ...] = (
    (
        keys("tool", "function", " api", "api "),
        Rule(
            rx(
                r"\b(?:generate|create|write|produce|come up with|synthesi[sz]e|invent|design|craft|make up|brainstorm)\w* … "
                r"(?:\w+ ){0,3}?(?:user )?(?:quer(?:y|ies)|requests?|tasks?|questions?|prompts?|scenarios?|examples?|instructions?|conversations?|dialogues?)"
                r" … (?:that|which|to)? ?(?:\w+ )?(?:use|uses|using|call|calls|calling|invok\w+|exercis\w+|requir\w+|involv\w+|need\w*|for|with|trigger\w*)"
                r" … (?:tools?|functions?|apis?|tool calls?|function calls?)\b"
            ),
            (
                "generat",
                "creat",
                "write",
                "produc",
                "come up",
                "synthes",
                "invent",
                "design",
                "craft",
                "make up",
                "brainstorm",
            ),
            limit=6,
        ),
    ),
    (
        keys("trajector", "sequence"),
        Rule(
            rx(
                r"\b(?:full|complete|entire|whole|realistic|multi ?step|end to end) (?:\w+ )?(?:trajector(?:y|ies)|sequences? of (?:tool|function|api) calls)"
            ),
            ("full", "complete", "entire", "whole", "realistic", "multi", "end to end"),
        ),
    ),
    (
        keys("trajector", "trace", "transcript"),
        Rule(
            rx(r"\b(?:tool|function|api) ?call (?:trajector(?:y|ies)|traces?|transcripts?)\b"),
            ("tool", "function", "api"),
        ),
    ),
    (
        keys("synthetic", "training"),
        Rule(
            rx(
                r"\b(?:synthetic|training) (?:\w+ ){0,2}?(?:tool|function|agent)\w*(?: ?use| calling| using)? (?:training )?"
                r"(?:data|dataset|examples|trajector(?:y|ies)|samples)\b"
            ),
            ("synthetic", "training"),
        ),
    ),
    (
        keys("simulat"),
        Rule(
            rx(
                r"\bsimulat\w* (?:the |realistic |plausible )?(?:tool|function|api) (?:responses?|outputs?|results?|returns?)"
            ),
            ("simulat",),
        ),
    ),
    (
        None,
        Rule(
            rx(
                r"(?:生成|编写|设计|构造|创建).{0,12}?(?:调用|使用).{0,6}?(?:工具|函数|接口|api).{0,10}?(?:任务|问题|查询|请求|样例|示例)",
                r"(?:完整|多步|端到端)的?(?:工具|函数)调用(?:轨迹|序列|过程)",
            ),
            (),
            ("生成", "编写", "设计", "构造", "创建", "完整", "多步", "端到端"),
        ),
    ),
)
_ORCHESTRATE: tuple[tuple[Keys | None, Rule], ...] = (
    (
        keys("orchestrat", "planner", "planning", "coordinator", "supervisor", "manager", "lead"),
        Rule(
            rx(
                r"\byou are (?:an? |the )?(?:\w+ ){0,2}?(?:orchestrat\w*|planner|planning agent|coordinator|supervisor agent|manager agent|lead agent)\b"
            ),
            ("you are",),
        ),
    ),
    (
        keys("delegat", "assign", "dispatch", "route", "hand"),
        Rule(
            rx(
                r"\b(?:decompos\w*|break\w* down|split\w*) … (?:task|goal|problem|request|objective)s? … (?:into )?(?:sub ?tasks|sub ?goals|steps|subproblems)"
                r".{0,300}?\b(?:delegat\w*|assign\w*|dispatch\w*|route\w*|hand\w* off) … (?:sub ?agents?|workers?|agents?|specialists?|tools?)\b"
            ),
            ("decompos", "break", "split"),
            limit=3,
        ),
    ),
    (
        None,
        Rule(
            rx(
                r"(?:你是|作为).{0,8}?(?:编排|调度|规划)(?:智能体|代理|agent)",
                r"(?:拆解|分解).{0,10}?子任务.{0,60}?(?:分配|委派|派发).{0,8}?(?:子智能体|智能体|代理|工具)",
            ),
            (),
            ("你是", "作为", "拆解", "分解"),
        ),
    ),
)
_COMPUTER_USE = rx(
    r"\bscreenshot\w*\b.{0,300}?\b(?:click\w*|mouse|cursor|coordinates?|keyboard|scroll\w*|type the|double ?click)\b",
    r"\b(?:click\w*|mouse|cursor|coordinates?|scroll\w*) … .{0,300}?\bscreenshot\w*\b",
    r"截图.{0,100}?(?:点击|鼠标|坐标|键盘|滚动)",
)
_EXPLAIN_EACH = rx(
    r"\b(?:explain|describe|write|output|state|give|provide|include)\w* … (?:reasoning|thoughts?|thinking|rationale|why)"
    r" … (?:for|before|behind|of) (?:each|every) (?:action|step|click|move)",
    r"每(?:一步|个动作|次操作).{0,10}?(?:推理|思考|理由|原因)",
)
_SCREENSHOT = keys("screenshot", chinese=("截图",))
_POINTER_WORDS = keys(
    "click", "mouse", "cursor", "coordinate", "keyboard", "scroll", "type the",
    chinese=("点击", "鼠标", "坐标", "键盘", "滚动"),
)  # fmt: skip
_EACH = keys("each", "every", chinese=("每一步", "每个动作", "每次操作"))
_TOOL_WORDS = keys("tool", "function", "api")


def _union(*parts: Keys) -> Keys:
    return Keys(
        (w for k in parts for w in k.english), dict.fromkeys(w for k in parts for w in k.chinese)
    )


# Every check in scan() needs one of these: gate words, or (Chinese-only rules) their anchors.
_TRIGGERS = _union(
    *(gate if gate is not None else keys(chinese=rule.chinese) for gate, rule in _SYNTH_TASK),
    *(gate if gate is not None else keys(chinese=rule.chinese) for gate, rule in _ORCHESTRATE),
    _TOOL_WORDS,
    _SCREENSHOT,
    keys(
        "agent",
        "episode",
        "rollout",
        "trajector",
        chinese=("工具", "函数", "接口", "调用", "智能体"),
    ),
)


@register
class ToolHarvestDetector(ContentDetector):
    """Synthetic tool tasks, agent trajectories, orchestration and computer-use steps."""

    name: ClassVar[str] = "tool_harvest"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = (
        "content.synthetic_tool_task",
        "content.agent_trajectory",
        "content.orchestration_prompt",
        "content.computer_use_step",
        "content.tool_catalog",
    )
    threshold: float = 0.5
    triggers: ClassVar[Keys] = _TRIGGERS

    def detect(self, exchange: Exchange) -> list[Signal]:
        found = super().detect(exchange)
        extra: list[Signal] = []
        results = normalized(exchange).tool_results
        if results >= TRAJECTORY_TOOL_RESULTS:
            extra.append(
                Signal(
                    "content.agent_trajectory",
                    0.25,
                    f"multi-step trajectory carrying {results} tool results",
                    "agentic",
                )
            )
        names = exchange.tool_names
        if len(names) >= LARGE_CATALOG:
            extra.append(
                Signal(
                    "content.tool_catalog",
                    0.2,
                    f"{len(names)} tools declared (e.g. {', '.join(names[:3])})",
                    "tool_use",
                )
            )
        if names and not any(s.name == "content.computer_use_step" for s in found):
            computer = computer_tools(names)
            if computer:
                extra.append(
                    Signal(
                        "content.computer_use_step",
                        0.3,
                        f"computer-control tools declared: {', '.join(computer[:3])}",
                        "computer_use",
                    )
                )
        return strongest([*found, *extra]) if extra else found

    def scan(self, part: Part) -> list[Signal]:
        out: list[Signal] = []
        m = _first_gated(part, _SYNTH_TASK) or _invented_tasks(part) or _mechanism(part)
        if m is not None:
            out.append(
                signal_at(
                    self.signals[0],
                    0.75,
                    "synthetic tool-use data requested",
                    part,
                    m.start(),
                    m.end(),
                    "tool_use",
                )
            )
        m = _first_gated(part, _ORCHESTRATE)
        if m is not None:
            out.append(
                signal_at(
                    self.signals[2],
                    0.35,
                    "planning/orchestration prompt",
                    part,
                    m.start(),
                    m.end(),
                    "agentic",
                )
            )
        if part.any(_SCREENSHOT) and part.any(_POINTER_WORDS):
            m = near(part, _COMPUTER_USE, _SCREENSHOT, before=360, after=360, limit=2)
            if m is not None:
                explain = near(part, _EXPLAIN_EACH, _EACH, before=160, after=20, limit=2)
                anchor = explain or m
                if explain is not None:
                    score, what = 0.5, "computer-use steps with reasoning for each action"
                else:
                    score, what = 0.3, "computer-use step"
                out.append(
                    signal_at(
                        self.signals[3],
                        score,
                        what,
                        part,
                        anchor.start(),
                        anchor.end(),
                        "computer_use",
                    )
                )
        return out


_INVENT = Rule(
    rx(
        r"\b(?:invent|generate|create|come up with|synthesi[sz]e|make up|brainstorm|produce|write|design|craft|dream up|think up"
        r"|devise|compose|propose|imagine|fabricate)\w* (?:\w+ ){0,2}?"
        r"(?:\d+|several|many|some|realistic|synthetic|diverse|varied|new|sample|plausible|hypothetical) (?:\w+ ){0,2}?"
        r"(?:user )?(?:tasks|queries|requests|questions|prompts|scenarios|messages|inputs|utterances|commands"
        r"|things (?:a|the) user)\b",
        r"\b(?:invent|generate|create|come up with|synthesi[sz]e|make up|brainstorm|produce|write|design|craft|dream up|think up"
        r"|devise|compose|propose|imagine|fabricate)\w* … "
        r"(?:user (?:tasks|queries|requests|questions|prompts)|things (?:a|the) user)\b",
    ),
    (
        "invent",
        "generat",
        "creat",
        "come",
        "synthes",
        "make",
        "brainstorm",
        "produc",
        "write",
        "design",
        "craft",
        "dream",
        "think",
        "devis",
        "compos",
        "propos",
        "imagin",
        "fabricat",
    ),
    limit=4,
)
_TOOL_TARGET = rx(r"\b(?:tools?|functions?|apis?|function calls?|tool calls?)\b|工具|函数|接口")


def _invented_tasks(part: Part) -> re.Match[str] | None:
    """Invented user tasks with the tools/functions they exercise close by."""
    if not part.any(_TOOL_WORDS):
        return None
    for m in _INVENT.finditer(part):
        if _TOOL_TARGET.search(part.norm, max(0, m.start() - 200), m.end() + 200) is not None:
            return m
    return None


def _first_gated(part: Part, rules: tuple[tuple[Keys | None, Rule], ...]) -> re.Match[str] | None:
    """First match of a rule whose gate words (any of them) are present; no gate: Chinese only."""
    for gate, rule in rules:
        if gate is None:
            if not part.cjk:
                continue
        elif not part.any(gate):
            continue
        m = rule.find(part)
        if m is not None:
            return m
    return None


# --- mechanism: an agent run whose tool results the model makes up (issue 4) ----
#
# Harvesting agent data means having the model write both sides of a tool loop:
# the calls *and* the results the tools would have returned. Paraphrases say it
# with other words ("act out an agent episode", "assume the APIs return fake
# data", "an invented return value for every call"), so the rule is the
# co-occurrence of two lexicons within a few sentences: fabricated tool results
# (fake/invented/simulated/made-up/plausible ... results/return values/outputs)
# and a run of calls (each/every tool call, agent run/episode/trajectory/log,
# the next step). Mocking an API in a unit test has the first and not the
# second; logging each call has the second and not the first. Training data
# framed for tool-using agents ("training trajectories for tool-using agents")
# and, in Chinese, invented user requests next to the declared tools count too.
_M_FAKE = rx(
    r"\b(?:fake|invent\w*|made up|making up|make up|simulat\w*|imagin\w*|plausib\w*|hypothetical|pretend\w*|fictional"
    r"|fictitious|fabricat\w*|dummy|mock\w*|dream\w* up|realistic) (?:\w+ ){0,4}?(?:results?|return(?:ed)? values?|returns?"
    r"|responses?|outputs?|data|observations?)\b",
    r"\b(?:results?|responses?|outputs?|return values?|observations?) (?:\w+ ){0,3}?(?:you )?(?:invent|make up|made up"
    r"|simulat|imagin|fabricat|pretend)\w*",
    r"\b(?:tools?|functions?|apis?|calls?) (?:\w+ ){0,3}?return\w* (?:\w+ ){0,2}?(?:plausible|fake|realistic|made up|invented"
    r"|imaginary|fictional|dummy|hypothetical|believable)",
)
_M_RUN = rx(
    r"\b(?:each|every|all (?:the )?|the (?:full|complete|entire) (?:sequence|list|chain) of) (?:\w+ )?(?:tool|function|api)"
    r" ?(?:calls?|invocations?)\b",
    r"\b(?:agent|agentic|tool ?use|tool ?using|function ?calling) (?:\w+ )?(?:runs?|episodes?|rollouts?|trajector\w*"
    r"|transcripts?|logs?|traces?|loops?|sessions?)\b",
    r"\b(?:one by one|one after another|in turn|until the (?:task|goal) is (?:done|complete|finished))\b",
    r"\b(?:each|every) (?:call|invocation|step|action)s?\b|\b(?:does|do|to do) next\b",
    r"\b(?:full|complete|entire|whole|end to end|multi ?step|realistic|plausible|example|sample) (?:\w+ ){0,2}?(?:runs?"
    r"|episodes?|rollouts?|trajector\w*"
    r"|transcripts?|logs?|traces?)\b",
    r"\b(?:next|follow ?up|following) (?:step|action|move|call)s?\b",
    r"\blog of (?:\w+ )?(?:calls|tool calls|function calls)\b",
)
_M_TRAINING = rx(
    r"\b(?:training|synthetic|fine ?tuning) (?:\w+ )?(?:data|dataset|examples|trajector\w*|samples|episodes|demonstrations)"
    r" (?:for|of) (?:\w+ ){0,2}?(?:tool|function|agent)\w*"
)
_M_FAKE_WORDS = keys(
    "fake", "invent", "made up", "made-up", "making up", "make up", "simulat", "imagin", "plausib", "hypothetical", "pretend", "fiction",
    "fictitious", "fabricat", "dummy", "mock", "dream", "realistic", "believable",
)  # fmt: skip
_M_RUN_WORDS = keys(
    "each", "every", "all", "sequence", "chain", "agent", "tool", "function", "run", "episode", "rollout", "trajector",
    "transcript", "log", "trace", "next", "follow", "loop", "session", "one by one", "one after", "in turn", "until",
)  # fmt: skip
_M_TRAINING_WORDS = keys("training", "synthetic", "finetun", "fine-tun", "fine tun")
_M_TOOL_NEAR = rx(
    r"\b(?:tools?|functions?|apis?|function calls?|tool calls?|endpoints?)\b|工具|函数|接口"
)
_M_REACH = 320
_M_PRODUCE = rx(
    r"\b(?:write|produc|generat|creat|simulat|act out|role ?play|fabricat|invent|make up|walk through|output|draft"
    r"|compos|dream up|play out|narrat|show|give|spell out|lay out|list|assume|pretend|imagin)\w*"
)
_M_TESTING = rx(
    r"\b(?:unit tests?|tests?|testing|pytest|jest|unittest|assert\w*|mock server|stub\w*|fixtures?|test suite"
    r"|integration tests?|test cases?)\b"
)
_M_TOOLISH = keys("tool", "function", "api", "agent", "endpoint")

_M_INVENT_ZH = rx(
    r"(?:编造|虚构|生成|编写|设计|构造|创建|想出|构思|模拟|捏造|杜撰|写出|列出|造)(?:\d+|[一二三四五六七八九十百几]+)?(?:个|条|组|份)?"
    r"[^。！？；\n]{0,20}?(?:用户)?(?:问题|任务|查询|请求|指令|需求|提问|场景)"
)
_M_FAKE_ZH = rx(
    r"(?:模拟|编造|虚构|假设|伪造|自己编|假想|捏造|杜撰)[^。！？；\n]{0,16}?(?:返回|结果|输出|响应|返回值)",
    r"(?:返回|结果|输出|响应|返回值)[^。！？；\n]{0,6}?(?:自己编|编造|虚构|模拟|假设)",
)
_M_RUN_ZH = rx(
    r"(?:每一次|每一步|每个|每次|所有|全部)(?:的)?(?:工具|函数|接口)?调用",
    r"调用[^。！？；\n]{0,10}?(?:过程|轨迹|序列|步骤|链)",
    r"下一步|智能体|执行过程|完整(?:的)?(?:流程|过程|轨迹)",
)
_M_TOOL_ZH = ("工具", "函数", "接口", "api")


def _mechanism(part: Part) -> re.Match[str] | None:
    """Fabricated tool results in a run of calls; training data for tool agents; invented tasks (zh)."""
    text = part.norm
    if part.any(_M_FAKE_WORDS) and part.any(_M_RUN_WORDS) and part.any(_M_TOOLISH):
        for fake in _M_FAKE.finditer(text):
            lo, hi = max(0, fake.start() - _M_REACH), fake.end() + _M_REACH
            if (
                _M_RUN.search(text, lo, hi) is not None
                and _M_TOOL_NEAR.search(text, lo, hi) is not None
                and _M_PRODUCE.search(text, lo, hi) is not None  # the model is to write the run
                and _M_TESTING.search(text, lo, hi) is None  # mocks in a test suite
            ):
                return fake
    if part.any(_M_TRAINING_WORDS) and part.any(_M_TOOLISH):
        m = near(part, _M_TRAINING, _M_TRAINING_WORDS, before=10, after=90, limit=3)
        if m is not None:
            return m
    if part.cjk and any(w in text for w in _M_TOOL_ZH):
        for m in _M_INVENT_ZH.finditer(text):
            near_tools = text[max(0, m.start() - 40) : m.end() + 40]
            if any(w in near_tools for w in _M_TOOL_ZH):
                return m
        for fake in _M_FAKE_ZH.finditer(text):
            lo, hi = max(0, fake.start() - 120), fake.end() + 120
            if _M_RUN_ZH.search(text, lo, hi) is not None:
                return fake
    return None
