"""Writing exchanges off the response path.

The response path only builds a small :class:`PendingExchange` and appends it
to a bounded buffer (microseconds). One background thread finishes each record
(parses the body, reassembles streams), writes batches to the store and the
JSONL file, then feeds the completed exchange to ``engine.observe``. A full
buffer drops the record and counts it, rather than slowing every caller; on
shutdown the buffer is drained before the process exits.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from distillwatch.gateway.metrics import GatewayMetrics
from distillwatch.gateway.streams import reassemble

__all__ = [
    "PendingExchange",
    "Recorder",
    "finish_record",
    "finish_batch",
    "write_jsonl",
    "write_store",
]

log = logging.getLogger("distillwatch.gateway.recorder")


@dataclass(slots=True)
class PendingExchange:
    """An exchange as the response path leaves it: everything but the parsed response."""

    record: dict[str, Any]  # exchange-log v1 fields known so far
    body: bytes | None = None  # response bytes exactly as the client received them
    streamed: bool = False  # body is an SSE stream to reassemble
    signals: dict[str, Any] | None = None  # store signals row from the inline assessment
    request_body: bytes | None = None  # the request as the client sent it (for the worker process)


def finish_record(item: PendingExchange) -> dict[str, Any]:
    """The final exchange-log v1 dict: the response body parsed or reassembled."""
    record = item.record
    body = item.body
    if not body:
        return record
    status = record.get("status", 200)
    if item.streamed:
        if 200 <= status < 300:
            response = reassemble(record["api"], body)
            if response is not None:
                record["response"] = response
            else:
                record.setdefault("gateway", {})["response_error"] = (
                    "stream carried no usable events"
                )
        return record
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        record.setdefault("gateway", {})["response_error"] = "upstream body is not valid JSON"
        return record
    if 200 <= status < 300 and isinstance(parsed, dict):
        record["response"] = parsed
    elif status >= 300:
        record["error"] = parsed  # an error body is not a response; kept for the analyst
    return record


class Recorder:
    """Bounded buffer plus one writer thread; ``submit`` never blocks and never wakes a thread.

    The writer wakes every ``flush_interval_s`` and takes everything buffered,
    instead of being signalled per exchange: a cross-thread wake-up per
    request costs the event loop a GIL hand-off each time.
    """

    def __init__(
        self,
        *,
        store: Any | None = None,
        jsonl: Path | None = None,
        observe: Callable[[dict[str, Any]], None] | None = None,
        metrics: GatewayMetrics | None = None,
        store_lock: threading.Lock | None = None,
        queue_size: int = 100_000,
        batch_size: int = 512,
        flush_interval_s: float = 0.2,
    ):
        self.store = store
        self.jsonl = jsonl
        self.observe = observe
        self.metrics = metrics or GatewayMetrics()
        self.store_lock = store_lock or threading.Lock()
        self.queue_size = max(1, queue_size)
        self.batch_size = max(1, batch_size)
        self.flush_interval_s = max(0.002, flush_interval_s)
        self._buffer: deque[PendingExchange] = deque()  # append/popleft are atomic under the GIL
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file: IO[bytes] | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        # with nowhere to write and nothing to observe, finishing records would be wasted work
        self._has_sink = store is not None or jsonl is not None or observe is not None

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def start(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._closed:
                return
            if self.jsonl is not None:
                self.jsonl.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.jsonl.open("ab")
            self._thread = threading.Thread(
                target=self._run, name="distillwatch-recorder", daemon=True
            )
            self._thread.start()

    def submit(self, item: PendingExchange) -> bool:
        """Buffer one exchange; False (and a counted drop) when the buffer is full or closed."""
        if not self._has_sink:
            return True
        if self._thread is None:
            self.start()
        if self._closed or len(self._buffer) >= self.queue_size:
            self.metrics.dropped.inc()
            return False
        self._buffer.append(item)
        return True

    def close(self, timeout: float = 30.0) -> bool:
        """Write everything buffered, stop the thread; True when it finished within ``timeout``."""
        with self._start_lock:
            if self._closed:
                return True
            self._closed = True
        thread = self._thread
        if thread is None:
            return True
        self._stop.set()
        thread.join(timeout)
        finished = not thread.is_alive()
        if finished and self._file is not None:
            self._file.close()
            self._file = None
        return finished

    # -- writer thread -------------------------------------------------------

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.flush_interval_s)
            while self._buffer:
                batch = []
                while self._buffer and len(batch) < self.batch_size:
                    batch.append(self._buffer.popleft())
                self._write_chunk(batch)
            if stopping:
                return

    def _write_chunk(self, batch: list[PendingExchange]) -> None:
        rows = finish_batch(batch, self.metrics)
        write_jsonl(self._file, rows, self.metrics)
        signal_rows = [item.signals for item in batch if item.signals is not None]
        write_store(self.store, self.store_lock, rows, signal_rows, self.metrics)
        self.metrics.recorded.inc(amount=len(rows))
        if self.observe is not None:
            for row in rows:
                try:
                    self.observe(row)
                except Exception:
                    log.exception("engine.observe failed for exchange %s", row.get("id"))
                    self.metrics.recorder_errors.inc("observe")


# -- the steps of writing a batch, shared with the engine worker process ----------


def finish_batch(batch: list[PendingExchange], metrics: GatewayMetrics) -> list[dict[str, Any]]:
    """Every record finished; one with a bad body is kept as it was (and counted)."""
    rows: list[dict[str, Any]] = []
    for item in batch:
        try:
            rows.append(finish_record(item))
        except Exception:  # a bad body must not cost the other records
            log.exception("could not finish exchange %s", item.record.get("id"))
            metrics.recorder_errors.inc("finish")
            rows.append(item.record)
    return rows


def write_jsonl(
    file: IO[bytes] | None, rows: list[dict[str, Any]], metrics: GatewayMetrics
) -> None:
    """Append the rows as exchange-log v1 lines, flushed so a crash loses at most this batch."""
    if file is None or not rows:
        return
    try:
        file.write(b"".join(orjson.dumps(r) + b"\n" for r in rows))
        file.flush()
    except Exception:
        log.exception("could not write the exchange JSONL file")
        metrics.recorder_errors.inc("jsonl")


def write_store(
    store: Any | None,
    lock: threading.Lock,
    rows: list[dict[str, Any]],
    signal_rows: list[dict[str, Any]],
    metrics: GatewayMetrics,
) -> None:
    """Exchanges and their signal rows, in one locked section (the admin API reads the store too)."""
    if store is None or not rows:
        return
    try:
        with lock:
            store.append_exchanges(rows)
            if signal_rows:
                store.append_signals(signal_rows)
    except Exception:
        log.exception("could not write %d exchanges to the store", len(rows))
        metrics.recorder_errors.inc("store")
