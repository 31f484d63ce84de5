"""The online engine: causality, prompt-family patterns, bounded association, resume."""

from __future__ import annotations

import pickle
import random

from distillwatch.detectors.base import Signal
from distillwatch.engine import Engine
from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn


class KeywordDetector:
    """Test double: an extraction signal when the prompt says 'reconstruct the reasoning'."""

    name = "test.keyword"
    version = "1"
    signals = ("test.reconstruction",)

    def detect(self, ex: Exchange) -> list[Signal]:
        if "reconstruct the reasoning" in ex.last_user_text:
            return [
                Signal(
                    "test.reconstruction", 0.9, "reconstruct the reasoning", "reasoning_extraction"
                )
            ]
        return []


def make_ex(
    i: int,
    account: str,
    ts: float,
    text: str,
    *,
    pay: str | None = None,
    ip: str = "198.51.100.7",
    system: str = "",
) -> Exchange:
    return Exchange(
        id=f"ex{i}",
        ts=ts,
        account_id=account,
        api="openai.chat.completions",
        model="m1",
        system=system,
        turns=[Turn("user", text)],
        max_tokens=1024,
        input_tokens=50,
        output_tokens=400,
        client=ClientInfo(ip=ip, user_agent="sdk/1.0"),
        account=AccountInfo(payment_fingerprint=pay),
    )


WRAPPER = (
    "Here is a completed answer to a problem. Please reconstruct the reasoning that leads to it "
    "and write it out step by step in full detail."
)


WORDS = [
    f"{a}{b}"
    for a in ("al", "bo", "ci", "du", "ek", "fa", "gu", "hi")
    for b in ("ra", "mo", "sen", "tik", "vol")
]


def attack_traffic(
    rng: random.Random, n_accounts: int = 12, per_account: int = 60, start: float = 1_700_000_000.0
) -> list[Exchange]:
    out = []
    i = 0
    for a in range(n_accounts):
        for k in range(per_account):
            ts = start + k * 600 + rng.random() * 60 + a
            item = f"Problem: {rng.choice(WORDS)} {rng.choice(WORDS)} left {rng.choice(WORDS)} with {rng.choice(WORDS)}."
            out.append(
                make_ex(
                    i, f"atk{a}", ts, f"{WRAPPER}\n\n{item}", pay="pay_shared", ip=f"203.0.113.{a}"
                )
            )
            i += 1
    return out


def benign_traffic(
    rng: random.Random, n_accounts: int = 40, start: float = 1_700_000_000.0
) -> list[Exchange]:
    out = []
    i = 10_000
    for a in range(n_accounts):
        for k in range(rng.randint(3, 20)):
            ts = start + rng.random() * 86400 * 5
            text = f"question {rng.randint(0, 10**9)} about my garden, roses number {k}"
            out.append(
                make_ex(i, f"ben{a}", ts, text, pay=f"pay{a}", ip="192.0.2.10")
            )  # one shared NAT
            i += 1
    return out


def run(exchanges: list[Exchange]) -> Engine:
    engine = Engine(detectors=[KeywordDetector()])
    for ex in sorted(exchanges, key=lambda e: e.ts):
        engine.observe(ex)
    engine.finalize()
    return engine


def test_attack_accounts_flagged_and_nat_neighbours_not() -> None:
    rng = random.Random(1)
    engine = run(attack_traffic(rng) + benign_traffic(rng))
    verdicts = {v.account_id: v for v in engine.account_verdicts()}
    attackers = [v for k, v in verdicts.items() if k.startswith("atk")]
    benign = [v for k, v in verdicts.items() if k.startswith("ben")]
    assert all(v.verdict != "benign" for v in attackers)
    assert all(v.verdict == "benign" for v in benign)
    assert all(v.campaign_id is not None for v in attackers)
    assert len({v.campaign_id for v in attackers}) == 1
    campaigns = engine.campaigns()
    assert len(campaigns) == 1
    assert set(campaigns[0]["accounts"]) == {v.account_id for v in attackers}
    assert "pay_shared" in campaigns[0]["indicators"]["payment_fingerprints"]
    top = attackers[0].evidence[0]
    assert top.detail and 0 < top.score <= 1


def test_first_flagged_ts_is_causal() -> None:
    """Replaying only the exchanges up to first_flagged_ts flags the account at the same ts."""
    rng = random.Random(2)
    exchanges = sorted(attack_traffic(rng, n_accounts=6) + benign_traffic(rng), key=lambda e: e.ts)
    full = run(exchanges)
    flagged = [v for v in full.account_verdicts() if v.first_flagged_ts is not None]
    assert flagged
    for v in flagged[:3]:
        prefix = [e for e in exchanges if e.ts <= v.first_flagged_ts]
        engine = Engine(detectors=[KeywordDetector()])
        for ex in prefix:
            engine.observe(ex)
        assert engine.accounts[v.account_id].first_flagged_ts == v.first_flagged_ts
        # and one exchange earlier it was not yet flagged
        engine = Engine(detectors=[KeywordDetector()])
        for ex in [e for e in exchanges if e.ts < v.first_flagged_ts]:
            engine.observe(ex)
        st = engine.accounts.get(v.account_id)
        assert st is None or st.first_flagged_ts is None


def test_hydra_account_caught_by_prompt_family_despite_cover_traffic() -> None:
    rng = random.Random(3)
    exchanges = attack_traffic(rng)
    # a reseller account: 200 unrelated customer requests and only 15 carrying the attack family
    for k in range(200):
        exchanges.append(
            make_ex(
                50_000 + k,
                "reseller",
                1_700_000_000.0 + k * 300,
                f"customer {rng.randint(0, 10**9)} asks about invoices {k}",
                pay="pay_reseller",
            )
        )
    for k in range(15):
        item = (
            f"Problem: {rng.choice(WORDS)} sailed with {rng.choice(WORDS)} to {rng.choice(WORDS)}."
        )
        exchanges.append(
            make_ex(
                60_000 + k,
                "reseller",
                1_700_030_000.0 + k * 997,
                f"{WRAPPER}\n\n{item}",
                pay="pay_reseller",
            )
        )
    engine = run(exchanges)
    v = {x.account_id: x for x in engine.account_verdicts()}["reseller"]
    assert v.verdict != "benign"
    assert any(e.name == "campaign.prompt_family" for e in v.evidence)


def test_state_round_trip_resumes() -> None:
    rng = random.Random(4)
    exchanges = sorted(attack_traffic(rng, n_accounts=4), key=lambda e: e.ts)
    half = len(exchanges) // 2
    engine = Engine(detectors=[KeywordDetector()])
    for ex in exchanges[:half]:
        engine.observe(ex)
    blob = engine.state_bytes()
    resumed = Engine.from_state_bytes(blob)
    resumed.detectors = [KeywordDetector()]
    for ex in exchanges[half:]:
        resumed.observe(ex)
    straight = Engine(detectors=[KeywordDetector()])
    for ex in exchanges:
        straight.observe(ex)
    for acct, st in straight.accounts.items():
        assert resumed.accounts[acct].n == st.n
        assert resumed.accounts[acct].first_flagged_ts == st.first_flagged_ts


def test_assess_does_not_change_state() -> None:
    rng = random.Random(5)
    engine = run(attack_traffic(rng, n_accounts=10))
    before = {k: (s.n, s.risk) for k, s in engine.accounts.items()}
    counts = dict(engine.families.prompt_miner.counts)
    probe = make_ex(999_999, "atk0", 1_800_000_000.0, f"{WRAPPER}\n\nProblem 1: two trains.")
    a = engine.assess(probe)
    assert a.request_score >= 0.9
    assert a.account is not None and a.account.verdict != "benign"
    assert a.family_flagged
    assert {k: (s.n, s.risk) for k, s in engine.accounts.items()} == before
    assert engine.families.prompt_miner.counts == counts


def _run_layers(top_layer: str) -> dict:
    from distillwatch.engine import EngineConfig

    rng = random.Random(5)
    engine = Engine(EngineConfig(top_layer=top_layer), detectors=[KeywordDetector()])
    for ex in sorted(attack_traffic(rng) + benign_traffic(rng), key=lambda e: e.ts):
        engine.observe(ex)
    engine.finalize()
    if top_layer != "campaign":
        assert engine.campaigns() == []
    return {v.account_id: v for v in engine.account_verdicts()}


def test_layer_ablation_switches_off_what_it_says() -> None:
    """content: the strongest single request; behaviour: no campaign evidence or ids."""
    content = _run_layers("content")
    assert {v.risk for k, v in content.items() if k.startswith("atk")} == {0.9}
    assert all(v.campaign_id is None for v in content.values())
    behaviour = _run_layers("behaviour")
    assert all(v.campaign_id is None for v in behaviour.values())
    assert not any(e.name.startswith("campaign.") for v in behaviour.values() for e in v.evidence)
    full = _run_layers("campaign")
    assert any(e.name.startswith("campaign.") for v in full.values() for e in v.evidence)


def test_unknown_top_layer_is_rejected() -> None:
    import pytest

    from distillwatch.engine import EngineConfig

    with pytest.raises(ValueError, match="top_layer"):
        EngineConfig(top_layer="everything")


def test_river_style_learn_one_and_score_one() -> None:
    """score_one reads without changing state; learn_one is observe under river's name."""
    rng = random.Random(7)
    traffic = sorted(attack_traffic(rng, n_accounts=4, per_account=30), key=lambda e: e.ts)
    engine = Engine(detectors=[KeywordDetector()])
    assert engine.score_one(traffic[0]) == 0.0
    for ex in traffic:
        engine.learn_one(ex)
    before = engine.state_bytes()
    risk = engine.score_one(traffic[-1])
    assert risk == engine.accounts[traffic[-1].account_id].risk > 0.5
    assert engine.state_bytes() == before


class QuotingJudgeDetector:
    """Test double: a grading request whose quoted candidate answer trips a reconstruction rule."""

    name = "test.judge"
    version = "1"
    signals = ("content.reward_grading", "content.reasoning_reconstruction")

    def detect(self, ex: Exchange) -> list[Signal]:
        return [
            Signal("content.reward_grading", 0.65, "rubric grading", "reward_grading"),
            Signal("content.reasoning_reconstruction", 0.9, "quoted answer", "reasoning"),
            Signal("capability.coding", 0.2, "code", "coding"),
        ]


def test_material_quoted_in_a_grading_request_is_not_a_technique_of_the_account() -> None:
    engine = Engine(detectors=[QuotingJudgeDetector()])
    for i in range(40):
        engine.observe(make_ex(i, "judge", 1_700_000_000.0 + 60 * i, f"grade answer {i}"))
    st = engine.accounts["judge"]
    assert st.single_purpose_hits == 0
    assert st.techniques(min_mean=0.35) == ["content.reward_grading"]
    assert st.capabilities.get("coding") == 40  # capability tags still count
    assert [s.name for s in engine.last_signals][:2] == [
        "content.reward_grading",
        "content.reasoning_reconstruction",
    ]  # the per-exchange log keeps every signal


def test_observe_facts_is_observe_without_the_text() -> None:
    """What a scan's workers send (facts, signal rows, family hashes) gives the engine
    exactly what the whole exchange gives it: risk after every exchange, verdicts,
    first_flagged_ts and campaigns."""
    from distillwatch.campaign.families import sentence_hashes
    from distillwatch.parallel import SignalRow
    from distillwatch.record import facts_of

    rng = random.Random(5)
    exchanges = sorted(attack_traffic(rng, n_accounts=8) + benign_traffic(rng), key=lambda e: e.ts)
    # request shapes the account state counts: follow-ups, images, tools, sampling, reasoning
    for k, ex in enumerate(exchanges[::7]):
        ex.turns = [Turn("user", "earlier", images=k % 2), Turn("assistant", "ok"), *ex.turns]
        ex.tool_schema_hash = f"schema{k % 3}"
        ex.n, ex.logprobs, ex.max_tokens = 1 + k % 2, k % 3 == 0, 4096 * (k % 4)
        ex.reasoning_effort, ex.thinking_budget = ("high", None) if k % 2 else (None, 20000)
        ex.user_id = f"u{k % 2}"
    whole, compact = Engine(detectors=[KeywordDetector()]), Engine(detectors=[KeywordDetector()])
    detector = KeywordDetector()
    for ex in exchanges:
        verdict = whole.observe(ex)
        rows = [SignalRow(s.name, s.score, s.detail, s.capability) for s in detector.detect(ex)]
        hashes = (sentence_hashes(ex.system), sentence_hashes(ex.last_user_text))
        assert compact.observe_facts(facts_of(ex), rows, hashes) == verdict.risk
        assert compact.last_family == whole.last_family
    whole.finalize()
    compact.finalize()
    assert whole.account_verdicts() == compact.account_verdicts()
    assert whole.campaigns() == compact.campaigns()
    assert any(v.first_flagged_ts is not None for v in compact.account_verdicts())
    for acct, st in whole.accounts.items():
        assert pickle.dumps(st) == pickle.dumps(compact.accounts[acct])
