"""The engine worker: recording, the store and ``engine.observe`` in a process of their own.

In one process, the recorder thread (parsing bodies, writing DuckDB, running
``observe``, several hundred microseconds per exchange) holds the GIL while
the event loop waits for it, and takes CPU time from the one core the event
loop can use: with detection on, that halved the gateway's throughput and
added most of its latency. ``distillwatch serve`` therefore starts this
worker: the serving process sends it every exchange (raw bytes, batched, see
:mod:`~distillwatch.gateway.channel`) and gets back, after each batch, the
little engine state its inline decision needs (see
:mod:`~distillwatch.gateway.verdicts`).

The worker owns the store (DuckDB allows one writing process), the JSONL log
and the engine. It ignores SIGINT and SIGTERM: it stops when the serving
process tells it to, or when the serving process is gone (end of its socket),
and in both cases first writes everything it was sent and saves the engine.

Started by :class:`~distillwatch.gateway.backend.WorkerBackend` (``main``
with the worker's end of the socket pair); nothing else starts it.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from distillwatch.gateway.channel import (
    ANSWER,
    BYE,
    CALL,
    CLOSE,
    HELLO,
    RECORDS,
    SPEC,
    UPDATE,
    decode_exchanges,
    frame,
    read_frame,
)
from distillwatch.gateway.keys import ACCOUNTS_STATE_KEY
from distillwatch.gateway.metrics import GatewayMetrics
from distillwatch.gateway.policy import OVERRIDES_STATE_KEY
from distillwatch.gateway.recorder import PendingExchange, finish_batch, write_jsonl, write_store
from distillwatch.gateway.verdicts import publishable
from distillwatch.ingest.parse import parse_record
from distillwatch.record import Exchange

__all__ = ["WorkerSpec", "EngineWorker", "ENGINE_STATE_KEY", "main"]

log = logging.getLogger("distillwatch.gateway.worker")

START_STATE_KEYS = (ACCOUNTS_STATE_KEY, OVERRIDES_STATE_KEY)  # what the gateway reads at start
ENGINE_STATE_KEY = "engine"  # store.save_state key of the engine snapshot (as `serve` always used)
_STUB_API = "openai.chat.completions"


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What the worker process opens and runs; pickled to it, so every field must pickle.

    ``engine_factory(store)`` builds the engine inside the worker (default:
    :func:`distillwatch.gateway.cli.build_engine`, which resumes from the
    store's snapshot); it must be importable by name, like any pickled function.
    """

    db: str | None = None  # DuckDB file; None: no store
    jsonl: str | None = None  # exchange-log file; None: none
    detection: bool = True
    engine_factory: Callable[[Any], Any] | None = None
    start_timeout_s: float = 300.0  # building an engine from a large snapshot takes a while
    # the engine is saved into the store this often (and on close), so that a worker
    # restarted after a crash resumes from a recent snapshot; 0: only on close
    checkpoint_interval_s: float = 900.0

    @property
    def needed(self) -> bool:
        """False when there is nothing to record into and nothing to observe."""
        return self.detection or self.db is not None or self.jsonl is not None


class EngineWorker:
    """Everything the worker process does, callable in-process (which is how it is unit-tested)."""

    def __init__(self, spec: WorkerSpec):
        self.metrics = GatewayMetrics()
        self.store: Any | None = None
        if spec.db is not None:
            from distillwatch.store import open_store

            self.store = open_store(spec.db)
        self.engine: Any | None = None
        if spec.detection:
            factory = spec.engine_factory
            if factory is None:
                from distillwatch.gateway.cli import build_engine

                factory = build_engine
            self.engine = factory(self.store)
        self._file: IO[bytes] | None = None
        if spec.jsonl is not None:
            path = Path(spec.jsonl)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("ab")
        self._lock = threading.Lock()  # the store helpers take one; this process has one thread
        self.done = 0  # exchanges fully handled, reported so the sender knows its backlog
        self._touched: set[str] = set()
        self._families: dict[str, float] = {}
        self._campaign_of: dict[str, str] = {}
        self._checkpoint_every = spec.checkpoint_interval_s
        self._last_checkpoint = time.monotonic()
        self._checkpointed_done = 0

    # -- what the serving process asks for -------------------------------------------

    def hello(self) -> dict[str, Any]:
        """Sent once at start: what was opened, the stored state the gateway reads, the full board."""
        state: dict[str, bytes | None] = {}
        if self.store is not None:
            for key in START_STATE_KEYS:
                state[key] = self.store.load_state(key)
        detectors = None
        if self.engine is not None and hasattr(self.engine, "detectors"):
            config = getattr(self.engine, "config", None)
            detectors = dict(getattr(config, "detectors", None) or {})
        self._touched.update(getattr(self.engine, "accounts", None) or ())
        return {
            "detection": self.engine is not None,
            "has_store": self.store is not None,
            "detectors": detectors,
            "state": state,
            "update": self.update(),
        }

    def record(self, items: Iterable[PendingExchange]) -> None:
        """Finish, write and observe one batch (as the in-process recorder does, in this process)."""
        batch = list(items)
        rows = finish_batch(batch, self.metrics)
        write_jsonl(self._file, rows, self.metrics)
        signal_rows = self._observe(rows) if self.engine is not None else []
        write_store(self.store, self._lock, rows, signal_rows, self.metrics)
        self.metrics.recorded.inc(amount=len(rows))
        self.done += len(batch)

    def _observe(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``engine.observe`` each row; the store's signal row per exchange, as ``scan`` writes it."""
        engine = self.engine
        out: list[dict[str, Any]] = []
        for row in rows:
            try:
                ex = parse_record(row)
                verdict = engine.observe(ex)
            except Exception:
                log.exception("engine.observe failed for exchange %s", row.get("id"))
                self.metrics.recorder_errors.inc("observe")
                continue
            self._touched.add(ex.account_id)
            out.append(
                {
                    "id": ex.id,
                    "ts": ex.ts,
                    "account_id": ex.account_id,
                    "model": ex.model,
                    "family_id": getattr(engine, "last_family", None),
                    "risk": verdict.risk,
                    "signals": [
                        {"signal": s.name, "score": s.score}
                        for s in getattr(engine, "last_signals", ())
                    ],
                }
            )
        return out

    def update(self) -> dict[str, Any]:
        """What changed since the last update, for :meth:`PublishedVerdicts.apply`, plus counters."""
        accounts: dict[str, Any] = {}
        campaigns: dict[str, float] = {}
        families: dict[str, float | None] = {}
        engine = self.engine
        if engine is not None:
            for account_id in self._touched:
                try:
                    # the engine's own inline view of the account: no private state is read here
                    seen = engine.assess(Exchange("", 0.0, account_id, _STUB_API))
                except Exception:
                    log.exception("could not read the verdict of account %s", account_id)
                    self.metrics.recorder_errors.inc("publish")
                    continue
                account = seen.account if publishable(seen.account) else None
                accounts[account_id] = account
                previous = self._campaign_of.pop(account_id, None)
                if seen.campaign_id is not None:
                    campaigns[seen.campaign_id] = seen.campaign_risk
                    self._campaign_of[account_id] = seen.campaign_id
                elif previous is not None and previous not in campaigns:
                    campaigns[previous] = 0.0  # its campaign no longer lifts it, nor its peers
            flagged = dict(getattr(engine, "flagged_families", None) or {})
            for family_id, risk in flagged.items():
                if self._families.get(family_id) != risk:
                    families[family_id] = risk
            for family_id in self._families.keys() - flagged.keys():
                families[family_id] = None
            self._families = flagged
        self._touched.clear()
        return {
            "done": self.done,
            "accounts": accounts,
            "campaigns": campaigns,
            "families": families,
            "recorded": self.metrics.recorded.value(),
            "errors": {labels[0]: n for labels, n in self.metrics.recorder_errors.items()},
        }

    def call(self, method: str, args: tuple[Any, ...]) -> Any:
        """Admin and start-up requests: engine views and store access."""
        if method in ("account_verdicts", "campaigns"):
            if self.engine is None:
                return []
            return getattr(self.engine, method)()
        if self.store is None:
            raise RuntimeError("no store is configured")
        if method == "verdict_history":
            return self.store.verdict_history(*args)
        if method == "save_state":
            return self.store.save_state(*args)
        if method == "load_state":
            return self.store.load_state(*args)
        raise ValueError(f"unknown worker call {method!r}")

    def checkpoint(self, now: float | None = None) -> bool:
        """Save the engine when the interval has passed and something new was observed.

        Why: the engine is otherwise saved only on a clean close; a worker that
        crashes and is restarted resumes from the last snapshot.
        """
        now = time.monotonic() if now is None else now
        if (
            self._checkpoint_every <= 0
            or now - self._last_checkpoint < self._checkpoint_every
            or self.done == self._checkpointed_done
        ):
            return False
        self._last_checkpoint = now
        return self._save_engine()

    def _save_engine(self) -> bool:
        if self.store is None or self.engine is None or not hasattr(self.engine, "state_bytes"):
            return False
        try:
            self.store.save_state(ENGINE_STATE_KEY, self.engine.state_bytes())
        except Exception:
            log.exception("could not save the engine state")
            self.metrics.recorder_errors.inc("checkpoint")
            return False
        self._checkpointed_done = self.done
        return True

    def close(self) -> None:
        """Save the engine into the store (so the next start resumes), close the store and the log."""
        if self.store is not None:
            self._save_engine()
            self.store.close()
            self.store = None
        if self._file is not None:
            self._file.close()
            self._file = None


# -- the process -----------------------------------------------------------------------


def serve_channel(sock: socket.socket) -> int:
    """The worker's main loop on its end of the socket pair; returns the exit code."""
    stream = sock.makefile("rb", buffering=1 << 20)

    def send(kind: int, payload: bytes = b"") -> None:
        # OSError: the serving process is gone; keep writing what was received
        with contextlib.suppress(OSError):
            sock.sendall(frame(kind, payload))

    first = read_frame(stream)
    if first is None or first[0] != SPEC:
        log.error("engine worker: no spec received")
        return 2
    spec: WorkerSpec = pickle.loads(first[1])  # noqa: S301 - from our own parent process
    try:
        worker = EngineWorker(spec)
        hello = worker.hello()
    except Exception as exc:
        log.exception("engine worker could not start")
        send(HELLO, pickle.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    send(HELLO, pickle.dumps(hello, protocol=pickle.HIGHEST_PROTOCOL))
    try:
        while True:
            got = read_frame(stream)
            if got is None or got[0] == CLOSE:
                break
            kind, payload = got
            if kind == RECORDS:
                worker.record(decode_exchanges(payload))
                send(UPDATE, pickle.dumps(worker.update(), protocol=pickle.HIGHEST_PROTOCOL))
                worker.checkpoint()
            elif kind == CALL:
                call_id, method, args = pickle.loads(payload)  # noqa: S301 - our parent
                try:
                    answer = (call_id, True, worker.call(method, args))
                except Exception as exc:
                    answer = (call_id, False, f"{type(exc).__name__}: {exc}")
                send(ANSWER, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        worker.close()
        send(UPDATE, pickle.dumps(worker.update(), protocol=pickle.HIGHEST_PROTOCOL))
        send(BYE)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Process entry: ``argv[0]`` is the file descriptor of the worker's socket."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # the serving process decides when this one stops, after it has sent everything
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with socket.socket(fileno=int(argv[0])) as sock:
        return serve_channel(sock)
