"""Exchanges of many files, in time order, in bounded memory.

Detectors keep time windows, so a scan must see exchanges in non-decreasing
``ts`` order even when its input is several overlapping files, or files whose
lines were written at completion time rather than arrival time.

How: a cheap first pass reads only the ``ts`` of each file to learn whether it
is already sorted. Sorted files are then streamed and heap-merged with no
copy. Any other file is cut into chunks that are sorted in memory and spilled
(as raw lines) to a temporary directory, and all runs are heap-merged. Memory
is one chunk at a time plus one record per run, whatever the input size.
Ties keep file order, then line order.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson

from distillwatch.ingest.parse import RecordError, parse_record, parse_ts, required_ts
from distillwatch.ingest.reader import Rejection, detect_format, iter_raw, rejection_text
from distillwatch.record import Exchange

__all__ = ["Analyser", "ExchangeStream", "file_is_sorted"]

DEFAULT_CHUNK_RECORDS = 200_000
DEFAULT_CHUNK_BYTES = 128 << 20  # raw line bytes held before a chunk is spilled
_SPILL_BATCH = 1024  # records per pickle frame in a spill file
_MAX_FAN_IN = 128  # runs merged at once; more are merged in rounds first

# (ts, file index, line number, payload); payload is (Exchange, raw line) for
# streamed files and the raw line (bytes, or dict for Parquet) for spilled runs. The
# first three are unique, so tuples sort and merge without ever comparing payloads.
_Entry = tuple[float, int, int, Any]
_T = TypeVar("_T")


class _Pending(Protocol):
    def get(self) -> list[Any]: ...


class Analyser(Protocol):
    """Per-line work done off the main path (see :meth:`ExchangeStream.analysed`).

    ``submit(raws)`` starts the work on a batch of raw lines and returns a pending
    result whose ``get()`` is, per line, the rejection reason (a ``str``) or a
    tuple whose first item is the line's ``ts``. Callers keep at most ``depth``
    batches of ``batch`` lines in flight.
    """

    batch: int
    depth: int

    def submit(self, raws: list[bytes | dict]) -> _Pending: ...


def _prefetched(
    items: Iterable[Any], analyser: Analyser, batch: int, depth: int
) -> Iterator[tuple[Any, Any]]:
    """``(item, result)`` in item order: raw items' results from ``analyser``, computed
    up to ``depth`` batches ahead; a :class:`Rejection` item pairs with None."""
    pending: deque[tuple[list[Any], _Pending | None]] = deque()
    chunk: list[Any] = []
    raws: list[bytes | dict] = []
    for item in items:
        chunk.append(item)
        if type(item) is not Rejection:
            raws.append(item[1])
            if len(raws) >= batch:
                pending.append((chunk, analyser.submit(raws)))
                chunk, raws = [], []
                if len(pending) >= depth:
                    yield from _paired(*pending.popleft())
    if chunk:
        pending.append((chunk, analyser.submit(raws) if raws else None))
    while pending:
        yield from _paired(*pending.popleft())


def _paired(chunk: list[Any], handle: _Pending | None) -> Iterator[tuple[Any, Any]]:
    results = iter(handle.get() if handle is not None else ())
    for item in chunk:
        yield item, (None if type(item) is Rejection else next(results))


def _ts_token(line: bytes) -> bytes | float | None:
    """The top-level ``ts`` of a JSONL line, cheaply: the raw text of a string, or a number.

    The fast path finds ``"ts":`` by byte search and proves it is a top-level
    key (no container opened before it, preceded by ``{`` or ``,``); anything
    less certain falls back to a full JSON decode. None when there is no usable
    ``ts`` (the main pass rejects such lines). A duplicated top-level ``ts``
    key can fool this; the main pass catches that (see ``_stream_sorted``).
    """
    pos = line.find(b'"ts":')
    if (
        pos > 0
        and line.startswith(b"{")
        and line.find(b"{", 1, pos) < 0
        and line.find(b"[", 0, pos) < 0
        and line[:pos].rstrip()[-1:] in (b"{", b",")
    ):
        value = line[pos + 5 : pos + 53].lstrip()
        if value.startswith(b'"'):
            end = value.find(b'"', 1)
            text = value[1:end]
            if end > 0 and b"\\" not in text:
                return text
        elif value[:1] in b"-0123456789":
            for stop, char in enumerate(value):
                if char in b",} \t\r\n":
                    try:
                        return parse_ts(float(value[:stop]))
                    except (RecordError, ValueError):
                        return None
    try:
        return parse_ts(orjson.loads(line)["ts"])
    except (orjson.JSONDecodeError, RecordError, TypeError, KeyError):
        return None


def _ts_of_line(line: bytes) -> float | None:
    """The top-level ``ts`` of a JSONL line as epoch seconds (None when unusable)."""
    token = _ts_token(line)
    if type(token) is bytes:
        try:
            return parse_ts(token.decode("ascii"))
        except (RecordError, UnicodeDecodeError):
            return None
    return token  # type: ignore[return-value]


def _same_text_format(a: bytes, b: bytes) -> bool:
    """Two UTC RFC 3339 texts of one layout compare as bytes exactly as they do in time."""
    return len(a) == len(b) and a[-1:] == b"Z" and b[-1:] == b"Z" and a[10:11] == b[10:11]


def _jsonl_is_sorted(path: str | Path) -> bool:
    # Consecutive texts of the same layout ("...T10:15:30.123Z") are compared as
    # bytes, which saves parsing nearly every timestamp; anything else as numbers.
    last_text: bytes | None = None
    last_value: float | None = float("-inf")
    for item in iter_raw(path):
        if type(item) is Rejection:
            continue
        token = _ts_token(item[1])  # type: ignore[index, arg-type]
        if token is None:
            continue
        if type(token) is bytes:
            if last_text is not None and _same_text_format(token, last_text):
                if token < last_text:
                    return False
                last_text, last_value = token, None
                continue
            try:
                value = parse_ts(token.decode("ascii"))
            except (RecordError, UnicodeDecodeError):
                continue
        else:
            value = token  # type: ignore[assignment]
        if last_value is None:  # the previous one was only compared as text
            try:
                last_value = parse_ts(last_text.decode("ascii"))  # type: ignore[union-attr]
            except (RecordError, UnicodeDecodeError):
                return False  # cannot tell: sorting is always safe
        if value < last_value:
            return False
        last_value = value
        last_text = token if type(token) is bytes else None
    return True


def _parquet_ts_values(path: str | Path) -> Iterator[Any]:
    """Only the ``ts`` column of a Parquet file: sortedness without decoding bodies."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        if "ts" not in parquet.schema_arrow.names:
            return
        for batch in parquet.iter_batches(batch_size=65536, columns=["ts"]):
            yield from batch.column(0).to_pylist()
    except (pa.ArrowException, OSError, ValueError):
        return  # the main pass reports the damage


def file_is_sorted(path: str | Path) -> bool:
    """True when the usable ``ts`` values of a file never go backwards.

    Lines without a usable ``ts`` are ignored here: the main pass rejects them,
    and dropping lines from a sorted sequence keeps it sorted.
    """
    if detect_format(path) != "parquet":
        return _jsonl_is_sorted(path)
    last = float("-inf")
    for value in _parquet_ts_values(path):
        try:
            ts = parse_ts(value)
        except RecordError:
            continue
        if ts < last:
            return False
        last = ts
    return True


def _write_run(entries: Iterable[_Entry], directory: Path, number: int) -> Path:
    path = directory / f"run-{number:06d}.bin"
    with path.open("wb") as handle:
        batch: list[_Entry] = []
        for entry in entries:
            batch.append(entry)
            if len(batch) >= _SPILL_BATCH:
                pickle.dump(batch, handle, protocol=pickle.HIGHEST_PROTOCOL)
                batch = []
        if batch:
            pickle.dump(batch, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _read_run(path: Path) -> Iterator[_Entry]:
    with path.open("rb") as handle:
        while True:
            try:
                batch = pickle.load(handle)
            except EOFError:
                return
            yield from batch


class ExchangeStream:
    """Exchanges of many files in non-decreasing ``ts`` order, counting every line.

    After a full iteration ``lines == read + rejected``. Each rejection is
    handed to ``on_reject`` as soon as it is found. ``chunk_records`` and
    ``chunk_bytes`` bound the records held in memory while sorting an unsorted
    file; ``spill_dir`` is where temporary runs go (system default if None).
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        on_reject: Callable[[Rejection], None],
        chunk_records: int = DEFAULT_CHUNK_RECORDS,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        spill_dir: str | Path | None = None,
    ) -> None:
        if chunk_records < 1 or chunk_bytes < 1:
            raise ValueError("chunk_records and chunk_bytes must be positive")
        self.paths = [Path(p) for p in paths]
        self.on_reject = on_reject
        self.chunk_records = chunk_records
        self.chunk_bytes = chunk_bytes
        self.spill_dir = spill_dir
        self.lines = 0
        self.read = 0
        self.rejected = 0
        self.spilled_runs = 0  # how many runs went to disk (0 when all inputs were sorted)

    # -- counting -----------------------------------------------------------

    def _reject(self, rejection: Rejection) -> None:
        self.rejected += 1
        self.on_reject(rejection)

    def _parse(self, name: str, line_no: int, raw: bytes | dict) -> Exchange | None:
        return self._checked(parse_record, name, line_no, raw)

    def _validate(self, name: str, line_no: int, raw: bytes | dict) -> float | None:
        return self._checked(required_ts, name, line_no, raw)

    def _checked(
        self, read: Callable[[dict], _T], name: str, line_no: int, raw: bytes | dict
    ) -> _T | None:
        """``read`` of the decoded line, or None with the line rejected and the reason kept."""
        try:
            return read(orjson.loads(raw) if type(raw) is bytes else raw)
        except orjson.JSONDecodeError as exc:
            self._reject(Rejection(name, line_no, f"malformed JSON: {exc}", rejection_text(raw)))
        except RecordError as exc:
            self._reject(Rejection(name, line_no, str(exc), rejection_text(raw)))
        return None

    # -- sources --------------------------------------------------------------

    def _stream_sorted(self, index: int, path: Path) -> Iterator[_Entry]:
        """A file known to be sorted: parse as we go, nothing held."""
        name = str(path)
        last = float("-inf")
        for item in iter_raw(path):
            self.lines += 1
            if type(item) is Rejection:
                self._reject(item)
                continue
            line_no, raw = item  # type: ignore[misc]
            exchange = self._parse(name, line_no, raw)
            if exchange is None:
                continue
            if exchange.ts < last:
                # only a duplicated top-level "ts" key or a file rewritten while we read
                # it gets here; the order promise wins over keeping an ambiguous line
                reason = "ts goes back in a file found sorted (duplicate 'ts' key or file changed)"
                self._reject(Rejection(name, line_no, reason, rejection_text(raw)))
                continue
            last = exchange.ts
            yield exchange.ts, index, line_no, (exchange, raw)

    def _stream_analysed(
        self, index: int, path: Path, analyser: Analyser, batch: int, depth: int
    ) -> Iterator[_Entry]:
        """:meth:`_stream_sorted` with the parsing done by ``analyser`` (ahead, maybe in
        other processes); the same rejections, counted at the same point of the stream."""
        name = str(path)
        last = float("-inf")
        for item, result in _prefetched(iter_raw(path), analyser, batch, depth):
            self.lines += 1
            if type(item) is Rejection:
                self._reject(item)
                continue
            line_no, raw = item
            if type(result) is str:
                self._reject(Rejection(name, line_no, result, rejection_text(raw)))
                continue
            ts = result[0]
            if ts < last:
                reason = "ts goes back in a file found sorted (duplicate 'ts' key or file changed)"
                self._reject(Rejection(name, line_no, reason, rejection_text(raw)))
                continue
            last = ts
            yield ts, index, line_no, result

    def _spill_unsorted(self, index: int, path: Path, workdir: Path) -> list[Iterator[_Entry]]:
        """Check required fields now (so rejections come in file order), sort chunks by ts,
        spill them as raw lines; return the runs. The full parse happens at merge time."""
        name = str(path)
        runs: list[Iterator[_Entry]] = []
        chunk: list[_Entry] = []
        held = 0
        for item in iter_raw(path):
            self.lines += 1
            if type(item) is Rejection:
                self._reject(item)
                continue
            line_no, raw = item  # type: ignore[misc]
            ts = self._validate(name, line_no, raw)  # full parse waits for the merge
            if ts is None:
                continue
            chunk.append((ts, index, line_no, raw))
            held += len(raw) if type(raw) is bytes else 1024
            if len(chunk) >= self.chunk_records or held >= self.chunk_bytes:
                chunk.sort()
                runs.append(self._spill(chunk, workdir))
                chunk = []
                held = 0
        if chunk:
            chunk.sort()
            if runs:  # more than one chunk: everything goes to disk
                runs.append(self._spill(chunk, workdir))
            else:  # a file that fits one chunk is sorted in memory
                runs.append(iter(chunk))
        return runs

    def _spill(self, entries: Iterable[_Entry], workdir: Path) -> Iterator[_Entry]:
        path = _write_run(entries, workdir, self.spilled_runs)
        self.spilled_runs += 1
        return _read_run(path)

    def _limit_fan_in(self, runs: list[Iterator[_Entry]], workdir: Path) -> list[Iterator[_Entry]]:
        """Merge runs in rounds so that no more than _MAX_FAN_IN files are open at once."""
        while len(runs) > _MAX_FAN_IN:
            group, runs = runs[:_MAX_FAN_IN], runs[_MAX_FAN_IN:]
            runs.append(self._spill(heapq.merge(*group), workdir))
        return runs

    # -- iteration ---------------------------------------------------------------

    def __iter__(self) -> Iterator[Exchange]:
        for exchange, _raw in self.pairs():
            yield exchange

    def pairs(self) -> Iterator[tuple[Exchange, bytes | dict]]:
        """Each exchange with the raw line it was parsed from (bytes, or a dict for Parquet).

        The line is there for callers that need more of it than the Exchange keeps.
        A scan uses :meth:`analysed` instead, which parses each line only once,
        in its worker processes.
        """
        self.lines = self.read = self.rejected = self.spilled_runs = 0
        with tempfile.TemporaryDirectory(prefix="distillwatch-sort-", dir=self.spill_dir) as tmp:
            workdir = Path(tmp)
            streamed: list[Iterator[_Entry]] = []
            spilled: list[Iterator[_Entry]] = []
            for index, path in enumerate(self.paths):
                if file_is_sorted(path):
                    streamed.append(self._stream_sorted(index, path))
                else:
                    spilled.extend(self._spill_unsorted(index, path, workdir))
            spilled = self._limit_fan_in(spilled, workdir)
            sources = streamed + spilled
            merged = sources[0] if len(sources) == 1 else heapq.merge(*sources)
            for _ts, index, line_no, payload in merged:
                if type(payload) is tuple:
                    self.read += 1
                    yield payload
                    continue
                # a sorted run of lines whose required fields were validated
                exchange = self._parse(str(self.paths[index]), line_no, payload)
                if exchange is None:
                    continue
                self.read += 1
                yield exchange, payload

    def analysed(self, analyser: Analyser) -> Iterator[Any]:
        """The ``analyser``'s result for each accepted line, in the order of :meth:`pairs`.

        Why: the per-line work of a scan (parsing, content detection) runs in
        worker processes, and the main process should not parse every line a
        second time just to order and check it. Lines of sorted files are
        analysed ahead in file order and merged by the ``ts`` the analyser
        found; lines of unsorted files are checked here (``required_ts``), sorted
        and spilled as today, and analysed after the merge. Rejections, their
        reasons and ``lines``/``read``/``rejected`` are exactly those of
        :meth:`pairs`.
        """
        self.lines = self.read = self.rejected = self.spilled_runs = 0
        with tempfile.TemporaryDirectory(prefix="distillwatch-sort-", dir=self.spill_dir) as tmp:
            workdir = Path(tmp)
            sorted_files: list[tuple[int, Path]] = []
            spilled: list[Iterator[_Entry]] = []
            for index, path in enumerate(self.paths):
                if file_is_sorted(path):
                    sorted_files.append((index, path))
                else:
                    spilled.extend(self._spill_unsorted(index, path, workdir))
            # several sorted files are read at once: they share the lines in flight
            # (about batch * depth in all), each keeping two batches for overlap
            batch, depth, files = analyser.batch, analyser.depth, len(sorted_files)
            if files > 1:
                depth = max(2, depth // files)
                share = analyser.batch * analyser.depth // (depth * files)
                batch = min(batch, max(share, 16))
            streamed = [
                self._stream_analysed(index, path, analyser, batch, depth)
                for index, path in sorted_files
            ]
            spilled = self._limit_fan_in(spilled, workdir)
            sources = streamed + spilled
            merged = sources[0] if len(sources) == 1 else heapq.merge(*sources)
            if not spilled:
                for entry in merged:
                    self.read += 1
                    yield entry[3]
                return
            yield from self._analyse_merged(merged, analyser)

    def _analyse_merged(self, merged: Iterator[_Entry], analyser: Analyser) -> Iterator[Any]:
        """Results in merge order: analysed lines pass through, spilled raw lines are
        analysed now, up to ``depth`` batches ahead."""
        pending: deque[tuple[list[_Entry], _Pending | None]] = deque()
        entries: list[_Entry] = []
        raws: list[bytes | dict] = []
        for entry in merged:
            entries.append(entry)
            if type(entry[3]) is not tuple:
                raws.append(entry[3])
            if len(entries) >= analyser.batch:
                pending.append((entries, analyser.submit(raws) if raws else None))
                entries, raws = [], []
                if len(pending) >= analyser.depth:
                    yield from self._settle(*pending.popleft())
        if entries:
            pending.append((entries, analyser.submit(raws) if raws else None))
        while pending:
            yield from self._settle(*pending.popleft())

    def _settle(self, entries: list[_Entry], handle: _Pending | None) -> Iterator[Any]:
        results = iter(handle.get() if handle is not None else ())
        for _ts, index, line_no, payload in entries:
            if type(payload) is not tuple:
                # a spilled line whose required fields were validated: it cannot fail to
                # parse, but a failure would be rejected as pairs() rejects it
                result = next(results)
                if type(result) is str:
                    raw_text = rejection_text(payload)
                    self._reject(Rejection(str(self.paths[index]), line_no, result, raw_text))
                    continue
                payload = result
            self.read += 1
            yield payload
