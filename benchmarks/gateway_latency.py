"""Latency and throughput the gateway adds, measured against direct calls in the same run.

Starts ``mock-upstream`` and ``distillwatch serve`` (the gateway under uvicorn,
with its engine worker process when detection is on) in subprocesses on
127.0.0.1, then for each upstream client (aiohttp, httpx) and detection off/on:

* latency: ``--requests`` sequential calls (concurrency 1) straight to the mock
  and as many through the gateway, alternating in blocks so that background
  load hits both alike; added latency = gateway percentile minus direct
  percentile;
* throughput: the same number of calls at each ``--concurrency`` level, direct
  and through the gateway (alternating blocks), in requests per second;
* CPU time per request of the serving process and of the engine worker, read
  from /proc during the throughput blocks: unlike wall-clock figures, it
  hardly moves when other jobs share the machine.

The load generator is a minimal keep-alive HTTP/1.1 client on raw asyncio
streams, so that what is measured is the servers, not a client library.

    python benchmarks/gateway_latency.py                    # full run (a few minutes)
    python benchmarks/gateway_latency.py --clients aiohttp  # the default client only
    python benchmarks/gateway_latency.py --store            # the worker also writes DuckDB
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

KEY = "sk-bench-0000000000000001"
PROMPTS = [
    "Summarise the causes of the French revolution in three sentences.",
    "Write a Python function that merges two sorted lists.",
    "What is the capital of Australia and why was it chosen?",
    "Explain the difference between TCP and UDP for a new engineer.",
    "Translate 'good morning, how are you' into Spanish and German.",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process (Linux /proc), None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@contextlib.contextmanager
def process(args: list[str], port: int) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_ready(port)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request_bytes(i: int) -> bytes:
    body = orjson.dumps(
        {
            "model": "mock-small",
            "messages": [{"role": "user", "content": f"{PROMPTS[i % len(PROMPTS)]} ({i % 97})"}],
        }
    )
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        b"authorization: Bearer "
        + KEY.encode()
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        await reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def run_load(port: int, total: int, concurrency: int) -> tuple[list[float], float]:
    """Per-request latencies (ms) and overall requests/second."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for i in counter:
                payload = request_bytes(i)
                started = time.perf_counter()
                writer.write(payload)
                status = await read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000.0)
                if status != 200:
                    raise RuntimeError(f"status {status}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return latencies, total / elapsed


BLOCKS = 10  # direct and gateway alternate in this many blocks, so background load hits both alike


async def interleaved_latency(
    direct_port: int, gw_port: int, total: int
) -> tuple[list[float], list[float]]:
    direct: list[float] = []
    through: list[float] = []
    for _ in range(BLOCKS):
        direct += (await run_load(direct_port, total // BLOCKS, 1))[0]
        through += (await run_load(gw_port, total // BLOCKS, 1))[0]
    return direct, through


async def interleaved_throughput(
    direct_port: int, gw_port: int, total: int, concurrency: int, gw_pid: int
) -> tuple[float, float, float | None, float | None]:
    """Requests/second direct and through the gateway (alternating blocks of ``total`` calls
    each), and the CPU microseconds per gateway request of the serving process and its worker."""
    elapsed = {direct_port: 0.0, gw_port: 0.0}
    block = max(concurrency, total // (BLOCKS // 2))
    serving_cpu = worker_cpu = 0.0
    measured = True
    for _ in range(BLOCKS // 2):
        for port in (direct_port, gw_port):
            workers = child_pids(gw_pid) if port == gw_port else []
            before = [cpu_seconds(gw_pid), *(cpu_seconds(w) for w in workers)]
            _, rate = await run_load(port, block, concurrency)
            elapsed[port] += block / rate
            if port == gw_port:
                await asyncio.sleep(0.3)  # the worker's share of this block: let it finish
                after = [cpu_seconds(gw_pid), *(cpu_seconds(w) for w in workers)]
                if None in before or None in after:
                    measured = False
                    continue
                serving_cpu += after[0] - before[0]
                worker_cpu += sum(after[1:]) - sum(before[1:])
    done = block * (BLOCKS // 2)
    if not measured:
        return done / elapsed[direct_port], done / elapsed[gw_port], None, None
    return (
        done / elapsed[direct_port],
        done / elapsed[gw_port],
        serving_cpu / done * 1e6,
        worker_cpu / done * 1e6,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def write_config(folder: Path, upstream_client: str, mock_port: int) -> Path:
    import hashlib

    path = folder / f"gateway-{upstream_client}.toml"
    path.write_text(
        f"""[gateway]
upstream = "http://127.0.0.1:{mock_port}"
upstream_client = "{upstream_client}"
decision_header = ""

[[accounts]]
key_sha256 = "{hashlib.sha256(KEY.encode()).hexdigest()}"
account_id = "acct_bench"
"""
    )
    return path


GATEWAY_RUNNER = """
import sys
from pathlib import Path
from distillwatch.gateway.cli import serve
upstream, config, port, detection = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "on"
db = Path(sys.argv[5]) if len(sys.argv) > 5 else None
serve(upstream, Path(config), host="127.0.0.1", port=port, db=db, detection=detection)
"""
MOCK_RUNNER = """
import sys
from distillwatch.gateway.cli import mock_upstream
mock_upstream(host="127.0.0.1", port=int(sys.argv[1]), delay_ms=0.0)
"""


def measure_assess(total: int) -> tuple[float, float] | None:
    """p50/p99 (ms) of ``Engine.assess`` alone, after ``Engine.observe`` of the same traffic.

    The share of the detection-on latency that is the engine's, not the gateway's.
    """
    try:
        from distillwatch.engine import Engine
        from distillwatch.ingest.parse import parse_record
    except ImportError:
        return None
    engine = Engine()
    records = [
        {
            "id": f"b{i}",
            "ts": 1_700_000_000 + i,
            "account_id": f"acct_{i % 20}",
            "api": "openai.chat.completions",
            "request": orjson.loads(request_bytes(i).split(b"\r\n\r\n", 1)[1]),
            "response": {
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]
            },
        }
        for i in range(total)
    ]
    for record in records:
        engine.observe(parse_record(record))
    timings = []
    for record in records:
        exchange = parse_record({k: v for k, v in record.items() if k != "response"})
        started = time.perf_counter()
        engine.assess(exchange)
        timings.append((time.perf_counter() - started) * 1000.0)
    return pct(timings, 0.5), pct(timings, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="calls per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--clients", nargs="+", default=["aiohttp", "httpx"])
    parser.add_argument("--detection", nargs="+", default=["off", "on"])
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds over every configuration (interleaved); the table gives median (min-max)",
    )
    parser.add_argument(
        "--store", action="store_true", help="record into a DuckDB file (as in production)"
    )
    args = parser.parse_args()

    from distillwatch.gateway.cli import uvicorn_options

    options = uvicorn_options()
    try:
        import distillwatch.engine  # noqa: F401

        engine_note = "real Engine"
    except ImportError:
        engine_note = "engine not importable: 'on' runs without detection"
    print(
        f"# cores={os.cpu_count()} python={sys.version.split()[0]} loop={options.get('loop', 'asyncio')} "
        f"http={options.get('http', 'h11')} requests={args.requests} detection-on={engine_note} "
        f"store={'duckdb' if args.store else 'none'} repeat={args.repeat} load={load_average()}"
    )
    assess = measure_assess(args.requests) if "on" in args.detection else None
    if assess is not None:
        print(
            f"# Engine.assess alone (in process, after observing the same traffic): p50={assess[0]:.3f} ms p99={assess[1]:.3f} ms"
        )
    mock_port = free_port()
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        process(["-c", MOCK_RUNNER, str(mock_port)], mock_port),
    ):
        asyncio.run(run_load(mock_port, 200, 4))  # warm-up
        for round_no in range(args.repeat):
            for client in args.clients:
                config = write_config(Path(tmp), client, mock_port)
                for detection in args.detection:
                    db = Path(tmp) / f"gw-{client}-{detection}-{round_no}.duckdb"
                    row = measure_gateway(
                        mock_port, config, client, detection, args, db if args.store else None
                    )
                    rows.append(row)
                    print_row(row, args.concurrency)
    print()
    level = args.concurrency[0]
    print(
        "| upstream client | detection | added p50 ms | added p99 ms | "
        + " | ".join(f"req/s c={c} (direct)" for c in args.concurrency)
        + f" | CPU µs/request c={level}: serving + worker |"
    )
    print("|---|---|---|---|" + "---|" * (len(args.concurrency) + 1))
    for client in args.clients:
        for detection in args.detection:
            mine = [r for r in rows if r["client"] == client and r["detection"] == detection]
            cells = [
                client,
                detection,
                spread([r["gw_p50"] - r["direct_p50"] for r in mine], "{:.2f}"),
                spread([r["gw_p99"] - r["direct_p99"] for r in mine], "{:.2f}"),
            ]
            cells += [
                spread([r[f"gw_rps_c{c}"] for r in mine], "{:.0f}")
                + f" ({statistics.median(r[f'direct_rps_c{c}'] for r in mine):.0f})"
                for c in args.concurrency
            ]
            serving = [r[f"cpu_c{level}"][0] for r in mine if r[f"cpu_c{level}"][0] is not None]
            worker = [r[f"cpu_c{level}"][1] for r in mine if r[f"cpu_c{level}"][1] is not None]
            cells.append(
                f"{spread(serving, '{:.0f}')} + {spread(worker, '{:.0f}')}" if serving else "n/a"
            )
            print("| " + " | ".join(cells) + " |")
    print(f"# load average at the end: {load_average()}")


def measure_gateway(
    mock_port: int,
    config: Path,
    client: str,
    detection: str,
    args: argparse.Namespace,
    db: Path | None,
) -> dict:
    """One gateway process (and its worker): latency at concurrency 1, then throughput and CPU."""
    gw_port = free_port()
    runner = ["-c", GATEWAY_RUNNER, f"http://127.0.0.1:{mock_port}", str(config), str(gw_port)]
    runner.append(detection)
    if db is not None:
        runner.append(str(db))
    with process(runner, gw_port) as gateway:
        asyncio.run(run_load(gw_port, 300, 8))  # warm-up (pools, caches)
        direct, through = asyncio.run(interleaved_latency(mock_port, gw_port, args.requests))
        row = {
            "client": client,
            "detection": detection,
            "direct_p50": pct(direct, 0.5),
            "direct_p99": pct(direct, 0.99),
            "gw_p50": pct(through, 0.5),
            "gw_p99": pct(through, 0.99),
            "load": load_average(),
        }
        for level in args.concurrency:
            direct_rps, gw_rps, serving_us, worker_us = asyncio.run(
                interleaved_throughput(mock_port, gw_port, args.requests, level, gateway.pid)
            )
            row[f"direct_rps_c{level}"] = direct_rps
            row[f"gw_rps_c{level}"] = gw_rps
            row[f"cpu_c{level}"] = (serving_us, worker_us)
    return row


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def spread(values: list[float], fmt: str) -> str:
    """``median (min–max)``, or the one value."""
    if len(values) == 1:
        return fmt.format(values[0])
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{fmt.format(mid)} ({fmt.format(low)}–{fmt.format(high)})"


def format_cpu(cpu: tuple[float | None, float | None]) -> str:
    serving, worker = cpu
    if serving is None:
        return "n/a"
    return f"{serving:.0f} + {worker:.0f}"


def print_row(row: dict, levels: list[int]) -> None:
    print(
        f"{row['client']:8s} detection={row['detection']:3s} load={row['load']} "
        f"direct p50={row['direct_p50']:.3f} p99={row['direct_p99']:.3f} ms | "
        f"gateway p50={row['gw_p50']:.3f} p99={row['gw_p99']:.3f} ms | "
        f"added p50={row['gw_p50'] - row['direct_p50']:.3f} p99={row['gw_p99'] - row['direct_p99']:.3f} ms | "
        + " ".join(
            f"c={c}: {row[f'gw_rps_c{c}']:.0f} req/s (direct {row[f'direct_rps_c{c}']:.0f}, "
            f"ratio {row[f'gw_rps_c{c}'] / row[f'direct_rps_c{c}']:.2f}, "
            f"CPU µs/req serving + worker {format_cpu(row[f'cpu_c{c}'])})"
            for c in levels
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
