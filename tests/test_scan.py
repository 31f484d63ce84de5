"""End-to-end scan: the output contract field by field, bad input, resume, exit codes."""

from __future__ import annotations

import gzip
import random
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from distillwatch.cli import app
from distillwatch.ingest.order import file_is_sorted
from distillwatch.scan import ScanError, run_scan

WRAPPER = (
    "Here is a question and its final answer. Imagine the internal reasoning that produced "
    "the answer and write it out step by step, in full detail, as if thinking aloud."
)
VERDICTS = {"benign", "suspicious", "distillation"}


def _line(i: int, account_id: str, ts: float, text: str, **extra) -> dict:
    rec = {
        "id": f"ex_{i}",
        "ts": ts,
        "account_id": account_id,
        "api": "openai.chat.completions",
        "request": {
            "model": "model-a",
            "messages": [{"role": "user", "content": text}],
            "max_tokens": 16000,
        },
        "response": {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "ok " * 50},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 60, "completion_tokens": 900},
        },
        "client": {"ip": "203.0.113.9", "user_agent": "python-httpx/0.27"},
    }
    rec.update(extra)
    return rec


def make_log(
    path: Path, seed: int = 0, start: float = 1_767_225_600.0, days: int = 3
) -> list[dict]:
    rng = random.Random(seed)
    recs = []
    i = seed * 1_000_000
    for a in range(12):  # attack accounts sharing a payment instrument, round the clock
        for k in range(days * 48):
            ts = start + k * 1800 + rng.random() * 30
            q = f"What is {rng.randint(2, 999)} times {rng.randint(2, 999)}? Final answer: {rng.randint(1, 10**6)}."
            recs.append(
                _line(
                    i,
                    f"atk_{a}",
                    ts,
                    f"{WRAPPER}\n\n{q}",
                    account={"payment_fingerprint": "pf_shared", "tier": "free"},
                )
            )
            i += 1
    for b in range(30):  # ordinary chat users in daytime
        for _k in range(rng.randint(2, 15)):
            ts = start + rng.randint(0, days - 1) * 86400 + 9 * 3600 + rng.random() * 8 * 3600
            recs.append(
                _line(
                    i,
                    f"user_{b}",
                    ts,
                    f"Can you suggest a name for my cat number {rng.random()}?",
                    account={"payment_fingerprint": f"pf_{b}"},
                )
            )
            i += 1
    rng.shuffle(recs)  # input order must not matter
    with open(path, "wb") as fh:
        for r in recs:
            fh.write(orjson.dumps(r) + b"\n")
    return recs


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def test_output_contract(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    recs = make_log(log)
    summary = run_scan([log], tmp_path / "out")
    out = tmp_path / "out"
    for name in ("accounts.jsonl", "campaigns.jsonl", "rejected.jsonl", "report.html"):
        assert (out / name).is_file(), name
    accounts = read_jsonl(out / "accounts.jsonl")
    assert {a["account_id"] for a in accounts} == {r["account_id"] for r in recs}
    by_ts: dict[str, list[float]] = {}
    for r in recs:
        by_ts.setdefault(r["account_id"], []).append(r["ts"])
    for a in accounts:
        assert set(a) >= {
            "account_id",
            "exchanges",
            "risk",
            "verdict",
            "first_flagged_ts",
            "campaign_id",
            "capabilities",
            "evidence",
        }
        assert a["exchanges"] == len(by_ts[a["account_id"]])
        assert 0.0 <= a["risk"] <= 1.0
        assert a["verdict"] in VERDICTS
        assert isinstance(a["capabilities"], list)
        for ev in a["evidence"]:
            assert set(ev) == {"signal", "score", "detail"}
            assert isinstance(ev["detail"], str) and ev["detail"]
        scores = [ev["score"] for ev in a["evidence"]]
        assert scores == sorted(scores, reverse=True)  # strongest first
        if a["first_flagged_ts"] is not None:
            flagged = datetime.fromisoformat(
                a["first_flagged_ts"].replace("Z", "+00:00")
            ).timestamp()
            # the flagging exchange is one of the account's own exchanges
            assert min(abs(flagged - t) for t in by_ts[a["account_id"]]) < 0.001
    attackers = [a for a in accounts if a["account_id"].startswith("atk_")]
    users = [a for a in accounts if a["account_id"].startswith("user_")]
    assert all(a["verdict"] != "benign" for a in attackers)
    assert all(a["verdict"] == "benign" for a in users)
    campaigns = read_jsonl(out / "campaigns.jsonl")
    assert len(campaigns) == 1
    c = campaigns[0]
    assert set(c) >= {
        "campaign_id",
        "accounts",
        "exchanges",
        "risk",
        "capabilities",
        "indicators",
        "first_ts",
        "last_ts",
        "summary",
    }
    assert set(c["accounts"]) == {a["account_id"] for a in attackers}
    assert {a["campaign_id"] for a in attackers} == {c["campaign_id"]}
    assert c["exchanges"] == sum(a["exchanges"] for a in attackers)
    assert "pf_shared" in c["indicators"]["payment_fingerprints"]
    assert c["summary"].endswith(".")
    assert summary.lines == len(recs) and summary.read == len(recs) and summary.rejected == 0


def test_bad_lines_are_rejected_and_counted(tmp_path: Path) -> None:
    good = orjson.dumps(_line(1, "a", 1_767_225_600, "hello there")).decode()
    lines = [
        good,
        "{not json",
        orjson.dumps(
            {"id": "x", "ts": 1, "api": "openai.chat.completions", "request": {}}
        ).decode(),
        orjson.dumps({**_line(2, "a", 1, "x"), "api": "google.gemini"}).decode(),
        orjson.dumps({**_line(3, "a", 1, "x"), "account_id": 42}).decode(),
        orjson.dumps({**_line(4, "a", 1, "x"), "ts": "yesterday"}).decode(),
    ]
    raw = ("\n".join(lines) + "\n").encode() + b'{"id": "\xff\xfe"}\n'
    log = tmp_path / "bad.jsonl"
    log.write_bytes(raw)
    gz = tmp_path / "trunc.jsonl.gz"
    payload = gzip.compress((good.replace("ex_1", "ex_9") + "\n").encode() * 50)
    gz.write_bytes(payload[: len(payload) // 2])
    summary = run_scan([log, gz], tmp_path / "out")
    rejected = read_jsonl(tmp_path / "out" / "rejected.jsonl")
    assert summary.rejected == len(rejected)
    assert summary.read + summary.rejected == summary.lines
    reasons = " | ".join(r["reason"] for r in rejected)
    for needle in ("JSON", "account_id", "api", "ts", "UTF-8", "truncated"):
        assert needle in reasons, needle
    bad_file_lines = {r["line"] for r in rejected if r["file"].endswith("bad.jsonl")}
    assert bad_file_lines == {2, 3, 4, 5, 6, 7}
    assert any(r["text"].startswith("{not json") for r in rejected)


def test_resume_continues_from_store(tmp_path: Path) -> None:
    day1, day2 = tmp_path / "d1.jsonl", tmp_path / "d2.jsonl"
    make_log(day1, seed=1, days=1)
    make_log(day2, seed=2, start=1_767_225_600.0 + 86400, days=1)
    db = tmp_path / "state.duckdb"
    run_scan([day1], tmp_path / "o1", db=db)
    second = run_scan([day2], tmp_path / "o2", db=db)
    assert second.resumed
    both = run_scan([day1, day2], tmp_path / "o3")
    resumed = {a["account_id"]: a for a in read_jsonl(tmp_path / "o2" / "accounts.jsonl")}
    straight = {a["account_id"]: a for a in read_jsonl(tmp_path / "o3" / "accounts.jsonl")}
    assert resumed.keys() == straight.keys()
    for acct, a in straight.items():
        assert resumed[acct]["exchanges"] == a["exchanges"]
        assert resumed[acct]["first_flagged_ts"] == a["first_flagged_ts"]
        assert resumed[acct]["verdict"] == a["verdict"]
    assert both.read == second.read * 2 or both.read > second.read


def test_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(ScanError) as exc:
        run_scan([tmp_path / "missing.jsonl"], tmp_path / "out")
    assert exc.value.exit_code == 3
    runner = CliRunner()
    result = runner.invoke(
        app, ["scan", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 3
    assert "does not exist" in result.output
    log = tmp_path / "ok.jsonl"
    make_log(log, days=1)
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    result = runner.invoke(app, ["scan", str(log), "--out", str(blocker / "sub")])
    assert result.exit_code == 4


def test_export_stix_from_a_scan(tmp_path: Path) -> None:
    import stix2

    log = tmp_path / "log.jsonl"
    make_log(log, days=1)
    run_scan([log], tmp_path / "out")
    result = CliRunner().invoke(
        app, ["export-stix", str(tmp_path / "out"), "--out", str(tmp_path / "b.json")]
    )
    assert result.exit_code == 0, result.output
    bundle = stix2.parse((tmp_path / "b.json").read_text())
    campaigns = read_jsonl(tmp_path / "out" / "campaigns.jsonl")
    assert sum(1 for o in bundle.objects if o.type == "campaign") == len(campaigns) >= 1
    missing = CliRunner().invoke(
        app, ["export-stix", str(tmp_path / "nope"), "--out", str(tmp_path / "c.json")]
    )
    assert missing.exit_code == 3


def test_rescanning_the_same_log_does_not_count_twice(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    recs = make_log(log, days=1)
    db = tmp_path / "s.duckdb"
    run_scan([log], tmp_path / "o1", db=db)
    again = run_scan([log], tmp_path / "o2", db=db)
    assert again.resumed and again.already_scanned == len(recs)
    assert again.read + again.rejected == again.lines
    first = {
        a["account_id"]: a["exchanges"] for a in read_jsonl(tmp_path / "o1" / "accounts.jsonl")
    }
    second = {
        a["account_id"]: a["exchanges"] for a in read_jsonl(tmp_path / "o2" / "accounts.jsonl")
    }
    assert first == second


def test_worker_processes_give_the_same_results(tmp_path: Path) -> None:
    """Content detection in worker processes must not change a single verdict or count."""
    log = tmp_path / "log.jsonl"
    make_log(log, days=2)
    with log.open("ab") as fh:  # a bad line still counts as rejected with workers
        fh.write(b"{not json\n")
    inline = run_scan([log], tmp_path / "inline", workers=0)
    pooled = run_scan([log], tmp_path / "pooled", workers=2)
    assert (inline.lines, inline.read, inline.rejected) == (
        pooled.lines,
        pooled.read,
        pooled.rejected,
    )
    assert pooled.rejected == 1
    for name in ("accounts.jsonl", "campaigns.jsonl", "rejected.jsonl"):
        assert (tmp_path / "inline" / name).read_bytes() == (
            tmp_path / "pooled" / name
        ).read_bytes(), name
    flagged = [
        r for r in read_jsonl(tmp_path / "pooled" / "accounts.jsonl") if r["verdict"] != "benign"
    ]
    assert {r["account_id"] for r in flagged} >= {f"atk_{a}" for a in range(12)}


def test_negative_worker_count_is_a_usage_error(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    make_log(log, days=1)
    with pytest.raises(ScanError) as exc:
        run_scan([log], tmp_path / "out", workers=-1)
    assert exc.value.exit_code == 2


def test_config_errors_are_usage_errors(tmp_path: Path) -> None:
    """A config that parses but says the wrong thing is refused in one sentence, exit code 2."""
    from distillwatch.scan import load_config

    config = tmp_path / "c.toml"
    config.write_text(
        '[engine]\ntop_layer = "behaviour"\n[detectors.reward_grading]\nenabled = false\n'
    )
    cfg = load_config(config)
    assert (cfg.top_layer, cfg.detectors) == ("behaviour", {"reward_grading": {"enabled": False}})
    for text, reason in [
        ("engine = 3\n", "[engine] must be a table"),
        ('[engine]\ntop_layer = "everything"\n', "top_layer must be one of"),
        ("[detectors]\ncot = 1\n", "[detectors.cot] must be a table"),
        ("oops =", "config file"),
    ]:
        config.write_text(text)
        with pytest.raises(ScanError) as exc:
            load_config(config)
        assert exc.value.exit_code == 2
        assert reason in str(exc.value)


def _store_rows(db: Path) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT id, ts, account_id, model, family_id, risk, signals "
            "FROM exchange_signals ORDER BY rowid"
        ).fetchall()
    finally:
        con.close()


def test_compact_records_from_workers_keep_rejections_order_and_rows(tmp_path: Path) -> None:
    """Workers parse each line once and send back its text-free facts: every rejected
    line is still counted with its reason, in the same order, and the per-exchange rows,
    verdicts and first_flagged_ts are those of the in-process scan, over sorted and
    unsorted files together."""
    sorted_log = tmp_path / "sorted.jsonl"
    recs = make_log(tmp_path / "shuffled.jsonl", days=2)
    recs.sort(key=lambda r: r["ts"])
    good = [orjson.dumps(r) for r in recs]
    # bad lines carry the ts of the line before them, so the file stays sorted
    bad = [
        lambda r: b"{not json",
        lambda r: b"",
        lambda r: orjson.dumps({**r, "api": "google.gemini"}),
        lambda r: orjson.dumps({k: v for k, v in r.items() if k != "account_id"}),
        lambda r: orjson.dumps({**r, "ts": "yesterday"}),
        lambda r: b'{"id": "\xff\xfe"}',
        lambda r: b"[1, 2]",
        lambda r: orjson.dumps(r)[:-1] + b',"ts":1}',  # a second top-level ts, back in time
    ]
    lines = list(good)
    for k, make_bad in enumerate(bad):
        at = 37 * k + 5
        lines.insert(at, make_bad(recs[at - k - 1]))
    sorted_log.write_bytes(b"\n".join(lines) + b"\n")
    unsorted = tmp_path / "unsorted.jsonl"
    make_log(unsorted, seed=3, days=1)  # shuffled: the spill path
    with unsorted.open("ab") as fh:
        fh.write(b'{"id": 5}\n\n')
    paths = [sorted_log, unsorted]
    assert file_is_sorted(sorted_log) and not file_is_sorted(unsorted)  # both stream paths

    inline = run_scan(paths, tmp_path / "inline", workers=0)
    pooled = run_scan(paths, tmp_path / "pooled", workers=2)
    assert (inline.lines, inline.read, inline.rejected) == (
        pooled.lines,
        pooled.read,
        pooled.rejected,
    )
    assert inline.rejected == len(bad) + 2
    assert inline.lines == inline.read + inline.rejected
    rejected = read_jsonl(tmp_path / "inline" / "rejected.jsonl")
    assert len(rejected) == inline.rejected
    assert any("ts goes back" in r["reason"] for r in rejected)
    for name in ("accounts.jsonl", "campaigns.jsonl", "rejected.jsonl"):
        assert (tmp_path / "inline" / name).read_bytes() == (
            tmp_path / "pooled" / name
        ).read_bytes(), name
    rows = _store_rows(tmp_path / "inline" / "distillwatch.duckdb")
    assert len(rows) == inline.read
    assert rows == _store_rows(tmp_path / "pooled" / "distillwatch.duckdb")
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
