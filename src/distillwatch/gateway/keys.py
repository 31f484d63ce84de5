"""API keys to accounts, and who is calling (client metadata).

Keys are looked up by their sha256 hash, so the configuration and the store
never hold a usable secret. The log carries only ``api_key_id``: a short
prefix of that hash, enough to tell two keys of one account apart and useless
for authenticating.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from distillwatch.gateway.config import AccountEntry

__all__ = [
    "hash_key",
    "key_id",
    "extract_key",
    "KeyDirectory",
    "ResolvedAccount",
    "ClientResolver",
    "ACCOUNTS_STATE_KEY",
]

ACCOUNTS_STATE_KEY = (
    "gateway.accounts"  # store.load_state key holding a JSON list of account entries
)


def hash_key(secret: str) -> str:
    """The sha256 hex digest under which a key is configured."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_id(digest: str) -> str:
    """Short, non-secret id of a key: enough to tell keys apart in a log."""
    return "key_" + digest[:12]


def extract_key(headers: dict[bytes, bytes]) -> str | None:
    """The caller's secret from ``x-api-key`` (Anthropic) or ``Authorization: Bearer`` (OpenAI)."""
    raw = headers.get(b"x-api-key")
    if raw:
        return raw.decode("latin-1").strip() or None
    auth = headers.get(b"authorization")
    if auth and auth[:7].lower() == b"bearer ":
        return auth[7:].decode("latin-1").strip() or None
    return None


@dataclass(slots=True, frozen=True)
class ResolvedAccount:
    """What the log needs about the caller's account, precomputed per key."""

    account_id: str
    api_key_id: str
    org_id: str | None
    account: dict[str, Any] | None  # the exchange-log ``account`` object (None: nothing known)


def _account_object(entry: AccountEntry) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for name in ("created_at", "tier", "payment_fingerprint", "verified", "email_domain"):
        value = getattr(entry, name)
        if value is not None:
            out[name] = value
    for name, value in entry.metadata.items():
        out.setdefault(name, value)
    return out or None


class KeyDirectory:
    """sha256(key) -> account. No plaintext key is kept, not even in a cache."""

    def __init__(
        self, entries: Iterable[AccountEntry] = (), *, account_per_unknown_key: bool = False
    ):
        self._by_digest: dict[str, ResolvedAccount] = {}
        self._account_per_unknown_key = account_per_unknown_key
        self.add(entries)

    def add(self, entries: Iterable[AccountEntry]) -> None:
        for entry in entries:
            self._by_digest[entry.key_sha256] = ResolvedAccount(
                account_id=entry.account_id,
                api_key_id=key_id(entry.key_sha256),
                org_id=entry.org_id,
                account=_account_object(entry),
            )

    def load_from_store(self, store: Any) -> int:
        """Add entries kept in the store (``save_state(ACCOUNTS_STATE_KEY, json list)``)."""
        return self.load_blob(store.load_state(ACCOUNTS_STATE_KEY))

    def load_blob(self, blob: bytes | None) -> int:
        """Add entries from a stored JSON list of account entries; the number added."""
        if not blob:
            return 0
        entries = [AccountEntry.from_dict(dict(d)) for d in orjson.loads(blob)]
        self.add(entries)
        return len(entries)

    def __len__(self) -> int:
        return len(self._by_digest)

    def resolve(self, secret: str | None) -> ResolvedAccount | None:
        """The account of a key, or None when the key is unknown (the caller gets a 401)."""
        if not secret:
            return None
        digest = hash_key(secret)
        found = self._by_digest.get(digest)
        if found is None and self._account_per_unknown_key:
            kid = key_id(digest)
            found = ResolvedAccount(
                account_id=f"unregistered:{kid}", api_key_id=kid, org_id=None, account=None
            )
        return found


class ClientResolver:
    """Client address and metadata, trusting forwarding headers only from configured proxies.

    ``X-Forwarded-For`` is read right to left and the first address that is not
    a trusted proxy is the client: anything further left was written by the
    client itself and could be forged.
    """

    def __init__(
        self,
        trusted_proxies: Sequence[str] = (),
        *,
        tls_fingerprint_header: str | None = None,
        access_path: str | None = None,
    ):
        self._networks = [ipaddress.ip_network(c, strict=False) for c in trusted_proxies]
        self._tls_header = (
            tls_fingerprint_header.lower().encode() if tls_fingerprint_header else None
        )
        self._access_path = access_path
        self._trust_cache: dict[str, bool] = {}

    def _trusted(self, address: str) -> bool:
        cached = self._trust_cache.get(address)
        if cached is not None:
            return cached
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            result = False
        else:
            result = any(ip in net for net in self._networks)
        if len(self._trust_cache) < 65_536:
            self._trust_cache[address] = result
        return result

    def resolve(self, peer: str | None, headers: dict[bytes, bytes]) -> dict[str, Any]:
        """The exchange-log ``client`` object for one request."""
        client: dict[str, Any] = {}
        ip = peer
        via_trusted_proxy = bool(self._networks) and peer is not None and self._trusted(peer)
        if via_trusted_proxy:
            forwarded = headers.get(b"x-forwarded-for")
            if forwarded:
                hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
                for hop in reversed(hops):
                    ip = hop
                    if not self._trusted(hop):
                        break
            if self._tls_header is not None:
                fingerprint = headers.get(self._tls_header)
                if fingerprint:
                    client["tls_fingerprint"] = fingerprint.decode("latin-1")
        if ip:
            client["ip"] = ip
        agent = headers.get(b"user-agent")
        if agent:
            client["user_agent"] = agent.decode("latin-1")
        if self._access_path:
            client["access_path"] = self._access_path
        return client
