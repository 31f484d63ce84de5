"""The engine worker process: framing, published verdicts, the worker itself, and `serve` mode end to end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest

from _gateway_support import (
    CHAT,
    OPENAI_HEADERS,
    SECOND_KEY,
    distillation_engine,
    make_config,
    running_gateway,
)
from distillwatch.campaign.families import FamilyIndex
from distillwatch.detectors.base import default_registry
from distillwatch.engine import AccountVerdict, Engine
from distillwatch.gateway.channel import (
    RECORDS,
    FrameBuffer,
    decode_exchanges,
    encode_exchange,
    frame,
)
from distillwatch.gateway.config import RecorderConfig
from distillwatch.gateway.recorder import PendingExchange
from distillwatch.gateway.upstream import AiohttpUpstream
from distillwatch.gateway.verdicts import PublishedVerdicts
from distillwatch.gateway.worker import EngineWorker, WorkerSpec
from distillwatch.ingest.parse import parse_record
from distillwatch.store import open_store

ADMIN = {"authorization": "Bearer admin-secret"}
SECOND = {"authorization": f"Bearer {SECOND_KEY}"}


def chat_record(i: int, account_id: str = "acct_1", text: str | None = None) -> dict[str, Any]:
    content = text if text is not None else f"Explain binary search, variant {i}."
    return {
        "id": f"gw_{i}",
        "ts": 1_700_000_000.0 + i,
        "account_id": account_id,
        "api": "openai.chat.completions",
        "request": {"model": "mock-small", "messages": [{"role": "user", "content": content}]},
        "status": 200,
    }


def chat_response(i: int) -> bytes:
    message = {"role": "assistant", "content": f"Answer {i}."}
    return orjson.dumps(
        {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
    )


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


# -- framing ---------------------------------------------------------------------------


def test_exchanges_cross_the_channel_byte_for_byte() -> None:
    request_bytes = b'{"model": "m",  "messages": []}'  # as the client sent it, spacing included
    items = [
        PendingExchange(
            {**chat_record(1), "request": orjson.loads(request_bytes)},
            body=b"data: x\n\n",
            streamed=True,
            request_body=request_bytes,
        ),
        PendingExchange({**chat_record(2), "status": 403, "gateway": {"decision": "block"}}),
    ]
    payload = b"".join(encode_exchange(item) for item in items)
    first, second = decode_exchanges(payload)
    assert first.record == {**chat_record(1), "request": orjson.loads(request_bytes)}
    assert first.body == b"data: x\n\n" and first.streamed
    assert second.record == items[1].record and second.body is None and not second.streamed


def test_frames_are_reassembled_from_any_split() -> None:
    stream = frame(RECORDS, b"a" * 300) + frame(RECORDS) + frame(RECORDS, b"tail")
    buffer = FrameBuffer()
    got: list[tuple[int, bytes]] = []
    for i in range(0, len(stream), 7):
        got += buffer.feed(stream[i : i + 7])
    assert got == [(RECORDS, b"a" * 300), (RECORDS, b""), (RECORDS, b"tail")]


# -- published verdicts ---------------------------------------------------------------


def test_inline_request_signals_are_the_engines() -> None:
    board = PublishedVerdicts(default_registry().build({}))
    engine = Engine()
    prompts = [
        "Explain binary search.",
        "Think step by step and show your full reasoning before the final answer.",
        "Grade this response from 1 to 10 against the rubric and justify the score.",
    ]
    for i, prompt in enumerate(prompts):
        ex = parse_record(chat_record(i, text=prompt))
        ours, theirs = board.assess(ex), engine.assess(ex)
        assert ours.request_signals == theirs.request_signals
        assert ours.request_score == theirs.request_score


def test_published_accounts_and_campaigns_drive_the_assessment() -> None:
    board = PublishedVerdicts()
    ex = parse_record(chat_record(1, account_id="acct_9"))
    assert board.assess(ex).account is None and board.assess(ex).campaign_risk == 0.0
    verdict = AccountVerdict("acct_9", 0.7, "suspicious", 1.0, "cmp_x", [], [], 12)
    board.apply({"accounts": {"acct_9": verdict}, "campaigns": {"cmp_x": 0.7}})
    seen = board.assess(ex)
    assert seen.account.verdict == "suspicious" and seen.campaign_id == "cmp_x"
    # another member's exchange raised the campaign's risk: this account sees it at once
    board.apply({"accounts": {}, "campaigns": {"cmp_x": 0.95}})
    assert board.assess(ex).campaign_risk == 0.95
    board.apply({"accounts": {"acct_9": None}})
    assert board.assess(ex).account is None


def test_flagged_families_are_recognised_by_their_anchor_sentence() -> None:
    template = "You are a grader: score the answer below against the rubric, one to ten points."
    families = FamilyIndex()
    families.assign("", template + " Answer: 4")
    _, family_id = families.assign("", template + " Answer: 5")
    assert family_id is not None and family_id.startswith("tpl_")
    system = "You are the support assistant of Example Corp and answer questions about billing."
    families.assign(system, "")
    system_family, _ = families.assign(system, "")

    board = PublishedVerdicts()
    templated = parse_record(chat_record(1, text=template + " Answer: 9"))
    unrelated = parse_record(chat_record(2, text="What is the capital of Australia, and why?"))
    assert board.family(templated) == (None, False)
    board.apply({"families": {family_id: 0.8, system_family: 0.6, "odd_id": 0.9}})
    assessment = board.assess(templated)
    assert assessment.family_flagged and assessment.family_id == family_id
    assert board.family(unrelated) == (None, False)
    with_system = {**chat_record(3), "request": {**CHAT, "messages": [
        {"role": "system", "content": system}, {"role": "user", "content": "hi"}]}}  # fmt: skip
    assert board.family(parse_record(with_system)) == (system_family, True)
    board.apply({"families": {family_id: None}})
    assert board.family(templated) == (None, False)


# -- the worker, in process -----------------------------------------------------------


def test_engine_worker_writes_observes_and_resumes(tmp_path) -> None:
    db, jsonl = tmp_path / "gw.duckdb", tmp_path / "log" / "x.jsonl"
    spec = WorkerSpec(db=str(db), jsonl=str(jsonl))
    worker = EngineWorker(spec)
    hello = worker.hello()
    assert hello["detection"] and hello["detectors"] == {} and hello["update"]["done"] == 0
    items = [
        PendingExchange(chat_record(i, account_id=f"acct_{i % 2}"), body=chat_response(i))
        for i in range(6)
    ]
    worker.record(decode_exchanges(b"".join(encode_exchange(item) for item in items)))
    update = worker.update()
    assert update["done"] == 6 and update["recorded"] == 6 and update["errors"] == {}
    assert set(update["accounts"]) == {"acct_0", "acct_1"}  # benign, risk 0: published as None
    assert worker.update()["accounts"] == {}  # only what changed since the last update
    assert worker.call("verdict_history", ("acct_0",)) == []
    worker.close()

    store = open_store(db)
    try:
        assert store.count("exchanges") == 6
        stored = {r["id"]: r for r in store.iter_exchanges()}
        assert stored["gw_3"]["response"]["choices"][0]["message"]["content"] == "Answer 3."
        rows = store.signals_for_account("acct_1")
        assert [r["id"] for r in rows] == ["gw_1", "gw_3", "gw_5"]
        assert all("family_id" in r and isinstance(r["signals"], list) for r in rows)
    finally:
        store.close()
    assert len(jsonl.read_bytes().splitlines()) == 6
    resumed = EngineWorker(spec)  # the engine was saved into the store on close
    try:
        assert resumed.engine.exchanges_seen == 6
    finally:
        resumed.close()


# -- serve mode: a real worker process --------------------------------------------------


@contextlib.asynccontextmanager
async def serving_with_worker(tmp_path, **spec: Any) -> AsyncIterator[tuple[Any, Any]]:
    config = make_config(recorder=RecorderConfig(jsonl=tmp_path / "x.jsonl", flush_interval_s=0.02))
    worker = WorkerSpec(db=str(tmp_path / "gw.duckdb"), **spec)
    async with running_gateway(config, worker=worker) as (app, client):
        yield app.state.gateway, client


async def test_serve_mode_publishes_verdicts_and_records_everything(tmp_path) -> None:
    async with serving_with_worker(tmp_path, engine_factory=distillation_engine) as (gw, client):
        assert gw.backend.alive and gw.detection
        first = await client.post("/v1/chat/completions", json=CHAT, headers=SECOND)
        assert first.status_code == 200  # nothing observed yet
        await until(lambda: "acct_2" in gw.backend.verdicts.accounts)
        blocked = await client.post("/v1/chat/completions", json=CHAT, headers=SECOND)
        allowed = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        listing = await client.get("/admin/verdicts", headers=ADMIN)
        override = await client.put(
            "/admin/overrides/acct_2", json={"action": "allow"}, headers=ADMIN
        )
        after_override = await client.post("/v1/chat/completions", json=CHAT, headers=SECOND)
        health = await client.get("/healthz")
    assert blocked.status_code == 403 and allowed.status_code == 200
    assert [a["account_id"] for a in listing.json()["accounts"]] == ["acct_2"]
    assert override.status_code == 200 and after_override.status_code == 200
    assert health.status_code == 200 and health.json()["recorder"] == "running"

    store = open_store(tmp_path / "gw.duckdb")
    try:
        rows = list(store.iter_exchanges())
        assert [r["status"] for r in rows] == [200, 403, 200, 200]
        assert rows[0]["response"]["choices"][0]["message"]["content"].startswith("Mock answer")
        assert rows[1]["gateway"]["decision"] == "block"
        signals = store.signals_for_account("acct_2")  # written from observe, as scan does
        assert len(signals) == 3 and signals[0]["signals"][0]["signal"] == "test.observed"
        assert orjson.loads(store.load_state("gateway.overrides"))["acct_2"]["action"] == "allow"
    finally:
        store.close()
    assert len((tmp_path / "x.jsonl").read_bytes().splitlines()) == 4
    async with serving_with_worker(tmp_path, engine_factory=distillation_engine) as (gw, _):
        assert gw.policy.overrides["acct_2"]["action"] == "allow"  # survived the restart


async def test_serve_mode_loses_nothing_on_shutdown(tmp_path) -> None:
    total = 120
    async with serving_with_worker(tmp_path, detection=False) as (gw, client):
        assert not gw.detection

        async def one(i: int) -> int:
            body = {
                **CHAT,
                "stream": i % 2 == 0,
                "messages": [{"role": "user", "content": f"q{i}"}],
            }
            response = await client.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
            return response.status_code

        statuses = await asyncio.gather(*(one(i) for i in range(total)))
    assert statuses == [200] * total
    store = open_store(tmp_path / "gw.duckdb")
    try:
        rows = list(store.iter_exchanges())
    finally:
        store.close()
    assert sorted(r["request"]["messages"][0]["content"] for r in rows) == sorted(
        f"q{i}" for i in range(total)
    )
    assert all(r["response"]["object"] == "chat.completion" for r in rows)  # streams reassembled


async def test_a_dead_worker_degrades_health_but_requests_are_still_served(tmp_path) -> None:
    async with serving_with_worker(tmp_path, engine_factory=distillation_engine) as (gw, client):
        os.kill(gw.backend._process.pid, signal.SIGKILL)
        await until(lambda: not gw.backend.alive)
        served = await client.post("/v1/chat/completions", json=CHAT, headers=OPENAI_HEADERS)
        health = await client.get("/healthz")
        verdicts = await client.get("/admin/verdicts", headers=ADMIN)
        dropped = gw.metrics.dropped.value()
    assert served.status_code == 200
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    assert verdicts.status_code == 503
    assert dropped == 1


async def test_a_crashed_worker_is_restarted_and_resumes_from_its_checkpoint(tmp_path) -> None:
    async with serving_with_worker(tmp_path, checkpoint_interval_s=0.001) as (gw, client):
        for i in range(3):
            body = {**CHAT, "messages": [{"role": "user", "content": f"before {i}"}]}
            await client.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
            await until(lambda: gw.backend.pending == 0)
        first_pid = gw.backend._process.pid
        os.kill(first_pid, signal.SIGKILL)
        await until(lambda: not gw.backend.alive)
        down = await client.get("/healthz")
        await until(lambda: gw.backend.alive)  # restarted after its back-off
        up = await client.get("/healthz")
        for i in range(2):
            body = {**CHAT, "messages": [{"role": "user", "content": f"after {i}"}]}
            await client.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
        await until(lambda: gw.backend.pending == 0)
        restarts = gw.metrics.worker_restarts.value()
        second_pid = gw.backend._process.pid
    assert down.status_code == 503 and up.status_code == 200
    assert restarts == 1 and second_pid != first_pid
    store = open_store(tmp_path / "gw.duckdb")
    try:
        engine = Engine.from_state_bytes(store.load_state("engine"))
    finally:
        store.close()
    assert engine.exchanges_seen == 5  # 3 from the checkpoint before the crash, 2 after


async def test_worker_start_failure_is_reported_at_start_and_not_retried(tmp_path) -> None:
    (tmp_path / "not-a-db.duckdb").write_bytes(b"this is not a DuckDB file")
    config = make_config()
    with pytest.raises(RuntimeError, match="could not start"):
        async with running_gateway(config, worker=WorkerSpec(db=str(tmp_path / "not-a-db.duckdb"))):
            pass
    await asyncio.sleep(1.2)  # past the first restart back-off: nothing was scheduled
    assert not [t for t in asyncio.all_tasks() if "_restart_after_exit" in repr(t.get_coro())]


# -- the upstream client ----------------------------------------------------------------


async def test_aiohttp_upstream_never_replays_one_callers_cookies_for_another() -> None:
    heads: list[bytes] = []
    reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nset-cookie: session=alice; Path=/\r\n\r\nok"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head.lower())
                length = next(
                    (int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                     if line.startswith(b"content-length:")), 0)  # fmt: skip
                await reader.readexactly(length)
                writer.write(reply)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    upstream = AiohttpUpstream(f"http://127.0.0.1:{port}")
    try:
        for _ in range(2):
            response = await upstream.send("POST", "/v1/chat/completions", [], b"{}")
            assert b"".join([c async for c in response.aiter_bytes()]) == b"ok"
            await response.aclose()
    finally:
        await upstream.aclose()
        server.close()
        await server.wait_closed()
    assert len(heads) == 2 and b"cookie:" not in heads[1]
