"""STIX 2.1 export of campaign records: valid, complete, deterministic, careful with hashes."""

from __future__ import annotations

import json

import pytest
import stix2

from distillwatch.campaign.stix import campaigns_to_stix
from distillwatch.detectors.base import Signal
from distillwatch.engine import Engine
from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn


def _record(campaign_id: str, ips: list[str], **extra) -> dict:
    indicators = {
        "ips": ips,
        "networks": sorted({ip.rsplit(".", 1)[0] + ".0/24" for ip in ips if "." in ip}),
        "user_agents": ["harvester/2.0 (it's \\ quoted)"],
        "tls_fingerprints": ["t13d1516h2_8daaf6152771"],
        "payment_fingerprints": ["pf_9c1"],
        "template_ids": ["tpl_1a2b3c4d"],
        "asns": [64500],
        "email_domains": ["mail.example"],
    }
    indicators.update(extra)
    return {
        "campaign_id": campaign_id,
        "accounts": ["acct_1", "acct_2"],
        "exchanges": 1200,
        "risk": 0.92,
        "capabilities": ["reasoning", "reward_grading"],
        "indicators": indicators,
        "first_ts": "2026-02-01T08:00:00.000Z",
        "last_ts": "2026-02-04T19:30:00.000Z",
        "summary": "2 linked accounts sent 1,200 requests extracting reasoning.",
    }


def _by_type(bundle) -> dict[str, list]:
    out: dict[str, list] = {}
    for obj in bundle.objects:
        out.setdefault(obj.type, []).append(obj)
    return out


def test_bundle_parses_and_holds_every_campaign_and_ip_indicator() -> None:
    records = [
        _record("cmp_one", ["203.0.113.7", "2001:db8:1::5"]),
        _record("cmp_two", ["198.51.100.20"]),
    ]
    bundle = stix2.parse(campaigns_to_stix(records))
    objs = _by_type(bundle)
    assert sorted(c.aliases[0] for c in objs["campaign"]) == ["cmp_one", "cmp_two"]
    patterns = {i.pattern for i in objs["indicator"]}
    assert "[ipv4-addr:value = '203.0.113.7']" in patterns
    assert "[ipv6-addr:value = '2001:db8:1::5']" in patterns
    assert "[ipv4-addr:value = '198.51.100.20']" in patterns
    assert "[ipv4-addr:value ISSUBSET '203.0.113.0/24']" in patterns
    # every indicator indicates at least one campaign of the bundle
    campaign_ids = {c.id for c in objs["campaign"]}
    targets = {r.source_ref: r.target_ref for r in objs["relationship"]}
    for ind in objs["indicator"]:
        assert targets[ind.id] in campaign_ids
    assert all(r.relationship_type == "indicates" for r in objs["relationship"])
    # everything is marked and attributed to the producer
    identity = objs["identity"][0]
    for obj in objs["campaign"] + objs["indicator"] + objs["relationship"] + objs["note"]:
        assert obj.created_by_ref == identity.id
        assert obj.object_marking_refs == [stix2.TLP_AMBER.id]


def test_export_is_deterministic_and_order_independent() -> None:
    records = [_record("cmp_a", ["192.0.2.1"]), _record("cmp_b", ["192.0.2.2"])]
    first = campaigns_to_stix(records)
    assert first == campaigns_to_stix(list(reversed(records)))
    other_producer = campaigns_to_stix(records, producer="another-provider")
    ids = {o["id"] for o in json.loads(first)["objects"]}
    other_ids = {o["id"] for o in json.loads(other_producer)["objects"]}
    assert not (ids & other_ids - {stix2.TLP_AMBER.id})


def test_an_address_shared_by_two_campaigns_is_one_indicator_with_two_links() -> None:
    records = [_record("cmp_a", ["192.0.2.9"]), _record("cmp_b", ["192.0.2.9"])]
    objs = _by_type(stix2.parse(campaigns_to_stix(records)))
    shared = [i for i in objs["indicator"] if i.pattern == "[ipv4-addr:value = '192.0.2.9']"]
    assert len(shared) == 1
    links = [r for r in objs["relationship"] if r.source_ref == shared[0].id]
    assert len(links) == 2


def test_internal_hashes_travel_in_a_note_not_as_indicators() -> None:
    objs = _by_type(stix2.parse(campaigns_to_stix([_record("cmp_a", ["192.0.2.1"])])))
    patterns = " ".join(i.pattern for i in objs["indicator"])
    for internal in ("pf_9c1", "tpl_1a2b3c4d", "64500", "mail.example"):
        assert internal not in patterns
    (note,) = objs["note"]
    assert "provider-internal" in note.labels
    assert "pf_9c1" in note.content and "tpl_1a2b3c4d" in note.content
    assert note.object_refs == [objs["campaign"][0].id]


def test_client_stack_indicators_are_low_confidence_and_quoted() -> None:
    objs = _by_type(stix2.parse(campaigns_to_stix([_record("cmp_a", ["192.0.2.1"])])))
    by_pattern = {i.pattern: i for i in objs["indicator"]}
    ua = next(p for p in by_pattern if "User-Agent" in p)
    assert "it\\'s \\\\ quoted" in ua
    ip = by_pattern["[ipv4-addr:value = '192.0.2.1']"]
    assert by_pattern[ua].confidence < ip.confidence


def test_invalid_values_are_skipped_and_duplicates_rejected() -> None:
    rec = _record("cmp_a", ["not-an-ip", "192.0.2.1"], networks=["garbage/99"])
    objs = _by_type(stix2.parse(campaigns_to_stix([rec], tlp=None)))
    ip_patterns = [i.pattern for i in objs["indicator"] if "addr" in i.pattern]
    assert ip_patterns == ["[ipv4-addr:value = '192.0.2.1']"]
    assert "marking-definition" not in objs
    with pytest.raises(ValueError):
        campaigns_to_stix([rec, rec])


def test_records_from_the_engine_export_as_they_are() -> None:
    engine = Engine(detectors=[])
    signals = [
        Signal("content.cot_demand", 0.9, "synthetic", "cot_elicitation"),
        Signal("content.reward_grading", 0.8, "synthetic", "reward_grading"),
    ]
    for i in range(240):
        acct = i % 6
        ex = Exchange(
            id=f"e{i}",
            ts=1_769_904_000.0 + 7 * i,
            account_id=f"acct{acct}",
            api="openai.chat.completions",
            turns=[
                Turn("user", f"Write out the reasoning behind the response step by step.\n#{i}")
            ],
            client=ClientInfo(ip=f"203.0.113.{acct + 1}", user_agent="harvester/1", asn=64500),
            account=AccountInfo(payment_fingerprint="pf_a" if acct < 3 else None),
        )
        engine.observe(ex, signals)
    engine.finalize()
    records = engine.campaigns()
    assert records
    objs = _by_type(stix2.parse(campaigns_to_stix(records)))
    assert {c.aliases[0] for c in objs["campaign"]} == {r["campaign_id"] for r in records}
    patterns = {i.pattern for i in objs["indicator"]}
    for rec in records:
        for ip in rec["indicators"]["ips"]:
            assert f"[ipv4-addr:value = '{ip}']" in patterns
