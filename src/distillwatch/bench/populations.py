"""Benign populations, including the hard negatives that make detection hard.

Each population is a recipe: how many accounts it has at a given scale, what
each account looks like (:meth:`Population.account`), what it plans to send
on a given day (:meth:`Population.plan_day`, cheap tuples) and how one planned
request becomes a full exchange-log record (:meth:`Population.render`). Plans
and profiles are pure functions of the seed, so the generator can rebuild
them at any time instead of keeping them.

Hard negatives here: SaaS apps sending one template at high volume, eval teams
running chain-of-thought prompts over benchmark items in bursts right after a
model release, LLM-as-judge pipelines sending rubric templates, agent products
with fixed tool schemas, many employees behind one NAT address, students and
chat users asking for step-by-step help, developers adopting a new model
within hours of its release.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from distillwatch.bench import phrases
from distillwatch.bench.content import (
    answer_text,
    chat_history,
    code_file,
    csv_table,
    make_tool_calls,
    pick,
    reply_from,
    stepwise_reasoning,
    tool_result,
    tool_specs,
    user_turns,
)
from distillwatch.bench.shapes import API_SHAPES, Call, Msg, Reply, fake_image, render
from distillwatch.bench.timing import (
    burst_offsets,
    curve_arrivals,
    human_session_starts,
    latency_ms,
    think_time,
)
from distillwatch.bench.world import (
    COUNTRIES,
    MODEL_FLAGSHIP,
    MODEL_MINI,
    MODEL_NEW,
    MODEL_REASONER,
    Account,
    Network,
    World,
    hosting_ip,
    residential_ip,
    rfc3339,
    ua_and_tls,
)

__all__ = [
    "Plan",
    "Population",
    "BENIGN_POPULATIONS",
    "emit",
    "pick_model",
    "ChatUsers",
    "Students",
    "Developers",
    "SaasTemplate",
    "EvalTeams",
    "JudgePipelines",
    "AgentProducts",
    "SharedNat",
    "GeneralAssistants",
]

#: (ts, kind, seed, args): a request an account will send, cheap to keep and sort.
Plan = tuple[float, str, int, tuple[Any, ...]]

_FREEMAIL = (
    "mailbox.example",
    "inbox.example",
    "post.example",
    "webmail.example",
    "fastmail.example",
)
_API_WEIGHTS = (0.5, 0.2, 0.3)


def pick_model(w: World, acct: Account, ts: float) -> str:
    """The account's usual model, or the newly released one once it has adopted it."""
    adopt = acct.extra.get("adopt_after")
    if adopt is not None and ts >= w.calendar.release_ts + adopt:
        return MODEL_NEW
    return acct.extra.get("model", MODEL_FLAGSHIP)


def emit(
    w: World,
    acct: Account,
    ts: float,
    call: Call,
    reply: Reply,
    rng: random.Random,
    *,
    api: str | None = None,
    ip: str | None = None,
    asn: int | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    fail_rate: float = 0.003,
) -> dict[str, Any]:
    """One exchange-log v1 record."""
    api = api or acct.api
    rid = f"{rng.getrandbits(64):016x}"
    request, response, _, out_tokens = render(api, call, reply, rid, int(ts))
    record: dict[str, Any] = {
        "id": f"ex_{rng.getrandbits(80):020x}",
        "ts": rfc3339(ts),
        **acct.meta(rng, ts, ip=ip, asn=asn),
        "api": api,
        "request": request,
    }
    if session_id:
        record["session_id"] = session_id
    if user_id:
        record["user_id"] = user_id
    if rng.random() < fail_rate:
        record["status"] = rng.choice((500, 503, 529))
        record["latency_ms"] = round(rng.uniform(50, 30_000), 1)
        return record
    record["response"] = response
    record["status"] = 200
    record["latency_ms"] = latency_ms(rng, out_tokens, reasoning=bool(reply.reasoning))
    return record


def _api(rng: random.Random, weights: tuple[float, ...] = _API_WEIGHTS) -> str:
    return rng.choices(API_SHAPES, weights=weights)[0]


def _country(rng: random.Random) -> tuple[str, float]:
    return COUNTRIES[rng.randrange(len(COUNTRIES))]


class Population:
    """A group of accounts that behave alike; subclasses fill in the recipe."""

    group: ClassVar[str]
    label: ClassVar[str] = "benign"
    base_accounts: ClassVar[float] = 1
    min_accounts: ClassVar[int] = 1

    def n_accounts(self, w: World) -> int:
        return w.count(self.base_accounts, self.min_accounts)

    def account(self, w: World, i: int) -> Account:
        raise NotImplementedError

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        raise NotImplementedError

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        raise NotImplementedError

    # -- shared helpers ---------------------------------------------------
    def _aid(self, w: World, i: int) -> str:
        return w.oid("acct", self.group, i)

    def _person(
        self,
        w: World,
        i: int,
        *,
        tiers: tuple[str, ...],
        browser_share: float,
        age_days: tuple[float, float] = (5, 900),
    ) -> Account:
        """A person's account: home network, personal e-mail, own card."""
        rng = w.rng(self.group, "acct", i)
        country, tz = _country(rng)
        api = _api(rng)
        ua, tls = ua_and_tls(rng, api, browser=rng.random() < browser_share)
        ips = [residential_ip(rng) for _ in range(rng.randint(1, 3))]
        adopt = rng.uniform(0, 5 * 86400) if rng.random() < 0.5 else None
        created = w.calendar.start - rng.uniform(*age_days) * 86400
        if rng.random() < 0.06:  # people sign up during the period too: fresh is not suspicious
            created = w.calendar.start + rng.uniform(0, w.calendar.days - 1) * 86400
        return Account(
            account_id=self._aid(w, i),
            created_at=created,
            tier=rng.choice(tiers),
            country=country,
            tz_hours=tz,
            api=api,
            net=Network(ips=[ip for ip, _ in ips], asn=ips[0][1], user_agent=ua, tls=tls),
            keys=[w.oid("key", self.group, i, k) for k in range(rng.randint(1, 2))],
            payment_fp=w.oid("pf", self.group, i) if rng.random() < 0.8 else None,
            verified=rng.random() < 0.5,
            email_domain=rng.choice(_FREEMAIL)
            if rng.random() < 0.8
            else w.oid("d", self.group, i, n=8)[2:] + ".example",
            extra={
                "model": rng.choice((MODEL_FLAGSHIP, MODEL_FLAGSHIP, MODEL_MINI)),
                "adopt_after": adopt,
            },
        )

    def _ip(self, acct: Account, rng: random.Random) -> str:
        return acct.net.ips[rng.randrange(len(acct.net.ips))]

    @staticmethod
    def _exists(w: World, acct: Account, day: int) -> bool:
        """Whether the account has been created by the end of this day."""
        return acct.created_at < w.calendar.day_start(day + 1)


# ---------------------------------------------------------------------------
# casual chat users
# ---------------------------------------------------------------------------


class ChatUsers(Population):
    """People chatting through an app or SDK: multi-turn sessions replayed turn by turn."""

    group = "benign:chat"
    base_accounts = 1500
    min_accounts = 4
    _MAX_TURNS = 6

    def account(self, w: World, i: int) -> Account:
        acct = self._person(w, i, tiers=("free", "free", "standard"), browser_share=0.5)
        rng = w.rng(self.group, "habits", i)
        acct.extra.update(
            active=rng.uniform(0.1, 0.7),
            sessions=rng.uniform(0.5, 1.6),
            redteam=rng.random() < 0.15,
        )
        return acct

    def _session_plans(
        self,
        w: World,
        acct: Account,
        rng: random.Random,
        start: float,
        pool: str,
        followup_rate: float,
    ) -> tuple[list[Plan], float]:
        idx = rng.randrange(w.source.size(pool))
        item = w.source.item(pool, idx)
        turns = min(user_turns(item), self._MAX_TURNS)
        session = f"{rng.getrandbits(48):012x}"
        plans: list[Plan] = []
        ts = start
        for k in range(turns):
            plans.append((ts, "chat", rng.getrandbits(63), (pool, idx, k, session, False)))
            _, msgs, reply = chat_history(item, k)
            nxt = chat_history(item, k + 1)[1] if k + 1 < turns else []
            ts += (
                3 + len(reply) / 60 + think_time(rng, len(reply), len(nxt[-1].text) if nxt else 60)
            )
        if rng.random() < followup_rate:  # "can you explain that step by step?"
            plans.append((ts, "chat", rng.getrandbits(63), (pool, idx, turns - 1, session, True)))
            ts += 60
        return plans, ts

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        if rng.random() > acct.extra["active"] or not self._exists(w, acct, day):
            return []
        starts = human_session_starts(
            rng,
            w.calendar.day_start(day),
            acct.tz_hours,
            acct.extra["sessions"],
            weekday=day % 7,
            weekend_factor=1.3,
        )
        plans: list[Plan] = []
        free_at = 0.0
        for s in starts:
            pool = "redteam_chat" if acct.extra["redteam"] and rng.random() < 0.5 else "chat"
            new, free_at = self._session_plans(w, acct, rng, max(s, free_at + 120), pool, 0.08)
            plans.extend(new)
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        pool, idx, k, session, followup = args
        item = w.source.item(pool, idx)
        system, msgs, reply_text = chat_history(item, k)
        if followup:
            msgs = [
                *msgs,
                Msg("assistant", reply_text),
                Msg("user", phrases.innocent_followup(rng)),
            ]
            reply_text = answer_text(w.source, rng)
        if not reply_text:
            reply_text = answer_text(w.source, rng)
        call = Call(
            model=pick_model(w, acct, ts),
            messages=msgs,
            system=system,
            temperature=rng.choice((None, 0.7, 1.0)),
            stream=rng.random() < 0.6,
        )
        return emit(
            w,
            acct,
            ts,
            call,
            reply_from(reply_text),
            rng,
            ip=self._ip(acct, rng),
            session_id=f"sess_{session}",
        )


class Students(ChatUsers):
    """Learners asking for step-by-step help with homework: innocent CoT requests."""

    group = "benign:student"
    base_accounts = 200
    min_accounts = 2

    def account(self, w: World, i: int) -> Account:
        acct = self._person(w, i, tiers=("edu", "free"), browser_share=0.7, age_days=(1, 400))
        acct.email_domain = f"uni{i % 23}.example.edu" if i % 3 else acct.email_domain
        rng = w.rng(self.group, "habits", i)
        acct.extra.update(active=rng.uniform(0.1, 0.5), sessions=rng.uniform(0.8, 1.5))
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        if rng.random() > acct.extra["active"] or not self._exists(w, acct, day):
            return []
        starts = human_session_starts(
            rng,
            w.calendar.day_start(day),
            acct.tz_hours,
            acct.extra["sessions"],
            weekday=day % 7,
            weekend_factor=0.8,
        )
        plans: list[Plan] = []
        for s in starts:
            session = f"{rng.getrandbits(48):012x}"
            ts = s
            for _ in range(rng.randint(1, 4)):
                pool = "math" if rng.random() < 0.75 else "code"
                plans.append(
                    (
                        ts,
                        "ask",
                        rng.getrandbits(63),
                        (pool, rng.randrange(w.source.size(pool)), session),
                    )
                )
                ts += think_time(rng, 900, 200) + rng.uniform(30, 400)
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        pool, idx, session = args
        item = w.source.item(pool, idx)
        text = (
            phrases.student_math(rng, item)
            if pool == "math"
            else phrases.expert_user_wrap(rng, item.first("user"))
            if rng.random() < 0.3
            else item.first("user")
        )
        ref = item.first("assistant")
        body = stepwise_reasoning(rng, item.first("user"), ref) if pool == "math" else ref
        call = Call(
            model=pick_model(w, acct, ts), messages=[Msg("user", text)], stream=rng.random() < 0.5
        )
        return emit(
            w,
            acct,
            ts,
            call,
            reply_from(body),
            rng,
            ip=self._ip(acct, rng),
            session_id=f"sess_{session}",
        )


# ---------------------------------------------------------------------------
# developers and power users
# ---------------------------------------------------------------------------


class Developers(Population):
    """Engineers building on the API: code questions, tool calls, reasoning settings, early adopters."""

    group = "benign:developer"
    base_accounts = 450
    min_accounts = 3

    def account(self, w: World, i: int) -> Account:
        acct = self._person(w, i, tiers=("standard", "startup", "free"), browser_share=0.05)
        rng = w.rng(self.group, "habits", i)
        if rng.random() < 0.3:  # working from a cloud VM
            ip, asn = hosting_ip(rng, 40 + i % 8, size=64, cloud=True)
            acct.net.ips, acct.net.asn = [ip], asn
        acct.net.access_path = rng.choices(
            ("direct", "cloud:aws", "cloud:gcp", "cloud:azure", "reseller:routerhub"),
            weights=(80, 5, 5, 4, 6),
        )[0]
        acct.extra.update(
            active=rng.uniform(0.3, 0.8),
            sessions=rng.uniform(0.8, 2.5),
            reasoner=rng.random() < 0.25,
            adopt_after=rng.uniform(600, 20 * 3600)
            if rng.random() < 0.35
            else acct.extra["adopt_after"],
        )
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        if rng.random() > acct.extra["active"] or not self._exists(w, acct, day):
            return []
        starts = human_session_starts(
            rng,
            w.calendar.day_start(day),
            acct.tz_hours,
            acct.extra["sessions"],
            profile="work",
            weekday=day % 7,
            weekend_factor=0.3,
        )
        plans: list[Plan] = []
        for s in starts:
            ts = s
            session = f"{rng.getrandbits(48):012x}"
            for _ in range(rng.randint(1, 8)):
                mode = rng.choices(
                    ("code", "prompt", "tool", "explain", "chat"), weights=(40, 25, 15, 10, 10)
                )[0]
                plans.append((ts, mode, rng.getrandbits(63), (session,)))
                ts += rng.lognormvariate(4.0, 1.0)
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        (session,) = args
        model = pick_model(w, acct, ts)
        call = Call(
            model=model,
            messages=[],
            temperature=rng.choice((None, 0.0, 0.2, 0.7)),
            max_tokens=rng.choice((None, 1024, 2048, 4096)),
        )
        if acct.extra["reasoner"] and rng.random() < 0.5:
            call.model = MODEL_REASONER if model != MODEL_NEW else model
            call.reasoning_effort = rng.choice(("low", "medium", "high"))
            call.thinking_budget = rng.choice((1024, 2048, 8000))
        reply: Reply
        if kind == "code":
            item = pick(w.source, "code", rng)
            call.messages = [Msg("user", item.first("user"))]
            reply = reply_from(item.first("assistant"))
        elif kind == "prompt":
            item = pick(w.source, "prompt", rng)
            call.messages = [Msg("user", item.first("user"))]
            reply = reply_from(answer_text(w.source, rng))
        elif kind == "tool":
            item = pick(w.source, "tool", rng)
            specs = tool_specs(item) or [
                {"name": "lookup", "description": "", "parameters": {"type": "object"}}
            ]
            call.tools = specs
            call.messages = [Msg("user", item.first("user"))]
            reply = reply_from(
                "",
                tool_calls=make_tool_calls(
                    rng, specs, item.first("user"), f"call_{rng.getrandbits(32):x}_"
                ),
            )
        elif kind == "explain":
            code = code_file(rng)
            ask = rng.choice(
                (
                    "Explain every step of this code:",
                    "What does this do? walk me through it step by step",
                    "Why does this fail on empty files?",
                    "Review this function:",
                )
            )
            call.messages = [Msg("user", f"{ask}\n\n```python\n{code}```")]
            reply = reply_from(answer_text(w.source, rng))
        else:
            item = pick(w.source, "chat", rng)
            system, msgs, text = chat_history(item, 0)
            call.system, call.messages = system, msgs
            reply = reply_from(text or answer_text(w.source, rng))
        if call.reasoning_effort and acct.api != "openai.chat.completions":
            reply.reasoning = "Thinking about the request: " + reply.text[:400]
        return emit(
            w,
            acct,
            ts,
            call,
            reply,
            rng,
            ip=self._ip(acct, rng),
            session_id=None if rng.random() < 0.7 else f"sess_{session}",
        )


# ---------------------------------------------------------------------------
# organisations: SaaS, eval teams, judge pipelines, agent products, shared NAT
# ---------------------------------------------------------------------------

_SAAS_TEMPLATES: tuple[tuple[str, str, bool], ...] = (
    (
        "You summarise customer support tickets for the support team.",
        "Summarise this ticket in two sentences and list the customer's main request.\n\nTicket:\n{text}",
        False,
    ),
    (
        "You are a sentiment classifier.",
        "Classify the sentiment of this review as positive, negative or neutral. Reply with one word.\n\nReview: {text}",
        False,
    ),
    (
        "You are a professional translator.",
        "Translate the following text into {lang}. Keep the formatting.\n\n{text}",
        False,
    ),
    (
        "You extract structured data.",
        "Extract the people, organisations and dates mentioned in the text below. Return JSON.\n\n{text}",
        True,
    ),
    (
        "You are a writing assistant inside a note-taking app.",
        "Rewrite the note below to be clearer and more concise.\n\n{text}",
        False,
    ),
    (
        "You help bloggers with SEO.",
        "Suggest five titles and a meta description for this post:\n\n{text}",
        False,
    ),
    (
        "You are Sparky, a friendly tutor for children in a learning app. Explain concepts step by step, with simple words.",
        "A student asks: {text}\n\nExplain step by step.",
        False,
    ),
    (
        "You answer questions for an online shop using only the FAQ.",
        "FAQ: returns within 30 days; shipping 3-5 days; support by e-mail.\n\nCustomer question: {text}",
        False,
    ),
)
_LANGS = ("French", "German", "Spanish", "Japanese", "Portuguese", "Korean")


class _OrgPopulation(Population):
    """Accounts grouped into organisations that share an org id, card, network and code."""

    accounts_per_org: ClassVar[int] = 2
    base_orgs: ClassVar[float] = 5
    tiers: ClassVar[tuple[str, ...]] = ("startup", "enterprise")

    def n_accounts(self, w: World) -> int:
        return w.count(self.base_orgs, 1) * self.accounts_per_org

    def _org(self, w: World, org: int) -> dict[str, Any]:
        rng = w.rng(self.group, "org", org)
        api = _api(rng, (0.5, 0.25, 0.25))
        ua, tls = ua_and_tls(rng, api)
        country, tz = _country(rng)
        ips = [
            hosting_ip(rng, 30 + org % 8, size=256, cloud=True) for _ in range(rng.randint(1, 4))
        ]
        return {
            "rng": rng,
            "api": api,
            "ua": ua,
            "tls": tls,
            "country": country,
            "tz": tz,
            "ips": ips,
            "org_id": w.oid("org", self.group, org),
            "pf": w.oid("pf", self.group, "org", org),
            "domain": w.oid("co", self.group, org, n=8)[3:] + ".example.com",
            "path": rng.choices(
                ("direct", "cloud:aws", "cloud:gcp", "cloud:azure"), weights=(70, 10, 10, 10)
            )[0],
            "created": w.calendar.start - rng.uniform(30, 1200) * 86400,
        }

    def account(self, w: World, i: int) -> Account:
        org_index = i // self.accounts_per_org
        org = self._org(w, org_index)
        rng = w.rng(self.group, "acct", i)
        return Account(
            account_id=self._aid(w, i),
            created_at=org["created"] + rng.uniform(0, 200) * 86400,
            tier=rng.choice(self.tiers),
            country=org["country"],
            tz_hours=org["tz"],
            api=org["api"],
            net=Network(
                ips=[ip for ip, _ in org["ips"]],
                asn=org["ips"][0][1],
                user_agent=org["ua"],
                tls=org["tls"],
                access_path=org["path"],
            ),
            keys=[w.oid("key", self.group, i, k) for k in range(rng.randint(1, 3))],
            org_id=org["org_id"],
            payment_fp=org["pf"],
            verified=True,
            email_domain=org["domain"],
            extra={
                "org": org_index,
                "slot": i % self.accounts_per_org,
                "model": MODEL_FLAGSHIP,
                "adopt_after": rng.uniform(2, 8) * 86400 if rng.random() < 0.5 else None,
            },
        )


class SaasTemplate(_OrgPopulation):
    """A product sending one prompt template at high volume on a production rate curve."""

    group = "benign:saas_template"
    base_orgs = 10
    accounts_per_org = 3

    def account(self, w: World, i: int) -> Account:
        acct = super().account(w, i)
        rng = w.rng(self.group, "org", acct.extra["org"], "app")
        curves = w.source.rate_curves()
        acct.extra.update(
            template=rng.randrange(len(_SAAS_TEMPLATES)),
            curve=rng.randrange(len(curves)),
            daily=rng.uniform(50, 170) * (1.0 if acct.extra["slot"] == 0 else 0.35),
            lang=rng.choice(_LANGS),
            temperature=rng.choice((0.0, 0.2, 0.3)),
            model=rng.choice((MODEL_FLAGSHIP, MODEL_MINI)),
        )
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        curve = w.source.rate_curves()[acct.extra["curve"]]
        base = w.calendar.day_start(day)
        return [
            (base + t, "template", rng.getrandbits(63), ())
            for t in curve_arrivals(
                rng, curve, day, acct.extra["daily"], phase=acct.extra["slot"] * 7
            )
        ]

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        system, template, json_out = _SAAS_TEMPLATES[acct.extra["template"]]
        source_item = pick(w.source, rng.choice(("chat", "prompt", "answer")), rng)
        text = (source_item.first("user") or source_item.first("assistant"))[:1200]
        call = Call(
            model=pick_model(w, acct, ts),
            system=system,
            messages=[Msg("user", template.format(text=text, lang=acct.extra["lang"]))],
            temperature=acct.extra["temperature"],
            max_tokens=512,
            json_output=json_out,
            user_id=f"u_{rng.getrandbits(40):010x}" if rng.random() < 0.7 else None,
        )
        out = (
            '{"people": [], "organisations": [], "dates": []}'
            if json_out
            else answer_text(w.source, rng, 600)
        )
        return emit(
            w, acct, ts, call, reply_from(out), rng, ip=self._ip(acct, rng), user_id=call.user_id
        )


class EvalTeams(_OrgPopulation):
    """Evaluation teams: CoT prompts over benchmark items, in bursts, right after a release."""

    group = "benign:eval_team"
    base_orgs = 6
    accounts_per_org = 2
    tiers = ("research", "enterprise")

    def account(self, w: World, i: int) -> Account:
        acct = super().account(w, i)
        org = acct.extra["org"]
        rng = w.rng(self.group, "org", org, "runs")
        acct.net.ips = [f"203.0.113.{40 + org % 10}"]
        acct.net.asn = 64504 + org % 4
        acct.extra.update(
            fmt=rng.randrange(4),
            shots=rng.choice((0, 0, 3, 5)),
            speed=rng.uniform(0.5, 3.0),
            baseline_day=rng.randrange(0, 5),
            baseline_hour=rng.uniform(9, 16),
            release_delay=rng.uniform(0.5, 20) * 3600,
            bench_pool="math" if acct.extra["slot"] == 0 else "prompt",
            run_size=rng.randint(150, 500),
        )
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        cal = w.calendar
        runs: list[tuple[float, str]] = []
        if day == acct.extra["baseline_day"]:
            runs.append((cal.day_start(day) + acct.extra["baseline_hour"] * 3600, MODEL_FLAGSHIP))
        launch = cal.release_ts + acct.extra["release_delay"]
        if cal.day_start(day) <= launch < cal.day_start(day + 1):
            runs.append((launch, MODEL_NEW))
            runs.append((launch + 3 * 3600, MODEL_FLAGSHIP))  # the comparison run
        plans: list[Plan] = []
        gaps = w.source.arrival_gaps()
        for run_no, (start, model) in enumerate(runs):
            rng = w.rng(self.group, i, day, run_no)
            n = max(5, round(acct.extra["run_size"] * min(1.0, 0.2 + w.scale)))
            for j, off in enumerate(burst_offsets(rng, gaps, n, acct.extra["speed"])):
                plans.append((start + off, "eval", rng.getrandbits(63), (model, j)))
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        model, j = args
        pool = acct.extra["bench_pool"]
        item = w.source.item(pool, j)  # benchmarks are run in order
        if pool == "math":
            shots = [
                (
                    w.source.item(pool, -1 - s).first("user"),
                    w.source.item(pool, -1 - s).first("assistant"),
                )
                for s in range(acct.extra["shots"])
            ]
            text = phrases.eval_cot_prompt(acct.extra["fmt"], item.first("user"), shots)
            body = stepwise_reasoning(rng, item.first("user"), item.first("assistant"))
        else:
            text = item.first("user")
            body = answer_text(w.source, rng)
        call = Call(
            model=model,
            messages=[Msg("user", text)],
            temperature=0.0,
            max_tokens=2048,
            reasoning_effort="high"
            if model == MODEL_NEW and acct.api != "anthropic.messages" and j % 2
            else None,
        )
        return emit(w, acct, ts, call, reply_from(body), rng, ip=acct.net.ips[0])


class JudgePipelines(_OrgPopulation):
    """LLM-as-judge: fixed rubric templates filled with questions and candidate answers."""

    group = "benign:judge_pipeline"
    base_orgs = 5
    accounts_per_org = 2

    def account(self, w: World, i: int) -> Account:
        acct = super().account(w, i)
        rng = w.rng(self.group, "org", acct.extra["org"], "judge")
        curves = w.source.rate_curves()
        acct.extra.update(
            template=rng.randrange(w.source.size("judge")),
            curve=rng.randrange(len(curves)),
            daily=rng.uniform(20, 80),
        )
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        curve = w.source.rate_curves()[acct.extra["curve"]]
        base = w.calendar.day_start(day)
        return [
            (base + t, "judge", rng.getrandbits(63), ())
            for t in curve_arrivals(
                rng, curve, day, acct.extra["daily"], phase=acct.extra["slot"] * 13
            )
        ]

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        tpl = w.source.item("judge", acct.extra["template"])
        system = tpl.first("system")
        user = tpl.first("user")
        question = pick(w.source, "prompt", rng).first("user")[:1500]
        fills: dict[str, str] = {}
        for name in tpl.meta.get("placeholders", []):
            if "question" in name or name == "instruction":
                fills[name] = question
            elif name == "world_knowledge":
                fills[name] = "No additional world knowledge."
            else:
                fills[name] = answer_text(w.source, rng, 600)
        for name, val in fills.items():
            user = user.replace("{" + name + "}", val)
        verdict = rng.choice(
            (
                "[[A]]",
                "[[B]]",
                "[[C]]",
                "Rating: [[7]]",
                "Score: 8",
                "Rating: 4\nRationale: mostly accurate.",
            )
        )
        call = Call(
            model=pick_model(w, acct, ts),
            system=system,
            messages=[Msg("user", user)],
            temperature=0.0,
            max_tokens=1024,
        )
        return emit(
            w,
            acct,
            ts,
            call,
            reply_from(f"The responses differ mainly in accuracy and depth. {verdict}"),
            rng,
            ip=self._ip(acct, rng),
        )


def _tool_loop(
    w: World,
    trng: random.Random,
    rng: random.Random,
    specs: list[dict[str, Any]],
    query: str,
    position: tuple[int, int, int],
    screenshots: bool = False,
) -> tuple[list[Msg], Reply]:
    """Step ``step`` of a product's tool loop: the turns so far, rebuilt from the task
    seed (``trng``), and the reply (the next tool calls, or the final answer)."""
    task, step, steps = position
    prefix = f"call_{task % 99991}_"
    msgs = [Msg("user", query)]
    for s in range(step):
        calls = make_tool_calls(trng, specs, query, f"{prefix}{s}_")
        msgs.append(Msg("assistant", tool_calls=calls))
        for c in calls:
            msgs.append(Msg("tool", tool_result(trng, c), tool_call_id=c.id))
            if screenshots:
                msgs.append(Msg("user", "Screen after that step:", images=[fake_image(trng, True)]))
    if step < steps:
        calls = make_tool_calls(random.Random(task + step), specs, query, f"{prefix}{step}_")
        return msgs, reply_from("", tool_calls=calls)
    return msgs, reply_from(answer_text(w.source, rng, 500))


class AgentProducts(_OrgPopulation):
    """Agent products: one fixed tool set, multi-step loops with tool results, steady volume."""

    group = "benign:agent_product"
    base_orgs = 8
    accounts_per_org = 2

    def account(self, w: World, i: int) -> Account:
        acct = super().account(w, i)
        rng = w.rng(self.group, "org", acct.extra["org"], "agent")
        curves = w.source.rate_curves()
        tool_idx = rng.randrange(w.source.size("tool"))
        for _ in range(30):  # prefer a product with several tools
            if len(w.source.item("tool", tool_idx).tools) >= 2:
                break
            tool_idx = rng.randrange(w.source.size("tool"))
        acct.extra.update(
            tools=tool_idx,
            curve=rng.randrange(len(curves)),
            daily=rng.uniform(8, 25),
            product=rng.choice(
                ("HomeHub", "TripMate", "LedgerBot", "DeskPilot", "ShopAssist", "OpsBuddy")
            ),
        )
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        curve = w.source.rate_curves()[acct.extra["curve"]]
        base = w.calendar.day_start(day)
        plans: list[Plan] = []
        for t in curve_arrivals(rng, curve, day, acct.extra["daily"], phase=acct.extra["slot"] * 5):
            task = rng.getrandbits(63)
            steps = rng.randint(1, 3)
            ts = base + t
            for step in range(steps + 1):
                plans.append((ts, "agent", rng.getrandbits(63), (task, step, steps)))
                ts += rng.uniform(1.5, 12.0)
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        task, step, steps = args
        trng = random.Random(task)
        specs = tool_specs(w.source.item("tool", acct.extra["tools"]))
        query = pick(w.source, "tool", trng).first("user")[:800]
        system = f"You are the assistant inside {acct.extra['product']}. Use the tools to act for the user; confirm before purchases."
        rng = random.Random(seed)
        msgs, reply = _tool_loop(w, trng, rng, specs, query, (task, step, steps))
        call = Call(
            model=pick_model(w, acct, ts),
            system=system,
            messages=msgs,
            tools=specs,
            temperature=0.1,
            max_tokens=1024,
            user_id=f"u_{task % 50021:05d}",
        )
        return emit(
            w,
            acct,
            ts,
            call,
            reply,
            rng,
            ip=self._ip(acct, rng),
            session_id=f"task_{task:016x}",
            user_id=call.user_id,
        )


class GeneralAssistants(_OrgPopulation):
    """General-purpose assistant products: one product serving many end users across every area.

    The hard negative for a capability sweep: chat, code, data, images, tool
    loops and computer use, at a production pace, round the clock, but all
    inside the product's own system prompt and tool set, for many end users.
    """

    group = "benign:general_assistant"
    base_orgs = 4
    accounts_per_org = 2  # production and a smaller staging key
    _KINDS = ("chat", "code", "prompt", "data", "vision", "tools", "computer")
    _WEIGHTS = (30, 18, 10, 10, 10, 12, 10)

    def account(self, w: World, i: int) -> Account:
        acct = super().account(w, i)
        rng = w.rng(self.group, "org", acct.extra["org"], "assistant")
        curves = w.source.rate_curves()
        acct.extra.update(
            tools=rng.randrange(w.source.size("tool")),
            curve=rng.randrange(len(curves)),
            daily=rng.uniform(120, 300) * (1.0 if acct.extra["slot"] == 0 else 0.2),
            product=rng.choice(("Nova", "Atlas", "Juniper", "Quill", "Orbit", "Sage")),
        )
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        curve = w.source.rate_curves()[acct.extra["curve"]]
        base = w.calendar.day_start(day)
        plans: list[Plan] = []
        for t in curve_arrivals(rng, curve, day, acct.extra["daily"], phase=acct.extra["slot"] * 7):
            kind = rng.choices(self._KINDS, weights=self._WEIGHTS)[0]
            user = rng.randrange(20_000)
            steps = rng.randint(1, 3) if kind in ("tools", "computer") else 0
            task, ts = rng.getrandbits(63), base + t
            for step in range(steps + 1):
                plans.append((ts, kind, rng.getrandbits(63), (task, step, steps, user)))
                ts += rng.uniform(2.0, 15.0)
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        task, step, steps, user = args
        rng, trng = random.Random(seed), random.Random(task)
        product = acct.extra["product"]
        call = Call(
            model=pick_model(w, acct, ts),
            system=(
                f"You are {product}, the assistant in the {product} app. Help the signed-in user with "
                "writing, questions, code, spreadsheets, pictures and tasks on their computer. Use the "
                "tools when they help and ask before anything irreversible."
            ),
            messages=[],
            temperature=0.5,
            max_tokens=2048,
            user_id=f"{product.lower()}_user_{user:05d}",
        )
        reply: Reply
        if kind in ("tools", "computer"):
            if kind == "computer":
                specs = _ASSISTANT_COMPUTER_TOOLS
                query = trng.choice(_ASSISTANT_DESKTOP_TASKS)
            else:
                specs = (
                    tool_specs(w.source.item("tool", acct.extra["tools"]))
                    or _ASSISTANT_COMPUTER_TOOLS
                )
                query = pick(w.source, "tool", trng).first("user")[:800]
            call.tools = specs
            call.messages, reply = _tool_loop(
                w, trng, rng, specs, query, (task, step, steps), screenshots=kind == "computer"
            )
        elif kind == "chat":
            item = pick(w.source, "chat", rng)
            _, msgs, text = chat_history(item, rng.randrange(max(1, user_turns(item))))
            call.messages = msgs
            reply = reply_from(text or answer_text(w.source, rng))
        elif kind == "code":
            item = pick(w.source, "code", rng)
            call.messages = [Msg("user", item.first("user"))]
            reply = reply_from(item.first("assistant"))
        elif kind == "data":
            ask = rng.choice(_ASSISTANT_DATA_ASKS)
            call.messages = [Msg("user", f"{ask}\n\n{csv_table(rng)}")]
            reply = reply_from(answer_text(w.source, rng))
        elif kind == "vision":
            call.messages = [
                Msg(
                    "user",
                    rng.choice(_ASSISTANT_PHOTO_ASKS),
                    images=[fake_image(rng, rng.random() < 0.5)],
                )
            ]
            reply = reply_from(answer_text(w.source, rng, 600))
        else:
            item = pick(w.source, "prompt", rng)
            call.messages = [Msg("user", item.first("user"))]
            reply = reply_from(answer_text(w.source, rng))
        return emit(
            w, acct, ts, call, reply, rng, ip=self._ip(acct, rng),
            session_id=f"chat_{task:016x}", user_id=call.user_id,
        )  # fmt: skip


_ASSISTANT_COMPUTER_TOOLS: list[dict[str, Any]] = [
    {
        "name": "desktop",
        "description": "Act on the user's screen: take a screenshot, click, type or scroll.",
        "parameters": {
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["screenshot", "click", "type", "scroll"]},
                "x": {"type": "integer"},
                "y": {"type": "integer"},
                "text": {"type": "string"},
            },
            "required": ["action"],
        },
    }
]
_ASSISTANT_DESKTOP_TASKS = (
    "Open my calendar and move Friday's dentist appointment to next week.",
    "Find the invoice PDF in Downloads and attach it to a reply to Maria.",
    "Turn on dark mode in the system settings.",
    "Fill in the expense form on the intranet with my taxi receipt.",
    "Rename the photos from yesterday's trip by date.",
)
_ASSISTANT_DATA_ASKS = (
    "Which month had the highest total? Also give me the average per row.",
    "Can you make a quick summary of this table for my manager?",
    "Is there a trend here? Explain it simply.",
    "Find the outliers in this data.",
)
_ASSISTANT_PHOTO_ASKS = (
    "What plant is this and how often should I water it?",
    "Can you read the handwriting on this note?",
    "What's wrong with this chart? It looks off.",
    "Describe this photo for an alt text.",
    "Which of these two shirts goes better with grey trousers?",
)


class SharedNat(_OrgPopulation):
    """Employees of one company: separate accounts, one NAT address, one org, one corporate card."""

    group = "benign:shared_nat"
    base_orgs = 2
    accounts_per_org = 30
    tiers = ("enterprise", "standard")

    def account(self, w: World, i: int) -> Account:
        acct = super().account(w, i)
        rng = w.rng(self.group, "acct", i, "nat")
        org = acct.extra["org"]
        acct.net.ips = [f"203.0.113.{10 + org % 20}"]
        acct.net.asn = 64506
        acct.api = _api(rng)
        acct.net.user_agent, acct.net.tls = ua_and_tls(rng, acct.api, browser=rng.random() < 0.4)
        acct.extra.update(
            active=rng.uniform(0.3, 0.8), sessions=rng.uniform(0.8, 2.0), reasoner=False
        )
        return acct

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        if rng.random() > acct.extra["active"] or not self._exists(w, acct, day):
            return []
        starts = human_session_starts(
            rng,
            w.calendar.day_start(day),
            acct.tz_hours,
            acct.extra["sessions"],
            profile="work",
            weekday=day % 7,
            weekend_factor=0.1,
        )
        return [
            (
                s + j * rng.uniform(40, 400),
                rng.choice(("code", "prompt", "chat", "explain")),
                rng.getrandbits(63),
                ("",),
            )
            for s in starts
            for j in range(rng.randint(1, 5))
        ]

    render = Developers.render  # same kinds of requests as developers

    def _ip(self, acct: Account, rng: random.Random) -> str:
        return acct.net.ips[0]


BENIGN_POPULATIONS: tuple[type[Population], ...] = (
    ChatUsers,
    Students,
    Developers,
    SaasTemplate,
    EvalTeams,
    JudgePipelines,
    AgentProducts,
    SharedNat,
    GeneralAssistants,
)
