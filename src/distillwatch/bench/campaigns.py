"""Attack campaigns modelled on the distillation operations reported in Feb 2026.

* ``attack:reasoning_rm`` — reasoning reconstruction, rubric grading (the model
  as a reward model) and censorship-safe rewrites; synchronised accounts that
  share payment instruments and a hosting block.
* ``attack:agentic_multi`` — agentic coding, data analysis, computer use,
  vision and tool use across many accounts of varied tiers and access paths.
* ``attack:tool_orchestration`` — massive tool-orchestration harvesting on a
  production-like rate, moving half its traffic to the new model within a day
  of its release.
* ``attack:hydra_reseller`` — a proxy reseller whose accounts mix harvesting
  prompts with unrelated customer traffic through a rotating address pool.
* ``attack:adaptive_paraphrase`` — paraphrased wrappers, human-like jittered
  timing, residential address and key rotation, short-lived fresh accounts.
* ``attack:low_and_slow`` — many aged accounts each staying under a
  per-account rate limit.

No campaign name, label or marker reaches the exchange log: accounts carry
opaque ids, and everything else is behaviour a detector has to infer.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from distillwatch.bench import phrases
from distillwatch.bench.baselines import COT_KEYWORDS
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
)
from distillwatch.bench.populations import Plan, Population, emit
from distillwatch.bench.shapes import API_SHAPES, Call, Msg, Reply, ToolCall, fake_image
from distillwatch.bench.timing import curve_arrivals, human_session_starts, think_time
from distillwatch.bench.world import (
    COUNTRIES,
    MODEL_FLAGSHIP,
    MODEL_NEW,
    MODEL_REASONER,
    Account,
    Network,
    World,
    hosting_ip,
    residential_ip,
    ua_and_tls,
)

__all__ = [
    "ATTACK_CAMPAIGNS",
    "ReasoningRewardModel",
    "AgenticMulti",
    "ToolOrchestration",
    "HydraReseller",
    "AdaptiveParaphrase",
    "LowAndSlow",
]

_FREEMAIL = (
    "mailbox.example",
    "inbox.example",
    "post.example",
    "webmail.example",
    "fastmail.example",
)

_CODING_TOOLS: list[dict[str, Any]] = [
    {
        "name": "read_file",
        "description": "Read a file from the workspace.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"],
        },
    },
    {
        "name": "write_file",
        "description": "Write content to a file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
    {
        "name": "run_tests",
        "description": "Run the test suite and return the output.",
        "parameters": {"type": "object", "properties": {"target": {"type": "string"}}},
    },
    {
        "name": "search_code",
        "description": "Search the repository for a pattern.",
        "parameters": {
            "type": "object",
            "properties": {"pattern": {"type": "string"}},
            "required": ["pattern"],
        },
    },
]
_COMPUTER_TOOL: list[dict[str, Any]] = [
    {
        "name": "computer",
        "description": "Control the desktop: screenshot, click, type, scroll.",
        "parameters": {
            "type": "object",
            "properties": {
                "action": {
                    "type": "string",
                    "enum": ["screenshot", "left_click", "type", "scroll", "key"],
                },
                "coordinate": {"type": "array", "items": {"type": "integer"}},
                "text": {"type": "string"},
            },
            "required": ["action"],
        },
    },
]
_AGENT_SYSTEMS = (
    "You are an autonomous software engineering agent. Work in the repository using the tools. Think before each action and explain your plan.",
    "You are a coding agent operating in a sandbox. Inspect files, make minimal changes, run the tests, and describe every step you take.",
    "Act as a senior engineer fixing issues end to end. Use tools; reason step by step about the code before editing.",
    "You are a background agent resolving tickets. Read the relevant code, propose a fix, apply it, and verify with tests.",
)
_COMPUTER_TASKS = (
    "Open the spreadsheet on the desktop and sort it by the second column.",
    "Find the settings page and turn on dark mode.",
    "Fill the web form with the details from the e-mail that is open.",
    "Download the latest invoice from the billing page and rename it.",
)
_VISION_ASKS = (
    "Describe this chart in detail and extract every number it shows.",
    "Transcribe all the text in this image, then explain what the document is.",
    "What is happening in this screenshot? List every UI element and its state.",
    "Solve the math problem in the photo and explain each step.",
)


class _Campaign(Population):
    """Shared machinery: attack content builders and operator-style account factories."""

    label = "attack"
    pool_base: ClassVar[int] = 0  # hosting block(s) this operator rents

    # -- content ------------------------------------------------------------
    def _harvest(
        self, w: World, rng: random.Random, kind: str, *, evasive: bool = False
    ) -> tuple[Call, Reply]:
        """One harvesting request; ``evasive`` operators redraw until no well-known CoT phrase is left."""
        call, reply = self._harvest_once(w, rng, kind)
        for _ in range(12):
            if not evasive:
                break
            text = (call.system + "\n" + "\n".join(m.text for m in call.messages)).lower()
            if not any(k in text for k in COT_KEYWORDS):
                break
            call, reply = self._harvest_once(w, rng, kind)
        return call, reply

    @staticmethod
    def _qa(w: World, rng: random.Random, pools: tuple[str, ...]) -> tuple[str, str]:
        """A question and the answer that really belongs to it (reference or the chat's reply)."""
        item = pick(w.source, rng.choice(pools), rng)
        _, msgs, reply = chat_history(item, 0)
        question = msgs[-1].text if msgs else item.first("user")
        return question, reply or item.first("assistant") or answer_text(w.source, rng)

    def _harvest_once(self, w: World, rng: random.Random, kind: str) -> tuple[Call, Reply]:
        call = Call(model=MODEL_FLAGSHIP, messages=[])
        if kind == "recon":
            question, answer = self._qa(w, rng, ("math", "math", "code", "chat", "roleplay"))
            call.messages = [Msg("user", phrases.reasoning_reconstruction(rng, question, answer))]
            return call, reply_from(stepwise_reasoning(rng, question, answer))
        if kind == "grade":
            question, good = self._qa(w, rng, ("math", "code", "chat"))
            good = good[:1200]
            cands = [good] + [phrases.perturb_answer(rng, good) for _ in range(rng.randint(1, 3))]
            rng.shuffle(cands)
            system, user = phrases.rubric_grading(rng, question, cands)
            call.system, call.messages = system, [Msg("user", user)]
            scores = "\n".join(
                f"Candidate {k + 1}: {rng.randint(2, 10)}" for k in range(len(cands))
            )
            return call, reply_from(
                f"{scores}\nThe best candidate is correct and complete; the others contain errors."
            )
        if kind == "rewrite":
            call.messages = [Msg("user", phrases.censorship_rewrite(rng))]
            return call, reply_from(
                "The events are described differently by different sources. Authorities emphasised "
                "the restoration of order and continued development in the region."
            )
        if kind == "expert":
            pool = rng.choice(("code", "math", "roleplay", "prompt"))
            item = pick(w.source, pool, rng)
            if rng.random() < 0.6:
                call.system = phrases.expert_system_prompt(rng)
                call.messages = [Msg("user", item.first("user"))]
            else:
                call.messages = [Msg("user", phrases.expert_user_wrap(rng, item.first("user")))]
            body = item.first("assistant") or answer_text(w.source, rng)
            return call, reply_from(
                stepwise_reasoning(rng, item.first("user"), body) if pool == "math" else body
            )
        if kind == "casual":
            pool = rng.choice(("math", "code", "prompt"))
            item = pick(w.source, pool, rng)
            call.messages = [Msg("user", phrases.casual_paraphrase(rng, item.first("user")))]
            return call, reply_from(
                stepwise_reasoning(
                    rng, item.first("user"), item.first("assistant") or answer_text(w.source, rng)
                )
            )
        if kind == "data":
            table = csv_table(rng)
            ask = rng.choice(
                (
                    "Analyze this dataset: find trends, outliers and give three recommendations. Show your calculations.",
                    "Compute summary statistics per group and explain what drives the differences.",
                    "Clean this data, then build a short report with the key findings, reasoning step by step.",
                )
            )
            call.system = rng.choice(
                (
                    "You are a senior data analyst.",
                    "",
                    "You are an expert data scientist. Be rigorous.",
                )
            )
            call.messages = [Msg("user", f"{ask}\n\n```csv\n{table}\n```")]
            return call, reply_from(answer_text(w.source, rng))
        if kind == "vision":
            call.messages = [
                Msg(
                    "user",
                    rng.choice(_VISION_ASKS),
                    images=[fake_image(rng, rng.random() < 0.5) for _ in range(rng.randint(1, 2))],
                )
            ]
            return call, reply_from(answer_text(w.source, rng, 1200))
        raise ValueError(kind)

    def _agent_loop(
        self, w: World, task: int, step: int, steps: int, kind: str
    ) -> tuple[Call, Reply]:
        """Step ``step`` of a multi-step agent task, rebuilt from the task seed."""
        trng = random.Random(task)
        if kind == "computer":
            specs, system = (
                _COMPUTER_TOOL,
                "You are a computer-use agent. Take a screenshot before each action.",
            )
            query = trng.choice(_COMPUTER_TASKS)
        elif kind == "orchestrate":
            item = pick(w.source, "tool", trng)
            specs = tool_specs(item) or _CODING_TOOLS
            system = phrases.orchestration_system_prompt(
                trng, w.calendar.date(trng.randrange(w.calendar.days))
            )
            query = item.first("user")[:1200]
        else:  # agentic coding
            item = pick(w.source, "code", trng)
            specs, system = _CODING_TOOLS, _AGENT_SYSTEMS[trng.randrange(len(_AGENT_SYSTEMS))]
            query = f"{item.first('user')}\n\nThe repository is checked out in /workspace. Make the change and make the tests pass."
        msgs = [Msg("user", query)]
        prefix = f"call_{task % 1_000_003:x}_"
        for s in range(step):
            calls = self._loop_calls(trng, specs, query, f"{prefix}{s}_", kind)
            msgs.append(
                Msg(
                    "assistant",
                    text=trng.choice(
                        ("", "Let me check that first.", "Next, I will verify the result.")
                    ),
                    tool_calls=calls,
                )
            )
            for c in calls:
                if kind == "computer":
                    msgs.append(Msg("tool", "screenshot taken", tool_call_id=c.id))
                    msgs.append(
                        Msg("user", "Here is the screenshot.", images=[fake_image(trng, True)])
                    )
                elif kind == "agentic":
                    msgs.append(Msg("tool", code_file(trng), tool_call_id=c.id))
                else:
                    msgs.append(Msg("tool", tool_result(trng, c), tool_call_id=c.id))
        call = Call(model=MODEL_FLAGSHIP, messages=msgs, system=system, tools=specs)
        if step < steps:
            reply = reply_from(
                random.Random(task + step).choice(
                    (
                        "",
                        "I'll start by looking at the relevant files.",
                        "Planning: first gather data, then act.",
                    )
                ),
                tool_calls=self._loop_calls(
                    random.Random(task * 7 + step), specs, query, f"{prefix}{step}_", kind
                ),
            )
        else:
            reply = reply_from(answer_text(w.source, random.Random(task - 1), 1500))
        return call, reply

    @staticmethod
    def _loop_calls(
        rng: random.Random, specs: list[dict[str, Any]], query: str, prefix: str, kind: str
    ) -> list[ToolCall]:
        if kind == "computer":
            return [
                ToolCall(
                    id=f"{prefix}0",
                    name="computer",
                    arguments={
                        "action": rng.choice(("screenshot", "left_click", "type")),
                        "coordinate": [rng.randrange(1280), rng.randrange(800)],
                    },
                )
            ]
        return make_tool_calls(
            rng,
            specs,
            query,
            prefix,
            parallel=rng.choice((1, 1, 2, 3)) if kind == "orchestrate" else 1,
        )

    # -- accounts ---------------------------------------------------------------
    def _operator_account(
        self,
        w: World,
        i: int,
        *,
        created: float,
        tier: str,
        api: str,
        net: Network,
        payment: str | None,
        email: str,
        verified: bool | None = False,
        country: tuple[str, float] | None = None,
        **extra: Any,
    ) -> Account:
        rng = w.rng(self.group, "acct", i)
        cc, tz = country or COUNTRIES[rng.randrange(len(COUNTRIES))]
        return Account(
            account_id=self._aid(w, i),
            created_at=created,
            tier=tier,
            country=cc,
            tz_hours=tz,
            api=api,
            net=net,
            keys=[w.oid("key", self.group, i, k) for k in range(extra.pop("n_keys", 1))],
            payment_fp=payment,
            verified=verified,
            email_domain=email,
            extra=extra,
        )


class ReasoningRewardModel(_Campaign):
    group = "attack:reasoning_rm"
    base_accounts = 24
    min_accounts = 3

    def account(self, w: World, i: int) -> Account:
        rng = w.rng(self.group, "acct", i)
        op = w.rng(self.group, "operator")
        batch = i % 2
        created = w.calendar.start - (op.uniform(20, 40) + batch * 6) * 86400 + rng.uniform(0, 7200)
        ip, asn = hosting_ip(rng, 0, size=4)
        ua, tls = ua_and_tls(op, "openai")
        n_cards = max(1, self.n_accounts(w) // 8)
        country = COUNTRIES[op.randrange(len(COUNTRIES))] if rng.random() < 0.7 else None
        return self._operator_account(
            w,
            i,
            created=created,
            tier="standard",
            api=API_SHAPES[i % 3],
            net=Network(ips=[ip, hosting_ip(rng, 0, size=4)[0]], asn=asn, user_agent=ua, tls=tls),
            payment=w.oid("pf", self.group, i % n_cards),
            email=rng.choice(_FREEMAIL),
            country=country,
            join=rng.uniform(0.4, 0.7),
        )

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        if day == 0:
            return []
        op = w.rng(self.group, "waves", day)  # every account sees the same waves: synchronised
        start = w.calendar.day_start(day) + op.uniform(0.5, 3) * 3600
        waves = [start + k * op.uniform(800, 1000) for k in range(op.randint(30, 44))]
        rng = w.rng(self.group, i, day)
        plans: list[Plan] = []
        for wave in waves:
            if rng.random() > acct.extra["join"]:
                continue
            for _ in range(rng.randint(1, 2)):
                kind = rng.choices(("recon", "grade", "rewrite"), weights=(60, 28, 12))[0]
                plans.append((wave + rng.uniform(0, 25), kind, rng.getrandbits(63), ()))
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        call, reply = self._harvest(w, rng, kind)
        call.model = MODEL_REASONER
        call.temperature = rng.choice((0.6, 0.8, 1.0))
        call.max_tokens = 8192
        if acct.api == "anthropic.messages":
            call.thinking_budget = 6000
            reply.reasoning = reply.text[:1200]
        else:
            call.reasoning_effort = "high"
            call.n = rng.choice((None, None, 4))
        return emit(
            w, acct, ts, call, reply, rng, ip=acct.net.ips[rng.randrange(len(acct.net.ips))]
        )


class AgenticMulti(_Campaign):
    group = "attack:agentic_multi"
    base_accounts = 60
    min_accounts = 5
    _KINDS = ("agentic", "data", "computer", "vision", "orchestrate")

    def account(self, w: World, i: int) -> Account:
        rng = w.rng(self.group, "acct", i)
        api = rng.choice(API_SHAPES)
        ua, tls = ua_and_tls(rng, api)
        path = rng.choices(
            (
                "direct",
                "cloud:aws",
                "cloud:gcp",
                "cloud:azure",
                "reseller:routerhub",
                "reseller:tokenbay",
            ),
            weights=(40, 10, 10, 10, 15, 15),
        )[0]
        if rng.random() < 0.5:
            ip, asn = hosting_ip(rng, 2 + i % 6, size=16)
        else:
            ip, asn = hosting_ip(rng, 34 + i % 4, size=256, cloud=True)  # same clouds customers use
        kind_weights = [rng.uniform(0.2, 1.0) for _ in self._KINDS]
        kind_weights[i % len(self._KINDS)] += 2.0  # each account leans to one capability
        return self._operator_account(
            w,
            i,
            created=w.calendar.start - rng.uniform(2, 200) * 86400,
            tier=rng.choice(("free", "standard", "startup", "edu", "enterprise")),
            api=api,
            net=Network(ips=[ip], asn=asn, user_agent=ua, tls=tls, access_path=path),
            payment=w.oid("pf", self.group, i if i % 7 else "shared"),
            email=rng.choice(_FREEMAIL + ("devmail.example",)),
            verified=rng.random() < 0.3,
            weights=kind_weights,
            tasks=rng.uniform(4, 8),
            hours=rng.uniform(10, 20),
            offset=rng.uniform(0, 8),
        )

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        base = w.calendar.day_start(day) + acct.extra["offset"] * 3600
        plans: list[Plan] = []
        for _ in range(round(acct.extra["tasks"] * rng.uniform(0.7, 1.3))):
            kind = rng.choices(self._KINDS, weights=acct.extra["weights"])[0]
            ts = base + rng.uniform(0, acct.extra["hours"] * 3600)
            task = rng.getrandbits(62)
            steps = rng.randint(1, 4) if kind in ("agentic", "computer", "orchestrate") else 0
            for step in range(steps + 1):
                plans.append((ts, kind, rng.getrandbits(63), (task, step, steps)))
                ts += rng.uniform(2, 15)
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        task, step, steps = args
        if kind in ("data", "vision"):
            call, reply = self._harvest(w, rng, kind)
        else:
            call, reply = self._agent_loop(w, task, step, steps, kind)
        call.model = (
            MODEL_NEW
            if ts >= w.calendar.release_ts + 3 * 86400 and rng.random() < 0.3
            else MODEL_FLAGSHIP
        )
        call.max_tokens = rng.choice((4096, 8192))
        call.temperature = rng.choice((None, 0.2, 0.7))
        return emit(
            w, acct, ts, call, reply, rng, session_id=f"task_{task:016x}" if steps else None
        )


class ToolOrchestration(_Campaign):
    group = "attack:tool_orchestration"
    base_accounts = 12
    min_accounts = 2

    def account(self, w: World, i: int) -> Account:
        rng = w.rng(self.group, "acct", i)
        op = w.rng(self.group, "operator")
        curves = w.source.rate_curves()
        ip, asn = hosting_ip(rng, 10 + i % 3, size=4)
        ua, tls = ua_and_tls(op, "openai")
        return self._operator_account(
            w,
            i,
            created=w.calendar.start - rng.uniform(10, 90) * 86400,
            tier=rng.choice(("standard", "startup")),
            api="openai.chat.completions" if rng.random() < 0.7 else "openai.responses",
            net=Network(
                ips=[ip, hosting_ip(rng, 10 + i % 3, size=4)[0]],
                asn=asn,
                user_agent=ua,
                tls=tls,
                access_path=rng.choice(("direct", "direct", "cloud:aws")),
            ),
            payment=w.oid("pf", self.group, i % 5),
            email=w.oid("d", self.group, i % 4, n=8)[2:] + ".example",
            verified=rng.random() < 0.5,
            curve=op.randrange(len(curves)),
            phase=rng.randrange(144),
            daily=rng.uniform(60, 130),
            pivot=op.uniform(2, 20) * 3600,
        )

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        curve = w.source.rate_curves()[acct.extra["curve"]]
        base = w.calendar.day_start(day)
        plans: list[Plan] = []
        for t in curve_arrivals(rng, curve, day, acct.extra["daily"], phase=acct.extra["phase"]):
            task = rng.getrandbits(62)
            steps = rng.randint(0, 2)
            ts = base + t
            for step in range(steps + 1):
                plans.append((ts, "orchestrate", rng.getrandbits(63), (task, step, steps)))
                ts += rng.uniform(0.5, 6)
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        task, step, steps = args
        call, reply = self._agent_loop(w, task, step, steps, "orchestrate")
        pivoted = ts >= w.calendar.release_ts + acct.extra["pivot"]
        call.model = MODEL_NEW if pivoted and random.Random(task).random() < 0.5 else MODEL_FLAGSHIP
        call.temperature = 0.0 if rng.random() < 0.5 else 0.7
        call.max_tokens = 4096
        return emit(
            w,
            acct,
            ts,
            call,
            reply,
            rng,
            ip=acct.net.ips[rng.randrange(len(acct.net.ips))],
            session_id=f"run_{task:016x}",
        )


class HydraReseller(_Campaign):
    group = "attack:hydra_reseller"
    base_accounts = 60
    min_accounts = 4

    def account(self, w: World, i: int) -> Account:
        rng = w.rng(self.group, "acct", i)
        api = rng.choices(API_SHAPES, weights=(0.6, 0.1, 0.3))[0]
        op = w.rng(self.group, "operator", api)
        ua, tls = ua_and_tls(op, api)  # one proxy software stack per API
        curves = w.source.rate_curves()
        return self._operator_account(
            w,
            i,
            created=w.calendar.start - rng.uniform(1, 120) * 86400,
            tier=rng.choice(("free", "standard", "standard", "startup")),
            api=api,
            net=Network(
                ips=[hosting_ip(rng, 14)[0]], asn=hosting_ip(rng, 14)[1], user_agent=ua, tls=tls
            ),
            payment=w.oid("pf", self.group, i // 3),
            email=rng.choice(_FREEMAIL),
            verified=rng.random() < 0.2,
            n_keys=rng.randint(1, 3),
            curve=rng.randrange(len(curves)),
            daily=rng.uniform(10, 20),
            attack_share=rng.uniform(0.25, 0.6),
        )

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        curve = w.source.rate_curves()[acct.extra["curve"]]
        base = w.calendar.day_start(day)
        plans: list[Plan] = []
        for t in curve_arrivals(rng, curve, day, acct.extra["daily"], phase=i * 11):
            if rng.random() < acct.extra["attack_share"]:
                kind = rng.choices(("expert", "recon", "grade"), weights=(60, 30, 10))[0]
            else:
                kind = "customer"
            plans.append((base + t, kind, rng.getrandbits(63), ()))
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        if kind == "customer":  # unrelated requests of the reseller's paying customers
            pool = rng.choice(("chat", "chat", "code", "prompt"))
            item = pick(w.source, pool, rng)
            system, msgs, text = chat_history(item, 0)
            call, reply = (
                Call(model=MODEL_FLAGSHIP, messages=msgs, system=system),
                reply_from(text or answer_text(w.source, rng)),
            )
        else:
            call, reply = self._harvest(w, rng, kind)
        call.model = rng.choice((MODEL_FLAGSHIP, MODEL_FLAGSHIP, MODEL_REASONER))
        call.stream = rng.random() < 0.5
        ip, asn = hosting_ip(
            rng, 14 + rng.randrange(2), size=4
        )  # the proxy pool rotates per request
        return emit(
            w, acct, ts, call, reply, rng, ip=ip, asn=asn, user_id=f"cust_{rng.getrandbits(20):05x}"
        )


class AdaptiveParaphrase(_Campaign):
    group = "attack:adaptive_paraphrase"
    base_accounts = 40
    min_accounts = 4

    def account(self, w: World, i: int) -> Account:
        rng = w.rng(self.group, "acct", i)
        n = self.n_accounts(w)
        first_day = min(w.calendar.days - 1, int(i * (w.calendar.days - 1) / n))
        created = w.calendar.day_start(first_day) - rng.uniform(1, 20) * 3600
        api = rng.choice(API_SHAPES)
        ua, tls = ua_and_tls(rng, api, browser=rng.random() < 0.3)
        country, tz = COUNTRIES[rng.randrange(len(COUNTRIES))]
        return self._operator_account(
            w,
            i,
            created=created,
            tier=rng.choice(("free", "standard")),
            api=api,
            net=Network(ips=[residential_ip(rng)[0]], asn=64496, user_agent=ua, tls=tls),
            payment=w.oid("pf", self.group, i),
            email=rng.choice(_FREEMAIL),
            verified=False,
            country=(country, tz),
            n_keys=4,
            key_rotation_s=rng.uniform(8, 16) * 3600,
            first_day=first_day,
            lifetime=rng.randint(2, 4),
            sessions=rng.uniform(3, 6),
        )

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        first = acct.extra["first_day"]
        if not first <= day < first + acct.extra["lifetime"]:
            return []
        rng = w.rng(self.group, i, day)
        starts = human_session_starts(
            rng, w.calendar.day_start(day), acct.tz_hours, acct.extra["sessions"], weekday=day % 7
        )
        plans: list[Plan] = []
        free_at = 0.0
        for s in starts:
            ts = max(s, free_at + 300)
            session = rng.getrandbits(48)
            for _ in range(rng.randint(3, 9)):
                kind = rng.choices(("casual", "recon", "expert"), weights=(50, 30, 20))[0]
                plans.append((ts, kind, rng.getrandbits(63), (session,)))
                ts += think_time(rng, 2500, 400) * rng.uniform(0.7, 1.6)  # jittered, human-like
            free_at = ts
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        (session,) = args
        call, reply = self._harvest(w, rng, kind, evasive=True)
        call.model = (
            MODEL_NEW if ts >= w.calendar.release_ts and rng.random() < 0.5 else MODEL_FLAGSHIP
        )
        call.temperature = rng.choice((None, 0.7, 1.0))
        call.stream = rng.random() < 0.7
        ip, asn = residential_ip(random.Random(session))  # a residential proxy exit per session
        return emit(
            w, acct, ts, call, reply, rng, ip=ip, asn=asn, session_id=f"sess_{session:012x}"
        )


class LowAndSlow(_Campaign):
    group = "attack:low_and_slow"
    base_accounts = 40
    min_accounts = 4
    HOURLY_CAP = 12  # the per-account limit the operator stays under

    def account(self, w: World, i: int) -> Account:
        rng = w.rng(self.group, "acct", i)
        api = rng.choice(API_SHAPES)
        ua, tls = ua_and_tls(rng, api)
        if rng.random() < 0.6:
            ip, asn = residential_ip(rng)
        else:
            ip, asn = hosting_ip(rng, 16 + i % 4, size=16)
        return self._operator_account(
            w,
            i,
            created=w.calendar.start - rng.uniform(30, 400) * 86400,
            tier=rng.choice(("free", "standard", "edu")),
            api=api,
            net=Network(ips=[ip], asn=asn, user_agent=ua, tls=tls),
            payment=w.oid("pf", self.group, i),
            email=rng.choice(_FREEMAIL),
            verified=rng.random() < 0.4,
            daily=rng.uniform(12, 28),
            start_hour=rng.uniform(0, 24),
        )

    def plan_day(self, w: World, acct: Account, i: int, day: int) -> list[Plan]:
        rng = w.rng(self.group, i, day)
        n = round(acct.extra["daily"] * rng.uniform(0.8, 1.2))
        ts = w.calendar.day_start(day) + acct.extra["start_hour"] * 3600 + rng.uniform(0, 3600)
        plans: list[Plan] = []
        for _ in range(n):
            plans.append(
                (
                    ts,
                    rng.choices(("expert", "recon", "casual"), weights=(50, 30, 20))[0],
                    rng.getrandbits(63),
                    (),
                )
            )
            ts += (
                3600.0 / self.HOURLY_CAP * rng.uniform(1.1, 2.5)
            )  # never more than the cap per hour
        return plans

    def render(
        self, w: World, acct: Account, ts: float, kind: str, seed: int, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        rng = random.Random(seed)
        call, reply = self._harvest(w, rng, kind, evasive=True)
        call.model = rng.choice((MODEL_FLAGSHIP, MODEL_REASONER))
        call.temperature = rng.choice((None, 0.3, 0.7))
        return emit(w, acct, ts, call, reply, rng)


ATTACK_CAMPAIGNS: tuple[type[Population], ...] = (
    ReasoningRewardModel,
    AgenticMulti,
    ToolOrchestration,
    HydraReseller,
    AdaptiveParaphrase,
    LowAndSlow,
)
