"""Gateway configuration: one TOML file, read once at start.

Secrets (the admin token, the key sent upstream) may be named by environment
variable instead of written into the file, so the file can live in version
control. API keys of customer accounts are only ever present as sha256 hashes.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "AccountEntry",
    "Trigger",
    "PolicyConfig",
    "BucketConfig",
    "RateLimitConfig",
    "RecorderConfig",
    "GatewayConfig",
    "load_config",
]

_UPSTREAM_CLIENTS = ("aiohttp", "httpx")
_FAIL_MODES = ("open", "closed")
_UNKNOWN_KEY_MODES = ("reject", "account_per_key")


@dataclass(slots=True)
class AccountEntry:
    """One API key of one customer account, as the provider knows it."""

    key_sha256: str
    account_id: str
    org_id: str | None = None
    tier: str | None = None
    created_at: str | float | None = None
    payment_fingerprint: str | None = None
    verified: bool | None = None
    email_domain: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountEntry:
        known = {k: data[k] for k in _ACCOUNT_FIELDS if k in data}
        extra = {k: v for k, v in data.items() if k not in _ACCOUNT_FIELDS}
        meta = dict(known.pop("metadata", {}) or {})
        meta.update(extra)
        if "key_sha256" not in known or "account_id" not in known:
            raise ValueError("[[accounts]] entries need key_sha256 and account_id")
        digest = str(known["key_sha256"]).strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(
                f"account {known['account_id']!r}: key_sha256 must be 64 hex digits "
                "(store the hash of the key, never the key)"
            )
        known["key_sha256"] = digest
        return cls(**known, metadata=meta)


_ACCOUNT_FIELDS = (
    "key_sha256",
    "account_id",
    "org_id",
    "tier",
    "created_at",
    "payment_fingerprint",
    "verified",
    "email_domain",
    "metadata",
)


@dataclass(slots=True)
class Trigger:
    """Conditions that switch one policy action on; any single match is enough.

    ``None``/empty means "this condition is not used". Thresholds compare with
    ``>=`` against the engine's Assessment.
    """

    verdicts: tuple[str, ...] = ()
    risk: float | None = None
    request_score: float | None = None
    campaign_risk: float | None = None
    family_flagged: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trigger:
        unknown = set(data) - {
            "verdicts",
            "risk",
            "request_score",
            "campaign_risk",
            "family_flagged",
        }
        if unknown:
            raise ValueError(f"unknown policy condition(s): {sorted(unknown)}")
        return cls(
            verdicts=tuple(str(v) for v in data.get("verdicts", ())),
            risk=_opt_float(data.get("risk")),
            request_score=_opt_float(data.get("request_score")),
            campaign_risk=_opt_float(data.get("campaign_risk")),
            family_flagged=bool(data.get("family_flagged", False)),
        )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(slots=True)
class PolicyConfig:
    """Which Assessment leads to which action.

    The defaults only block what the engine calls ``distillation`` (or a
    campaign it is very sure of): a wrong block hurts a paying customer, so
    weaker evidence throttles, withholds reasoning or merely flags.
    """

    flag: Trigger = field(
        default_factory=lambda: Trigger(
            verdicts=("suspicious",), request_score=0.6, family_flagged=True, campaign_risk=0.3
        )
    )
    withhold_reasoning: Trigger = field(
        default_factory=lambda: Trigger(verdicts=("suspicious",), campaign_risk=0.5)
    )
    throttle: Trigger = field(
        default_factory=lambda: Trigger(
            verdicts=("suspicious",), family_flagged=True, campaign_risk=0.6
        )
    )
    block: Trigger = field(
        default_factory=lambda: Trigger(verdicts=("distillation",), campaign_risk=0.9)
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyConfig:
        unknown = set(data) - {"flag", "withhold_reasoning", "throttle", "block"}
        if unknown:
            raise ValueError(f"unknown [policy] tables: {sorted(unknown)}")
        out = cls()
        for name in ("flag", "withhold_reasoning", "throttle", "block"):
            if name in data:
                setattr(out, name, Trigger.from_dict(dict(data[name])))
        return out


@dataclass(slots=True)
class BucketConfig:
    """A token bucket: ``rate`` requests per second refill, ``burst`` capacity."""

    rate: float
    burst: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BucketConfig:
        rate, burst = float(data["rate"]), float(data["burst"])
        if rate <= 0 or burst < 1:
            raise ValueError("a rate-limit bucket needs rate > 0 and burst >= 1")
        return cls(rate=rate, burst=burst)


@dataclass(slots=True)
class RateLimitConfig:
    """Buckets used only for traffic the policy throttles (legitimate traffic is untouched)."""

    account: BucketConfig = field(default_factory=lambda: BucketConfig(rate=0.5, burst=5))
    campaign: BucketConfig = field(default_factory=lambda: BucketConfig(rate=2.0, burst=10))
    family: BucketConfig = field(default_factory=lambda: BucketConfig(rate=1.0, burst=10))
    max_keys: int = 100_000  # per bucket kind; least recently used keys are forgotten

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RateLimitConfig:
        out = cls()
        for name in ("account", "campaign", "family"):
            if name in data:
                setattr(out, name, BucketConfig.from_dict(dict(data[name])))
        if "max_keys" in data:
            out.max_keys = int(data["max_keys"])
        return out


@dataclass(slots=True)
class RecorderConfig:
    """Where and how exchanges are written, off the response path."""

    jsonl: Path | None = None
    queue_size: int = 100_000
    batch_size: int = 512
    flush_interval_s: float = 0.2
    shutdown_timeout_s: float = 30.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecorderConfig:
        out = cls()
        if data.get("jsonl"):
            out.jsonl = Path(data["jsonl"])
        for name in ("queue_size", "batch_size"):
            if name in data:
                setattr(out, name, int(data[name]))
        for name in ("flush_interval_s", "shutdown_timeout_s"):
            if name in data:
                setattr(out, name, float(data[name]))
        return out


@dataclass(slots=True)
class GatewayConfig:
    """Everything the gateway needs; see docs/gateway.md for the TOML layout."""

    upstream: str = "http://127.0.0.1:9000"
    upstream_client: str = "aiohttp"  # "aiohttp" (default, measured faster) | "httpx"
    upstream_api_key: str | None = None  # None: forward the caller's own key
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 300.0  # longest silence allowed between upstream bytes
    max_connections: int = 512
    max_body_bytes: int = 32 * 1024 * 1024
    fail_mode: str = (
        "open"  # what happens when the engine raises: "open" forwards, "closed" refuses
    )
    unknown_keys: str = "reject"  # "account_per_key": unknown keys become their own account
    trusted_proxies: tuple[str, ...] = ()
    tls_fingerprint_header: str | None = None
    access_path: str | None = None
    decision_header: str | None = "x-distillwatch-decision"
    admin_token: str | None = None
    accounts: list[AccountEntry] = field(default_factory=list)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    ratelimit: RateLimitConfig = field(default_factory=RateLimitConfig)
    recorder: RecorderConfig = field(default_factory=RecorderConfig)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Fail at start, not on the first request, when a value cannot work."""
        if self.upstream_client not in _UPSTREAM_CLIENTS:
            removed = (
                " (the hand-written 'raw' client was removed)"
                if self.upstream_client == "raw"
                else ""
            )
            raise ValueError(f"upstream_client must be one of {_UPSTREAM_CLIENTS}{removed}")
        if self.fail_mode not in _FAIL_MODES:
            raise ValueError(f"fail_mode must be one of {_FAIL_MODES}")
        if self.unknown_keys not in _UNKNOWN_KEY_MODES:
            raise ValueError(f"unknown_keys must be one of {_UNKNOWN_KEY_MODES}")
        if not self.upstream.startswith(("http://", "https://")):
            raise ValueError("upstream must be an http:// or https:// URL")
        for cidr in self.trusted_proxies:
            ipaddress.ip_network(cidr, strict=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, base_dir: Path | None = None) -> GatewayConfig:
        """Build from parsed TOML: ``[gateway]``, ``[policy]``, ``[ratelimit]``, ``[recorder]``, ``[[accounts]]``."""
        section = dict(data.get("gateway", {}))
        kwargs: dict[str, Any] = {}
        simple = (
            "upstream",
            "upstream_client",
            "connect_timeout_s",
            "read_timeout_s",
            "max_connections",
            "max_body_bytes",
            "fail_mode",
            "unknown_keys",
            "tls_fingerprint_header",
            "access_path",
            "decision_header",
        )
        for name in simple:
            if name in section:
                kwargs[name] = section.pop(name)
        if "decision_header" in kwargs and not kwargs["decision_header"]:
            kwargs["decision_header"] = None
        if "trusted_proxies" in section:
            kwargs["trusted_proxies"] = tuple(str(c) for c in section.pop("trusted_proxies"))
        kwargs["admin_token"] = _secret(section, "admin_token")
        kwargs["upstream_api_key"] = _secret(section, "upstream_api_key")
        if section:
            raise ValueError(f"unknown [gateway] settings: {sorted(section)}")
        kwargs["accounts"] = [AccountEntry.from_dict(dict(a)) for a in data.get("accounts", [])]
        kwargs["policy"] = PolicyConfig.from_dict(dict(data.get("policy", {})))
        kwargs["ratelimit"] = RateLimitConfig.from_dict(dict(data.get("ratelimit", {})))
        recorder = RecorderConfig.from_dict(dict(data.get("recorder", {})))
        if recorder.jsonl is not None and base_dir is not None and not recorder.jsonl.is_absolute():
            recorder.jsonl = base_dir / recorder.jsonl
        kwargs["recorder"] = recorder
        return cls(**kwargs)


def _secret(section: dict[str, Any], name: str) -> str | None:
    """A secret given inline (``name``) or by environment variable (``name_env``)."""
    inline = section.pop(name, None)
    env_name = section.pop(f"{name}_env", None)
    if env_name:
        value = os.environ.get(str(env_name))
        if value:
            return value
    return str(inline) if inline else None


def load_config(path: str | Path | None, *, upstream: str | None = None) -> GatewayConfig:
    """Read a TOML config file (or defaults when ``path`` is None); ``upstream`` overrides the file."""
    if path is None:
        config = GatewayConfig()
    else:
        path = Path(path)
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        config = GatewayConfig.from_dict(data, base_dir=path.parent)
    if upstream:
        config.upstream = upstream
        config.validate()
    return config
