"""Judge a scan against the benchmark's ground truth.

Reads ``labels.jsonl`` (truth), the scan's ``accounts.jsonl`` (risk, verdict,
first_flagged_ts) and the timestamps in ``exchanges.jsonl`` (for leakage and
time to detection). Only this module and the benchmark generator ever touch
``labels.jsonl``; detectors and ``scan`` never do.

Metrics:

* ``auc`` — ROC-AUC of ``risk`` over all labelled accounts;
* ``tpr`` / ``fpr`` at the tool's own verdicts (``suspicious`` or
  ``distillation`` = flagged), overall, per benign group (FPR) and per attack
  group (TPR);
* ``recall_at_fpr_0.1%`` / ``recall_at_fpr_1%`` — best recall of a threshold on
  ``risk`` that keeps benign FPR under the budget;
* ``campaign_recall`` — share of attack groups with at least 90 % of accounts flagged;
* ``leakage`` — share of attack exchanges served before the account's
  ``first_flagged_ts`` (all of them if never flagged), overall and per group;
* ``median_ttd_s`` — median seconds from an attack account's first exchange to
  its ``first_flagged_ts``, over flagged attack accounts.

Accounts the scan does not mention count as risk 0 and never flagged.
Labelled accounts that sent nothing in ``exchanges.jsonl`` (possible with a
short ``--days``) are left out: there was nothing to detect.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

__all__ = ["score", "score_accounts", "parse_ts", "read_jsonl", "FLAGGED_VERDICTS"]

FLAGGED_VERDICTS = frozenset({"suspicious", "distillation"})


def parse_ts(value: Any) -> float | None:
    """Epoch seconds from an RFC 3339 string or a number; None for null."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).timestamp()


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def _recall_at(y: np.ndarray, risk: np.ndarray, budget: float) -> float:
    from sklearn.metrics import roc_curve

    if y.min() == y.max():
        return float("nan")
    fpr, tpr, _ = roc_curve(y, risk)
    ok = fpr <= budget + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def score_accounts(
    labels: dict[str, tuple[str, str]],
    scan: dict[str, dict[str, Any]],
    first_seen: dict[str, float],
    attack_exchanges: dict[str, list[float]],
) -> dict[str, Any]:
    """Metrics from already-loaded inputs (kept separate so it is easy to test)."""
    from sklearn.metrics import roc_auc_score

    ids = sorted(labels)
    y = np.array([labels[a][0] == "attack" for a in ids], dtype=int)
    risk = np.array([float(scan.get(a, {}).get("risk") or 0.0) for a in ids])
    flagged = {a: scan.get(a, {}).get("verdict") in FLAGGED_VERDICTS for a in ids}
    flag_ts = {a: parse_ts(scan.get(a, {}).get("first_flagged_ts")) for a in ids}

    groups: dict[str, list[str]] = defaultdict(list)
    for a in ids:
        groups[labels[a][1]].append(a)
    attackers = [a for a in ids if labels[a][0] == "attack"]
    benign = [a for a in ids if labels[a][0] != "attack"]

    def rate(accts: list[str]) -> float:
        return sum(flagged[a] for a in accts) / len(accts) if accts else float("nan")

    per_group: dict[str, dict[str, Any]] = {}
    for g, accts in sorted(groups.items()):
        label = labels[accts[0]][0]
        entry: dict[str, Any] = {
            "label": label,
            "accounts": len(accts),
            "flagged": sum(flagged[a] for a in accts),
        }
        if label == "attack":
            entry["tpr"] = rate(accts)
            served = leaked = 0
            for a in accts:
                stamps = attack_exchanges.get(a, [])
                served += len(stamps)
                cut = flag_ts[a] if flagged[a] else None
                leaked += len(stamps) if cut is None else sum(1 for t in stamps if t < cut)
            entry["exchanges"] = served
            entry["leakage"] = leaked / served if served else float("nan")
        else:
            entry["fpr"] = rate(accts)
        per_group[g] = entry

    served = sum(g.get("exchanges", 0) for g in per_group.values())
    leaked = sum(g["leakage"] * g["exchanges"] for g in per_group.values() if g.get("exchanges"))
    ttd = [
        flag_ts[a] - first_seen[a]
        for a in attackers
        if flagged[a] and flag_ts[a] is not None and a in first_seen
    ]
    attack_groups = [g for g in per_group.values() if g["label"] == "attack"]
    both = 0 < y.sum() < len(y)
    return {
        "accounts": len(ids),
        "attack_accounts": len(attackers),
        "auc": float(roc_auc_score(y, risk)) if both else float("nan"),
        "tpr": rate(attackers),
        "fpr": rate(benign),
        "recall_at_fpr_0.1%": _recall_at(y, risk, 0.001),
        "recall_at_fpr_1%": _recall_at(y, risk, 0.01),
        "campaign_recall": (sum(g["tpr"] >= 0.9 for g in attack_groups) / len(attack_groups))
        if attack_groups
        else float("nan"),
        "leakage": leaked / served if served else float("nan"),
        "median_ttd_s": float(statistics.median(ttd)) if ttd else None,
        "groups": per_group,
    }


def score(data_dir: str | Path, scan_dir: str | Path) -> dict[str, Any]:
    """Score ``scan_dir/accounts.jsonl`` against ``data_dir/labels.jsonl`` and its exchanges."""
    data, scan_path = Path(data_dir), Path(scan_dir)
    labels = {r["account_id"]: (r["label"], r["group"]) for r in read_jsonl(data / "labels.jsonl")}
    scan = {r["account_id"]: r for r in read_jsonl(scan_path / "accounts.jsonl")}
    first_seen: dict[str, float] = {}
    attack_exchanges: dict[str, list[float]] = defaultdict(list)
    for rec in read_jsonl(data / "exchanges.jsonl"):
        acct = rec.get("account_id")
        ts = parse_ts(rec.get("ts"))
        if acct not in labels or ts is None:
            continue
        if ts < first_seen.get(acct, float("inf")):
            first_seen[acct] = ts
        if labels[acct][0] == "attack":
            attack_exchanges[acct].append(ts)
    active = {a: labels[a] for a in first_seen}
    return score_accounts(active, scan, first_seen, attack_exchanges)
