"""ExchangeStream: time order across files, spilling, counting and rejections."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillwatch.ingest import ExchangeStream, Rejection
from distillwatch.ingest.order import _ts_of_line, file_is_sorted
from distillwatch.ingest.parse import to_rfc3339


def record(ex_id: str, ts: float | str, **extra: object) -> dict:
    return {
        "id": ex_id,
        "ts": ts,
        "account_id": "acct",
        "api": "anthropic.messages",
        "request": {"messages": [{"role": "user", "content": f"q {ex_id}"}]},
        **extra,
    }


def write(path: Path, records: list[dict | bytes]) -> Path:
    lines = [r if isinstance(r, bytes) else orjson.dumps(r) for r in records]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run(paths: list[Path], **options: int) -> tuple[list, list[Rejection], ExchangeStream]:
    rejections: list[Rejection] = []
    stream = ExchangeStream(paths, on_reject=rejections.append, **options)
    return list(stream), rejections, stream


def test_sorted_files_are_merged_without_spilling(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [record(f"a{i}", 100 + 2 * i) for i in range(5)])
    b = write(tmp_path / "b.jsonl", [record(f"b{i}", 101 + 2 * i) for i in range(5)])
    out, rejections, stream = run([a, b], chunk_records=2)
    assert [e.id for e in out] == [x for i in range(5) for x in (f"a{i}", f"b{i}")]
    assert stream.spilled_runs == 0 and rejections == []
    assert (stream.lines, stream.read, stream.rejected) == (10, 10, 0)


def test_unsorted_files_are_spilled_and_come_out_sorted(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [record(f"a{t}", t) for t in (9, 3, 7, 1, 5, 5, 8)])
    b = write(tmp_path / "b.jsonl", [record(f"b{t}", t) for t in (6, 2, 5, 4)])
    c = write(tmp_path / "c.jsonl", [record(f"c{t}", t) for t in (0, 5, 10)])  # sorted
    out, _, stream = run([a, b, c], chunk_records=2)
    assert stream.spilled_runs >= 5  # tiny chunks force the on-disk path
    assert [e.ts for e in out] == sorted(e.ts for e in out)
    # ties at ts=5: file a before b before c; within a file, line order
    fives = [e.id for e in out if e.ts == 5]
    assert fives == ["a5", "a5", "b5", "c5"]
    assert len(out) == 14 and stream.read == 14 and stream.lines == 14


def test_unsorted_file_within_one_chunk_is_sorted_in_memory(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [record(f"a{t}", t) for t in (3, 1, 2)])
    out, _, stream = run([a])
    assert [e.id for e in out] == ["a1", "a2", "a3"]
    assert stream.spilled_runs == 0


def test_mixed_timestamp_forms_sort_by_instant(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a.jsonl",
        [
            record("late", "2026-02-03T12:00:00+02:00"),  # 10:00Z
            record("early", "2026-02-03T09:59:59.5Z"),
            record("middle", 1770112800.25),  # 10:00:00.25Z
        ],
    )
    out, _, _ = run([a])
    assert [e.id for e in out] == ["early", "late", "middle"]


def test_every_bad_input_is_counted_and_reported_with_file_line_reason(tmp_path: Path) -> None:
    good = orjson.dumps(record("g", 5))
    plain = write(
        tmp_path / "plain.jsonl",
        [
            good,
            b"",  # 2 blank
            b'{"id": "x", "ts": ',  # 3 malformed
            orjson.dumps({k: v for k, v in record("m", 6).items() if k != "account_id"}),  # 4
            orjson.dumps(record("t", "noon")),  # 5 bad ts
            orjson.dumps(record("w", 7, api="openai.completions")),  # 6 unknown api
            orjson.dumps(record("r", 8, request=[1])),  # 7 wrong type
            b'{"id":"caf\xe9","ts":9}',  # 8 not UTF-8
            b"[1, 2, 3]",  # 9 not an object
            orjson.dumps(record("g2", 4)),  # 10 good, and out of order: spill path
        ],
    )
    data = b"".join(
        orjson.dumps(record(f"z{i}", 100 + i, pad="q" * 400)) + b"\n" for i in range(300)
    )
    packed_gz = gzip.compress(data)
    cut_gz = tmp_path / "cut.jsonl.gz"
    cut_gz.write_bytes(packed_gz[: len(packed_gz) // 2])
    packed_zst = zstandard.ZstdCompressor().compress(data * 3)
    cut_zst = tmp_path / "cut.jsonl.zst"
    cut_zst.write_bytes(packed_zst[:-10])

    out, rejections, stream = run([plain, cut_gz, cut_zst])
    assert stream.lines == stream.read + stream.rejected
    assert stream.read == len(out) and stream.rejected == len(rejections)
    by_place = {(Path(r.file).name, r.line): r for r in rejections}
    expected = {
        2: "blank line",
        3: "malformed JSON: ",
        4: "missing required field 'account_id'",
        5: "bad ts 'noon'",
        6: "unknown api 'openai.completions'",
        7: "field 'request' must be an object, got array",
        8: "not valid UTF-8 (byte 0xe9 at offset 10)",
        9: "record must be a JSON object, got array",
    }
    for line, reason in expected.items():
        assert by_place[("plain.jsonl", line)].reason.startswith(reason), line
    assert by_place[("plain.jsonl", 3)].text == '{"id": "x", "ts": '
    truncated = [r for r in rejections if r.reason.startswith("truncated")]
    assert {Path(r.file).name for r in truncated} == {"cut.jsonl.gz", "cut.jsonl.zst"}
    good_gz = sum(1 for e in out if e.id.startswith("z") and e.ts < 400)  # both files share ids
    assert good_gz > 0
    assert [e.ts for e in out] == sorted(e.ts for e in out)
    assert [e.id for e in out][:2] == ["g2", "g"]


def test_parquet_sorted_and_unsorted_round_trip(tmp_path: Path) -> None:
    records = [
        record(f"p{t}", t, client={"ip": f"203.0.113.{t}", "asn": 64500 + t}, status=200)
        for t in (5, 1, 4, 2, 3)
    ]
    unsorted = tmp_path / "unsorted.parquet"
    pq.write_table(pa.Table.from_pylist(records), unsorted)
    in_order = tmp_path / "sorted.parquet"
    pq.write_table(pa.Table.from_pylist(sorted(records, key=lambda r: r["ts"])), in_order)
    assert not file_is_sorted(unsorted) and file_is_sorted(in_order)
    out, rejections, stream = run([unsorted, in_order], chunk_records=2)
    assert rejections == [] and stream.spilled_runs > 0
    assert [e.id for e in out] == ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4", "p5", "p5"]
    assert out[0].client.ip == "203.0.113.1" and out[0].client.asn == 64501
    assert out[0].turns[0].text == "q p1"


def test_missing_file_raises_before_anything_is_yielded(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [record("a", 1)])
    stream = ExchangeStream([a, tmp_path / "missing.jsonl"], on_reject=lambda r: None)
    with pytest.raises(FileNotFoundError, match="input file not found"):
        next(iter(stream))


def test_iterating_twice_counts_afresh(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [record("a", 2), b"", record("b", 1)])
    stream = ExchangeStream([a], on_reject=lambda r: None, chunk_records=1)
    first = [e.id for e in stream]
    counts = (stream.lines, stream.read, stream.rejected)
    assert [e.id for e in stream] == first == ["b", "a"]
    assert (stream.lines, stream.read, stream.rejected) == counts == (3, 2, 1)


@pytest.mark.parametrize(
    "line",
    [
        b'{"id":"a","ts":1770000000,"x":1}',
        b'{"id":"a", "ts": "2026-02-03T10:15:30.5Z", "x":1}',
        b'{"meta":{"ts":5},"ts":1770000000}',  # nested ts first
        b'{"a\\"ts":5,"ts":1770000001}',  # key that ends in an escaped quote + ts
        b'{"ts":1770000003.25}',
        b'{"list":["\\"ts\\":9"],"ts":1770000004}',
        b'{"ts" : 1770000005}',
    ],
)
def test_fast_ts_extraction_agrees_with_a_full_decode(line: bytes) -> None:
    from distillwatch.ingest.parse import parse_ts

    assert _ts_of_line(line) == parse_ts(orjson.loads(line)["ts"])


def test_duplicate_ts_key_that_breaks_order_is_rejected_not_misordered(tmp_path: Path) -> None:
    ambiguous = (
        b'{"id":"b","ts":11,"account_id":"acct","api":"anthropic.messages","request":{},"ts":5}'
    )
    path = write(tmp_path / "dup.jsonl", [record("a", 10), ambiguous, record("c", 12)])
    assert file_is_sorted(path)  # the byte scan sees the first ts (11)
    out, rejections, stream = run([path])
    assert [e.id for e in out] == ["a", "c"]
    assert [(r.line, r.reason.split(" (")[0]) for r in rejections] == [
        (2, "ts goes back in a file found sorted")
    ]
    assert stream.lines == stream.read + stream.rejected == 3


@pytest.mark.parametrize(
    ("stamps", "is_sorted"),
    [
        (
            ["2026-02-03T10:15:30.100Z", "2026-02-03T10:15:30.200Z", "2026-02-03T10:15:31.000Z"],
            True,
        ),
        (["2026-02-03T10:15:30.200Z", "2026-02-03T10:15:30.100Z"], False),
        (["2026-02-03T10:15:30.5Z", "2026-02-03T10:15:30.25Z"], False),  # lengths differ
        (["2026-02-03T12:00:00+02:00", "2026-02-03T10:30:00Z"], True),  # offsets: by instant
        (["2026-02-03T10:00:01Z", 1770112800, "2026-02-03T10:00:00.5Z"], False),
        (["2026-02-03T10:00:00Z", 1770112800.5, "2026-02-03T10:00:01Z"], True),
        (["2026-02-03T10:00:00Z", "noon", "2026-02-03T10:00:01Z"], True),  # unusable: skipped
    ],
)
def test_file_is_sorted_mixes_text_and_number_comparisons(
    tmp_path: Path, stamps: list, is_sorted: bool
) -> None:
    path = write(tmp_path / "s.jsonl", [record(f"r{i}", t) for i, t in enumerate(stamps)])
    assert file_is_sorted(path) is is_sorted


@pytest.mark.parametrize("line", [b"not json", b'{"ts":"noon"}', b'{"id":1}', b'{"ts":true}'])
def test_fast_ts_extraction_gives_none_when_unusable(line: bytes) -> None:
    assert _ts_of_line(line) is None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(
        st.lists(st.integers(min_value=0, max_value=30), min_size=0, max_size=25),
        min_size=1,
        max_size=4,
    ),
    chunk=st.integers(min_value=1, max_value=8),
    as_text=st.booleans(),
)
def test_any_input_comes_out_sorted_and_stable(
    tmp_path_factory: pytest.TempPathFactory, files: list[list[int]], chunk: int, as_text: bool
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    paths = []
    for f, stamps in enumerate(files):
        base = 1770000000
        rows = [
            record(f"{f}:{line}", to_rfc3339(base + t) if as_text else base + t)
            for line, t in enumerate(stamps, start=1)
        ]
        paths.append(write(folder / f"f{f}.jsonl", rows) if rows else folder / f"f{f}.jsonl")
        if not rows:
            paths[-1].write_bytes(b"")
    out, rejections, stream = run(paths, chunk_records=chunk)
    expected = sorted(
        ((t, f, line) for f, stamps in enumerate(files) for line, t in enumerate(stamps, start=1))
    )
    assert [e.id for e in out] == [f"{f}:{line}" for _, f, line in expected]
    assert rejections == [] and stream.lines == stream.read == len(expected)


def test_no_input_files_means_no_exchanges() -> None:
    out, rejections, stream = run([])
    assert (
        out == [] and rejections == [] and (stream.lines, stream.read, stream.rejected) == (0, 0, 0)
    )


class ParsingAnalyser:
    """Test double of a scan's analyser: parses each line (as the workers do) and
    returns the reason of a rejection, or ``(ts, id)``; small batches force many rounds."""

    def __init__(self, batch: int, depth: int) -> None:
        self.batch, self.depth = batch, depth
        self.submitted: list[int] = []

    def submit(self, raws: list) -> object:
        from types import SimpleNamespace

        from distillwatch.ingest.parse import RecordError, parse_record

        self.submitted.append(len(raws))
        out: list = []
        for raw in raws:
            try:
                ex = parse_record(orjson.loads(raw) if type(raw) is bytes else raw)
            except orjson.JSONDecodeError as exc:
                out.append(f"malformed JSON: {exc}")
            except RecordError as exc:
                out.append(str(exc))
            else:
                out.append((ex.ts, ex.id))
        return SimpleNamespace(get=lambda: out)


def _mixed_inputs(tmp_path: Path) -> list[Path]:
    """Two sorted files and an unsorted one (spilled), with every kind of bad line."""
    ambiguous = (
        b'{"id":"dup","ts":11,"account_id":"acct","api":"anthropic.messages","request":{},"ts":5}'
    )
    a = write(
        tmp_path / "a.jsonl",
        [
            record("a1", 1),
            b"",
            b'{"id": "x", "ts": ',
            record("a2", 3),
            orjson.dumps({k: v for k, v in record("m", 4).items() if k != "account_id"}),
            record("a3", 10),
            ambiguous,
            record("a4", 12),
            b'{"id":"caf\xe9","ts":13}',
            *[record(f"a{t}", t) for t in range(14, 40)],
        ],
    )
    b = write(
        tmp_path / "b.jsonl",
        [record(f"b{t}", t) for t in range(0, 40, 3)] + [orjson.dumps(record("t", "noon"))],
    )
    c = write(
        tmp_path / "c.jsonl",
        [record(f"c{t}", t) for t in (30, 2, 17, 9, 9, 1)]
        + [orjson.dumps(record("w", 7, api="openai.completions")), b"[1, 2]"],
    )
    assert file_is_sorted(a) and file_is_sorted(b) and not file_is_sorted(c)
    return [a, b, c]


@pytest.mark.parametrize(("batch", "depth"), [(1, 1), (3, 2), (4, 8), (256, 8)])
def test_analysed_lines_come_out_as_parsed_ones(tmp_path: Path, batch: int, depth: int) -> None:
    """The scan path (lines parsed by an analyser, ahead of the merge) gives the same
    order, the same rejections in the same order and the same counts as parsing here."""
    paths = _mixed_inputs(tmp_path)
    for chunk in (2, 1000):  # spilled to disk, or sorted in memory
        expected, expected_rejections, plain = run(paths, chunk_records=chunk)
        rejections: list[Rejection] = []
        stream = ExchangeStream(paths, on_reject=rejections.append, chunk_records=chunk)
        analyser = ParsingAnalyser(batch, depth)
        got = list(stream.analysed(analyser))
        assert got == [(e.ts, e.id) for e in expected]
        assert rejections == expected_rejections
        assert len(rejections) == 8
        assert (stream.lines, stream.read, stream.rejected) == (
            plain.lines,
            plain.read,
            plain.rejected,
        )
        assert stream.lines == stream.read + stream.rejected
        assert max(analyser.submitted) <= batch
