"""Error bodies in the caller's own API format.

Client SDKs parse errors by shape: an OpenAI SDK reads ``{"error": {...}}`` and
an Anthropic SDK reads ``{"type": "error", "error": {...}}``. Answering in the
wrong shape turns a clear 429 into an opaque parse failure in the customer's
code, so every refusal goes through here.
"""

from __future__ import annotations

import orjson

__all__ = ["STYLE_OPENAI", "STYLE_ANTHROPIC", "error_body", "error_headers"]

STYLE_OPENAI = "openai"
STYLE_ANTHROPIC = "anthropic"

# status -> (openai type, openai code, anthropic type)
_KINDS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "invalid_request_error"),
    401: ("invalid_request_error", "invalid_api_key", "authentication_error"),
    403: ("permission_error", "request_refused", "permission_error"),
    404: ("invalid_request_error", "not_found", "not_found_error"),
    413: ("invalid_request_error", "request_too_large", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_exceeded", "rate_limit_error"),
    502: ("server_error", "bad_gateway", "api_error"),
    503: ("server_error", "service_unavailable", "api_error"),
    504: ("server_error", "upstream_timeout", "timeout_error"),
}


def error_body(style: str, status: int, message: str) -> bytes:
    """JSON error body for ``status`` in the given API style."""
    openai_type, code, anthropic_type = _KINDS.get(status, ("server_error", None, "api_error"))
    if style == STYLE_ANTHROPIC:
        return orjson.dumps(
            {"type": "error", "error": {"type": anthropic_type, "message": message}}
        )
    return orjson.dumps(
        {"error": {"message": message, "type": openai_type, "param": None, "code": code}}
    )


def error_headers(body: bytes, retry_after: float | None = None) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, int(retry_after))).encode()))
    return headers
