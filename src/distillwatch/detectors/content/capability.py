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
from distillwatch.detectors.content.text import Part, normalized, rx, signal_at
from distillwatch.record import Exchange

__all__ = ["CapabilityDetector", "TAG_SCORE"]

TAG_SCORE = 0.1

_CODE = rx(
    r"```|\bdef \w+ ?\(|\bfunction \w+ ?\(|\bclass \w+ ?[:({]|#include|\bimport \w+|\bconsole\.log|\bpublic static\b|=>|\bselect \S.{0,80}\bfrom\b",
    r"\b(?:write|implement|fix|debug|refactor|optimi[sz]e|review|complete)\w* (?:\w+ ){0,4}?(?:code|function|script|program|class|method|query|regex|bug|unit tests?)\b",
    r"\b(?:python|javascript|typescript|java|golang|rust|c\+\+|c#|kotlin|swift|ruby|php|sql|bash|html|css) (?:code|function|script|program|snippet|class)\b",
    r"(?:写|编写|实现|修复|调试|优化).{0,8}?(?:代码|函数|程序|脚本)",
)
_DATA = rx(
    r"\b(?:dataframe|pandas|csv|xlsx|spreadsheet|pivot table|regression|correlation|standard deviation|statistical(?:ly)?"
    r"|data ?set|data analysis|analy[sz]e (?:the |this |my )?data|sql query|histogram|time series)\b",
    r"数据分析|数据集|统计分析|回归|表格数据",
)
_SCREEN = rx(
    r"\bscreenshot\w*\b.{0,300}?\b(?:click\w*|mouse|cursor|coordinates?|scroll\w*)\b",
    r"截图.{0,100}?(?:点击|鼠标|坐标)",
)
_CODE_WORDS = (
    "```",
    "def ",
    "function",
    "class ",
    "#include",
    "import ",
    "console.",
    "=>",
    "select ",
    "code",
    "script",
    "program",
    "python",
    "java",
    "sql",
    "bug",
    "regex",
)
_CODE_ZH = ("代码", "函数", "程序", "脚本")
_DATA_WORDS = (
    "data",
    "csv",
    "pandas",
    "xlsx",
    "spreadsheet",
    "pivot",
    "regression",
    "correlation",
    "deviation",
    "statistic",
    "histogram",
    "time series",
    "sql",
)
_DATA_ZH = ("数据", "统计", "回归", "表格")
_COMPUTER_TOOLS = (
    "computer",
    "screenshot",
    "mouse",
    "click",
    "keyboard",
    "browser_action",
    "desktop",
)


def _tag(name: str, what: str, capability: str) -> Signal:
    return Signal(name, TAG_SCORE, what, capability)


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
        out: list[Signal] = []
        code = self._text_tag(
            view.user, "capability.coding", _CODE_WORDS, _CODE_ZH, _CODE, "coding"
        )
        if code is not None:
            out.append(code)
        if exchange.tool_names:
            names = exchange.tool_names
            out.append(
                _tag(
                    "capability.tool_use",
                    f"{len(names)} tools declared: {', '.join(names[:3])}",
                    "tool_use",
                )
            )
            computer = [n for n in names if any(k in n.lower() for k in _COMPUTER_TOOLS)]
            if computer:
                out.append(
                    _tag(
                        "capability.computer_use",
                        f"computer-control tools: {', '.join(computer[:3])}",
                        "computer_use",
                    )
                )
        steps = sum(t.tool_calls + t.tool_results for t in exchange.turns)
        if steps:
            out.append(
                _tag("capability.agentic", f"{steps} tool calls/results in the request", "agentic")
            )
        images = exchange.images
        if images:
            out.append(_tag("capability.vision", f"{images} image(s) in the request", "vision"))
        data = self._text_tag(
            view.user, "capability.data_analysis", _DATA_WORDS, _DATA_ZH, _DATA, "data_analysis"
        )
        if data is None and view.system.norm:
            data = view.system.memo.get(self._memo_key, False)
            if data is False:
                data = view.system.memo[self._memo_key] = self._text_tag(
                    view.system,
                    "capability.data_analysis",
                    _DATA_WORDS,
                    _DATA_ZH,
                    _DATA,
                    "data_analysis",
                )
        if data is not None:
            out.append(data)
        if not any(s.name == "capability.computer_use" for s in out) and view.user.any(
            ("screenshot",), ("截图",)
        ):
            m = _SCREEN.search(view.user.norm)
            if m is not None:
                out.append(
                    signal_at(
                        "capability.computer_use",
                        TAG_SCORE,
                        "computer-use step",
                        view.user,
                        m.start(),
                        m.end(),
                        "computer_use",
                    )
                )
        return out

    @staticmethod
    def _text_tag(
        part: Part, name: str, words: tuple[str, ...], zh: tuple[str, ...], pattern, capability: str
    ) -> Signal | None:  # type: ignore[no-untyped-def]
        if not part.any(words, zh):
            return None
        m = pattern.search(part.norm)
        if m is None:
            return None
        return signal_at(
            name,
            TAG_SCORE,
            capability.replace("_", " ") + " content",
            part,
            m.start(),
            m.end(),
            capability,
        )
