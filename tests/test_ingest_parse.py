"""parse_record on the three API shapes, on every class of bad record, and on timestamps.

The fixtures in tests/fixtures/api/ follow the request and response examples
of each provider's API reference; every canonical field is checked, with the
dataclass default standing for "not set" so that nothing goes unchecked.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillwatch.ingest.parse import (
    RecordError,
    parse_line,
    parse_record,
    parse_ts,
    to_rfc3339,
    tool_schema_hash,
)
from distillwatch.record import Exchange, Turn

FIXTURES = Path(__file__).parent / "fixtures" / "api"


def load(name: str) -> dict[str, Exchange]:
    lines = (FIXTURES / name).read_bytes().splitlines()
    return {ex.id: ex for ex in map(parse_line, lines)}


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def defaults() -> dict[str, Any]:
    """Every Exchange field at its 'not set' value."""
    probe = Exchange(id="", ts=0.0, account_id="", api="")
    return dataclasses.asdict(probe)


def assert_exchange(ex: Exchange, **expected: Any) -> None:
    """Compare ALL fields: the ones given, and defaults for the rest."""
    want = defaults()
    unknown = set(expected) - set(want)
    assert not unknown, f"not Exchange fields: {unknown}"
    for key, value in expected.items():
        if key == "turns":
            value = [dataclasses.asdict(t) for t in value]
        elif key in ("client", "account"):
            value = {**want[key], **value}
        want[key] = value
    got = dataclasses.asdict(ex)
    for key in want:
        assert got[key] == want[key], f"{ex.id}.{key}: {got[key]!r} != {want[key]!r}"


# ---------------------------------------------------------------------------
# OpenAI chat completions
# ---------------------------------------------------------------------------


def test_chat_completions_with_tools_images_and_tool_results() -> None:
    ex = load("chat_completions.jsonl")["chat_tools_1"]
    assert_exchange(
        ex,
        id="chat_tools_1",
        ts=epoch("2026-02-03T10:15:30.123+00:00"),
        account_id="acct_chat",
        api="openai.chat.completions",
        model="gpt-4.1",
        system="You are a helpful assistant.\n\nAnswer in metric units.",
        turns=[
            Turn("user", "What's in this image?", images=1),
            Turn("assistant", "A wooden boardwalk through tall green grass under a blue sky."),
            Turn("user", "What is the weather like in Paris today?"),  # audio + file: no text
            Turn("assistant", "", tool_calls=1),
            Turn("tool", "14", tool_results=1),
        ],
        tool_names=("get_weather", "send_email"),
        tool_schema_hash=ex.tool_schema_hash,  # checked for stability below
        max_tokens=1024,  # max_completion_tokens wins over the legacy max_tokens
        temperature=1.0,
        top_p=0.9,
        reasoning_effort="low",
        response_format="text",
        response_text="The current temperature in Paris is 14°C (57.2°F).",
        finish_reason="stop",
        input_tokens=19,
        output_tokens=10,
        reasoning_tokens=0,
        status=200,
        latency_ms=812.5,
        org_id="org_1",
        api_key_id="key_1",
        user_id="end-user-77",  # request "user" when no top-level user_id
        session_id="sess_1",
        client={
            "ip": "203.0.113.7",
            "user_agent": "openai-python/1.99.0",
            "tls_fingerprint": "t13d1516h2_8daaf6152771",
            "asn": 64500,
            "country": "NL",
            "access_path": "direct",
        },
        account={
            "created_at": epoch("2026-01-15T07:00:00+00:00"),
            "tier": "startup",
            "payment_fingerprint": "pf_9c1",
            "verified": True,
            "email_domain": "example.com",
        },
    )
    assert isinstance(ex.tool_schema_hash, str) and len(ex.tool_schema_hash) == 16
    int(ex.tool_schema_hash, 16)
    assert ex.images == 1 and ex.tool_results == 1 and ex.n_user_turns == 2
    assert ex.last_user_text == "What is the weather like in Paris today?"


def test_chat_completions_parallel_calls_reasoning_and_sampling_parameters() -> None:
    by_id = load("chat_completions.jsonl")
    ex = by_id["chat_calls_2"]
    assert_exchange(
        ex,
        id="chat_calls_2",
        ts=1770113731.5,
        account_id="acct_chat",
        api="openai.chat.completions",
        model="o4-mini",
        turns=[
            Turn(
                "user", "Can you send an email to ilan@example.com and katia@example.com saying hi?"
            )
        ],
        tool_names=("send_email", "get_weather"),
        tool_schema_hash=by_id["chat_tools_1"].tool_schema_hash,  # same tools, other order
        n=2,
        logprobs=True,
        top_logprobs=3,
        stream=True,
        response_format="json_object",
        response_text="I will send both emails.",
        response_reasoning_chars=len("Two recipients, so two calls.") + len("Say so first."),
        response_tool_calls=2,
        finish_reason="tool_calls",  # of the first choice
        input_tokens=91,
        output_tokens=74,
        reasoning_tokens=64,
    )


def test_chat_completions_legacy_functions() -> None:
    ex = load("chat_completions.jsonl")["chat_legacy_3"]
    assert_exchange(
        ex,
        id="chat_legacy_3",
        ts=epoch("2026-02-03T10:15:30+00:00"),
        account_id="acct_legacy",
        api="openai.chat.completions",
        model="gpt-3.5-turbo-0613",
        turns=[
            Turn("user", "What's the weather like in Boston?"),
            Turn("assistant", "", tool_calls=1),
            Turn("tool", '{"temperature": "22", "unit": "celsius"}', tool_results=1),
        ],
        tool_names=("get_current_weather",),
        tool_schema_hash=ex.tool_schema_hash,
        max_tokens=256,
        status=429,
    )
    assert ex.tool_schema_hash is not None


# ---------------------------------------------------------------------------
# OpenAI responses
# ---------------------------------------------------------------------------


def test_responses_with_function_calls_reasoning_and_builtin_tools() -> None:
    ex = load("responses.jsonl")["resp_tools_1"]
    assert_exchange(
        ex,
        id="resp_tools_1",
        ts=epoch("2026-02-04T09:00:00.500+00:00"),
        account_id="acct_agent",
        api="openai.responses",
        model="o3",
        system="You are a coding agent. Use tools when needed.\n\nPrefer concise answers.",
        turns=[
            Turn("user", "what is in this image, and what's the weather there?", images=1),
            Turn("assistant", "", tool_calls=2),  # two function_call items, one turn
            Turn("tool", "14", tool_results=1),
            Turn("tool", "19", tool_results=1),
        ],
        tool_names=(
            "get_weather",
            "web_search_preview",
            "file_search",
            "computer_use_preview",
            "deepwiki",
        ),
        tool_schema_hash=ex.tool_schema_hash,
        max_tokens=2048,
        temperature=0.2,
        top_p=1.0,
        logprobs=True,
        top_logprobs=2,
        stream=False,
        reasoning_effort="high",
        response_format="json_schema",
        response_text="Madison is 14°C; Paris is 19°C.",
        response_reasoning_chars=len("**Comparing temperatures**") + len("Paris is warmer."),
        response_tool_calls=1,
        finish_reason="completed",
        input_tokens=328,
        output_tokens=52,
        reasoning_tokens=32,
        user_id="top-level-user",  # the top-level field wins over request "user"
    )


def test_responses_computer_use_and_incomplete_status() -> None:
    ex = load("responses.jsonl")["resp_computer_2"]
    assert_exchange(
        ex,
        id="resp_computer_2",
        ts=1770195600.0,
        account_id="acct_agent",
        api="openai.responses",
        model="computer-use-preview",
        turns=[
            Turn("user", "Check the latest OpenAI news on bing.com."),
            Turn("assistant", "", tool_calls=1),
            Turn("tool", "", images=1, tool_results=1),  # the screenshot
        ],
        tool_names=("computer_use_preview",),
        tool_schema_hash=ex.tool_schema_hash,
        response_tool_calls=1,
        finish_reason="max_output_tokens",
        input_tokens=1200,
        output_tokens=16,
    )


def test_responses_string_input_without_response() -> None:
    ex = load("responses.jsonl")["resp_plain_3"]
    assert_exchange(
        ex,
        id="resp_plain_3",
        ts=epoch("2026-02-04T09:00:02+00:00"),
        account_id="acct_plain",
        api="openai.responses",
        model="gpt-4.1",
        turns=[Turn("user", "Tell me a three sentence bedtime story about a unicorn.")],
    )


# ---------------------------------------------------------------------------
# Anthropic messages
# ---------------------------------------------------------------------------


def test_anthropic_system_blocks_thinking_tools_images_and_tool_results() -> None:
    ex = load("anthropic_messages.jsonl")["msg_tools_1"]
    assert_exchange(
        ex,
        id="msg_tools_1",
        ts=epoch("2026-02-05T20:00:00.250+00:00"),
        account_id="acct_claude",
        api="anthropic.messages",
        model="claude-sonnet-4-5",
        system=(
            "You are an AI assistant tasked with analyzing literary works.\n"
            "<the entire contents of Pride and Prejudice>"
        ),
        turns=[
            Turn(
                "user",
                "Compare these images. Also, what's the weather like in San Francisco?",
                images=2,
            ),
            Turn("assistant", "I'll check the weather.", tool_calls=1),  # thinking not text
            Turn("tool", "15 degrees\nscreenshot taken", images=1, tool_results=2),
            Turn("user", "Thanks. Now summarise."),
        ],
        tool_names=("get_weather", "computer", "web_search", "bash"),
        tool_schema_hash=ex.tool_schema_hash,
        max_tokens=16000,
        temperature=1.0,
        stream=True,
        thinking_budget=10000,
        response_text="It is 15 degrees in San Francisco. Both images show animals.",
        response_reasoning_chars=len("Let me analyze this step by step..."),
        response_tool_calls=1,
        finish_reason="tool_use",
        input_tokens=2095 + 100 + 2000,  # cache creation and reads are prompt tokens too
        output_tokens=503,
        user_id="13803d75-b4b5-4c3e-b2a2-6f21399b021b",  # metadata.user_id
        client={"ip": "2001:db8::1", "access_path": "cloud:bedrock"},  # asn was text: unknown
        account={"created_at": 1767225600.0},  # verified was text: unknown
    )
    assert ex.last_user_text == "Thanks. Now summarise."
    assert ex.tool_results == 2 and ex.images == 3


def test_anthropic_string_system_and_string_content() -> None:
    ex = load("anthropic_messages.jsonl")["msg_plain_2"]
    assert_exchange(
        ex,
        id="msg_plain_2",
        ts=epoch("2026-02-05T20:00:01+00:00"),
        account_id="acct_claude",
        api="anthropic.messages",
        model="claude-opus-4-1",
        system="Respond only in Spanish.",
        turns=[
            Turn("user", "Hello, Claude"),
            Turn("assistant", "Hola"),
            Turn("user", "Can you describe LLMs to me?"),
        ],
        max_tokens=1024,
        response_text="Hola! Los LLM son modelos de lenguaje.",
        finish_reason="end_turn",
        input_tokens=2095,
        output_tokens=503,
        latency_ms=None,  # "slow" is not a number: unknown, not a rejection
    )


# ---------------------------------------------------------------------------
# tool schema hash
# ---------------------------------------------------------------------------


def test_tool_schema_hash_ignores_order_but_not_content() -> None:
    a = {"type": "function", "function": {"name": "a", "parameters": {"x": 1, "y": 2}}}
    a_reordered_keys = {
        "function": {"parameters": {"y": 2, "x": 1}, "name": "a"},
        "type": "function",
    }
    b = {"type": "function", "function": {"name": "b"}}
    assert tool_schema_hash([a, b]) == tool_schema_hash([b, a_reordered_keys])
    assert tool_schema_hash([a, b]) != tool_schema_hash([a])
    changed = {"type": "function", "function": {"name": "a", "parameters": {"x": 1, "y": 3}}}
    assert tool_schema_hash([a, b]) != tool_schema_hash([changed, b])
    assert tool_schema_hash([]) is None


# ---------------------------------------------------------------------------
# bad records: one precise reason per class
# ---------------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "id": "x1",
    "ts": "2026-02-03T10:15:30Z",
    "account_id": "acct",
    "api": "anthropic.messages",
    "request": {"messages": [{"role": "user", "content": "hi"}]},
}


def without(field: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != field}


@pytest.mark.parametrize("field", ["id", "ts", "account_id", "api", "request"])
def test_missing_required_field_is_named(field: str) -> None:
    with pytest.raises(RecordError, match=f"^missing required field '{field}'$"):
        parse_record(without(field))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id", 17, "field 'id' must be a string, got integer"),
        ("id", None, "field 'id' must be a string, got null"),
        ("account_id", "", "field 'account_id' must be a non-empty string, got string"),
        ("account_id", ["a"], "field 'account_id' must be a non-empty string, got array"),
        ("api", 3.5, "field 'api' must be a string, got number"),
        ("request", "hello", "field 'request' must be an object, got string"),
        ("request", None, "field 'request' must be an object, got null"),
        ("ts", True, "field 'ts' must be an RFC 3339 string or epoch number, got boolean"),
        ("ts", None, "field 'ts' must be an RFC 3339 string or epoch number, got null"),
    ],
)
def test_wrong_type_of_required_field(field: str, value: Any, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse_record({**GOOD, field: value})
    assert str(caught.value) == reason


def test_unknown_api_lists_the_known_ones() -> None:
    with pytest.raises(RecordError, match="^unknown api 'google.gemini' .*openai.responses"):
        parse_record({**GOOD, "api": "google.gemini"})
    with pytest.raises(RecordError, match="^unknown api 'x'"):
        parse_record({**GOOD, "api": "x", "request": None})  # api judged before request


@pytest.mark.parametrize(
    ("ts", "reason"),
    [
        ("2026-02-03T10:15:30", "needs an offset"),
        ("2026-02-03 10:15:30.5", "needs an offset"),
        ("2026-02-03", "not an RFC 3339 date-time"),
        ("yesterday at noon", "not an RFC 3339 date-time"),
        ("2026-02-30T10:15:30Z", "day is out of range"),
        ("2026-13-03T10:15:30Z", "month must be in 1..12"),
        ("2026-02-03T24:00:00Z", "time of day out of range"),
        ("2026-02-03T10:15:30.Z", "malformed seconds"),
        ("2026-02-03T10:15:30+0200", "needs an offset"),
        ("2026-02-03T10:15:30+25:00", "malformed offset"),
        ("2026-02-03T10:15:30,5Z", "malformed seconds"),
        ("1770113730", "not an RFC 3339 date-time"),
        (1770113730123, "out of range (milliseconds?)"),
        (-5, "out of range"),
        (float("nan"), "out of range"),
    ],
)
def test_bad_ts_reasons(ts: Any, reason: str) -> None:
    with pytest.raises(RecordError, match="^bad ts") as caught:
        parse_record({**GOOD, "ts": ts})
    assert reason in str(caught.value)


def test_not_an_object_and_malformed_json() -> None:
    with pytest.raises(RecordError, match="^record must be a JSON object, got array$"):
        parse_record([1, 2])  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="^malformed JSON: "):
        parse_line(b'{"id": "x1", "ts": ')
    with pytest.raises(RecordError, match="^record must be a JSON object, got string$"):
        parse_line(b'"just a string"')


def test_optional_fields_of_wrong_type_are_unknown_not_rejected() -> None:
    ex = parse_record(
        {
            **GOOD,
            "status": "200",
            "latency_ms": [1],
            "org_id": 5,
            "api_key_id": {},
            "user_id": 9,
            "session_id": False,
            "client": "203.0.113.9",
            "account": {"created_at": "last year", "tier": 3, "verified": 1},
            "response": "not an object",
            "request": {
                "model": 4,
                "messages": [{"role": "user", "content": 12}, "junk", None],
                "max_tokens": "lots",
                "temperature": "hot",
                "stream": "yes",
                "tools": "none",
                "metadata": {"user_id": 42},
            },
        }
    )
    assert ex.status == 200  # the contract's default
    assert (ex.latency_ms, ex.org_id, ex.api_key_id, ex.user_id, ex.session_id) == (None,) * 5
    assert dataclasses.asdict(ex.client) == dict.fromkeys(dataclasses.asdict(ex.client))
    assert dataclasses.asdict(ex.account) == dict.fromkeys(dataclasses.asdict(ex.account))
    assert ex.model is None and ex.max_tokens is None and ex.temperature is None
    assert ex.stream is None and ex.tool_names == () and ex.tool_schema_hash is None
    assert ex.turns == [Turn("user", "")]
    assert ex.response_text == "" and ex.finish_reason is None and ex.output_tokens is None


def test_unknown_fields_are_ignored_and_model_falls_back_to_response() -> None:
    ex = parse_record(
        {
            **GOOD,
            "api": "openai.chat.completions",
            "request": {"messages": [{"role": "user", "content": "hi"}], "seed": 3},
            "response": {"model": "served-model", "choices": []},
            "x_vendor_field": {"anything": True},
        }
    )
    assert ex.model == "served-model"
    assert ex.turns == [Turn("user", "hi")]


# ---------------------------------------------------------------------------
# timestamps
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-03T10:15:30Z",
        "2026-02-03T10:15:30.123Z",
        "2026-02-03t10:15:30.123456z",
        "2026-02-03 10:15:30+02:00",
        "2026-02-03T10:15:30.1-05:30",
        "2024-02-29T23:59:59.999999+00:00",
        "1970-01-01T00:00:00Z",
    ],
)
def test_parse_ts_matches_datetime(text: str) -> None:
    reference = datetime.fromisoformat(text.upper().replace("Z", "+00:00")).timestamp()
    assert parse_ts(text) == pytest.approx(reference, abs=1e-6)


def test_parse_ts_numbers_and_datetimes() -> None:
    assert parse_ts(1770113730) == 1770113730.0
    assert parse_ts(1770113730.25) == 1770113730.25
    naive = datetime(2026, 2, 3, 10, 15, 30)
    assert parse_ts(naive) == datetime(2026, 2, 3, 10, 15, 30, tzinfo=UTC).timestamp()
    assert parse_ts("2026-02-03T10:15:30.123456789Z") == pytest.approx(1770113730.123456789)


def test_to_rfc3339_round_trips_to_the_millisecond() -> None:
    assert to_rfc3339(1770113730.123) == "2026-02-03T10:15:30.123Z"
    assert to_rfc3339(0.0) == "1970-01-01T00:00:00.000Z"
    assert to_rfc3339(1770113730.9996) == "2026-02-03T10:15:31.000Z"  # rounds, no ".1000"
    for ts in (1770113730.5, 1709251199.999, 951782400.0):
        assert parse_ts(to_rfc3339(ts)) == pytest.approx(ts, abs=5e-4)


def test_parse_record_does_not_mutate_its_input() -> None:
    record = orjson.loads((FIXTURES / "anthropic_messages.jsonl").read_bytes().splitlines()[0])
    before = orjson.dumps(record)
    parse_record(record)
    assert orjson.dumps(record) == before


@pytest.mark.parametrize(
    "bad",
    [
        without("id"),
        {**GOOD, "ts": "noon", "id": 3},  # id is judged first
        {**GOOD, "ts": "noon"},
        {**GOOD, "account_id": ""},
        {**GOOD, "api": "x", "request": None},
        {**GOOD, "request": []},
        [GOOD],
    ],
)
def test_required_ts_rejects_exactly_as_parse_record_does(bad: Any) -> None:
    from distillwatch.ingest.parse import required_ts

    with pytest.raises(RecordError) as full:
        parse_record(bad)
    with pytest.raises(RecordError) as quick:
        required_ts(bad)
    assert str(quick.value) == str(full.value)
    assert required_ts(GOOD) == parse_record(GOOD).ts
