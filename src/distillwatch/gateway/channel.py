"""Framing between the serving process and the engine worker (one Unix socket pair).

A frame is ``<u32 payload length><u8 kind>`` and the payload. Exchanges go to
the worker as raw bytes (the request and response exactly as they crossed
the gateway, plus a small JSON object of the other fields), so the serving
process spends microseconds per exchange and never re-serialises a request
body; everything else (the worker's spec, published verdicts, admin calls)
is pickled, between two processes of the same installation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO

import orjson

from distillwatch.gateway.recorder import PendingExchange

__all__ = [
    "SPEC",
    "RECORDS",
    "CALL",
    "CLOSE",
    "HELLO",
    "UPDATE",
    "ANSWER",
    "BYE",
    "frame",
    "encode_exchange",
    "decode_exchanges",
    "FrameBuffer",
    "read_frame",
]

_HEAD = struct.Struct("<IB")
_ENTRY = struct.Struct("<IIIB")
_STREAMED = 1

# serving process -> worker
SPEC, RECORDS, CALL, CLOSE = b"S"[0], b"R"[0], b"C"[0], b"Q"[0]
# worker -> serving process
HELLO, UPDATE, ANSWER, BYE = b"H"[0], b"U"[0], b"A"[0], b"B"[0]


def frame(kind: int, payload: bytes = b"") -> bytes:
    return _HEAD.pack(len(payload), kind) + payload


def encode_exchange(item: PendingExchange) -> bytes:
    """One exchange for a RECORDS frame: the record without its request, the request bytes, the body."""
    record = item.record
    meta = orjson.dumps({k: v for k, v in record.items() if k != "request"})
    request = item.request_body
    if request is None:
        request = orjson.dumps(record.get("request"))
    body = item.body or b""
    flags = _STREAMED if item.streamed else 0
    return _ENTRY.pack(len(meta), len(request), len(body), flags) + meta + request + body


def decode_exchanges(payload: bytes) -> Iterator[PendingExchange]:
    """The exchanges of one RECORDS frame, each with its ``request`` parsed back into the record."""
    view = memoryview(payload)
    offset = 0
    size = _ENTRY.size
    while offset < len(view):
        meta_len, request_len, body_len, flags = _ENTRY.unpack_from(view, offset)
        offset += size
        record = orjson.loads(view[offset : offset + meta_len])
        offset += meta_len
        record["request"] = orjson.loads(view[offset : offset + request_len])
        offset += request_len
        body = bytes(view[offset : offset + body_len])
        offset += body_len
        yield PendingExchange(record, body=body or None, streamed=bool(flags & _STREAMED))


class FrameBuffer:
    """Incremental frame parser for the event loop side (``data_received``)."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._data += data
        out: list[tuple[int, bytes]] = []
        head = _HEAD.size
        while len(self._data) >= head:
            length, kind = _HEAD.unpack_from(self._data)
            if len(self._data) < head + length:
                break
            out.append((kind, bytes(self._data[head : head + length])))
            del self._data[: head + length]
        return out


def read_frame(stream: IO[bytes]) -> tuple[int, bytes] | None:
    """One frame from a blocking stream; None at end of stream (the other side is gone)."""
    head = stream.read(_HEAD.size)
    if len(head) < _HEAD.size:
        return None
    length, kind = _HEAD.unpack(head)
    payload = stream.read(length) if length else b""
    if len(payload) < length:
        return None
    return kind, payload
