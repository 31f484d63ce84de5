"""Scan throughput against merely parsing the same JSONL with orjson.

    python benchmarks/scan_speed.py EXCHANGES.jsonl [--repeat 1]

Prints exchanges/s for (a) ``orjson.loads`` of every line, (b) the full
``distillwatch scan`` (ingest, detectors, engine, outputs, store), their
ratio, and the peak resident memory of each phase (each phase runs in a fresh
subprocess so the peaks do not mask each other).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _parse_only(path: str) -> dict:
    import orjson

    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                orjson.loads(line)
                n += 1
    return {"n": n, "seconds": time.perf_counter() - t0}


def _scan(path: str) -> dict:
    from distillwatch.scan import run_scan

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run_scan([Path(path)], Path(tmp) / "out", resume=False)
        return {
            "n": summary.read,
            "seconds": time.perf_counter() - t0,
            "accounts": summary.accounts,
        }


def _child(phase: str, path: str) -> None:
    import resource

    result = _parse_only(path) if phase == "parse" else _scan(path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_phase(phase: str, path: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", phase, path],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("path")
    ap.add_argument("--child", choices=["parse", "scan"])
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.path)
        return
    parse = _run_phase("parse", args.path)
    scan = _run_phase("scan", args.path)
    p_rate = parse["n"] / parse["seconds"]
    s_rate = scan["n"] / scan["seconds"]
    print(f"exchanges:            {scan['n']:,} ({scan['accounts']:,} accounts)")
    print(
        f"orjson parse only:    {p_rate:,.0f} exchanges/s  (peak RSS {parse['peak_rss_mb']:.0f} MB)"
    )
    print(
        f"distillwatch scan:    {s_rate:,.0f} exchanges/s  (peak RSS {scan['peak_rss_mb']:.0f} MB)"
    )
    print(
        f"scan / parse time:    {parse['n'] / p_rate and (scan['seconds'] / parse['seconds']):.2f}x"
    )


if __name__ == "__main__":
    main()
