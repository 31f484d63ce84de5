"""iter_raw: containers, line numbers and every kind of damage a file can carry."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from distillwatch.ingest.reader import Rejection, detect_format, iter_raw


def record(i: int, **extra: object) -> dict:
    return {
        "id": f"ex_{i}",
        "ts": 1770000000 + i,
        "account_id": f"acct_{i % 3}",
        "api": "openai.chat.completions",
        "request": {"messages": [{"role": "user", "content": f"question {i} ü"}]},
        **extra,
    }


def jsonl(records: list[dict]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def rows(path: Path) -> list[tuple[int, bytes | dict] | Rejection]:
    return list(iter_raw(path))


def test_plain_gzip_and_zstd_yield_the_same_numbered_lines(tmp_path: Path) -> None:
    data = jsonl([record(i) for i in range(50)])
    (tmp_path / "a.jsonl").write_bytes(data)
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    expected = list(enumerate(data.splitlines(), start=1))
    for name, kind in [("a.jsonl", "jsonl"), ("a.jsonl.gz", "gzip"), ("a.jsonl.zst", "zstd")]:
        assert detect_format(tmp_path / name) == kind
        assert rows(tmp_path / name) == expected, name


def test_format_comes_from_content_not_name(tmp_path: Path) -> None:
    data = jsonl([record(1)])
    mislabelled = tmp_path / "actually_gzip.jsonl"
    mislabelled.write_bytes(gzip.compress(data))
    assert rows(mislabelled) == [(1, data.rstrip(b"\n"))]


def test_concatenated_gzip_members_and_zstd_frames(tmp_path: Path) -> None:
    first, second = jsonl([record(1), record(2)]), jsonl([record(3)])
    (tmp_path / "multi.gz").write_bytes(gzip.compress(first) + gzip.compress(second))
    compressor = zstandard.ZstdCompressor()
    (tmp_path / "multi.zst").write_bytes(compressor.compress(first) + compressor.compress(second))
    for name in ("multi.gz", "multi.zst"):
        got = rows(tmp_path / name)
        assert [n for n, _ in got] == [1, 2, 3], name  # type: ignore[misc]


def test_large_compressed_file_crosses_chunk_boundaries(tmp_path: Path) -> None:
    # > 1 MiB of decompressed text, so lines straddle read and inflate chunks
    records = [record(i, pad="x" * (i % 997)) for i in range(4000)]
    data = jsonl(records)
    assert len(data) > 2 << 20
    (tmp_path / "big.gz").write_bytes(gzip.compress(data, compresslevel=1))
    got = rows(tmp_path / "big.gz")
    assert len(got) == 4000
    assert all(orjson.loads(raw)["id"] == f"ex_{n - 1}" for n, raw in got)  # type: ignore[misc]


def test_blank_lines_are_rejections_and_keep_numbering(tmp_path: Path) -> None:
    a, b = orjson.dumps(record(1)), orjson.dumps(record(2))
    path = tmp_path / "blank.jsonl"
    path.write_bytes(a + b"\n\n   \r\n" + b + b"\r\n\n")
    got = rows(path)
    assert got == [
        (1, a),
        Rejection(str(path), 2, "blank line", ""),
        Rejection(str(path), 3, "blank line", "   "),
        (4, b + b"\r"),
        Rejection(str(path), 5, "blank line", ""),
    ]


def test_last_line_without_newline_is_read(tmp_path: Path) -> None:
    a, b = orjson.dumps(record(1)), orjson.dumps(record(2))
    path = tmp_path / "tail.jsonl"
    path.write_bytes(a + b"\n" + b)
    assert rows(path) == [(1, a), (2, b)]


def test_non_utf8_bytes_are_rejected_with_offset(tmp_path: Path) -> None:
    good = orjson.dumps(record(1))  # contains a valid two-byte "ü"
    bad = b'{"id":"caf\xe9","ts":1}'
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good + b"\n" + bad + b"\n" + good + b"\n")
    got = rows(path)
    assert got[0] == (1, good) and got[2] == (3, good)
    rejection = got[1]
    assert isinstance(rejection, Rejection)
    assert (rejection.file, rejection.line) == (str(path), 2)
    assert rejection.reason == "not valid UTF-8 (byte 0xe9 at offset 10)"
    assert rejection.text == '{"id":"caf\\xe9","ts":1}'


def test_non_utf8_on_an_unterminated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "tail.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":"\xff"}')
    got = rows(path)
    assert isinstance(got[1], Rejection) and got[1].line == 2
    assert got[1].reason == "not valid UTF-8 (byte 0xff at offset 6)"


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_truncated_stream_yields_good_lines_then_one_rejection(tmp_path: Path, kind: str) -> None:
    # incompressible padding: zstd emits whole 128 KiB blocks, so the cut must leave some
    data = jsonl([record(i, pad=os.urandom(150).hex()) for i in range(1000)])
    packed = gzip.compress(data) if kind == "gzip" else zstandard.ZstdCompressor().compress(data)
    path = tmp_path / f"cut.{kind}"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    got = rows(path)
    good = [item for item in got if not isinstance(item, Rejection)]
    assert isinstance(got[-1], Rejection)
    assert sum(isinstance(item, Rejection) for item in got) == 1
    assert 0 < len(good) < 1000
    assert [n for n, _ in good] == list(range(1, len(good) + 1))  # type: ignore[misc]
    assert all(raw == data.splitlines()[n - 1] for n, raw in good)  # type: ignore[misc]
    assert got[-1].line == len(good) + 1
    assert got[-1].reason.startswith(f"truncated {kind} stream: ")
    assert data.splitlines()[len(good)].startswith(got[-1].text.encode())  # the partial line


def test_corrupt_gzip_is_a_rejection_not_an_exception(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(jsonl([record(i) for i in range(200)])))
    packed[40:60] = b"\x00" * 20
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(packed))
    got = rows(path)
    assert isinstance(got[-1], Rejection)
    assert got[-1].reason.startswith(("corrupt gzip stream: ", "truncated gzip stream: "))


def test_empty_file_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert rows(path) == []


def test_missing_and_unreadable_files_raise_one_sentence_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="input file not found: .*nope.jsonl"):
        rows(tmp_path / "nope.jsonl")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        rows(tmp_path)
    locked = tmp_path / "locked.jsonl"
    locked.write_bytes(b"{}\n")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # running as root: permissions do not apply
            pytest.skip("file permissions are not enforced for this user")
        with pytest.raises(PermissionError, match="not readable"):
            rows(locked)
    finally:
        locked.chmod(0o600)


def test_parquet_rows_become_dicts_with_nested_structs(tmp_path: Path) -> None:
    records = [
        record(1, client={"ip": "203.0.113.1", "asn": 64500}, status=200),
        record(2, client={"ip": "203.0.113.2", "asn": None}),
    ]
    path = tmp_path / "log.parquet"
    pq.write_table(pa.Table.from_pylist(records), path)
    assert detect_format(path) == "parquet"
    got = rows(path)
    assert [n for n, _ in got] == [1, 2]  # type: ignore[misc]
    first, second = got[0][1], got[1][1]  # type: ignore[index]
    assert first["client"] == {"ip": "203.0.113.1", "asn": 64500}
    assert first["request"] == records[0]["request"]
    assert "status" not in second  # a null the columnar schema forced means absent
    assert second["client"] == {"ip": "203.0.113.2", "asn": None}


def test_parquet_timestamps_and_json_text_bodies(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["p1"],
            "ts": pa.array([1770113730_500_000], type=pa.timestamp("us", tz="UTC")),
            "account_id": ["a"],
            "api": ["anthropic.messages"],
            "request": [orjson.dumps({"messages": [{"role": "user", "content": "hi"}]}).decode()],
        }
    )
    path = tmp_path / "ts.parquet"
    pq.write_table(table, path)
    ((_, row),) = rows(path)  # type: ignore[misc]
    assert row["ts"] == 1770113730.5
    assert row["request"] == {"messages": [{"role": "user", "content": "hi"}]}


def test_damaged_parquet_is_a_rejection(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 64)
    got = rows(path)
    assert len(got) == 1 and isinstance(got[0], Rejection)
    assert got[0].reason.startswith("unreadable Parquet data: ")
