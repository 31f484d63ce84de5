"""Scan throughput against merely parsing the same JSONL with orjson.

    python benchmarks/scan_speed.py EXCHANGES.jsonl [--workers 0 2]

Prints exchanges/s for (a) ``orjson.loads`` of every line, (b) the full
``distillwatch scan`` (ingest, detectors, engine, outputs, store) with each
``--workers`` count, their ratio, and the peak resident memory of each phase (each phase runs in a fresh
subprocess so the peaks do not mask each other). It also prints the CPU time per
exchange of the scanning process and of its workers: on a shared machine wall-clock
rates move with the other jobs, CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import os
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


def _scan(path: str, workers: int) -> dict:
    from distillwatch.scan import run_scan

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run_scan([Path(path)], Path(tmp) / "out", resume=False, workers=workers)
        return {
            "n": summary.read,
            "seconds": time.perf_counter() - t0,
            "accounts": summary.accounts,
        }


def _child(phase: str, path: str, workers: int) -> None:
    import resource

    result = _parse_only(path) if phase == "parse" else _scan(path, workers)
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["peak_rss_mb"] = own.ru_maxrss / 1024
    # largest worker process (workers are children of this one)
    result["worker_rss_mb"] = children.ru_maxrss / 1024
    # CPU seconds, imports and start-up included
    result["cpu_main"] = own.ru_utime + own.ru_stime
    result["cpu_workers"] = children.ru_utime + children.ru_stime
    print(json.dumps(result))


def _run_phase(phase: str, path: str, workers: int = 0) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", phase, path, "--workers", str(workers)],
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
    ap.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[0, 2],
        help="content-detection worker processes to compare (0: all in one process)",
    )
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.path, args.workers[0])
        return
    parse = _run_phase("parse", args.path)
    p_rate = parse["n"] / parse["seconds"]
    print(f"load average at start: {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}")
    print(
        f"orjson parse only:      {p_rate:,.0f} exchanges/s  (peak RSS {parse['peak_rss_mb']:.0f} MB)"
    )
    print(f"  parse CPU {_per_exchange(parse['cpu_main'], parse['n'])}")
    for workers in args.workers:
        scan = _run_phase("scan", args.path, workers)
        s_rate = scan["n"] / scan["seconds"]
        print(
            f"scan, {workers} workers:      {s_rate:,.0f} exchanges/s over {scan['n']:,} exchanges "
            f"({scan['accounts']:,} accounts); {scan['seconds'] / parse['seconds']:.2f}x the "
            f"parse time; peak RSS {scan['peak_rss_mb']:.0f} MB"
            + (f" + {scan['worker_rss_mb']:.0f} MB per worker" if workers else "")
        )
        print(
            f"  CPU: scanning process {_per_exchange(scan['cpu_main'], scan['n'])}"
            + (f", workers {_per_exchange(scan['cpu_workers'], scan['n'])}" if workers else "")
        )


def _per_exchange(seconds: float, n: int) -> str:
    return f"{seconds:.1f} s = {seconds / max(n, 1) * 1e6:.0f} us per exchange"


if __name__ == "__main__":
    main()
