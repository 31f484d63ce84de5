"""Turn one exchange-log v1 object into the canonical :class:`Exchange`.

This runs once for every exchange of every scan, so it is written for speed:
plain ``dict.get`` and ``type(x) is T`` checks, no regular expressions, no
per-call allocation beyond the record itself. The three API shapes
(OpenAI chat completions, OpenAI responses, Anthropic messages) are flattened
here so that no detector ever has to know them.

Policy (from the input contract): a required field that is missing or has the
wrong type rejects the line with a precise reason; an optional field with the
wrong type is treated as unknown (``None``); absent stays ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from hashlib import blake2b
from typing import Any

import orjson

from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn

__all__ = [
    "API_SHAPES",
    "RecordError",
    "parse_line",
    "parse_record",
    "parse_ts",
    "required_ts",
    "to_rfc3339",
    "tool_schema_hash",
]

API_CHAT = "openai.chat.completions"
API_RESPONSES = "openai.responses"
API_ANTHROPIC = "anthropic.messages"
API_SHAPES: tuple[str, ...] = (API_CHAT, API_RESPONSES, API_ANTHROPIC)

# Epoch seconds accepted as a timestamp: 1970-01-01 up to the end of year 9999.
# Anything above is almost always milliseconds or nanoseconds by mistake.
_MAX_EPOCH = 253402300799.999

_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
    type(None): "null",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class RecordError(ValueError):
    """An exchange-log line that cannot become an Exchange; the message is the reason."""


def _json_type(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------
# timestamps
# --------------------------------------------------------------------------


_MINUTE_START: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> epoch seconds; logs reuse few minutes
_OFFSETS: dict[str, int] = {"Z": 0, "z": 0}  # "+05:30" -> 19800


def _minute_start(text: str) -> int:
    """Epoch seconds of the minute ``text`` starts with, validating that prefix strictly."""
    prefix = text[:16]
    if (
        text[4] != "-"
        or text[7] != "-"
        or text[10] not in "Tt "
        or text[13] != ":"
        or not (prefix[:4] + prefix[5:7] + prefix[8:10] + prefix[11:13] + prefix[14:16]).isdigit()
    ):
        raise RecordError(f"bad ts {text!r}: not an RFC 3339 date-time")
    hour = int(prefix[11:13])
    minute = int(prefix[14:16])
    if hour > 23 or minute > 59:
        raise RecordError(f"bad ts {text!r}: time of day out of range")
    try:
        ordinal = date(int(prefix[:4]), int(prefix[5:7]), int(prefix[8:10])).toordinal()
    except ValueError as exc:
        raise RecordError(f"bad ts {text!r}: {exc}") from None
    start = (ordinal - _EPOCH_ORDINAL) * 86400 + hour * 3600 + minute * 60
    if len(_MINUTE_START) >= 65536:
        _MINUTE_START.clear()
    _MINUTE_START[prefix] = start
    return start


def _offset_seconds(suffix: str, text: str) -> int:
    offset = _OFFSETS.get(suffix)
    if offset is not None:
        return offset
    if len(suffix) != 6 or suffix[0] not in "+-" or suffix[3] != ":":
        raise RecordError(f"bad ts {text!r}: RFC 3339 needs an offset or 'Z'")
    hours = suffix[1:3]
    minutes = suffix[4:6]
    if not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise RecordError(f"bad ts {text!r}: malformed offset")
    offset = int(hours) * 3600 + int(minutes) * 60
    if suffix[0] == "-":
        offset = -offset
    if len(_OFFSETS) < 4096:
        _OFFSETS[suffix] = offset
    return offset


def _parse_rfc3339(text: str) -> float:
    """RFC 3339 with an explicit offset or ``Z``, by hand: strict, and far cheaper than datetime.

    ``fromisoformat`` alone would also accept dates without offset, week
    dates and other forms the contract excludes.
    """
    size = len(text)
    if size < 20 or not text.isascii():
        if size == 19 and text[16] == ":":
            raise RecordError(f"bad ts {text!r}: RFC 3339 needs an offset or 'Z'")
        raise RecordError(f"bad ts {text!r}: not an RFC 3339 date-time")
    last = text[-1]
    if last == "Z" or last == "z":
        end = size - 1
        offset = 0
    else:
        end = size - 6
        offset = _offset_seconds(text[end:], text)
    start = _MINUTE_START.get(text[:16])
    if start is None:
        start = _minute_start(text)
    seconds = text[17:end]
    if (
        text[16] != ":"
        or not seconds[:2].isdigit()
        or seconds[:2] > "60"  # 60: a leap second
        or (len(seconds) > 2 and (seconds[2] != "." or not seconds[3:].isdigit()))
    ):
        raise RecordError(f"bad ts {text!r}: malformed seconds")
    return start + float(seconds) - offset


def parse_ts(value: str | int | float | datetime) -> float:
    """Epoch seconds (UTC) from RFC 3339 text or an epoch number; RecordError if invalid.

    A ``datetime`` (what Parquet timestamp columns become) is accepted too;
    a naive one is taken as UTC.
    """
    kind = type(value)
    if kind is float or kind is int:
        seconds = float(value)
        if not (0.0 <= seconds <= _MAX_EPOCH):  # also false for NaN
            hint = " (milliseconds?)" if seconds > _MAX_EPOCH and seconds == seconds else ""
            raise RecordError(f"bad ts {value!r}: epoch seconds out of range{hint}")
        return seconds
    if kind is str:
        return _parse_rfc3339(value)  # type: ignore[arg-type]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    raise RecordError(f"bad ts: expected RFC 3339 string or epoch number, got {_json_type(value)}")


def to_rfc3339(ts: float) -> str:
    """``2026-02-03T10:15:30.123Z``: millisecond precision, always UTC."""
    millis = math.floor(ts * 1000.0 + 0.5)
    moment = _EPOCH + timedelta(milliseconds=millis)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


# --------------------------------------------------------------------------
# small typed getters: wrong type -> None (unknown), never a guess
# --------------------------------------------------------------------------


def _opt_str(value: Any) -> str | None:
    return value if type(value) is str else None


def _opt_int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _opt_float(value: Any) -> float | None:
    kind = type(value)
    if kind is float:
        return value if value == value else None
    if kind is int:
        return float(value)
    return None


def _opt_bool(value: Any) -> bool | None:
    return value if type(value) is bool else None


def tool_schema_hash(tools: list[Any]) -> str | None:
    """16 hex chars identifying a set of tool schemas, independent of key and declaration order.

    Why order-independent: the same agent harness may list its tools in a
    different order per request; it is still the same harness.
    """
    if not tools:
        return None
    dumped = sorted(orjson.dumps(tool, option=orjson.OPT_SORT_KEYS) for tool in tools)
    return blake2b(b"\x1e".join(dumped), digest_size=8).hexdigest()


# --------------------------------------------------------------------------
# OpenAI chat completions
# --------------------------------------------------------------------------


def _chat_content(content: Any) -> tuple[str, int]:
    """Text and image count of a chat message ``content`` (string or list of parts)."""
    kind = type(content)
    if kind is str:
        return content, 0
    if kind is not list:
        return "", 0
    texts: list[str] = []
    images = 0
    for part in content:
        if type(part) is not dict:
            if type(part) is str:
                texts.append(part)
            continue
        part_type = part.get("type")
        if part_type == "text":
            text = part.get("text")
            if type(text) is str:
                texts.append(text)
        elif part_type == "image_url":
            images += 1
        elif part_type == "refusal":
            text = part.get("refusal")
            if type(text) is str:
                texts.append(text)
        # input_audio and file parts carry no text we can read
    return "\n".join(texts), images


def _chat_request(req: dict, system: list[str]) -> list[Turn]:
    turns: list[Turn] = []
    messages = req.get("messages")
    if type(messages) is not list:
        return turns
    for message in messages:
        if type(message) is not dict:
            continue
        role = message.get("role")
        text, images = _chat_content(message.get("content"))
        if role == "user":
            turns.append(Turn("user", text, images))
        elif role == "assistant":
            calls = message.get("tool_calls")
            n_calls = len(calls) if type(calls) is list else 0
            if type(message.get("function_call")) is dict:
                n_calls += 1
            if not text:
                refusal = message.get("refusal")
                if type(refusal) is str:
                    text = refusal
            turns.append(Turn("assistant", text, images, n_calls))
        elif role == "tool" or role == "function":
            turns.append(Turn("tool", text, images, 0, 1))
        elif (role == "system" or role == "developer") and text:
            system.append(text)
    return turns


def _chat_tools(req: dict) -> tuple[tuple[str, ...], str | None]:
    declared: list[Any] = []
    names: list[str] = []
    tools = req.get("tools")
    if type(tools) is list:
        for tool in tools:
            if type(tool) is not dict:
                continue
            declared.append(tool)
            body = tool.get("function")
            if type(body) is not dict:
                body = tool.get("custom")
            name = body.get("name") if type(body) is dict else tool.get("name")
            if type(name) is not str:
                name = tool.get("type")
            if type(name) is str:
                names.append(name)
    functions = req.get("functions")
    if type(functions) is list:
        for function in functions:
            if type(function) is dict:
                declared.append(function)
                name = function.get("name")
                if type(name) is str:
                    names.append(name)
    return tuple(names), tool_schema_hash(declared)


def _chat_response(resp: dict) -> tuple[str, int, int, str | None]:
    """(text, reasoning chars, tool calls, finish reason) over all choices."""
    choices = resp.get("choices")
    if type(choices) is not list:
        return "", 0, 0, None
    texts: list[str] = []
    reasoning = 0
    n_calls = 0
    finish: str | None = None
    for choice in choices:
        if type(choice) is not dict:
            continue
        if finish is None:
            finish = _opt_str(choice.get("finish_reason"))
        message = choice.get("message")
        if type(message) is not dict:
            continue
        text, _ = _chat_content(message.get("content"))
        if text:
            texts.append(text)
        for key in ("reasoning_content", "reasoning"):
            thought = message.get(key)
            if type(thought) is str:
                reasoning += len(thought)
                break
        calls = message.get("tool_calls")
        if type(calls) is list:
            n_calls += len(calls)
        if type(message.get("function_call")) is dict:
            n_calls += 1
    return "\n\n".join(texts), reasoning, n_calls, finish


# --------------------------------------------------------------------------
# OpenAI responses
# --------------------------------------------------------------------------


def _responses_content(content: Any) -> tuple[str, int]:
    kind = type(content)
    if kind is str:
        return content, 0
    if kind is not list:
        return "", 0
    texts: list[str] = []
    images = 0
    for part in content:
        if type(part) is not dict:
            continue
        part_type = part.get("type")
        if part_type == "input_text" or part_type == "output_text" or part_type == "text":
            text = part.get("text")
            if type(text) is str:
                texts.append(text)
        elif part_type == "input_image" or part_type == "computer_screenshot":
            images += 1
        elif part_type == "refusal":
            text = part.get("refusal")
            if type(text) is str:
                texts.append(text)
    return "\n".join(texts), images


def _call_output(item: dict) -> tuple[str, int]:
    """Text and images of a ``*_call_output`` item (string, part list or screenshot)."""
    output = item.get("output")
    if type(output) is str:
        return output, 0
    if type(output) is dict:
        return _responses_content([output])
    return _responses_content(output)


def _responses_request(req: dict, system: list[str]) -> list[Turn]:
    instructions = req.get("instructions")
    if type(instructions) is str:
        if instructions:
            system.append(instructions)
    elif type(instructions) is list:
        _responses_items(instructions, system)  # message items; only their system text counts
    source = req.get("input")
    if type(source) is str:
        return [Turn("user", source)]
    if type(source) is list:
        return _responses_items(source, system)
    return []


def _responses_items(items: list[Any], system: list[str]) -> list[Turn]:
    turns: list[Turn] = []
    for item in items:
        if type(item) is not dict:
            continue
        item_type = item.get("type")
        if item_type is None or item_type == "message":
            role = item.get("role")
            text, images = _responses_content(item.get("content"))
            if role == "user":
                turns.append(Turn("user", text, images))
            elif role == "assistant":
                turns.append(Turn("assistant", text, images))
            elif (role == "system" or role == "developer") and text:
                system.append(text)
        elif type(item_type) is str:
            if item_type.endswith("_call_output"):
                text, images = _call_output(item)
                turns.append(Turn("tool", text, images, 0, 1))
            elif item_type.endswith("_call"):
                # consecutive calls belong to one assistant turn, as in chat completions
                if turns and turns[-1].role == "assistant":
                    turns[-1].tool_calls += 1
                else:
                    turns.append(Turn("assistant", "", 0, 1))
            # reasoning, item_reference, mcp_list_tools...: no conversation text
    return turns


def _declared_tools(
    req: dict, name_of: Callable[[dict], Any]
) -> tuple[tuple[str, ...], str | None]:
    """Names and schema hash of the ``tools`` a request declares; ``name_of`` reads one
    tool's name in the API's shape, and a tool without one is named by its ``type``."""
    tools = req.get("tools")
    if type(tools) is not list:
        return (), None
    declared: list[Any] = []
    names: list[str] = []
    for tool in tools:
        if type(tool) is not dict:
            continue
        declared.append(tool)
        name = name_of(tool)
        if type(name) is not str:
            name = tool.get("type")
        if type(name) is str:
            names.append(name)
    return tuple(names), tool_schema_hash(declared)


def _responses_tool_name(tool: dict) -> Any:
    name = tool.get("name")
    if type(name) is not str and tool.get("type") == "mcp":
        return tool.get("server_label")
    return name


def _responses_tools(req: dict) -> tuple[tuple[str, ...], str | None]:
    return _declared_tools(req, _responses_tool_name)


def _responses_response(resp: dict) -> tuple[str, int, int, str | None]:
    output = resp.get("output")
    texts: list[str] = []
    reasoning = 0
    n_calls = 0
    if type(output) is list:
        for item in output:
            if type(item) is not dict:
                continue
            item_type = item.get("type")
            if item_type == "message":
                text, _ = _responses_content(item.get("content"))
                if text:
                    texts.append(text)
            elif item_type == "reasoning":
                for key in ("summary", "content"):
                    parts = item.get(key)
                    if type(parts) is list:
                        for part in parts:
                            if type(part) is dict:
                                text = part.get("text")
                                if type(text) is str:
                                    reasoning += len(text)
            elif type(item_type) is str and item_type.endswith("_call"):
                n_calls += 1
    status = _opt_str(resp.get("status"))
    if status == "incomplete":
        details = resp.get("incomplete_details")
        if type(details) is dict and type(details.get("reason")) is str:
            status = details["reason"]
    return "\n\n".join(texts), reasoning, n_calls, status


# --------------------------------------------------------------------------
# Anthropic messages
# --------------------------------------------------------------------------


def _anthropic_blocks(blocks: list[Any] | tuple[()]) -> tuple[str, int, int, str, int, int]:
    """(text, images, tool_use, tool-result text, tool-result images, tool results)."""
    texts: list[str] = []
    images = 0
    uses = 0
    result_texts: list[str] = []
    result_images = 0
    results = 0
    for block in blocks:
        if type(block) is not dict:
            if type(block) is str:
                texts.append(block)
            continue
        block_type = block.get("type")
        if block_type == "text":
            text = block.get("text")
            if type(text) is str:
                texts.append(text)
        elif block_type == "image":
            images += 1
        elif block_type == "tool_result":
            results += 1
            inner = block.get("content")
            if type(inner) is str:
                result_texts.append(inner)
            elif type(inner) is list:
                text, inner_images, _, _, _, _ = _anthropic_blocks(inner)
                if text:
                    result_texts.append(text)
                result_images += inner_images
        elif type(block_type) is str:
            if block_type == "tool_use" or block_type.endswith("_tool_use"):
                uses += 1
            elif block_type.endswith("_tool_result"):
                results += 1
        # document, thinking, redacted_thinking, search_result: no conversation text
    return "\n".join(texts), images, uses, "\n".join(result_texts), result_images, results


def _anthropic_request(req: dict, system: list[str]) -> list[Turn]:
    system_field = req.get("system")
    if type(system_field) is str:
        if system_field:
            system.append(system_field)
    elif type(system_field) is list:
        text = _anthropic_blocks(system_field)[0]
        if text:
            system.append(text)
    turns: list[Turn] = []
    messages = req.get("messages")
    if type(messages) is not list:
        return turns
    for message in messages:
        if type(message) is not dict:
            continue
        role = message.get("role")
        content = message.get("content")
        if type(content) is str:
            if role == "user" or role == "assistant":
                turns.append(Turn(role, content))
            continue
        if type(content) is not list:
            content = ()  # unreadable content: the turn still happened, its text is unknown
        text, images, uses, result_text, result_images, results = _anthropic_blocks(content)
        if role == "user":
            # tool results travel in user messages; give them their own "tool" turn so
            # that last_user_text means what the person asked, as for OpenAI shapes
            if results:
                turns.append(Turn("tool", result_text, result_images, 0, results))
                if text or images:
                    turns.append(Turn("user", text, images))
            else:
                turns.append(Turn("user", text, images))
        elif role == "assistant":
            turns.append(Turn("assistant", text, images, uses))
    return turns


def _anthropic_tools(req: dict) -> tuple[tuple[str, ...], str | None]:
    return _declared_tools(req, _plain_name)


def _plain_name(tool: dict) -> Any:
    return tool.get("name")


def _anthropic_response(resp: dict) -> tuple[str, int, int, str | None]:
    content = resp.get("content")
    texts: list[str] = []
    reasoning = 0
    n_calls = 0
    if type(content) is list:
        for block in content:
            if type(block) is not dict:
                continue
            block_type = block.get("type")
            if block_type == "text":
                text = block.get("text")
                if type(text) is str:
                    texts.append(text)
            elif block_type == "thinking":
                thought = block.get("thinking")
                if type(thought) is str:
                    reasoning += len(thought)
            elif type(block_type) is str and (
                block_type == "tool_use" or block_type.endswith("_tool_use")
            ):
                n_calls += 1
    return "".join(texts), reasoning, n_calls, _opt_str(resp.get("stop_reason"))


# --------------------------------------------------------------------------
# the record
# --------------------------------------------------------------------------

# Exchange is built positionally (twice as fast as keywords on the hot path);
# this guard turns a reordering of record.py into an import error, not bad data.
_EXCHANGE_ORDER = [
    "id",
    "ts",
    "account_id",
    "api",
    "model",
    "system",
    "turns",
    "tool_names",
    "tool_schema_hash",
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "logprobs",
    "top_logprobs",
    "stream",
    "reasoning_effort",
    "thinking_budget",
    "response_format",
    "response_text",
    "response_reasoning_chars",
    "response_tool_calls",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "status",
    "latency_ms",
    "org_id",
    "api_key_id",
    "user_id",
    "session_id",
    "client",
    "account",
]
if [f.name for f in fields(Exchange)][: len(_EXCHANGE_ORDER)] != _EXCHANGE_ORDER:
    raise ImportError("distillwatch.record.Exchange field order changed; update ingest.parse")


def _missing_or_wrong(obj: dict, name: str, expected: str) -> RecordError:
    if name not in obj:
        return RecordError(f"missing required field '{name}'")
    value = obj[name]
    return RecordError(f"field '{name}' must be {expected}, got {_json_type(value)}")


def _client(value: dict) -> ClientInfo:
    get = value.get
    ip = get("ip")
    user_agent = get("user_agent")
    tls = get("tls_fingerprint")
    asn = get("asn")
    country = get("country")
    access_path = get("access_path")
    return ClientInfo(
        ip if type(ip) is str else None,
        user_agent if type(user_agent) is str else None,
        tls if type(tls) is str else None,
        asn if type(asn) is int else _opt_int(asn),
        country if type(country) is str else None,
        access_path if type(access_path) is str else None,
    )


def _account(value: dict) -> AccountInfo:
    get = value.get
    created = get("created_at")
    created_at: float | None = None
    if created is not None and type(created) is not bool:
        try:
            created_at = parse_ts(created)
        except RecordError:
            created_at = None
    tier = get("tier")
    payment = get("payment_fingerprint")
    verified = get("verified")
    domain = get("email_domain")
    return AccountInfo(
        created_at,
        tier if type(tier) is str else None,
        payment if type(payment) is str else None,
        verified if type(verified) is bool else None,
        domain if type(domain) is str else None,
    )


def _usage_ints(usage: Any, first: str, second: str) -> tuple[int | None, int | None]:
    if type(usage) is not dict:
        return None, None
    a = usage.get(first)
    b = usage.get(second)
    return (a if type(a) is int else _opt_int(a)), (b if type(b) is int else _opt_int(b))


def _required(obj: Any) -> tuple[str, float, str, str, dict]:
    """Check the required fields in contract order; the one place rejection reasons come from."""
    if type(obj) is not dict:
        raise RecordError(f"record must be a JSON object, got {_json_type(obj)}")
    get = obj.get
    ex_id = get("id")
    if type(ex_id) is not str:
        raise _missing_or_wrong(obj, "id", "a string")
    raw_ts = get("ts")
    if type(raw_ts) is str:
        ts = _parse_rfc3339(raw_ts)
    elif raw_ts is None or type(raw_ts) is bool:
        raise _missing_or_wrong(obj, "ts", "an RFC 3339 string or epoch number")
    else:
        ts = parse_ts(raw_ts)
    account_id = get("account_id")
    if type(account_id) is not str or not account_id:
        raise _missing_or_wrong(obj, "account_id", "a non-empty string")
    api = get("api")
    if type(api) is not str:
        raise _missing_or_wrong(obj, "api", "a string")
    if api not in API_SHAPES:
        raise RecordError(f"unknown api {api!r} (expected one of {', '.join(API_SHAPES)})")
    req = get("request")
    if type(req) is not dict:
        raise _missing_or_wrong(obj, "request", "an object")
    return ex_id, ts, account_id, api, req


def required_ts(obj: Any) -> float:
    """``ts`` of a record whose required fields are all valid; RecordError (same reason
    parse_record would give) otherwise. Once this passes, parse_record cannot fail."""
    return _required(obj)[1]


def parse_record(obj: dict) -> Exchange:
    """Exchange-log v1 object -> canonical Exchange; RecordError with the reason otherwise.

    Written flat on purpose (inline type checks instead of helper calls): a
    function call costs as much as the check itself and this runs per exchange.
    """
    ex_id, ts, account_id, api, req = _required(obj)
    get = obj.get
    resp = get("response")
    if type(resp) is not dict:
        resp = None
    req_get = req.get

    system: list[str] = []
    reasoning_effort: Any = None
    thinking_budget: Any = None
    response_format: Any = None
    n: Any = None
    logprobs: Any = None
    top_logprobs: Any = None
    reasoning_tokens: Any = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    request_user: Any = None
    text = ""
    reasoning_chars = 0
    n_calls = 0
    finish: str | None = None

    if api == API_CHAT:
        turns = _chat_request(req, system)
        if "tools" in req or "functions" in req:
            tool_names, tool_hash = _chat_tools(req)
        else:
            tool_names, tool_hash = (), None
        max_tokens = req_get("max_completion_tokens")
        if max_tokens is None:
            max_tokens = req_get("max_tokens")
        n = req_get("n")
        logprobs = req_get("logprobs")
        top_logprobs = req_get("top_logprobs")
        reasoning_effort = req_get("reasoning_effort")
        fmt = req_get("response_format")
        if type(fmt) is dict:
            response_format = fmt.get("type")
        request_user = req_get("user") or req_get("safety_identifier")
        if resp is not None:
            text, reasoning_chars, n_calls, finish = _chat_response(resp)
            usage = resp.get("usage")
            if usage is not None:
                input_tokens, output_tokens = _usage_ints(
                    usage, "prompt_tokens", "completion_tokens"
                )
                details = usage.get("completion_tokens_details") if type(usage) is dict else None
                if type(details) is dict:
                    reasoning_tokens = details.get("reasoning_tokens")
    elif api == API_RESPONSES:
        turns = _responses_request(req, system)
        tool_names, tool_hash = _responses_tools(req)
        max_tokens = req_get("max_output_tokens")
        top_logprobs = req_get("top_logprobs")
        include = req_get("include")
        if type(include) is list and "message.output_text.logprobs" in include:
            logprobs = True
        reasoning = req_get("reasoning")
        if type(reasoning) is dict:
            reasoning_effort = reasoning.get("effort")
        text_cfg = req_get("text")
        if type(text_cfg) is dict:
            fmt = text_cfg.get("format")
            if type(fmt) is dict:
                response_format = fmt.get("type")
        request_user = req_get("user") or req_get("safety_identifier")
        if resp is not None:
            text, reasoning_chars, n_calls, finish = _responses_response(resp)
            usage = resp.get("usage")
            if usage is not None:
                input_tokens, output_tokens = _usage_ints(usage, "input_tokens", "output_tokens")
                details = usage.get("output_tokens_details") if type(usage) is dict else None
                if type(details) is dict:
                    reasoning_tokens = details.get("reasoning_tokens")
    elif api == API_ANTHROPIC:
        turns = _anthropic_request(req, system)
        tool_names, tool_hash = _anthropic_tools(req)
        max_tokens = req_get("max_tokens")
        thinking = req_get("thinking")
        if type(thinking) is dict:
            thinking_budget = thinking.get("budget_tokens")
        output_config = req_get("output_config")
        if type(output_config) is dict:
            reasoning_effort = output_config.get("effort")
        metadata = req_get("metadata")
        if type(metadata) is dict:
            request_user = metadata.get("user_id")
        if resp is not None:
            text, reasoning_chars, n_calls, finish = _anthropic_response(resp)
            usage = resp.get("usage")
            if usage is not None:
                input_tokens, output_tokens = _usage_ints(usage, "input_tokens", "output_tokens")
                # input_tokens excludes cached prompt tokens; add them back so the
                # figure means "prompt size" as it does for the OpenAI shapes
                if input_tokens is not None:
                    for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
                        cached = _opt_int(usage.get(key))
                        if cached:
                            input_tokens += cached
    else:  # unreachable: _required accepts only API_SHAPES
        raise RecordError(f"unknown api {api!r}")

    # optional values: the wrong type means unknown (None), never a rejection
    model = req_get("model")
    if type(model) is not str:
        model = resp.get("model") if resp is not None else None
        if type(model) is not str:
            model = None
    if type(max_tokens) is not int:
        max_tokens = _opt_int(max_tokens)
    temperature = req_get("temperature")
    if type(temperature) is not float:
        temperature = float(temperature) if type(temperature) is int else None
    top_p = req_get("top_p")
    if type(top_p) is not float:
        top_p = float(top_p) if type(top_p) is int else None
    if n is not None and type(n) is not int:
        n = _opt_int(n)
    if logprobs is not None and type(logprobs) is not bool:
        logprobs = None
    if top_logprobs is not None and type(top_logprobs) is not int:
        top_logprobs = _opt_int(top_logprobs)
    stream = req_get("stream")
    if type(stream) is not bool:
        stream = None
    if reasoning_effort is not None and type(reasoning_effort) is not str:
        reasoning_effort = None
    if thinking_budget is not None and type(thinking_budget) is not int:
        thinking_budget = _opt_int(thinking_budget)
    if response_format is not None and type(response_format) is not str:
        response_format = None
    if reasoning_tokens is not None and type(reasoning_tokens) is not int:
        reasoning_tokens = _opt_int(reasoning_tokens)

    status = get("status")
    if type(status) is not int:
        status = 200
    latency = get("latency_ms")
    if type(latency) is not float:
        latency = float(latency) if type(latency) is int else None
    org_id = get("org_id")
    if type(org_id) is not str:
        org_id = None
    api_key_id = get("api_key_id")
    if type(api_key_id) is not str:
        api_key_id = None
    user_id = get("user_id")
    if type(user_id) is not str:
        user_id = request_user if type(request_user) is str else None
    session_id = get("session_id")
    if type(session_id) is not str:
        session_id = None
    client = get("client")
    account = get("account")

    return Exchange(
        ex_id,
        ts,
        account_id,
        api,
        model,
        "\n\n".join(system) if system else "",
        turns,
        tool_names,
        tool_hash,
        max_tokens,
        temperature,
        top_p,
        n,
        logprobs,
        top_logprobs,
        stream,
        reasoning_effort,
        thinking_budget,
        response_format,
        text,
        reasoning_chars,
        n_calls,
        finish,
        input_tokens,
        output_tokens,
        reasoning_tokens,
        status,
        latency,
        org_id,
        api_key_id,
        user_id,
        session_id,
        _client(client) if type(client) is dict else ClientInfo(),
        _account(account) if type(account) is dict else AccountInfo(),
    )


def parse_line(raw: bytes | str) -> Exchange:
    """One JSONL line -> Exchange; malformed JSON becomes a RecordError like any other reason."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"malformed JSON: {exc}") from None
    return parse_record(obj)
