"""Two baselines a provider would use without distillwatch, scored the same way.

* :func:`rate_limit_baseline` — per-account volume limits: flag an account once
  it exceeds ``per_hour`` requests in a sliding hour or ``per_day`` in a
  sliding day. This is what most providers rely on today.
* :func:`keyword_baseline` — a keyword list for chain-of-thought elicitation:
  flag an account once ``min_hits`` of its requests contain one of the phrases.

Both read ``exchanges.jsonl`` only (never labels) and write an
``accounts.jsonl`` in the scan-output shape, so :func:`~distillwatch.bench.score.score`
treats them exactly like a distillwatch scan. Input does not need to be sorted.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from distillwatch.bench.score import parse_ts, read_jsonl
from distillwatch.bench.world import rfc3339

__all__ = ["COT_KEYWORDS", "request_text", "rate_limit_baseline", "keyword_baseline"]

COT_KEYWORDS: tuple[str, ...] = (
    "step by step",
    "step-by-step",
    "chain of thought",
    "chain-of-thought",
    "show your reasoning",
    "explain your reasoning",
    "reasoning process",
    "think carefully",
    "show your work",
    "internal reasoning",
    "thought process",
    "explain every step",
    "walk me through",
    "reason it out",
    "<think>",
)


def _text_of(content: Any, kinds: tuple[str, ...] = ("text", "input_text")) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") in kinds
        )
    return ""


def request_text(api: str, request: dict[str, Any]) -> str:
    """System/instructions text plus the newest user message, for any of the three API shapes."""
    system, last_user = "", ""
    if api == "openai.responses":
        system = str(request.get("instructions") or "")
        inp = request.get("input")
        if isinstance(inp, str):
            last_user = inp
        elif isinstance(inp, list):
            for item in inp:
                if isinstance(item, dict) and item.get("role") == "user":
                    last_user = _text_of(item.get("content"))
    else:
        if api == "anthropic.messages":
            system = _text_of(request.get("system"))
        for msg in request.get("messages") or []:
            if not isinstance(msg, dict):
                continue
            role = msg.get("role")
            if role in ("system", "developer"):
                system += _text_of(msg.get("content"))
            elif role == "user":
                text = _text_of(msg.get("content"))
                if text:
                    last_user = text
    return f"{system}\n{last_user}"


def _write(out_dir: Path, rows: Iterable[dict[str, Any]]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "accounts.jsonl"
    with path.open("wb") as fh:
        for row in sorted(rows, key=lambda r: (-r["risk"], r["account_id"])):
            fh.write(orjson.dumps(row) + b"\n")
    return path


def _row(
    account: str,
    n: int,
    risk: float,
    flagged_at: float | None,
    capability: str | None,
    evidence: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "account_id": account,
        "exchanges": n,
        "risk": round(float(risk), 6),
        "verdict": "suspicious" if flagged_at is not None else "benign",
        "first_flagged_ts": rfc3339(flagged_at) if flagged_at is not None else None,
        "campaign_id": None,
        "capabilities": [capability] if capability and flagged_at is not None else [],
        "evidence": [evidence] if evidence else [],
    }


def rate_limit_baseline(
    exchanges: str | Path, out_dir: str | Path, *, per_hour: int = 120, per_day: int = 1000
) -> Path:
    """Per-account sliding-window volume limits; risk grows with the worst rate seen."""
    stamps: dict[str, array] = defaultdict(lambda: array("d"))
    for rec in read_jsonl(Path(exchanges)):
        ts = parse_ts(rec.get("ts"))
        if ts is not None and rec.get("account_id"):
            stamps[rec["account_id"]].append(ts)
    rows = []
    for account, arr in stamps.items():
        ts = np.sort(np.frombuffer(arr, dtype=np.float64))
        idx = np.arange(len(ts))
        in_hour = idx - np.searchsorted(ts, ts - 3600.0, side="right") + 1
        in_day = idx - np.searchsorted(ts, ts - 86400.0, side="right") + 1
        ratio = max(in_hour.max() / per_hour, in_day.max() / per_day)
        over = np.nonzero((in_hour > per_hour) | (in_day > per_day))[0]
        flagged_at = float(ts[over[0]]) if len(over) else None
        evidence = None
        if flagged_at is not None:
            evidence = {
                "signal": "rate_limit",
                "score": 1.0,
                "detail": f"{int(in_hour.max())} requests in one hour (limit {per_hour}), "
                f"{int(in_day.max())} in one day (limit {per_day})",
            }
        rows.append(_row(account, len(ts), ratio / (1.0 + ratio), flagged_at, None, evidence))
    return _write(Path(out_dir), rows)


def keyword_baseline(
    exchanges: str | Path,
    out_dir: str | Path,
    *,
    min_hits: int = 5,
    keywords: tuple[str, ...] = COT_KEYWORDS,
) -> Path:
    """Flag accounts that repeatedly ask for chain-of-thought with well-known phrases."""
    totals: dict[str, int] = defaultdict(int)
    hits: dict[str, array] = defaultdict(lambda: array("d"))
    examples: dict[str, str] = {}
    for rec in read_jsonl(Path(exchanges)):
        account = rec.get("account_id")
        ts = parse_ts(rec.get("ts"))
        if not account or ts is None:
            continue
        totals[account] += 1
        text = request_text(str(rec.get("api")), rec.get("request") or {}).lower()
        for kw in keywords:
            if kw in text:
                hits[account].append(ts)
                examples.setdefault(account, kw)
                break
    rows = []
    for account, n in totals.items():
        marks = sorted(hits.get(account, ()))
        flagged_at = marks[min_hits - 1] if len(marks) >= min_hits else None
        evidence = None
        if marks:
            evidence = {
                "signal": "cot_keyword",
                "score": len(marks) / n,
                "detail": f"{len(marks)} of {n} requests contain a CoT phrase such as {examples[account]!r}",
            }
        rows.append(_row(account, n, len(marks) / n, flagged_at, "cot_elicitation", evidence))
    return _write(Path(out_dir), rows)
