"""Render one API-independent call into the exact bodies of the three API shapes.

Populations describe *what* a client sends (system prompt, turns, images, tool
schemas, tool calls and results, reasoning settings) once; this module turns it
into an ``openai.chat.completions``, ``openai.responses`` or
``anthropic.messages`` request and response, the way each SDK would put it on
the wire. Keeping this in one place means every population exercises every
shape, and the parser sees bodies as varied as production ones.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "API_SHAPES",
    "ToolCall",
    "Msg",
    "Call",
    "Reply",
    "render",
    "estimate_tokens",
    "fake_image",
]

API_SHAPES: tuple[str, ...] = ("openai.chat.completions", "openai.responses", "anthropic.messages")


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(slots=True)
class Msg:
    role: str  # "user" | "assistant" | "tool"
    text: str = ""
    images: list[str] = field(default_factory=list)  # https URL or data: URI
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # for role "tool"


@dataclass(slots=True)
class Call:
    model: str
    messages: list[Msg]
    system: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)  # {name, description, parameters}
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    n: int | None = None
    stream: bool | None = None
    logprobs: bool | None = None
    reasoning_effort: str | None = None
    thinking_budget: int | None = None
    user_id: str | None = None
    json_output: bool = False


@dataclass(slots=True)
class Reply:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    truncated: bool = False


def estimate_tokens(text: str) -> int:
    """Roughly four characters per token: close enough for usage fields."""
    return max(1, len(text) // 4)


def fake_image(rng: random.Random, inline: bool) -> str:
    """An image reference: a URL under example.com or a tiny inline PNG-looking payload."""
    if not inline:
        return f"https://img.example.com/u/{rng.getrandbits(64):016x}.png"
    payload = b"\x89PNG\r\n\x1a\n" + rng.randbytes(180)
    return "data:image/png;base64," + base64.b64encode(payload).decode()


def _input_tokens(call: Call) -> int:
    chars = len(call.system)
    images = 0
    for m in call.messages:
        chars += len(m.text) + 16
        images += len(m.images)
        for tc in m.tool_calls:
            chars += len(tc.name) + 40
    for t in call.tools:
        chars += 60 + len(orjson.dumps(t.get("parameters", {})))
    return chars // 4 + 765 * images


# -- openai.chat.completions ---------------------------------------------------


def _args_json(args: dict[str, Any]) -> str:
    return orjson.dumps(args).decode()


def _chat_request(call: Call) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = []
    if call.system:
        msgs.append({"role": "system", "content": call.system})
    for m in call.messages:
        if m.role == "tool":
            msgs.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.text})
        elif m.role == "assistant":
            out: dict[str, Any] = {"role": "assistant", "content": m.text or None}
            if m.tool_calls:
                out["tool_calls"] = [
                    {
                        "id": tc.id,
                        "type": "function",
                        "function": {"name": tc.name, "arguments": _args_json(tc.arguments)},
                    }
                    for tc in m.tool_calls
                ]
            msgs.append(out)
        elif m.images:
            parts: list[dict[str, Any]] = [{"type": "text", "text": m.text}]
            parts += [{"type": "image_url", "image_url": {"url": u}} for u in m.images]
            msgs.append({"role": "user", "content": parts})
        else:
            msgs.append({"role": "user", "content": m.text})
    req: dict[str, Any] = {"model": call.model, "messages": msgs}
    if call.tools:
        req["tools"] = [{"type": "function", "function": t} for t in call.tools]
    for key, val in (
        ("temperature", call.temperature),
        ("top_p", call.top_p),
        ("max_tokens", call.max_tokens),
        ("n", call.n),
        ("stream", call.stream),
        ("logprobs", call.logprobs),
        ("reasoning_effort", call.reasoning_effort),
        ("user", call.user_id),
    ):
        if val is not None:
            req[key] = val
    if call.json_output:
        req["response_format"] = {"type": "json_object"}
    return req


def _chat_response(
    call: Call, reply: Reply, rid: str, created: int, usage: tuple[int, int, int]
) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        msg["tool_calls"] = [
            {
                "id": tc.id,
                "type": "function",
                "function": {"name": tc.name, "arguments": _args_json(tc.arguments)},
            }
            for tc in reply.tool_calls
        ]
    finish = "tool_calls" if reply.tool_calls else ("length" if reply.truncated else "stop")
    choices = [{"index": i, "message": msg, "finish_reason": finish} for i in range(call.n or 1)]
    inp, out, rsn = usage
    u: dict[str, Any] = {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}
    if rsn:
        u["completion_tokens_details"] = {"reasoning_tokens": rsn}
    return {
        "id": f"chatcmpl-{rid}",
        "object": "chat.completion",
        "created": created,
        "model": call.model,
        "choices": choices,
        "usage": u,
    }


# -- openai.responses -----------------------------------------------------------


def _responses_request(call: Call) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for m in call.messages:
        if m.role == "tool":
            items.append(
                {"type": "function_call_output", "call_id": m.tool_call_id, "output": m.text}
            )
        elif m.role == "assistant":
            if m.text:
                items.append(
                    {"role": "assistant", "content": [{"type": "output_text", "text": m.text}]}
                )
            for tc in m.tool_calls:
                items.append(
                    {
                        "type": "function_call",
                        "call_id": tc.id,
                        "name": tc.name,
                        "arguments": _args_json(tc.arguments),
                    }
                )
        else:
            parts: list[dict[str, Any]] = [{"type": "input_text", "text": m.text}]
            parts += [{"type": "input_image", "image_url": u} for u in m.images]
            items.append({"role": "user", "content": parts})
    req: dict[str, Any] = {"model": call.model}
    if call.system:
        req["instructions"] = call.system
    # a single plain user turn is often sent as a bare string
    if len(items) == 1 and not call.messages[0].images and call.messages[0].role == "user":
        req["input"] = call.messages[0].text
    else:
        req["input"] = items
    if call.tools:
        req["tools"] = [{"type": "function", **t} for t in call.tools]
    if call.reasoning_effort:
        req["reasoning"] = {"effort": call.reasoning_effort, "summary": "auto"}
    for key, val in (
        ("temperature", call.temperature),
        ("top_p", call.top_p),
        ("max_output_tokens", call.max_tokens),
        ("stream", call.stream),
        ("user", call.user_id),
    ):
        if val is not None:
            req[key] = val
    if call.json_output:
        req["text"] = {"format": {"type": "json_object"}}
    return req


def _responses_response(
    call: Call, reply: Reply, rid: str, created: int, usage: tuple[int, int, int]
) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if reply.reasoning:
        output.append(
            {
                "type": "reasoning",
                "id": f"rs_{rid}",
                "summary": [{"type": "summary_text", "text": reply.reasoning}],
            }
        )
    if reply.text:
        output.append(
            {
                "type": "message",
                "id": f"msg_{rid}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
            }
        )
    for tc in reply.tool_calls:
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{tc.id}",
                "call_id": tc.id,
                "name": tc.name,
                "arguments": _args_json(tc.arguments),
                "status": "completed",
            }
        )
    inp, out, rsn = usage
    resp: dict[str, Any] = {
        "id": f"resp_{rid}",
        "object": "response",
        "created_at": created,
        "model": call.model,
        "status": "incomplete" if reply.truncated else "completed",
        "output": output,
        "usage": {
            "input_tokens": inp,
            "output_tokens": out,
            "total_tokens": inp + out,
            "output_tokens_details": {"reasoning_tokens": rsn},
        },
    }
    if reply.truncated:
        resp["incomplete_details"] = {"reason": "max_output_tokens"}
    return resp


# -- anthropic.messages ---------------------------------------------------------


def _image_block(ref: str) -> dict[str, Any]:
    if ref.startswith("data:"):
        head, data = ref.split(",", 1)
        media = head[5:].split(";", 1)[0]
        return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": ref}}


def _anthropic_request(call: Call) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = []
    for m in call.messages:
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.text}
            # consecutive tool results travel in one user message
            if (
                msgs
                and msgs[-1]["role"] == "user"
                and isinstance(msgs[-1]["content"], list)
                and msgs[-1]["content"]
                and msgs[-1]["content"][0].get("type") == "tool_result"
            ):
                msgs[-1]["content"].append(block)
            else:
                msgs.append({"role": "user", "content": [block]})
        elif m.role == "assistant":
            blocks: list[dict[str, Any]] = []
            if m.text:
                blocks.append({"type": "text", "text": m.text})
            blocks += [
                {"type": "tool_use", "id": tc.id, "name": tc.name, "input": tc.arguments}
                for tc in m.tool_calls
            ]
            msgs.append({"role": "assistant", "content": blocks if m.tool_calls else m.text})
        elif m.images:
            parts = [_image_block(u) for u in m.images] + [{"type": "text", "text": m.text}]
            msgs.append({"role": "user", "content": parts})
        else:
            msgs.append({"role": "user", "content": m.text})
    req: dict[str, Any] = {
        "model": call.model,
        "max_tokens": call.max_tokens or 4096,
        "messages": msgs,
    }
    if call.system:
        req["system"] = call.system
    if call.tools:
        req["tools"] = [
            {
                "name": t["name"],
                "description": t.get("description", ""),
                "input_schema": t.get("parameters", {"type": "object"}),
            }
            for t in call.tools
        ]
    if call.thinking_budget:
        req["thinking"] = {"type": "enabled", "budget_tokens": call.thinking_budget}
    for key, val in (
        ("temperature", call.temperature),
        ("top_p", call.top_p),
        ("stream", call.stream),
    ):
        if val is not None:
            req[key] = val
    if call.user_id:
        req["metadata"] = {"user_id": call.user_id}
    return req


def _anthropic_response(
    call: Call, reply: Reply, rid: str, created: int, usage: tuple[int, int, int]
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.reasoning:
        content.append({"type": "thinking", "thinking": reply.reasoning, "signature": f"sig_{rid}"})
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    content += [
        {"type": "tool_use", "id": tc.id, "name": tc.name, "input": tc.arguments}
        for tc in reply.tool_calls
    ]
    stop = "tool_use" if reply.tool_calls else ("max_tokens" if reply.truncated else "end_turn")
    inp, out, _ = usage
    return {
        "id": f"msg_{rid}",
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": inp, "output_tokens": out},
    }


def render(
    api: str, call: Call, reply: Reply, rid: str, created: int
) -> tuple[dict[str, Any], dict[str, Any], int, int]:
    """(request, response, input_tokens, output_tokens) for one API shape."""
    inp = _input_tokens(call)
    rsn = estimate_tokens(reply.reasoning) if reply.reasoning else 0
    if call.reasoning_effort and not reply.reasoning:
        rsn = estimate_tokens(reply.text) * {"low": 1, "medium": 3, "high": 6}.get(
            call.reasoning_effort, 2
        )
    out = estimate_tokens(reply.text) + sum(20 for _ in reply.tool_calls) + rsn
    if api == "openai.chat.completions":
        # chat completions never returns reasoning text, only its token count
        return (
            _chat_request(call),
            _chat_response(call, reply, rid, created, (inp, out, rsn)),
            inp,
            out,
        )
    if api == "openai.responses":
        return (
            _responses_request(call),
            _responses_response(call, reply, rid, created, (inp, out, rsn)),
            inp,
            out,
        )
    if api == "anthropic.messages":
        return (
            _anthropic_request(call),
            _anthropic_response(call, reply, rid, created, (inp, out, rsn)),
            inp,
            out,
        )
    raise ValueError(f"unknown api shape {api!r}")
