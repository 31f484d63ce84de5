"""Hindsight re-clustering: strong links merge, weak links need company, hubs are diluted."""

from __future__ import annotations

import random

from distillwatch.behaviour.account import AccountState
from distillwatch.campaign.graph import ClusterConfig, ReclusterStats, network_key, recluster
from distillwatch.record import AccountInfo, ClientInfo, Exchange

_T0 = 1_767_225_600.0  # 2026-01-01 UTC


def _acct(account_id: str, *, n: int = 60, families: dict[str, int] | None = None, **attrs):
    st = AccountState(account_id=account_id)
    st.n = n
    for name, value in attrs.items():
        setattr(st, name, value)
    for fam, uses in (families or {}).items():
        st.families.add(fam, uses)
    return st


def _index(states: list[AccountState]) -> dict[str, AccountState]:
    return {st.account_id: st for st in states}


def _members(clusters) -> list[set[str]]:
    return [set(c.accounts) for c in clusters]


def test_network_key_ipv4_ipv6_and_garbage() -> None:
    assert network_key("203.0.113.77") == "203.0.113.0/24"
    assert network_key("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert network_key("999.1.1.1") is None
    assert network_key("not an ip") is None


def test_shared_payment_makes_one_cluster_with_unflagged_members() -> None:
    operator = [
        _acct(f"op{i}", payment_fingerprint="pf_card", ips={f"198.18.{i}.9"}) for i in range(5)
    ]
    loner = _acct("loner", payment_fingerprint="pf_own", ips={"192.0.2.1"})
    accounts = _index([*operator, loner])
    clusters = recluster(accounts, {}, seeds=["op0", "op1", "op2", "loner"])
    assert _members(clusters) == [{f"op{i}" for i in range(5)}]
    only = clusters[0]
    assert only.links == {"payment": 4}
    assert only.flagged == 3
    assert 0.0 < only.score <= 1.0


def test_corporate_nat_does_not_pull_benign_accounts_into_a_campaign() -> None:
    nat, client = "198.51.100.7", {"last_user_agent": "openai-python/1.99", "last_tls": "t13d"}
    benign = [
        _acct(f"corp{i}", ips={nat}, org_id="org_corp", last_asn=64500, **client) for i in range(60)
    ]
    # one coincidence on top of the NAT: the attacker signed up minutes after corp0
    benign[0].created_at, benign[0].tier = _T0, "standard"
    attacker = _acct(
        "atk",
        ips={nat},
        payment_fingerprint="pf_x",
        last_asn=64500,
        created_at=_T0 + 120,
        tier="standard",
        **client,
    )
    partner = _acct("atk2", ips={"203.0.113.5"}, payment_fingerprint="pf_x")
    accounts = _index([*benign, attacker, partner])
    # even benign accounts that were flagged (false positives) stay apart from the attacker
    seeds = ["atk", "atk2", "corp0", "corp1", "corp2"]
    clusters = recluster(accounts, {}, seeds=seeds)
    assert _members(clusters) == [{"atk", "atk2"}]


def test_shared_organisation_alone_makes_no_campaign() -> None:
    staff = [
        _acct(f"emp{i}", org_id="org_small", ips={f"192.0.{i}.{i + 1}"}, tier="enterprise")
        for i in range(6)
    ]
    assert recluster(_index(staff), {}, seeds=[s.account_id for s in staff]) == []


def test_one_kind_of_weak_link_is_not_enough_two_independent_kinds_are() -> None:
    # an address and its /24 are one kind of evidence
    same_ip = [_acct(f"a{i}", ips={"192.0.2.10"}) for i in range(3)]
    assert recluster(_index(same_ip), {}, seeds=["a0", "a1", "a2"]) == []
    # the same address plus accounts created in one sign-up burst are two
    burst = [
        _acct(f"b{i}", ips={"192.0.2.10"}, created_at=_T0 + 30 * i, tier="free") for i in range(3)
    ]
    clusters = recluster(_index(burst), {}, seeds=["b0", "b1", "b2"])
    assert _members(clusters) == [{"b0", "b1", "b2"}]
    assert set(clusters[0].links) >= {"ip", "burst"}


def test_lockstep_timing_counts_with_an_address_but_not_a_shared_daily_rhythm() -> None:
    # a background of ordinary accounts sets the population's daily rhythm
    rng = random.Random(3)

    def daytime_hours() -> list[int]:
        hours = [0] * 24
        for _ in range(200):
            hours[int(rng.gauss(14, 2.5)) % 24] += 1
        return hours

    background = [_acct(f"bg{i}", hours=daytime_hours(), ips={f"100.64.{i}.1"}) for i in range(40)]
    night = [0] * 24
    for h in (2, 3, 4):
        night[h] = 20
    schedulers = [
        _acct(f"s{i}", hours=list(night), ips={"192.0.2.50"}, first_day=20454, day_mask=0b1111)
        for i in range(3)
    ]
    accounts = _index([*background, *schedulers])
    clusters = recluster(accounts, {}, seeds=["s0", "s1", "s2"])
    assert _members(clusters) == [{"s0", "s1", "s2"}]
    assert "lockstep" in clusters[0].links
    # the same address and the common daytime rhythm of the population is not lockstep
    daytime = [
        _acct(
            f"d{i}",
            hours=daytime_hours(),
            ips={"192.0.2.60"},
            first_day=20454,
            day_mask=0b1111,
        )
        for i in range(3)
    ]
    accounts = _index([*background, *daytime])
    assert recluster(accounts, {}, seeds=["d0", "d1", "d2"]) == []


def test_rotating_addresses_linked_by_flagged_families_form_one_cluster() -> None:
    rng = random.Random(11)
    hydra = [
        _acct(
            f"h{i}",
            ips={
                f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.1"
                for _ in range(8)
            },
            families={"tpl_harvest": 12, f"tpl_cover{i}": 30},
        )
        for i in range(8)
    ]
    casual = _acct("casual", families={"tpl_harvest": 1})  # used the phrase once
    accounts = _index([*hydra, casual])
    flagged = {"tpl_harvest": 0.9}
    clusters = recluster(accounts, flagged, seeds=[f"h{i}" for i in range(8)])
    assert _members(clusters) == [{f"h{i}" for i in range(8)}]
    assert clusters[0].links == {"prompt_family": 7}


def test_a_generic_shared_family_does_not_merge_two_operators() -> None:
    def operator(tag: str) -> list[AccountState]:
        return [
            _acct(f"{tag}{i}", families={f"tpl_{tag}": 25, "tpl_generic": 3}) for i in range(10)
        ]

    accounts = _index([*operator("x"), *operator("y")])
    flagged = {"tpl_x": 0.9, "tpl_y": 0.9, "tpl_generic": 0.6}
    clusters = recluster(accounts, flagged, seeds=list(accounts))
    assert sorted(map(sorted, _members(clusters))) == [
        [f"x{i}" for i in range(10)],
        [f"y{i}" for i in range(10)],
    ]


def test_states_learned_from_exchanges_cluster_by_payment_and_not_by_asn() -> None:
    accounts: dict[str, AccountState] = {}
    for i in range(6):
        acct_id = f"acct{i}"
        st = accounts[acct_id] = AccountState(account_id=acct_id)
        for k in range(3):
            ex = Exchange(
                id=f"{acct_id}-{k}",
                ts=_T0 + 3600 * i + 60 * k,
                account_id=acct_id,
                api="openai.chat.completions",
                client=ClientInfo(ip=f"10.{i}.{k}.1", asn=16509),  # one cloud provider
                account=AccountInfo(payment_fingerprint="pf_a" if i < 3 else None),
            )
            st.learn_one(ex, 0.0, [], (None, None))
    clusters = recluster(accounts, {}, seeds=list(accounts))
    assert _members(clusters) == [{"acct0", "acct1", "acct2"}]


def test_recluster_is_deterministic_and_ignores_insertion_order() -> None:
    rng = random.Random(5)
    states = []
    for i in range(120):
        states.append(
            _acct(
                f"u{i:03d}",
                ips={f"192.0.2.{rng.randrange(20)}"},
                payment_fingerprint=f"pf_{rng.randrange(40)}",
                created_at=_T0 + rng.randrange(7200),
                tier=rng.choice(["free", "startup"]),
                families={f"tpl_{rng.randrange(4)}": rng.randrange(1, 9)},
            )
        )
    flagged = {"tpl_0": 0.8, "tpl_1": 0.7}
    seeds = [s.account_id for s in states[::3]]
    first = recluster(_index(states), flagged, seeds=seeds)
    rng.shuffle(states)
    second = recluster(_index(states), flagged, seeds=list(reversed(seeds)))
    assert first == second
    assert first  # the data has campaigns to find
    for cluster in first:
        assert cluster.accounts == sorted(cluster.accounts)
        assert any(a in seeds for a in cluster.accounts)


def test_no_seeds_no_clusters_and_config_is_respected() -> None:
    pair = [_acct(f"p{i}", payment_fingerprint="pf_shared") for i in range(2)]
    assert recluster(_index(pair), {}, seeds=[]) == []
    assert recluster(_index(pair), {}, seeds=["unknown"]) == []
    capped = ClusterConfig(payment_cap=1)
    assert recluster(_index(pair), {}, seeds=["p0"], config=capped) == []


def test_one_dense_campaign_with_noisy_infrastructure_is_not_split() -> None:
    rng = random.Random(17)
    pool = [f"203.0.113.{k}" for k in range(1, 40)]  # a rotating pool: addresses reused at random
    campaign = [
        _acct(
            f"c{i:02d}",
            ips=set(rng.sample(pool, 4)),
            families={"tpl_one": rng.randrange(3, 30), "tpl_two": rng.randrange(3, 30)},
        )
        for i in range(60)
    ]
    flagged = {"tpl_one": 0.9, "tpl_two": 0.8}
    clusters = recluster(_index(campaign), flagged, seeds=[s.account_id for s in campaign])
    assert _members(clusters) == [{s.account_id for s in campaign}]


def test_round_the_clock_activity_is_not_lockstep() -> None:
    # always-on services share a flat profile; with a coincidental sign-up burst that is
    # still one kind of evidence, so they are not clustered
    always_on = [
        _acct(
            f"svc{i}",
            hours=[10] * 24,
            first_day=20454,
            day_mask=0b1111,
            created_at=_T0 + 60 * i,
            tier="startup",
        )
        for i in range(3)
    ]
    daytime = [0] * 24
    for h in range(8, 18):
        daytime[h] = 12
    background = [_acct(f"bg{i}", hours=list(daytime)) for i in range(30)]
    accounts = _index([*background, *always_on])
    assert recluster(accounts, {}, seeds=["svc0", "svc1", "svc2"]) == []


def test_score_needs_several_flagged_members_and_grows_with_them() -> None:
    operator = _index([_acct(f"op{i}", payment_fingerprint="pf_card") for i in range(6)])
    (one,) = recluster(operator, {}, seeds=["op0"])
    (three,) = recluster(operator, {}, seeds=["op0", "op1", "op2"])
    (five,) = recluster(operator, {}, seeds=[f"op{i}" for i in range(5)])
    assert one.flagged == 1 and one.score == 0.0  # one flagged account lends no one a lift
    assert 0.0 < three.score < five.score <= 1.0


def test_a_signup_coincidence_and_a_common_capability_focus_do_not_admit() -> None:
    # two coding-focused accounts created minutes apart on the same tier: a coincidence
    pair = [
        _acct(f"dev{i}", capabilities={"coding": 50}, created_at=_T0 + 200 * i, tier="startup")
        for i in range(2)
    ]
    assert recluster(_index(pair), {}, seeds=["dev0", "dev1"]) == []


def test_an_account_unreachable_from_every_seed_is_never_indexed() -> None:
    operator = [
        _acct(f"op{i}", payment_fingerprint="pf_card", ips={f"198.18.{i}.9"}) for i in range(4)
    ]
    # shares op0's address: linked to a seed, so indexed (though one weak kind admits no one)
    neighbour = _acct("nb", ips={"198.18.0.9", "192.0.2.77"}, created_at=_T0, tier="free")
    # shares a value with the neighbour only: two hops from every seed
    outsider = _acct("far", ips={"192.0.2.77"}, created_at=_T0 + 60, tier="free")
    stranger = _acct("stranger", ips={"203.0.113.200"}, payment_fingerprint="pf_own")
    accounts = _index([*operator, neighbour, outsider, stranger])
    stats = ReclusterStats()
    clusters = recluster(accounts, {}, seeds=["op0", "op1"], stats=stats)
    assert _members(clusters) == [{f"op{i}" for i in range(4)}]
    assert stats.indexed == {"op0", "op1", "op2", "op3", "nb"}
    assert stats.nodes == 5
    # a second hop reaches the outsider (nb and far share an address and a sign-up burst)
    two_hops = ReclusterStats()
    recluster(accounts, {}, seeds=["op0", "op1"], config=ClusterConfig(hops=2), stats=two_hops)
    assert "far" in two_hops.indexed
    assert "stranger" not in two_hops.indexed


def _benign_crowd(n: int, rng: random.Random) -> list[AccountState]:
    """Ordinary accounts sharing nothing specific with anyone (own card, own address)."""
    return [
        _acct(
            f"user{i:06d}",
            ips={f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"},
            payment_fingerprint=f"pf_user{i}",
            created_at=_T0 + rng.uniform(0, 300 * 86400),
            tier="free",
            email_domain="mail.example",  # one huge domain: a hub, never evidence
            families={"tpl_harvest": 1} if i % 500 == 0 else None,  # used the phrase once
        )
        for i in range(n)
    ]


def test_work_follows_the_seeds_neighbourhood_not_the_population() -> None:
    rng = random.Random(23)
    campaign = [
        _acct(
            f"h{i:02d}",
            ips={f"203.0.113.{rng.randrange(1, 40)}" for _ in range(3)},
            families={"tpl_harvest": 12},
            email_domain="mail.example",
        )
        for i in range(30)
    ]
    # a NAT address shared by one campaign account and 20 benign accounts: too common to link
    campaign[0].ips = {*campaign[0].ips, "198.51.100.7"}
    nat = [_acct(f"nat{i:02d}", ips={"198.51.100.7"}) for i in range(20)]
    flagged = {"tpl_harvest": 0.9}
    seeds = [s.account_id for s in campaign[:20]]
    small = _index([*campaign, *nat])
    base_stats = ReclusterStats()
    base = recluster(small, flagged, seeds=seeds, stats=base_stats)
    assert _members(base) == [{s.account_id for s in campaign}]

    crowd = _benign_crowd(20_000, rng)
    large = _index([*campaign, *nat, *crowd])
    stats = ReclusterStats()
    clusters = recluster(large, flagged, seeds=seeds, stats=stats)
    assert clusters == base
    # the crowd is read by the counting passes, but of it only the 40 one-time users of the
    # flagged phrase are indexed: they carry a seed's value (and stay out of the campaign)
    casual = {f"user{i:06d}" for i in range(0, 20_000, 500)}
    assert stats.passes == base_stats.passes <= 2
    assert stats.indexed - base_stats.indexed == casual
    assert stats.nodes == base_stats.nodes + len(casual) == 70
    # the NAT's carriers were held only while its address and /24 were specific enough to
    # link (12 carriers at most), and none of them joined the graph
    held = stats.indexed & {s.account_id for s in nat}
    assert 0 < len(held) < ClusterConfig().kinds["network"].specific_max
