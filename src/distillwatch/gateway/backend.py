"""Where the engine and the recorder run, behind one interface for the app and the admin API.

:class:`InProcessBackend`: a recorder thread in the serving process (library
use with an engine object, tests, small set-ups). :class:`WorkerBackend`: the
engine worker process (``distillwatch serve``), so that the event loop never
competes with recording and ``observe`` for the GIL or for its core; see
:mod:`~distillwatch.gateway.worker`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Protocol

from distillwatch.gateway.channel import (
    ANSWER,
    BYE,
    CALL,
    CLOSE,
    HELLO,
    RECORDS,
    SPEC,
    UPDATE,
    FrameBuffer,
    encode_exchange,
    frame,
)
from distillwatch.gateway.config import RecorderConfig
from distillwatch.gateway.engine_gate import EngineGate
from distillwatch.gateway.metrics import GatewayMetrics
from distillwatch.gateway.recorder import PendingExchange, Recorder
from distillwatch.gateway.verdicts import PublishedVerdicts
from distillwatch.gateway.worker import START_STATE_KEYS, WorkerSpec

__all__ = [
    "Backend",
    "BackendUnavailable",
    "InProcessBackend",
    "WorkerBackend",
    "START_STATE_KEYS",
]

log = logging.getLogger("distillwatch.gateway")

_FLUSH_BYTES = 1 << 20  # hand a batch over early when this much is buffered
_WORKER_MAIN = "import sys; from distillwatch.gateway.worker import main; sys.exit(main())"


class BackendUnavailable(RuntimeError):
    """The engine worker is not running (it exited); the admin API answers 503."""


class Backend(Protocol):
    """What the gateway needs from whatever runs the engine and writes the exchanges."""

    detection: bool  # an engine assesses requests
    has_store: bool
    inline_signal_rows: bool  # the store's signal rows come from the inline assessment

    @property
    def alive(self) -> bool: ...

    @property
    def pending(self) -> int:
        """Exchanges handed over and not written yet."""
        ...

    def assess(self, exchange: Any) -> Any:
        """The engine's Assessment of a request not yet served (on the event loop)."""
        ...

    def submit(self, item: PendingExchange) -> bool:
        """Hand one finished exchange over; never blocks; False when it was dropped (and counted)."""
        ...

    async def start(self) -> dict[str, bytes | None]:
        """Start; the stored blobs of START_STATE_KEYS (None when absent)."""
        ...

    async def close(self, timeout: float) -> bool:
        """Write everything handed over; True when that finished within ``timeout``."""
        ...

    async def engine_view(self, method: str) -> Any:
        """``account_verdicts`` or ``campaigns`` of the engine (admin API)."""
        ...

    async def verdict_history(self, account_id: str) -> list[dict[str, Any]]: ...

    async def save_state(self, key: str, blob: bytes) -> None: ...


class InProcessBackend:
    """Engine and recorder thread inside the serving process."""

    inline_signal_rows = True

    def __init__(
        self,
        *,
        engine: Any | None,
        store: Any | None,
        metrics: GatewayMetrics,
        recorder: RecorderConfig,
    ):
        self.engine = engine
        self.store = store
        self.detection = engine is not None
        self.has_store = store is not None
        # The engine is single-threaded: assess (event loop) and observe (recorder thread) take turns.
        self.gate = EngineGate(engine) if engine is not None else None
        self.store_lock = threading.Lock()
        if engine is not None:
            from distillwatch.ingest.parse import parse_record

            self._parse_record = parse_record
        self.recorder = Recorder(
            store=store,
            jsonl=recorder.jsonl,
            observe=self._observe if engine is not None else None,
            metrics=metrics,
            store_lock=self.store_lock,
            queue_size=recorder.queue_size,
            batch_size=recorder.batch_size,
            flush_interval_s=recorder.flush_interval_s,
        )

    alive = True

    @property
    def pending(self) -> int:
        return self.recorder.pending

    def _observe(self, record: dict[str, Any]) -> None:
        self.gate.observe(self._parse_record(record))

    def assess(self, exchange: Any) -> Any:
        return self.gate.assess(exchange)

    def submit(self, item: PendingExchange) -> bool:
        return self.recorder.submit(item)

    async def start(self) -> dict[str, bytes | None]:
        state: dict[str, bytes | None] = {}
        if self.store is not None:
            with self.store_lock:
                for key in START_STATE_KEYS:
                    state[key] = self.store.load_state(key)
        self.recorder.start()
        return state

    async def close(self, timeout: float) -> bool:
        # in a thread: the loop must stay free while the recorder drains
        return await asyncio.to_thread(self.recorder.close, timeout)

    async def engine_view(self, method: str) -> Any:
        if self.gate is None:
            return []
        return await asyncio.to_thread(self.gate.call, method)

    async def verdict_history(self, account_id: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with self.store_lock:
                return self.store.verdict_history(account_id)

        return await asyncio.to_thread(read) if self.store is not None else []

    async def save_state(self, key: str, blob: bytes) -> None:
        def write() -> None:
            with self.store_lock:
                self.store.save_state(key, blob)

        if self.store is not None:
            await asyncio.to_thread(write)


class _Channel(asyncio.Protocol):
    """The serving process's end of the socket pair: frames in, to the backend."""

    def __init__(self, backend: WorkerBackend):
        self._backend = backend
        self._frames = FrameBuffer()

    def data_received(self, data: bytes) -> None:
        for kind, payload in self._frames.feed(data):
            self._backend._on_frame(kind, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self._backend._on_lost()


class WorkerBackend:
    """The engine worker process, seen from the event loop.

    Exchanges are buffered as bytes and sent once per ``flush_interval_s`` (or
    per megabyte): one system call per batch, not per request. The worker
    answers each batch with what changed, applied to :attr:`verdicts`, which
    answers ``assess`` without leaving the event loop. Nothing here blocks the
    loop; if the worker dies, requests are still served (with the verdicts it
    last published), exchanges are dropped and counted, ``/healthz`` reports
    it, and the worker is started again after a back-off (1 s, doubling up to
    ``restart_max_s``); it resumes from the engine's last checkpoint in the store.
    """

    inline_signal_rows = False

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        metrics: GatewayMetrics,
        queue_size: int = 100_000,
        flush_interval_s: float = 0.2,
        restart_max_s: float = 60.0,
    ):
        self.spec = spec
        self.metrics = metrics
        self.detection = spec.detection
        self.has_store = spec.db is not None
        self.queue_size = max(1, queue_size)
        self.flush_interval_s = max(0.001, flush_interval_s)
        self.verdicts = PublishedVerdicts()
        self._buffer = bytearray()
        self._sent = 0
        self._done = 0
        self._recorded = 0.0
        self._errors: dict[str, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._hello: asyncio.Future[dict[str, Any]] | None = None
        self._bye: asyncio.Future[None] | None = None
        self._calls: dict[int, asyncio.Future[tuple[bool, Any]]] = {}
        self._ids = itertools.count()
        self._alive = False
        self._closing = False
        self.restart_max_s = restart_max_s
        self._restart: asyncio.Task[None] | None = None
        self._started = False

    @property
    def alive(self) -> bool:
        return self._alive

    @property
    def pending(self) -> int:
        return self._sent - self._done

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> dict[str, bytes | None]:
        """Start the worker; its stored state (keys, overrides) for the gateway to apply."""
        hello = await self._spawn()
        self._started = True  # from now on, an unexpected exit is followed by a restart
        return dict(hello.get("state") or {})

    async def _spawn(self) -> dict[str, Any]:
        """Start the worker process and wait for its hello (raises if it cannot start)."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        # the engine factory is pickled by name: the worker must find what this process finds
        paths = [p or os.getcwd() for p in sys.path]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # a Ctrl-C to the terminal is for us; we stop the worker
                env=env,
            )
        finally:
            theirs.close()
        self._hello = loop.create_future()
        self._bye = loop.create_future()
        self._transport, _ = await loop.create_unix_connection(lambda: _Channel(self), sock=ours)
        self._alive = True
        self._transport.write(frame(SPEC, pickle.dumps(self.spec)))
        try:
            hello = await asyncio.wait_for(asyncio.shield(self._hello), self.spec.start_timeout_s)
        except TimeoutError:
            await self._stop_process(1.0)
            raise RuntimeError(
                f"the engine worker did not start within {self.spec.start_timeout_s:.0f}s"
            ) from None
        if hello.get("error"):
            await self._stop_process(5.0)
            raise RuntimeError(f"the engine worker could not start: {hello['error']}")
        self.detection = bool(hello["detection"])
        if hello.get("detectors") is not None:
            from distillwatch.detectors.base import default_registry

            self.verdicts.detectors = default_registry().build(hello["detectors"])
        self._apply(hello["update"])
        return hello

    async def _restart_after_exit(self) -> None:
        """Start the worker again, backing off while it keeps failing to start."""
        delay = 1.0
        while not self._closing:
            await asyncio.sleep(delay)
            if self._closing:
                return
            lost = self.pending  # in flight when it died: never observed nor recorded
            if lost:
                self.metrics.dropped.inc(amount=lost)
            self._sent = self._done = 0  # the new worker counts from zero
            self._recorded, self._errors = 0.0, {}
            try:
                await self._spawn()
            except Exception as exc:  # noqa: BLE001 - any start failure: try again later
                log.error("the engine worker could not be restarted (%s); retrying", exc)
                delay = min(delay * 2, self.restart_max_s)
                continue
            self.metrics.worker_restarts.inc()
            log.warning("the engine worker was restarted (pid %d)", self._process.pid)
            return

    async def close(self, timeout: float) -> bool:
        self._closing = True
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
        return await self._stop_process(timeout)

    async def _stop_process(self, timeout: float) -> bool:
        """Send what is buffered, ask the worker to finish, and wait for it (up to ``timeout``)."""
        if self._process is None:
            return True
        started = time.monotonic()
        self._flush()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame(CLOSE))
        finished = True
        try:
            if self._bye is not None:
                await asyncio.wait_for(asyncio.shield(self._bye), timeout)
        except TimeoutError:
            finished = False
            log.error(
                "engine worker (pid %d) still writing after %.0fs; it finishes on its own",
                self._process.pid,
                timeout,
            )
        if finished:
            left = max(1.0, timeout - (time.monotonic() - started))
            try:
                await asyncio.to_thread(self._process.wait, left)
            except subprocess.TimeoutExpired:
                finished = False
        if self._transport is not None:
            self._transport.close()
        return finished

    # -- the hot path -------------------------------------------------------------------

    def assess(self, exchange: Any) -> Any:
        return self.verdicts.assess(exchange)

    def submit(self, item: PendingExchange) -> bool:
        if not self._alive or self._closing or self.pending >= self.queue_size:
            self.metrics.dropped.inc()
            return False
        self._buffer += encode_exchange(item)
        self._sent += 1
        if len(self._buffer) >= _FLUSH_BYTES:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.flush_interval_s, self._flush)
        return True

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buffer and self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame(RECORDS, bytes(self._buffer)))
        self._buffer.clear()

    # -- admin -------------------------------------------------------------------------

    async def _call(self, method: str, *args: Any) -> Any:
        if not self._alive or self._transport is None:
            raise BackendUnavailable("the engine worker is not running")
        self._flush()  # so that the answer covers every exchange served before the call
        call_id = next(self._ids)
        future: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = future
        self._transport.write(frame(CALL, pickle.dumps((call_id, method, args))))
        ok, result = await future
        if not ok:
            raise RuntimeError(f"engine worker: {result}")
        return result

    async def engine_view(self, method: str) -> Any:
        return await self._call(method) if self.detection else []

    async def verdict_history(self, account_id: str) -> list[dict[str, Any]]:
        return await self._call("verdict_history", account_id) if self.has_store else []

    async def save_state(self, key: str, blob: bytes) -> None:
        if self.has_store:
            await self._call("save_state", key, blob)

    # -- frames from the worker -------------------------------------------------------

    def _on_frame(self, kind: int, payload: bytes) -> None:
        message = pickle.loads(payload) if payload else None  # noqa: S301 - our own child
        if kind == UPDATE:
            self._apply(message)
        elif kind == ANSWER:
            call_id, ok, result = message
            future = self._calls.pop(call_id, None)
            if future is not None and not future.done():
                future.set_result((ok, result))
        elif kind in (HELLO, BYE):
            waiter: asyncio.Future[Any] | None = self._hello if kind == HELLO else self._bye
            if waiter is not None and not waiter.done():
                waiter.set_result(message)

    def _apply(self, update: dict[str, Any]) -> None:
        self._done = update["done"]
        self.verdicts.apply(update)
        recorded = update.get("recorded", self._recorded)
        if recorded > self._recorded:
            self.metrics.recorded.inc(amount=recorded - self._recorded)
            self._recorded = recorded
        for stage, count in update.get("errors", {}).items():
            seen = self._errors.get(stage, 0.0)
            if count > seen:
                self.metrics.recorder_errors.inc(stage, amount=count - seen)
                self._errors[stage] = count

    def _on_lost(self) -> None:
        self._alive = False
        self._transport = None
        if not self._closing:
            log.error(
                "the engine worker exited: exchanges are dropped and verdicts stay as last "
                "published until it is restarted"
            )
            if self._started and (self._restart is None or self._restart.done()):
                self._restart = asyncio.get_running_loop().create_task(self._restart_after_exit())
        lost = BackendUnavailable("the engine worker exited")
        for waiter in (self._hello, *self._calls.values()):
            if waiter is not None and not waiter.done():
                if waiter is self._hello:
                    waiter.set_result({"error": "it exited before it was ready"})
                else:
                    waiter.set_exception(lost)
        self._calls.clear()
        if self._bye is not None and not self._bye.done():
            self._bye.set_result(None)
