"""distillbench scorer and baselines on tiny hand-made inputs, plus label isolation."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import orjson
import pytest

from distillwatch.bench.baselines import keyword_baseline, rate_limit_baseline, request_text
from distillwatch.bench.score import score
from distillwatch.bench.world import rfc3339

T0 = 1_770_000_000.0


def _write(path: Path, rows: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def _ex(i: int, account: str, ts: float, text: str = "hello") -> dict:
    return {
        "id": f"e{i}",
        "ts": rfc3339(ts),
        "account_id": account,
        "api": "openai.chat.completions",
        "request": {"model": "m", "messages": [{"role": "user", "content": text}]},
    }


@pytest.fixture()
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    data, scan = tmp_path / "data", tmp_path / "scan"
    data.mkdir()
    scan.mkdir()
    _write(
        data / "labels.jsonl",
        [
            {"account_id": "a1", "label": "attack", "group": "attack:x"},
            {"account_id": "a2", "label": "attack", "group": "attack:y"},
            {"account_id": "b1", "label": "benign", "group": "benign:p"},
            {"account_id": "b2", "label": "benign", "group": "benign:q"},
            {"account_id": "b3", "label": "benign", "group": "benign:q"},
            {"account_id": "idle", "label": "attack", "group": "attack:y"},  # sent nothing
        ],
    )
    rows = [
        _ex(0, "a1", T0 + 50),
        _ex(1, "a1", T0 + 100),
        _ex(2, "a1", T0 + 150),
        _ex(3, "a2", T0 + 10),
        _ex(4, "a2", T0 + 20),
        _ex(5, "b1", T0),
        _ex(6, "b2", T0),
        _ex(7, "b3", T0),
    ]
    _write(data / "exchanges.jsonl", rows)
    _write(
        scan / "accounts.jsonl",
        [
            {
                "account_id": "a1",
                "risk": 0.9,
                "verdict": "distillation",
                "first_flagged_ts": rfc3339(T0 + 100),
            },
            {"account_id": "a2", "risk": 0.4, "verdict": "benign", "first_flagged_ts": None},
            {
                "account_id": "b1",
                "risk": 0.5,
                "verdict": "suspicious",
                "first_flagged_ts": rfc3339(T0 + 5),
            },
            {"account_id": "b2", "risk": 0.1, "verdict": "benign", "first_flagged_ts": None},
            # b3 missing from the scan: risk 0, never flagged
        ],
    )
    return data, scan


def test_scorer_on_hand_made_example(tiny: tuple[Path, Path]) -> None:
    s = score(*tiny)
    assert s["accounts"] == 5 and s["attack_accounts"] == 2  # "idle" is not scored
    # pairs (attack, benign): a1 beats all 3; a2 beats b2,b3 but not b1 -> 5/6
    assert s["auc"] == pytest.approx(5 / 6)
    assert s["tpr"] == pytest.approx(0.5)
    assert s["fpr"] == pytest.approx(1 / 3)
    g = s["groups"]
    assert g["benign:p"]["fpr"] == 1.0 and g["benign:q"]["fpr"] == 0.0
    assert g["attack:x"]["tpr"] == 1.0 and g["attack:y"]["tpr"] == 0.0
    # a1: exchange at +50 served before flag at +100 (the one at +100 is not "before")
    assert g["attack:x"]["leakage"] == pytest.approx(1 / 3)
    assert g["attack:y"]["leakage"] == 1.0  # never flagged: everything leaked
    assert s["leakage"] == pytest.approx(3 / 5)
    assert s["campaign_recall"] == pytest.approx(0.5)
    assert s["median_ttd_s"] == pytest.approx(50.0)
    # a threshold at 0.9 flags a1 with no benign account: recall 50% at FPR 0
    assert s["recall_at_fpr_0.1%"] == pytest.approx(0.5)


def test_rate_limit_baseline_flags_at_the_exceeding_request(tmp_path: Path) -> None:
    rows = [_ex(i, "busy", T0 + i * 10) for i in range(30)] + [
        _ex(100 + i, "calm", T0 + i * 600) for i in range(30)
    ]
    _write(tmp_path / "ex.jsonl", rows[::-1])  # unsorted input on purpose
    rate_limit_baseline(tmp_path / "ex.jsonl", tmp_path / "rl", per_hour=20, per_day=1000)
    out = {
        r["account_id"]: r
        for r in map(orjson.loads, (tmp_path / "rl" / "accounts.jsonl").read_bytes().splitlines())
    }
    assert out["busy"]["verdict"] == "suspicious"
    assert out["busy"]["first_flagged_ts"] == rfc3339(T0 + 200)  # the 21st request within the hour
    assert out["calm"]["verdict"] == "benign" and out["calm"]["first_flagged_ts"] is None
    assert out["busy"]["risk"] > out["calm"]["risk"]


def test_keyword_baseline_counts_hits(tmp_path: Path) -> None:
    rows = [_ex(i, "cot", T0 + i, "Solve it step by step" if i % 2 else "hi") for i in range(10)]
    rows += [_ex(50 + i, "plain", T0 + i, "what's the weather") for i in range(10)]
    _write(tmp_path / "ex.jsonl", rows)
    keyword_baseline(tmp_path / "ex.jsonl", tmp_path / "kw", min_hits=3)
    out = {
        r["account_id"]: r
        for r in map(orjson.loads, (tmp_path / "kw" / "accounts.jsonl").read_bytes().splitlines())
    }
    assert out["cot"]["risk"] == pytest.approx(0.5)
    assert out["cot"]["first_flagged_ts"] == rfc3339(T0 + 5)  # hits at 1, 3, 5
    assert out["plain"]["verdict"] == "benign" and out["plain"]["risk"] == 0


def test_request_text_reads_all_three_shapes() -> None:
    assert "q1" in request_text("openai.responses", {"instructions": "sys", "input": "q1"})
    anth = {
        "system": [{"type": "text", "text": "S"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "q2"}]}],
    }
    assert "q2" in request_text("anthropic.messages", anth) and "S" in request_text(
        "anthropic.messages", anth
    )
    chat = {
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "old"},
            {"role": "assistant", "content": "a"},
            {"role": "user", "content": "new"},
        ]
    }
    text = request_text("openai.chat.completions", chat)
    assert "new" in text and "old" not in text


@pytest.fixture()
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every path opened through Python's file APIs."""
    seen: list[str] = []
    real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

    def rec_open(file, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(str(file))
        return real_open(file, *a, **k)

    def rec_io_open(file, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(str(file))
        return real_io_open(file, *a, **k)

    def rec_os_open(path, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(str(path))
        return real_os_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", rec_open)
    monkeypatch.setattr(io, "open", rec_io_open)
    monkeypatch.setattr(os, "open", rec_os_open)
    return seen


def test_baselines_never_open_labels(
    tiny: tuple[Path, Path], opened: list[str], tmp_path: Path
) -> None:
    data, _ = tiny
    rate_limit_baseline(data / "exchanges.jsonl", tmp_path / "rl")
    keyword_baseline(data / "exchanges.jsonl", tmp_path / "kw")
    assert any(p.endswith("exchanges.jsonl") for p in opened)  # the recorder works
    assert not any(Path(p).name == "labels.jsonl" for p in opened)


def test_scan_never_opens_labels(tmp_path: Path, opened: list[str]) -> None:
    try:
        from distillwatch.scan import run_scan
    except ImportError as exc:
        pytest.skip(f"distillwatch.scan not importable yet: {exc}")
    from distillwatch.bench import BuiltinSource, generate
    from distillwatch.bench.world import Calendar

    data = tmp_path / "data"
    generate(
        data, source=BuiltinSource(), scale=0.01, seed=2, calendar=Calendar(days=1, release_day=0)
    )
    opened.clear()
    run_scan([data / "exchanges.jsonl"], tmp_path / "scan")
    assert (tmp_path / "scan" / "accounts.jsonl").is_file()
    assert not any(Path(p).name == "labels.jsonl" for p in opened)
