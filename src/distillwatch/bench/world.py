"""The simulated world every population lives in: clock, ids, accounts, networks.

Everything is derived from ``(seed, names...)`` by hashing, never from shared
mutable state, so any account's profile or any day's plan can be recomputed
on demand. That is what lets the generator stream: it never has to keep the
whole population in memory.

Networks use documentation ranges only (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32) and private/documentation ASNs
(64496-64511, 65536-65551), so no generated record points at a real party.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from distillwatch.bench.textsource import TextSource

__all__ = [
    "Calendar",
    "World",
    "Account",
    "Network",
    "COUNTRIES",
    "MODEL_FLAGSHIP",
    "MODEL_MINI",
    "MODEL_REASONER",
    "MODEL_NEW",
    "rfc3339",
    "ua_and_tls",
    "residential_ip",
    "hosting_ip",
]

MODEL_FLAGSHIP = "lumen-3"
MODEL_MINI = "lumen-3-mini"
MODEL_REASONER = "lumen-3-think"
MODEL_NEW = "lumen-4"  # released mid-period

# (country, UTC offset in hours) — every population draws from the same list,
# so country never separates attackers from customers.
COUNTRIES: tuple[tuple[str, float], ...] = (
    ("US", -5),
    ("US", -8),
    ("US", -6),
    ("CA", -5),
    ("BR", -3),
    ("MX", -6),
    ("AR", -3),
    ("GB", 0),
    ("DE", 1),
    ("FR", 1),
    ("NL", 1),
    ("ES", 1),
    ("PL", 1),
    ("NG", 1),
    ("ZA", 2),
    ("TR", 3),
    ("IL", 2),
    ("IN", 5.5),
    ("SG", 8),
    ("CN", 8),
    ("HK", 8),
    ("VN", 7),
    ("ID", 7),
    ("JP", 9),
    ("KR", 9),
    ("AU", 10),
)


def rfc3339(ts: float) -> str:
    """'2026-02-03T10:15:30.123Z' — the form most gateways log."""
    t = time.gmtime(ts)
    ms = int((ts - math.floor(ts)) * 1000)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms:03d}Z"
    )


@dataclass(slots=True, frozen=True)
class Calendar:
    """Two simulated weeks starting on a Monday, with one model release in the middle."""

    start: float = datetime(2026, 2, 2, tzinfo=UTC).timestamp()
    days: int = 14
    release_day: int = 7
    release_hour: float = 17.0

    @property
    def end(self) -> float:
        return self.start + self.days * 86400.0

    @property
    def release_ts(self) -> float:
        return self.start + self.release_day * 86400.0 + self.release_hour * 3600.0

    def day_start(self, day: int) -> float:
        return self.start + day * 86400.0

    def date(self, day: int) -> str:
        return datetime.fromtimestamp(self.day_start(day), tz=UTC).strftime("%Y-%m-%d")


@dataclass(slots=True)
class World:
    """Seeded randomness and ids shared by all populations of one generation run."""

    seed: int
    scale: float
    source: TextSource
    calendar: Calendar = field(default_factory=Calendar)

    def rng(self, *parts: object) -> random.Random:
        return random.Random(f"{self.seed}|" + "|".join(map(str, parts)))

    def oid(self, prefix: str, *parts: object, n: int = 12) -> str:
        """An opaque, seeded id: random-looking, reveals nothing about its owner."""
        digest = hashlib.blake2b(
            f"{self.seed}|{prefix}|{'|'.join(map(str, parts))}".encode(), digest_size=(n + 1) // 2
        )
        return f"{prefix}_{digest.hexdigest()[:n]}"

    def count(self, base: float, minimum: int = 1) -> int:
        """How many accounts/orgs a population has at this scale."""
        return max(minimum, round(base * self.scale))


@dataclass(slots=True)
class Network:
    """Where an account's requests come from; several accounts may share one."""

    ips: list[str]
    asn: int
    user_agent: str
    tls: str
    access_path: str = "direct"


@dataclass(slots=True)
class Account:
    account_id: str
    created_at: float
    tier: str
    country: str
    tz_hours: float
    api: str
    net: Network
    keys: list[str]
    org_id: str | None = None
    payment_fp: str | None = None
    verified: bool | None = None
    email_domain: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # population-specific settings

    def meta(
        self, rng: random.Random, ts: float, *, ip: str | None = None, asn: int | None = None
    ) -> dict[str, Any]:
        """The who-and-how fields of one exchange."""
        rotation = self.extra.get("key_rotation_s")
        if rotation:  # a new key every `rotation` seconds: key rotation to dodge per-key limits
            key = self.keys[int(max(0.0, ts - self.created_at) // rotation) % len(self.keys)]
        else:
            key = self.keys[rng.randrange(len(self.keys))] if len(self.keys) > 1 else self.keys[0]
        out: dict[str, Any] = {
            "account_id": self.account_id,
            "api_key_id": key,
            "client": {
                "ip": ip or self.net.ips[0],
                "user_agent": self.net.user_agent,
                "tls_fingerprint": self.net.tls,
                "asn": asn if asn is not None else self.net.asn,
                "country": self.country,
                "access_path": self.net.access_path,
            },
            "account": {"created_at": rfc3339(self.created_at), "tier": self.tier},
        }
        if self.org_id:
            out["org_id"] = self.org_id
        acct = out["account"]
        if self.payment_fp:
            acct["payment_fingerprint"] = self.payment_fp
        if self.verified is not None:
            acct["verified"] = self.verified
        if self.email_domain:
            acct["email_domain"] = self.email_domain
        return out


# -- networks -------------------------------------------------------------------

_RESIDENTIAL_ASNS = (64496, 64497, 64498, 64499, 64500, 64501, 64502, 64503)
_HOSTING_ASNS = tuple(range(65536, 65552))
_CLOUD_ASNS = (64508, 64509, 64510, 64511)


def residential_ip(rng: random.Random) -> tuple[str, int]:
    """A home/mobile address: mostly IPv6 /64s, some shared IPv4 (carrier NAT)."""
    asn = rng.choice(_RESIDENTIAL_ASNS)
    if rng.random() < 0.8:
        net = 0x1000 + (asn - 64496) * 0x400 + rng.randrange(0x400)
        return f"2001:db8:{net:x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}", asn
    return f"192.0.2.{rng.randrange(1, 255)}", asn


def hosting_ip(
    rng: random.Random, pool: int, size: int = 8, *, cloud: bool = False
) -> tuple[str, int]:
    """An address from a hosting/cloud block; ``pool`` picks the block, so pools are disjoint."""
    asn = (_CLOUD_ASNS if cloud else _HOSTING_ASNS)[pool % (4 if cloud else 16)]
    if pool < 24 and not cloud:
        host = 100 + (pool * 4 + rng.randrange(min(size, 4))) % 100
        return f"198.51.100.{host}", asn
    net = (0xE000 if cloud else 0xF000) + (pool % 256) * 16
    return f"2001:db8:{net:x}:{rng.randrange(size):x}::{rng.randrange(1, 4096):x}", asn


_SDK_BY_API: dict[str, tuple[tuple[str, str, tuple[int, int], int], ...]] = {
    # (family, format with {v}, minor version range, TLS group)
    "openai": (
        ("openai-python", "OpenAI/Python 1.{v}.0", (40, 99), 0),
        ("openai-node", "OpenAI/JS 4.{v}.1", (50, 104), 1),
        ("httpx", "python-httpx/0.{v}.0", (24, 28), 0),
        ("requests", "python-requests/2.{v}.0", (28, 32), 2),
        ("langchain", "langchain-openai/0.{v}.3 OpenAI/Python 1.51.0", (1, 3), 0),
        ("litellm", "litellm/1.{v}.0", (40, 70), 0),
        ("curl", "curl/8.{v}.0", (2, 11), 3),
        ("go", "Go-http-client/2.0", (0, 0), 4),
    ),
    "anthropic": (
        ("anthropic-python", "Anthropic/Python 0.{v}.0", (30, 60), 0),
        ("anthropic-ts", "Anthropic/JS 0.{v}.0", (25, 50), 1),
        ("httpx", "python-httpx/0.{v}.0", (24, 28), 0),
        ("litellm", "litellm/1.{v}.0", (40, 70), 0),
        ("curl", "curl/8.{v}.0", (2, 11), 3),
    ),
}
_BROWSER_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "ChatBox/1.9.{v} (desktop)",
    "OpenWebUI/0.5.{v}",
)


def _ja4(group: str, variant: int) -> str:
    h = hashlib.blake2b(f"{group}:{variant}".encode(), digest_size=12).hexdigest()
    return f"t13d{15 + variant % 3:02d}{10 + variant % 7:02d}h2_{h[:12]}_{h[12:]}"


def ua_and_tls(rng: random.Random, api: str, *, browser: bool = False) -> tuple[str, str]:
    """A realistic client string and the TLS fingerprint its library stack produces."""
    if browser:
        k = rng.randrange(len(_BROWSER_UAS))
        return _BROWSER_UAS[k].format(v=rng.randrange(1, 9)), _ja4("browser", k)
    fam, fmt, (lo, hi), group = rng.choice(
        _SDK_BY_API["anthropic" if api.startswith("anthropic") else "openai"]
    )
    v = rng.randint(lo, hi)
    return fmt.format(v=v), _ja4(f"lib{group}", (v // 10) % 3)
