"""End-to-end behaviour of the gateway app against the mock upstream, in process."""

from __future__ import annotations

import hashlib

import httpx
import orjson
import pytest

from _gateway_support import (
    ANTHROPIC_HEADERS,
    CHAT,
    GOOD_KEY,
    MESSAGES,
    OPENAI_HEADERS,
    REASONING_ON,
    REQUESTS,
    FakeEngine,
    FakeStore,
    make_config,
    mock_transport,
    running_gateway,
)
from distillwatch.gateway.config import BucketConfig, RateLimitConfig
from distillwatch.gateway.mock_upstream import create_mock_app
from distillwatch.gateway.streams import iter_events, reassemble

API_OF = {
    "/v1/chat/completions": "openai.chat.completions",
    "/v1/responses": "openai.responses",
    "/v1/messages": "anthropic.messages",
}


async def direct(path: str, body: dict, headers: dict) -> httpx.Response:
    """The same request straight to the mock, for comparison."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_mock_app()), base_url="http://mock"
    ) as c:
        return await c.post(path, json=body, headers=headers)


@pytest.mark.parametrize("path", list(REQUESTS))
async def test_non_streamed_bytes_pass_through_and_are_recorded(path: str) -> None:
    body, headers = REQUESTS[path]
    store = FakeStore()
    async with running_gateway(store=store) as (_, client):
        response = await client.post(path, json=body, headers=headers)
    expected = await direct(path, body, headers)
    assert response.status_code == 200
    assert response.content == expected.content
    [row] = store.exchanges
    assert row["account_id"] == "acct_1" and row["org_id"] == "org_1"
    assert row["api"] == API_OF[path]
    assert row["request"] == body
    assert row["response"] == orjson.loads(expected.content)
    assert row["status"] == 200 and row["latency_ms"] > 0
    assert row["account"] == {"tier": "startup"}
    assert row["client"] == {
        "ip": "198.51.100.7",
        "user_agent": f"python-httpx/{httpx.__version__}",
    }
    assert row["api_key_id"] == "key_" + hashlib.sha256(GOOD_KEY.encode()).hexdigest()[:12]
    assert GOOD_KEY not in orjson.dumps(row).decode()


@pytest.mark.parametrize("path", list(REQUESTS))
async def test_streams_pass_through_and_are_reassembled_into_the_final_body(path: str) -> None:
    body, headers = REQUESTS[path]
    streamed_request = {**body, **REASONING_ON[path], "stream": True}
    store = FakeStore()
    async with running_gateway(store=store) as (_, client):
        response = await client.post(path, json=streamed_request, headers=headers)
    expected_stream = await direct(path, streamed_request, headers)
    expected_body = await direct(path, {**body, **REASONING_ON[path]}, headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == expected_stream.content
    [row] = store.exchanges
    assert row["response"] == orjson.loads(expected_body.content)


@pytest.mark.parametrize(
    ("path", "headers", "shape"),
    [
        ("/v1/chat/completions", {"authorization": "Bearer sk-wrong"}, "openai"),
        ("/v1/responses", {}, "openai"),
        ("/v1/messages", {"x-api-key": "sk-wrong", "anthropic-version": "2023-06-01"}, "anthropic"),
    ],
)
async def test_unknown_key_gets_401_in_the_callers_format(
    path: str, headers: dict, shape: str
) -> None:
    transport = mock_transport()
    store = FakeStore()
    async with running_gateway(transport=transport, store=store) as (_, client):
        response = await client.post(path, json=REQUESTS[path][0], headers=headers)
    assert response.status_code == 401
    payload = response.json()
    if shape == "anthropic":
        assert payload["type"] == "error" and payload["error"]["type"] == "authentication_error"
    else:
        assert payload["error"]["code"] == "invalid_api_key"
    assert transport.calls == [] and store.exchanges == []


async def test_unknown_keys_can_map_to_their_own_account() -> None:
    store = FakeStore()
    async with running_gateway(make_config(unknown_keys="account_per_key"), store=store) as (
        _,
        client,
    ):
        response = await client.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer sk-new"}
        )
    assert response.status_code == 200
    assert store.exchanges[0]["account_id"].startswith("unregistered:key_")


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1/chat/completions", OPENAI_HEADERS), ("/v1/messages", ANTHROPIC_HEADERS)],
)
async def test_malformed_client_json_gets_an_api_shaped_400(path: str, headers: dict) -> None:
    transport = mock_transport()
    async with running_gateway(transport=transport) as (_, client):
        bad = await client.post(path, content=b'{"model": ', headers=headers)
        not_object = await client.post(path, content=b"[1, 2]", headers=headers)
    for response in (bad, not_object):
        assert response.status_code == 400
        payload = response.json()
        if path == "/v1/messages":
            assert (
                payload["error"]["type"] == "invalid_request_error" and payload["type"] == "error"
            )
        else:
            assert payload["error"]["type"] == "invalid_request_error"
    assert transport.calls == []


async def test_oversized_body_is_refused() -> None:
    async with running_gateway(make_config(max_body_bytes=100)) as (_, client):
        response = await client.post(
            "/v1/chat/completions", content=b"x" * 500, headers=OPENAI_HEADERS
        )
    assert response.status_code == 413


async def test_engine_sees_request_before_and_full_exchange_after() -> None:
    engine = FakeEngine()
    store = FakeStore()
    async with running_gateway(engine=engine, store=store) as (_, client):
        response = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
    assert response.status_code == 200
    [assessed] = engine.assessed
    assert assessed.last_user_text == "Explain binary search." and assessed.response_text == ""
    [observed] = engine.observed  # the recorder flushed on shutdown, then observed
    assert observed.response_text.startswith("Mock answer")
    assert observed.account_id == "acct_1"
    [signals] = store.signals
    assert (
        signals["id"] == store.exchanges[0]["id"]
        and signals["signals"][0]["signal"] == "test.signal"
    )


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1/chat/completions", OPENAI_HEADERS), ("/v1/messages", ANTHROPIC_HEADERS)],
)
async def test_distillation_verdict_is_blocked_in_the_callers_format(
    path: str, headers: dict
) -> None:
    transport = mock_transport()
    store = FakeStore()
    engine = FakeEngine({"acct_1": "distillation"})
    async with running_gateway(engine=engine, transport=transport, store=store) as (_, client):
        response = await client.post(path, json=REQUESTS[path][0], headers=headers)
    assert response.status_code == 403
    payload = response.json()
    if path == "/v1/messages":
        assert payload == {
            "type": "error",
            "error": {"type": "permission_error", "message": payload["error"]["message"]},
        }
    else:
        assert payload["error"]["type"] == "permission_error"
    assert transport.calls == []
    [row] = store.exchanges
    assert row["status"] == 403 and row["gateway"]["decision"] == "block"
    assert "response" not in row
    assert "account verdict distillation" in row["gateway"]["reasons"]


async def test_high_risk_campaign_is_blocked_even_for_a_fresh_account() -> None:
    engine = FakeEngine(campaign=("cmp_x", 0.95))
    async with running_gateway(engine=engine) as (_, client):
        response = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
    assert response.status_code == 403


async def test_benign_account_passes_without_decision_header() -> None:
    engine = FakeEngine({"acct_1": "benign"})
    async with running_gateway(engine=engine) as (_, client):
        response = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
    assert response.status_code == 200
    assert "x-distillwatch-decision" not in response.headers


async def test_flagged_family_is_throttled_per_family_across_accounts() -> None:
    from _gateway_support import SECOND_KEY

    limits = RateLimitConfig(
        account=BucketConfig(rate=0.001, burst=100),
        campaign=BucketConfig(rate=0.001, burst=100),
        family=BucketConfig(rate=0.001, burst=3),
    )
    engine = FakeEngine(family=("tpl_abc", True))
    async with running_gateway(make_config(ratelimit=limits), engine=engine) as (_, client):
        statuses = []
        for i in range(5):
            headers = {"authorization": f"Bearer {GOOD_KEY if i % 2 else SECOND_KEY}"}
            response = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
            statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429, 429]
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


async def test_suspicious_account_is_throttled_per_account() -> None:
    limits = RateLimitConfig(account=BucketConfig(rate=0.001, burst=2))
    engine = FakeEngine({"acct_1": "suspicious"})
    store = FakeStore()
    async with running_gateway(make_config(ratelimit=limits), engine=engine, store=store) as (
        _,
        client,
    ):
        first = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        second = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        third = await client.post("/v1/messages", json=MESSAGES, headers=ANTHROPIC_HEADERS)
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert first.headers["x-distillwatch-decision"] == "throttle"
    assert third.json()["error"]["type"] == "rate_limit_error"
    assert [r["status"] for r in store.exchanges] == [200, 200, 429]


@pytest.mark.parametrize("path", list(REQUESTS))
async def test_withheld_reasoning_is_removed_from_bodies(path: str) -> None:
    body, headers = REQUESTS[path]
    request = {**body, **REASONING_ON[path]}
    engine = FakeEngine({"acct_1": "suspicious"})
    store = FakeStore()
    async with running_gateway(engine=engine, store=store) as (_, client):
        response = await client.post(path, json=request, headers=headers)
    assert response.status_code == 200
    text = response.text
    assert "Mock answer" in text
    assert "Considering" not in text  # the mock's reasoning text
    assert int(response.headers["content-length"]) == len(response.content)
    row = store.exchanges[0]
    assert row["gateway"]["withheld_reasoning"] is True
    assert "Considering" not in orjson.dumps(row["response"]).decode()


@pytest.mark.parametrize("path", list(REQUESTS))
async def test_withheld_reasoning_is_dropped_from_streams_with_consistent_indexes(
    path: str,
) -> None:
    body, headers = REQUESTS[path]
    request = {**body, **REASONING_ON[path], "stream": True}
    engine = FakeEngine({"acct_1": "suspicious"})
    async with running_gateway(engine=engine) as (_, client):
        response = await client.post(path, json=request, headers=headers)
    assert response.status_code == 200
    assert "Considering" not in response.text
    rebuilt = reassemble(API_OF[path], response.content)
    plain = (await direct(path, body, headers)).json()  # the same call without reasoning
    if path == "/v1/messages":
        assert rebuilt["content"] == plain["content"]
        indexes = [
            orjson.loads(e.data).get("index")
            for e in iter_events(response.content)
            if e.name and e.name.startswith("content_block")
        ]
        assert set(indexes) == {0}
    elif path == "/v1/responses":
        assert [i["type"] for i in rebuilt["output"]] == ["message"]
        indexes = {
            orjson.loads(e.data).get("output_index") for e in iter_events(response.content)
        } - {None}
        assert indexes == {0}
    else:
        assert rebuilt["choices"][0]["message"] == plain["choices"][0]["message"]


async def test_manual_overrides_win_over_the_engine() -> None:
    engine = FakeEngine({"acct_1": "distillation", "acct_2": "benign"})
    store = FakeStore()
    admin = {"authorization": "Bearer admin-secret"}
    from _gateway_support import SECOND_KEY

    async with running_gateway(engine=engine, store=store) as (_, client):
        assert (
            await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        ).status_code == 403
        put = await client.put(
            "/admin/overrides/acct_1",
            json={"action": "allow", "reason": "ticket 42"},
            headers=admin,
        )
        assert put.status_code == 200
        assert (
            await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        ).status_code == 200
        await client.put("/admin/overrides/acct_2", json={"action": "deny"}, headers=admin)
        denied = await client.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {SECOND_KEY}"}
        )
        assert denied.status_code == 403
        listing = (await client.get("/admin/overrides", headers=admin)).json()["overrides"]
        assert listing["acct_1"]["reason"] == "ticket 42" and listing["acct_2"]["action"] == "deny"
        assert (await client.delete("/admin/overrides/acct_1", headers=admin)).status_code == 204
        assert (
            await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        ).status_code == 403
    assert orjson.loads(store.state["gateway.overrides"]) == {"acct_2": listing["acct_2"]}


async def test_overrides_survive_a_restart_through_the_store() -> None:
    store = FakeStore()
    store.state["gateway.overrides"] = orjson.dumps(
        {"acct_1": {"action": "deny", "reason": "", "ts": 0}}
    )
    async with running_gateway(store=store) as (_, client):
        response = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
    assert response.status_code == 403


async def test_admin_api_requires_the_token() -> None:
    engine = FakeEngine({"acct_1": "suspicious"})
    async with running_gateway(engine=engine) as (_, client):
        assert (await client.get("/admin/verdicts")).status_code == 401
        assert (
            await client.get("/admin/verdicts", headers={"authorization": "Bearer nope"})
        ).status_code == 401
        ok = await client.get("/admin/verdicts", headers={"authorization": "Bearer admin-secret"})
        campaigns = await client.get(
            "/admin/campaigns", headers={"authorization": "Bearer admin-secret"}
        )
        detail = await client.get(
            "/admin/verdicts/acct_1", headers={"authorization": "Bearer admin-secret"}
        )
    [account] = ok.json()["accounts"]
    assert account["account_id"] == "acct_1" and account["verdict"] == "suspicious"
    assert account["evidence"] == [
        {"signal": "test.signal", "score": 0.6, "detail": "fake evidence"}
    ]
    assert account["first_flagged_ts"].startswith("1970-01-01T00:00:01")
    assert campaigns.json()["campaigns"][0]["campaign_id"] == "cmp_1"
    assert detail.json()["current"]["verdict"] == "suspicious"


async def test_admin_api_is_off_without_a_token() -> None:
    async with running_gateway(make_config(admin_token=None)) as (_, client):
        response = await client.get("/admin/verdicts", headers={"authorization": "Bearer "})
    assert response.status_code == 404


async def test_engine_error_fails_open_by_default_and_closed_when_configured() -> None:
    engine = FakeEngine(fail=True)
    async with running_gateway(engine=engine) as (app, client):
        opened = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        errors = app.state.gateway.metrics.engine_errors.value()
    async with running_gateway(make_config(fail_mode="closed"), engine=engine) as (_, client):
        closed = await client.post("/v1/messages", json=MESSAGES, headers=ANTHROPIC_HEADERS)
    assert opened.status_code == 200 and errors == 1
    assert closed.status_code == 503 and closed.json()["type"] == "error"


async def test_trusted_proxy_header_is_used_only_from_trusted_peers() -> None:
    config = make_config(trusted_proxies=("10.0.0.0/8",), tls_fingerprint_header="X-JA4")
    headers = {
        **OPENAI_HEADERS,
        "x-forwarded-for": "192.0.2.1, 203.0.113.5, 10.1.1.1",
        "x-ja4": "t13d_abc",
    }
    trusted_store, direct_store = FakeStore(), FakeStore()
    async with running_gateway(config, store=trusted_store, client_address=("10.0.0.2", 1)) as (
        _,
        client,
    ):
        await client.post("/v1/chat/completions", json=CHAT, headers=headers)
    async with running_gateway(config, store=direct_store, client_address=("198.51.100.7", 1)) as (
        _,
        client,
    ):
        await client.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert (
        trusted_store.exchanges[0]["client"]["ip"] == "203.0.113.5"
    )  # first untrusted hop from the right
    assert trusted_store.exchanges[0]["client"]["tls_fingerprint"] == "t13d_abc"
    assert direct_store.exchanges[0]["client"]["ip"] == "198.51.100.7"
    assert "tls_fingerprint" not in direct_store.exchanges[0]["client"]


async def test_forwarding_headers_do_not_reach_upstream_and_upstream_key_replaces_callers() -> None:
    transport = mock_transport()
    config = make_config(upstream_api_key="sk-provider-internal")
    async with running_gateway(config, transport=transport) as (_, client):
        await client.post(
            "/v1/chat/completions",
            json=CHAT,
            headers={**OPENAI_HEADERS, "x-forwarded-for": "1.2.3.4"},
        )
        await client.post("/v1/messages", json=MESSAGES, headers=ANTHROPIC_HEADERS)
    chat_call, messages_call = transport.calls
    assert chat_call.headers["authorization"] == "Bearer sk-provider-internal"
    assert "x-forwarded-for" not in chat_call.headers
    assert messages_call.headers["x-api-key"] == "sk-provider-internal"
    assert messages_call.headers["anthropic-version"] == "2023-06-01"


async def test_models_listing_passes_through_for_known_keys_only() -> None:
    async with running_gateway() as (_, client):
        ok = await client.get("/v1/models", headers=OPENAI_HEADERS)
        refused = await client.get(
            "/v1/models", headers={"x-api-key": "nope", "anthropic-version": "2023-06-01"}
        )
    assert ok.status_code == 200 and ok.json()["object"] == "list"
    assert refused.status_code == 401 and refused.json()["type"] == "error"


async def test_metrics_and_health() -> None:
    engine = FakeEngine({"acct_2": "distillation"})
    from _gateway_support import SECOND_KEY

    async with running_gateway(engine=engine) as (_, client):
        await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        await client.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {SECOND_KEY}"}
        )
        await client.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer wrong"}
        )
        metrics = await client.get("/metrics")
        health = await client.get("/healthz")
    text = metrics.text
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert (
        'distillwatch_gateway_requests_total{route="/v1/chat/completions",decision="allow"} 1'
        in text
    )
    assert (
        'distillwatch_gateway_requests_total{route="/v1/chat/completions",decision="block"} 1'
        in text
    )
    assert (
        'distillwatch_gateway_requests_total{route="/v1/chat/completions",decision="unauthorized"} 1'
        in text
    )
    assert "distillwatch_gateway_added_latency_seconds_count 2" in text
    assert health.json()["status"] == "ok" and health.json()["detection"] is True


async def test_jsonl_file_receives_every_exchange(tmp_path) -> None:
    from distillwatch.gateway.config import RecorderConfig

    path = tmp_path / "log" / "exchanges.jsonl"
    config = make_config(recorder=RecorderConfig(jsonl=path))
    async with running_gateway(config) as (_, client):
        for _ in range(3):
            await client.post(
                "/v1/chat/completions", json={**CHAT, "stream": True}, headers=OPENAI_HEADERS
            )
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert len(rows) == 3 and all(r["response"]["object"] == "chat.completion" for r in rows)
    from distillwatch.ingest.parse import parse_record

    assert all(parse_record(r).response_text.startswith("Mock answer") for r in rows)
