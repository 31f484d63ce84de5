"""Shared fixtures for the gateway tests: a fake engine, a fake store, an in-process gateway."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx

from distillwatch.detectors.base import Signal
from distillwatch.engine import AccountVerdict, Assessment
from distillwatch.gateway import create_app
from distillwatch.gateway.config import AccountEntry, GatewayConfig
from distillwatch.gateway.keys import hash_key
from distillwatch.gateway.mock_upstream import create_mock_app
from distillwatch.gateway.worker import WorkerSpec

GOOD_KEY = "sk-test-good-0001"
SECOND_KEY = "sk-test-second-0002"
ANTHROPIC_HEADERS = {"x-api-key": GOOD_KEY, "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": f"Bearer {GOOD_KEY}"}

CHAT = {"model": "mock-small", "messages": [{"role": "user", "content": "Explain binary search."}]}
RESPONSES = {"model": "mock-small", "input": "Explain binary search."}
MESSAGES = {
    "model": "mock-small",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Explain binary search."}],
}
REQUESTS = {
    "/v1/chat/completions": (CHAT, OPENAI_HEADERS),
    "/v1/responses": (RESPONSES, OPENAI_HEADERS),
    "/v1/messages": (MESSAGES, ANTHROPIC_HEADERS),
}
REASONING_ON = {
    "/v1/chat/completions": {"reasoning_effort": "high"},
    "/v1/responses": {"reasoning": {"effort": "high", "summary": "auto"}},
    "/v1/messages": {"thinking": {"type": "enabled", "budget_tokens": 1024}},
}


def make_config(**overrides: Any) -> GatewayConfig:
    accounts = [
        AccountEntry(
            key_sha256=hash_key(GOOD_KEY), account_id="acct_1", org_id="org_1", tier="startup"
        ),
        AccountEntry(key_sha256=hash_key(SECOND_KEY), account_id="acct_2"),
    ]
    settings: dict[str, Any] = {"accounts": accounts, "admin_token": "admin-secret"}
    settings.update(overrides)
    return GatewayConfig(**settings)


class FakeStore:
    """Records what the gateway writes; thread-safe like the real store is used."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []
        self.signals: list[dict[str, Any]] = []
        self.state: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def append_exchanges(self, rows: list[dict]) -> None:
        with self._lock:
            self.exchanges.extend(rows)

    def append_signals(self, rows: list[dict]) -> None:
        with self._lock:
            self.signals.extend(rows)

    def save_state(self, key: str, blob: bytes) -> None:
        self.state[key] = blob

    def load_state(self, key: str) -> bytes | None:
        return self.state.get(key)

    def verdict_history(self, account_id: str) -> list[dict]:
        return [{"account_id": account_id, "verdict": "benign"}]


class FakeEngine:
    """Returns configured verdicts per account; remembers what it assessed and observed."""

    def __init__(
        self,
        verdicts: dict[str, str] | None = None,
        *,
        campaign: tuple[str, float] | None = None,
        family: tuple[str, bool] | None = None,
        fail: bool = False,
    ):
        self.verdicts = verdicts or {}
        self.campaign = campaign
        self.family = family
        self.fail = fail
        self.assessed: list[Any] = []
        self.observed: list[Any] = []
        self.last_signals: list[Signal] = []  # as Engine: of the latest observed exchange
        self.last_family: str | None = None

    def _verdict(self, account_id: str) -> AccountVerdict | None:
        verdict = self.verdicts.get(account_id)
        if verdict is None:
            return None
        risk = {"benign": 0.05, "suspicious": 0.6, "distillation": 0.95}[verdict]
        evidence = [Signal("test.signal", risk, "fake evidence")]
        return AccountVerdict(account_id, risk, verdict, 1.0, None, ["reasoning"], evidence, 3)

    def assess(self, ex: Any) -> Assessment:
        if self.fail:
            raise RuntimeError("engine exploded")
        self.assessed.append(ex)
        campaign_id, campaign_risk = self.campaign or (None, 0.0)
        family_id, flagged = self.family or (None, False)
        return Assessment(
            [Signal("test.signal", 0.1, "x")],
            0.1,
            self._verdict(ex.account_id),
            family_id,
            flagged,
            campaign_id,
            campaign_risk,
        )

    def observe(self, ex: Any) -> AccountVerdict:
        self.observed.append(ex)
        self.last_signals = [Signal("test.observed", 0.2, "x")]
        self.last_family = "tpl_0000abcd"
        return self._verdict(ex.account_id) or AccountVerdict(
            ex.account_id, 0.0, "benign", None, None, [], [], 1
        )

    def account_verdicts(self) -> list[AccountVerdict]:
        return [v for a in self.verdicts if (v := self._verdict(a)) is not None]

    def campaigns(self) -> list[dict]:
        return [{"campaign_id": "cmp_1", "accounts": sorted(self.verdicts), "risk": 0.9}]


def distillation_engine(store: Any) -> FakeEngine:
    """Engine factory for the worker process (pickled by name): acct_2 is a distiller."""
    return FakeEngine({"acct_2": "distillation"})


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps an httpx transport and counts the requests that reached the upstream."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.calls: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        return await self.inner.handle_async_request(request)


def mock_transport(**mock_options: Any) -> CountingTransport:
    return CountingTransport(httpx.ASGITransport(create_mock_app(**mock_options)))


@contextlib.asynccontextmanager
async def running_gateway(
    config: GatewayConfig | None = None,
    *,
    engine: Any = None,
    transport: Any = None,
    store: Any = None,
    worker: WorkerSpec | None = None,
    client_address: tuple[str, int] = ("198.51.100.7", 40000),
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """Gateway with lifespan running, and a client talking to it in-process."""
    app = create_app(
        config or make_config(),
        engine=engine,
        transport=transport or mock_transport(),
        store=store,
        worker=worker,
    )
    async with app.router.lifespan_context(app):
        client_transport = httpx.ASGITransport(app, client=client_address)
        async with httpx.AsyncClient(
            transport=client_transport, base_url="http://gateway"
        ) as client:
            yield app, client
