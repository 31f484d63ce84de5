"""Building blocks for what is said: replayed chats, tool calls, replies.

Populations and campaigns compose these into :class:`~distillwatch.bench.shapes.Call`
and :class:`~distillwatch.bench.shapes.Reply` objects. Replies reuse real
assistant text where the corpus has it (the chat's own next turn, the reference
solution) and otherwise a plausible answer from the ``answer`` pool, so
response bodies look like production ones without running a model.
"""

from __future__ import annotations

import random
import re
from typing import Any

import orjson

from distillwatch.bench.shapes import Msg, Reply, ToolCall
from distillwatch.bench.textsource import TextItem, TextSource

__all__ = [
    "pick",
    "chat_history",
    "user_turns",
    "answer_text",
    "tool_specs",
    "make_tool_calls",
    "tool_result",
    "stepwise_reasoning",
    "csv_table",
    "code_file",
    "reply_from",
]

_WORDS = re.compile(r"[A-Z][A-Za-z]{2,}")
_NUMBERS = re.compile(r"\b\d+(?:\.\d+)?\b")


def pick(source: TextSource, pool: str, rng: random.Random) -> TextItem:
    return source.item(pool, rng.randrange(source.size(pool)))


def user_turns(item: TextItem) -> int:
    return sum(1 for m in item.messages if m["role"] == "user")


def chat_history(item: TextItem, k: int) -> tuple[str, list[Msg], str]:
    """(system, messages up to and including the k-th user turn, the corpus reply to it)."""
    system = ""
    msgs: list[Msg] = []
    seen = -1
    reply = ""
    for i, m in enumerate(item.messages):
        if m["role"] == "system":
            system = m["content"]
            continue
        if m["role"] == "user":
            seen += 1
            if seen > k:
                break
        msgs.append(Msg(role=m["role"], text=m["content"]))
        if seen == k and m["role"] == "user":
            nxt = item.messages[i + 1] if i + 1 < len(item.messages) else None
            reply = nxt["content"] if nxt and nxt["role"] == "assistant" else ""
    return system, msgs, reply


def answer_text(source: TextSource, rng: random.Random, max_chars: int = 1200) -> str:
    text = pick(source, "answer", rng).first("assistant")
    return text[:max_chars]


def _safe_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64]


def tool_specs(item: TextItem) -> list[dict[str, Any]]:
    """Function schemas of a tool item in neutral {name, description, parameters} form."""
    out = []
    for t in item.tools:
        fn = t.get("function", t)
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        out.append(
            {
                "name": _safe_name(str(fn.get("name", "tool"))),
                "description": str(fn.get("description", ""))[:400],
                "parameters": params,
            }
        )
    return out


def _value(rng: random.Random, schema: dict[str, Any], words: list[str], numbers: list[str]) -> Any:
    if "enum" in schema and schema["enum"]:
        return rng.choice(schema["enum"])
    kind = schema.get("type", "string")
    if kind == "integer":
        ints = [n for n in numbers if n.isdigit()]
        return int(rng.choice(ints)) if ints else rng.randint(1, 100)
    if kind == "number":
        return float(rng.choice(numbers)) if numbers else round(rng.uniform(1, 500), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        return [_value(rng, items, words, numbers) for _ in range(rng.randint(1, 3))]
    if kind == "object":
        return {}
    return rng.choice(words) if words else "example"


def make_tool_calls(
    rng: random.Random, specs: list[dict[str, Any]], query: str, call_prefix: str, parallel: int = 1
) -> list[ToolCall]:
    """Calls a model would plausibly make: arguments filled from the schema and the query."""
    if not specs:
        return []
    words = _WORDS.findall(query) or ["default"]
    numbers = _NUMBERS.findall(query)
    calls = []
    for j in range(parallel):
        spec = specs[(j + rng.randrange(len(specs))) % len(specs)]
        props = (spec["parameters"] or {}).get("properties") or {}
        required = set((spec["parameters"] or {}).get("required") or [])
        args = {
            name: _value(rng, sch if isinstance(sch, dict) else {}, words, numbers)
            for name, sch in props.items()
            if name in required or rng.random() < 0.4
        }
        calls.append(ToolCall(id=f"{call_prefix}{j}", name=spec["name"], arguments=args))
    return calls


def tool_result(rng: random.Random, call: ToolCall) -> str:
    payload = {
        "ok": True,
        "tool": call.name,
        "result": {
            "items": [
                {"id": rng.randrange(10_000), "value": round(rng.uniform(0, 1000), 2)}
                for _ in range(rng.randint(1, 3))
            ]
        },
    }
    if rng.random() < 0.05:
        payload = {"ok": False, "error": "timeout contacting upstream service"}
    return orjson.dumps(payload).decode()


def stepwise_reasoning(rng: random.Random, question: str, solution: str) -> str:
    """A long, explicit reasoning trace built from a reference solution: what harvesting wants."""
    lines = [
        ln.strip() for ln in solution.replace("####", "So the answer is").split("\n") if ln.strip()
    ]
    lead = rng.choice(
        [
            "Let me restate the problem first.",
            "First, what is being asked?",
            "I'll start by identifying the known quantities.",
        ]
    )
    steps = [f"Step {i + 1}: {ln}" for i, ln in enumerate(lines)]
    check = rng.choice(
        [
            "Let me double-check the arithmetic: it is consistent.",
            "Checking: each intermediate value follows from the previous step.",
            "Verifying against the question, the units match.",
        ]
    )
    return "\n".join([lead, question[:300], *steps, check])


def csv_table(rng: random.Random) -> str:
    cols = rng.choice(
        [
            ("region", "month", "revenue", "units"),
            ("store", "week", "sales", "returns"),
            ("sensor", "hour", "temp_c", "humidity"),
            ("team", "sprint", "points", "bugs"),
        ]
    )
    rows = [",".join(cols)]
    for i in range(rng.randint(6, 18)):
        rows.append(
            f"{cols[0][0].upper()}{i % 5},{i + 1},{rng.randint(100, 9000)},{rng.randint(0, 300)}"
        )
    return "\n".join(rows)


def code_file(rng: random.Random) -> str:
    name = rng.choice(["parse", "load", "score", "render", "sync", "merge"])
    return (
        f"import json\n\n\ndef {name}_items(path):\n    with open(path) as fh:\n"
        f"        data = json.load(fh)\n    return [x for x in data if x.get('{name}')]\n\n"
        f"# TODO: handle empty files (line {rng.randint(8, 200)})\n"
    )


def reply_from(
    text: str,
    *,
    reasoning: str = "",
    tool_calls: list[ToolCall] | None = None,
    max_chars: int = 3000,
) -> Reply:
    return Reply(text=text[:max_chars], reasoning=reasoning, tool_calls=tool_calls or [])
