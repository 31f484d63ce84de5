"""Content detection in worker processes, for scans of large logs.

Content detectors (and the sentence hashes that prompt families are mined
from) are pure functions of one exchange, while the rest of the engine
(account, family and group state) is sequential. So a scan ships the
raw log lines (far cheaper to send between processes than parsed records) to
a pool of workers that parse them again and run the detectors, and the main
process feeds the returned signals to :meth:`Engine.observe` in time order.
At most ``depth`` batches are in flight, which bounds memory whatever the
input size.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

import orjson

from distillwatch.campaign.families import sentence_hashes
from distillwatch.detectors.base import Detector, Signal, default_registry
from distillwatch.ingest.parse import parse_record

__all__ = ["ContentPool", "default_workers"]

T = TypeVar("T")
_SignalRow = tuple[str, float, str, "str | None"]
_Hashes = tuple[list[int], list[int]]
_Pure = tuple[list[_SignalRow], _Hashes]

_detectors: list[Detector] = []


def default_workers(input_bytes: int) -> int:
    """How many worker processes a scan of ``input_bytes`` should use (0: in-process).

    Starting a worker costs about a second (imports), which only pays off on
    logs of some size, and on a single core there is nothing to gain.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2 or input_bytes < 32 << 20:
        return 0
    return min(cores, 8)


def _init_worker(detector_config: Mapping[str, Mapping[str, Any]]) -> None:
    global _detectors
    _detectors = default_registry().build(detector_config)


def _detect_batch(raws: list[bytes | dict]) -> list[_Pure]:
    """Per raw line: its signals as plain tuples (cheaper to pickle than dataclasses)
    and the sentence hashes of its system prompt and last user message."""
    out: list[_Pure] = []
    for raw in raws:
        exchange = parse_record(orjson.loads(raw) if type(raw) is bytes else raw)
        rows: list[_SignalRow] = []
        for det in _detectors:
            for sig in det.detect(exchange):
                rows.append((sig.name, sig.score, sig.detail, sig.capability))
        hashes = (sentence_hashes(exchange.system), sentence_hashes(exchange.last_user_text))
        out.append((rows, hashes))
    return out


class ContentPool:
    """Worker processes running the content detectors over batches of raw lines.

    ``map_ordered`` pairs each item of the input with the signals and family
    sentence hashes of its raw line (the arguments :meth:`Engine.observe` takes),
    in input order, keeping at most ``depth`` batches in flight.
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

    def map_ordered(
        self, pairs: Iterable[tuple[T, bytes | dict]]
    ) -> Iterator[tuple[T, list[Signal], _Hashes]]:
        pending: deque[tuple[list[T], Any]] = deque()
        items: list[T] = []
        raws: list[bytes | dict] = []
        for item, raw in pairs:
            items.append(item)
            raws.append(raw)
            if len(raws) >= self.batch:
                pending.append((items, self._pool.apply_async(_detect_batch, (raws,))))
                items, raws = [], []
                if len(pending) >= self.depth:
                    yield from self._collect(pending.popleft())
        if raws:
            pending.append((items, self._pool.apply_async(_detect_batch, (raws,))))
        while pending:
            yield from self._collect(pending.popleft())

    @staticmethod
    def _collect(job: tuple[list[T], Any]) -> Iterator[tuple[T, list[Signal], _Hashes]]:
        items, result = job
        for item, (rows, hashes) in zip(items, result.get(), strict=True):
            signals = [Signal(name, score, detail, cap) for name, score, detail, cap in rows]
            yield item, signals, hashes

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> ContentPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
