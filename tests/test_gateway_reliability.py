"""Failure modes: timeouts, 5xx, broken bodies, disconnects, slow clients, load, shutdown.

Everything runs on loopback or in process; every loop has a fixed bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from _gateway_support import (
    ANTHROPIC_HEADERS,
    CHAT,
    MESSAGES,
    OPENAI_HEADERS,
    FakeStore,
    make_config,
    running_gateway,
)
from distillwatch.gateway import create_app
from distillwatch.gateway.config import GatewayConfig
from distillwatch.gateway.metrics import GatewayMetrics
from distillwatch.gateway.mock_upstream import create_mock_app
from distillwatch.gateway.recorder import PendingExchange, Recorder
from distillwatch.gateway.upstream import (
    AiohttpUpstream,
    HttpxUpstream,
    UpstreamError,
)


@contextlib.asynccontextmanager
async def serve_on_loopback(app: Any) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn on 127.0.0.1 (random port) inside the test's loop."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="error", access_log=False, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def raising_transport(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (httpx.ReadTimeout("slow"), 504),
        (httpx.ConnectTimeout("slow"), 504),
        (httpx.ConnectError("refused"), 502),
    ],
)
async def test_upstream_failures_become_api_shaped_errors(exc: Exception, status: int) -> None:
    store = FakeStore()
    async with running_gateway(transport=raising_transport(exc), store=store) as (app, client):
        chat = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        messages = await client.post("/v1/messages", json=MESSAGES, headers=ANTHROPIC_HEADERS)
        errors = app.state.gateway.metrics.upstream_errors
    assert chat.status_code == status and "error" in chat.json()
    assert messages.status_code == status and messages.json()["type"] == "error"
    if status == 504:
        assert messages.json()["error"]["type"] == "timeout_error"
    assert [r["status"] for r in store.exchanges] == [status, status]
    assert sum(errors.value(kind) for kind in ("timeout", "connect")) == 2


@pytest.mark.parametrize("client_kind", ["httpx", "aiohttp"])
async def test_real_upstream_timeout_on_loopback(client_kind: str) -> None:
    async with serve_on_loopback(create_mock_app()) as mock_url:
        config = make_config(upstream=mock_url, read_timeout_s=0.1, upstream_client=client_kind)
        gateway_app = create_app(config)
        async with (
            serve_on_loopback(gateway_app) as gateway_url,
            httpx.AsyncClient(base_url=gateway_url) as client,
        ):
            slow = await client.post(
                "/v1/chat/completions",
                json=CHAT,
                headers={**OPENAI_HEADERS, "x-mock-delay-ms": "400"},
            )
            fast = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
    assert slow.status_code == 504 and slow.json()["error"]["code"] == "upstream_timeout"
    assert fast.status_code == 200


async def test_upstream_5xx_passes_through_and_is_recorded_as_error() -> None:
    store = FakeStore()
    async with running_gateway(store=store) as (_, client):
        response = await client.post(
            "/v1/messages", json=MESSAGES, headers={**ANTHROPIC_HEADERS, "x-mock-status": "529"}
        )
    assert response.status_code == 529
    assert response.json() == {
        "type": "error",
        "error": {"type": "api_error", "message": "mock failure 529"},
    }
    [row] = store.exchanges
    assert row["status"] == 529 and "response" not in row
    assert row["error"]["error"]["message"] == "mock failure 529"


@pytest.mark.parametrize("stream", [False, True])
async def test_malformed_upstream_body_is_passed_on_and_logged_without_response(
    stream: bool,
) -> None:
    store = FakeStore()
    async with running_gateway(store=store) as (_, client):
        response = await client.post(
            "/v1/chat/completions",
            json={**CHAT, "stream": stream},
            headers={**OPENAI_HEADERS, "x-mock-malformed": "1"},
        )
    assert response.status_code == 200
    assert response.content in (b'{"choices": [{"message": ', b'data: {"truncated\n\n')
    [row] = store.exchanges
    assert "response" not in row and row["gateway"]["response_error"]


class ScriptedStream:
    """A fake upstream whose SSE body is produced chunk by chunk, with a bound."""

    def __init__(self, *, chunks: int = 2000, fail_after: int | None = None):
        self.chunks = chunks
        self.fail_after = fail_after
        self.produced = 0
        self.closed = asyncio.Event()

    async def send(self, method: str, path: str, headers: Any, body: bytes) -> ScriptedStream:
        self.status = 200
        self.headers = [(b"content-type", b"text/event-stream")]
        return self

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for i in range(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise UpstreamError("connection reset mid-body")
            self.produced += 1
            yield b'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'
            await asyncio.sleep(0.001)

    async def aclose(self) -> None:
        self.closed.set()


def http_scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8080),
    }


async def test_client_disconnect_mid_stream_closes_upstream_and_leaks_no_task() -> None:
    upstream = ScriptedStream()
    store = FakeStore()
    app = create_app(make_config(), transport=upstream, store=store)
    body_sent = asyncio.Event()
    messages: list[dict[str, Any]] = []
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {
                "type": "http.request",
                "body": orjson.dumps({**CHAT, "stream": True}),
                "more_body": False,
            }
        await body_sent.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if sum(1 for m in messages if m["type"] == "http.response.body") >= 3:
            body_sent.set()

    async with app.router.lifespan_context(app):
        before = asyncio.all_tasks()
        await asyncio.wait_for(
            app(http_scope("/v1/chat/completions", OPENAI_HEADERS), receive, send), 5
        )
        leftover = asyncio.all_tasks() - before
        disconnects = app.state.gateway.metrics.client_disconnects.value()
    assert upstream.closed.is_set()
    assert upstream.produced < upstream.chunks
    assert leftover == set()
    assert disconnects == 1
    [row] = store.exchanges
    assert row["gateway"]["client_disconnected"] is True
    assert row["response"]["choices"][0]["message"]["content"].startswith("xxx")


async def test_upstream_breaking_mid_stream_aborts_the_response_and_is_recorded() -> None:
    upstream = ScriptedStream(fail_after=5)
    store = FakeStore()
    app = create_app(make_config(), transport=upstream, store=store)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not sent:
            return {
                "type": "http.request",
                "body": orjson.dumps({**CHAT, "stream": True}),
                "more_body": False,
            }
        await asyncio.sleep(10)  # the client stays; the upstream is what fails
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async with app.router.lifespan_context(app):
        with pytest.raises(UpstreamError):
            await asyncio.wait_for(
                app(http_scope("/v1/chat/completions", OPENAI_HEADERS), receive, send), 5
            )
    assert upstream.closed.is_set()
    assert not any(m.get("more_body") is False for m in sent)  # never claimed a complete response
    [row] = store.exchanges
    assert row["gateway"]["upstream_error"] == "error"


@pytest.mark.parametrize("client_kind", ["httpx", "aiohttp"])
async def test_concurrent_load_over_loopback_records_every_exchange(client_kind: str) -> None:
    store = FakeStore()
    total, concurrency = 160, 16  # httpx's own client pool gets slow far above this
    async with serve_on_loopback(create_mock_app()) as mock_url:
        app = create_app(make_config(upstream=mock_url, upstream_client=client_kind), store=store)
        async with serve_on_loopback(app) as url:
            limits = httpx.Limits(max_connections=concurrency)
            async with httpx.AsyncClient(base_url=url, limits=limits) as client:
                semaphore = asyncio.Semaphore(concurrency)

                async def one(i: int) -> int:
                    async with semaphore:
                        body = {
                            **CHAT,
                            "stream": i % 3 == 0,
                            "messages": [{"role": "user", "content": f"q{i}"}],
                        }
                        response = await client.post(
                            "/v1/chat/completions", json=body, headers=OPENAI_HEADERS
                        )
                        return response.status_code

                statuses = await asyncio.gather(*(one(i) for i in range(total)))
    assert statuses == [200] * total
    assert len(store.exchanges) == total  # flushed on shutdown
    assert {r["request"]["messages"][0]["content"] for r in store.exchanges} == {
        f"q{i}" for i in range(total)
    }
    assert all(
        r["response"]["choices"][0]["message"]["content"].startswith("Mock answer")
        for r in store.exchanges
    )


async def test_slow_clients_do_not_hold_up_others() -> None:
    request_body = orjson.dumps({**CHAT, "stream": True})
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
        b"authorization: " + OPENAI_HEADERS["authorization"].encode() + b"\r\n"
        b"content-length: " + str(len(request_body)).encode() + b"\r\nconnection: close\r\n\r\n"
    )
    async with serve_on_loopback(create_mock_app(chunk_delay_ms=1)) as mock_url:
        app = create_app(make_config(upstream=mock_url))
        async with serve_on_loopback(app) as url:
            port = int(url.rsplit(":", 1)[1])
            fast_done = asyncio.Event()

            async def slow_client() -> bytes:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(head)
                for i in range(0, len(request_body), 8):  # drip the body
                    writer.write(request_body[i : i + 8])
                    await writer.drain()
                    await asyncio.sleep(0.005)
                data = b""
                for _ in range(10_000):  # then read slowly, a few bytes at a time
                    piece = await reader.read(64)
                    if not piece:
                        break
                    data += piece
                    await asyncio.sleep(0.001)
                writer.close()
                return data

            async def fast_clients() -> list[int]:
                async with httpx.AsyncClient(base_url=url) as client:
                    responses = [
                        await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
                        for _ in range(20)
                    ]
                fast_done.set()
                return [r.status_code for r in responses]

            slow_task = asyncio.create_task(slow_client())
            fast = await fast_clients()
            slow_finished_first = slow_task.done()
            slow = await asyncio.wait_for(slow_task, 20)
    assert fast == [200] * 20
    assert not slow_finished_first
    assert slow.startswith(b"HTTP/1.1 200") and b"data: [DONE]" in slow


def test_recorder_counts_drops_when_full_and_writes_the_rest() -> None:
    gate = threading.Event()

    class BlockingStore(FakeStore):
        def append_exchanges(self, rows: list[dict]) -> None:
            gate.wait(5)
            super().append_exchanges(rows)

    store = BlockingStore()
    metrics = GatewayMetrics()
    recorder = Recorder(
        store=store, metrics=metrics, queue_size=4, batch_size=2, flush_interval_s=0.0
    )
    accepted = sum(
        recorder.submit(
            PendingExchange({"id": str(i), "api": "openai.chat.completions", "status": 200})
        )
        for i in range(50)
    )
    gate.set()
    assert recorder.close(5)
    assert metrics.dropped.value() == 50 - accepted > 0
    assert len(store.exchanges) == accepted


def test_recorder_flushes_everything_on_close() -> None:
    store = FakeStore()
    recorder = Recorder(store=store, queue_size=10_000, batch_size=64, flush_interval_s=5.0)
    for i in range(1000):
        assert recorder.submit(PendingExchange({"id": str(i), "api": "openai.chat.completions"}))
    assert recorder.close(10)
    assert [r["id"] for r in store.exchanges] == [str(i) for i in range(1000)]
    assert not recorder.submit(
        PendingExchange({"id": "late", "api": "x"})
    )  # closed: counted as a drop


def test_recorder_with_nowhere_to_write_does_no_work() -> None:
    recorder = Recorder()  # no store, no JSONL, no engine: `serve --no-detection` without --db
    assert recorder.submit(PendingExchange({"id": "1", "api": "openai.chat.completions"}))
    assert recorder.pending == 0 and recorder.metrics.dropped.value() == 0
    assert recorder.close(1)


def test_transports_have_pools_for_many_concurrent_connections() -> None:
    config = GatewayConfig()
    assert config.max_connections >= 256
    HttpxUpstream(config.upstream, max_connections=config.max_connections)
    AiohttpUpstream(config.upstream, max_connections=config.max_connections)
