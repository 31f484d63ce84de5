"""Entry points the main CLI wires up as ``distillwatch serve`` and ``distillwatch mock-upstream``.

Plain functions rather than a Typer app, so the lead's CLI owns option names
and help text in one place.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

__all__ = ["serve", "mock_upstream", "uvicorn_options", "build_engine"]

log = logging.getLogger("distillwatch.gateway")


def uvicorn_options() -> dict[str, Any]:
    """uvloop and httptools when installed (measurably faster), uvicorn's defaults otherwise.

    ``proxy_headers`` is off: uvicorn would otherwise rewrite the client address
    from ``X-Forwarded-For`` for its own list of trusted peers (127.0.0.1 by
    default) before the gateway sees it; the gateway reads forwarding headers
    itself, from its configured ``trusted_proxies`` only.
    """
    options: dict[str, Any] = {
        "access_log": False,
        "lifespan": "on",
        "log_level": "warning",
        "proxy_headers": False,
    }
    if importlib.util.find_spec("uvloop") is not None:
        options["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    return options


def build_engine(store: Any | None) -> Any | None:
    """The detection engine (resumed from the store's snapshot when there is one), or None if unavailable."""
    try:
        from distillwatch.engine import Engine
    except ImportError as exc:  # the gateway still proxies and records without detection
        log.warning("detection engine unavailable (%s): running as a recording proxy", exc)
        return None
    if store is not None:
        blob = store.load_state("engine")
        if blob:
            return Engine.from_state_bytes(blob)
    return Engine()


def serve(
    upstream: str,
    config: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    db: Path | None = None,
    detection: bool = True,
) -> None:
    """Run the gateway in front of ``upstream`` until interrupted; flushes the log on exit.

    The engine, the store and the JSONL log run in the engine worker process
    (see :mod:`distillwatch.gateway.worker`), which saves the engine into the
    store when it stops; this process only serves.
    """
    import uvicorn

    from distillwatch.gateway.app import WorkerSpec, create_app
    from distillwatch.gateway.config import load_config

    settings = load_config(config, upstream=upstream)
    spec = WorkerSpec(
        db=str(db) if db is not None else None,
        jsonl=str(settings.recorder.jsonl) if settings.recorder.jsonl is not None else None,
        detection=detection,
    )
    app = create_app(settings, worker=spec if spec.needed else None)
    uvicorn.run(app, host=host, port=port, **uvicorn_options())


def mock_upstream(host: str = "127.0.0.1", port: int = 9000, delay_ms: float = 0.0) -> None:
    """Run the fake provider (OpenAI chat/responses, Anthropic messages) until interrupted."""
    import uvicorn

    from distillwatch.gateway.mock_upstream import create_mock_app

    uvicorn.run(create_mock_app(delay_ms=delay_ms), host=host, port=port, **uvicorn_options())
