"""Raw lines out of exchange-log files, whatever their container.

JSON Lines (plain, gzip, zstd) and Parquet are recognised by their magic bytes,
not their names, so a mislabelled file still reads. Damage inside a file never
raises: it becomes a :class:`Rejection` so the scan can report it and go on.
Only a file that cannot be opened at all is an error (a usage problem the CLI
reports with an exit code).

Every item this yields is one input "line": a row of data or a Rejection.
That is what makes ``lines == read + rejected`` hold downstream.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
import zstandard

__all__ = ["Rejection", "iter_raw", "detect_format", "rejection_text"]

_READ_SIZE = 1 << 20  # compressed / plain bytes per read
_MAX_INFLATE = 8 << 20  # cap on decompressed bytes held at once (gzip bombs)
_PARQUET_BATCH_ROWS = 4096

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PARQUET_MAGIC = b"PAR1"
# Parquet writers often store these bodies as JSON text, since their shape varies per row.
_JSON_TEXT_COLUMNS = ("request", "response", "client", "account")


@dataclass(slots=True)
class Rejection:
    """One unusable input line; written to rejected.jsonl as it is (``asdict``)."""

    file: str
    line: int
    reason: str
    text: str  # the original text; undecodable bytes shown with backslash escapes


RawItem = tuple[int, bytes | dict] | Rejection


def rejection_text(raw: bytes | dict | str) -> str:
    """The original line as text, whatever it was, for the rejected.jsonl record."""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
    if isinstance(raw, str):
        return raw
    return orjson.dumps(raw, default=str).decode()


def detect_format(path: str | Path) -> str:
    """``"jsonl"``, ``"gzip"``, ``"zstd"`` or ``"parquet"`` from the first bytes of the file."""
    with _open(path) as handle:
        head = handle.read(4)
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head == _ZSTD_MAGIC:
        return "zstd"
    if head == _PARQUET_MAGIC:
        return "parquet"
    return "jsonl"


def _open(path: str | Path) -> IO[bytes]:
    """Open for reading with a one-sentence error the CLI can show as is."""
    target = Path(path)
    try:
        return target.open("rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"input file not found: {target}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"input path is a directory, not a file: {target}") from None
    except PermissionError:
        raise PermissionError(f"input file is not readable (permission denied): {target}") from None
    except OSError as exc:
        raise OSError(f"cannot open input file {target}: {exc.strerror or exc}") from None


def iter_raw(path: str | Path) -> Iterator[RawItem]:
    """``(line_no, raw bytes)`` per JSONL line or ``(row_no, dict)`` per Parquet row, 1-based.

    Blank lines, non-UTF-8 lines and the tail of a truncated or corrupt
    compressed stream come out as :class:`Rejection` items instead.
    """
    name = str(path)
    kind = detect_format(path)
    if kind == "parquet":
        yield from _iter_parquet(path, name)
        return
    handle = _open(path)
    with handle:
        if kind == "gzip":
            chunks: Iterator[bytes] = _gzip_chunks(handle)
        elif kind == "zstd":
            chunks = _zstd_chunks(handle)
        else:
            chunks = _plain_chunks(handle)
        yield from _split_lines(chunks, name, kind)


class _StreamDamage(Exception):
    """Raised by a chunk source when the compressed stream stops making sense."""


def _plain_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    read = handle.read
    while chunk := read(_READ_SIZE):
        yield chunk


def _gzip_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """Inflate gzip members one after another (``cat a.gz b.gz`` is valid gzip)."""
    inflater = zlib.decompressobj(wbits=31)
    pending = b""
    started = False
    while True:
        data = pending or handle.read(_READ_SIZE)
        pending = b""
        if not data:
            break
        if inflater.eof:
            if not data.strip(b"\x00"):  # zero padding some writers append
                continue
            inflater = zlib.decompressobj(wbits=31)
        started = True
        try:
            out = inflater.decompress(data, _MAX_INFLATE)
            while out:
                yield out
                if not inflater.unconsumed_tail:
                    break
                out = inflater.decompress(inflater.unconsumed_tail, _MAX_INFLATE)
        except zlib.error as exc:
            raise _StreamDamage(f"corrupt gzip stream: {exc}") from None
        if inflater.eof:
            pending = inflater.unused_data
    if started and not inflater.eof:
        raise _StreamDamage(
            "truncated gzip stream: compressed data ended before the end-of-stream marker"
        )


def _zstd_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """Decompress zstd frames one after another, noticing a stream cut short."""
    context = zstandard.ZstdDecompressor()
    decoder = context.decompressobj()
    pending = b""
    started = False
    while True:
        data = pending or handle.read(_READ_SIZE)
        pending = b""
        if not data:
            break
        if decoder.eof:
            decoder = context.decompressobj()
        started = True
        try:
            out = decoder.decompress(data)
        except zstandard.ZstdError as exc:
            raise _StreamDamage(f"corrupt zstd stream: {exc}") from None
        if out:
            yield out
        if decoder.eof:
            pending = decoder.unused_data
    if started and not decoder.eof:
        raise _StreamDamage("truncated zstd stream: compressed data ended inside a frame")


def _utf8_problem(line: bytes) -> str | None:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at offset {exc.start})"
    return None


def _split_lines(chunks: Iterator[bytes], name: str, kind: str) -> Iterator[RawItem]:
    line_no = 0
    carry = b""
    try:
        for chunk in chunks:
            block = carry + chunk if carry else chunk
            cut = block.rfind(b"\n")
            if cut < 0:
                carry = block
                continue
            carry = block[cut + 1 :]
            block = block[:cut]
            block_ok = block.isascii()  # validate the whole block at once; per line only if needed
            if not block_ok:
                try:
                    block.decode("utf-8")
                    block_ok = True
                except UnicodeDecodeError:
                    pass
            for line in block.split(b"\n"):
                line_no += 1
                if not line.startswith(b"{") and not line.strip():
                    yield Rejection(name, line_no, "blank line", rejection_text(line))
                    continue
                if not block_ok:
                    problem = _utf8_problem(line)
                    if problem is not None:
                        yield Rejection(name, line_no, problem, rejection_text(line))
                        continue
                yield line_no, line
    except _StreamDamage as damage:
        yield Rejection(name, line_no + 1, str(damage), rejection_text(carry))
        return
    if carry:
        line_no += 1
        if not carry.strip():
            yield Rejection(name, line_no, "blank line", rejection_text(carry))
        else:
            problem = _utf8_problem(carry)
            if problem is not None:
                yield Rejection(name, line_no, problem, rejection_text(carry))
            else:
                yield line_no, carry


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    """Make a Parquet row look like a decoded JSON line.

    Timestamp columns become epoch seconds (naive = UTC), JSON-text body
    columns are decoded, and nulls the columnar schema forced on a row
    become absent, which is what they mean.
    """
    out = {key: value for key, value in row.items() if value is not None}
    for key in _JSON_TEXT_COLUMNS:
        value = out.get(key)
        if isinstance(value, str | bytes) and value[:1] in ("{", b"{"):
            with contextlib.suppress(orjson.JSONDecodeError):  # else the parser reports the type
                out[key] = orjson.loads(value)
    ts = out.get("ts")
    if isinstance(ts, datetime):
        out["ts"] = _epoch(ts)
    account = out.get("account")
    if isinstance(account, dict) and isinstance(account.get("created_at"), datetime):
        out["account"] = {**account, "created_at": _epoch(account["created_at"])}
    return out


def _iter_parquet(path: str | Path, name: str) -> Iterator[RawItem]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    handle = _open(path)  # same one-sentence errors as for JSONL
    row_no = 0
    with handle:
        try:
            parquet = pq.ParquetFile(handle)
            for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
                for row in batch.to_pylist():
                    row_no += 1
                    yield row_no, _normalise_row(row)
        except (pa.ArrowException, OSError, ValueError) as exc:
            yield Rejection(name, row_no + 1, f"unreadable Parquet data: {exc}", "")
