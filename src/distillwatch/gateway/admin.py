"""Admin API: current verdicts, campaigns and manual allow/deny overrides.

Protected by one bearer token from the configuration, compared in constant
time. With no token configured the admin API answers 404 to everything, so a
forgotten setting never leaves it open.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from distillwatch.gateway.backend import BackendUnavailable
from distillwatch.gateway.policy import OVERRIDE_ACTIONS
from distillwatch.ingest.parse import to_rfc3339

if TYPE_CHECKING:
    from distillwatch.gateway.app import Gateway

__all__ = ["admin_routes", "verdict_dict"]


def verdict_dict(verdict: Any) -> dict[str, Any]:
    """An AccountVerdict as the scan-output ``accounts.jsonl`` record (evidence as signal/score/detail)."""
    data = asdict(verdict) if is_dataclass(verdict) else dict(verdict)
    data["evidence"] = [
        {
            "signal": e.get("name", e.get("signal")),
            "score": e.get("score"),
            "detail": e.get("detail"),
        }
        for e in data.get("evidence", [])
    ]
    if isinstance(data.get("first_flagged_ts"), int | float):
        data["first_flagged_ts"] = to_rfc3339(data["first_flagged_ts"])
    return data


Handler = Callable[[Request], Awaitable[Response]]


def _unavailable_is_503(handler: Handler) -> Handler:
    """A dead engine worker is an answer (503), not a crash of the admin API."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except BackendUnavailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)

    return guarded


def admin_routes(gateway: Gateway) -> list[Route]:
    token = gateway.config.admin_token.encode() if gateway.config.admin_token else None

    def authorized(request: Request) -> Response | None:
        if token is None:
            return JSONResponse(
                {"error": "admin API disabled (no admin_token configured)"}, status_code=404
            )
        supplied = request.headers.get("authorization", "")
        candidate = supplied[7:].encode() if supplied[:7].lower() == "bearer " else b""
        if not hmac.compare_digest(candidate, token):
            return JSONResponse({"error": "invalid admin token"}, status_code=401)
        return None

    async def verdicts(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        if not gateway.detection:
            return JSONResponse({"accounts": [], "detection": False})
        rows = [verdict_dict(v) for v in await gateway.backend.engine_view("account_verdicts")]
        wanted = request.query_params.get("verdict")
        if wanted:
            rows = [r for r in rows if r.get("verdict") == wanted]
        rows.sort(key=lambda r: r.get("risk", 0.0), reverse=True)
        return JSONResponse({"accounts": rows, "detection": True})

    async def account_detail(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        account_id = request.path_params["account_id"]
        current = None
        if gateway.detection:
            for verdict in await gateway.backend.engine_view("account_verdicts"):
                if verdict.account_id == account_id:
                    current = verdict_dict(verdict)
                    break
        history = await gateway.backend.verdict_history(account_id)
        return JSONResponse(
            {
                "account_id": account_id,
                "current": current,
                "history": history,
                "override": gateway.policy.overrides.get(account_id),
            }
        )

    async def campaigns(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        if not gateway.detection:
            return JSONResponse({"campaigns": [], "detection": False})
        return JSONResponse(
            {"campaigns": await gateway.backend.engine_view("campaigns"), "detection": True}
        )

    async def list_overrides(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        return JSONResponse({"overrides": gateway.policy.overrides})

    async def set_override(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        account_id = request.path_params["account_id"]
        try:
            payload = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be JSON"}, status_code=400)
        action = payload.get("action") if isinstance(payload, dict) else None
        if action not in OVERRIDE_ACTIONS:
            return JSONResponse(
                {"error": f"action must be one of {list(OVERRIDE_ACTIONS)}"}, status_code=400
            )
        entry = {"action": action, "reason": str(payload.get("reason", "")), "ts": time.time()}
        gateway.policy.overrides[account_id] = entry
        await gateway.save_overrides()
        return JSONResponse({"account_id": account_id, **entry})

    async def delete_override(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        removed = gateway.policy.overrides.pop(request.path_params["account_id"], None)
        if removed is None:
            return JSONResponse({"error": "no override for this account"}, status_code=404)
        await gateway.save_overrides()
        return Response(status_code=204)

    routes: list[tuple[str, Handler, list[str]]] = [
        ("/admin/verdicts", verdicts, ["GET"]),
        ("/admin/verdicts/{account_id:path}", account_detail, ["GET"]),
        ("/admin/campaigns", campaigns, ["GET"]),
        ("/admin/overrides", list_overrides, ["GET"]),
        ("/admin/overrides/{account_id:path}", set_override, ["PUT", "POST"]),
        ("/admin/overrides/{account_id:path}", delete_override, ["DELETE"]),
    ]
    return [
        Route(path, _unavailable_is_503(handler), methods=methods)
        for path, handler, methods in routes
    ]
