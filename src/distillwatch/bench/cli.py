"""``distillwatch bench``: generate labelled traffic, score a scan, or do both side by side."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

__all__ = ["bench_app", "resolve_source", "render_table"]

bench_app = typer.Typer(
    help="distillbench: realistic labelled traffic and the metrics that judge detection.",
    no_args_is_help=True,
)
_console = Console()
_DEFAULT_CORPORA = Path("../shared/corpora")

CorporaOpt = Annotated[
    Path | None, typer.Option("--corpora", help="Corpora folder (default ../shared/corpora).")
]
BuiltinOpt = Annotated[
    bool,
    typer.Option("--builtin", help="Use the small built-in synthetic texts instead of corpora."),
]
ScaleOpt = Annotated[
    float, typer.Option("--scale", help="1 = about 150-200K exchanges over two weeks.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Same seed, same data.")]
DaysOpt = Annotated[
    int, typer.Option("--days", min=1, help="Simulated days (the model release is in the middle).")
]


def _calendar(days: int) -> Any:
    from distillwatch.bench.world import Calendar

    return Calendar(days=days, release_day=days // 2)


def resolve_source(corpora: Path | None, builtin: bool) -> Any:
    """The text source the options ask for, or a clear error."""
    from distillwatch.bench.textsource import BuiltinSource, CorporaMissingError, CorporaSource

    if builtin and corpora is not None:
        raise typer.BadParameter("give either --corpora DIR or --builtin, not both")
    if builtin:
        return BuiltinSource()
    path = corpora or _DEFAULT_CORPORA
    if not path.is_dir():
        raise typer.BadParameter(
            f"corpora folder {path} not found; pass --corpora DIR, or --builtin for the small synthetic texts"
        )
    try:
        return CorporaSource(path)
    except CorporaMissingError as exc:
        raise typer.BadParameter(str(exc)) from exc


@bench_app.command()
def generate(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder for exchanges.jsonl and labels.jsonl.")
    ],
    corpora: CorporaOpt = None,
    builtin: BuiltinOpt = False,
    scale: ScaleOpt = 1.0,
    seed: SeedOpt = 0,
    days: DaysOpt = 14,
) -> None:
    """Write exchanges.jsonl (exchange-log v1) and a separate labels.jsonl."""
    from distillwatch.bench.generate import generate as run_generate

    source = resolve_source(corpora, builtin)
    result = run_generate(out, source=source, scale=scale, seed=seed, calendar=_calendar(days))
    _console.print(
        f"wrote {result.exchanges:,} exchanges of {result.accounts:,} accounts "
        f"({result.attack_accounts:,} attacking) to {result.out_dir} in {result.seconds:.1f}s"
    )


@bench_app.command()
def score(
    data: Annotated[
        Path, typer.Option("--data", help="Folder with exchanges.jsonl and labels.jsonl.")
    ],
    scan: Annotated[Path, typer.Option("--scan", help="Scan output folder with accounts.jsonl.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score one scan output against the labels."""
    from distillwatch.bench.score import score as run_score

    for need in (data / "labels.jsonl", data / "exchanges.jsonl", scan / "accounts.jsonl"):
        if not need.is_file():
            raise typer.BadParameter(f"{need} not found")
    result = run_score(data, scan)
    if as_json:
        typer.echo(
            orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()
        )
    else:
        _console.print(render_table({scan.name or "scan": result}))


@bench_app.command()
def run(
    work: Annotated[
        Path,
        typer.Option("--work", help="Working folder: data/, scan/, baselines and scores.json."),
    ],
    corpora: CorporaOpt = None,
    builtin: BuiltinOpt = False,
    scale: ScaleOpt = 1.0,
    seed: SeedOpt = 0,
    days: DaysOpt = 14,
    layers: Annotated[
        bool,
        typer.Option(
            "--layers",
            help="Also scan with the content layer alone and with content + behaviour "
            "(no campaign evidence), to show what each layer adds.",
        ),
    ] = False,
) -> None:
    """Generate, scan with distillwatch, run both baselines, score all side by side."""
    from distillwatch.bench.baselines import keyword_baseline, rate_limit_baseline
    from distillwatch.bench.generate import generate as run_generate
    from distillwatch.bench.score import score as run_score

    source = resolve_source(corpora, builtin)
    data = work / "data"
    result = run_generate(data, source=source, scale=scale, seed=seed, calendar=_calendar(days))
    _console.print(
        f"generated {result.exchanges:,} exchanges, {result.accounts:,} accounts in {result.seconds:.1f}s"
    )
    scores: dict[str, dict[str, Any]] = {}
    try:
        from distillwatch.scan import run_scan
    except ImportError as exc:  # the scanner is optional for the baselines
        _console.print(
            f"[yellow]distillwatch scan unavailable ({exc}); scoring baselines only[/yellow]"
        )
    else:
        summary = run_scan([result.exchanges_path], work / "scan", resume=False)
        _console.print(f"scan: {summary}")
        scores["distillwatch"] = run_score(data, work / "scan")
        if layers:
            for top, label in (("behaviour", "without campaigns"), ("content", "content only")):
                config = work / f"layers-{top}.toml"
                config.write_text(f'[engine]\ntop_layer = "{top}"\n')
                out = work / f"scan-{top}"
                run_scan([result.exchanges_path], out, config=config, resume=False)
                scores[label] = run_score(data, out)
    rate_limit_baseline(result.exchanges_path, work / "baseline_rate")
    scores["rate limit"] = run_score(data, work / "baseline_rate")
    keyword_baseline(result.exchanges_path, work / "baseline_keyword")
    scores["CoT keywords"] = run_score(data, work / "baseline_keyword")
    meta = {
        "scale": scale,
        "seed": seed,
        "days": days,
        "source": getattr(source, "name", "?"),
        "exchanges": result.exchanges,
        "accounts": result.accounts,
        "attack_accounts": result.attack_accounts,
    }
    (work / "scores.json").write_bytes(
        orjson.dumps({"run": meta, "scores": scores}, option=orjson.OPT_INDENT_2)
    )
    _console.print(render_table(scores))
    _console.print(f"scores written to {work / 'scores.json'}")


# -- table ------------------------------------------------------------------


def _pct(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "–"
    s = float(seconds)
    return f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.0f} min"


def render_table(scores: dict[str, dict[str, Any]]) -> Table:
    """One table: overall metrics, then FPR per benign group, then TPR and leakage per campaign."""
    names = list(scores)
    table = Table(title="distillbench", show_lines=False)
    table.add_column("metric")
    for n in names:
        table.add_column(n, justify="right")

    def row(label: str, fn: Any) -> None:
        table.add_row(label, *(fn(scores[n]) for n in names))

    row("ROC-AUC of risk", lambda s: "–" if math.isnan(s["auc"]) else f"{s['auc']:.3f}")
    row("TPR (attack accounts flagged)", lambda s: _pct(s["tpr"]))
    row("FPR (benign accounts flagged)", lambda s: _pct(s["fpr"]))
    row("recall @ FPR ≤ 0.1%", lambda s: _pct(s["recall_at_fpr_0.1%"]))
    row("recall @ FPR ≤ 1%", lambda s: _pct(s["recall_at_fpr_1%"]))
    row("campaign recall (≥90% flagged)", lambda s: _pct(s["campaign_recall"]))
    row("leakage (attack exchanges served)", lambda s: _pct(s["leakage"]))
    row("median time to detection", lambda s: _duration(s["median_ttd_s"]))
    groups = sorted(next(iter(scores.values()))["groups"]) if scores else []
    for g in groups:
        if g.startswith("benign"):
            row(f"FPR {g}", lambda s, g=g: _pct(s["groups"].get(g, {}).get("fpr")))
    for g in groups:
        if not g.startswith("benign"):
            row(f"TPR {g}", lambda s, g=g: _pct(s["groups"].get(g, {}).get("tpr")))
            row(f"  leakage {g}", lambda s, g=g: _pct(s["groups"].get(g, {}).get("leakage")))
    return table


if __name__ == "__main__":  # python -m distillwatch.bench.cli ... (before the main CLI mounts it)
    bench_app()
