"""``report.html``: the scan results for a person, in one self-contained file.

The file must open from disk on an analyst's machine with no network: all CSS
and JavaScript are inline, nothing references a remote resource, and a
Content-Security-Policy pins the one script by hash. Evidence quotes prompt
text that the attacker wrote, so every piece of data goes through
:func:`html.escape` and nothing from the data ever reaches the script.

Large scans are bounded: only flagged accounts are listed, at most
``max_accounts`` of them (riskiest first), with capped evidence per account,
so 20,000 flagged accounts still give a file a browser opens quickly. Every cap
is stated in the page next to the true count.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "render_report",
    "write_report",
    "DEFAULT_MAX_ACCOUNTS",
    "DEFAULT_MAX_CAMPAIGNS",
]

DEFAULT_MAX_ACCOUNTS = 5000
DEFAULT_MAX_CAMPAIGNS = 300
MAX_EVIDENCE_PER_ACCOUNT = 12
MAX_DETAIL_CHARS = 400
MAX_MEMBERS_SHOWN = 80
MAX_INDICATOR_VALUES = 15
MAX_REJECTED_SHOWN = 50
MAX_REJECTED_TEXT = 300
MAX_TIMELINE_BARS = 180

_FLAG_ORDER = {"distillation": 0, "suspicious": 1}


# --------------------------------------------------------------------- helpers
def _e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _clip(text: Any, limit: int) -> tuple[str, bool]:
    """The text cut to ``limit`` characters, and whether it was cut."""
    value = "" if text is None else str(text)
    if len(value) <= limit:
        return value, False
    return value[:limit].rstrip() + "\u2026", True


_ID_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _dom_id(prefix: str, ident: Any) -> str:
    """A fragment-safe element id; ids that needed changing get a hash so they stay unique."""
    raw = str(ident)
    slug = _ID_SAFE.sub("_", raw)[:80]
    if slug != raw:
        slug += "-" + hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{prefix}-{slug}"


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _fmt_int(value: Any) -> str:
    number = _num(value)
    return "\u2014" if number is None else f"{int(number):,}"


def _fmt_score(value: Any) -> str:
    number = _num(value)
    return "\u2014" if number is None else f"{number:.2f}"


def _ts_text(value: Any) -> str | None:
    """RFC 3339 text for a time given as text or epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    seconds = _num(value)
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short_ts(value: Any) -> str:
    """Compact display form (``2026-02-03 10:15``); the exact value goes in a tooltip."""
    text = _ts_text(value)
    if text is None:
        return "\u2014"
    if len(text) >= 16 and text[10] in "T ":
        return f"{text[:10]} {text[11:16]}"
    return text


def _time_el(value: Any) -> str:
    text = _ts_text(value)
    if text is None:
        return '<span class="muted">\u2014</span>'
    return f'<time datetime="{_e(text)}" title="{_e(text)}">{_e(_short_ts(text))}</time>'


def _as_mapping(obj: Any) -> dict:
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"expected a dict, got {type(obj).__name__}")


def _is_flagged(account: Mapping[str, Any]) -> bool:
    verdict = account.get("verdict")
    return verdict is not None and verdict != "benign"


def _verdict_badge(verdict: Any) -> str:
    name = str(verdict or "unknown")
    css = name if name in ("distillation", "suspicious", "benign") else "other"
    return f'<span class="badge v-{css}">{_e(name)}</span>'


def _risk_html(risk: Any) -> str:
    number = _num(risk)
    if number is None:
        return '<span class="muted">\u2014</span>'
    pct = max(0.0, min(1.0, number)) * 100
    level = "hi" if number >= 0.7 else "mid" if number >= 0.4 else "lo"
    return (
        f'<span class="risk"><span class="meter"><span class="fill {level}" '
        f'style="width:{pct:.0f}%"></span></span><span class="rv">{number:.2f}</span></span>'
    )


def _chips(values: Iterable[Any], css: str = "chip", limit: int | None = None) -> str:
    items = list(values)
    shown = items if limit is None else items[:limit]
    out = "".join(f'<span class="{css}">{_e(v)}</span>' for v in shown)
    if limit is not None and len(items) > limit:
        out += f'<span class="more">+{len(items) - limit:,} more</span>'
    return out


# -------------------------------------------------------------------- timeline
def _timeline_points(raw: Any) -> list[tuple[str, float]]:
    """Normalise ``[[day, count], ...]`` or ``[{"day":..,"count":..}, ...]``."""
    points: list[tuple[str, float]] = []
    for item in raw or []:
        if isinstance(item, Mapping):
            day = item.get("day", item.get("date", item.get("ts")))
            count = item.get("count", item.get("exchanges"))
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) >= 2:
            day, count = item[0], item[1]
        else:
            continue
        number = _num(count)
        if day is None or number is None:
            continue
        points.append((str(day), max(0.0, number)))
    return points


def _downsample(points: list[tuple[str, float]], limit: int) -> list[tuple[str, float]]:
    """Sum consecutive points into at most ``limit`` bars, labelled by their range."""
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / limit)
    merged = []
    for start in range(0, len(points), size):
        group = points[start : start + size]
        label = group[0][0] if len(group) == 1 else f"{group[0][0]} \u2013 {group[-1][0]}"
        merged.append((label, sum(c for _, c in group)))
    return merged


def _timeline_svg(raw: Any) -> str:
    points = _downsample(_timeline_points(raw), MAX_TIMELINE_BARS)
    if not points:
        return ""
    width, height = 600, 60
    peak = max(c for _, c in points) or 1.0
    bar_w = width / len(points)
    bars = []
    for i, (day, count) in enumerate(points):
        h = max(1.0, count / peak * (height - 4)) if count > 0 else 0.0
        bars.append(
            f'<rect x="{i * bar_w:.2f}" y="{height - h:.2f}" width="{max(bar_w - 1, 0.6):.2f}" '
            f'height="{h:.2f}"><title>{_e(day)}: {int(count):,} exchanges</title></rect>'
        )
    total = sum(c for _, c in points)
    return (
        '<figure class="timeline">'
        f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="activity per day, peak {int(peak):,}">{"".join(bars)}</svg>'
        f"<figcaption><span>{_e(points[0][0])}</span><span>{int(total):,} exchanges, "
        f"peak {int(peak):,}/day</span><span>{_e(points[-1][0])}</span></figcaption></figure>"
    )


def _previous_risks(rows: Any, current_scan: str | None) -> list[float]:
    """Risks of earlier scans, oldest first; a row of the current scan is skipped."""
    out = []
    for row in rows or []:
        if not isinstance(row, Mapping):
            continue
        if current_scan is not None and row.get("scan_id") == current_scan:
            continue
        risk = _num(row.get("risk"))
        if risk is not None:
            out.append(risk)
    return out


def _history_cell(rows: Any, current_risk: Any, current_scan: str | None) -> tuple[str, float]:
    """A sparkline of risk over earlier scans and this one, plus the change since the last.

    Returns the HTML and the change (the sort key of the column); an account no
    earlier scan saw is "new" and its change is its whole risk.
    """
    risk_now = _num(current_risk) or 0.0
    previous = _previous_risks(rows, current_scan)
    if not previous:
        return '<span class="chip new">new</span>', risk_now
    points = [*previous, risk_now]
    width, height = 80, 20
    step = width / (len(points) - 1)
    coords = " ".join(
        f"{i * step:.1f},{height - 2 - max(0.0, min(1.0, r)) * (height - 4):.1f}"
        for i, r in enumerate(points)
    )
    delta = risk_now - previous[-1]
    trend = "up" if delta > 0.005 else "down" if delta < -0.005 else "flat"
    arrow = {"up": "\u25b2", "down": "\u25bc", "flat": "\u25cf"}[trend]
    label = " \u2192 ".join(f"{r:.2f}" for r in points[-8:])
    svg = (
        f'<svg class="spark" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="risk over {len(points)} scans"><title>risk per scan: {_e(label)}</title>'
        f'<polyline points="{coords}"/></svg>'
    )
    return f'{svg}<span class="trend {trend}">{arrow} {delta:+.2f}</span>', delta


# ------------------------------------------------------------------- sections
def _summary_section(
    summary: dict, accounts: Sequence[Mapping], campaigns: Sequence[Mapping]
) -> str:
    verdicts = Counter(str(a.get("verdict") or "unknown") for a in accounts)
    flagged = summary.get("flagged")
    if flagged is None:
        flagged = sum(1 for a in accounts if _is_flagged(a))
    window_start = summary.get("first_ts")
    window_end = summary.get("last_ts")
    window = summary.get("window")
    if (
        (window_start is None or window_end is None)
        and isinstance(window, Sequence)
        and not isinstance(window, str)
        and len(window) == 2
    ):
        window_start, window_end = window
    if window_start is None or window_end is None:
        starts = sorted(str(c["first_ts"]) for c in campaigns if c.get("first_ts"))
        ends = sorted(str(c["last_ts"]) for c in campaigns if c.get("last_ts"))
        window_start = window_start or (starts[0] if starts else None)
        window_end = window_end or (ends[-1] if ends else None)
    stats = [
        ("Lines", _fmt_int(summary.get("lines")), ""),
        ("Read", _fmt_int(summary.get("read")), ""),
        ("Rejected", _fmt_int(summary.get("rejected")), "warn" if summary.get("rejected") else ""),
        ("Accounts", _fmt_int(summary.get("accounts", len(accounts))), ""),
        ("Flagged", _fmt_int(flagged), "alert" if flagged else ""),
        ("Campaigns", _fmt_int(summary.get("campaigns", len(campaigns))), ""),
    ]
    cards = "".join(
        f'<div class="stat {css}"><div class="k">{_e(k)}</div><div class="n">{v}</div></div>'
        for k, v, css in stats
    )
    seconds = _num(summary.get("seconds"))
    meta = [
        f"Time window: {_time_el(window_start)} \u2013 {_time_el(window_end)}",
        "Verdicts: "
        + ", ".join(
            f"{_verdict_badge(name)} {count:,}"
            for name, count in sorted(
                verdicts.items(), key=lambda kv: (_FLAG_ORDER.get(kv[0], 9), kv[0])
            )
        )
        if verdicts
        else "Verdicts: none",
    ]
    if seconds is not None:
        meta.append(f"Scan took {seconds:,.1f} s")
    items = "".join(f"<li>{m}</li>" for m in meta)
    return f'<section class="summary" aria-label="scan summary"><div class="stats">{cards}</div><ul class="meta">{items}</ul></section>'


def _overview_section(flagged: Sequence[Mapping]) -> str:
    """What is being extracted and which signals fired, over the flagged accounts."""
    if not flagged:
        return ""
    caps: Counter[str] = Counter()
    sigs: Counter[str] = Counter()
    for acc in flagged:
        caps.update({str(c) for c in acc.get("capabilities") or []})
        sigs.update(
            {str(ev.get("signal")) for ev in acc.get("evidence") or [] if isinstance(ev, Mapping)}
        )

    def bars(counter: Counter[str], title: str) -> str:
        if not counter:
            return ""
        top = counter.most_common(12)
        peak = top[0][1] or 1
        rows = "".join(
            f'<li><span class="lbl">{_e(name)}</span><span class="hbar"><span style="width:{count / peak * 100:.0f}%"></span></span>'
            f'<span class="cnt">{count:,}</span></li>'
            for name, count in top
        )
        more = f'<p class="note">+{len(counter) - 12:,} more</p>' if len(counter) > 12 else ""
        return f'<div class="panel"><h3>{_e(title)}</h3><ul class="bars">{rows}</ul>{more}</div>'

    return (
        '<section class="overview"><h2>Overview of flagged accounts</h2><div class="panels">'
        + bars(caps, "Capabilities targeted (accounts)")
        + bars(sigs, "Signals in evidence (accounts)")
        + "</div></section>"
    )


def _indicators_html(indicators: Any) -> str:
    if not isinstance(indicators, Mapping) or not indicators:
        return ""
    rows = []
    for key, values in indicators.items():
        if values is None or values == [] or values == {}:
            continue
        if isinstance(values, Mapping):
            listed = [f"{k}: {v}" for k, v in values.items()]
        elif isinstance(values, str | int | float):
            listed = [values]
        else:
            listed = list(values)
        rows.append(
            f'<tr><th scope="row">{_e(key)}</th><td>{_chips(listed, "chip mono", MAX_INDICATOR_VALUES)}</td></tr>'
        )
    if not rows:
        return ""
    return (
        f'<details class="ind"><summary>Indicators ({len(rows)} kinds)</summary>'
        f'<table class="kv">{"".join(rows)}</table></details>'
    )


def _campaign_card(camp: Mapping, shown_accounts: set[str]) -> str:
    cid = camp.get("campaign_id")
    members = [str(m) for m in camp.get("accounts") or []]
    member_links = []
    for member in members[:MAX_MEMBERS_SHOWN]:
        if member in shown_accounts:
            member_links.append(
                f'<a class="chip mono" href="#{_dom_id("acct", member)}">{_e(member)}</a>'
            )
        else:
            member_links.append(f'<span class="chip mono">{_e(member)}</span>')
    if len(members) > MAX_MEMBERS_SHOWN:
        member_links.append(f'<span class="more">+{len(members) - MAX_MEMBERS_SHOWN:,} more</span>')
    facts = [
        ("Members", _fmt_int(len(members))),
        ("Exchanges", _fmt_int(camp.get("exchanges"))),
        ("First seen", _time_el(camp.get("first_ts"))),
        ("Last seen", _time_el(camp.get("last_ts"))),
    ]
    fact_html = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    caps = camp.get("capabilities") or []
    summary = camp.get("summary") or ""
    return (
        f'<article class="card" id="{_dom_id("campaign", cid)}">'
        f'<header><h3 class="mono">{_e(cid)}</h3>{_risk_html(camp.get("risk"))}</header>'
        + (f'<p class="lead">{_e(summary)}</p>' if summary else "")
        + f'<dl class="facts">{fact_html}</dl>'
        + (f'<div class="caps">{_chips(caps, "chip cap")}</div>' if caps else "")
        + _timeline_svg(camp.get("timeline"))
        + _indicators_html(camp.get("indicators"))
        + f'<details class="members"><summary>Members ({len(members):,})</summary><div class="chips">{"".join(member_links)}</div></details>'
        + f'<button type="button" class="show-members" data-campaign="{_e(cid)}">Show members in the accounts table</button>'
        + "</article>"
    )


def _campaign_section(
    campaigns: Sequence[Mapping], max_campaigns: int, shown_accounts: set[str]
) -> tuple[str, set[str]]:
    ordered = sorted(
        campaigns,
        key=lambda c: (
            -(_num(c.get("risk")) or 0.0),
            -(_num(c.get("exchanges")) or 0.0),
            str(c.get("campaign_id")),
        ),
    )
    shown = ordered[:max_campaigns]
    shown_ids = {str(c.get("campaign_id")) for c in shown}
    if not campaigns:
        body = '<p class="empty">No campaigns were found in this scan.</p>'
    else:
        body = (
            '<div class="cards">'
            + "".join(_campaign_card(c, shown_accounts) for c in shown)
            + "</div>"
        )
    cap_note = (
        f'<p class="note">Showing the {len(shown):,} riskiest of {len(campaigns):,} campaigns; '
        "every campaign is in campaigns.jsonl.</p>"
        if len(campaigns) > len(shown)
        else ""
    )
    html_out = (
        f'<section id="campaigns"><h2>Campaigns <span class="count">{len(campaigns):,}</span></h2>'
        f"{cap_note}{body}</section>"
    )
    return html_out, shown_ids


def _evidence_html(evidence: Any) -> str:
    items = [ev for ev in evidence or [] if isinstance(ev, Mapping)]
    if not items:
        return '<span class="muted">no evidence recorded</span>'
    top = items[0]
    lis = []
    for ev in items[:MAX_EVIDENCE_PER_ACCOUNT]:
        detail, cut = _clip(ev.get("detail"), MAX_DETAIL_CHARS)
        cut_note = ' <span class="muted">(shortened)</span>' if cut else ""
        lis.append(
            f'<li><code class="sig">{_e(ev.get("signal"))}</code> '
            f'<span class="score">{_fmt_score(ev.get("score"))}</span>'
            f'<div class="detail">{_e(detail)}{cut_note}</div></li>'
        )
    more = (
        f'<li class="muted">+{len(items) - MAX_EVIDENCE_PER_ACCOUNT:,} more in accounts.jsonl</li>'
        if len(items) > MAX_EVIDENCE_PER_ACCOUNT
        else ""
    )
    return (
        f'<details><summary><code class="sig">{_e(top.get("signal"))}</code> '
        f'<span class="score">{_fmt_score(top.get("score"))}</span>'
        f'<span class="muted"> \u00b7 {len(items):,} signal{"s" if len(items) != 1 else ""}</span></summary>'
        f'<ol class="ev">{"".join(lis)}{more}</ol></details>'
    )


def _accounts_section(
    flagged: Sequence[Mapping],
    shown: Sequence[Mapping],
    campaign_anchors: set[str],
    history: Mapping[str, Any] | None,
    total_accounts: int,
    current_scan: str | None,
) -> str:
    if not flagged:
        return (
            '<section id="accounts"><h2>Flagged accounts <span class="count">0</span></h2>'
            f'<p class="empty">None of the {total_accounts:,} accounts was flagged.</p></section>'
        )
    headers = [
        ("Account", "text"),
        ("Verdict", "text"),
        ("Risk", "num"),
        ("Exchanges", "num"),
        ("Campaign", "text"),
        ("Capabilities", "text"),
        ("First flagged", "text"),
    ]
    if history is not None:
        headers.append(("Change", "num"))
    headers.append(("Evidence", None))
    head = "".join(
        f'<th scope="col" data-sort="{kind}" tabindex="0">{_e(name)}</th>'
        if kind
        else f'<th scope="col">{_e(name)}</th>'
        for name, kind in headers
    )
    rows = []
    for acc in shown:
        aid = acc.get("account_id")
        cid = acc.get("campaign_id")
        verdict = str(acc.get("verdict") or "")
        if cid is None:
            camp_cell = '<td data-v=""><span class="muted">\u2014</span></td>'
        elif str(cid) in campaign_anchors:
            camp_cell = f'<td data-v="{_e(cid)}"><a class="mono" href="#{_dom_id("campaign", cid)}">{_e(cid)}</a></td>'
        else:
            camp_cell = f'<td data-v="{_e(cid)}"><span class="mono">{_e(cid)}</span></td>'
        caps = acc.get("capabilities") or []
        first = _ts_text(acc.get("first_flagged_ts"))
        cells = [
            f'<td class="mono" data-v="{_e(aid)}">{_e(aid)}</td>',
            f'<td data-v="{_FLAG_ORDER.get(verdict, 9)}{_e(verdict)}">{_verdict_badge(verdict)}</td>',
            f'<td data-v="{_num(acc.get("risk")) or 0.0:.4f}">{_risk_html(acc.get("risk"))}</td>',
            f'<td class="r" data-v="{_num(acc.get("exchanges")) or 0:.0f}">{_fmt_int(acc.get("exchanges"))}</td>',
            camp_cell,
            f'<td data-v="{_e(" ".join(map(str, caps)))}">{_chips(caps, "chip cap")}</td>',
            f'<td data-v="{_e(first or "~")}">{_time_el(first)}</td>',
        ]
        if history is not None:
            cell, delta = _history_cell(history.get(str(aid)), acc.get("risk"), current_scan)
            cells.append(f'<td data-v="{delta:.4f}">{cell}</td>')
        cells.append(f'<td class="evidence">{_evidence_html(acc.get("evidence"))}</td>')
        rows.append(
            f'<tr id="{_dom_id("acct", aid)}" data-verdict="{_e(verdict)}" data-campaign="{_e(cid or "")}">'
            + "".join(cells)
            + "</tr>"
        )
    cap_note = (
        f'<p class="note">Showing the {len(shown):,} riskiest of {len(flagged):,} flagged accounts '
        f"(cap {len(shown):,}); every account is in accounts.jsonl.</p>"
        if len(flagged) > len(shown)
        else ""
    )
    campaign_options = "".join(
        f'<option value="{_e(c)}">{_e(c)}</option>'
        for c in sorted(
            {str(a.get("campaign_id")) for a in shown if a.get("campaign_id") is not None}
        )
    )
    controls = (
        '<div class="controls">'
        '<label>Filter <input type="search" id="filter" placeholder="account, signal, capability, text\u2026" autocomplete="off"></label>'
        '<label>Verdict <select id="verdict-filter"><option value="">all</option>'
        '<option value="distillation">distillation</option><option value="suspicious">suspicious</option></select></label>'
        f'<label>Campaign <select id="campaign-filter"><option value="">all</option>{campaign_options}</select></label>'
        f'<span class="shown"><span id="shown-count">{len(shown):,}</span> of {len(shown):,} rows shown</span>'
        "</div>"
    )
    return (
        f'<section id="accounts"><h2>Flagged accounts <span class="count">{len(flagged):,}</span></h2>'
        f'<p class="note">{len(flagged):,} of {total_accounts:,} accounts are flagged; benign accounts are '
        "listed only in accounts.jsonl. Click a column header to sort; open a row's evidence to see "
        "what was matched.</p>"
        f"{cap_note}{controls}"
        f'<div class="table-wrap"><table id="accounts-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _rejected_section(rejected_sample: Sequence[Mapping] | None, rejected_total: Any) -> str:
    if not rejected_sample:
        return ""
    sample = [_as_mapping(r) for r in rejected_sample[:MAX_REJECTED_SHOWN]]
    total = max(int(_num(rejected_total) or 0), len(rejected_sample))
    rows = []
    for item in sample:
        text, _ = _clip(item.get("text"), MAX_REJECTED_TEXT)
        rows.append(
            f'<tr><td class="mono">{_e(item.get("file"))}</td><td class="r">{_fmt_int(item.get("line"))}</td>'
            f'<td>{_e(item.get("reason"))}</td><td><code class="raw">{_e(text)}</code></td></tr>'
        )
    return (
        f'<section id="rejected"><h2>Rejected input <span class="count">{total:,}</span></h2>'
        f'<p class="note">Showing {len(sample):,} of {total:,} rejected lines; all are in rejected.jsonl.</p>'
        '<div class="table-wrap"><table class="plain"><thead><tr><th scope="col">File</th>'
        '<th scope="col">Line</th><th scope="col">Reason</th><th scope="col">Original text</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


# ------------------------------------------------------------- static assets
_CSS = """
:root{--bg:#f7f8fa;--fg:#1a1d23;--muted:#5b6472;--card:#fff;--line:#dde1e7;--accent:#2355c4;
--hi:#c4320a;--mid:#b54708;--lo:#2f7d4f;--chip:#eef1f5;--th:#f0f2f5;
--bad-bg:#fde4e1;--bad-fg:#8f1d10;--warn-bg:#fdf0cc;--warn-fg:#7a3e06;--ok-bg:#dcf3e4;--ok-fg:#1c5a36}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--fg:#e6e8eb;--muted:#a2aab6;--card:#1d2128;
--line:#333a45;--accent:#8fb0ff;--chip:#2a303a;--th:#222730;--bad-bg:#4a1c17;--bad-fg:#ffc9c0;
--warn-bg:#47330f;--warn-fg:#ffdc9c;--ok-bg:#173a26;--ok-fg:#b5ecc8;--hi:#ff8a65;--mid:#f6b04d;--lo:#6fcf97}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1400px;margin:0 auto;padding:0 24px 48px}
.top{background:var(--card);border-bottom:1px solid var(--line);padding:18px 24px;margin-bottom:20px}
.top h1{margin:0;font-size:20px}.top p{margin:4px 0 0;color:var(--muted)}
h2{font-size:17px;margin:32px 0 8px}h3{font-size:15px;margin:0}
.count{display:inline-block;min-width:2em;padding:0 8px;border-radius:10px;background:var(--chip);font-size:13px;text-align:center;color:var(--muted)}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.muted{color:var(--muted)}.note{color:var(--muted);margin:4px 0 10px}.empty{color:var(--muted);font-style:italic}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:10px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.stat .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.stat .n{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.stat.alert .n{color:var(--hi)}.stat.warn .n{color:var(--mid)}
ul.meta{list-style:none;padding:0;margin:12px 0 0;display:flex;flex-wrap:wrap;gap:6px 24px;color:var(--muted)}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:12px}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
ul.bars{list-style:none;padding:0;margin:8px 0 0}
ul.bars li{display:grid;grid-template-columns:170px 1fr 60px;gap:8px;align-items:center;margin:3px 0}
.lbl{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.cnt{text-align:right;font-variant-numeric:tabular-nums}
.hbar{height:8px;background:var(--chip);border-radius:4px;overflow:hidden}.hbar span{display:block;height:100%;background:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;scroll-margin-top:12px}
.card:target,tr:target td{outline:2px solid var(--accent);outline-offset:-2px}
.card header{display:flex;justify-content:space-between;align-items:center;gap:10px}
.lead{margin:8px 0}
dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(110px,1fr));gap:6px 12px;margin:8px 0}
dl.facts dt{font-size:12px;color:var(--muted)}dl.facts dd{margin:0;font-variant-numeric:tabular-nums}
.chip{display:inline-block;background:var(--chip);border-radius:4px;padding:1px 6px;margin:2px 4px 2px 0;font-size:12px;color:var(--fg);text-decoration:none;word-break:break-all}
a.chip:hover{outline:1px solid var(--accent)}.chip.cap{background:var(--ok-bg);color:var(--ok-fg)}.chip.new{background:var(--warn-bg);color:var(--warn-fg)}
.more{font-size:12px;color:var(--muted);margin-left:4px}
.badge{display:inline-block;border-radius:10px;padding:0 9px;font-size:12px;font-weight:600}
.v-distillation{background:var(--bad-bg);color:var(--bad-fg)}.v-suspicious{background:var(--warn-bg);color:var(--warn-fg)}
.v-benign{background:var(--ok-bg);color:var(--ok-fg)}.v-other{background:var(--chip);color:var(--fg)}
.risk{display:inline-flex;align-items:center;gap:6px;white-space:nowrap}
.meter{display:inline-block;width:60px;height:7px;border-radius:4px;background:var(--chip);overflow:hidden}
.fill{display:block;height:100%}.fill.hi{background:var(--hi)}.fill.mid{background:var(--mid)}.fill.lo{background:var(--lo)}
.rv{font-variant-numeric:tabular-nums}
.timeline{margin:10px 0 4px}.timeline svg{width:100%;height:60px;display:block;background:var(--chip);border-radius:4px}
.timeline rect{fill:var(--accent)}.timeline rect:hover{fill:var(--hi)}
.timeline figcaption{display:flex;justify-content:space-between;font-size:12px;color:var(--muted)}
details summary{cursor:pointer}details.ind,details.members{margin-top:8px}
table.kv{border-collapse:collapse;margin-top:6px}table.kv th{text-align:left;vertical-align:top;padding:2px 10px 2px 0;font-weight:500;color:var(--muted);white-space:nowrap}
.show-members{margin-top:10px;font:inherit;font-size:13px;color:var(--accent);background:none;border:1px solid var(--line);border-radius:6px;padding:3px 10px;cursor:pointer}
.controls{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;margin:10px 0;position:sticky;top:0;background:var(--bg);padding:8px 0;z-index:2}
.controls input,.controls select{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg)}
.controls input{width:300px}.shown{color:var(--muted)}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px;background:var(--card)}
table{border-collapse:collapse;width:100%}
#accounts-table th,#accounts-table td,table.plain th,table.plain td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--th);font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);white-space:nowrap}
th[data-sort]{cursor:pointer;user-select:none}th[data-sort]:hover{color:var(--fg)}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tbody tr:hover{background:var(--th)}td.r{text-align:right;font-variant-numeric:tabular-nums}
td.evidence{min-width:300px;max-width:560px}
ol.ev{margin:6px 0 0;padding-left:20px}ol.ev li{margin:4px 0}
.detail{color:var(--muted);white-space:pre-wrap;word-break:break-word;font-size:13px}
.score{font-variant-numeric:tabular-nums;font-weight:600;margin-left:4px}
code.raw{white-space:pre-wrap;word-break:break-all}
.spark{width:80px;height:20px;vertical-align:middle}.spark polyline{fill:none;stroke:var(--accent);stroke-width:1.5}
.trend{font-size:12px;margin-left:4px;font-variant-numeric:tabular-nums}.trend.up{color:var(--hi)}.trend.down{color:var(--lo)}
footer{margin-top:40px;color:var(--muted);font-size:12px}
"""

_JS = """
(function () {
  "use strict";
  var table = document.getElementById("accounts-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var cache = new Map();
  var box = document.getElementById("filter");
  var verdictSel = document.getElementById("verdict-filter");
  var campaignSel = document.getElementById("campaign-filter");
  var counter = document.getElementById("shown-count");

  function apply() {
    var needle = box.value.trim().toLowerCase();
    var verdict = verdictSel.value;
    var campaign = campaignSel.value;
    var shown = 0;
    rows.forEach(function (row) {
      var text = cache.get(row);
      if (text === undefined) { text = row.textContent.toLowerCase(); cache.set(row, text); }
      var ok = (!verdict || row.dataset.verdict === verdict) &&
               (!campaign || row.dataset.campaign === campaign) &&
               (!needle || text.indexOf(needle) !== -1);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    counter.textContent = shown.toLocaleString();
  }
  var timer = null;
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  verdictSel.addEventListener("change", apply);
  campaignSel.addEventListener("change", apply);

  function sortBy(th) {
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.dataset.sort === "num";
    var desc = th.getAttribute("aria-sort") !== "descending";
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    var keyed = rows.map(function (row, i) {
      var cell = row.cells[col];
      var raw = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent;
      return { row: row, i: i, k: numeric ? (parseFloat(raw) || 0) : raw.toLowerCase() };
    });
    keyed.sort(function (a, b) {
      var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
      return (desc ? -c : c) || a.i - b.i;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (item) { frag.appendChild(item.row); });
    tbody.appendChild(frag);
  }
  table.tHead.addEventListener("click", function (ev) {
    var th = ev.target.closest("th[data-sort]");
    if (th) { sortBy(th); }
  });
  table.tHead.addEventListener("keydown", function (ev) {
    var th = ev.target.closest("th[data-sort]");
    if (th && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); sortBy(th); }
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.show-members"), function (btn) {
    btn.addEventListener("click", function () {
      var wanted = btn.dataset.campaign;
      var known = Array.prototype.some.call(campaignSel.options, function (o) { return o.value === wanted; });
      campaignSel.value = known ? wanted : "";
      if (!known) { box.value = wanted; }
      apply();
      document.getElementById("accounts").scrollIntoView();
    });
  });
})();
"""

_JS_HASH = base64.b64encode(hashlib.sha256(_JS.encode("utf-8")).digest()).decode("ascii")
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_JS_HASH}'; img-src data:; base-uri 'none'; form-action 'none'"
)


# ------------------------------------------------------------------ public API
def render_report(
    accounts: list[dict],
    campaigns: list[dict],
    summary: dict,
    *,
    rejected_sample: list[dict] | None = None,
    history: dict | None = None,
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
    max_campaigns: int = DEFAULT_MAX_CAMPAIGNS,
    title: str = "distillwatch scan report",
    generated_at: float | None = None,
) -> str:
    """The whole ``report.html`` as text.

    ``accounts`` and ``campaigns`` are scan-output v1 records (campaigns may
    carry ``timeline: [[day_iso, count], ...]``). ``summary`` holds the scan
    counts (``lines``, ``read``, ``rejected``, ``accounts``, ``flagged``,
    ``campaigns``, ``seconds``; optional ``first_ts``/``last_ts``); a
    ``ScanSummary`` dataclass works too. ``history`` maps an account id to its
    verdict rows (``Store.verdict_history`` rows, oldest first) and adds a
    "Change" column; rows whose ``scan_id`` equals ``summary["scan_id"]`` are
    the current scan and are skipped, so history may be read before or after
    saving this scan.
    """
    from distillwatch import __version__

    summary_map = _as_mapping(summary)
    account_list = [_as_mapping(a) for a in accounts]
    campaign_list = [_as_mapping(c) for c in campaigns]
    flagged = sorted(
        (a for a in account_list if _is_flagged(a)),
        key=lambda a: (
            -(_num(a.get("risk")) or 0.0),
            _FLAG_ORDER.get(str(a.get("verdict")), 9),
            -(_num(a.get("exchanges")) or 0.0),
            str(a.get("account_id")),
        ),
    )
    shown_accounts = flagged[: max(0, max_accounts)]
    shown_ids = {str(a.get("account_id")) for a in shown_accounts}
    campaign_html, campaign_anchors = _campaign_section(
        campaign_list, max(0, max_campaigns), shown_ids
    )
    stamp = datetime.fromtimestamp(
        time.time() if generated_at is None else generated_at, tz=UTC
    ).strftime("%Y-%m-%d %H:%M:%S UTC")
    nav = (
        '<nav class="note"><a href="#campaigns">Campaigns</a> \u00b7 <a href="#accounts">Flagged accounts</a>'
        + (' \u00b7 <a href="#rejected">Rejected input</a>' if rejected_sample else "")
        + "</nav>"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f'<header class="top"><h1>{_e(title)}</h1><p>Generated {_e(stamp)} by distillwatch {_e(__version__)}. '
        "Self-contained: opens from disk, loads nothing from the network.</p></header><main>",
        _summary_section(summary_map, account_list, campaign_list),
        nav,
        _overview_section(flagged),
        campaign_html,
        _accounts_section(
            flagged,
            shown_accounts,
            campaign_anchors,
            history,
            len(account_list),
            None if summary_map.get("scan_id") is None else str(summary_map["scan_id"]),
        ),
        _rejected_section(rejected_sample, summary_map.get("rejected")),
        "<footer>Evidence quotes the logged prompts as text; nothing in this page is executed from the data. "
        "Verdicts are for an analyst to review before acting.</footer>",
        f"</main><script>{_JS}</script></body></html>",
    ]
    return "\n".join(parts)


def write_report(
    path: str | Path,
    accounts: list[dict],
    campaigns: list[dict],
    summary: dict,
    **options: Any,
) -> Path:
    """Render and write the report atomically (a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(accounts, campaigns, summary, **options)
    # A sibling temp file (not mkstemp, whose 0600 mode would make the report
    # unreadable to the analyst's other tools) renamed over the target.
    tmp_path = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return target
