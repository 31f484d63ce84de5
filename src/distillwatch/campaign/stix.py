"""Campaign records as a STIX 2.1 bundle, for sharing with other providers.

Each campaign record (``campaigns.jsonl`` of scan-output v1) becomes a STIX
``campaign``; its shareable indicators (client addresses, /24 and /48
networks, user agents, TLS fingerprints) become ``indicator`` objects with STIX
patterns and an ``indicates`` relationship to every campaign that used them.

What is *not* an indicator, and why:

* payment fingerprints and prompt-template ids are hashes computed by the
  producer over its own data; no peer can match them, so they travel in a
  ``note`` marked as provider-internal, for cross-reference in joint cases;
* ASNs and e-mail domains name providers, not operators (a cloud, a mail
  service): blocking on them would punish everyone else there, so they are
  context in the same note.

Every id is a UUIDv5 of the producer and the record's own ids, and every
timestamp comes from the records, so exporting the same campaigns twice gives
the same bytes and peers de-duplicate re-exports.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import stix2

__all__ = ["campaigns_to_stix", "STIX_NAMESPACE"]

STIX_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:distillwatch:stix")
_IDENTITY_CREATED = (
    "2026-01-01T00:00:00.000Z"  # fixed, so the producer's identity never re-versions
)
_TLP = {
    "white": stix2.TLP_WHITE,
    "green": stix2.TLP_GREEN,
    "amber": stix2.TLP_AMBER,
    "red": stix2.TLP_RED,
}
# how far a peer may trust an indicator on its own: an address is specific, a
# client stack (user agent, TLS fingerprint) is shared by many innocent users
_KIND_CONFIDENCE = {
    "ip": 0.8,
    "network": 0.6,
    "user_agent": 0.25,
    "tls_fingerprint": 0.3,
}
_KIND_TYPES = {
    "ip": ["malicious-activity"],
    "network": ["malicious-activity"],
    "user_agent": ["anomalous-activity"],
    "tls_fingerprint": ["anomalous-activity"],
}
_KIND_WORDS = {
    "ip": "client address",
    "network": "client network",
    "user_agent": "User-Agent header",
    "tls_fingerprint": "TLS client fingerprint",
}


def _sid(kind: str, producer: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(STIX_NAMESPACE, '|'.join((producer, kind, *parts)))}"


def _literal(value: str) -> str:
    """A STIX pattern string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pattern(kind: str, value: str) -> str | None:
    """The STIX pattern of one indicator value, or None when it is not valid."""
    if kind == "ip":
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            return None
        return f"[ipv{addr.version}-addr:value = {_literal(str(addr))}]"
    if kind == "network":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
        return f"[ipv{net.version}-addr:value ISSUBSET {_literal(str(net))}]"
    if not value:
        return None
    if kind == "user_agent":
        path = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
        return f"[{path} = {_literal(value)}]"
    if kind == "tls_fingerprint":  # no standard property: a custom one, marked by its x_ prefix
        return f"[network-traffic:x_tls_fingerprint = {_literal(value)}]"
    return None


@dataclass(slots=True)
class _IndicatorUse:
    """One indicator value and the campaigns it was seen in."""

    kind: str
    value: str
    pattern: str
    first: str
    last: str
    risk: float
    campaigns: list[str] = field(default_factory=list)  # STIX campaign ids


def _as_list(indicators: dict, key: str) -> list[str]:
    values = indicators.get(key) or []
    return [str(v) for v in values]


def _internal_note(rec: dict, campaign_sid: str, producer: str, common: dict) -> stix2.Note | None:
    indicators = rec.get("indicators") or {}
    pays = _as_list(indicators, "payment_fingerprints")
    templates = _as_list(indicators, "template_ids")
    asns = _as_list(indicators, "asns")
    domains = _as_list(indicators, "email_domains")
    if not (pays or templates or asns or domains):
        return None
    lines = [
        f"Provider-internal identifiers of campaign {rec['campaign_id']}, computed by {producer} "
        "over its own records. They are not indicators: no other provider can match them; quote "
        "them when asking the producer about a joint case."
    ]
    if pays:
        lines.append(
            f"payment_fingerprints (producer's hashes of payment instruments): {', '.join(pays)}"
        )
    if templates:
        lines.append(f"template_ids (producer's prompt-family ids): {', '.join(templates)}")
    if asns or domains:
        lines.append(
            "Context, not indicators (they name providers shared with innocent customers): "
            f"asns: {', '.join(asns) or '-'}; email_domains: {', '.join(domains) or '-'}"
        )
    return stix2.Note(
        id=_sid("note", producer, rec["campaign_id"]),
        created=rec["first_ts"],
        modified=rec["last_ts"],
        abstract=f"Provider-internal identifiers of {rec['campaign_id']}",
        content="\n".join(lines),
        authors=[producer],
        object_refs=[campaign_sid],
        labels=["provider-internal"],
        **common,
    )


def campaigns_to_stix(
    campaigns: Iterable[dict], *, producer: str = "distillwatch", tlp: str | None = "amber"
) -> str:
    """A STIX 2.1 bundle (JSON) of campaign records, deterministic for the same input.

    ``tlp`` marks every object with a Traffic Light Protocol marking (``white``,
    ``green``, ``amber``, ``red``) or with none.
    """
    marking = _TLP[tlp] if tlp is not None else None
    markings = [marking.id] if marking is not None else []
    identity = stix2.Identity(
        id=_sid("identity", producer),
        created=_IDENTITY_CREATED,
        modified=_IDENTITY_CREATED,
        name=producer,
        identity_class="organization",
        object_marking_refs=markings or None,
    )
    common = {"created_by_ref": identity.id, "object_marking_refs": markings or None}
    objects: list = [marking] if marking is not None else []
    objects.append(identity)
    uses: dict[tuple[str, str], _IndicatorUse] = {}
    seen: set[str] = set()
    for rec in sorted(campaigns, key=lambda r: r["campaign_id"]):
        cid = rec["campaign_id"]
        if cid in seen:
            raise ValueError(f"campaign {cid} appears twice")
        seen.add(cid)
        first, last = rec["first_ts"], rec["last_ts"]
        risk = float(rec.get("risk") or 0.0)
        caps = [str(c) for c in rec.get("capabilities") or []]
        campaign = stix2.Campaign(
            id=_sid("campaign", producer, cid),
            created=first,
            modified=last,
            first_seen=first,
            last_seen=last,
            name=f"Distillation campaign {cid}",
            description=rec.get("summary") or "",
            objective=(
                "harvest model outputs to train another model"
                + (f" ({', '.join(caps)})" if caps else "")
            ),
            aliases=[cid],
            confidence=round(100 * min(max(risk, 0.0), 1.0)),
            labels=["distillation"],
            **common,
        )
        objects.append(campaign)
        note = _internal_note(rec, campaign.id, producer, common)
        if note is not None:
            objects.append(note)
        indicators = rec.get("indicators") or {}
        for kind, key in (
            ("ip", "ips"),
            ("network", "networks"),
            ("user_agent", "user_agents"),
            ("tls_fingerprint", "tls_fingerprints"),
        ):
            for value in _as_list(indicators, key):
                pattern = _pattern(kind, value)
                if pattern is None:
                    continue
                use = uses.get((kind, value))
                if use is None:
                    use = uses[(kind, value)] = _IndicatorUse(
                        kind, value, pattern, first, last, risk
                    )
                use.first, use.last = min(use.first, first), max(use.last, last)
                use.risk = max(use.risk, risk)
                use.campaigns.append(campaign.id)

    for (kind, value), use in sorted(uses.items()):
        indicator = stix2.Indicator(
            id=_sid("indicator", producer, kind, value),
            created=use.first,
            modified=use.last,
            valid_from=use.first,
            name=f"{_KIND_WORDS[kind]} of a distillation campaign: {value}"[:250],
            description=(
                f"{_KIND_WORDS[kind].capitalize()} seen in the traffic of "
                f"{len(use.campaigns)} distillation campaign(s)."
                + (
                    " Shared by many legitimate clients: combine with other evidence."
                    if _KIND_CONFIDENCE[kind] < 0.5
                    else ""
                )
            ),
            indicator_types=_KIND_TYPES[kind],
            pattern=use.pattern,
            pattern_type="stix",
            confidence=round(100 * use.risk * _KIND_CONFIDENCE[kind]),
            **common,
        )
        objects.append(indicator)
        for campaign_id in use.campaigns:
            objects.append(
                stix2.Relationship(
                    id=_sid("relationship", producer, indicator.id, campaign_id),
                    created=use.first,
                    modified=use.last,
                    relationship_type="indicates",
                    source_ref=indicator.id,
                    target_ref=campaign_id,
                    **common,
                )
            )
    bundle = stix2.Bundle(
        objects=objects, id=_sid("bundle", producer, *sorted(seen)), allow_custom=False
    )
    return bundle.serialize(pretty=True)
