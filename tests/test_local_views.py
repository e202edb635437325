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
    cost_model,
    feature_usage,
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
                        "new_user, user_email, usage_limit FROM user_activity_daily")
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
        assert have[9] == want["usage_limit"], key
    assert any(v["usage_limit"] is None for v in expected.values()) and \
        any(v["usage_limit"] is not None for v in expected.values()), "the sample has files with and without it"


def test_user_credit_reported_counts_each_client_once(sample):
    # clients counts the day's rows (one per client, user_report_latest), not DISTINCT client_type: a re-sent
    # export's superseded line or a second row per client reaching the view would count a client twice.
    rows = sample.query("SELECT activity_date, userid, region, clients FROM user_credit_reported")
    want = defaultdict(set)
    for day, userid, client in sample.expected.activity:
        want[(day, userid)].add(client)
    assert len({row[2] for row in rows}) == 1, "the sample reports one region"
    got = {(row[0], row[1]): row[3] for row in rows}
    assert len(got) == len(rows)
    assert got == {key: len(clients) for key, clients in want.items()}
    assert max(got.values()) > 1, "the sample has users on two clients in a day"


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
    credit_users = defaultdict(set)
    for (day, user, _) in sample.expected.activity:
        credit_users[day].add(user)
    price = sample.config.overage_price_per_credit
    rows = sample.query("SELECT activity_date, active_users, credit_report_users, credits_used, overage_credits_used, "
                        "consumption_credits, overage_cost, total_messages, chat_conversations, ai_code_lines, "
                        "inline_suggestions, inline_acceptances FROM daily_summary")
    assert {r[0] for r in rows} == set(people)
    for day, active, in_credits, used, overage, consumption, cost, messages, convs, *behaviour in rows:
        c, b = credits.get(day, [0.0, 0.0, 0, 0]), behavior.get(day, [0, 0, 0])
        assert active == len(people[day]) and in_credits == len(credit_users[day])
        assert _close(used, c[0]) and _close(overage, c[1]) and messages == c[2] and convs == c[3]
        assert _close(consumption, c[0] + c[1]) and _close(cost, c[1] * price)
        assert behaviour == b
    assert any(r[1] > r[2] for r in rows), "some days have users only in the activity report"


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
    flagged, has_column = defaultdict(set), set()
    for (day, user, _), r in sample.expected.activity.items():
        if r["new_user"] is not None:
            has_column.add(day)
        if r["new_user"]:
            flagged[day].add(user)
    rows = sample.query("SELECT activity_date, new_users, first_seen_users, returning_users "
                        "FROM new_vs_returning_daily")
    assert len(rows) == len(people)
    for day, new, first, returning in rows:
        fresh = sum(1 for u in people[day] if first_seen[u] == day)
        assert (first, returning) == (fresh, len(people[day]) - fresh)
        assert new == (len(flagged[day]) if day in has_column else None), day
    # The two "new" figures differ on the sample: people who subscribed before the reports begin are first seen
    # on the first day, but carry no New_User flag.
    assert sum(r[2] for r in rows) > sum(r[1] or 0 for r in rows) > 0


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
    per_day = defaultdict(lambda: [0.0, 0, set(), 0.0])
    for (day, user, client), r in sample.expected.activity.items():
        acc = per_day[(day, user)]
        acc[0] += r["credits_used"]
        acc[1] += r["total_messages"]
        acc[2].add(client)
        acc[3] += r["overage_credits_used"]
    price = sample.config.overage_price_per_credit
    rows = sample.query("SELECT activity_date, userid, username, clients, credits_used, total_messages, "
                        "overage_credits_used, consumption_credits, overage_cost FROM user_daily_detail")
    assert {(r[0], r[1]) for r in rows} == set(per_day)
    for day, user, name, clients, credits, messages, overage, consumption, cost in rows:
        acc = per_day[(day, user)]
        assert name == sample.names.get(user, user)
        assert clients == len(acc[2]) and _close(credits, acc[0]) and messages == acc[1]
        assert _close(overage, acc[3]) and _close(consumption, acc[0] + acc[3]) and _close(cost, acc[3] * price)
    active = {(r[0], r[1]) for r in sample.query("SELECT activity_date, userid FROM active_user_days")}
    assert active == {(day, user) for day, users in user_days(sample.expected).items() for user in users}
    rows = sample.query("SELECT activity_date, userid, ai_code_lines, chat_messages_sent, "
                        "chat_messages_interacted, inline_suggestions, inline_acceptances, code_generation_lines "
                        "FROM user_behavior_detail")
    assert len(rows) == len(sample.expected.behavior)
    for day, user, *values in rows:
        m = sample.expected.behavior[(day, user)]
        assert values == [sum(m[k] for k in AI_CODE_LINES), m["chat_messagessent"], m["chat_messagesinteracted"],
                          m["inline_suggestionscount"], m["inline_acceptancecount"],
                          sum(m[k] for k in CODE_GENERATION_LINES)]
    # The legacy report names no tier: the behaviour row takes the day's credit-report tier, UNKNOWN without one.
    tiers = defaultdict(set)
    for day, user, tier in sample.query("SELECT activity_date, userid, subscription_tier FROM user_daily_detail"):
        tiers[(day, user)].add(tier)
    seen = defaultdict(int)
    for day, user, tier in sample.query("SELECT activity_date, userid, subscription_tier FROM user_behavior_detail"):
        assert tier in tiers[(day, user)] if (day, user) in tiers else tier == "UNKNOWN", (day, user, tier)
        seen[tier == "UNKNOWN"] += 1
    assert seen[True] and seen[False]  # the sample has both kinds of day


def test_per_user_day_totals_equal_daily_summary(sample):
    # The dashboard's day totals read the per-user views (so the tier and user controls filter them); under "all"
    # they must be daily_summary's numbers, day by day.
    totals = sample.query("SELECT activity_date, sum(credits_used), sum(overage_credits_used), "
                          "sum(consumption_credits), sum(total_messages), sum(overage_cost) "
                          "FROM user_daily_detail GROUP BY activity_date")
    summary = {r[0]: r[1:] for r in sample.query(
        "SELECT activity_date, credits_used, overage_credits_used, consumption_credits, total_messages, overage_cost "
        "FROM daily_summary")}
    assert totals and all(any(v) for _, *v in totals)
    for day, *values in totals:
        assert all(_close(a, b) for a, b in zip(values, summary[day])), day
    with_credits = {t[0] for t in totals}
    for day, values in summary.items():
        if day not in with_credits:
            assert not any(values), day  # a day with activity only: no credits to miss
    people = dict(sample.query("SELECT activity_date, count(DISTINCT userid) FROM active_user_days "
                               "GROUP BY activity_date"))
    assert people == dict(sample.query("SELECT activity_date, active_users FROM daily_summary"))


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


MONTHLY_COLUMNS = ("subscription_tier", "tier_priced", "period_status", "credits_used", "overage_credits_used",
                   "consumption_credits", "credits_to_date", "projected_credits", "allowance", "allowance_source",
                   "implied_overage_credits", "overage_difference", "overage_check", "overage_enabled",
                   "overage_cost", "monthly_price", "month_cost", "utilisation_pct", "recommendation", "advice_status",
                   "recommended_tier", "recommended_tier_cost", "current_tier_cost", "advice_saving")


def test_monthly_user_credits_and_tier_summary(sample):
    want = cost_model(sample.expected, sample.config)
    cursor_rows = sample.query(f"SELECT month, userid, {', '.join(MONTHLY_COLUMNS)} FROM monthly_user_credits")
    got = {(r[0], r[1]): dict(zip(MONTHLY_COLUMNS, r[2:])) for r in cursor_rows}
    assert set(got) == set(want)
    for key, expected in want.items():
        for column in MONTHLY_COLUMNS:
            have, value = got[key][column], expected[column]
            if isinstance(value, float):
                assert _close(have, value), (key, column, have, value)
            else:
                assert have == value, (key, column, have, value)
    rows = list(want.values())
    # What the sample must exercise for these checks to mean anything:
    assert {"UPGRADE", "KEEP", "DOWNGRADE"} <= {r["recommendation"] for r in rows}
    # 60 days ending 11-25 with user_report from 10-03: October starts mid-month, November is the month to date
    # (COMPLETE months are in tests/test_cost_model.py).
    assert {"MONTH_TO_DATE", "PARTIAL_START"} <= {r["period_status"] for r in rows}
    assert {"REPORT", "PLAN"} == {r["allowance_source"] for r in rows}
    assert any(r["period_status"] == "PARTIAL_START" and r["overage_check"] == "DATA_STARTS_MID_MONTH" for r in rows)
    assert any(not r["overage_enabled"] and r["credits_used"] >= r["allowance"] - 0.01 for r in rows), \
        "someone ran out of credits with overage off"
    # The cost model's promises, on every row: overage cost is reported credits x price, and advice never
    # recommends a dearer tier than the current one when the current one serves the month.
    price = sample.config.overage_price_per_credit
    short = dict(((r[0], r[1]), r[2]) for r in sample.query(
        "SELECT month, userid, current_tier_short FROM monthly_user_credits"))
    for key, row in got.items():
        assert _close(row["overage_cost"], row["overage_credits_used"] * price), key
        if row["tier_priced"] and not short[key]:
            assert row["recommended_tier_cost"] <= row["current_tier_cost"] + 0.005, key
    summary = {r[0]: r[1:] for r in sample.query(
        "SELECT subscription_tier, users, credits_used, consumption_credits, monthly_credits, monthly_price, priced "
        "FROM tier_summary")}
    current = {r[0]: r[1:] for r in sample.query(
        "SELECT userid, subscription_tier, credits_used, consumption_credits FROM user_summary")}
    for code, tier in {t.code: t for t in sample.config.tiers}.items():
        holders = [(c, t) for tier_code, c, t in current.values() if tier_code == code]
        users, credits, consumption, allowance, plan_price, priced = summary[code]
        assert users == len(holders) and _close(credits, sum(c for c, _ in holders))
        assert _close(consumption, sum(t for _, t in holders))
        assert (allowance, plan_price, priced) == (tier.credits, tier.price, True)
