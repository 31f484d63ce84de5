"""Campaign records (scan-output v1) built from the engine's operator groups."""

from __future__ import annotations

import ipaddress
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from distillwatch.behaviour.account import EXTRACTION_CAPABILITIES
from distillwatch.campaign.links import GroupAggregate

if TYPE_CHECKING:
    from distillwatch.behaviour.account import AccountState
    from distillwatch.engine import Engine

__all__ = ["build_campaign_records", "network_of", "iso"]

_MAX_INDICATORS = 25


def iso(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def network_of(ip: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def _top(counter: Counter, n: int = _MAX_INDICATORS) -> list:
    return [k for k, _ in counter.most_common(n)]


def build_campaign_records(engine: Engine) -> list[dict]:
    """One record per campaign with at least two flagged members, highest risk first.

    A campaign is the re-clustered one from ``Engine.finalize`` when the account
    is in one, else its online operator group; the same key names the account's
    ``campaign_id``. Volume timelines and model pivots come from the online
    groups of the members.
    """
    from distillwatch.engine import campaign_id_for

    members: dict[str, list[AccountState]] = {}
    roots: dict[str, set[str]] = {}
    for st in engine.accounts.values():
        if st.verdict == "benign":
            continue
        root, agg = engine.groups.group_of(st.account_id)
        cluster = engine.cluster_of.get(st.account_id)
        if cluster is not None:
            key = min(cluster.accounts)
        elif agg.members >= 2 and agg.flagged >= 2:
            key = root
        else:
            continue
        members.setdefault(key, []).append(st)
        roots.setdefault(key, set()).add(root)
    records = []
    for key, accts in members.items():
        if len(accts) < 2:
            continue
        agg = GroupAggregate()
        for root in sorted(roots[key]):
            agg.absorb(engine.groups.aggregate[root])
        records.append(_record(engine, campaign_id_for(key), accts, agg))
    records.sort(key=lambda r: (-r["risk"], -r["exchanges"]))
    return records


def _record(engine: Engine, campaign_id: str, accts: list[AccountState], agg) -> dict:
    ips: Counter = Counter()
    nets: Counter = Counter()
    uas: Counter = Counter()
    tls: Counter = Counter()
    pays: Counter = Counter()
    asns: Counter = Counter()
    domains: Counter = Counter()
    caps: Counter = Counter()
    templates: Counter = Counter()
    exchanges = 0
    first, last = float("inf"), 0.0
    for st in accts:
        exchanges += st.n
        first, last = min(first, st.first_ts), max(last, st.last_ts)
        for ip in st.ips:
            ips[ip] += 1
            net = network_of(ip)
            if net:
                nets[net] += 1
        for ua in st.user_agents:
            uas[ua] += 1
        if st.last_tls:
            tls[st.last_tls] += 1
        if st.payment_fingerprint:
            pays[st.payment_fingerprint] += 1
        if st.last_asn is not None:
            asns[st.last_asn] += 1
        if st.email_domain:
            domains[st.email_domain] += 1
        for cap, c in st.capabilities.items():
            caps[cap] += c
        for fam, c in st.families.counts.items():
            if fam in engine.flagged_families:
                templates[fam] += c
    risks = sorted((st.risk for st in accts), reverse=True)
    risk = round(sum(risks[:10]) / min(len(risks), 10), 4)
    extraction = [c for c, _ in caps.most_common() if c in EXTRACTION_CAPABILITIES]
    other = [
        c
        for c, n in caps.most_common()
        if c not in EXTRACTION_CAPABILITIES and n >= exchanges * 0.1
    ]
    capabilities = extraction + other
    pivots = _pivots(engine, agg)
    links = ", ".join(f"{k.replace('_', ' ')}" for k in sorted(agg.links))
    summary = (
        f"{len(accts)} linked accounts sent {exchanges:,} requests between {iso(first)[:10]} and "
        f"{iso(last)[:10]}, extracting {', '.join(capabilities[:4]) or 'model outputs'}"
        f"{'; linked by ' + links if links else ''}"
        f"{'; ' + pivots[0]['text'] if pivots else ''}."
    )
    return {
        "campaign_id": campaign_id,
        "accounts": sorted(st.account_id for st in accts),
        "exchanges": exchanges,
        "risk": risk,
        "capabilities": capabilities,
        "indicators": {
            "ips": _top(ips),
            "networks": _top(nets),
            "asns": _top(asns),
            "user_agents": _top(uas),
            "tls_fingerprints": _top(tls),
            "payment_fingerprints": _top(pays),
            "email_domains": _top(domains),
            "template_ids": _top(templates),
        },
        "first_ts": iso(first),
        "last_ts": iso(last),
        "summary": summary,
        "timeline": [[iso(d * 86400.0)[:10], c] for d, c in sorted(agg.days.items())],
        "model_pivots": pivots,
    }


def _pivots(engine: Engine, agg) -> list[dict]:
    """Models the group adopted within a day of their first appearance anywhere."""
    out = []
    total = max(agg.exchanges, 1)
    for model, (first_use, count) in agg.models.items():
        released = engine.model_first_seen.get(model)
        if released is None or first_use - released > 86400 or count < total * 0.2:
            continue
        if len(agg.models) < 2:
            continue  # a group that only ever used one model did not pivot
        hours = (first_use - released) / 3600
        share = count / total
        out.append(
            {
                "model": model,
                "first_seen": iso(released),
                "group_first_use": iso(first_use),
                "hours_after_first_seen": round(hours, 1),
                "share": round(share, 3),
                "text": (
                    f"moved {share:.0%} of its traffic to {model} within "
                    + (f"{hours:.0f} h" if hours >= 1 else "the hour")
                    + " of the model's first appearance"
                ),
            }
        )
    return out
