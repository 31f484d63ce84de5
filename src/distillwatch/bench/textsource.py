"""Where distillbench gets its words and its clocks.

Every population and campaign draws text from named *pools* (multi-turn chats,
hard prompts, coding tasks, math problems with worked solutions, tool tasks with
function schemas, judge templates, ...) and timing from *rate curves* and
*length samples*. Two sources implement the same :class:`TextSource` protocol:

* :class:`CorporaSource` reads the public corpora folder at run time, so the
  benchmark is grounded in real conversations and real production traces
  without any corpus text living in this repository;
* :class:`BuiltinSource` synthesises small, original texts from templates, so
  ``distillwatch demo`` and the unit tests run with no external data at all.

Items are addressed by ``(pool, index)`` and never change for a given source,
which is what makes generation deterministic for a seed.
"""

from __future__ import annotations

import gzip
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson

__all__ = [
    "POOLS",
    "TextItem",
    "RateCurve",
    "TextSource",
    "CorporaSource",
    "BuiltinSource",
    "CorporaMissingError",
]

#: Pool names every source provides.
POOLS: tuple[str, ...] = (
    "chat",  # benign multi-turn conversations (user first)
    "redteam_chat",  # benign multi-turn dialogs with edgy human turns
    "prompt",  # hard single prompts of real users
    "code",  # coding instruction + reference answer
    "roleplay",  # instruction + answer
    "math",  # word problem + worked solution (meta.final_answer)
    "tool",  # user query + function schemas
    "judge",  # LLM-as-judge template (system + user with {placeholders})
    "answer",  # stand-alone assistant answers, used as plausible response text
)

# Long texts are cut on load: they only inflate the log, and clients cut history too.
_MAX_MESSAGE_CHARS = 2000
_MAX_MESSAGES = 12
_WINDOWS_14_DAYS = 2016


class CorporaMissingError(FileNotFoundError):
    """The corpora folder (or one of its files) is not where it was said to be."""


@dataclass(slots=True, frozen=True)
class TextItem:
    """One record of a pool: messages in ``{"role", "content"}`` form, plus tools."""

    messages: tuple[dict[str, str], ...]
    tools: tuple[dict[str, Any], ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def first(self, role: str) -> str:
        """Text of the first message with this role ("" if none)."""
        for msg in self.messages:
            if msg["role"] == role:
                return msg["content"]
        return ""


@dataclass(slots=True, frozen=True)
class RateCurve:
    """Request rate of one production client over 14 days in 10-minute windows."""

    name: str
    rates: tuple[float, ...]  # 2016 non-negative values; only the shape matters
    mean_input_tokens: float | None = None
    mean_output_tokens: float | None = None

    @property
    def active_share(self) -> float:
        return sum(1 for r in self.rates if r > 0) / max(1, len(self.rates))


@runtime_checkable
class TextSource(Protocol):
    """What the generator needs: addressable text pools and timing shapes."""

    name: str

    def size(self, pool: str) -> int: ...

    def item(self, pool: str, index: int) -> TextItem: ...

    def rate_curves(self) -> Sequence[RateCurve]: ...

    def length_samples(self) -> Sequence[tuple[int, int]]:
        """(input_tokens, output_tokens) pairs of real requests."""
        ...

    def arrival_gaps(self) -> Sequence[float]:
        """Seconds between consecutive requests of a busy production workload."""
        ...


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[:_MAX_MESSAGE_CHARS]


def _iter_jsonl_gz(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


class CorporaSource:
    """Pools read lazily from the corpora folder described in its README."""

    _FILES: dict[str, tuple[str, ...]] = {
        "chat": ("benign/sharegpt.jsonl.gz",),
        "redteam_chat": ("benign/hh_rlhf_harmless_test.jsonl.gz",),
        "prompt": ("benign/arena_hard_v01.jsonl.gz",),
        "code": ("distill/gpteacher_codegen.jsonl.gz",),
        "roleplay": ("distill/gpteacher_roleplay.jsonl.gz",),
        "math": ("distill/gsm8k_train.jsonl.gz",),
        "tool": ("distill/bfcl.jsonl.gz",),
        "judge": (
            "judge/fastchat_judge_prompts.jsonl.gz",
            "judge/ultrafeedback_templates.jsonl.gz",
        ),
    }
    _TIMING = ("timing/servegen_clients.jsonl.gz", "timing/mooncake_conversation.jsonl.gz")

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.name = f"corpora:{self.root}"
        missing = [
            rel
            for rels in (*self._FILES.values(), self._TIMING)
            for rel in rels
            if not (self.root / rel).is_file()
        ]
        if missing:
            raise CorporaMissingError(
                f"corpora folder {self.root} is missing {', '.join(missing[:3])}"
                + (" ..." if len(missing) > 3 else "")
                + " (pass --corpora DIR, or --builtin for the small synthetic texts)"
            )
        self._pools: dict[str, list[TextItem]] = {}
        self._curves: list[RateCurve] | None = None
        self._lengths: list[tuple[int, int]] | None = None
        self._gaps: list[float] | None = None

    # -- pools ------------------------------------------------------------
    def _load(self, pool: str) -> list[TextItem]:
        if pool in self._pools:
            return self._pools[pool]
        if pool == "answer":
            items = self._answers()
        elif pool in self._FILES:
            items = []
            for rel in self._FILES[pool]:
                for rec in _iter_jsonl_gz(self.root / rel):
                    item = self._to_item(pool, rec)
                    if item is not None:
                        items.append(item)
        else:
            raise KeyError(f"unknown pool {pool!r}")
        if not items:
            raise CorporaMissingError(f"pool {pool!r} is empty in {self.root}")
        self._pools[pool] = items
        return items

    @staticmethod
    def _to_item(pool: str, rec: dict[str, Any]) -> TextItem | None:
        msgs = [
            {"role": m["role"], "content": _clip(m["content"])}
            for m in rec.get("messages", [])
            if m.get("content")
        ]
        if pool in ("chat", "redteam_chat"):
            system = [m for m in msgs if m["role"] == "system"]
            rest = [m for m in msgs if m["role"] != "system"]
            while rest and rest[0]["role"] != "user":
                rest.pop(0)
            # keep strict user/assistant alternation so replays are well formed
            clean: list[dict[str, str]] = []
            for m in rest:
                if clean and clean[-1]["role"] == m["role"]:
                    clean[-1] = {
                        "role": m["role"],
                        "content": _clip(clean[-1]["content"] + "\n" + m["content"]),
                    }
                else:
                    clean.append(m)
            clean = clean[:_MAX_MESSAGES]
            if len(clean) < 2:
                return None
            msgs = system[:1] + clean
        if not any(m["role"] == "user" for m in msgs):
            return None
        tools = tuple(rec.get("tools") or ())
        meta = dict(rec.get("meta") or {})
        return TextItem(messages=tuple(msgs), tools=tools, meta=meta)

    def _answers(self) -> list[TextItem]:
        out: list[TextItem] = []
        for item in self._load("chat"):
            for m in item.messages:
                if m["role"] == "assistant" and len(m["content"]) >= 200:
                    out.append(TextItem(messages=(m,)))
                    break
        return out

    def size(self, pool: str) -> int:
        return len(self._load(pool))

    def item(self, pool: str, index: int) -> TextItem:
        items = self._load(pool)
        return items[index % len(items)]

    # -- timing -----------------------------------------------------------
    def rate_curves(self) -> list[RateCurve]:
        if self._curves is None:
            curves = []
            for rec in _iter_jsonl_gz(self.root / self._TIMING[0]):
                windows = rec.get("windows") or []
                if len(windows) < _WINDOWS_14_DAYS:
                    continue
                rates = tuple(float(w[1]) for w in windows[:_WINDOWS_14_DAYS])
                curve = RateCurve(
                    name=str(rec.get("client_id")),
                    rates=rates,
                    mean_input_tokens=rec.get("mean_input_tokens"),
                    mean_output_tokens=rec.get("mean_output_tokens"),
                )
                # steady API clients only: active in at least a third of all windows
                if curve.active_share >= 0.33:
                    curves.append(curve)
            if not curves:
                raise CorporaMissingError("no usable 14-day client traces in servegen_clients")
            self._curves = curves
        return self._curves

    def _mooncake(self) -> None:
        rows = list(_iter_jsonl_gz(self.root / self._TIMING[1]))
        self._lengths = [(int(r["input_length"]), int(r["output_length"])) for r in rows]
        stamps = sorted(int(r["timestamp_ms"]) for r in rows)
        self._gaps = [(b - a) / 1000.0 for a, b in zip(stamps, stamps[1:], strict=False)]

    def length_samples(self) -> list[tuple[int, int]]:
        if self._lengths is None:
            self._mooncake()
        assert self._lengths is not None
        return self._lengths

    def arrival_gaps(self) -> list[float]:
        if self._gaps is None:
            self._mooncake()
        assert self._gaps is not None
        return self._gaps


# ---------------------------------------------------------------------------
# Built-in synthetic texts: original templates, no external data.
# ---------------------------------------------------------------------------

_NAMES = [
    "Ava",
    "Ben",
    "Chen",
    "Dara",
    "Emeka",
    "Farah",
    "Goran",
    "Hana",
    "Ivan",
    "Jules",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tomas",
]
_ITEMS = ["apples", "stickers", "marbles", "books", "cupcakes", "pencils", "tickets", "plants"]
_TOPICS = [
    "a trip to Lisbon",
    "sourdough baking",
    "marathon training",
    "a job interview",
    "learning the guitar",
    "houseplants that survive low light",
    "a birthday party for a seven year old",
    "saving for a first apartment",
    "writing a cover letter",
    "the history of the printing press",
    "why the sky is blue",
    "composting at home",
    "choosing a used car",
    "getting better sleep",
    "planning a vegetable garden",
]
_LANGS = ["Python", "JavaScript", "Go", "Rust", "Java", "TypeScript", "C#", "SQL"]
_CODE_TASKS = [
    ("reverses the words in a sentence", "reverse_words"),
    ("checks whether a string is a palindrome", "is_palindrome"),
    ("merges two sorted lists", "merge_sorted"),
    ("counts the vowels in a string", "count_vowels"),
    ("returns the n-th Fibonacci number", "fibonacci"),
    ("removes duplicates from a list while keeping order", "dedupe"),
    ("parses a date like 2024-03-01 and returns the weekday", "weekday_of"),
    ("flattens a nested list", "flatten"),
    ("computes the median of a list of numbers", "median"),
    ("validates an e-mail address with a simple rule", "looks_like_email"),
]
_HARD = [
    "Explain the trade-offs between {a} and {b} for a team of five engineers.",
    "Design a {system} that can handle ten thousand requests per second. Describe the data model.",
    "Write a short story in which {topic} turns out to matter more than expected.",
    "Compare {a} with {b} and recommend one for a small startup, with reasons.",
    "What are common mistakes people make with {topic}, and how can they be avoided?",
]
_TECH = [
    "PostgreSQL",
    "MongoDB",
    "Kafka",
    "RabbitMQ",
    "REST",
    "GraphQL",
    "Kubernetes",
    "serverless functions",
    "a monolith",
    "microservices",
    "Redis",
    "SQLite",
]
_SYSTEMS = [
    "URL shortener",
    "chat backend",
    "rate limiter",
    "photo sharing service",
    "job queue",
    "leaderboard",
    "notification service",
]
_ROLES = [
    "lighthouse keeper",
    "starship engineer",
    "medieval baker",
    "museum guide",
    "detective in 1920s Chicago",
    "marine biologist",
    "travelling musician",
]
_TOOL_SPECS: list[dict[str, Any]] = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name."},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
    {
        "name": "search_flights",
        "description": "Find flights between two airports on a date.",
        "parameters": {
            "type": "object",
            "properties": {
                "origin": {"type": "string"},
                "destination": {"type": "string"},
                "date": {"type": "string", "description": "YYYY-MM-DD"},
            },
            "required": ["origin", "destination", "date"],
        },
    },
    {
        "name": "convert_currency",
        "description": "Convert an amount between currencies.",
        "parameters": {
            "type": "object",
            "properties": {
                "amount": {"type": "number"},
                "from_currency": {"type": "string"},
                "to_currency": {"type": "string"},
            },
            "required": ["amount", "from_currency", "to_currency"],
        },
    },
    {
        "name": "create_event",
        "description": "Create a calendar event.",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "start": {"type": "string"},
                "duration_minutes": {"type": "integer"},
            },
            "required": ["title", "start"],
        },
    },
    {
        "name": "query_orders",
        "description": "Look up orders of a customer.",
        "parameters": {
            "type": "object",
            "properties": {"customer_id": {"type": "string"}, "status": {"type": "string"}},
            "required": ["customer_id"],
        },
    },
    {
        "name": "get_stock_price",
        "description": "Latest price of a stock ticker.",
        "parameters": {
            "type": "object",
            "properties": {"ticker": {"type": "string"}},
            "required": ["ticker"],
        },
    },
]
_TOOL_QUERIES = {
    "get_weather": "What's the weather like in {city} right now?",
    "search_flights": "Find me a flight from {a} to {b} on 2026-03-{d:02d}.",
    "convert_currency": "How much is {n} euros in Japanese yen?",
    "create_event": "Put a meeting called '{t}' on my calendar tomorrow at {h}:00.",
    "query_orders": "Show the open orders of customer C-{n}.",
    "get_stock_price": "What is the latest price of ticker {tk}?",
}
_CITIES = ["Oslo", "Nairobi", "Lima", "Osaka", "Porto", "Denver", "Hanoi", "Tbilisi"]
_AIRPORTS = ["LIS", "JFK", "NRT", "CDG", "GRU", "SIN", "SYD", "AMS"]


def _builtin_math(rng: random.Random) -> TextItem:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    a, b, c = rng.randint(5, 60), rng.randint(2, 40), rng.randint(1, 9)
    kind = rng.randrange(4)
    if kind == 0:
        q = f"{name} has {a} {item}. {name} buys {b} more and then gives {c} to a friend. How many {item} does {name} have now?"
        r = a + b - c
        sol = f"After buying, {name} has {a} + {b} = {a + b} {item}.\nAfter giving {c} away, {a + b} - {c} = {r}.\n#### {r}"
    elif kind == 1:
        q = f"A box holds {c} {item}. {name} fills {b} boxes. How many {item} is that in total?"
        r = b * c
        sol = f"Each box holds {c}, so {b} boxes hold {b} * {c} = {r} {item}.\n#### {r}"
    elif kind == 2:
        price = rng.randint(2, 15)
        q = f"{name} sells {a} {item} at ${price} each and spends ${b} on supplies. What is the profit?"
        r = a * price - b
        sol = f"Revenue is {a} * {price} = ${a * price}.\nProfit is {a * price} - {b} = ${r}.\n#### {r}"
    else:
        total = a * c
        q = f"{name} shares {total} {item} equally among {c} friends. How many does each friend get?"
        sol = f"Each friend gets {total} / {c} = {a} {item}.\n#### {a}"
        r = a
    return TextItem(
        messages=({"role": "user", "content": q}, {"role": "assistant", "content": sol}),
        meta={"final_answer": str(r)},
    )


def _builtin_answer(rng: random.Random, topic: str) -> str:
    points = rng.sample(
        [
            "Start small and keep notes of what works.",
            "Set aside a fixed time each week so it becomes a habit.",
            "Ask someone who has done it before for one concrete tip.",
            "Budget a little more time than you expect for the first attempt.",
            "Check local rules or requirements before you commit to anything.",
            "Compare at least three options side by side before choosing.",
            "Write down the goal in one sentence so you can measure progress.",
        ],
        3,
    )
    body = "\n".join(f"{i + 1}. {p}" for i, p in enumerate(points))
    return f"Here are a few practical ideas about {topic}:\n\n{body}\n\nLet me know if you want more detail on any of these."


def _builtin_chat(rng: random.Random) -> TextItem:
    topic = rng.choice(_TOPICS)
    openers = [
        f"Can you give me some advice about {topic}?",
        f"I need help with {topic}. Where do I start?",
        f"hey, quick question about {topic}",
        f"What should I know about {topic}?",
    ]
    follow = [
        "Can you make that shorter?",
        "Thanks! Can you give an example?",
        "What would you do first?",
        "Can you explain the second point step by step?",
        "ok and what if I only have a weekend?",
        "Could you put that in a table?",
    ]
    msgs: list[dict[str, str]] = [
        {"role": "user", "content": rng.choice(openers)},
        {"role": "assistant", "content": _builtin_answer(rng, topic)},
    ]
    for q in rng.sample(follow, rng.randint(0, 3)):
        msgs.append({"role": "user", "content": q})
        msgs.append({"role": "assistant", "content": _builtin_answer(rng, topic)})
    return TextItem(messages=tuple(msgs))


def _builtin_code(rng: random.Random) -> TextItem:
    lang = rng.choice(_LANGS)
    task, fn = rng.choice(_CODE_TASKS)
    q = f"Write a {lang} function that {task}."
    if rng.random() < 0.4:
        q += f"\n\nExample input: {rng.choice(['[3, 1, 2]', 'hello world', '10', 'racecar'])}"
    code = (
        f'def {fn}(value):\n    """{task.capitalize()}."""\n    result = value\n    return result\n'
    )
    ans = f"Here is a simple version in {lang} style pseudocode:\n\n```\n{code}```\n\nIt runs in linear time."
    return TextItem(
        messages=({"role": "user", "content": q}, {"role": "assistant", "content": ans})
    )


def _builtin_prompt(rng: random.Random) -> TextItem:
    a, b = rng.sample(_TECH, 2)
    q = rng.choice(_HARD).format(a=a, b=b, system=rng.choice(_SYSTEMS), topic=rng.choice(_TOPICS))
    return TextItem(messages=({"role": "user", "content": q},), meta={"category": "builtin-hard"})


def _builtin_roleplay(rng: random.Random) -> TextItem:
    role = rng.choice(_ROLES)
    q = f"Imagine you are a {role}. Describe an ordinary morning at work in a few sentences."
    ans = (
        f"As a {role}, my morning starts before sunrise. I check my tools, greet the people "
        "I work with, and make a plan for the day. Small routines keep everything on track."
    )
    return TextItem(
        messages=({"role": "user", "content": q}, {"role": "assistant", "content": ans})
    )


def _builtin_tool(rng: random.Random) -> TextItem:
    specs = rng.sample(_TOOL_SPECS, rng.randint(1, 3))
    target = specs[0]["name"]
    q = _TOOL_QUERIES[target].format(
        city=rng.choice(_CITIES),
        a=rng.choice(_AIRPORTS),
        b=rng.choice(_AIRPORTS),
        d=rng.randint(1, 28),
        n=rng.randint(10, 9999),
        t=rng.choice(["Sync", "Budget review", "1:1"]),
        h=rng.randint(8, 17),
        tk=rng.choice(["ACME", "GLOBX", "INIT"]),
    )
    tools = tuple({"type": "function", "function": s} for s in specs)
    return TextItem(messages=({"role": "user", "content": q},), tools=tools)


_BUILTIN_JUDGES: tuple[TextItem, ...] = (
    TextItem(
        messages=(
            {
                "role": "system",
                "content": "You review answers written by an assistant. Be fair, "
                "brief and consistent. Give a score from 1 to 10 and explain it in two sentences.",
            },
            {
                "role": "user",
                "content": "Question:\n{question}\n\nAnswer to review:\n{answer}\n\n"
                "Reply with 'Score: N' on the last line.",
            },
        ),
        meta={"placeholders": ["question", "answer"]},
    ),
    TextItem(
        messages=(
            {
                "role": "system",
                "content": "Compare two answers to the same question and decide "
                "which one is more helpful and correct. Ignore length and order.",
            },
            {
                "role": "user",
                "content": "Question:\n{question}\n\nFirst answer:\n{answer_a}\n\n"
                "Second answer:\n{answer_b}\n\nEnd with [[1]], [[2]] or [[tie]].",
            },
        ),
        meta={"placeholders": ["question", "answer_a", "answer_b"]},
    ),
    TextItem(
        messages=(
            {
                "role": "system",
                "content": "Rate the text on clarity, accuracy and tone, each from "
                "1 to 5, using the rubric you are given.",
            },
            {
                "role": "user",
                "content": "Rubric: 5 = excellent, 3 = acceptable, 1 = poor.\n\n"
                "Instruction:\n{instruction}\n\nText:\n{text_1}\n\nReturn JSON with the three ratings.",
            },
        ),
        meta={"placeholders": ["instruction", "text_1"]},
    ),
)


class BuiltinSource:
    """Small original texts from templates: no files, no network, always available."""

    name = "builtin"
    _SIZES = {
        "chat": 240,
        "redteam_chat": 60,
        "prompt": 120,
        "code": 160,
        "roleplay": 60,
        "math": 240,
        "tool": 160,
        "answer": 120,
    }

    def __init__(self) -> None:
        self._pools: dict[str, list[TextItem]] = {}
        self._curves: list[RateCurve] | None = None
        self._lengths: list[tuple[int, int]] | None = None

    def _load(self, pool: str) -> list[TextItem]:
        if pool in self._pools:
            return self._pools[pool]
        if pool == "judge":
            items = list(_BUILTIN_JUDGES)
        else:
            if pool not in self._SIZES:
                raise KeyError(f"unknown pool {pool!r}")
            rng = random.Random(f"builtin:{pool}")
            make = {
                "chat": _builtin_chat,
                "redteam_chat": _builtin_chat,
                "prompt": _builtin_prompt,
                "code": _builtin_code,
                "roleplay": _builtin_roleplay,
                "math": _builtin_math,
                "tool": _builtin_tool,
                "answer": lambda r: TextItem(
                    messages=(
                        {"role": "assistant", "content": _builtin_answer(r, r.choice(_TOPICS))},
                    )
                ),
            }[pool]
            items = [make(rng) for _ in range(self._SIZES[pool])]
        self._pools[pool] = items
        return items

    def size(self, pool: str) -> int:
        return len(self._load(pool))

    def item(self, pool: str, index: int) -> TextItem:
        items = self._load(pool)
        return items[index % len(items)]

    def rate_curves(self) -> list[RateCurve]:
        """Diurnal, weekly and bursty shapes standing in for production traces."""
        if self._curves is None:
            rng = random.Random("builtin:curves")
            curves = []
            for k in range(12):
                peak = rng.uniform(8, 20)
                weekend = rng.uniform(0.2, 1.0)
                rates = []
                for w in range(_WINDOWS_14_DAYS):
                    hour = (w % 144) / 6.0
                    day = w // 144
                    diurnal = 0.35 + math.cos((hour - peak) / 24 * 2 * math.pi) + 0.65
                    week = weekend if day % 7 in (5, 6) else 1.0
                    rates.append(max(0.0, diurnal * week * rng.lognormvariate(0, 0.3)))
                curves.append(
                    RateCurve(
                        name=f"builtin/{k}",
                        rates=tuple(rates),
                        mean_input_tokens=rng.uniform(150, 1500),
                        mean_output_tokens=rng.uniform(20, 400),
                    )
                )
            self._curves = curves
        return self._curves

    def length_samples(self) -> list[tuple[int, int]]:
        if self._lengths is None:
            rng = random.Random("builtin:lengths")
            self._lengths = [
                (int(rng.lognormvariate(7.5, 1.0)), int(rng.lognormvariate(5.5, 0.8)))
                for _ in range(500)
            ]
        return self._lengths

    def arrival_gaps(self) -> list[float]:
        rng = random.Random("builtin:gaps")
        return [rng.expovariate(3.0) for _ in range(500)]
