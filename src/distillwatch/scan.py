"""``scan``: replay exchange logs in time order through the online engine.

The same :class:`~distillwatch.engine.Engine` the gateway uses sees every
exchange in ``ts`` order, so ``first_flagged_ts`` is what a live deployment
would have seen. State is saved to the store at the end, so the next scan of
newer logs continues where this one stopped.
"""

from __future__ import annotations

import time
import tomllib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from distillwatch.campaign.report import iso
from distillwatch.engine import AccountVerdict, Engine, EngineConfig
from distillwatch.ingest import ExchangeStream
from distillwatch.ingest.reader import Rejection
from distillwatch.parallel import (
    ContentPool,
    InlineAnalyser,
    default_workers,
    rare_young_collections,
    to_analysis,
)

__all__ = ["ScanSummary", "ScanError", "run_scan", "account_record"]

_STATE_KEY = "engine"
_BATCH = 50_000


class ScanError(Exception):
    """A usage problem (missing input, unwritable output) stated in one sentence."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(slots=True)
class ScanSummary:
    lines: int
    read: int
    rejected: int
    accounts: int
    flagged: int
    campaigns: int
    seconds: float
    resumed: bool = False
    # read, but not observed again: at or before the resumed state's last ts
    already_scanned: int = 0
    first_ts: str | None = None
    last_ts: str | None = None


def account_record(v: AccountVerdict) -> dict:
    """An ``accounts.jsonl`` line exactly as scan-output v1."""
    return {
        "account_id": v.account_id,
        "exchanges": v.exchanges,
        "risk": v.risk,
        "verdict": v.verdict,
        "first_flagged_ts": iso(v.first_flagged_ts) if v.first_flagged_ts is not None else None,
        "campaign_id": v.campaign_id,
        "capabilities": v.capabilities,
        "evidence": [{"signal": s.name, "score": s.score, "detail": s.detail} for s in v.evidence],
    }


def load_config(path: Path | None) -> EngineConfig:
    from distillwatch.detectors.base import detector_config

    cfg = EngineConfig()
    if path is not None:
        if not path.is_file():
            raise ScanError(f"config file {path} does not exist", 3)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            engine_table = data.get("engine", {})
            if not isinstance(engine_table, dict):
                raise ValueError("[engine] must be a table")
            cfg = EngineConfig(
                detectors=detector_config(data),
                top_layer=engine_table.get("top_layer", cfg.top_layer),
            )
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ScanError(f"config file {path}: {exc}", 2) from exc
    return cfg


def _check_inputs(paths: Sequence[Path]) -> None:
    if not paths:
        raise ScanError("give at least one exchange log to scan", 2)
    for p in paths:
        if not p.exists():
            raise ScanError(f"input file {p} does not exist", 3)
        if not p.is_file():
            raise ScanError(f"input {p} is not a file", 3)


def _prepare_out(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".distillwatch-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ScanError(
            f"cannot write to output folder {out_dir}: {exc.strerror or exc}", 4
        ) from exc


def run_scan(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    db: Path | None = None,
    config: Path | None = None,
    progress: bool = False,
    resume: bool = True,
    on_exchange: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> ScanSummary:
    """Scan ``paths`` into ``out_dir`` (see scan-output.md); returns the counts.

    ``workers`` content-detection processes run beside the engine; ``None``
    picks by input size and cores (see :func:`distillwatch.parallel.default_workers`),
    0 keeps everything in this process.
    """
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    out_dir = Path(out_dir)
    _check_inputs(paths)
    if workers is not None and workers < 0:
        raise ScanError("--workers must be 0 or more", 2)
    _prepare_out(out_dir)
    cfg = load_config(config)

    if workers is None:
        workers = default_workers(sum(p.stat().st_size for p in paths))
    # the pool forks before the store opens, so no worker inherits the store's threads
    pool = ContentPool(workers, cfg.detectors) if workers > 0 else None
    try:
        with rare_young_collections():
            return _scan_with(paths, out_dir, db, cfg, progress, resume, on_exchange, pool, started)
    finally:
        if pool is not None:
            pool.close()


def _scan_with(
    paths: list[Path],
    out_dir: Path,
    db: Path | None,
    cfg: EngineConfig,
    progress: bool,
    resume: bool,
    on_exchange: Callable[[int], None] | None,
    pool: ContentPool | None,
    started: float,
) -> ScanSummary:
    from distillwatch.store import open_store

    db_path = Path(db) if db is not None else out_dir / "distillwatch.duckdb"
    try:
        store = open_store(db_path)
    except OSError as exc:
        raise ScanError(f"cannot open the store {db_path}: {exc}", 4) from exc
    try:
        blob = store.load_state(_STATE_KEY) if resume else None
        # with workers the content detectors run there only: this process never builds
        # them (importing them alone compiles hundreds of patterns)
        detectors = [] if pool is not None else None
        engine = (
            Engine.from_state_bytes(blob, cfg, detectors)
            if blob
            else Engine(cfg, detectors=detectors)
        )
        summary = _replay(engine, store, paths, out_dir, progress, on_exchange, pool)
        summary.resumed = blob is not None
        engine.finalize()
        verdicts = [account_record(v) for v in engine.account_verdicts()]
        verdicts.sort(key=lambda r: (-r["risk"], r["account_id"]))
        campaigns = engine.campaigns()
        _write_jsonl(out_dir / "accounts.jsonl", verdicts)
        _write_jsonl(out_dir / "campaigns.jsonl", campaigns)
        summary.accounts = len(verdicts)
        summary.flagged = sum(1 for r in verdicts if r["verdict"] != "benign")
        summary.campaigns = len(campaigns)
        scan_id = uuid.uuid4().hex[:12]
        store.save_verdicts(scan_id, engine.last_ts, verdicts, campaigns)
        store.save_state(_STATE_KEY, engine.state_bytes())
        summary.seconds = time.perf_counter() - started
        flagged_ids = [r["account_id"] for r in verdicts if r["verdict"] != "benign"][:5000]
        history = store.verdict_histories(flagged_ids) if flagged_ids else {}
        _write_report(out_dir, verdicts, campaigns, summary, scan_id, history)
    finally:
        store.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _replay(
    engine: Engine,
    store,
    paths: list[Path],
    out_dir: Path,
    progress: bool,
    on_exchange: Callable[[int], None] | None,
    pool: ContentPool | None = None,
) -> ScanSummary:
    rejected_fh = open(out_dir / "rejected.jsonl", "wb")  # noqa: SIM115 - closed below

    def on_reject(rej: Rejection) -> None:
        rejected_fh.write(orjson.dumps(asdict(rej)) + b"\n")

    stream = ExchangeStream(paths, on_reject=on_reject)
    # parsing, content detection and family hashing of each line happen once, in the
    # workers (or inline): this process only orders, counts and runs the engine
    analyser = pool if pool is not None else InlineAnalyser(engine.detectors)
    # on resume, exchanges up to the saved state's last ts were observed by an earlier scan
    already_seen_until = engine.last_ts if engine.exchanges_seen else float("-inf")
    skipped = 0
    rows: list[dict] = []
    first = last = None
    bar = _progress_bar() if progress else None
    observe = engine.observe_facts
    try:
        task = bar.add_task("scanning", total=None) if bar else None
        if bar:
            bar.start()
        i = 0
        for result in stream.analysed(analyser):
            if result[0] <= already_seen_until:
                skipped += 1  # a resumed scan never counts an exchange of an earlier scan twice
                continue
            i += 1
            ex, signals, family_hashes = to_analysis(result)
            risk = observe(ex, signals, family_hashes)
            if first is None:
                first = ex.ts
            last = ex.ts
            rows.append(
                {
                    "id": ex.id,
                    "ts": ex.ts,
                    "account_id": ex.account_id,
                    "model": ex.model,
                    "family_id": engine.last_family,
                    "risk": risk,
                    "signals": [{"signal": s.name, "score": s.score} for s in signals],
                }
            )
            if len(rows) >= _BATCH:
                store.append_signals(rows)
                rows = []
            if bar and i % 5000 == 0:
                bar.update(task, completed=i, description=f"scanning: {i:,} exchanges")
            if on_exchange is not None:
                on_exchange(i)
        if rows:
            store.append_signals(rows)
    finally:
        rejected_fh.close()
        if bar:
            bar.stop()
    return ScanSummary(
        lines=stream.lines,
        read=stream.read,
        rejected=stream.rejected,
        accounts=0,
        flagged=0,
        campaigns=0,
        seconds=0.0,
        first_ts=iso(first) if first is not None else None,
        last_ts=iso(last) if last is not None else None,
        already_scanned=skipped,
    )


def _progress_bar():
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
    )


def _write_jsonl(path: Path, records: list[dict]) -> None:
    with open(path, "wb") as fh:
        for rec in records:
            fh.write(orjson.dumps(rec) + b"\n")


def _write_report(
    out_dir: Path,
    accounts: list[dict],
    campaigns: list[dict],
    summary: ScanSummary,
    scan_id: str,
    history: dict,
) -> None:
    from distillwatch.output.report import write_report

    rejected_sample = []
    with open(out_dir / "rejected.jsonl", "rb") as fh:
        for i, line in enumerate(fh):
            if i >= 50:
                break
            rejected_sample.append(orjson.loads(line))
    write_report(
        out_dir / "report.html",
        accounts,
        campaigns,
        {**asdict(summary), "scan_id": scan_id},
        rejected_sample=rejected_sample,
        history=history,
    )
