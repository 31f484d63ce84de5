"""Regression floors: distillwatch on a small corpora-grounded benchmark, next to the baselines.

Skipped with a message when the corpora folder or the scanner is absent. The
floors are deliberately below the figures measured when they were set (AUC
0.995, benign FPR 0 %, recall at FPR <= 1 % of 0.91 at this size), so they
catch a real regression, not noise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from distillwatch.bench import CorporaSource, generate
from distillwatch.bench.baselines import keyword_baseline, rate_limit_baseline
from distillwatch.bench.score import score
from distillwatch.bench.world import Calendar

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"

pytestmark = pytest.mark.corpora


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    if not CORPORA.is_dir():
        pytest.skip(f"corpora folder {CORPORA} is absent")
    try:
        from distillwatch.scan import run_scan
    except ImportError as exc:
        pytest.skip(f"distillwatch.scan not importable: {exc}")
    work = tmp_path_factory.mktemp("regression")
    data = work / "data"
    generate(
        data,
        source=CorporaSource(CORPORA),
        scale=0.05,
        seed=0,
        calendar=Calendar(days=4, release_day=2),
    )
    run_scan([data / "exchanges.jsonl"], work / "scan")
    rate_limit_baseline(data / "exchanges.jsonl", work / "rate")
    keyword_baseline(data / "exchanges.jsonl", work / "kw")
    return {name: score(data, work / name) for name in ("scan", "rate", "kw")}


def test_distillwatch_floors(scored: dict[str, dict]) -> None:
    dw = scored["scan"]
    assert dw["auc"] >= 0.85
    assert dw["fpr"] <= 0.03
    assert dw["recall_at_fpr_1%"] >= 0.5
    for group, entry in dw["groups"].items():
        if entry["label"] == "benign":
            assert entry["fpr"] <= 0.2, group


def test_distillwatch_beats_both_baselines_at_low_fpr(scored: dict[str, dict]) -> None:
    dw = scored["scan"]["recall_at_fpr_1%"]
    assert dw > scored["rate"]["recall_at_fpr_1%"]
    assert dw > scored["kw"]["recall_at_fpr_1%"]
