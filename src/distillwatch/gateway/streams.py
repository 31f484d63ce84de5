"""Server-sent events: reassembling streamed responses and withholding reasoning.

Two jobs, kept apart because they run in different places:

* :func:`reassemble` turns the raw bytes of a streamed response into the body
  the same call would have returned without streaming. It runs in the
  recorder's thread, after the client has its bytes, so it costs the response
  path nothing.
* :class:`ReasoningStreamFilter` and :func:`strip_reasoning` remove reasoning
  and thinking content on the response path, for traffic the policy decided
  should not receive it. Event indexes are renumbered so that client SDKs,
  which accumulate content by index, still see a consistent stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = [
    "SseEvent",
    "SseParser",
    "iter_events",
    "reassemble",
    "strip_reasoning",
    "ReasoningStreamFilter",
    "API_CHAT",
    "API_RESPONSES",
    "API_MESSAGES",
]

API_CHAT = "openai.chat.completions"
API_RESPONSES = "openai.responses"
API_MESSAGES = "anthropic.messages"

_CHAT_REASONING_KEYS = ("reasoning_content", "reasoning", "reasoning_details")
_THINKING_BLOCKS = ("thinking", "redacted_thinking")


@dataclass(slots=True)
class SseEvent:
    """One event: its name (``event:`` line), its data text and the exact bytes it came in."""

    name: str | None
    data: str
    raw: bytes


def _parse_event(raw: bytes) -> SseEvent | None:
    name: str | None = None
    data: list[str] = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if name is None and not data:
        return None  # comment or keep-alive only
    return SseEvent(name=name, data="\n".join(data), raw=raw)


class SseParser:
    """Incremental SSE splitter: feed byte chunks, get complete events."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[SseEvent | bytes]:
        """Complete events in ``chunk`` (plus what was pending); comment blocks come back as bytes."""
        self._buffer += chunk
        out: list[SseEvent | bytes] = []
        while True:
            end, sep_len = _next_boundary(self._buffer)
            if end < 0:
                return out
            raw = self._buffer[: end + sep_len]
            self._buffer = self._buffer[end + sep_len :]
            event = _parse_event(raw)
            out.append(event if event is not None else raw)

    def rest(self) -> bytes:
        """Bytes of an unfinished last event (a stream that ended without a blank line)."""
        rest, self._buffer = self._buffer, b""
        return rest


def _next_boundary(buffer: bytes) -> tuple[int, int]:
    lf = buffer.find(b"\n\n")
    crlf = buffer.find(b"\r\n\r\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, 4
    return (lf, 2) if lf >= 0 else (-1, 0)


def iter_events(body: bytes) -> Iterator[SseEvent]:
    """Every event of a complete SSE body, including a last one without a trailing blank line."""
    parser = SseParser()
    for item in parser.feed(body):
        if isinstance(item, SseEvent):
            yield item
    tail = parser.rest()
    if tail.strip():
        event = _parse_event(tail)
        if event is not None:
            yield event


def _json_events(events: Iterable[SseEvent]) -> Iterator[tuple[SseEvent, Any]]:
    for event in events:
        if not event.data or event.data == "[DONE]":
            continue
        try:
            yield event, orjson.loads(event.data)
        except orjson.JSONDecodeError:
            continue


# ---------------------------------------------------------------------------
# Reassembly (recorder thread)


def reassemble(api: str, body: bytes) -> dict[str, Any] | None:
    """The final response body of a streamed call, or None when nothing usable was streamed."""
    events = iter_events(body)
    if api == API_CHAT:
        return _reassemble_chat(events)
    if api == API_RESPONSES:
        return _reassemble_responses(events)
    if api == API_MESSAGES:
        return _reassemble_messages(events)
    raise ValueError(f"unknown api {api!r}")


def _reassemble_chat(events: Iterable[SseEvent]) -> dict[str, Any] | None:
    body: dict[str, Any] | None = None
    choices: dict[int, dict[str, Any]] = {}
    for _, chunk in _json_events(events):
        if not isinstance(chunk, dict):
            continue
        if body is None:
            body = {
                k: chunk[k] for k in ("id", "created", "model", "system_fingerprint") if k in chunk
            }
            body["object"] = "chat.completion"
        if chunk.get("usage"):
            body["usage"] = chunk["usage"]
        for delta_choice in chunk.get("choices") or ():
            index = int(delta_choice.get("index", 0))
            choice = choices.setdefault(
                index, {"index": index, "message": {"role": "assistant"}, "finish_reason": None}
            )
            message = choice["message"]
            delta = delta_choice.get("delta") or {}
            if delta.get("role"):
                message["role"] = delta["role"]
            for text_key in ("content", "refusal", *_CHAT_REASONING_KEYS[:2]):
                piece = delta.get(text_key)
                if isinstance(piece, str):
                    message[text_key] = message.get(text_key, "") + piece
            for call in delta.get("tool_calls") or ():
                _merge_tool_call(message.setdefault("tool_calls", []), call)
            if delta_choice.get("finish_reason") is not None:
                choice["finish_reason"] = delta_choice["finish_reason"]
            if delta_choice.get("logprobs") is not None:
                content = (delta_choice["logprobs"] or {}).get("content") or []
                lp = choice.setdefault("logprobs", {"content": []})
                lp["content"].extend(content)
    if body is None:
        return None
    body["choices"] = [choices[i] for i in sorted(choices)]
    for choice in body["choices"]:
        choice["message"].setdefault("content", None)
    return body


def _merge_tool_call(calls: list[dict[str, Any]], delta: dict[str, Any]) -> None:
    index = int(delta.get("index", len(calls)))
    while len(calls) <= index:
        calls.append({"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
    call = calls[index]
    if delta.get("id"):
        call["id"] = delta["id"]
    if delta.get("type"):
        call["type"] = delta["type"]
    fn = delta.get("function") or {}
    if fn.get("name"):
        call["function"]["name"] += fn["name"]
    if fn.get("arguments"):
        call["function"]["arguments"] += fn["arguments"]


def _reassemble_responses(events: Iterable[SseEvent]) -> dict[str, Any] | None:
    latest: dict[str, Any] | None = None
    items: dict[int, Any] = {}
    for _, event in _json_events(events):
        if not isinstance(event, dict):
            continue
        kind = event.get("type", "")
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            return event.get("response")
        if kind in ("response.created", "response.in_progress") and isinstance(
            event.get("response"), dict
        ):
            latest = event["response"]
        elif kind == "response.output_item.done":
            items[int(event.get("output_index", len(items)))] = event.get("item")
    if latest is None:
        return None
    # The stream ended before response.completed: keep what did complete.
    latest = dict(latest)
    latest["output"] = [items[i] for i in sorted(items)]
    return latest


def _reassemble_messages(events: Iterable[SseEvent]) -> dict[str, Any] | None:
    message: dict[str, Any] | None = None
    blocks: dict[int, dict[str, Any]] = {}
    partial_json: dict[int, str] = {}
    for _, event in _json_events(events):
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind == "message_start":
            message = dict(event.get("message") or {})
        elif kind == "content_block_start":
            blocks[int(event.get("index", len(blocks)))] = dict(event.get("content_block") or {})
        elif kind == "content_block_delta":
            index = int(event.get("index", 0))
            block = blocks.setdefault(index, {})
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif dtype == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif dtype == "signature_delta":
                block["signature"] = block.get("signature", "") + delta.get("signature", "")
            elif dtype == "input_json_delta":
                partial_json[index] = partial_json.get(index, "") + delta.get("partial_json", "")
            elif dtype == "citations_delta":
                block.setdefault("citations", []).append(delta.get("citation"))
        elif kind == "message_delta" and message is not None:
            for key, value in (event.get("delta") or {}).items():
                message[key] = value
            usage = event.get("usage")
            if isinstance(usage, dict):
                message["usage"] = {**(message.get("usage") or {}), **usage}
    if message is None:
        return None
    for index, text in partial_json.items():
        try:
            blocks[index]["input"] = orjson.loads(text) if text else {}
        except orjson.JSONDecodeError:
            blocks[index]["input"] = text
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


# ---------------------------------------------------------------------------
# Withholding reasoning (response path)


def strip_reasoning(api: str, body: Any) -> bool:
    """Remove reasoning/thinking from a non-streamed body in place; True if anything was removed."""
    if not isinstance(body, dict):
        return False
    removed = False
    if api == API_CHAT:
        for choice in body.get("choices") or ():
            message = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(message, dict):
                for key in _CHAT_REASONING_KEYS:
                    if key in message:
                        del message[key]
                        removed = True
    elif api == API_RESPONSES:
        output = body.get("output")
        if isinstance(output, list):
            kept = [i for i in output if not (isinstance(i, dict) and i.get("type") == "reasoning")]
            removed = len(kept) != len(output)
            body["output"] = kept
    elif api == API_MESSAGES:
        content = body.get("content")
        if isinstance(content, list):
            kept = [
                b
                for b in content
                if not (isinstance(b, dict) and b.get("type") in _THINKING_BLOCKS)
            ]
            removed = len(kept) != len(content)
            body["content"] = kept
    return removed


def _encode(event: SseEvent, payload: Any) -> bytes:
    data = orjson.dumps(payload)
    if event.name is not None:
        return b"event: " + event.name.encode() + b"\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\n\n"


class ReasoningStreamFilter:
    """Drops reasoning events from a stream and renumbers what follows.

    Events that carry no reasoning pass through byte for byte; only events that
    must change are re-encoded.
    """

    def __init__(self, api: str):
        if api not in (API_CHAT, API_RESPONSES, API_MESSAGES):
            raise ValueError(f"unknown api {api!r}")
        self.api = api
        self._parser = SseParser()
        self._dropped: list[int] = []  # original indexes of dropped output items / content blocks
        self.removed = 0  # events dropped or rewritten

    def feed(self, chunk: bytes) -> bytes:
        """Bytes to forward for this chunk (may be empty while an event is incomplete)."""
        out: list[bytes] = []
        for item in self._parser.feed(chunk):
            if isinstance(item, bytes):
                out.append(item)
                continue
            forwarded = self._filter(item)
            if forwarded is not None:
                out.append(forwarded)
        return b"".join(out)

    def finish(self) -> bytes:
        """Whatever was left unterminated at the end of the stream, filtered the same way."""
        tail = self._parser.rest()
        if not tail.strip():
            return tail
        event = _parse_event(tail)
        if event is None:
            return tail
        forwarded = self._filter(event)
        return forwarded or b""

    def _filter(self, event: SseEvent) -> bytes | None:
        if not self._dropped and b"reasoning" not in event.raw and b"thinking" not in event.raw:
            return event.raw
        try:
            payload = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            return event.raw
        if not isinstance(payload, dict):
            return event.raw
        if self.api == API_CHAT:
            result = self._chat(payload)
        elif self.api == API_RESPONSES:
            result = self._responses(payload)
        else:
            result = self._messages(payload)
        if result is _KEEP:
            return event.raw
        self.removed += 1
        return None if result is _DROP else _encode(event, result)

    def _shift(self, index: int) -> int:
        return index - sum(1 for d in self._dropped if d < index)

    def _chat(self, chunk: dict[str, Any]) -> Any:
        changed = False
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict):
                for key in _CHAT_REASONING_KEYS:
                    if key in delta:
                        del delta[key]
                        changed = True
        if not changed:
            return _KEEP
        carries_more = chunk.get("usage") or any(
            (c.get("delta") or {}) or c.get("finish_reason") is not None or c.get("logprobs")
            for c in chunk.get("choices") or ()
        )
        return chunk if carries_more else _DROP

    def _responses(self, event: dict[str, Any]) -> Any:
        kind = str(event.get("type", ""))
        if kind.startswith("response.reasoning"):
            return _DROP
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = event.get("item")
            if isinstance(item, dict) and item.get("type") == "reasoning":
                index = event.get("output_index")
                if isinstance(index, int) and index not in self._dropped:
                    self._dropped.append(index)
                return _DROP
        changed = False
        response = event.get("response")
        if isinstance(response, dict):
            changed = strip_reasoning(API_RESPONSES, response)
        index = event.get("output_index")
        if isinstance(index, int) and index in self._dropped:
            return _DROP  # any other event about a dropped reasoning item
        if isinstance(index, int) and self._dropped:
            event["output_index"] = self._shift(index)
            changed = changed or event["output_index"] != index
        return event if changed else _KEEP

    def _messages(self, event: dict[str, Any]) -> Any:
        kind = event.get("type")
        index = event.get("index")
        if kind == "content_block_start":
            block = event.get("content_block")
            if isinstance(block, dict) and block.get("type") in _THINKING_BLOCKS:
                if isinstance(index, int):
                    self._dropped.append(index)
                return _DROP
        if kind == "message_start" and isinstance(event.get("message"), dict):
            return event if strip_reasoning(API_MESSAGES, event["message"]) else _KEEP
        if isinstance(index, int):
            if index in self._dropped:
                return _DROP
            if self._dropped:
                new_index = self._shift(index)
                if new_index != index:
                    event["index"] = new_index
                    return event
        return _KEEP


_KEEP = object()
_DROP = object()
