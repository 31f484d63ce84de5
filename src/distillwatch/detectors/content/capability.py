"""Plain capability tags, so the account layer can measure concentration.

Distillation campaigns concentrate their volume in a few capabilities
(reasoning, coding, tool use, vision, data analysis). These signals say what a
request exercises, not that it is suspicious: every score is 0.1, below any
alert threshold, and exists to be counted per account.

``capability.coding``        code in the request, or code asked for.
``capability.tool_use``      tools declared.
``capability.agentic``       the request carries tool calls/results (an agent loop).
``capability.vision``        images in the request.
``capability.data_analysis`` tables, data files or statistics asked about.
``capability.computer_use``  screenshot/click-driven control.
"""

from __future__ import annotations

from typing import ClassVar

from distillwatch.detectors.base import Signal, register
from distillwatch.detectors.content.text import Keys, Part, Rule, keys, normalized, rx, signal_at
from distillwatch.record import Exchange

__all__ = ["CapabilityDetector", "TAG_SCORE", "COMPUTER_TOOLS", "computer_tools"]

TAG_SCORE = 0.1

# Literal markers of code in the text: found with str.find, no regex needed.
_CODE_MARKERS = (
    "```",
    "def ",
    "#include",
    "console.log",
    "public static",
    "function(",
    "=> {",
    "import ",
    "</div>",
    "select * from",
)
_CODE_ASK = rx(
    r"\b(?:write|implement|fix|debug|refactor|optimi[sz]e|review|complete|explain)\w* (?:\w+ ){0,4}?(?:code|function|script|program|class|method|query|regex|bug|unit tests?)\b",
    r"\b(?:python|javascript|typescript|java|golang|rust|c\+\+|c#|kotlin|swift|ruby|php|sql|bash|html|css) (?:code|function|script|program|snippet|class)\b",
    r"(?:写|编写|实现|修复|调试|优化).{0,8}?(?:代码|函数|程序|脚本)",
)
_CODE_NOUNS = (
    "code",
    "function",
    "script",
    "program",
    "class",
    "method",
    "query",
    "regex",
    "bug",
    "snippet",
    "unit test",
)
_CODE_CONTEXT = (
    "write", "implement", "fix", "debug", "refactor", "optimi", "review", "complete", "python", "javascript",
    "typescript", "java", "golang", "rust", "c++", "c#", "kotlin", "swift", "ruby", "php", "sql", "bash", "html", "css",
    "compile", "error", "return", "class ", "def ", "()",
)  # fmt: skip
_CODE_ZH_ASK = keys(chinese=("代码", "函数", "程序", "脚本"))
_CONTEXT_KEYS = keys(*_CODE_CONTEXT)


def _context_words(part: Part) -> tuple[str, ...]:
    """The context words that can be in a window of ``part``: those found in it at all."""
    mask = part.mask
    if not mask & _CONTEXT_KEYS.bits:
        return ()
    return tuple(word for word, bit in _CONTEXT_KEYS.indexed if mask & bit)


_ANY_MARKER = keys(*_CODE_MARKERS)
_ANY_NOUN = keys(*_CODE_NOUNS)
_CODE_ASK_RULE = Rule(
    _CODE_ASK,
    ("write", "implement", "fix", "debug", "refactor", "optimi", "review", "complete", "explain", "python", "javascript",
     "typescript", "java", "golang", "rust", "c++", "c#", "kotlin", "swift", "ruby", "php", "sql", "bash", "html", "css"),
    ("写", "编写", "实现", "修复", "调试", "优化"),
    limit=4,
)  # fmt: skip
_DATA = rx(
    r"\b(?:dataframe|pandas|csv|xlsx|spreadsheet|pivot table|regression|correlation|statistical(?:ly)?"
    r"|data ?set|data analysis|analy[sz]e (?:the |this |my )?data|sql query|histogram)\b",
    r"数据分析|数据集|统计分析|回归|表格数据",
)
_SCREEN = rx(
    r"\bscreenshot\w*\b.{0,300}?\b(?:click\w*|mouse|cursor|coordinates?|scroll\w*)\b",
    r"截图.{0,100}?(?:点击|鼠标|坐标)",
)
_DATA_ZH = ("数据", "统计", "回归", "表格")
_DATA_RULE = Rule(
    _DATA,
    ("dataframe", "pandas", "csv", "xlsx", "spreadsheet", "pivot", "regression", "correlation", "statistical",
     "data", "analy", "sql", "histogram"),
    ("数据", "统计", "回归", "表格"),
    limit=4,
)  # fmt: skip
_SCREEN_RULE = Rule(_SCREEN, ("screenshot",), ("截图",), before=10, after=320, limit=2)
# every user-text tag needs one of these words
_TEXT_TRIGGERS = Keys(
    (
        *_ANY_MARKER.english,
        *_ANY_NOUN.english,
        *_DATA_RULE.words.english,
        *_SCREEN_RULE.words.english,
    ),
    (*_CODE_ZH_ASK.chinese, *_DATA_RULE.words.chinese, *_SCREEN_RULE.words.chinese),
)
COMPUTER_TOOLS = (  # tool names that mean computer control; shared with tool_harvest
    "computer",
    "screenshot",
    "mouse",
    "click",
    "keyboard",
    "browser_action",
    "desktop",
)
_computer_cache: dict[tuple[str, ...], tuple[str, ...]] = {}


def computer_tools(names: tuple[str, ...]) -> tuple[str, ...]:
    """Declared tools whose names mean computer control (memoized: tool sets repeat)."""
    found = _computer_cache.get(names)
    if found is None:
        found = tuple(n for n in names if any(k in n.lower() for k in COMPUTER_TOOLS))
        if len(_computer_cache) >= 4096:
            _computer_cache.clear()
        _computer_cache[names] = found
    return found


def _tag(name: str, what: str, capability: str) -> Signal:
    return Signal(name, TAG_SCORE, what, capability)


_tool_cache: dict[tuple[str, ...], tuple[Signal, ...]] = {}


def _tool_tags(names: tuple[str, ...]) -> tuple[Signal, ...]:
    """The tool-use tag, plus computer-use when such tools are declared (memoized per tool set)."""
    found = _tool_cache.get(names)
    if found is None:
        found = (
            _tag(
                "capability.tool_use",
                f"{len(names)} tools declared: {', '.join(names[:3])}",
                "tool_use",
            ),
        )
        computer = computer_tools(names)
        if computer:
            found += (
                _tag(
                    "capability.computer_use",
                    f"computer-control tools: {', '.join(computer[:3])}",
                    "computer_use",
                ),
            )
        if len(_tool_cache) >= 4096:
            _tool_cache.clear()
        _tool_cache[names] = found
    return found


@register
class CapabilityDetector:
    """Low-score tags naming the capability a request exercises."""

    name: ClassVar[str] = "capability"
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = (
        "capability.coding",
        "capability.tool_use",
        "capability.agentic",
        "capability.vision",
        "capability.data_analysis",
        "capability.computer_use",
    )
    threshold: float = 0.5

    def __init__(self, threshold: float | None = None) -> None:
        if threshold is not None:
            self.threshold = float(threshold)
        self._memo_key = f"{self.name}/{self.version}"

    def detect(self, exchange: Exchange) -> list[Signal]:
        view = normalized(exchange)
        user = view.user
        found = user.memo.get(self._memo_key)
        if found is None:
            found = user.memo[self._memo_key] = self._text_tags(user)
        code, data, screen = found
        out: list[Signal] = [] if code is None else [code]
        tags = _tool_tags(exchange.tool_names) if exchange.tool_names else ()
        out.extend(tags)
        steps = view.tool_steps
        if steps:
            out.append(
                _tag("capability.agentic", f"{steps} tool calls/results in the request", "agentic")
            )
        images = view.images
        if images:
            out.append(_tag("capability.vision", f"{images} image(s) in the request", "vision"))
        if data is None and view.system.norm:
            memo = view.system.memo
            if self._memo_key not in memo:
                memo[self._memo_key] = self._data(view.system)
            data = memo[self._memo_key]
        if data is not None:
            out.append(data)
        if screen is not None and len(tags) < 2:  # no computer-control tools declared
            out.append(screen)
        return out

    @classmethod
    def _text_tags(cls, user: Part) -> tuple[Signal | None, Signal | None, Signal | None]:
        """Coding, data-analysis and computer-use tags read from the user message."""
        if not user.any(_TEXT_TRIGGERS):
            return None, None, None
        screen = None
        m = _SCREEN_RULE.find(user)
        if m is not None:
            screen = signal_at(
                "capability.computer_use",
                TAG_SCORE,
                "computer-use step",
                user,
                m.start(),
                m.end(),
                "computer_use",
            )
        return cls._coding(user), cls._data(user), screen

    @staticmethod
    def _coding(part: Part) -> Signal | None:
        text = part.norm
        if part.any(_ANY_MARKER):
            for marker in _CODE_MARKERS:
                if part.has(marker):
                    at = text.find(marker)
                    return signal_at(
                        "capability.coding",
                        TAG_SCORE,
                        "code in the request",
                        part,
                        at,
                        at + 40,
                        "coding",
                    )
        # a code noun next to a programming verb or language, found with plain
        # substring checks: this is a low-score tag, not worth a regex pass
        if part.any(_ANY_NOUN):
            context = _context_words(part)
            for noun in _CODE_NOUNS:
                if not part.has(noun):
                    continue
                at = text.find(noun)
                window = text[max(0, at - 60) : at + 40]
                if any(word in window for word in context):
                    return signal_at(
                        "capability.coding",
                        TAG_SCORE,
                        "code asked for",
                        part,
                        max(0, at - 30),
                        at + 30,
                        "coding",
                    )
        if part.cjk and part.any(_CODE_ZH_ASK):
            m = _CODE_ASK_RULE.find(part)
            if m is not None:
                return signal_at(
                    "capability.coding",
                    TAG_SCORE,
                    "code asked for",
                    part,
                    m.start(),
                    m.end(),
                    "coding",
                )
        return None

    @staticmethod
    def _data(part: Part) -> Signal | None:
        m = _DATA_RULE.find(part)
        if m is None:
            return None
        return signal_at(
            "capability.data_analysis",
            TAG_SCORE,
            "data analysis content",
            part,
            m.start(),
            m.end(),
            "data_analysis",
        )
