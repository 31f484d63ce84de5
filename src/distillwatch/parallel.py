"""Per-line work of a scan, in worker processes for large logs.

Everything a scan does with one line on its own is a pure function of that
line: decoding and checking it, parsing it into an :class:`Exchange`, the
content detectors, and the sentence hashes prompt families are mined from.
Only the engine's account, family and group state is sequential. So a scan
ships raw log lines (far cheaper to send between processes than parsed
records) to a pool of workers, and gets back per line either the reason it
is rejected or its :class:`Analysis`: the text-free
:class:`~distillwatch.record.ExchangeFacts` the engine and the store read,
the signals and the family hashes. The main process never parses a line
again; it orders, counts and feeds :meth:`Engine.observe_facts`. At most
``depth`` batches are in flight, which bounds memory whatever the input size.

:class:`InlineAnalyser` does the same work in the calling process (``--workers 0``),
so both paths produce the same results by construction.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import orjson

from distillwatch.campaign.families import sentence_hashes
from distillwatch.detectors.base import Detector, default_registry
from distillwatch.ingest.parse import RecordError, parse_record
from distillwatch.record import ExchangeFacts, facts_of

__all__ = [
    "Analysis",
    "ContentPool",
    "InlineAnalyser",
    "SignalRow",
    "analyse_lines",
    "default_workers",
    "rare_young_collections",
    "to_analysis",
]

_SignalTuple = tuple[str, float, str, "str | None"]
_Hashes = tuple[list[int], list[int]]
# per line: the rejection reason, or (ts, facts as a plain tuple, signal tuples, hashes)
LineResult = str | tuple[float, tuple, list[_SignalTuple], _Hashes]

_detectors: list[Detector] = []


class SignalRow(NamedTuple):
    """A content signal as the engine reads it (the attributes of ``Signal``), built in C
    from the tuple a worker sent; a frozen dataclass costs about a microsecond more each."""

    name: str
    score: float
    detail: str
    capability: str | None


class Analysis(NamedTuple):
    """What the sequential part of a scan needs of one accepted line."""

    facts: ExchangeFacts
    signals: list[SignalRow]
    family_hashes: _Hashes


_new = tuple.__new__


def to_analysis(result: tuple[float, tuple, list[_SignalTuple], _Hashes]) -> Analysis:
    """The :class:`Analysis` of a line's result (the plain tuples it travelled as)."""
    _ts, facts, rows, hashes = result
    return _new(Analysis, (_new(ExchangeFacts, facts), [_new(SignalRow, r) for r in rows], hashes))


def default_workers(input_bytes: int) -> int:
    """How many worker processes a scan of ``input_bytes`` should use (0: in-process).

    Starting a worker costs about a second (imports), which only pays off on
    logs of some size, and on a single core there is nothing to gain.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2 or input_bytes < 32 << 20:
        return 0
    return min(cores, 8)


def analyse_lines(raws: Iterable[bytes | dict], detectors: list[Detector]) -> list[LineResult]:
    """Per raw line (JSONL bytes, or a Parquet row as a dict): the reason it is rejected
    (the same text :class:`~distillwatch.ingest.ExchangeStream` gives), or
    ``(ts, facts, signals, family hashes)`` as plain tuples (cheap to pickle)."""
    out: list[LineResult] = []
    append = out.append
    loads = orjson.loads
    for raw in raws:
        try:
            exchange = parse_record(loads(raw) if type(raw) is bytes else raw)  # type: ignore[arg-type]
        except orjson.JSONDecodeError as exc:
            append(f"malformed JSON: {exc}")
            continue
        except RecordError as exc:
            append(str(exc))
            continue
        rows: list[_SignalTuple] = []
        for det in detectors:
            for sig in det.detect(exchange):
                rows.append((sig.name, sig.score, sig.detail, sig.capability))
        hashes = (sentence_hashes(exchange.system), sentence_hashes(exchange.last_user_text))
        append((exchange.ts, tuple(facts_of(exchange)), rows, hashes))
    return out


# A scan allocates a few dozen short-lived containers per line (decoded JSON, results)
# while the engine's state (accounts, families) lives on: with the default threshold
# (700) the cyclic collector runs every few lines and re-examines that state. Nothing
# in a scan relies on when cycles are collected.
_YOUNG_THRESHOLD = 50_000


@contextlib.contextmanager
def rare_young_collections() -> Iterator[None]:
    """Raise the young-generation threshold of the garbage collector for a block."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], _YOUNG_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _init_worker(detector_config: Mapping[str, Mapping[str, Any]]) -> None:
    global _detectors
    _detectors = default_registry().build(detector_config)
    gc.set_threshold(max(gc.get_threshold()[0], _YOUNG_THRESHOLD))  # a worker only scans


def _analyse_batch(raws: list[bytes | dict]) -> list[LineResult]:
    return analyse_lines(raws, _detectors)


class _Done:
    """An already computed batch, with the ``get()`` of a pool's pending result."""

    __slots__ = ("value",)

    def __init__(self, value: list[LineResult]) -> None:
        self.value = value

    def get(self) -> list[LineResult]:
        return self.value


class InlineAnalyser:
    """:func:`analyse_lines` in this process, with the interface of :class:`ContentPool`."""

    def __init__(self, detectors: list[Detector], *, batch: int = 256) -> None:
        self.detectors = detectors
        self.batch = batch
        self.depth = 1

    def submit(self, raws: list[bytes | dict]) -> _Done:
        return _Done(analyse_lines(raws, self.detectors))

    def close(self) -> None:
        pass


class ContentPool:
    """Worker processes running :func:`analyse_lines` over batches of raw lines.

    ``submit`` hands a batch to the pool and returns its pending result
    (``.get()``); callers keep at most ``depth`` batches of ``batch`` lines in flight
    (:meth:`distillwatch.ingest.ExchangeStream.analysed` does).
    """

    def __init__(
        self,
        workers: int,
        detector_config: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        batch: int = 256,
        depth: int | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("a ContentPool needs at least one worker")
        self.batch = batch
        self.depth = depth if depth is not None else 4 * workers
        # fork where there is one: no re-import of the caller's __main__ (which a
        # script without a main guard would run again) and a start in milliseconds.
        # Callers create the pool before opening stores or starting threads.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._pool = context.Pool(
            workers, initializer=_init_worker, initargs=(dict(detector_config or {}),)
        )

    def submit(self, raws: list[bytes | dict]) -> Any:
        return self._pool.apply_async(_analyse_batch, (raws,))

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> ContentPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
