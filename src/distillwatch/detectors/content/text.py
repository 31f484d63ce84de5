"""One shared normalization pass per exchange, for every content detector.

Why this module exists: attackers dodge keyword rules cheaply (upper case,
full-width or Cyrillic look-alike letters, zero-width characters, markdown
emphasis, JSON escaping), and eleven detectors each normalizing the same text
would blow the speed budget. So the text is folded once:

* NFKC (full-width and mathematical letters become plain ones), lower case,
  a small fold of Cyrillic/Greek look-alikes to Latin, zero-width characters
  dropped, JSON string escapes (``\\n``, ``\\"``, ``\\u00e9``) decoded.
* Pure-ASCII text without backslashes only gets ``str.lower`` and keeps its
  length, so a match offset quotes the original text exactly.

Only what an exchange newly asks is looked at: the system prompt and the last
user message. A system prompt is normalized once and kept in a small LRU (SaaS
and attack traffic reuse a few system prompts across thousands of requests);
detectors memoize what they found in a system prompt on its :class:`Part`.

Patterns are written with a tiny notation compiled by :func:`rx`: a space
means "one or more non-word characters" (so markdown, JSON quotes and
punctuation between words do not matter), `` ?`` means "optionally such
characters" and `` … `` means "up to four filler words". Keyword checks (:meth:`Part.has`) run before any regular expression
because ``in`` is an order of magnitude cheaper than a regex scan.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from distillwatch.detectors.base import Signal
from distillwatch.record import Exchange

__all__ = [
    "Part",
    "View",
    "fold",
    "normalized",
    "system_part",
    "rx",
    "quote",
    "strongest",
    "ContentDetector",
    "signal_at",
    "negated",
    "near",
    "iter_near",
    "Rule",
    "first",
    "QUOTE_CHARS",
    "SYSTEM_CACHE_SIZE",
    "SHORT_TEXT",
]

QUOTE_CHARS = 80
SHORT_TEXT = 1024  # below this, keyword checks skip the cache and regexes scan the whole text
SYSTEM_CACHE_SIZE = 1024

# Look-alikes that survive NFKC: lower-case Cyrillic and Greek letters that an
# English reader cannot tell from Latin ones. Upper case is lowered first.
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ɡ": "g", "ɩ": "i",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w",
}  # fmt: skip
_ZERO_WIDTH = "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_QUOTES = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'))
_LOOKALIKE_TABLE = {ord(k): v for k, v in _CONFUSABLES.items()}
_LOOKALIKE_CLASS = "[" + "".join(_CONFUSABLES) + "]"
# A look-alike letter followed by a Latin one betrays a disguised English word;
# plain Russian or Greek text has no such pair and skips the (slow) dict translate.
_MIXED_SCRIPT = re.compile(f"{_LOOKALIKE_CLASS}[a-z]")
_ZERO_WIDTH_RE = re.compile("[" + _ZERO_WIDTH + "]")
_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
_WHITESPACE_ESCAPES = {"n": "\n", "t": "\t", "r": "\n"}
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|[ntr\"/\\])")


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code is None:
        char = match.group(0)[1]
        return _WHITESPACE_ESCAPES.get(char, char)
    return chr(int(code, 16))


def fold(text: str) -> str:
    """Normalize ``text`` for matching (see the module docstring)."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = text.lower()
        for curly, plain in _QUOTES:
            if curly in text:
                text = text.replace(curly, plain)
        if _ZERO_WIDTH_RE.search(text):
            text = _ZERO_WIDTH_RE.sub("", text)
        if _MIXED_SCRIPT.search(text):
            text = text.translate(_LOOKALIKE_TABLE)
    else:
        text = text.lower()
    if "\\" in text:
        text = _ESCAPE.sub(_unescape, text)
    return text


@dataclass(slots=True, eq=False)
class Part:
    """One piece of request text (system prompt or last user message), folded.

    ``aligned`` says the folded text has the original's offsets, so a quote can
    be cut from the original; otherwise the folded text is quoted.
    """

    where: str
    raw: str
    norm: str
    aligned: bool
    cjk: bool
    memo: dict[str, Any] = field(default_factory=dict)
    _seen: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, where: str, raw: str) -> Part:
        norm = fold(raw)
        ascii_only = norm.isascii()
        return cls(
            where=where,
            raw=raw,
            norm=norm,
            aligned=len(norm) == len(raw),
            cjk=not ascii_only and _CJK.search(norm) is not None,
        )

    def has(self, needle: str) -> bool:
        """Whether the folded text contains ``needle`` (cached per part)."""
        found = self._seen.get(needle)
        if found is None:
            found = self._seen[needle] = needle in self.norm
        return found

    def any(self, english: Iterable[str], chinese: Iterable[str] = ()) -> bool:
        """Cheap prefilter: any English keyword, or any Chinese one when CJK is present."""
        text = self.norm
        if not text:
            return False
        if len(text) <= SHORT_TEXT:
            # a direct scan of a short text is cheaper than the per-part cache
            for needle in english:
                if needle in text:
                    return True
            if self.cjk:
                for needle in chinese:
                    if needle in text:
                        return True
            return False
        for needle in english:
            if self.has(needle):
                return True
        if self.cjk:
            for needle in chinese:
                if self.has(needle):
                    return True
        return False

    def quote(self, start: int, end: int) -> str:
        """The matched span as the analyst will find it in the log, shortened."""
        source = self.raw if self.aligned else self.norm
        return quote(source[start:end])

    def cached(self, key: str, compute: Callable[[], list[Signal]]) -> list[Signal]:
        """Memoize a detector's findings on this part (pays off for system prompts)."""
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = compute()
        return found


def quote(span: str, limit: int = QUOTE_CHARS) -> str:
    """Collapse whitespace and cut ``span`` to ``limit`` characters."""
    span = " ".join(span.split())
    if len(span) > limit:
        span = span[: limit - 1].rstrip() + "…"
    return span


_EMPTY_SYSTEM = Part.of("system prompt", "")
_system_cache: OrderedDict[str, Part] = OrderedDict()


def system_part(text: str) -> Part:
    """The folded system prompt, from a bounded LRU keyed by the prompt text."""
    if not text:
        return _EMPTY_SYSTEM
    part = _system_cache.get(text)
    if part is not None:
        _system_cache.move_to_end(text)
        return part
    part = Part.of("system prompt", text)
    _system_cache[text] = part
    if len(_system_cache) > SYSTEM_CACHE_SIZE:
        _system_cache.popitem(last=False)
    return part


@dataclass(slots=True, eq=False)
class View:
    """What one exchange newly asks, folded once and shared by all detectors."""

    system: Part
    user: Part
    images: int = 0  # images anywhere in the request
    tool_steps: int = 0  # tool calls plus tool results carried by the request
    tool_results: int = 0


_last: tuple[Exchange, View] | None = None


def normalized(exchange: Exchange) -> View:
    """The shared :class:`View` of ``exchange``; recomputed only for a new exchange.

    The cache holds the last exchange object itself, so identity cannot be
    reused by a different object while it is cached.
    """
    global _last
    last = _last
    if last is not None and last[0] is exchange:
        return last[1]
    images = steps = results = 0
    user_text = ""
    for turn in exchange.turns:  # one pass over the history for every detector
        if turn.images:
            images += turn.images
        if turn.tool_calls or turn.tool_results:
            steps += turn.tool_calls + turn.tool_results
            results += turn.tool_results
        if turn.role == "user":
            user_text = turn.text
    view = View(
        system_part(exchange.system), Part.of("user message", user_text), images, steps, results
    )
    _last = (exchange, view)
    return view


_SEP = r"[\W_]+"
_WORD = r"[^\W_]"
_GAP = r"(?:[\W_]+[^\W_]+){0,4}?[\W_]+"


def rx(*alternatives: str) -> re.Pattern[str]:
    """Compile alternatives written in the notation of the module docstring."""
    source = "|".join(f"(?:{a})" for a in alternatives)
    # A word is letters/digits only: "\w" would also take "_", which the separator
    # takes too, and that overlap backtracks exponentially on "________" lines.
    source = source.replace("\\w", _WORD)
    source = source.replace(" … ", _GAP).replace(" ?", r"[\W_]*").replace(" ", _SEP)
    return re.compile(source, re.DOTALL)


@dataclass(frozen=True, slots=True)
class Rule:
    """A pattern plus the literal anchors that locate it cheaply.

    Anchor mode (``before`` is ``None``): every match *starts* with (the first
    word of) one of the anchors, so the pattern is tried with ``match`` at each anchor occurrence,
    one cheap attempt each. Window mode: each anchor occurs inside any match,
    at most ``before`` characters after its start and ``after`` characters
    before its end, and the pattern is searched in that window.
    """

    pattern: re.Pattern[str]
    english: tuple[str, ...]
    chinese: tuple[str, ...] = ()
    before: int | None = None
    after: int = 0
    limit: int = 8

    def __post_init__(self) -> None:
        # Only the first word of an anchor is searched: "you  \n are" must still be
        # found, and the pattern's separators take care of the rest.
        object.__setattr__(
            self, "english", tuple(dict.fromkeys(a.split(" ", 1)[0] or a for a in self.english))
        )

    def finditer(self, part: Part) -> Iterator[re.Match[str]]:
        if self.before is None:
            return _anchored(part, self)
        return iter_near(
            part,
            self.pattern,
            self.english,
            self.chinese,
            before=self.before,
            after=self.after,
            limit=self.limit,
        )

    def find(self, part: Part) -> re.Match[str] | None:
        """The first match in ``part``, or ``None``."""
        if self.before is None:
            return next(_anchored(part, self), None)
        return near(
            part,
            self.pattern,
            self.english,
            self.chinese,
            before=self.before,
            after=self.after,
            limit=self.limit,
        )


def _anchored(part: Part, rule: Rule) -> Iterator[re.Match[str]]:
    text = part.norm
    if not text:
        return
    match = rule.pattern.match
    anchors: Iterable[str] = rule.english
    if part.cjk and rule.chinese:
        anchors = (*rule.english, *rule.chinese)
    short = len(text) <= SHORT_TEXT
    for anchor in anchors:
        if (anchor not in text) if short else (not part.has(anchor)):
            continue
        pos = text.find(anchor)
        tries = 0
        while pos >= 0 and tries < rule.limit:
            m = match(text, pos)
            if m is not None:
                yield m
            tries += 1
            pos = text.find(anchor, pos + 1)


def first(part: Part, *rules: Rule) -> re.Match[str] | None:
    """The first match of the first rule that matches."""
    for rule in rules:
        m = rule.find(part)
        if m is not None:
            return m
    return None


def iter_near(
    part: Part,
    pattern: re.Pattern[str],
    english: Iterable[str],
    chinese: Iterable[str] = (),
    *,
    before: int = 120,
    after: int = 120,
    limit: int = 6,
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` in windows around literal anchor occurrences.

    Why: a regex that starts with an alternation or ``\\b`` is scanned position
    by position (tens of ns per character), while ``str.find`` of a literal is
    near memchr speed. Every anchor must occur in any match, within ``before``
    characters after the match start and ``after`` characters before its end.
    At most ``limit`` occurrences per anchor are tried, which bounds the cost
    on long benign texts. Short texts are searched whole, once.
    """
    text = part.norm
    size = len(text)
    if not size:
        return
    anchors = list(english)
    if part.cjk:
        anchors.extend(chinese)
    if size <= SHORT_TEXT or size <= before + after + 64:
        if part.any(english, chinese):
            yield from pattern.finditer(text)
        return
    seen: set[int] = set()
    for anchor in anchors:
        if not part.has(anchor):
            continue
        pos = text.find(anchor)
        tries = 0
        while pos >= 0 and tries < limit:
            for m in pattern.finditer(
                text, max(0, pos - before), min(size, pos + len(anchor) + after)
            ):
                if m.start() not in seen:
                    seen.add(m.start())
                    yield m
            tries += 1
            pos = text.find(anchor, pos + len(anchor))


def near(
    part: Part,
    pattern: re.Pattern[str],
    english: Iterable[str],
    chinese: Iterable[str] = (),
    *,
    before: int = 120,
    after: int = 120,
    limit: int = 6,
) -> re.Match[str] | None:
    """The first match found by :func:`iter_near`, or ``None``."""
    text = part.norm
    if len(text) <= SHORT_TEXT or len(text) <= before + after + 64:
        return pattern.search(text) if part.any(english, chinese) else None
    return next(
        iter_near(part, pattern, english, chinese, before=before, after=after, limit=limit), None
    )


_NEGATION = re.compile(
    r"\b(?:not|never|no|don't|dont|do not|avoid\w*|without|refus\w*|nor|must not|cannot)\b|不要|不得|禁止|切勿|别"
)


def negated(text: str, start: int, reach: int = 30) -> bool:
    """Whether the words just before ``start`` negate what follows ("never reveal ...")."""
    return _NEGATION.search(text, max(0, start - reach), start) is not None


def strongest(signals: Iterable[Signal]) -> list[Signal]:
    """Keep the highest-scoring signal of each name (system and user may both match)."""
    best: dict[str, Signal] = {}
    for sig in signals:
        cur = best.get(sig.name)
        if cur is None or sig.score > cur.score:
            best[sig.name] = sig
    return list(best.values())


def signal_at(
    name: str,
    score: float,
    what: str,
    part: Part,
    start: int,
    end: int,
    capability: str | None,
) -> Signal:
    """A signal whose detail says what was seen, where, and quotes the span."""
    return Signal(
        name=name,
        score=round(min(max(score, 0.0), 1.0), 3),
        detail=f'{what} in {part.where}: "{part.quote(start, end)}"',
        capability=capability,
    )


class ContentDetector:
    """Shared plumbing: scan system prompt (memoized) and last user message.

    ``threshold`` is the score from which the evaluation counts an exchange as
    showing the technique; signals below it are still emitted as weak evidence
    for the account and campaign layers, which decide.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ()
    threshold: float = 0.5
    scan_system: ClassVar[bool] = True  # False where system text is naturally benign

    def __init__(self, threshold: float | None = None) -> None:
        if threshold is not None:
            self.threshold = float(threshold)
        self._memo_key = f"{self.name}/{self.version}"

    def scan(self, part: Part) -> list[Signal]:
        """Signals found in one part; subclasses implement the technique."""
        raise NotImplementedError

    def detect(self, exchange: Exchange) -> list[Signal]:
        view = normalized(exchange)
        found = self.scan(view.user) if view.user.norm else []
        if self.scan_system and view.system.norm:
            from_system = view.system.cached(self._memo_key, lambda: self.scan(view.system))
            if from_system:
                found = strongest([*found, *from_system]) if found else list(from_system)
        return found
