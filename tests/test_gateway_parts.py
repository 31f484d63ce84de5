"""Unit tests of the gateway's parts: config, keys, buckets, policy, SSE, metrics, LiteLLM hooks."""

from __future__ import annotations

import orjson
import pytest

from _gateway_support import FakeEngine, FakeStore
from distillwatch.gateway.config import (
    BucketConfig,
    GatewayConfig,
    PolicyConfig,
    RateLimitConfig,
    Trigger,
    load_config,
)
from distillwatch.gateway.keys import ClientResolver, KeyDirectory, extract_key, hash_key, key_id
from distillwatch.gateway.litellm_guardrail import DistillwatchGuardrail, GuardrailRefusal
from distillwatch.gateway.metrics import GatewayMetrics
from distillwatch.gateway.policy import PolicyEngine
from distillwatch.gateway.ratelimit import Throttle
from distillwatch.gateway.recorder import PendingExchange, Recorder
from distillwatch.gateway.streams import ReasoningStreamFilter, SseParser, iter_events, reassemble


def test_config_file_round_trip(tmp_path, monkeypatch) -> None:
    digest = hash_key("sk-abc")
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
upstream = "http://127.0.0.1:9999"
upstream_client = "aiohttp"
fail_mode = "closed"
trusted_proxies = ["10.0.0.0/8", "fd00::/8"]
admin_token_env = "DW_TEST_ADMIN"

[policy.block]
verdicts = ["distillation"]
risk = 0.97

[ratelimit.family]
rate = 3
burst = 7

[recorder]
jsonl = "logs/x.jsonl"

[[accounts]]
key_sha256 = "{digest}"
account_id = "acct_9"
org_id = "org_9"
tier = "edu"
region = "eu"
"""
    )
    monkeypatch.setenv("DW_TEST_ADMIN", "from-env")
    config = load_config(path, upstream="http://127.0.0.1:1234")
    assert config.upstream == "http://127.0.0.1:1234"
    assert config.upstream_client == "aiohttp" and config.fail_mode == "closed"
    assert config.admin_token == "from-env"
    assert config.policy.block == Trigger(verdicts=("distillation",), risk=0.97)
    assert config.ratelimit.family == BucketConfig(rate=3.0, burst=7.0)
    assert config.recorder.jsonl == tmp_path / "logs" / "x.jsonl"
    [account] = config.accounts
    assert account.account_id == "acct_9" and account.metadata == {"region": "eu"}


@pytest.mark.parametrize(
    "text",
    [
        '[gateway]\nfail_mode = "maybe"',
        '[gateway]\nupstreem = "http://x"',
        '[[accounts]]\nkey_sha256 = "sk-plaintext"\naccount_id = "a"',
        "[policy.block]\nverdict = 1",
        '[gateway]\ntrusted_proxies = ["not-a-network"]',
        '[gateway]\nupstream_client = "raw"',  # removed: aiohttp and httpx are the clients
    ],
)
def test_bad_config_fails_at_start(tmp_path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError):
        load_config(path)


def test_keys_are_resolved_by_hash_and_never_kept_in_plain() -> None:
    from distillwatch.gateway.config import AccountEntry

    directory = KeyDirectory([AccountEntry(hash_key("sk-1"), "acct_1", org_id="o", tier="free")])
    found = directory.resolve("sk-1")
    assert found is not None and found.account_id == "acct_1" and found.account == {"tier": "free"}
    assert found.api_key_id == key_id(hash_key("sk-1")) and "sk-1" not in found.api_key_id
    assert directory.resolve("sk-2") is None and directory.resolve(None) is None
    assert "sk-1" not in repr(vars(directory))


def test_keys_load_from_store() -> None:
    store = FakeStore()
    store.state["gateway.accounts"] = orjson.dumps(
        [{"key_sha256": hash_key("sk-s"), "account_id": "acct_s"}]
    )
    directory = KeyDirectory()
    assert directory.load_from_store(store) == 1
    assert directory.resolve("sk-s").account_id == "acct_s"


def test_extract_key_from_either_header() -> None:
    assert extract_key({b"authorization": b"Bearer sk-a"}) == "sk-a"
    assert extract_key({b"x-api-key": b"sk-b", b"authorization": b"Bearer sk-a"}) == "sk-b"
    assert extract_key({b"authorization": b"Basic abc"}) is None


def test_forwarded_for_is_walked_from_the_right_through_trusted_hops() -> None:
    resolver = ClientResolver(["10.0.0.0/8", "2001:db8::/32"])
    headers = {b"x-forwarded-for": b"6.6.6.6, 198.51.100.1, 10.0.0.9, 2001:db8::1"}
    assert resolver.resolve("10.0.0.1", headers)["ip"] == "198.51.100.1"
    assert resolver.resolve("192.0.2.10", headers)["ip"] == "192.0.2.10"
    assert resolver.resolve("10.0.0.1", {b"x-forwarded-for": b"10.0.0.3"})["ip"] == "10.0.0.3"


def test_token_bucket_refills_with_time_and_takes_all_or_nothing() -> None:
    now = [0.0]
    throttle = Throttle(
        RateLimitConfig(
            account=BucketConfig(rate=1.0, burst=2),
            campaign=BucketConfig(rate=1.0, burst=1),
            family=BucketConfig(rate=1.0, burst=5),
        ),
        clock=lambda: now[0],
    )
    assert throttle.admit("a", None, "f")[0]
    assert throttle.admit("a", None, "f")[0]
    admitted, retry, bucket = throttle.admit("a", None, "f")
    assert not admitted and bucket == "account" and retry >= 1
    assert throttle.admit("b", "c", None)[0]
    admitted, _, bucket = throttle.admit("b2", "c", "f")
    assert not admitted and bucket == "campaign"
    now[0] = 1.0
    assert throttle.admit("a", None, "f")[0]  # one token back after a second
    # the refused call above took nothing from the family bucket: 3 taken of 5
    assert throttle.family.wait_time("f", now[0]) == 0.0


def test_policy_orders_actions_by_severity() -> None:
    engine = FakeEngine({"s": "suspicious", "d": "distillation", "b": "benign"})
    policy = PolicyEngine(PolicyConfig(), Throttle(RateLimitConfig()))

    def decide(account: str):
        class Ex:
            account_id = account

        return policy.decide(account, engine.assess(Ex()))

    assert decide("b").action == "allow"
    assert decide("d").action == "block" and decide("d").status == 403
    suspicious = decide("s")
    assert suspicious.action == "throttle" and suspicious.withhold_reasoning
    assert policy.decide("b", None).action == "allow"
    policy.overrides["d"] = {"action": "allow", "reason": "vip"}
    assert decide("d").action == "allow" and decide("d").reasons == ["manual allow: vip"]


def test_sse_parser_handles_split_chunks_crlf_and_comments() -> None:
    stream = b': keep-alive\n\nevent: a\r\ndata: {"x":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\n'
    parser = SseParser()
    items = []
    for i in range(len(stream)):  # one byte at a time
        items.extend(parser.feed(stream[i : i + 1]))
    events = [e for e in items if not isinstance(e, bytes)]
    assert [(e.name, e.data) for e in events] == [("a", '{"x":\n1}'), (None, "[DONE]")]
    assert b"".join(e if isinstance(e, bytes) else e.raw for e in items) == stream


def test_chat_reassembly_merges_tool_call_fragments() -> None:
    chunks = [
        {
            "id": "c1",
            "model": "m",
            "created": 1,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "t1",
                                "type": "function",
                                "function": {"name": "get_", "arguments": '{"a"'},
                            }
                        ],
                    },
                }
            ],
        },
        {
            "id": "c1",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "function": {"name": "weather", "arguments": ": 1}"}}
                        ]
                    },
                }
            ],
        },
        {
            "id": "c1",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 3},
        },
    ]
    body = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    result = reassemble("openai.chat.completions", body)
    call = result["choices"][0]["message"]["tool_calls"][0]
    assert call == {
        "id": "t1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"a": 1}'},
    }
    assert result["choices"][0]["finish_reason"] == "tool_calls" and result["usage"] == {
        "prompt_tokens": 3
    }


def test_anthropic_reassembly_parses_tool_input_json() -> None:
    events = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {"id": "m", "content": [], "usage": {"input_tokens": 5}},
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "tool_use", "id": "tu", "name": "f", "input": {}},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": '{"q": '},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": '"x"}'},
            },
        ),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 9},
            },
        ),
    ]
    body = b"".join(
        b"event: " + n.encode() + b"\ndata: " + orjson.dumps(d) + b"\n\n" for n, d in events
    )
    result = reassemble("anthropic.messages", body)
    assert result["content"] == [{"type": "tool_use", "id": "tu", "name": "f", "input": {"q": "x"}}]
    assert result["stop_reason"] == "tool_use" and result["usage"] == {
        "input_tokens": 5,
        "output_tokens": 9,
    }


def test_responses_reassembly_without_completed_event_keeps_finished_items() -> None:
    events = [
        {
            "type": "response.created",
            "response": {"id": "r", "status": "in_progress", "output": []},
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {"type": "message", "content": []},
        },
    ]
    body = b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in events)
    assert reassemble("openai.responses", body)["output"] == [{"type": "message", "content": []}]


def test_stream_filter_keeps_untouched_events_byte_for_byte() -> None:
    raw = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
    chat_filter = ReasoningStreamFilter("openai.chat.completions")
    assert chat_filter.feed(raw[:10]) == b""
    assert chat_filter.feed(raw[10:]) == raw
    mixed = b'data: {"choices":[{"index":0,"delta":{"reasoning_content":"hm","content":"a"}}]}\n\n'
    out = chat_filter.feed(mixed)
    assert orjson.loads(out[6:]) == {"choices": [{"index": 0, "delta": {"content": "a"}}]}
    only_reasoning = b'data: {"choices":[{"index":0,"delta":{"reasoning_content":"hm"}}]}\n\n'
    assert chat_filter.feed(only_reasoning) == b""


def test_metrics_exposition_format() -> None:
    metrics = GatewayMetrics()
    metrics.requests.inc("/v1/x", 'we"ird')
    metrics.added_latency.observe(0.0003)
    metrics.added_latency.observe(0.2)
    text = metrics.render()
    assert 'distillwatch_gateway_requests_total{route="/v1/x",decision="we\\"ird"} 1' in text
    assert 'distillwatch_gateway_added_latency_seconds_bucket{le="0.0005"} 1' in text
    assert 'distillwatch_gateway_added_latency_seconds_bucket{le="+Inf"} 2' in text
    assert "# TYPE distillwatch_gateway_added_latency_seconds histogram" in text


# -- LiteLLM guardrail ------------------------------------------------------------------


class KeyRecord:
    """Stands in for LiteLLM's UserAPIKeyAuth."""

    def __init__(self, user_id: str):
        self.user_id = user_id
        self.team_id = None
        self.org_id = "org_l"
        self.token = "9f86d081884c7d659a2feaa0c55ad015"


def make_guardrail(engine: FakeEngine, store: FakeStore) -> DistillwatchGuardrail:
    config = GatewayConfig()
    recorder = Recorder(store=store, observe=None, flush_interval_s=0.0)
    guard = DistillwatchGuardrail(engine=engine, config=config, recorder=recorder)
    recorder.observe = guard._observe
    return guard


async def test_litellm_pre_call_blocks_distillation_and_records_it() -> None:
    engine, store = FakeEngine({"u_bad": "distillation"}), FakeStore()
    guard = make_guardrail(engine, store)
    data = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "metadata": {"secret": 1},
        "api_key": "sk-x",
    }
    with pytest.raises(Exception) as caught:
        await guard.async_pre_call_hook(KeyRecord("u_bad"), None, data, "completion")
    assert getattr(caught.value, "status_code", None) == 403
    guard.close()
    [row] = store.exchanges
    assert row["status"] == 403 and row["account_id"] == "u_bad" and row["org_id"] == "org_l"
    assert row["request"] == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_litellm_hooks_allow_then_record_and_observe() -> None:
    engine, store = FakeEngine({"u_ok": "benign"}), FakeStore()
    guard = make_guardrail(engine, store)
    data = {
        "model": "m",
        "messages": [{"role": "user", "content": "Explain heaps."}],
        "litellm_call_id": "call-1",
    }
    assert await guard.async_pre_call_hook(KeyRecord("u_ok"), None, data, "completion") is data
    response = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "A heap is..."}}]
    }
    assert await guard.async_post_call_success_hook(data, KeyRecord("u_ok"), response) is response
    assert await guard.async_pre_call_hook(
        KeyRecord("u_ok"), None, {"input": ["x"]}, "embeddings"
    ) == {"input": ["x"]}
    guard.close()
    [row] = store.exchanges
    assert (
        row["id"] == "call-1"
        and row["response"] == response
        and row["api_key_id"] == "key_9f86d081884c"
    )
    [observed] = engine.observed
    assert observed.response_text == "A heap is..." and observed.account_id == "u_ok"


async def test_litellm_withholds_reasoning_for_suspicious_accounts() -> None:
    engine, store = FakeEngine({"u_s": "suspicious"}), FakeStore()
    guard = make_guardrail(engine, store)
    data = {"model": "m", "messages": [{"role": "user", "content": "x"}], "litellm_call_id": "c2"}
    await guard.async_pre_call_hook(KeyRecord("u_s"), None, data, "completion")
    response = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "ok",
                    "reasoning_content": "secret chain",
                },
            }
        ]
    }
    out = await guard.async_post_call_success_hook(data, KeyRecord("u_s"), response)
    guard.close()
    assert "reasoning_content" not in out["choices"][0]["message"]
    assert store.exchanges[0]["gateway"]["withheld_reasoning"] is True


async def test_litellm_refusal_without_fastapi_carries_status(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_fastapi(name, *args, **kwargs):
        if name == "fastapi":
            raise ImportError("no fastapi here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fastapi)
    guard = make_guardrail(FakeEngine(fail=True), FakeStore())
    guard.config.fail_mode = "closed"
    with pytest.raises(GuardrailRefusal) as caught:
        await guard.async_pre_call_hook(
            KeyRecord("u"), None, {"messages": []}, "anthropic_messages"
        )
    guard.close()
    assert caught.value.status_code == 503


def test_recorder_keeps_error_bodies_apart_from_responses() -> None:
    store = FakeStore()
    recorder = Recorder(store=store, flush_interval_s=0.0)
    recorder.submit(
        PendingExchange(
            {"id": "1", "api": "openai.chat.completions", "status": 500}, body=b'{"error": {}}'
        )
    )
    recorder.submit(
        PendingExchange(
            {"id": "2", "api": "openai.chat.completions", "status": 200}, body=b'{"choices": []}'
        )
    )
    assert recorder.close(5)
    first, second = store.exchanges
    assert "response" not in first and first["error"] == {"error": {}}
    assert second["response"] == {"choices": []}


def test_iter_events_reads_a_last_event_without_blank_line() -> None:
    assert [e.data for e in iter_events(b"data: 1\n\ndata: 2")] == ["1", "2"]


def test_engine_gate_never_lets_assess_and_observe_overlap() -> None:
    import threading
    import time

    from distillwatch.gateway.engine_gate import EngineGate

    class Reentrancy:
        def __init__(self) -> None:
            self.inside = 0
            self.overlaps = 0
            self.calls = 0

        def _enter(self) -> None:
            self.inside += 1
            if self.inside > 1:
                self.overlaps += 1
            time.sleep(0)  # hand the GIL over mid-call, so an unguarded engine would overlap
            self.calls += 1
            self.inside -= 1

        def assess(self, _: object) -> None:
            self._enter()

        def observe(self, _: object) -> None:
            self._enter()

    engine = Reentrancy()
    gate = EngineGate(engine)
    worker = threading.Thread(target=lambda: [gate.observe(i) for i in range(3000)])
    worker.start()
    for i in range(3000):
        gate.assess(i)
    worker.join(10)
    assert engine.calls == 6000 and engine.overlaps == 0


def test_cli_helpers_pick_fast_servers_only_when_installed_and_build_an_engine() -> None:
    import importlib.util

    from distillwatch.gateway.cli import build_engine, uvicorn_options

    options = uvicorn_options()
    assert options["access_log"] is False
    assert options["proxy_headers"] is False  # forwarding headers: the gateway's trusted_proxies
    assert ("loop" in options) == (importlib.util.find_spec("uvloop") is not None)
    assert ("http" in options) == (importlib.util.find_spec("httptools") is not None)
    engine = build_engine(FakeStore())  # empty store: a fresh engine
    assert hasattr(engine, "assess") and hasattr(engine, "observe")
