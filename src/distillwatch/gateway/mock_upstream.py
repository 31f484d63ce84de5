"""A local fake model provider for demos, tests and the latency benchmark.

Speaks OpenAI chat completions, OpenAI responses and Anthropic messages,
streamed and not, with deterministic bodies (same request, same bytes) that
carry usage and, when asked for, reasoning or thinking content. It is a raw
ASGI app so that in the benchmark it costs as little CPU as possible: the
gateway shares the machine with it.

Per-request controls, for tests and demos (headers):
``x-mock-status: 503`` answers that status with an error body,
``x-mock-malformed: 1`` answers 200 with a body that is not valid JSON/SSE,
``x-mock-delay-ms: 250`` waits before answering.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

__all__ = ["create_mock_app", "mock_answer"]

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

_MODELS = ("mock-small", "mock-large", "mock-reasoner")
_JSON = [(b"content-type", b"application/json")]
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


def _last_user_text(api: str, request: dict[str, Any]) -> str:
    if api == "responses":
        value = request.get("input")
        if isinstance(value, str):
            return value
        messages = value if isinstance(value, list) else []
    else:
        messages = request.get("messages") or []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
                )
    return ""


def mock_answer(prompt: str) -> tuple[str, str]:
    """``(answer, reasoning)`` for a prompt: stable, short, and different for different prompts."""
    digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8]
    topic = " ".join(prompt.split()[:8]) or "an empty prompt"
    answer = f"Mock answer {digest}: here is a concise reply about {topic}."
    reasoning = f"Considering {topic}. Step one, restate the question. Step two, answer it briefly."
    return answer, reasoning


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + " " for p in parts[:-1]] + [parts[-1]]


def _sse(data: Any, event: str | None = None) -> bytes:
    payload = b"data: " + (data if isinstance(data, bytes) else orjson.dumps(data)) + b"\n\n"
    return (b"event: " + event.encode() + b"\n" + payload) if event else payload


# -- OpenAI chat completions -----------------------------------------------------


def _chat(request: dict[str, Any], reasoning_on: bool, stream: bool) -> list[bytes]:
    model = str(request.get("model") or _MODELS[0])
    prompt = _last_user_text("chat", request)
    answer, reasoning = mock_answer(prompt)
    ident = "chatcmpl-" + hashlib.sha256(prompt.encode()).hexdigest()[:16]
    usage = {
        "prompt_tokens": len(prompt.split()),
        "completion_tokens": len(answer.split()) + (len(reasoning.split()) if reasoning_on else 0),
        "total_tokens": 0,
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if reasoning_on:
        usage["completion_tokens_details"] = {"reasoning_tokens": len(reasoning.split())}
    if not stream:
        message: dict[str, Any] = {"role": "assistant", "content": answer}
        if reasoning_on:
            message["reasoning_content"] = reasoning
        body = {
            "id": ident,
            "object": "chat.completion",
            "created": 1_760_000_000,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
        return [orjson.dumps(body)]
    base = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": 1_760_000_000,
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    out = [chunk({"role": "assistant", "content": ""})]
    if reasoning_on:
        out += [chunk({"reasoning_content": w}) for w in _words(reasoning)]
    out += [chunk({"content": w}) for w in _words(answer)]
    out.append(chunk({}, "stop"))
    out.append(_sse({**base, "choices": [], "usage": usage}))
    out.append(b"data: [DONE]\n\n")
    return out


# -- OpenAI responses ---------------------------------------------------------------


def _responses(request: dict[str, Any], reasoning_on: bool, stream: bool) -> list[bytes]:
    model = str(request.get("model") or _MODELS[0])
    prompt = _last_user_text("responses", request)
    answer, reasoning = mock_answer(prompt)
    ident = "resp_" + hashlib.sha256(prompt.encode()).hexdigest()[:16]
    output: list[dict[str, Any]] = []
    if reasoning_on:
        output.append(
            {
                "type": "reasoning",
                "id": "rs_" + ident[5:],
                "summary": [{"type": "summary_text", "text": reasoning}],
            }
        )
    message = {
        "type": "message",
        "id": "msg_" + ident[5:],
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": answer, "annotations": []}],
    }
    output.append(message)
    usage = {
        "input_tokens": len(prompt.split()),
        "output_tokens": len(answer.split()) + (len(reasoning.split()) if reasoning_on else 0),
        "output_tokens_details": {
            "reasoning_tokens": len(reasoning.split()) if reasoning_on else 0
        },
    }
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    final = {
        "id": ident,
        "object": "response",
        "created_at": 1_760_000_000,
        "status": "completed",
        "model": model,
        "output": output,
        "usage": usage,
    }
    if not stream:
        return [orjson.dumps(final)]
    seq = iter(range(1_000_000))

    def event(kind: str, **fields: Any) -> bytes:
        return _sse({"type": kind, "sequence_number": next(seq), **fields}, kind)

    in_progress = {**final, "status": "in_progress", "output": [], "usage": None}
    out = [
        event("response.created", response=in_progress),
        event("response.in_progress", response=in_progress),
    ]
    index = 0
    if reasoning_on:
        item = output[0]
        out.append(
            event("response.output_item.added", output_index=0, item={**item, "summary": []})
        )
        out.append(
            event(
                "response.reasoning_summary_part.added",
                item_id=item["id"],
                output_index=0,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )
        )
        for w in _words(reasoning):
            out.append(
                event(
                    "response.reasoning_summary_text.delta",
                    item_id=item["id"],
                    output_index=0,
                    summary_index=0,
                    delta=w,
                )
            )
        out.append(
            event(
                "response.reasoning_summary_text.done",
                item_id=item["id"],
                output_index=0,
                summary_index=0,
                text=reasoning,
            )
        )
        out.append(event("response.output_item.done", output_index=0, item=item))
        index = 1
    out.append(
        event(
            "response.output_item.added",
            output_index=index,
            item={**message, "status": "in_progress", "content": []},
        )
    )
    out.append(
        event(
            "response.content_part.added",
            item_id=message["id"],
            output_index=index,
            content_index=0,
            part={"type": "output_text", "text": "", "annotations": []},
        )
    )
    for w in _words(answer):
        out.append(
            event(
                "response.output_text.delta",
                item_id=message["id"],
                output_index=index,
                content_index=0,
                delta=w,
            )
        )
    out.append(
        event(
            "response.output_text.done",
            item_id=message["id"],
            output_index=index,
            content_index=0,
            text=answer,
        )
    )
    out.append(
        event(
            "response.content_part.done",
            item_id=message["id"],
            output_index=index,
            content_index=0,
            part=message["content"][0],
        )
    )
    out.append(event("response.output_item.done", output_index=index, item=message))
    out.append(event("response.completed", response=final))
    return out


# -- Anthropic messages ---------------------------------------------------------------


def _messages(request: dict[str, Any], reasoning_on: bool, stream: bool) -> list[bytes]:
    model = str(request.get("model") or _MODELS[0])
    prompt = _last_user_text("messages", request)
    answer, reasoning = mock_answer(prompt)
    ident = "msg_" + hashlib.sha256(prompt.encode()).hexdigest()[:16]
    signature = hashlib.sha256(reasoning.encode()).hexdigest()[:24]
    content: list[dict[str, Any]] = []
    if reasoning_on:
        content.append({"type": "thinking", "thinking": reasoning, "signature": signature})
    content.append({"type": "text", "text": answer})
    usage = {
        "input_tokens": len(prompt.split()),
        "output_tokens": len(answer.split()) + (len(reasoning.split()) if reasoning_on else 0),
    }
    final = {
        "id": ident,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    if not stream:
        return [orjson.dumps(final)]
    start = {
        **final,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1},
    }
    out = [_sse({"type": "message_start", "message": start}, "message_start")]
    index = 0
    if reasoning_on:
        out.append(
            _sse(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
                "content_block_start",
            )
        )
        for w in _words(reasoning):
            out.append(
                _sse(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "thinking_delta", "thinking": w},
                    },
                    "content_block_delta",
                )
            )
        out.append(
            _sse(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "signature_delta", "signature": signature},
                },
                "content_block_delta",
            )
        )
        out.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
        index = 1
    out.append(
        _sse(
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        )
    )
    for w in _words(answer):
        out.append(
            _sse(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": w},
                },
                "content_block_delta",
            )
        )
    out.append(_sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    out.append(
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
            "message_delta",
        )
    )
    out.append(_sse({"type": "message_stop"}, "message_stop"))
    return out


_BUILDERS = {
    "/v1/chat/completions": ("chat", _chat),
    "/v1/responses": ("responses", _responses),
    "/v1/messages": ("messages", _messages),
}


def _wants_reasoning(api: str, request: dict[str, Any]) -> bool:
    if api == "chat":
        return bool(request.get("reasoning_effort"))
    if api == "responses":
        return isinstance(request.get("reasoning"), dict)
    thinking = request.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") == "enabled"


def _error(api: str, status: int, message: str) -> bytes:
    if api == "messages":
        return orjson.dumps({"type": "error", "error": {"type": "api_error", "message": message}})
    return orjson.dumps(
        {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    )


def create_mock_app(
    *, delay_ms: float = 0.0, chunk_delay_ms: float = 0.0, reasoning: bool = False
) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    """The fake provider as an ASGI app.

    ``delay_ms`` waits before the first byte, ``chunk_delay_ms`` between
    streamed events; ``reasoning=True`` adds reasoning/thinking to every answer
    (otherwise only when the request asks for it).
    """

    async def respond(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        headers = dict(scope["headers"])
        if method == "GET" and path == "/v1/models":
            body = orjson.dumps(
                {
                    "object": "list",
                    "data": [{"id": m, "object": "model", "owned_by": "mock"} for m in _MODELS],
                }
            )
            await respond(send, 200, _JSON, body)
            return
        if method == "GET" and path == "/healthz":
            await respond(send, 200, _JSON, b'{"status":"ok"}')
            return
        builder = _BUILDERS.get(path) if method == "POST" else None
        if builder is None:
            await respond(send, 404, _JSON, _error("chat", 404, f"no route {method} {path}"))
            return
        api, build = builder
        parts = []
        while True:
            message = await receive()
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        wait = float(headers.get(b"x-mock-delay-ms", delay_ms) or 0)
        if wait > 0:
            await asyncio.sleep(wait / 1000.0)
        if b"x-mock-status" in headers:
            status = int(headers[b"x-mock-status"])
            await respond(send, status, _JSON, _error(api, status, f"mock failure {status}"))
            return
        try:
            request = orjson.loads(b"".join(parts))
        except orjson.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            await respond(send, 400, _JSON, _error(api, 400, "body must be a JSON object"))
            return
        stream = request.get("stream") is True
        if headers.get(b"x-mock-malformed") == b"1":
            body = b'data: {"truncated\n\n' if stream else b'{"choices": [{"message": '
            await respond(send, 200, _SSE if stream else _JSON, body)
            return
        pieces = build(request, reasoning or _wants_reasoning(api, request), stream)
        if not stream:
            await respond(send, 200, _JSON, pieces[0])
            return
        await send({"type": "http.response.start", "status": 200, "headers": _SSE})
        for piece in pieces:
            if chunk_delay_ms > 0:
                await asyncio.sleep(chunk_delay_ms / 1000.0)
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app
