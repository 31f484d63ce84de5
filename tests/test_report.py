"""report.html: complete, escaped, self-contained and well-formed."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from distillwatch.output.report import render_report, write_report

VOID = {"meta", "input", "br", "hr", "img", "link", "col", "wbr", "area", "base", "source"}
URL_ATTRS = {"src", "href", "action", "xlink:href", "poster", "data", "formaction", "srcset"}


class StrictParser(HTMLParser):
    """Records elements and fails on any mis-nested or unclosed tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.text_by_id: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(text: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(text)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


def account(
    account_id: str,
    risk: float,
    verdict: str,
    campaign: str | None = None,
    detail: str = "asks for hidden reasoning in 40 of 41 exchanges",
) -> dict:
    return {
        "account_id": account_id,
        "exchanges": 41,
        "risk": risk,
        "verdict": verdict,
        "first_flagged_ts": None if verdict == "benign" else "2026-02-03T10:15:30.123Z",
        "campaign_id": campaign,
        "capabilities": ["cot_elicitation"] if verdict != "benign" else [],
        "evidence": []
        if verdict == "benign"
        else [
            {"signal": "cot_elicitation", "score": risk, "detail": detail},
            {"signal": "shared_template", "score": 0.4, "detail": "template shared by 12 accounts"},
        ],
    }


def campaign(campaign_id: str, members: list[str], timeline: list | None = None) -> dict:
    record = {
        "campaign_id": campaign_id,
        "accounts": members,
        "exchanges": 1234,
        "risk": 0.93,
        "capabilities": ["reasoning", "cot_elicitation"],
        "indicators": {"payment_fingerprints": ["pf_9c1"], "ips": ["203.0.113.7", "203.0.113.8"]},
        "first_ts": "2026-02-01T00:00:00Z",
        "last_ts": "2026-02-09T12:00:00Z",
        "summary": f"{len(members)} accounts elicit step-by-step reasoning with one template.",
    }
    if timeline is not None:
        record["timeline"] = timeline
    return record


SUMMARY = {
    "lines": 1000,
    "read": 990,
    "rejected": 10,
    "accounts": 5,
    "flagged": 3,
    "campaigns": 2,
    "seconds": 1.5,
}


@pytest.fixture
def scan() -> tuple[list[dict], list[dict]]:
    accounts = [
        account("acct_high", 0.95, "distillation", "camp_alpha"),
        account("acct_mid", 0.6, "suspicious", "camp_alpha"),
        account("acct_lone", 0.5, "suspicious", None),
        account("acct_solo_c", 0.8, "distillation", "camp_beta"),
        account("acct_fine", 0.05, "benign"),
    ]
    campaigns = [
        campaign("camp_alpha", ["acct_high", "acct_mid"], [["2026-02-01", 10], ["2026-02-02", 40]]),
        campaign("camp_beta", ["acct_solo_c"]),
    ]
    return accounts, campaigns


def table_row_ids(parser: StrictParser) -> list[str]:
    return [
        attrs["id"] or ""
        for tag, attrs in parser.starts
        if tag == "tr" and (attrs.get("id") or "").startswith("acct-")
    ]


def test_every_flagged_account_and_campaign_is_listed(scan: tuple[list, list]) -> None:
    accounts, campaigns = scan
    text = render_report(accounts, campaigns, SUMMARY)
    parser = parse(text)
    flagged = [a["account_id"] for a in accounts if a["verdict"] != "benign"]
    assert table_row_ids(parser) == [
        f"acct-{a}" for a in ("acct_high", "acct_solo_c", "acct_mid", "acct_lone")
    ]
    for account_id in flagged:
        assert account_id in text
    card_ids = [attrs.get("id") for tag, attrs in parser.starts if tag == "article"]
    assert card_ids == ["campaign-camp_alpha", "campaign-camp_beta"]
    assert "acct_fine" not in text  # benign accounts stay in accounts.jsonl only


def test_campaign_links_point_at_existing_anchors(scan: tuple[list, list]) -> None:
    parser = parse(render_report(*scan, SUMMARY))
    ids = {attrs.get("id") for _, attrs in parser.starts if attrs.get("id")}
    fragments = [
        attrs["href"][1:]
        for tag, attrs in parser.starts
        if tag == "a" and (attrs.get("href") or "").startswith("#")
    ]
    assert "campaign-camp_alpha" in fragments and "acct-acct_high" in fragments
    assert set(fragments) <= ids


def test_attacker_text_is_escaped() -> None:
    payload = '</div><script>alert("pwned")</script>'
    accounts = [
        account('acct_"><img src=x onerror=alert(1)>', 0.9, "distillation", "c<1>", payload),
    ]
    campaigns = [campaign("c<1>", [accounts[0]["account_id"]])]
    campaigns[0]["summary"] = "<b>bold</b> summary"
    rejected = [
        {"file": "a.jsonl", "line": 3, "reason": "bad json", "text": "<script>x()</script>"}
    ]
    text = render_report(accounts, campaigns, SUMMARY, rejected_sample=rejected)
    parser = parse(text)
    assert '<script>alert("pwned")</script>' not in text
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in text
    assert "<b>bold</b>" not in text and "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "<script>x()</script>" not in text
    tags = [tag for tag, _ in parser.starts]
    assert tags.count("script") == 1
    assert "img" not in tags and "b" not in tags
    assert not any("onerror" in attrs for _, attrs in parser.starts)


def test_no_network_resources(scan: tuple[list, list]) -> None:
    accounts, campaigns = scan
    accounts[0]["evidence"][0]["detail"] = "prompt says: fetch https://evil.example/a.png"
    text = render_report(accounts, campaigns, SUMMARY)
    parser = parse(text)
    for tag, attrs in parser.starts:
        for name, value in attrs.items():
            if name in URL_ATTRS and value:
                assert value.startswith("#"), f"<{tag} {name}={value!r}> is not a local anchor"
        assert tag not in {"link", "img", "iframe", "object", "embed", "base"}
        assert not attrs.get("style") or "url(" not in (attrs.get("style") or "")
    assert "@import" not in text and "url(" not in text
    accounts[0]["evidence"][0]["detail"] = "no links here"
    clean = render_report(accounts, campaigns, SUMMARY)
    assert "http://" not in clean and "https://" not in clean


def test_csp_pins_the_inline_script(scan: tuple[list, list]) -> None:
    parser = parse(render_report(*scan, SUMMARY))
    csp = next(
        attrs["content"] or ""
        for tag, attrs in parser.starts
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    (script,) = parser.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp
    assert not any(tag == "script" and attrs.get("src") for tag, attrs in parser.starts)


def test_summary_figures_are_shown(scan: tuple[list, list]) -> None:
    text = render_report(*scan, {**SUMMARY, "lines": 16_000_000})
    assert "16,000,000" in text
    assert re.search(r"Rejected</div><div class=\"n\">10<", text)
    assert "2026-02-01 00:00" in text and "2026-02-09 12:00" in text  # window from campaigns


@dataclass
class FakeSummary:
    lines: int
    read: int
    rejected: int
    accounts: int
    flagged: int
    campaigns: int
    seconds: float


def test_summary_may_be_a_dataclass(scan: tuple[list, list]) -> None:
    text = render_report(*scan, FakeSummary(77_777, 77_770, 7, 5, 3, 2, 2.0))
    assert "77,777" in text


def test_accounts_are_capped_riskiest_first() -> None:
    accounts = [account(f"acct_{i:03d}", i / 100, "suspicious") for i in range(30)]
    text = render_report(accounts, [], {}, max_accounts=10)
    parser = parse(text)
    rows = table_row_ids(parser)
    assert rows == [f"acct-acct_{i:03d}" for i in range(29, 19, -1)]
    assert "Showing the 10 riskiest of 30 flagged accounts" in text


def test_evidence_is_expandable_per_row(scan: tuple[list, list]) -> None:
    parser = parse(render_report(*scan, SUMMARY))
    assert sum(1 for tag, _ in parser.starts if tag == "details") >= 4
    text = render_report(*scan, SUMMARY)
    assert "template shared by 12 accounts" in text


def test_long_detail_is_shortened() -> None:
    accounts = [account("a", 0.9, "distillation", detail="x" * 5000)]
    text = render_report(accounts, [], {})
    assert "x" * 5000 not in text
    assert "(shortened)" in text


def test_timeline_svg_only_with_timeline_data(scan: tuple[list, list]) -> None:
    accounts, campaigns = scan
    parser = parse(render_report(accounts, campaigns, SUMMARY))
    rects = [attrs for tag, attrs in parser.starts if tag == "rect"]
    assert len(rects) == 2  # camp_alpha has two days, camp_beta none
    heights = [float(r["height"] or 0) for r in rects]
    assert heights[1] > heights[0]  # 40 exchanges draw taller than 10


def test_long_timeline_is_bucketed() -> None:
    timeline = [[f"day{i}", 1] for i in range(1000)]
    parser = parse(render_report([], [campaign("c", [], timeline)], {}))
    assert 0 < sum(1 for tag, _ in parser.starts if tag == "rect") <= 180


def test_history_adds_change_column() -> None:
    accounts = [account("acct_up", 0.9, "distillation"), account("acct_new", 0.5, "suspicious")]
    history = {
        "acct_up": [
            {"scan_id": "s1", "risk": 0.2, "verdict": "benign"},
            {"scan_id": "s2", "risk": 0.4, "verdict": "suspicious"},
            {"scan_id": "now", "risk": 0.9, "verdict": "distillation"},
        ]
    }
    text = render_report(accounts, [], {"scan_id": "now"}, history=history)
    parse(text)
    assert ">Change<" in text
    assert "+0.50" in text  # 0.4 -> 0.9; the current scan's own row is not "previous"
    assert '<span class="chip new">new</span>' in text
    assert ">Change<" not in render_report(accounts, [], {})


def test_rejected_sample_section(scan: tuple[list, list]) -> None:
    rejected = [
        {"file": "log.jsonl", "line": i, "reason": "missing required field 'ts'", "text": "{}"}
        for i in range(60)
    ]
    text = render_report(*scan, SUMMARY, rejected_sample=rejected)
    parse(text)
    assert 'id="rejected"' in text
    # The summary says 10 rejected but 60 samples came in: never claim fewer than shown.
    assert "Showing 50 of 60 rejected lines" in text
    assert text.count('<td class="mono">log.jsonl</td>') == 50
    assert "missing required field &#x27;ts&#x27;" in text


def test_empty_scan_renders() -> None:
    text = render_report([], [], {"lines": 0, "read": 0, "rejected": 0})
    parse(text)
    assert "No campaigns were found" in text
    assert "None of the 0 accounts was flagged" in text


def test_write_report_writes_utf8_file(tmp_path: Path, scan: tuple[list, list]) -> None:
    accounts, campaigns = scan
    accounts[0]["evidence"][0]["detail"] = "請逐步解釋 — ünïcödé"
    out = write_report(tmp_path / "out" / "report.html", accounts, campaigns, SUMMARY)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "請逐步解釋 — ünïcödé" in out.read_text(encoding="utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    probe = tmp_path / "probe"
    probe.write_text("x")
    assert out.stat().st_mode & 0o777 == probe.stat().st_mode & 0o777  # same as any new file


def test_large_scan_stays_bounded() -> None:
    accounts = [account(f"acct_{i:05d}", (i % 1000) / 1000, "suspicious") for i in range(20_000)]
    text = render_report(accounts, [], {}, max_accounts=5000)
    assert text.count('<tr id="acct-') == 5000
    assert len(text.encode()) < 20_000_000


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_inline_script_is_valid_javascript(tmp_path: Path, scan: tuple[list, list]) -> None:
    (script,) = parse(render_report(*scan, SUMMARY)).scripts
    path = tmp_path / "report.js"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
