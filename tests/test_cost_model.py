"""The cost model of sql/README.md (Plans), rule by rule, on a hand-made bucket whose every expected number is worked
out in the comments: consumption and reported vs implied overage, a month the reports start in, Usage_Limit as the
allowance, tier advice by cost at its boundaries, FREE and an unpriced tier, the provisional month, the two readings
of Overage_Credits_Used, and the daily and per-user figures the dashboard shows beside them.

Plans are deliberately odd (PRO 800 credits for $16, ...), so a number that came from the published price list
instead of config disagrees. The data runs from 2026-06-10 to 2026-08-05: June starts mid-month (PARTIAL_START),
July is COMPLETE, August is the month to date (26 days left).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Dict, List

import duckdb
import pytest
import sqlglot
from kiro_analytics.athena import load_query
from kiro_analytics.config import parse_config
from kiro_analytics.local import engine
from kiro_analytics.quicksight import definitions

ACCOUNT, REGION = "777788889999", "us-west-2"
ARN = f'"arn:aws:codewhisperer:{REGION}:{ACCOUNT}:profile/P1"'
PLANS = {"overage_price_per_credit": 0.05, "tiers": {
    "FREE": {"credits": 40, "price": 0, "overage": False}, "PRO": {"credits": 800, "price": 16},
    "PRO_PLUS": {"credits": 1600, "price": 30}, "POWER": {"credits": 8000, "price": 150}}}
USUAL = ("Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used,Overage_Enabled,"
         "ProfileId,Subscription_Tier,Total_Messages,New_User,User_Email")
# The fixed columns in another order: position 5 holds Overage_Credits_Used, so a reader that takes Credits_Used
# by position reads the overage instead.
REORDERED = ("UserId,Date,Subscription_Tier,Client_Type,Overage_Credits_Used,Credits_Used,Overage_Cap,"
             "Overage_Enabled,ProfileId,Total_Messages,Chat_Conversations")
WITH_LIMIT = USUAL + ",Usage_Limit"

S, B1, B2, B3 = "51000000-0000-4000-8000-000000000001", "b1000000-0000-4000-8000-000000000001", \
    "b2000000-0000-4000-8000-000000000002", "b3000000-0000-4000-8000-000000000003"
N1, N2, K1, K2 = "a1000000-0000-4000-8000-000000000001", "a2000000-0000-4000-8000-000000000002", \
    "c1000000-0000-4000-8000-000000000001", "c2000000-0000-4000-8000-000000000002"
L, F, E, U = "11000000-0000-4000-8000-000000000001", "f1000000-0000-4000-8000-000000000001", \
    "e1000000-0000-4000-8000-000000000001", "d1000000-0000-4000-8000-000000000001"
P, OV, W, X = "d2000000-0000-4000-8000-000000000002", "d3000000-0000-4000-8000-000000000003", \
    "d4000000-0000-4000-8000-000000000004", "d5000000-0000-4000-8000-000000000005"
R, R2, R3, R5, R6, R7, R8 = ("e2000000-0000-4000-8000-000000000002", "e3000000-0000-4000-8000-000000000003",
                             "e4000000-0000-4000-8000-000000000004", "e5000000-0000-4000-8000-000000000005",
                             "e6000000-0000-4000-8000-000000000006", "e7000000-0000-4000-8000-000000000007",
                             "e8000000-0000-4000-8000-000000000008")
LO = "12000000-0000-4000-8000-000000000002"
LEG = "99000000-0000-4000-8000-000000000009"
TIER = {S: "PRO", B1: "PRO_PLUS", B2: "PRO_PLUS", B3: "PRO_PLUS", N1: "PRO_PLUS", N2: "PRO_PLUS", K1: "PRO",
        K2: "PRO", L: "PRO", F: "FREE", E: "ENTERPRISE", U: "PRO", P: "POWER", OV: "PRO", W: "PRO", X: "PRO",
        R: "PRO", R2: "PRO", R3: "PRO", R5: "PRO", R6: "PRO", R7: "PRO", R8: "PRO", LEG: "PRO", LO: "PRO"}
OVERAGE_ON = {S, B1, B2, B3, P, OV, W, R, R2, R3, R5, R6, R7, R8, LO}

# (day, user, client, Credits_Used, Overage_Credits_Used, header, extra cells by name)
ROWS = [
    # S: overage in June, the month the reports start in (06-10): the allowance was used up before the data.
    ("2026-06-10", S, "KIRO_IDE", 50.0, 200.0, USUAL, {"New_User": "false"}),
    ("2026-06-20", S, "KIRO_IDE", 0.0, 100.0, USUAL, {}),
    ("2026-07-05", S, "KIRO_IDE", 800.0, 0.0, REORDERED, {}),
    ("2026-07-15", S, "KIRO_IDE", 0.0, 1000.0, REORDERED, {}),
    # The downgrade boundary with overage on: PRO costs 16 + (c - 800) x 0.05, PRO_PLUS 30; equal at c = 1,080.
    ("2026-07-10", B1, "KIRO_IDE", 1080.0, 0.0, USUAL, {"New_User": "true"}),
    ("2026-07-10", B2, "KIRO_IDE", 1079.8, 0.0, USUAL, {}),
    ("2026-07-10", B3, "KIRO_IDE", 1079.95, 0.0, USUAL, {}),
    # Overage off: PRO covers 800 exactly, not 800.5.
    ("2026-07-11", N1, "KIRO_IDE", 800.0, 0.0, USUAL, {}),
    ("2026-07-11", N2, "KIRO_IDE", 800.5, 0.0, USUAL, {}),
    # Overage off on PRO: K1 was stopped at the allowance (needed more), K2 fitted in it.
    ("2026-07-12", K1, "KIRO_IDE", 800.0, 0.0, USUAL, {}),
    ("2026-07-12", K2, "KIRO_IDE", 799.5, 0.0, USUAL, {}),
    # FREE would cover L's 30 credits, but an enterprise seat is not moved to FREE unless plans.advise_free.
    ("2026-07-13", L, "KIRO_IDE", 30.0, 0.0, USUAL, {}),
    ("2026-07-13", F, "KIRO_IDE", 10.0, 0.0, USUAL, {}),
    # LO, overage on, 300 credits: FREE plus overage would cost 0 + 260 x 0.05 = 13 < 16, but FREE cannot buy it.
    ("2026-07-13", LO, "KIRO_IDE", 300.0, 0.0, USUAL, {}),
    # A tier plans.tiers does not price; in August the report gives its Usage_Limit.
    ("2026-07-14", E, "KIRO_IDE", 500.0, 0.0, USUAL, {}),
    ("2026-08-03", E, "KIRO_IDE", 100.0, 0.0, WITH_LIMIT, {"Usage_Limit": "3000"}),
    # August (to 08-05): Usage_Limit 1,200 where the plan says 800; 200 in 5 days -> 1,240 projected.
    ("2026-08-01", U, "KIRO_IDE", 100.0, 0.0, WITH_LIMIT, {"Usage_Limit": "1200"}),
    ("2026-08-05", U, "KIRO_IDE", 100.0, 0.0, WITH_LIMIT, {"Usage_Limit": "1200"}),
    # POWER barely used this month, two clients on one day: 10 in 5 days -> 62 projected.
    ("2026-08-02", P, "KIRO_IDE", 4.0, 0.0, WITH_LIMIT, {"Usage_Limit": "8000"}),
    ("2026-08-02", P, "KIRO_CLI", 2.0, 0.0, WITH_LIMIT, {"Usage_Limit": "8000"}),
    ("2026-08-04", P, "KIRO_IDE", 4.0, 0.0, WITH_LIMIT, {"Usage_Limit": "8000"}),
    # Overage this month: 1,000 in 5 days -> 6,200 projected.
    ("2026-08-01", OV, "KIRO_IDE", 800.0, 0.0, WITH_LIMIT, {"Usage_Limit": "800"}),
    ("2026-08-05", OV, "KIRO_IDE", 0.0, 200.0, WITH_LIMIT, {"Usage_Limit": "800"}),
    # Reported and implied overage disagree in a month the data covers.
    ("2026-07-08", W, "KIRO_IDE", 500.0, 100.0, USUAL, {}),
    ("2026-07-08", X, "KIRO_IDE", 900.0, 0.0, USUAL, {}),
    # R: a running total repeated on both clients' rows (07-09) and rising every day.
    ("2026-07-02", R, "KIRO_IDE", 800.0, 0.0, USUAL, {}),
    ("2026-07-09", R, "KIRO_IDE", 0.0, 50.0, USUAL, {}),
    ("2026-07-09", R, "KIRO_CLI", 0.0, 50.0, USUAL, {}),
    ("2026-07-16", R, "KIRO_IDE", 0.0, 120.0, USUAL, {}),
    ("2026-07-23", R, "KIRO_IDE", 0.0, 200.0, USUAL, {}),
    ("2026-07-30", R, "KIRO_IDE", 0.0, 260.0, USUAL, {}),
    # R2: a "running total" that falls; R3: two clients with different values on one day.
    ("2026-07-02", R2, "KIRO_IDE", 800.0, 0.0, USUAL, {}),
    ("2026-07-09", R2, "KIRO_IDE", 0.0, 100.0, USUAL, {}),
    ("2026-07-16", R2, "KIRO_IDE", 0.0, 80.0, USUAL, {}),
    ("2026-07-02", R3, "KIRO_IDE", 800.0, 0.0, USUAL, {}),
    ("2026-07-09", R3, "KIRO_IDE", 0.0, 30.0, USUAL, {}),
    ("2026-07-09", R3, "KIRO_CLI", 0.0, 70.0, USUAL, {}),
    # Daily values rising on 4 overage days (R5: looks cumulative), not all rising (R6), rising on only 3 (R7).
    *[(f"2026-07-{d:02d}", R5, "KIRO_IDE", 800.0 if d == 1 else 0.0, v, USUAL, {})
      for d, v in ((1, 0.0), (3, 10.0), (4, 20.0), (5, 30.0), (6, 40.0))],
    *[(f"2026-07-{d:02d}", R6, "KIRO_IDE", 800.0 if d == 1 else 0.0, v, USUAL, {})
      for d, v in ((1, 0.0), (3, 10.0), (4, 30.0), (5, 20.0), (6, 40.0))],
    *[(f"2026-07-{d:02d}", R7, "KIRO_IDE", 800.0 if d == 1 else 0.0, v, USUAL, {})
      for d, v in ((1, 0.0), (3, 10.0), (4, 20.0), (5, 30.0))],
    # R8: the same value on both clients on 07-09, then less: a repeated total, not a rising series.
    ("2026-07-02", R8, "KIRO_IDE", 800.0, 0.0, USUAL, {}),
    ("2026-07-09", R8, "KIRO_IDE", 0.0, 40.0, USUAL, {}),
    ("2026-07-09", R8, "KIRO_CLI", 0.0, 40.0, USUAL, {}),
    ("2026-07-16", R8, "KIRO_IDE", 0.0, 10.0, USUAL, {}),
    # LEG is in the activity report on 07-10, then in the credit report on 07-12 with New_User = true.
    ("2026-07-12", LEG, "KIRO_IDE", 5.0, 0.0, USUAL, {"New_User": "true"}),
]


def _line(header: str, day: str, user: str, client: str, credits: float, overage: float, extra: Dict[str, str]) -> str:
    plan = {"FREE": 40.0, "PRO": 800.0, "PRO_PLUS": 1600.0, "POWER": 8000.0}.get(TIER[user], 0.0)
    cells = {"Date": day, "UserId": f'"{user}"', "Client_Type": client, "Chat_Conversations": "1",
             "Credits_Used": repr(credits), "Overage_Cap": "1000.0" if user in OVERAGE_ON else repr(plan),
             "Overage_Credits_Used": repr(overage), "Overage_Enabled": "true" if user in OVERAGE_ON else "false",
             "ProfileId": ARN, "Subscription_Tier": TIER[user], "Total_Messages": "10", "New_User": "false",
             "User_Email": f"{user[:4]}@example.com", **extra}
    return ",".join(cells[name] for name in header.split(","))


def make_bucket(root: Path) -> None:
    files: Dict[Path, List[str]] = {}
    for day, user, client, credits, overage, header, extra in ROWS:
        folder = root / "AWSLogs" / ACCOUNT / "KiroLogs" / "user_report" / REGION / day.replace("-", "/") / "00"
        stamp = day.replace("-", "") + "0205"
        layout = {USUAL: "usual", REORDERED: "reordered", WITH_LIMIT: "limit"}[header]
        path = folder / f"{client}_{ACCOUNT}_user_report_{stamp}_{layout}.csv"
        files.setdefault(path, [header]).append(_line(header, day, user, client, credits, overage, extra))
    for path, lines in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    legacy = root / "AWSLogs" / ACCOUNT / "KiroLogs" / "by_user_analytic" / REGION / "2026/07/10/00"
    legacy.mkdir(parents=True, exist_ok=True)
    (legacy / f"{ACCOUNT}_by_user_analytic_202607110300_report.csv").write_text(
        f"UserId,Date,Chat_MessagesSent\n{LEG},07-10-2026,3\n", encoding="utf-8")


def _build(tmp_path_factory, name: str, **plans) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp(name)
    make_bucket(root / "data")
    users = root / "users.csv"
    with open(users, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["userid", "username", "user_name", "email", "groups"],
                                      [S, "Souza", "s", "", ""]])
    config = parse_config({
        "aws": {"account_id": ACCOUNT, "region": REGION},
        "s3": {"bucket_name": "cost-model-bucket", "prefix": ""},
        "identity_center": {"identity_store_id": "d-7777777777"},
        "quicksight": {"user_arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/admin"},
        "names": {"database": "kiro_cost_db"},
        "plans": {**PLANS, **plans},
    })
    result = engine.build(root / "data", root / "out", config, users)
    return duckdb.connect(str(result.db_path), read_only=True)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = _build(tmp_path_factory, "cost")
    yield connection
    connection.close()


def rows(con, sql: str) -> List[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def month(con, when: str, user: str, view: str = "monthly_user_credits") -> dict:
    found = rows(con, f"SELECT * FROM {view} WHERE month = DATE '{when}' AND userid = '{user}'")
    assert len(found) == 1, (when, user, found)
    return found[0]


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-9)


# -- consumption, overage, allowance --------------------------------------------------------------------------

def test_fixed_columns_in_another_order_are_read_by_name(con):
    got = {(r["activity_date"].isoformat(), r["userid"]): r for r in rows(con, "SELECT * FROM user_activity_daily")}
    july5, july15 = got[("2026-07-05", S)], got[("2026-07-15", S)]
    assert (july5["credits_used"], july5["overage_credits_used"], july5["subscription_tier"]) == (800.0, 0.0, "PRO")
    assert (july15["credits_used"], july15["overage_credits_used"]) == (0.0, 1000.0)
    assert july5["overage_enabled"] is True and july5["client_type"] == "KIRO_IDE"


def test_consumption_is_plan_plus_reported_overage_and_overage_cost_is_reported_credits_times_price(con):
    july = month(con, "2026-07-01", S)
    assert (july["period_status"], july["credits_used"], july["overage_credits_used"]) == ("COMPLETE", 800.0, 1000.0)
    assert july["consumption_credits"] == 1800.0 and july["allowance"] == 800.0
    assert july["implied_overage_credits"] == 1000.0 and july["overage_difference"] == 0 and \
        july["overage_check"] == "OK"
    assert july["overage_cost"] == approx(50.0) and july["monthly_price"] == 16.0 and july["month_cost"] == approx(66.0)
    assert july["utilisation_pct"] == approx(225.0) and (july["in_overage"], july["near_cap"]) == (True, True)


def test_overage_in_the_month_the_reports_start_in_is_kept_and_explained(con):
    """The Souza case: 50 plan credits and 300 overage credits in June's data (from 06-10)."""
    june = month(con, "2026-06-01", S)
    # The days before 06-10 are missing: the advice below is provisional, as the month to date's is.
    assert (june["period_status"], june["advice_status"]) == ("PARTIAL_START", "PROVISIONAL")
    assert (june["credits_used"], june["overage_credits_used"], june["consumption_credits"]) == (50.0, 300.0, 350.0)
    # Consumption alone implies no overage; Kiro reported 300: shown side by side, with the reason.
    assert (june["implied_overage_credits"], june["overage_difference"]) == (0.0, 300.0)
    assert june["overage_check"] == "DATA_STARTS_MID_MONTH"
    # Overage starts only once the allowance is used up: the month consumed at least 800 + 300.
    assert june["credits_to_date"] == 1100.0 and june["utilisation_pct"] == approx(137.5)
    assert june["overage_cost"] == approx(15.0) and june["month_cost"] == approx(31.0)
    # Priced at 1,100: PRO 16 + 300 x 0.05 = 31, PRO_PLUS 30, POWER 150.
    assert (june["current_tier_cost"], june["recommendation"], june["recommended_tier"]) == (approx(31.0), "UPGRADE",
                                                                                             "PRO_PLUS")
    assert june["recommended_tier_cost"] == 30.0 and june["advice_saving"] == approx(1.0)


def test_reported_and_implied_overage_that_disagree_are_both_shown(con):
    w, x = month(con, "2026-07-01", W), month(con, "2026-07-01", X)
    # W: 100 overage reported while 500 of 800 plan credits were used (the month is covered from its 1st).
    assert (w["consumption_credits"], w["implied_overage_credits"], w["overage_difference"]) == (600.0, 0.0, 100.0)
    assert w["overage_check"] == "REPORTED_ABOVE_IMPLIED" and w["overage_cost"] == approx(5.0)
    # X: 900 plan credits on an 800 plan, no overage reported: 100 implied, nothing billed.
    assert (x["implied_overage_credits"], x["overage_difference"], x["overage_cost"]) == (100.0, -100.0, 0.0)
    assert x["overage_check"] == "REPORTED_BELOW_IMPLIED" and x["in_overage"] is True


def test_usage_limit_is_the_allowance_when_the_report_has_it(con):
    u = month(con, "2026-08-01", U)
    assert (u["usage_limit"], u["monthly_credits"], u["allowance"]) == (1200.0, 800.0, 1200.0)
    assert u["allowance_source"] == "REPORT"
    assert u["utilisation_pct"] == approx(100 * 200 / 1200)
    s = month(con, "2026-07-01", S)
    assert (s["usage_limit"], s["allowance"], s["allowance_source"]) == (None, 800.0, "PLAN")


# -- tier advice by cost ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "advice", "tier", "saving"), [
    (B1, "KEEP", "PRO_PLUS", 0.0),          # 1,080: PRO 16 + 280 x 0.05 = 30.00 = PRO_PLUS: keep on a tie
    (B2, "DOWNGRADE", "PRO", 0.01),         # 1,079.80: PRO 29.99, a cent cheaper
    (B3, "KEEP", "PRO_PLUS", 0.0),          # 1,079.95: PRO 29.9975, within half a cent: not worth a change
    (N1, "DOWNGRADE", "PRO", 14.0),         # overage off: PRO's 800 covers 800 exactly
    (N2, "KEEP", "PRO_PLUS", 0.0),          # overage off: 800.5 does not fit PRO
    (K1, "UPGRADE", "PRO_PLUS", -14.0),     # stopped at PRO's 800 with overage off: needs more credits
    (K2, "KEEP", "PRO", 0.0),               # 799.5 of 800: fitted, not stopped
    (L, "KEEP", "PRO", 0.0),                # FREE would cover 30 credits but is not advised
    (LO, "KEEP", "PRO", 0.0),
    (F, "KEEP", "FREE", 0.0),               # on FREE already: its own tier is always a candidate
])
def test_advice_is_the_cheapest_tier_that_covers_the_month(con, user, advice, tier, saving):
    row = month(con, "2026-07-01", user)
    assert (row["period_status"], row["recommendation"], row["recommended_tier"]) == ("COMPLETE", advice, tier)
    assert row["advice_status"] == "FINAL"
    assert row["advice_saving"] == pytest.approx(saving, abs=1e-6)
    assert row["current_tier_short"] is (user == K1)


def test_advice_never_recommends_a_dearer_tier_for_the_same_consumption(con):
    checked = 0
    for row in rows(con, "SELECT * FROM monthly_user_credits"):
        if row["tier_priced"] and not row["current_tier_short"]:
            assert row["recommended_tier_cost"] <= row["current_tier_cost"] + 0.005, row
            checked += 1
        where = f"month = DATE '{row['month']}' AND userid = '{row['userid']}' AND covers"
        covering = [r["tier_cost"] for r in rows(con, f"SELECT tier_cost FROM tier_month_costs WHERE {where}")]
        if row["tier_priced"] and covering:  # and nothing that covers the month is cheaper than the advice
            assert row["recommended_tier_cost"] <= min(covering) + 0.005, row
    assert checked >= 20


def test_each_tier_cost_is_written_out(con):
    """S in July (1,800 credits, overage on): the figures the issue quotes for its September."""
    got = {r["tier"]: r for r in rows(con, f"SELECT * FROM tier_month_costs WHERE month = DATE '2026-07-01' "
                                           f"AND userid = '{S}'")}
    assert set(got) == {"PRO", "PRO_PLUS", "POWER"}  # FREE is not advisable and not S's tier
    assert (got["PRO"]["tier_cost"], got["PRO"]["overage_credits"], got["PRO"]["is_current"]) == (approx(66.0), 1000.0,
                                                                                                   True)
    assert (got["PRO_PLUS"]["tier_cost"], got["PRO_PLUS"]["overage_credits"]) == (approx(40.0), 200.0)
    assert (got["POWER"]["tier_cost"], got["POWER"]["overage_credits"]) == (150.0, 0.0)
    july = month(con, "2026-07-01", S)
    assert (july["recommendation"], july["recommended_tier"], july["advice_saving"]) == ("UPGRADE", "PRO_PLUS",
                                                                                         approx(26.0))


def test_free_is_advised_only_when_the_config_says_so(tmp_path_factory):
    connection = _build(tmp_path_factory, "advise-free", advise_free=True)
    try:
        lean = month(connection, "2026-07-01", L)
        assert (lean["recommendation"], lean["recommended_tier"]) == ("DOWNGRADE", "FREE")
        assert lean["recommended_tier_cost"] == 0.0
        assert lean["advice_saving"] == 16.0
        # FREE cannot buy overage: K2's 799.5 credits are far beyond its 40, and so are LO's 300 (with overage
        # FREE would cost 13, less than PRO's 16).
        assert month(connection, "2026-07-01", K2)["recommended_tier"] == "PRO"
        assert month(connection, "2026-07-01", LO)["recommended_tier"] == "PRO"
        plans = dict(connection.execute("SELECT subscription_tier, advisable FROM plan_tiers").fetchall())
        assert plans == {"FREE": True, "PRO": True, "PRO_PLUS": True, "POWER": True}
    finally:
        connection.close()


def test_an_unpriced_tier_is_counted_and_shown_not_dropped(con):
    july, august = month(con, "2026-07-01", E), month(con, "2026-08-01", E)
    assert (july["subscription_tier"], july["tier_priced"], july["monthly_price"], july["month_cost"]) == \
        ("ENTERPRISE", False, None, None)
    assert (july["recommendation"], july["recommended_tier"], july["unpriced_userid"]) == ("NO_PRICE", None, E)
    assert (july["allowance"], july["overage_check"], july["utilisation_pct"]) == (None, "NO_ALLOWANCE", None)
    assert (august["allowance"], august["allowance_source"], august["recommendation"]) == (3000.0, "REPORT",
                                                                                          "NO_PRICE")
    (unpriced,), = con.execute("SELECT count(DISTINCT unpriced_userid) FROM monthly_user_credits "
                               "WHERE month = DATE '2026-07-01'").fetchall()
    assert unpriced == 1
    tiers = {r["subscription_tier"]: r for r in rows(con, "SELECT * FROM tier_summary")}
    assert (tiers["ENTERPRISE"]["users"], tiers["ENTERPRISE"]["priced"], tiers["ENTERPRISE"]["monthly_seat_cost"]) \
        == (1, False, None)
    assert tiers["ENTERPRISE"]["consumption_credits"] == 600.0
    # FREE is priced (at 0), so it is in plan cost; every configured tier has a row.
    assert (tiers["FREE"]["users"], tiers["FREE"]["priced"], tiers["FREE"]["monthly_seat_cost"]) == (1, True, 0.0)
    assert set(tiers) == {"FREE", "PRO", "PRO_PLUS", "POWER", "ENTERPRISE"}
    (plan_cost,), = con.execute("SELECT sum(monthly_price) FROM monthly_user_credits "
                                "WHERE month = DATE '2026-07-01'").fetchall()
    # July: 15 PRO seats x 16 + 5 PRO_PLUS x 30 + FREE 0; ENTERPRISE has no price to add.
    assert plan_cost == 15 * 16 + 5 * 30


# -- the month to date is provisional -----------------------------------------------------------------------

def test_the_current_month_is_projected_and_marked_provisional(con):
    u, p = month(con, "2026-08-01", U), month(con, "2026-08-01", P)
    o = month(con, "2026-08-01", OV)
    assert {u["period_status"], p["period_status"], o["period_status"]} == {"MONTH_TO_DATE"}
    assert {u["advice_status"], p["advice_status"], o["advice_status"]} == {"PROVISIONAL"}
    # U: 200 in the 5 covered days (08-01..08-05), 26 days left: 200 + 40 x 26 = 1,240 > the 1,200 Usage_Limit
    # with overage off: PRO will stop U, PRO_PLUS (1,600) covers.
    assert (u["consumption_credits"], u["projected_credits"]) == (200.0, approx(1240.0))
    assert (u["recommendation"], u["recommended_tier"], u["current_tier_short"]) == ("UPGRADE", "PRO_PLUS", True)
    # P: 10 on POWER -> 62 projected: PRO costs 16, a provisional downgrade.
    assert (p["consumption_credits"], p["projected_credits"]) == (10.0, approx(62.0))
    assert (p["recommendation"], p["recommended_tier"], p["advice_saving"]) == ("DOWNGRADE", "PRO", 134.0)
    # OV: 1,000 so far -> 6,200: PRO 16 + 5,400 x 0.05 = 286, PRO_PLUS 30 + 4,600 x 0.05 = 260, POWER 150.
    assert (o["projected_credits"], o["current_tier_cost"]) == (approx(6200.0), approx(286.0))
    assert (o["recommendation"], o["recommended_tier"]) == ("UPGRADE", "POWER")
    # What Kiro billed so far stays apart from the projection.
    assert (o["overage_credits_used"], o["overage_cost"], o["month_cost"]) == (200.0, approx(10.0), approx(26.0))


def test_the_forecast_uses_the_same_projection(con):
    u = month(con, "2026-08-01", U, "monthly_credit_forecast")
    o = month(con, "2026-08-01", OV, "monthly_credit_forecast")
    assert (u["days_elapsed"], u["days_in_month"], u["monthly_credits"]) == (5, 31, 1200.0)
    assert u["projected_credits"] == approx(1240.0) and (u["at_risk"], u["at_risk_users"]) == (True, 1)
    assert u["projected_overage_cost"] == 0  # overage off: U is stopped, not billed
    # OV: 200 reported + 6,200 - 1,000 = 5,400 overage credits projected.
    assert (o["projected_overage_credits"], o["projected_overage_cost"]) == (approx(5400.0), approx(270.0))
    assert (o["at_risk"], o["near_cap"]) == (False, True)  # already over
    # A closed month's projected overage is what Kiro reported, so its cost is the month's overage cost.
    june = month(con, "2026-06-01", S, "monthly_credit_forecast")
    assert (june["projected_credits"], june["projected_overage_cost"]) == (1100.0, approx(15.0))
    watch = {r["userid"] for r in rows(con, "SELECT userid FROM credit_forecast_watchlist")}
    assert watch == {U, OV}


# -- the two readings of Overage_Credits_Used -----------------------------------------------------------------

@pytest.mark.parametrize(("user", "check", "overage"), [
    (R, "LOOKS_LIKE_RUNNING_TOTAL", 680.0),   # 50 + 50 + 120 + 200 + 260: the same value on two clients
    (R2, "OK", 180.0),
    (R3, "OK", 100.0),
    (R5, "LOOKS_LIKE_RUNNING_TOTAL", 100.0),  # 10, 20, 30, 40: every overage day above the one before
    (R6, "OK", 100.0),                        # 10, 30, 20, 40
    (R7, "OK", 60.0),                         # 10, 20, 30: three days are not enough to tell
    (R8, "LOOKS_LIKE_RUNNING_TOTAL", 90.0),   # 40 on both clients, then 10: the repeated value alone
])
def test_daily_reading_flags_data_that_looks_cumulative(con, user, check, overage):
    row = month(con, "2026-07-01", user)
    assert (row["overage_check"], row["overage_credits_used"]) == (check, overage)


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    connection = _build(tmp_path_factory, "running", overage_reading="running_total")
    yield connection
    connection.close()


def test_running_total_reading(running):
    r = month(running, "2026-07-01", R)
    # Totals 50 (both clients), 120, 200, 260: the month's overage is 260, 50 + 70 + 80 + 60 a day.
    assert (r["overage_credits_used"], r["consumption_credits"], r["overage_check"]) == (260.0, 1060.0, "OK")
    days = {d.isoformat(): v for d, v in running.execute(
        f"SELECT activity_date, overage_credits_used FROM user_credit_daily WHERE userid = '{R}'").fetchall()}
    assert days == {"2026-07-02": 0.0, "2026-07-09": 50.0, "2026-07-16": 70.0, "2026-07-23": 80.0, "2026-07-30": 60.0}
    assert month(running, "2026-07-01", R2)["overage_check"] == "RUNNING_TOTAL_DECREASED"
    assert month(running, "2026-07-01", R3)["overage_check"] == "CLIENTS_DISAGREE"
    # The first total of a month counts in full (200 on 06-10, the reports' first day), then 100 - 200: S's June
    # is daily data, and the falling "total" says so.
    june = month(running, "2026-06-01", S)
    assert (june["overage_credits_used"], june["overage_check"]) == (100.0, "RUNNING_TOTAL_DECREASED")
    # Each month starts afresh: S's July opens at a total of 0 (June ended at 100), not at 0 - 100.
    assert month(running, "2026-07-01", S)["overage_credits_used"] == 1000.0
    (overage,), = running.execute("SELECT sum(overage_credits_used) FROM daily_summary "
                                  "WHERE activity_date = DATE '2026-07-30'").fetchall()
    assert overage == 60.0


# -- the daily and per-user figures beside them ---------------------------------------------------------------

def test_daily_summary_prices_overage_and_counts_both_reports(con):
    day = rows(con, "SELECT * FROM daily_summary WHERE activity_date = DATE '2026-07-15'")[0]
    assert (day["overage_credits_used"], day["overage_cost"], day["consumption_credits"]) == (1000.0, approx(50.0),
                                                                                             1000.0)
    leg = rows(con, "SELECT * FROM daily_summary WHERE activity_date = DATE '2026-07-10'")[0]
    # B1, B2, B3 in the credit report, LEG only in the activity report.
    assert (leg["active_users"], leg["credit_report_users"]) == (4, 3)
    active = {(d.isoformat(), u)
              for d, u in con.execute("SELECT activity_date, userid FROM active_user_days").fetchall()}
    assert ("2026-07-10", LEG) in active and len(active) == len({(r[0], r[1]) for r in ROWS}) + 1
    (total,), = con.execute("SELECT sum(overage_cost) FROM daily_summary").fetchall()
    (monthly,), = con.execute("SELECT sum(overage_cost) FROM monthly_user_credits").fetchall()
    assert total == approx(monthly)  # over the whole data, days and months give the same overage cost


def test_top_users_rank_by_consumption(con):
    ranked = con.execute("SELECT userid FROM user_daily_detail WHERE activity_date BETWEEN DATE '2026-07-01' "
                         "AND DATE '2026-07-31' GROUP BY userid ORDER BY sum(consumption_credits) DESC").fetchall()
    by_credits = con.execute("SELECT userid FROM user_daily_detail WHERE activity_date BETWEEN DATE '2026-07-01' "
                             "AND DATE '2026-07-31' GROUP BY userid ORDER BY sum(credits_used) DESC").fetchall()
    assert ranked[0][0] == S and by_credits[0][0] != S  # S drives the bill through overage
    dashboard = definitions.load_raw("dashboard")
    for name in ("dashboard", "admin-overview"):
        raw = dashboard if name == "dashboard" else definitions.load_raw(name)
        top = next(body for _s, kind, body in definitions.visuals(raw) if body["VisualId"].endswith("-top-users"))
        wells = top["ChartConfiguration"]["FieldWells"]["BarChartAggregatedFieldWells"]
        assert [next(iter(v.values()))["Column"]["ColumnName"] for v in wells["Values"]] == ["consumption_credits"]


def test_new_users_are_the_flag_and_first_seen_is_apart(con):
    got = {r["activity_date"].isoformat(): r for r in rows(con, "SELECT * FROM new_vs_returning_daily")}
    assert (got["2026-06-10"]["new_users"], got["2026-06-10"]["first_seen_users"]) == (0, 1)  # S subscribed before
    assert got["2026-07-15"]["new_users"] is None  # the day's only file has no New_User column
    assert (got["2026-07-10"]["new_users"], got["2026-07-10"]["first_seen_users"]) == (1, 4)  # B1 flagged; +LEG
    assert (got["2026-07-12"]["new_users"], got["2026-07-12"]["first_seen_users"]) == (1, 2)  # LEG seen on 07-10


def test_every_active_users_kpi_counts_either_report():
    for name in definitions.definition_names():
        raw = definitions.load_raw(name)
        for _sheet, _kind, body in definitions.visuals(raw):
            if body["VisualId"].endswith("-kpi-active-users"):
                text = json.dumps(body["ChartConfiguration"]["FieldWells"])
                assert '"DataSetIdentifier": "active_user_days"' in text, (name, body["VisualId"])


def test_a_month_that_starts_on_the_data_first_day_is_complete(tmp_path):
    """Reports from 07-01 to 08-01: July is covered from its 1st. T's reported overage (100) and the implied one
    (799.995 + 100 - 800 = 99.995) differ by 0.005, below Kiro's 0.01 metering: they agree."""
    connection = _single_user_build(tmp_path, (("2026-07-01", 799.995, 0.0), ("2026-07-02", 0.0, 100.0),
                                               ("2026-08-01", 10.0, 0.0)))
    with connection:
        july = month(connection, "2026-07-01", S)
    assert (july["period_status"], july["overage_check"]) == ("COMPLETE", "OK")
    assert july["overage_difference"] == pytest.approx(0.005, abs=1e-9)
    assert july["credits_to_date"] == pytest.approx(899.995) and july["recommendation"] == "KEEP"


# -- a user with profiles in two regions holds two seats ------------------------------------------------------

WEST, EAST = REGION, "eu-west-1"
G, H = "61000000-0000-4000-8000-000000000001", "62000000-0000-4000-8000-000000000002"
# (region, day, user, tier, Credits_Used, Overage_Credits_Used, Overage_Enabled). Reports from 07-01 to 08-05.
REGION_ROWS = [
    (WEST, "2026-07-01", G, "PRO", 600.0, 0.0, True),
    (EAST, "2026-07-01", G, "PRO", 500.0, 0.0, False),   # the same day in the other region: a second seat
    (WEST, "2026-07-20", G, "PRO", 200.0, 100.0, True),
    (WEST, "2026-07-02", H, "PRO_PLUS", 100.0, 0.0, False),
    (WEST, "2026-08-05", G, "PRO", 200.0, 0.0, True),
    (EAST, "2026-08-02", G, "PRO", 300.0, 0.0, False),
]


def _regions_build(root: Path, region_rows, **plans) -> duckdb.DuckDBPyConnection:
    """One file per row of (region, day, user, tier, Credits_Used, Overage_Credits_Used, Overage_Enabled)."""
    for region, day, user, tier, credits, overage, enabled in region_rows:
        folder = root / "data" / "AWSLogs" / ACCOUNT / "KiroLogs" / "user_report" / region / day.replace("-", "/")
        path = folder / "00" / f"KIRO_IDE_{ACCOUNT}_user_report_{day.replace('-', '')}0205_{user[:2]}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        cells = [day, f'"{user}"', "KIRO_IDE", "1", repr(credits), "0.0", repr(overage), str(enabled).lower(),
                 f'"arn:aws:codewhisperer:{region}:{ACCOUNT}:profile/P1"', tier, "10", "false", "g@example.com"]
        path.write_text(USUAL + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    config = parse_config({
        "aws": {"account_id": ACCOUNT, "region": REGION},
        "s3": {"bucket_name": "cost-model-bucket", "report_regions": [WEST, EAST]},
        "identity_center": {"identity_store_id": "d-7777777777"},
        "quicksight": {"user_arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/admin"},
        "plans": {**PLANS, **plans}})
    result = engine.build(root / "data", root / "out", config)
    return duckdb.connect(str(result.db_path), read_only=True)


@pytest.fixture(scope="module")
def regions(tmp_path_factory):
    connection = _regions_build(tmp_path_factory.mktemp("regions"), REGION_ROWS)
    yield connection
    connection.close()


def seat(con, when: str, user: str, region: str, view: str = "monthly_user_credits") -> dict:
    found = rows(con, f"SELECT * FROM {view} WHERE month = DATE '{when}' AND userid = '{user}' "
                      f"AND region = '{region}'")
    assert len(found) == 1, (when, user, region, found)
    return found[0]


def test_two_regions_are_two_seats_each_priced_and_advised_on_its_own(regions):
    west, east = seat(regions, "2026-07-01", G, WEST), seat(regions, "2026-07-01", G, EAST)
    # West: 600 + 200 plan credits and 100 overage on PRO's 800: consumption 900, implied = reported = 100.
    assert (west["consumption_credits"], west["allowance"], west["implied_overage_credits"]) == (900.0, 800.0, 100.0)
    assert (west["overage_check"], west["overage_cost"], west["month_cost"]) == ("OK", approx(5.0), approx(21.0))
    assert west["utilisation_pct"] == approx(112.5)
    # PRO 16 + 100 x 0.05 = 21 against PRO_PLUS 30: keep. (One merged seat would hold 1,400 credits, imply 600
    # overage against 100 reported, and cost 46 on PRO: an UPGRADE to PRO_PLUS that neither subscription needs.)
    assert (west["recommendation"], west["current_tier_cost"], west["advice_status"]) == ("KEEP", approx(21.0),
                                                                                           "FINAL")
    # East: its own allowance, its own overage setting (off): 500 of 800.
    assert (east["consumption_credits"], east["overage_cost"], east["month_cost"]) == (500.0, 0.0, 16.0)
    assert (east["utilisation_pct"], east["overage_enabled"], east["recommendation"]) == (approx(62.5), False, "KEEP")


def test_two_seats_reconcile_on_every_view(regions):
    july = "month = DATE '2026-07-01'"
    (seats, plan_cost, month_cost, overage_cost, consumption), = regions.execute(
        "SELECT count(*), sum(monthly_price), sum(month_cost), sum(overage_cost), sum(consumption_credits) "
        f"FROM monthly_user_credits WHERE {july}").fetchall()
    # G's two PRO seats (16 + 16) and H's PRO_PLUS (30); overage 100 x 0.05 on G's west seat.
    assert (seats, plan_cost, month_cost, overage_cost, consumption) == (3, 62.0, approx(67.0), approx(5.0), 1500.0)
    (daily_consumption, daily_overage_cost), = regions.execute(
        "SELECT sum(consumption_credits), sum(overage_cost) FROM daily_summary "
        "WHERE activity_date BETWEEN DATE '2026-07-01' AND DATE '2026-07-31'").fetchall()
    assert (daily_consumption, daily_overage_cost) == (1500.0, approx(5.0))  # the days sum both seats too
    day = rows(regions, "SELECT * FROM daily_summary WHERE activity_date = DATE '2026-07-01'")[0]
    assert (day["active_users"], day["credit_report_users"], day["consumption_credits"]) == (1, 1, 1100.0)
    # One person per day wherever a view counts people; one row per seat where it prices them.
    assert regions.execute("SELECT count(*), sum(in_credit_report) FROM active_user_days WHERE activity_date = "
                           f"DATE '2026-07-01' AND userid = '{G}'").fetchall() == [(1, 1)]
    assert regions.execute("SELECT count(*), sum(credits_used) FROM team_user_daily WHERE activity_date = "
                           f"DATE '2026-07-01' AND userid = '{G}'").fetchall() == [(1, 1100.0)]
    detail = dict(regions.execute("SELECT region, credits_used FROM user_daily_detail WHERE activity_date = "
                                  f"DATE '2026-07-01' AND userid = '{G}'").fetchall())
    assert detail == {WEST: 600.0, EAST: 500.0}
    g = rows(regions, f"SELECT * FROM user_summary WHERE userid = '{G}'")[0]
    assert (g["credits_used"], g["overage_credits_used"], g["consumption_credits"], g["active_days"]) == \
        (1800.0, 100.0, 1900.0, 4)
    tiers = {r["subscription_tier"]: r for r in rows(regions, "SELECT * FROM tier_summary")}
    assert (tiers["PRO"]["users"], tiers["PRO"]["seats"], tiers["PRO"]["monthly_seat_cost"]) == (1, 2, 32.0)
    assert tiers["PRO"]["consumption_credits"] == 1900.0
    assert (tiers["PRO_PLUS"]["users"], tiers["PRO_PLUS"]["seats"], tiers["PRO_PLUS"]["monthly_seat_cost"]) == \
        (1, 1, 30.0)


def test_each_seat_is_forecast_on_its_own_run_rate(regions):
    # August to 08-05 (26 days left). West: 200 in 5 days -> 1,240; overage on: 440 beyond 800 -> 22.
    west = seat(regions, "2026-08-01", G, WEST, "monthly_credit_forecast")
    assert (west["period_status"], west["projected_credits"], west["projected_overage_cost"]) == \
        ("MONTH_TO_DATE", approx(1240.0), approx(22.0))
    # East: 300 -> 1,860 with overage off: stopped at 800, no overage projected.
    east = seat(regions, "2026-08-01", G, EAST, "monthly_credit_forecast")
    assert (east["projected_credits"], east["projected_overage_cost"], east["at_risk"]) == (approx(1860.0), 0, True)
    assert west["at_risk"] is True
    # The digest counts people: G is projected over in both regions, one user; the money adds up per seat.
    query = sqlglot.transpile(load_query("digest_forecast"), read="athena", write="duckdb")[0]
    (month_, over, under, projected, billed), = regions.execute(query).fetchall()
    assert (month_.isoformat(), over, under, projected, billed) == ("2026-08-01", 1, 1, approx(22.0), 0)
    kpi = next(body for _s, _k, body in definitions.visuals(definitions.load_raw("cost-optimization"))
               if body["VisualId"] == "co-kpi-at-risk")
    (measure,) = kpi["ChartConfiguration"]["FieldWells"]["Values"]
    assert measure["CategoricalMeasureField"]["AggregationFunction"] == "DISTINCT_COUNT"
    (column,), = regions.execute("SELECT count(DISTINCT " + measure["CategoricalMeasureField"]["Column"]["ColumnName"]
                                 + ") FROM monthly_credit_forecast").fetchall()
    assert column == 1


def _single_user_build(root: Path, days) -> duckdb.DuckDBPyConnection:
    """S alone (PRO, overage on), one KIRO_IDE line per (day, Credits_Used, Overage_Credits_Used)."""
    folder = root / "data" / "AWSLogs" / ACCOUNT / "KiroLogs" / "user_report" / REGION
    for day, credits, overage in days:
        path = folder / day.replace("-", "/") / "00" / f"KIRO_IDE_{ACCOUNT}_user_report_{day.replace('-', '')}0205.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(USUAL + "\n" + _line(USUAL, day, S, "KIRO_IDE", credits, overage, {}) + "\n", encoding="utf-8")
    config = parse_config({
        "aws": {"account_id": ACCOUNT, "region": REGION}, "s3": {"bucket_name": "cost-model-bucket"},
        "identity_center": {"identity_store_id": "d-7777777777"},
        "quicksight": {"user_arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/admin"}, "plans": PLANS})
    result = engine.build(root / "data", root / "out", config)
    return duckdb.connect(str(result.db_path), read_only=True)


@pytest.mark.parametrize(("last_day", "status", "advice", "projected"), [
    # Data to the month's last day: July is whole, nothing to project, the advice is final.
    ("2026-07-31", "COMPLETE", "FINAL", 310.0),
    # One day short: 310 in 30 covered days, 1 left: 310 + 310 / 30 x 1 = 320.333..., i.e. 310 / 30 x 31.
    ("2026-07-30", "MONTH_TO_DATE", "PROVISIONAL", 310.0 / 30 * 31),
])
def test_the_month_to_date_ends_the_day_before_the_month_does(tmp_path, last_day, status, advice, projected):
    connection = _single_user_build(tmp_path, (("2026-07-01", 10.0, 0.0), (last_day, 300.0, 0.0)))
    with connection:
        july = month(connection, "2026-07-01", S)
        forecast = month(connection, "2026-07-01", S, "monthly_credit_forecast")
    assert (july["period_status"], july["advice_status"], july["consumption_credits"]) == (status, advice, 310.0)
    assert july["projected_credits"] == pytest.approx(projected, abs=1e-9)
    assert forecast["projected_credits"] == pytest.approx(projected, abs=1e-9)
    assert forecast["days_elapsed"] == (31 if status == "COMPLETE" else 30)


def test_the_cost_tables_say_which_advice_is_provisional_and_what_utilisation_is_of():
    """Both per-user monthly tables show the period and the advice status beside the advice, and the seat's region;
    their subtitle names both provisional cases; the utilisation column names its base, in both languages."""
    for name, visual_id in (("dashboard", "ca-user-credits"), ("cost-optimization", "co-user-credits")):
        raw = definitions.load_raw(name)
        table = next(body for _s, _k, body in definitions.visuals(raw) if body["VisualId"] == visual_id)
        wells = table["ChartConfiguration"]["FieldWells"]["TableAggregatedFieldWells"]
        shown = [next(iter(f.values()))["Column"]["ColumnName"] for f in wells["GroupBy"]]
        assert {"region", "period_status", "recommendation", "advice_status"} <= set(shown), (name, shown)
        assert shown.index("advice_status") == shown.index("recommendation") + 1
        labels = {o["FieldId"].split(".")[1]: o["CustomLabel"]
                  for o in table["ChartConfiguration"]["FieldOptions"]["SelectedFieldOptions"]}
        assert labels["utilisation_pct"] == "${label:col_utilisation_pct}"
        assert table["Subtitle"]["FormatText"]["PlainText"] == "${label:subtitle_user_credit_table}"
    root = Path(__file__).resolve().parent.parent / "quicksight" / "labels"
    en = json.loads((root / "en.json").read_text(encoding="utf-8"))
    zh = json.loads((root / "zh.json").read_text(encoding="utf-8"))
    assert "allowance" in en["col_utilisation_pct"] and "current tier" in en["col_utilisation_pct"]
    assert "当前等级额度" in zh["col_utilisation_pct"]
    for text in (en["subtitle_user_credit_table"], zh["subtitle_user_credit_table"]):
        assert all(word in text for word in ("MONTH_TO_DATE", "PARTIAL_START", "PROVISIONAL", "FINAL")), text


def test_a_running_total_is_read_per_seat(tmp_path):
    """Overage on in both regions, read as running totals: west 50 then 120, east 50 then 80 (each seat's own
    month so far). Per seat: 120 + 80 = 200, both OK. Merged into one seat, the day's total would be the larger row
    (120), the month 120, and the two regions' different totals flagged as clients that disagree."""
    rows_ = [(WEST, "2026-07-01", G, "PRO", 800.0, 0.0, True), (EAST, "2026-07-01", G, "PRO", 800.0, 0.0, True),
             (WEST, "2026-07-10", G, "PRO", 0.0, 50.0, True), (EAST, "2026-07-10", G, "PRO", 0.0, 50.0, True),
             (WEST, "2026-07-20", G, "PRO", 0.0, 120.0, True), (EAST, "2026-07-20", G, "PRO", 0.0, 80.0, True),
             (WEST, "2026-08-01", G, "PRO", 1.0, 0.0, True)]
    with _regions_build(tmp_path, rows_, overage_reading="running_total") as connection:
        west, east = seat(connection, "2026-07-01", G, WEST), seat(connection, "2026-07-01", G, EAST)
        (daily,), = connection.execute("SELECT sum(overage_credits_used) FROM daily_summary WHERE activity_date "
                                       "BETWEEN DATE '2026-07-01' AND DATE '2026-07-31'").fetchall()
    assert (west["overage_credits_used"], west["overage_check"], west["overage_cost"]) == (120.0, "OK", approx(6.0))
    assert (east["overage_credits_used"], east["overage_check"], east["overage_cost"]) == (80.0, "OK", approx(4.0))
    assert daily == 200.0
