"""The inline gateway: authenticate, assess, decide, forward, stream back, record.

The three model endpoints are plain ASGI callables rather than Starlette
request handlers: the hot path then costs one dict lookup per header and no
Request/Response objects, and it controls exactly when bytes go out, which is
what lets streams pass through unbuffered while a client that leaves mid-stream
closes the upstream at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.routing import Route

from distillwatch.gateway.admin import admin_routes
from distillwatch.gateway.backend import Backend, InProcessBackend, WorkerBackend
from distillwatch.gateway.config import GatewayConfig
from distillwatch.gateway.errors import STYLE_ANTHROPIC, STYLE_OPENAI, error_body, error_headers
from distillwatch.gateway.keys import ACCOUNTS_STATE_KEY, ClientResolver, KeyDirectory, extract_key
from distillwatch.gateway.metrics import CONTENT_TYPE, GatewayMetrics
from distillwatch.gateway.policy import OVERRIDES_STATE_KEY, Decision, PolicyEngine
from distillwatch.gateway.ratelimit import Throttle
from distillwatch.gateway.recorder import PendingExchange
from distillwatch.gateway.streams import (
    API_CHAT,
    API_MESSAGES,
    API_RESPONSES,
    ReasoningStreamFilter,
    strip_reasoning,
)
from distillwatch.gateway.upstream import (
    UpstreamError,
    UpstreamTimeout,
    UpstreamTransport,
    make_upstream,
)
from distillwatch.gateway.worker import WorkerSpec
from distillwatch.ingest.parse import parse_record

__all__ = ["create_app", "Gateway", "GatewayApp", "OVERRIDES_STATE_KEY", "WorkerSpec"]

log = logging.getLogger("distillwatch.gateway")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_API_ROUTES = {
    "/v1/chat/completions": (API_CHAT, STYLE_OPENAI),
    "/v1/responses": (API_RESPONSES, STYLE_OPENAI),
    "/v1/messages": (API_MESSAGES, STYLE_ANTHROPIC),
}
# never forwarded upstream: connection-level, or recomputed by the client library
_REQUEST_DROP = frozenset(
    {
        b"host",
        b"connection",
        b"keep-alive",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"accept-encoding",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-real-ip",
        b"forwarded",
    }
)
# never passed back: connection-level, or written by our own server
_RESPONSE_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"server",
        b"date",
    }
)
_IDENTITY = (b"accept-encoding", b"identity")


_ID_PREFIX = os.urandom(3).hex()  # per process: ids stay unique across gateway replicas
_id_counter = itertools.count()


def _new_exchange_id() -> str:
    """Unique and roughly time-ordered, without a system call per request."""
    return f"gw_{time.time_ns():x}{_ID_PREFIX}{next(_id_counter) & 0xFFFFFF:06x}"


class _Asgi:
    """Marks a callable as a raw ASGI app (Starlette would wrap a plain function as a handler)."""

    __slots__ = ("_call",)

    def __init__(self, call: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self._call = call

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return self._call(scope, receive, send)


class _ClientGone(Exception):
    """The client disconnected while its stream was still running."""


class Gateway:
    """State shared by every request: keys, policy, upstream, metrics, and the backend.

    The backend runs the engine and writes the exchanges: in this process
    (``engine``/``store`` objects) or in the engine worker process (``worker``).
    """

    def __init__(
        self,
        config: GatewayConfig,
        *,
        engine: Any | None = None,
        transport: Any | None = None,
        store: Any | None = None,
        worker: WorkerSpec | None = None,
    ):
        self.config = config
        self.engine = engine
        self.store = store
        self.metrics = GatewayMetrics()
        self.keys = KeyDirectory(
            config.accounts, account_per_unknown_key=config.unknown_keys == "account_per_key"
        )
        self.clients = ClientResolver(
            config.trusted_proxies,
            tls_fingerprint_header=config.tls_fingerprint_header,
            access_path=config.access_path,
        )
        self.policy = PolicyEngine(config.policy, Throttle(config.ratelimit))
        self.upstream: UpstreamTransport = make_upstream(
            config.upstream,
            client=config.upstream_client,
            connect_timeout_s=config.connect_timeout_s,
            read_timeout_s=config.read_timeout_s,
            max_connections=config.max_connections,
            transport=transport,
        )
        self.backend: Backend
        if worker is not None:
            if engine is not None or store is not None:
                raise ValueError("pass either engine/store objects or a worker spec, not both")
            if worker.jsonl is None and config.recorder.jsonl is not None:
                worker = dataclasses.replace(worker, jsonl=str(config.recorder.jsonl))
            self.backend = WorkerBackend(
                worker,
                metrics=self.metrics,
                queue_size=config.recorder.queue_size,
                flush_interval_s=config.recorder.flush_interval_s,
            )
        else:
            self.backend = InProcessBackend(
                engine=engine, store=store, metrics=self.metrics, recorder=config.recorder
            )
        self.metrics.add_gauge(
            "distillwatch_gateway_recorder_queue_depth",
            "Exchanges waiting to be written.",
            lambda: float(self.backend.pending),
        )
        self._decision_header = (
            config.decision_header.lower().encode() if config.decision_header else None
        )
        self._upstream_key = config.upstream_api_key.encode() if config.upstream_api_key else None

    @property
    def detection(self) -> bool:
        return self.backend.detection

    # -- lifecycle -------------------------------------------------------------

    async def startup(self) -> None:
        state = await self.backend.start()
        added = self.keys.load_blob(state.get(ACCOUNTS_STATE_KEY))
        if added:
            log.info("loaded %d API keys from the store", added)
        overrides = state.get(OVERRIDES_STATE_KEY)
        if overrides:
            self.policy.overrides.update(orjson.loads(overrides))
        if not len(self.keys) and self.config.unknown_keys == "reject":
            log.warning("no API keys configured: every request will get a 401")

    async def shutdown(self) -> None:
        """Write every exchange handed over, then close the upstream pool."""
        timeout = self.config.recorder.shutdown_timeout_s
        if not await self.backend.close(timeout):
            log.error("recorder did not finish within %.0fs", timeout)
        await self.upstream.aclose()

    async def save_overrides(self) -> None:
        """Persist overrides (a copy) so a restart keeps them."""
        await self.backend.save_state(OVERRIDES_STATE_KEY, orjson.dumps(self.policy.overrides))

    # -- helpers -----------------------------------------------------------------

    async def _send_error(
        self, send: Send, style: str, status: int, message: str, retry_after: float | None = None
    ) -> bytes:
        body = error_body(style, status, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": error_headers(body, retry_after),
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return body

    def _upstream_headers(
        self, headers: list[tuple[bytes, bytes]], style: str
    ) -> list[tuple[bytes, bytes]]:
        out = [(k, v) for k, v in headers if k not in _REQUEST_DROP]
        if self._upstream_key is not None:
            out = [(k, v) for k, v in out if k not in (b"authorization", b"x-api-key")]
            if style == STYLE_ANTHROPIC:
                out.append((b"x-api-key", self._upstream_key))
            else:
                out.append((b"authorization", b"Bearer " + self._upstream_key))
        out.append(_IDENTITY)
        return out

    def _response_headers(
        self, upstream_headers: list[tuple[bytes, bytes]], decision: Decision, keep_length: bool
    ) -> list[tuple[bytes, bytes]]:
        out = [
            (k, v)
            for k, v in upstream_headers
            if k not in _RESPONSE_DROP and (keep_length or k != b"content-length")
        ]
        if self._decision_header is not None and decision.action != "allow":
            out.append((self._decision_header, decision.action.encode()))
        return out

    @staticmethod
    async def _read_body(receive: Receive, limit: int) -> bytes | None:
        """The whole request body; None if the client left, raises ValueError above ``limit``."""
        message = await receive()
        if message["type"] != "http.request":
            return None
        body = message.get("body", b"")
        if not message.get("more_body", False):
            if len(body) > limit:
                raise ValueError("request body too large")
            return body
        parts = [body]
        size = len(body)
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ValueError("request body too large")
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    # -- the model endpoints ------------------------------------------------------

    def endpoint(self, api: str, style: str) -> _Asgi:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            await self.handle(scope, receive, send, api, style)

        return _Asgi(asgi)

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, api: str, style: str
    ) -> None:
        ts = time.time()
        started = time.perf_counter()
        route = scope["path"]
        try:
            body = await self._read_body(receive, self.config.max_body_bytes)
        except ValueError:
            self.metrics.requests.inc(route, "invalid")
            await self._send_error(send, style, 413, "request body too large")
            return
        if body is None:
            return  # client left before sending its request
        t0 = time.perf_counter()
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        headers = dict(raw_headers)
        account = self.keys.resolve(extract_key(headers))
        if account is None:
            self.metrics.requests.inc(route, "unauthorized")
            await self._send_error(send, style, 401, "invalid or missing API key")
            return
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            request = None
        if type(request) is not dict:
            self.metrics.requests.inc(route, "invalid")
            await self._send_error(send, style, 400, "request body must be a JSON object")
            return

        peer = scope.get("client")
        record: dict[str, Any] = {
            "id": _new_exchange_id(),
            "ts": ts,
            "account_id": account.account_id,
            "api": api,
            "request": request,
            "api_key_id": account.api_key_id,
            "client": self.clients.resolve(peer[0] if peer else None, headers),
        }
        if account.org_id is not None:
            record["org_id"] = account.org_id
        if account.account is not None:
            record["account"] = account.account

        assessment = None
        decision: Decision | None = None
        backend = self.backend
        if backend.detection and account.account_id not in self.policy.overrides:
            try:
                assessment = backend.assess(parse_record(record))
            except Exception:
                self.metrics.engine_errors.inc()
                log.exception("inline assessment failed (fail_mode=%s)", self.config.fail_mode)
                if self.config.fail_mode == "closed":
                    decision = Decision(
                        action="unavailable", reasons=["engine error, failing closed"]
                    )
        if decision is None:
            decision = self.policy.decide(account.account_id, assessment)
        if decision.action != "allow":
            record["gateway"] = decision.log_view()
        signals_row = (
            _signals_row(record, assessment)
            if assessment is not None and backend.inline_signal_rows
            else None
        )

        if decision.refused:
            message = {
                "block": "this request was refused under the provider's usage policy",
                "rate_limited": "rate limit exceeded, retry later",
                "unavailable": "service temporarily unavailable, retry later",
            }[decision.action]
            await self._send_error(send, style, decision.status, message, decision.retry_after)
            self.metrics.added_latency.observe(time.perf_counter() - t0)
            self.metrics.requests.inc(route, decision.action)
            record["status"] = decision.status
            record["latency_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
            backend.submit(PendingExchange(record, signals=signals_row, request_body=body))
            return

        path = route
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        added = time.perf_counter() - t0
        try:
            upstream = await self.upstream.send(
                "POST", path, self._upstream_headers(raw_headers, style), body
            )
        except UpstreamError as exc:
            status = 504 if isinstance(exc, UpstreamTimeout) else 502
            self.metrics.upstream_errors.inc(exc.kind)
            self.metrics.requests.inc(route, decision.action)
            log.warning("upstream call failed: %s", exc)
            await self._send_error(
                send,
                style,
                status,
                "the model provider did not answer in time"
                if status == 504
                else "the model provider is unreachable",
            )
            record["status"] = status
            record["latency_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
            record.setdefault("gateway", {"decision": decision.action})["upstream_error"] = exc.kind
            backend.submit(PendingExchange(record, signals=signals_row, request_body=body))
            return

        t1 = time.perf_counter()
        content_type = _header(upstream.headers, b"content-type") or b""
        streamed = content_type.startswith(b"text/event-stream")
        withhold = decision.withhold_reasoning and 200 <= upstream.status < 300
        record["status"] = upstream.status
        self.metrics.requests.inc(route, decision.action)
        delivered: list[bytes] = []
        error: BaseException | None = None
        try:
            if streamed:
                await send(
                    {
                        "type": "http.response.start",
                        "status": upstream.status,
                        "headers": self._response_headers(
                            upstream.headers, decision, keep_length=False
                        ),
                    }
                )
                self.metrics.added_latency.observe(added + time.perf_counter() - t1)
                await self._stream(
                    receive,
                    send,
                    upstream,
                    ReasoningStreamFilter(api) if withhold else None,
                    delivered,
                )
            elif withhold:
                await self._send_withheld(send, upstream, api, decision, delivered)
                self.metrics.added_latency.observe(added + time.perf_counter() - t1)
            else:
                await send(
                    {
                        "type": "http.response.start",
                        "status": upstream.status,
                        "headers": self._response_headers(
                            upstream.headers, decision, keep_length=True
                        ),
                    }
                )
                self.metrics.added_latency.observe(added + time.perf_counter() - t1)
                await self._pass_body(send, upstream, delivered)
        except _ClientGone:
            self.metrics.client_disconnects.inc()
            record.setdefault("gateway", {"decision": decision.action})["client_disconnected"] = (
                True
            )
        except UpstreamError as exc:
            self.metrics.upstream_errors.inc(exc.kind)
            record.setdefault("gateway", {"decision": decision.action})["upstream_error"] = exc.kind
            error = exc
        except (
            BaseException
        ) as exc:  # cancelled by the server, or a bug: still record, then re-raise
            record.setdefault("gateway", {"decision": decision.action})["aborted"] = type(
                exc
            ).__name__
            error = exc
        finally:
            with contextlib.suppress(Exception):
                await upstream.aclose()
            record["latency_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
            backend.submit(
                PendingExchange(
                    record,
                    body=b"".join(delivered),
                    streamed=streamed,
                    signals=signals_row,
                    request_body=body,
                )
            )
        if error is not None:
            # The status line is already out; aborting the connection is the only honest signal.
            raise error

    @staticmethod
    async def _pass_body(send: Send, upstream: Any, delivered: list[bytes]) -> None:
        """Forward a non-streamed body chunk by chunk; the chunk that completes it ends the response."""
        declared = _header(upstream.headers, b"content-length")
        remaining = int(declared) if declared is not None and declared.isdigit() else -1
        finished = False
        async for chunk in upstream.aiter_bytes():
            delivered.append(chunk)
            remaining -= len(chunk)
            finished = remaining == 0
            await send({"type": "http.response.body", "body": chunk, "more_body": not finished})
            if finished:
                break  # anything beyond the declared length is not part of this response
        if not finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_withheld(
        self, send: Send, upstream: Any, api: str, decision: Decision, delivered: list[bytes]
    ) -> None:
        """Non-streamed body with reasoning removed (the one case that must buffer)."""
        parts = [chunk async for chunk in upstream.aiter_bytes()]
        body = b"".join(parts)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        if parsed is not None and strip_reasoning(api, parsed):
            body = orjson.dumps(parsed)
        headers = self._response_headers(upstream.headers, decision, keep_length=False)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": upstream.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        delivered.append(body)

    async def _stream(
        self,
        receive: Receive,
        send: Send,
        upstream: Any,
        reasoning_filter: ReasoningStreamFilter | None,
        delivered: list[bytes],
    ) -> None:
        """Forward a stream while watching for the client leaving; raises _ClientGone if it does."""

        async def pump() -> None:
            async for chunk in upstream.aiter_bytes():
                out = reasoning_filter.feed(chunk) if reasoning_filter is not None else chunk
                if out:
                    delivered.append(out)
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            if reasoning_filter is not None:
                tail = reasoning_filter.finish()
                if tail:
                    delivered.append(tail)
                    await send({"type": "http.response.body", "body": tail, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        pump_task = asyncio.ensure_future(pump())
        watch_task = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            done, _ = await asyncio.wait(
                (pump_task, watch_task), return_when=asyncio.FIRST_COMPLETED
            )
            if pump_task in done:
                pump_task.result()
                return
            raise _ClientGone()
        finally:
            for task in (pump_task, watch_task):
                if not task.done():
                    task.cancel()
            await asyncio.gather(pump_task, watch_task, return_exceptions=True)

    # -- passthrough (model listing) -----------------------------------------------

    async def passthrough(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET /v1/models[/...]``: authenticated, forwarded, not recorded."""
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        headers = dict(raw_headers)
        style = STYLE_ANTHROPIC if b"anthropic-version" in headers else STYLE_OPENAI
        if self.keys.resolve(extract_key(headers)) is None:
            self.metrics.requests.inc("/v1/models", "unauthorized")
            await self._send_error(send, style, 401, "invalid or missing API key")
            return
        path = scope["path"]
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        try:
            upstream = await self.upstream.send(
                scope["method"], path, self._upstream_headers(raw_headers, style), b""
            )
        except UpstreamError as exc:
            self.metrics.upstream_errors.inc(exc.kind)
            status = 504 if isinstance(exc, UpstreamTimeout) else 502
            await self._send_error(send, style, status, "the model provider is unavailable")
            return
        self.metrics.requests.inc("/v1/models", "allow")
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": upstream.status,
                    "headers": self._response_headers(
                        upstream.headers, Decision(), keep_length=True
                    ),
                }
            )
            async for chunk in upstream.aiter_bytes():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await upstream.aclose()

    # -- operational endpoints ---------------------------------------------------------

    async def healthz(self, scope: Scope, receive: Receive, send: Send) -> None:
        """200 while exchanges are being recorded; 503 once the engine worker is gone."""
        alive = self.backend.alive
        body = orjson.dumps(
            {
                "status": "ok" if alive else "degraded",
                "detection": self.backend.detection,
                "recorder": "running" if alive else "stopped",
                "recorder_queue": self.backend.pending,
                "recorder_dropped": int(self.metrics.dropped.value()),
            }
        )
        status = 200 if alive else 503
        await send(
            {"type": "http.response.start", "status": status, "headers": error_headers(body)}
        )
        await send({"type": "http.response.body", "body": body})

    async def metrics_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.metrics.render().encode()
        headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _signals_row(record: dict[str, Any], assessment: Any) -> dict[str, Any]:
    """Per-exchange summary for ``store.append_signals``, from the inline assessment."""
    account = assessment.account
    model = record["request"].get("model")
    return {
        "id": record["id"],
        "ts": record["ts"],
        "account_id": record["account_id"],
        "model": model if isinstance(model, str) else None,
        "family_id": assessment.family_id,
        "risk": account.risk if account is not None else assessment.request_score,
        "signals": [{"signal": s.name, "score": s.score} for s in assessment.request_signals],
    }


def create_app(
    config: GatewayConfig,
    *,
    engine: Any | None = None,
    transport: Any | None = None,
    store: Any | None = None,
    worker: WorkerSpec | None = None,
) -> Starlette:
    """The gateway as an ASGI app; ``engine=None`` runs it as a recording proxy without detection.

    ``transport`` is an :class:`~distillwatch.gateway.upstream.UpstreamTransport`
    or an ``httpx`` transport (for example ``httpx.MockTransport``); ``store`` is
    a :class:`~distillwatch.store.Store` receiving every exchange. With
    ``worker`` instead of ``engine``/``store``, the engine, the store and the
    JSONL log live in a worker process (what ``distillwatch serve`` runs).
    """
    gateway = Gateway(config, engine=engine, transport=transport, store=store, worker=worker)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.startup()
        try:
            yield
        finally:
            await gateway.shutdown()

    routes: list[Route] = [
        Route(path, gateway.endpoint(api, style), methods=["POST"])
        for path, (api, style) in _API_ROUTES.items()
    ]
    routes += [
        Route("/v1/models", _Asgi(gateway.passthrough), methods=["GET"]),
        Route("/v1/models/{model:path}", _Asgi(gateway.passthrough), methods=["GET"]),
        Route("/healthz", _Asgi(gateway.healthz), methods=["GET"]),
        Route("/metrics", _Asgi(gateway.metrics_endpoint), methods=["GET"]),
        *admin_routes(gateway),
    ]
    app = GatewayApp(routes=routes, lifespan=lifespan)
    app.fast_routes = {
        path: gateway.endpoint(api, style) for path, (api, style) in _API_ROUTES.items()
    }
    app.state.gateway = gateway
    return app


class GatewayApp(Starlette):
    """Starlette, except that the three model endpoints skip the middleware stack and router.

    They are the hot path, they handle their own errors in the caller's API
    format, and the generic stack costs tens of microseconds per request.
    """

    fast_routes: dict[str, _Asgi]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self.fast_routes.get(scope["path"])
            if handler is not None:
                await handler(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
