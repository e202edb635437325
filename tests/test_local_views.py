"""Every contract and dashboard view of the local build, checked against numbers computed
independently from the generated files (tests/local_expected.py), on one shared build."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from local_expected import (
    AI_CODE_LINES,
    CODE_GENERATION_LINES,
    FAMILIES,
    feature_usage,
    month_of,
    sample_build,
    user_days,
)

METRICS_44 = 44


@pytest.fixture(scope="module")
def sample():
    return sample_build()


def _close(a, b, tol=1e-6):
    return a == b if a is None or b is None else abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def test_user_activity_daily_matches_files(sample):
    rows = sample.query("SELECT activity_date, userid, client_type, subscription_tier, chat_conversations, "
                        "credits_used, overage_cap, overage_credits_used, overage_enabled, total_messages, "
                        "new_user, user_email FROM user_activity_daily")
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert len(got) == len(rows), "one row per (date, user, client)"
    expected = sample.expected.activity
    assert set(got) == set(expected)
    for key, want in expected.items():
        have = got[key]
        assert have[0] == want["subscription_tier"], key
        assert have[1] == want["chat_conversations"], key
        assert _close(have[2], want["credits_used"]), key
        assert _close(have[3], want["overage_cap"]), key
        assert _close(have[4], want["overage_credits_used"]), key
        assert have[5] == want["overage_enabled"], key
        assert have[6] == want["total_messages"], key
        assert have[7] == want["new_user"], key
        assert have[8] == want["user_email"], key


def test_user_activity_daily_types(sample):
    assert sample.columns("user_activity_daily") == [
        ("activity_date", "DATE"), ("userid", "VARCHAR"), ("client_type", "VARCHAR"),
        ("subscription_tier", "VARCHAR"), ("chat_conversations", "BIGINT"), ("credits_used", "DOUBLE"),
        ("overage_cap", "DOUBLE"), ("overage_credits_used", "DOUBLE"), ("overage_enabled", "BOOLEAN"),
        ("total_messages", "BIGINT"), ("new_user", "BOOLEAN"), ("user_email", "VARCHAR"),
        ("usage_limit", "DOUBLE"), ("region", "VARCHAR")]


def test_model_usage_daily_matches_files(sample):
    rows = sample.query("SELECT activity_date, userid, client_type, model, messages FROM model_usage_daily")
    assert {(r[0], r[1], r[2], r[3]): r[4] for r in rows} == sample.expected.models
    assert dict(sample.columns("model_usage_daily"))["messages"] == "BIGINT"


def test_user_behavior_daily_matches_files(sample):
    columns = [name for name, _ in sample.columns("user_behavior_daily")]
    assert columns[:2] == ["activity_date", "userid"] and len(columns) == 2 + METRICS_44
    assert {kind for name, kind in sample.columns("user_behavior_daily")[2:]} == {"BIGINT"}
    rows = sample.query(f"SELECT {', '.join(columns)} FROM user_behavior_daily")
    got = {(r[0], r[1]): dict(zip(columns[2:], r[2:])) for r in rows}
    assert len(got) == len(rows)
    assert got == sample.expected.behavior


def test_user_summary(sample):
    by_user = defaultdict(list)
    for (day, user, _), row in sample.expected.activity.items():
        by_user[user].append((day, row))
    rows = sample.query("SELECT userid, username, subscription_tier, first_active_date, last_active_date, "
                        "active_days, credits_used, total_messages FROM user_summary")
    assert {r[0] for r in rows} == set(by_user)
    for userid, username, tier, first, last, active, credits, messages in rows:
        days = by_user[userid]
        assert username == sample.names.get(userid, userid)
        assert first == min(d for d, _ in days) and last == max(d for d, _ in days)
        assert active == len({d for d, _ in days})
        assert _close(credits, sum(r["credits_used"] for _, r in days))
        assert messages == sum(r["total_messages"] for _, r in days)
        latest_day = max(d for d, r in days if r["subscription_tier"])
        ranks = {t.code: n for n, t in enumerate(sample.config.tiers)}
        latest = max((r["subscription_tier"] for d, r in days if d == latest_day and r["subscription_tier"]),
                     key=lambda t: ranks.get(t, -1))
        assert tier == latest, userid


def test_users_outside_the_identity_store_keep_their_id_as_name(sample):
    # External IdP / Builder ID sign-ins are in the reports but not in the user map.
    external = set(sample.manifest.external_user_ids)
    rows = dict(sample.query("SELECT userid, username FROM user_summary"))
    assert external and external <= set(rows)
    for userid, username in rows.items():
        if userid in external:
            assert username == userid
        else:
            assert username == sample.names[userid] != userid


def test_daily_summary(sample):
    people = user_days(sample.expected)
    credits, behavior = defaultdict(lambda: [0.0, 0.0, 0, 0]), defaultdict(lambda: [0, 0, 0])
    for (day, _, _), r in sample.expected.activity.items():
        acc = credits[day]
        acc[0] += r["credits_used"]
        acc[1] += r["overage_credits_used"]
        acc[2] += r["total_messages"]
        acc[3] += r["chat_conversations"]
    for (day, _), m in sample.expected.behavior.items():
        acc = behavior[day]
        acc[0] += sum(m[k] for k in AI_CODE_LINES)
        acc[1] += m["inline_suggestionscount"]
        acc[2] += m["inline_acceptancecount"]
    rows = sample.query("SELECT * FROM daily_summary")
    assert {r[0] for r in rows} == set(people)
    for day, active, used, overage, messages, convs, ai_lines, suggestions, acceptances in rows:
        c, b = credits.get(day, [0.0, 0.0, 0, 0]), behavior.get(day, [0, 0, 0])
        assert active == len(people[day])
        assert _close(used, c[0]) and _close(overage, c[1]) and messages == c[2] and convs == c[3]
        assert [ai_lines, suggestions, acceptances] == b


def test_active_users_daily(sample):
    people = user_days(sample.expected)
    first, last = min(people), max(people)
    rows = {r[0]: r[1:] for r in sample.query("SELECT activity_date, dau, wau, mau FROM active_users_daily")}
    assert set(rows) == {first + timedelta(days=n) for n in range((last - first).days + 1)}

    def window(day, size):
        return set().union(*(people.get(day - timedelta(days=k), set()) for k in range(size)))
    for day, (dau, wau, mau) in rows.items():
        assert (dau, wau, mau) == (len(people.get(day, ())), len(window(day, 7)), len(window(day, 30))), day


def test_new_vs_returning_daily(sample):
    people = user_days(sample.expected)
    first_seen = {}
    for day in sorted(people):
        for user in people[day]:
            first_seen.setdefault(user, day)
    rows = sample.query("SELECT activity_date, new_users, returning_users FROM new_vs_returning_daily")
    assert len(rows) == len(people)
    for day, new, returning in rows:
        fresh = sum(1 for u in people[day] if first_seen[u] == day)
        assert (new, returning) == (fresh, len(people[day]) - fresh)


def test_feature_adoption_daily(sample):
    want = defaultdict(lambda: [0, 0, 0])
    for (day, _), m in sample.expected.behavior.items():
        for feature, (events, lines) in FAMILIES.items():
            e, n = sum(m[k] for k in events), sum(m[k] for k in lines)
            acc = want[(day, feature)]
            acc[0] += 1 if e > 0 or n > 0 else 0
            acc[1] += e
            acc[2] += n
    rows = sample.query("SELECT activity_date, feature, users, events, lines FROM feature_adoption_daily")
    assert {(r[0], r[1]): list(r[2:]) for r in rows} == dict(want)


def test_feature_usage_daily(sample):
    rows = sample.query("SELECT activity_date, userid, username, feature, events, lines FROM feature_usage_daily")
    want = feature_usage(sample.expected)
    assert len(rows) == len(want), "one row per (day, user, feature) actually used"
    assert {(r[0], r[1], r[3]): (r[4], r[5]) for r in rows} == want
    assert all(r[2] == sample.names.get(r[1], r[1]) for r in rows)
    assert dict(sample.columns("feature_usage_daily")) == {
        "activity_date": "DATE", "userid": "VARCHAR", "username": "VARCHAR", "feature": "VARCHAR",
        "events": "BIGINT", "lines": "BIGINT"}


def test_distinct_feature_users_over_a_range_are_people_not_user_days(sample):
    days = sorted({day for day, _ in sample.expected.behavior})
    start, end = days[len(days) // 3], days[-1]
    people = defaultdict(set)
    for (day, user, feature) in feature_usage(sample.expected):
        if start <= day <= end:
            people[feature].add(user)
    got = dict(sample.query(
        f"SELECT feature, COUNT(DISTINCT userid) FROM feature_usage_daily "
        f"WHERE activity_date BETWEEN DATE '{start}' AND DATE '{end}' GROUP BY feature"))
    assert got == {feature: len(users) for feature, users in people.items()}
    user_days = dict(sample.query(
        f"SELECT feature, SUM(users) FROM feature_adoption_daily "
        f"WHERE activity_date BETWEEN DATE '{start}' AND DATE '{end}' GROUP BY feature"))
    assert any(user_days[f] > n for f, n in got.items()), "summing daily users would over-count people"


def test_inline_acceptance_daily(sample):
    rows = sample.query("SELECT activity_date, userid, username, suggestions, acceptances, acceptance_rate "
                        "FROM inline_acceptance_daily")
    want = {k: m for k, m in sample.expected.behavior.items()
            if m["inline_suggestionscount"] > 0 or m["inline_acceptancecount"] > 0}
    assert {(r[0], r[1]) for r in rows} == set(want)
    for day, user, name, suggestions, acceptances, rate in rows:
        m = want[(day, user)]
        assert name == sample.names.get(user, user)
        assert (suggestions, acceptances) == (m["inline_suggestionscount"], m["inline_acceptancecount"])
        assert _close(rate, acceptances / suggestions if suggestions else None)


def test_user_daily_and_behavior_detail(sample):
    per_day = defaultdict(lambda: [0.0, 0, set()])
    for (day, user, client), r in sample.expected.activity.items():
        acc = per_day[(day, user)]
        acc[0] += r["credits_used"]
        acc[1] += r["total_messages"]
        acc[2].add(client)
    rows = sample.query("SELECT activity_date, userid, username, clients, credits_used, total_messages "
                        "FROM user_daily_detail")
    assert {(r[0], r[1]) for r in rows} == set(per_day)
    for day, user, name, clients, credits, messages in rows:
        acc = per_day[(day, user)]
        assert name == sample.names.get(user, user)
        assert clients == len(acc[2]) and _close(credits, acc[0]) and messages == acc[1]
    rows = sample.query("SELECT activity_date, userid, ai_code_lines, chat_messages_sent, "
                        "chat_messages_interacted, inline_suggestions, inline_acceptances, code_generation_lines "
                        "FROM user_behavior_detail")
    assert len(rows) == len(sample.expected.behavior)
    for day, user, *values in rows:
        m = sample.expected.behavior[(day, user)]
        assert values == [sum(m[k] for k in AI_CODE_LINES), m["chat_messagessent"], m["chat_messagesinteracted"],
                          m["inline_suggestionscount"], m["inline_acceptancecount"],
                          sum(m[k] for k in CODE_GENERATION_LINES)]


def test_model_usage_detail_and_client_mix(sample):
    rows = sample.query("SELECT activity_date, userid, username, client_type, model, messages FROM model_usage_detail")
    assert {(r[0], r[1], r[3], r[4]): r[5] for r in rows} == sample.expected.models
    assert all(r[2] == sample.names.get(r[1], r[1]) for r in rows)
    mix = defaultdict(lambda: [set(), 0.0, 0])
    for (day, user, client), r in sample.expected.activity.items():
        acc = mix[(day, client)]
        acc[0].add(user)
        acc[1] += r["credits_used"]
        acc[2] += r["total_messages"]
    rows = sample.query("SELECT activity_date, client_type, users, credits_used, total_messages FROM client_mix_daily")
    assert {(r[0], r[1]) for r in rows} == set(mix)
    for day, client, users, credits, messages in rows:
        acc = mix[(day, client)]
        assert users == len(acc[0]) and _close(credits, acc[1]) and messages == acc[2]


def test_monthly_user_credits_and_tier_summary(sample):
    tiers = {t.code: t for t in sample.config.tiers}
    order = [t.code for t in sample.config.tiers]  # sorted by credits
    months = defaultdict(lambda: [0.0, 0.0, []])
    for (day, user, _), r in sample.expected.activity.items():
        acc = months[(month_of(day), user)]
        acc[0] += r["credits_used"]
        acc[1] += r["overage_credits_used"]
        if r["subscription_tier"]:
            acc[2].append((day, order.index(r["subscription_tier"]), r["subscription_tier"]))
    rows = sample.query("SELECT month, userid, subscription_tier, total_credits, utilisation_pct, in_overage, "
                        "near_cap, overage_cost, monthly_price, recommendation, recommended_tier "
                        "FROM monthly_user_credits")
    assert {(r[0], r[1]) for r in rows} == set(months)
    seen = set()
    for month, user, tier, total, pct, in_overage, near_cap, cost, price, recommendation, recommended in rows:
        used, overage, tiers_seen = months[(month, user)]
        assert tier == max(tiers_seen)[2]
        allowance = tiers[tier].credits
        assert _close(total, used + overage)
        assert _close(pct, 100 * total / allowance)
        assert in_overage == (total > allowance) and near_cap == (total >= 0.8 * allowance)
        assert _close(cost, max(total - allowance, 0) * sample.config.overage_price_per_credit)
        assert price == tiers[tier].price
        fitting = next((code for code in order if tiers[code].credits >= total), order[-1])
        if total > allowance and tier != order[-1]:
            want = ("UPGRADE", fitting)
        elif total < 0.3 * allowance and tier != order[0] and order.index(fitting) < order.index(tier):
            want = ("DOWNGRADE", fitting)
        else:
            want = ("KEEP", tier)
        assert (recommendation, recommended) == want, (month, user)
        seen.add(recommendation)
    assert {"UPGRADE", "KEEP"} <= seen, "the sample should exercise upgrades"
    summary = {r[0]: r[1:] for r in sample.query(
        "SELECT subscription_tier, users, credits_used, monthly_credits, monthly_price FROM tier_summary")}
    current = {r[0]: (r[1], r[2])
               for r in sample.query("SELECT userid, subscription_tier, credits_used FROM user_summary")}
    for code, tier in tiers.items():
        holders = [credits for t, credits in current.values() if t == code]
        users, credits, allowance, price = summary[code]
        assert users == len(holders) and _close(credits, sum(holders))
        assert (allowance, price) == (tier.credits, tier.price)
