"""The ``distillwatch`` command line.

Exit codes: 0 success; 2 usage error (bad option, no input given); 3 an input
or config file is missing or unreadable; 4 the output folder or the store
cannot be written. Bad *lines* inside an input never change the exit code:
they are counted and written to ``rejected.jsonl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["app", "main"]

app = typer.Typer(
    name="distillwatch",
    help="Find, explain and stop distillation attacks against an LLM API.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
if not console.is_terminal:  # piped output: wide enough that ids and numbers stay on one line
    console = Console(width=160)
err_console = Console(stderr=True)


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def scan(
    logs: Annotated[
        list[Path], typer.Argument(help="Exchange logs: .jsonl, .jsonl.gz, .jsonl.zst or .parquet.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created if missing).")],
    db: Annotated[
        Path | None, typer.Option(help="DuckDB store; default OUT/distillwatch.duckdb.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with [detectors.<name>] options.")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Ignore saved state in the store.")
    ] = False,
    top: Annotated[int, typer.Option(help="Rows in the printed tables.")] = 10,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Content-detection processes beside the engine (0: none; "
            "default: one per core for logs over 32 MB)."
        ),
    ] = None,
) -> None:
    """Scan exchange logs; write accounts.jsonl, campaigns.jsonl, rejected.jsonl and report.html."""
    from distillwatch.scan import ScanError, run_scan

    try:
        summary = run_scan(
            logs,
            out,
            db=db,
            config=config,
            progress=console.is_terminal,
            resume=not fresh,
            workers=workers,
        )
    except ScanError as exc:
        _fail(str(exc), exc.exit_code)
        return
    print_results(out, summary, top)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_results(out: Path, summary, top: int = 10) -> None:
    """Coloured summary tables of a finished scan."""
    import orjson

    accounts = [orjson.loads(line) for line in (out / "accounts.jsonl").read_bytes().splitlines()]
    campaigns = [orjson.loads(line) for line in (out / "campaigns.jsonl").read_bytes().splitlines()]
    console.print(
        f"[bold]{summary.lines:,}[/] lines: [green]{summary.read:,} read[/], "
        f"[{'red' if summary.rejected else 'green'}]{summary.rejected:,} rejected[/] "
        f"in {summary.seconds:.1f} s" + (" (continued from saved state)" if summary.resumed else "")
    )
    console.print(
        f"{summary.accounts:,} accounts, [bold red]{summary.flagged:,} flagged[/], "
        f"{summary.campaigns:,} campaigns"
    )
    if campaigns:
        t = Table(title="Top campaigns", header_style="bold magenta")
        for col in ("campaign", "risk", "accounts", "exchanges"):
            t.add_column(col, no_wrap=True)
        t.add_column("summary", overflow="fold")
        for c in campaigns[:top]:
            t.add_row(
                c["campaign_id"],
                f"{c['risk']:.2f}",
                str(len(c["accounts"])),
                f"{c['exchanges']:,}",
                _shorten(c["summary"], 200),
            )
        console.print(t)
    flagged = [a for a in accounts if a["verdict"] != "benign"]
    if flagged:
        t = Table(title="Top accounts", header_style="bold cyan")
        for col in ("account", "risk", "verdict", "exchanges", "campaign"):
            t.add_column(col, no_wrap=True)
        t.add_column("strongest evidence", overflow="fold")
        for a in flagged[:top]:
            colour = "red" if a["verdict"] == "distillation" else "yellow"
            ev = _shorten(a["evidence"][0]["detail"], 90) if a["evidence"] else ""
            t.add_row(
                a["account_id"],
                f"{a['risk']:.2f}",
                f"[{colour}]{a['verdict']}[/]",
                f"{a['exchanges']:,}",
                a["campaign_id"] or "-",
                ev,
            )
        console.print(t)
    console.print(
        f"report: [link=file://{(out / 'report.html').resolve()}]{out / 'report.html'}[/link]"
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Working folder.")] = Path(
        "distillwatch-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic traffic.")] = 7,
) -> None:
    """Generate synthetic traffic (no external data), scan it and show what was found."""
    from distillwatch.bench.generate import generate
    from distillwatch.bench.textsource import BuiltinSource
    from distillwatch.scan import ScanError, run_scan

    data = out / "data"
    console.print("[bold]1/2[/] generating synthetic traffic with the built-in text source ...")
    gen = generate(data, source=BuiltinSource(), scale=0.1, seed=seed)
    console.print(f"    {gen.exchanges:,} exchanges from {gen.accounts:,} accounts -> {data}")
    console.print("[bold]2/2[/] scanning ...")
    try:
        summary = run_scan(
            [data / "exchanges.jsonl"], out / "scan", progress=console.is_terminal, resume=False
        )
    except ScanError as exc:
        _fail(str(exc), exc.exit_code)
        return
    print_results(out / "scan", summary)
    from distillwatch.bench.score import score

    result = score(data, out / "scan")
    console.print(
        f"against the demo's own labels: {result['tpr']:.1%} of attack accounts flagged, "
        f"{result['fpr']:.2%} of benign accounts flagged, ROC-AUC {result['auc']:.4f}"
    )


@app.command("export-stix")
def export_stix(
    scan_dir: Annotated[Path, typer.Argument(help="A scan output folder (reads campaigns.jsonl).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the STIX 2.1 bundle.")],
    producer: Annotated[
        str, typer.Option(help="Name of your organisation, as the producer.")
    ] = "distillwatch",
) -> None:
    """Export the campaigns' shareable indicators as a STIX 2.1 bundle for peers."""
    import orjson

    from distillwatch.campaign.stix import campaigns_to_stix

    path = scan_dir / "campaigns.jsonl"
    if not path.is_file():
        _fail(f"{path} does not exist: run a scan into {scan_dir} first", 3)
    campaigns = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    try:
        out.write_text(campaigns_to_stix(campaigns, producer=producer), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}", 4)
    console.print(f"{len(campaigns)} campaigns exported to {out}")


@app.command()
def serve(
    upstream: Annotated[str, typer.Option(help="Base URL of the model API to protect.")],
    config: Annotated[
        Path | None, typer.Option(help="Gateway TOML (keys, policy, admin token).")
    ] = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8080,
    db: Annotated[Path | None, typer.Option(help="DuckDB store for exchanges and state.")] = None,
    detection: Annotated[
        bool,
        typer.Option(
            "--detection/--no-detection", help="Score and enforce, or only proxy and log."
        ),
    ] = True,
) -> None:
    """Run the inline gateway: proxy, log, score and enforce in real time."""
    from distillwatch.gateway.cli import serve as run_serve

    run_serve(upstream=upstream, config=config, host=host, port=port, db=db, detection=detection)


@app.command("mock-upstream")
def mock_upstream(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 9090,
    delay_ms: Annotated[float, typer.Option(help="Added delay per response.")] = 0.0,
) -> None:
    """A local fake provider speaking the OpenAI and Anthropic APIs (for demos and tests)."""
    from distillwatch.gateway.cli import mock_upstream as run_mock

    run_mock(host=host, port=port, delay_ms=delay_ms)


def _mount_bench() -> None:
    try:
        from distillwatch.bench.cli import bench_app
    except ImportError:  # pragma: no cover - only while the bench module is absent
        return
    app.add_typer(
        bench_app, name="bench", help="distillbench: labelled traffic and detection metrics."
    )


_mount_bench()


def main() -> None:
    app()
