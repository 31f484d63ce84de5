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
user message. Both are normalized once and kept in bounded LRUs (SaaS and
attack traffic reuse a few system prompts across thousands of requests, and
scripted traffic repeats user messages verbatim); every detector memoizes what
it found on the cached :class:`Part`, so a repeat costs a few dictionary lookups.

Speed comes from three exact shortcuts (the detectors' findings are the same as
with plain substring and regex scans; the content tests check this):

* Keywords are compiled into :class:`Keys`; a text gets the bit of every
  keyword it contains in one pass of an Aho-Corasick automaton
  (:class:`_Vocabulary`), so a detector whose trigger words are absent costs
  one integer ``&``.
* Regexes compiled by :func:`rx` are :class:`Finder` objects that try a pattern
  only where one of its literal starts occurs (``str.find``) instead of at
  every character.
* Rules (:class:`Rule`) try their pattern at or around the occurrences of
  anchor words only.

Patterns are written with a tiny notation compiled by :func:`rx`: a space
means "one or more non-word characters" (so markdown, JSON quotes and
punctuation between words do not matter), `` ?`` means "optionally such
characters" and `` … `` means "up to four filler words".
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from re import _constants as _rc
from re import _parser as _rp
from typing import Any, ClassVar

import ahocorasick

from distillwatch.detectors.base import Signal
from distillwatch.record import Exchange

__all__ = [
    "Part",
    "Keys",
    "keys",
    "View",
    "fold",
    "normalized",
    "system_part",
    "user_part",
    "rx",
    "fast",
    "Finder",
    "literal_starts",
    "quote",
    "strongest",
    "ContentDetector",
    "signal_at",
    "negated",
    "SENTENCE_BREAK",
    "sentence_bounds",
    "near",
    "iter_near",
    "Rule",
    "first",
    "QUOTE_CHARS",
    "SYSTEM_CACHE_SIZE",
    "USER_CACHE_SIZE",
    "SHORT_TEXT",
]

QUOTE_CHARS = 80
SHORT_TEXT = 1024  # below this, keyword checks skip the cache and regexes scan the whole text
SYSTEM_CACHE_SIZE = 1024  # system prompts remembered
SYSTEM_CACHE_CHARS = 32 << 20  # ... and characters they may hold together
USER_CACHE_SIZE = 4096  # user messages remembered for exact repeats
USER_CACHE_CHARS = 8 << 20  # ... and characters they may hold together

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


# --- keyword index -----------------------------------------------------------
#
# Every keyword a detector checks (a "needle") of two or more characters gets
# one bit, and all needles are compiled into one Aho-Corasick automaton
# (pyahocorasick, in C). A text's mask, the bits of every needle occurring in
# it, costs one pass of the automaton over the text, the same for words never
# seen before as for common ones; a keyword gate is then one ``&``. The mask is
# exact: bit set if and only if ``needle in text``. One-character needles are
# checked with ``in`` (they would match at nearly every position).

_MIN_NEEDLE = 2


def _indexable(needle: str) -> bool:
    return len(needle) >= _MIN_NEEDLE


class _Vocabulary:
    """The bit of every indexed needle, and the automaton that finds them all in one pass."""

    def __init__(self) -> None:
        self.bits: dict[str, int] = {}
        self._automaton: ahocorasick.Automaton | None = None

    def bit(self, needle: str) -> int:
        """The bit of an indexable ``needle``, registering it (and forgetting stale masks)."""
        found = self.bits.get(needle)
        if found is not None:
            return found
        found = self.bits[needle] = 1 << len(self.bits)
        self._automaton = None
        _forget_parts()
        return found

    def _compile(self) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for needle, bit in self.bits.items():
            automaton.add_word(needle, bit)
        automaton.make_automaton()
        self._automaton = automaton
        return automaton

    def mask(self, text: str) -> int:
        """Bits of the needles occurring anywhere in ``text``."""
        if not self.bits:
            return 0
        automaton = self._automaton or self._compile()
        mask = 0
        for _, bit in automaton.iter(text):
            mask |= bit
        return mask


_VOCAB = _Vocabulary()


def _indexed(needles: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Each indexable needle with its bit (registering new ones)."""
    return tuple((needle, _VOCAB.bit(needle)) for needle in needles if _indexable(needle))


def _union(indexed: tuple[tuple[str, int], ...]) -> int:
    bits = 0
    for _, bit in indexed:
        bits |= bit
    return bits


class Keys:
    """A compiled set of keywords: English ones as bits, Chinese ones counted only in CJK text.

    Why: detectors gate every rule on "does any of these words occur"; compiled
    once at import, that question costs one integer ``&`` per part. Chinese
    keywords are bits too, but only consulted when the text has CJK characters
    (as a reader of that language would). One-character keywords are checked
    with ``in``.
    """

    __slots__ = ("english", "chinese", "indexed", "bits", "chinese_bits", "short", "chinese_short")

    def __init__(self, english: Iterable[str] = (), chinese: Iterable[str] = ()) -> None:
        self.english: tuple[str, ...] = tuple(english)
        self.chinese: tuple[str, ...] = tuple(chinese)
        self.indexed: tuple[tuple[str, int], ...] = _indexed(self.english)
        self.bits = _union(self.indexed)
        self.chinese_bits = _union(_indexed(self.chinese))
        self.short: tuple[str, ...] = tuple(n for n in self.english if not _indexable(n))
        self.chinese_short: tuple[str, ...] = tuple(n for n in self.chinese if not _indexable(n))

    def __repr__(self) -> str:
        return f"Keys({self.english!r}, {self.chinese!r})"


def keys(*english: str, chinese: Iterable[str] = ()) -> Keys:
    """Shorthand for :class:`Keys`."""
    return Keys(english, chinese)


@dataclass(slots=True, eq=False)
class Part:
    """One piece of request text (system prompt or last user message), folded.

    ``aligned`` says the folded text has the original's offsets, so a quote can
    be cut from the original; otherwise the folded text is quoted. ``mask`` has
    the bit of every indexed keyword found (see :class:`Keys`).
    """

    where: str
    raw: str
    norm: str
    aligned: bool
    cjk: bool
    mask: int = 0
    memo: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, where: str, raw: str) -> Part:
        norm = fold(raw)
        cjk = not norm.isascii() and _CJK.search(norm) is not None
        mask = _VOCAB.mask(norm) if norm else 0
        return cls(where, raw, norm, len(norm) == len(raw), cjk, mask)

    def has(self, needle: str) -> bool:
        """Whether the folded text contains ``needle`` (an index lookup when it is indexed)."""
        bit = _VOCAB.bits.get(needle)
        if bit is not None:
            return self.mask & bit != 0
        return needle in self.norm

    def any(self, words: Keys) -> bool:
        """Cheap prefilter: any English keyword, or any Chinese one when CJK is present."""
        if not self.norm:
            return False
        mask = self.mask
        if mask & words.bits:
            return True
        norm = self.norm
        for needle in words.short:
            if needle in norm:
                return True
        if self.cjk:
            if mask & words.chinese_bits:
                return True
            for needle in words.chinese_short:
                if needle in norm:
                    return True
        return False

    def quote(self, start: int, end: int) -> str:
        """The matched span as the analyst will find it in the log, shortened."""
        source = self.raw if self.aligned else self.norm
        return quote(source[start:end])

    def cached(self, key: str, compute: Callable[[], list[Signal]]) -> list[Signal]:
        """Memoize a detector's findings on this part (pays off for cached parts)."""
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


class _PartCache:
    """A bounded LRU of folded parts keyed by their text, by entries and by characters held.

    Why: SaaS and attack traffic reuse a few system prompts across thousands of
    requests and scripted traffic repeats user messages verbatim; every
    detector's findings are memoized on the cached part. A text longer than a
    sixteenth of the character budget is folded but not kept.
    """

    __slots__ = ("where", "entries", "chars", "held", "parts")

    def __init__(self, where: str, entries: int, chars: int) -> None:
        self.where = where
        self.entries = entries
        self.chars = chars
        self.held = 0
        self.parts: OrderedDict[str, Part] = OrderedDict()

    def get(self, text: str) -> Part:
        parts = self.parts
        part = parts.get(text)
        if part is not None:
            parts.move_to_end(text)
            return part
        part = Part.of(self.where, text)
        size = len(text)
        if size <= self.chars // 16:
            parts[text] = part
            self.held += size
            while len(parts) > self.entries or self.held > self.chars:
                old, _ = parts.popitem(last=False)
                self.held -= len(old)
        return part

    def clear(self) -> None:
        self.parts.clear()
        self.held = 0

    def __len__(self) -> int:
        return len(self.parts)

    def __contains__(self, text: object) -> bool:
        return text in self.parts


_system_cache = _PartCache("system prompt", SYSTEM_CACHE_SIZE, SYSTEM_CACHE_CHARS)
_user_cache = _PartCache("user message", USER_CACHE_SIZE, USER_CACHE_CHARS)


def _forget_parts() -> None:
    """Drop cached parts: their masks predate a keyword registered since."""
    global _last
    _system_cache.clear()
    _user_cache.clear()
    _last = None


def system_part(text: str) -> Part:
    """The folded system prompt, from a bounded LRU keyed by the prompt text."""
    return _system_cache.get(text) if text else _EMPTY_SYSTEM


def user_part(text: str) -> Part:
    """The folded user message, from a bounded LRU keyed by the message text."""
    return _user_cache.get(text) if text else _EMPTY_USER


@dataclass(slots=True, eq=False)
class View:
    """What one exchange newly asks, folded once and shared by all detectors."""

    system: Part
    user: Part
    images: int = 0  # images anywhere in the request
    tool_steps: int = 0  # tool calls plus tool results carried by the request
    tool_results: int = 0


_last: tuple[Exchange, View] | None = None
_EMPTY_SYSTEM = Part.of("system prompt", "")
_EMPTY_USER = Part.of("user message", "")


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
    view = View(system_part(exchange.system), user_part(user_text), images, steps, results)
    _last = (exchange, view)
    return view


_SEP = r"[\W_]+"
_WORD = r"[^\W_]"
_GAP = r"(?:[\W_]+[^\W_]+){0,4}?[\W_]+"

# --- literal starts ----------------------------------------------------------
#
# A regex that starts with an alternation is tried by ``re`` at every position
# of the text, hundreds of instructions per character. Most detector patterns
# can only start with one of a few literal strings ("\b(?:reveal|print|...)"),
# so :class:`Finder` reads those strings off the parsed pattern, finds their
# occurrences with ``str.find`` (memchr speed) and tries the pattern only there,
# leftmost first: the same match ``re`` would return, for a fraction of the cost.

_PREFIX_CHARS = 12  # longest literal start kept
_PREFIX_SET = 64  # most literal starts kept (beyond: a shorter common start)
_CLASS_CHARS = 8  # a character class with at most this many characters is expanded
_SCAN_PER_START = 4  # below this many characters per literal start, scan with the regex
_ZERO_WIDTH = {_rc.AT, _rc.ASSERT, _rc.ASSERT_NOT}
_REPEATS = {_rc.MAX_REPEAT, _rc.MIN_REPEAT, _rc.POSSESSIVE_REPEAT}


def _class_chars(items: list[tuple[Any, Any]]) -> list[str] | None:
    chars: list[str] = []
    for op, av in items:
        if op is _rc.LITERAL:
            chars.append(chr(av))
        elif op is _rc.RANGE and av[1] - av[0] < _CLASS_CHARS:
            chars.extend(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return None  # negated, categories, wide ranges
    return chars if len(chars) <= _CLASS_CHARS else None


def _starts(seq: list[tuple[Any, Any]], acc: str) -> set[str] | None:
    """Literal strings (``acc`` plus what follows) one of which every match of ``seq`` starts with.

    None when some match may start with a character that is not pinned down (or
    be empty). Any shorter start is also correct, so the walk stops early wherever
    the pattern gets complicated.
    """
    i = 0
    while i < len(seq) and len(acc) < _PREFIX_CHARS:
        op, av = seq[i]
        if op is _rc.LITERAL:
            acc += chr(av)
            i += 1
        elif op in _ZERO_WIDTH:  # anchors and lookarounds consume nothing
            i += 1
        elif op is _rc.SUBPATTERN and not av[1] & re.IGNORECASE:
            seq = [*av[3], *seq[i + 1 :]]
            i = 0
        elif op is _rc.BRANCH or op is _rc.IN:
            rest = seq[i + 1 :]
            if op is _rc.BRANCH:
                paths = [[*alt, *rest] for alt in av[1]]
                heads = [acc] * len(paths)
            else:
                chars = _class_chars(av)
                if chars is None:
                    break
                paths = [rest] * len(chars)
                heads = [acc + c for c in chars]
            out: set[str] = set()
            for head, path in zip(heads, paths, strict=True):
                found = _starts(path, head)
                if found is None:
                    return None
                out |= found
            return _collapse(out, acc)
        elif op in _REPEATS:
            low, _, item = av
            once = _starts(list(item), acc)  # one occurrence; what follows it is not followed
            if low >= 1 or once is None:
                return once if low >= 1 else None
            skip = _starts(seq[i + 1 :], acc)
            if skip is None:
                return None
            return _collapse(once | skip, acc)
        else:
            break
    return {acc} if acc else None


def _collapse(starts: set[str], acc: str) -> set[str] | None:
    """At most ``_PREFIX_SET`` starts: shorten them all (still correct) until few enough."""
    size = max(map(len, starts))
    while len(starts) > _PREFIX_SET and size > len(acc) + 1:
        size -= 1
        starts = {s[:size] for s in starts}
    if len(starts) <= _PREFIX_SET:
        return starts
    return {acc} if acc else None


def literal_starts(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """The literal strings every match of ``pattern`` starts with, or None if there are none."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        found = _starts(list(_rp.parse(pattern.pattern, pattern.flags)), "")
    except (re.error, TypeError, ValueError):
        return None
    if not found:
        return None
    ordered = sorted(found, key=len)
    kept: list[str] = []
    for start in ordered:  # "here" makes "here is" redundant
        if not any(start.startswith(k) for k in kept):
            kept.append(start)
    return tuple(kept)


class Finder:
    """A compiled pattern whose ``search``/``finditer`` only try where a literal start occurs.

    Results are exactly those of :class:`re.Pattern` (leftmost match, same
    backtracking); ``match`` and ``findall`` are the pattern's own. When the
    literal starts occur too often to pay off, the plain regex scan is used.
    """

    __slots__ = ("pattern", "starts", "match", "findall")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.starts = literal_starts(pattern)
        self.match = pattern.match
        self.findall = pattern.findall

    def _candidates(self, text: str, pos: int, end: int) -> list[int] | None:
        """Sorted start positions in [pos, end), or None when a plain scan is cheaper."""
        starts = self.starts
        if starts is None or end - pos < _SCAN_PER_START * len(starts):
            return None  # a short text: one regex scan costs less than a find per start
        budget = (end - pos) // 16 + 4
        found: list[int] = []
        find = text.find
        for start in starts:
            at = find(start, pos, end)
            while at >= 0:
                found.append(at)
                if len(found) > budget:
                    return None
                at = find(start, at + 1, end)
        if len(starts) > 1:
            found.sort()
        return found

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        end = len(text) if endpos is None else min(endpos, len(text))
        found = self._candidates(text, pos, end)
        if found is None:
            return self.pattern.search(text, pos, end)
        match = self.pattern.match
        for at in found:
            m = match(text, at, end)
            if m is not None:
                return m
        return None

    def finditer(
        self, text: str, pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        end = len(text) if endpos is None else min(endpos, len(text))
        found = self._candidates(text, pos, end)
        if found is None:
            yield from self.pattern.finditer(text, pos, end)
            return
        match = self.pattern.match
        resume = pos
        for at in found:
            if at < resume:  # inside the previous match (literal starts are never empty)
                continue
            m = match(text, at, end)
            if m is not None:
                yield m
                resume = m.end()


def fast(pattern: re.Pattern[str]) -> Finder:
    """Wrap a compiled pattern (see :class:`Finder`)."""
    return Finder(pattern)


def rx(*alternatives: str) -> Finder:
    """Compile alternatives written in the notation of the module docstring."""
    source = "|".join(f"(?:{a})" for a in alternatives)
    # A word is letters/digits only: "\w" would also take "_", which the separator
    # takes too, and that overlap backtracks exponentially on "________" lines.
    source = source.replace("\\w", _WORD)
    source = source.replace(" … ", _GAP).replace(" ?", r"[\W_]*").replace(" ", _SEP)
    return Finder(re.compile(source, re.DOTALL))


@dataclass(frozen=True, slots=True)
class Rule:
    """A pattern plus the literal anchors that locate it cheaply.

    Anchor mode (``before`` is ``None``): every match *starts* with (the first
    word of) one of the anchors, so the pattern is tried with ``match`` at each anchor occurrence,
    one cheap attempt each. Window mode: each anchor occurs inside any match,
    at most ``before`` characters after its start and ``after`` characters
    before its end, and the pattern is searched in that window.
    """

    pattern: Finder | re.Pattern[str]
    english: tuple[str, ...]
    chinese: tuple[str, ...] = ()
    before: int | None = None
    after: int = 0
    limit: int = 8
    words: Keys = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Only the first word of an anchor is searched: "you  \n are" must still be
        # found, and the pattern's separators take care of the rest.
        english = tuple(dict.fromkeys(a.split(" ", 1)[0] or a for a in self.english))
        object.__setattr__(self, "english", english)
        object.__setattr__(self, "words", Keys(english, self.chinese))

    def finditer(self, part: Part) -> Iterator[re.Match[str]]:
        if self.before is None:
            return _anchored(part, self)
        return iter_near(
            part, self.pattern, self.words, before=self.before, after=self.after, limit=self.limit
        )

    def find(self, part: Part) -> re.Match[str] | None:
        """The first match in ``part``, or ``None``."""
        if self.before is None:
            return next(_anchored(part, self), None)
        return near(
            part, self.pattern, self.words, before=self.before, after=self.after, limit=self.limit
        )


def _anchored(part: Part, rule: Rule) -> Iterator[re.Match[str]]:
    if not part.any(rule.words):
        return
    text = part.norm
    match = rule.pattern.match
    anchors: Iterable[str] = rule.english
    if part.cjk and rule.chinese:
        anchors = (*rule.english, *rule.chinese)
    for anchor in anchors:
        if not part.has(anchor):
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
    pattern: Finder | re.Pattern[str],
    words: Keys,
    *,
    before: int = 120,
    after: int = 120,
    limit: int = 6,
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` in windows around literal anchor occurrences.

    Why: a regex that starts with an alternation or ``\\b`` is scanned position
    by position (tens of ns per character), while ``str.find`` of a literal is
    near memchr speed. Every anchor (a word of ``words``) must occur in any
    match, within ``before`` characters after the match start and ``after``
    characters before its end. At most ``limit`` occurrences per anchor are
    tried, which bounds the cost on long benign texts. Short texts are searched
    whole, once.
    """
    if not part.any(words):
        return
    text = part.norm
    size = len(text)
    if size <= SHORT_TEXT or size <= before + after + 64:
        yield from pattern.finditer(text)
        return
    anchors: Iterable[str] = words.english
    if part.cjk:
        anchors = (*words.english, *words.chinese)
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
    pattern: Finder | re.Pattern[str],
    words: Keys,
    *,
    before: int = 120,
    after: int = 120,
    limit: int = 6,
) -> re.Match[str] | None:
    """The first match found by :func:`iter_near`, or ``None``."""
    if not part.any(words):
        return None
    text = part.norm
    if len(text) <= SHORT_TEXT or len(text) <= before + after + 64:
        return pattern.search(text)
    return next(iter_near(part, pattern, words, before=before, after=after, limit=limit), None)


_NEGATION = fast(
    re.compile(
        r"\b(?:not|never|no|don't|dont|do not|avoid\w*|without|refus\w*|nor|must not|cannot)\b|不要|不得|禁止|切勿|别"
    )
)


SENTENCE_BREAK = re.compile(
    r"[!?;]|\.(?!\d)|\n\s*\n"
)  # a sentence end (not a decimal point), a blank line


def sentence_bounds(text: str, start: int, end: int, reach: int = 120) -> tuple[int, int]:
    """Bounds of the sentence(s) holding ``text[start:end]``, looking at most ``reach`` characters out.

    Why: a mechanism rule pairs words that must belong to one request ("reconstruct"
    ... "the reasoning"), not to a request and the task pasted after it.
    """
    lo = max(0, start - reach)
    ends = [b.end() for b in SENTENCE_BREAK.finditer(text, lo, start)]
    if ends:
        lo = ends[-1]
    stop = SENTENCE_BREAK.search(text, end, end + reach)
    return lo, (stop.start() if stop is not None else min(len(text), end + reach))


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
    """Shared plumbing: scan system prompt and last user message, memoized on each part.

    ``threshold`` is the score from which the evaluation counts an exchange as
    showing the technique; signals below it are still emitted as weak evidence
    for the account and campaign layers, which decide. ``triggers`` are words
    without which :meth:`scan` cannot find anything: a part that has none of
    them costs one bit test (most benign text). ``scan`` must depend on the part
    only, since its result is memoized on the (cached) part.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    signals: ClassVar[tuple[str, ...]] = ()
    threshold: float = 0.5
    scan_system: ClassVar[bool] = True  # False where system text is naturally benign
    triggers: ClassVar[Keys | None] = None  # None: scan every part

    def __init__(self, threshold: float | None = None) -> None:
        if threshold is not None:
            self.threshold = float(threshold)
        self._memo_key = f"{self.name}/{self.version}"
        triggers = self.triggers
        # Unless some one-character trigger must be looked up, one bit test decides for
        # non-CJK text: no trigger word occurs.
        self._bits = triggers.bits if triggers is not None and not triggers.short else None

    def scan(self, part: Part) -> list[Signal]:
        """Signals found in one part; subclasses implement the technique."""
        raise NotImplementedError

    def _scan_part(self, part: Part) -> list[Signal]:
        """Findings in ``part``, memoized on it; quiet parts cost a bit test."""
        memo = part.memo
        found = memo.get(self._memo_key)
        if found is None:
            bits = self._bits
            if bits is not None and not (part.mask & bits or part.cjk):
                found = []
            else:
                triggers = self.triggers
                if part.norm and (triggers is None or part.any(triggers)):
                    found = self.scan(part)
                else:
                    found = []
            memo[self._memo_key] = found
        return found

    def detect(self, exchange: Exchange) -> list[Signal]:
        last = _last
        view = last[1] if last is not None and last[0] is exchange else normalized(exchange)
        found = self._scan_part(view.user)
        if self.scan_system and view.system.norm:
            from_system = self._scan_part(view.system)
            if from_system:
                return strongest([*found, *from_system]) if found else list(from_system)
        return list(found) if found else []
