"""`distillwatch bench` commands: generate, score, run."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from distillwatch.bench.cli import bench_app

runner = CliRunner()


def test_generate_needs_corpora_or_builtin(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no ../shared/corpora from here
    res = runner.invoke(
        bench_app, ["generate", "--out", str(tmp_path / "o"), "--corpora", str(tmp_path / "nope")]
    )
    assert res.exit_code != 0
    assert "--builtin" in res.output
    res = runner.invoke(
        bench_app,
        ["generate", "--out", str(tmp_path / "o"), "--builtin", "--corpora", str(tmp_path)],
    )
    assert res.exit_code != 0


def test_generate_builtin_then_score_json(tmp_path: Path) -> None:
    out = tmp_path / "data"
    res = runner.invoke(
        bench_app,
        [
            "generate",
            "--builtin",
            "--scale",
            "0.01",
            "--seed",
            "4",
            "--days",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (out / "exchanges.jsonl").stat().st_size > 0 and (out / "labels.jsonl").is_file()
    # a "scan" that flags every account whose id sorts first: just has to be scorable
    scan = tmp_path / "scan"
    scan.mkdir()
    labels = [orjson.loads(x) for x in (out / "labels.jsonl").read_bytes().splitlines()]
    (scan / "accounts.jsonl").write_bytes(
        b"".join(
            orjson.dumps(
                {
                    "account_id": r["account_id"],
                    "risk": 1.0 if r["label"] == "attack" else 0.0,
                    "verdict": "distillation" if r["label"] == "attack" else "benign",
                    "first_flagged_ts": "2026-01-01T00:00:00Z" if r["label"] == "attack" else None,
                }
            )
            + b"\n"
            for r in labels
        )
    )
    res = runner.invoke(bench_app, ["score", "--data", str(out), "--scan", str(scan), "--json"])
    assert res.exit_code == 0, res.output
    result = orjson.loads(res.output)
    assert (
        result["auc"] == 1.0
        and result["tpr"] == 1.0
        and result["fpr"] == 0.0
        and result["leakage"] == 0.0
    )


def test_run_writes_scores_for_baselines(tmp_path: Path) -> None:
    res = runner.invoke(
        bench_app,
        [
            "run",
            "--builtin",
            "--scale",
            "0.01",
            "--seed",
            "1",
            "--days",
            "2",
            "--work",
            str(tmp_path),
            "--layers",
        ],
    )
    assert res.exit_code == 0, res.output
    scores = orjson.loads((tmp_path / "scores.json").read_bytes())["scores"]
    assert {"rate limit", "CoT keywords"} <= set(scores)
    if "distillwatch" in scores:  # the layer ablations ride along with the scan
        assert {"content only", "without campaigns"} <= set(scores)
    assert "leakage" in res.output
