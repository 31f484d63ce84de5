"""distillwatch as a LiteLLM proxy guardrail: one config entry for teams that already run LiteLLM.

LiteLLM is large and optional, so its base class is imported only if it is
installed; without it the class still works (and is tested) as a plain object
with the same hook methods. Configuration comes from keyword arguments or,
when LiteLLM builds the object itself, from environment variables:
``DISTILLWATCH_GATEWAY_CONFIG`` (the gateway TOML: policy, buckets, recorder)
and ``DISTILLWATCH_DB`` (the store file). See docs/gateway.md.
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from distillwatch.gateway.config import GatewayConfig, load_config
from distillwatch.gateway.engine_gate import EngineGate
from distillwatch.gateway.metrics import GatewayMetrics
from distillwatch.gateway.policy import Decision, PolicyEngine
from distillwatch.gateway.ratelimit import Throttle
from distillwatch.gateway.recorder import PendingExchange, Recorder
from distillwatch.gateway.streams import API_CHAT, API_MESSAGES, API_RESPONSES, strip_reasoning

try:  # optional: only present inside a LiteLLM proxy
    from litellm.integrations.custom_guardrail import CustomGuardrail as _GuardrailBase
except ImportError:  # pragma: no cover - depends on the environment
    _GuardrailBase = object

__all__ = ["DistillwatchGuardrail", "GuardrailRefusal", "CALL_TYPES"]

log = logging.getLogger("distillwatch.gateway.litellm")

CALL_TYPES = {
    "completion": API_CHAT,
    "acompletion": API_CHAT,
    "responses": API_RESPONSES,
    "aresponses": API_RESPONSES,
    "anthropic_messages": API_MESSAGES,
}
# LiteLLM adds its own bookkeeping (and sometimes credentials) to the request dict; none of it is
# what the caller sent, so none of it goes into the exchange log.
_INTERNAL_KEYS = frozenset(
    {
        "metadata",
        "litellm_metadata",
        "proxy_server_request",
        "secret_fields",
        "api_key",
        "api_base",
        "api_version",
        "litellm_call_id",
        "litellm_logging_obj",
        "user_api_key_dict",
        "guardrails",
        "mock_response",
    }
)
_MAX_IN_FLIGHT = 100_000


class GuardrailRefusal(Exception):
    """Raised to refuse a call; carries the HTTP status LiteLLM should answer with."""

    def __init__(self, status_code: int, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.detail = {"error": message}
        self.retry_after = retry_after


def _refusal(status: int, message: str, retry_after: float | None) -> Exception:
    """FastAPI's HTTPException when available (LiteLLM turns it into an API error), else ours."""
    try:
        from fastapi import HTTPException
    except ImportError:
        return GuardrailRefusal(status, message, retry_after)
    headers = {"Retry-After": str(int(retry_after))} if retry_after else None
    return HTTPException(status_code=status, detail={"error": message}, headers=headers)


@dataclass(slots=True)
class _InFlight:
    record: dict[str, Any]
    started: float
    decision: Decision


def _as_dict(obj: Any) -> dict[str, Any] | None:
    if isinstance(obj, dict):
        return obj
    for method in ("model_dump", "dict", "json"):
        fn = getattr(obj, method, None)
        if callable(fn):
            try:
                value = fn()
            except Exception:  # pydantic v1/v2 differences: try the next one
                continue
            if isinstance(value, dict):
                return value
    return None


class DistillwatchGuardrail(_GuardrailBase):  # type: ignore[misc, valid-type]
    """Assess and enforce before the call (``pre_call``), record and learn after it."""

    def __init__(
        self,
        *,
        engine: Any | None = None,
        config: GatewayConfig | None = None,
        store: Any | None = None,
        recorder: Recorder | None = None,
        **kwargs: Any,
    ):
        if _GuardrailBase is object:
            self.guardrail_name = kwargs.get("guardrail_name", "distillwatch")
            self.event_hook = kwargs.get("event_hook", "pre_call")
        else:  # pragma: no cover - exercised only inside LiteLLM
            super().__init__(**kwargs)
        if config is None:
            config = load_config(os.environ.get("DISTILLWATCH_GATEWAY_CONFIG") or None)
        if store is None and os.environ.get("DISTILLWATCH_DB"):
            from distillwatch.store import open_store

            store = open_store(os.environ["DISTILLWATCH_DB"])
        if engine is None and kwargs.get("guardrail_name") is not None:
            from distillwatch.gateway.cli import build_engine

            engine = build_engine(store)  # built by LiteLLM from its config: detection on
        self.config = config
        self.engine = engine
        self.metrics = GatewayMetrics()
        self.policy = PolicyEngine(config.policy, Throttle(config.ratelimit))
        self.engine_gate = EngineGate(engine) if engine is not None else None
        self.recorder = recorder or Recorder(
            store=store,
            jsonl=config.recorder.jsonl,
            observe=self._observe if engine is not None else None,
            metrics=self.metrics,
            queue_size=config.recorder.queue_size,
            batch_size=config.recorder.batch_size,
            flush_interval_s=config.recorder.flush_interval_s,
        )
        self._in_flight: OrderedDict[str, _InFlight] = OrderedDict()
        atexit.register(self.close)

    def close(self) -> None:
        """Flush the recorder (also registered with atexit)."""
        self.recorder.close(self.config.recorder.shutdown_timeout_s)

    def _observe(self, record: dict[str, Any]) -> None:
        from distillwatch.ingest.parse import parse_record

        self.engine_gate.observe(parse_record(record))

    @staticmethod
    def _account(user_api_key_dict: Any) -> tuple[str, str | None, str | None]:
        """``(account_id, org_id, api_key_id)`` from LiteLLM's key record (its token is already hashed)."""
        get = (
            user_api_key_dict.get
            if isinstance(user_api_key_dict, dict)
            else lambda name: getattr(user_api_key_dict, name, None)
        )
        token = get("token") or get("api_key")
        key_id = f"key_{str(token)[:12]}" if token else None
        account = (
            get("user_id")
            or get("team_id")
            or (f"litellm:{key_id}" if key_id else "litellm:anonymous")
        )
        return str(account), get("org_id"), key_id

    def _call_key(self, data: dict[str, Any]) -> str:
        key = data.get("litellm_call_id")
        if not key:
            key = f"dw_{time.time_ns():x}{os.urandom(4).hex()}"
            data["litellm_call_id"] = key
        return str(key)

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: str
    ) -> dict[str, Any]:
        """Assess the request and refuse it (raise) or let it through (return ``data``)."""
        api = CALL_TYPES.get(str(call_type))
        if api is None:
            return data
        account_id, org_id, key_id = self._account(user_api_key_dict)
        request = {
            k: v
            for k, v in data.items()
            if k not in _INTERNAL_KEYS and not k.startswith("litellm_")
        }
        call_key = self._call_key(data)
        record: dict[str, Any] = {
            "id": call_key,
            "ts": time.time(),
            "account_id": account_id,
            "api": api,
            "request": request,
            "client": {"access_path": "litellm"},
        }
        if org_id:
            record["org_id"] = str(org_id)
        if key_id:
            record["api_key_id"] = key_id
        assessment = None
        decision: Decision | None = None
        if self.engine is not None and account_id not in self.policy.overrides:
            try:
                from distillwatch.ingest.parse import parse_record

                assessment = self.engine_gate.assess(parse_record(record))
            except Exception:
                self.metrics.engine_errors.inc()
                log.exception(
                    "distillwatch assessment failed (fail_mode=%s)", self.config.fail_mode
                )
                if self.config.fail_mode == "closed":
                    decision = Decision(
                        action="unavailable", reasons=["engine error, failing closed"]
                    )
        if decision is None:
            decision = self.policy.decide(account_id, assessment)
        if decision.action != "allow":
            record["gateway"] = decision.log_view()
        self.metrics.requests.inc(api, decision.action)
        if decision.refused:
            record["status"] = decision.status
            self.recorder.submit(PendingExchange(record))
            message = {
                "block": "this request was refused under the provider's usage policy",
                "rate_limited": "rate limit exceeded, retry later",
                "unavailable": "service temporarily unavailable, retry later",
            }[decision.action]
            raise _refusal(decision.status, message, decision.retry_after)
        self._in_flight[call_key] = _InFlight(record, time.perf_counter(), decision)
        if len(self._in_flight) > _MAX_IN_FLIGHT:
            self._in_flight.popitem(last=False)  # calls whose post hook never came
        return data

    async def async_post_call_success_hook(
        self, data: dict[str, Any], user_api_key_dict: Any, response: Any
    ) -> Any:
        """Record the exchange (and feed the engine) off the response path; withhold reasoning if decided."""
        pending = self._in_flight.pop(str(data.get("litellm_call_id")), None)
        if pending is None:
            return response
        record = pending.record
        if pending.decision.withhold_reasoning:
            response = self._withhold(record["api"], response)
        body = _as_dict(response)
        if body is not None:
            record["response"] = body
        record["status"] = 200
        record["latency_ms"] = round((time.perf_counter() - pending.started) * 1000.0, 3)
        self.recorder.submit(PendingExchange(record))
        return response

    async def async_post_call_failure_hook(
        self,
        request_data: dict[str, Any],
        original_exception: Exception,
        user_api_key_dict: Any,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Record failed calls too (without a response), and forget their in-flight state."""
        pending = self._in_flight.pop(str(request_data.get("litellm_call_id")), None)
        if pending is None:
            return
        record = pending.record
        record["status"] = int(getattr(original_exception, "status_code", 500) or 500)
        record["latency_ms"] = round((time.perf_counter() - pending.started) * 1000.0, 3)
        self.recorder.submit(PendingExchange(record))

    @staticmethod
    def _withhold(api: str, response: Any) -> Any:
        body = response if isinstance(response, dict) else None
        if body is not None:
            strip_reasoning(api, body)
            return body
        for choice in getattr(response, "choices", None) or ():  # LiteLLM ModelResponse objects
            message = getattr(choice, "message", None)
            for attr in ("reasoning_content", "thinking_blocks"):
                if message is not None and getattr(message, attr, None) is not None:
                    setattr(message, attr, None)
        return response
