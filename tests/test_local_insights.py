"""The insight views (credit forecast, teams from Identity Center groups, report freshness): checked on the
generated sample against tests/local_expected.py (read from the CSVs and the user map, never from SQL), and on a
small hand-made bucket whose every expected number is written out below."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest
from kiro_analytics.config import parse_config
from kiro_analytics.local import engine
from local_expected import forecast, freshness, read_groups, sample_build, team_days

A = "aaaaaaaa-1111-4000-8000-000000000001"   # PRO, run rate crosses the allowance this month
B = "bbbbbbbb-1111-4000-8000-000000000002"   # PRO_PLUS, far under this month, over last month
C = "cccccccc-1111-4000-8000-000000000003"   # not in the name map
ACCOUNT, REGION = "444455556666", "us-east-1"
ARN = f'"arn:aws:codewhisperer:{REGION}:{ACCOUNT}:profile/P1"'
FIXED = ("Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used,"
         "Overage_Enabled,ProfileId,Subscription_Tier,Total_Messages")
# Odd plans, so numbers that came from the published prices instead of config would disagree.
PLANS = {"overage_price_per_credit": 0.05, "tiers": {
    "PRO": {"credits": 900, "price": 19}, "PRO_PLUS": {"credits": 1800, "price": 39},
    "PRO_MAX": {"credits": 4500, "price": 90}, "POWER": {"credits": 9500, "price": 190}}}


def _close(a, b, tol=1e-9):
    return a == b if a is None or b is None else abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def _write(path: Path, lines) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _row(day: str, user: str, credits: float, tier: str, messages: int, client: str = "KIRO_IDE") -> str:
    enabled = "true" if user == A else "false"  # Ann may buy overage; Bo and C are stopped at their allowance
    return f'{day},"{user}",{client},1,{credits},0.0,0.0,{enabled},{ARN},{tier},{messages}'


def make_bucket(root: Path) -> Path:
    """April: B uses 2,000 (over PRO_PLUS). May 1-10 (the data's last day is 05-10): A 40 a day, B 10 a day,
    C 5 a day. 05-10 KIRO_IDE is exported twice (the first with A at 999 and an older header); 05-09 is one
    export split in two parts."""
    ur = root / "AWSLogs" / ACCOUNT / "KiroLogs" / "user_report" / REGION
    stem = f"KIRO_IDE_{ACCOUNT}_user_report_"
    _write(ur / "2026/04/20/00" / f"{stem}202604210205.csv", [FIXED, _row("2026-04-20", B, 2000.0, "PRO_PLUS", 50)])
    for day in range(1, 9):
        iso = f"2026-05-{day:02d}"
        stamp = f"202605{day + 1:02d}0205"
        _write(ur / f"2026/05/{day:02d}/00" / f"{stem}{stamp}.csv",
               [FIXED, _row(iso, A, 40.0, "PRO", 4), _row(iso, B, 10.0, "PRO_PLUS", 2), _row(iso, C, 5.0, "PRO", 1)])
    _write(ur / "2026/05/09/00" / f"{stem}202605100205_part_1.csv", [FIXED, _row("2026-05-09", A, 40.0, "PRO", 4)])
    _write(ur / "2026/05/09/00" / f"{stem}202605100205_part_2.csv",
           [FIXED, _row("2026-05-09", B, 10.0, "PRO_PLUS", 2), _row("2026-05-09", C, 5.0, "PRO", 1)])
    _write(ur / "2026/05/10/00" / f"{stem}202605110205.csv", [FIXED, _row("2026-05-10", A, 999.0, "PRO", 4)])
    _write(ur / "2026/05/10/00" / f"{stem}202605111405.csv",
           [FIXED + ",User_Email", _row("2026-05-10", A, 40.0, "PRO", 4) + ",a@example.com",
            _row("2026-05-10", B, 10.0, "PRO_PLUS", 2) + ",b@example.com",
            _row("2026-05-10", C, 5.0, "PRO", 1) + ","])
    users = root.parent / "users.csv"
    with open(users, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userid", "username", "user_name", "email", "groups"])
        writer.writerows([[A, "Ann", "ann", "", "web;ml"], [f"d-9999999999.{B}", "Bo", "bo", "", ""]])
    return users


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    root = tmp_path_factory.mktemp("insights")
    users = make_bucket(root / "data")
    config = parse_config({
        "aws": {"account_id": ACCOUNT, "region": REGION},
        "s3": {"bucket_name": "insights-bucket", "prefix": ""},
        "identity_center": {"identity_store_id": "d-9999999999"},
        "quicksight": {"user_arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/admin"},
        "names": {"database": "kiro_insights_db"},
        "plans": PLANS,
    })
    result = engine.build(root / "data", root / "out", config, users)
    con = duckdb.connect(str(result.db_path), read_only=True)
    yield con
    con.close()


def _rows(con, sql):
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def test_run_rate_crossing_the_allowance_is_at_risk(hand):
    rows = {(r["month"], r["userid"]): r for r in _rows(hand, "SELECT * FROM monthly_credit_forecast")}
    assert set(rows) == {(date(2026, 4, 1), B), (date(2026, 5, 1), A), (date(2026, 5, 1), B),
                         (date(2026, 5, 1), C)}
    ann = rows[(date(2026, 5, 1), A)]
    # 10 days x 40 (the 999-credit first export of 05-10 lost) = 400 so far; 400 / 10 x 31 = 1,240 >= 900.
    assert (ann["username"], ann["subscription_tier"], ann["days_elapsed"], ann["days_in_month"]) == \
        ("Ann", "PRO", 10, 31)
    assert _close(ann["credits_to_date"], 400.0) and _close(ann["projected_credits"], 1240.0)
    assert ann["monthly_credits"] == 900.0 and _close(ann["projected_utilisation_pct"], 100 * 1240 / 900)
    assert _close(ann["projected_overage_credits"], 340.0) and _close(ann["projected_overage_cost"], 340 * 0.05)
    assert (ann["at_risk"], ann["near_cap"], ann["at_risk_users"]) == (True, True, 1)
    bo = rows[(date(2026, 5, 1), B)]
    assert _close(bo["projected_credits"], 310.0) and (bo["at_risk"], bo["near_cap"], bo["at_risk_users"]) == \
        (False, False, 0)
    assert bo["username"] == "Bo" and bo["projected_overage_cost"] == 0
    # A closed month is its actual: already over, so over the cap but not "at risk". The reports begin on 04-20
    # (PARTIAL_START). Bo has overage off and Kiro reported none: no overage is projected or priced, although
    # 2,000 credits on an 1,800 plan imply 200 (monthly_user_credits shows both; see test_cost_model.py).
    april = rows[(date(2026, 4, 1), B)]
    assert (april["days_elapsed"], april["days_in_month"]) == (30, 30) and _close(april["projected_credits"], 2000.0)
    assert (april["at_risk"], april["near_cap"], april["period_status"]) == (False, True, "PARTIAL_START")
    assert april["projected_overage_cost"] == 0
    assert ann["period_status"] == "MONTH_TO_DATE"
    assert rows[(date(2026, 5, 1), C)]["username"] == C  # not in the map: the id is the name
    watch = _rows(hand, "SELECT month, userid, at_risk FROM credit_forecast_watchlist")
    assert watch == [{"month": date(2026, 5, 1), "userid": A, "at_risk": True}]


def test_team_counts_with_two_groups_none_and_unknown(hand):
    rows = {(r["activity_date"], r["team"]): r for r in _rows(hand, "SELECT * FROM team_daily")}
    day = date(2026, 5, 10)
    assert {team for d, team in rows if d == day} == {"web", "ml", "(no group)", "(unknown)"}
    for team, users, credits, messages in (("web", 1, 40.0, 4), ("ml", 1, 40.0, 4), ("(no group)", 1, 10.0, 2),
                                           ("(unknown)", 1, 5.0, 1)):
        row = rows[(day, team)]
        assert (row["users"], row["credits_used"], row["total_messages"]) == (users, credits, messages), team
    # Ann is in two groups, so the teams add up to more than the day's 55 credits.
    assert sum(r["credits_used"] for (d, _), r in rows.items() if d == day) == 95.0
    people = _rows(hand, "SELECT team, count(DISTINCT userid) AS users, sum(credits_used) AS credits "
                         "FROM team_user_daily WHERE activity_date >= DATE '2026-05-01' GROUP BY team")
    assert {r["team"]: (r["users"], r["credits"]) for r in people} == {
        "web": (1, 400.0), "ml": (1, 400.0), "(no group)": (1, 100.0), "(unknown)": (1, 50.0)}


def test_per_user_views_carry_one_team_label_and_the_days_tier(hand):
    """The Team control on per-user views: one label per person (the map's groups joined with ' + ', as listed), so
    joining it repeats no row; '(no group)' and '(unknown)' as team_daily has them. The tier of active_user_days is
    the day's credit-report tier."""
    teams = {r["userid"]: r["team"] for r in _rows(hand, "SELECT DISTINCT userid, team FROM user_daily_detail")}
    assert teams == {A: "web + ml", B: "(no group)", C: "(unknown)"}
    assert {r["userid"]: r["team"] for r in _rows(hand, "SELECT * FROM user_teams")} == {A: "web + ml", B: "(no group)"}
    assert sum(r["credits_used"] for r in _rows(hand, "SELECT credits_used FROM user_daily_detail "
                                                      "WHERE activity_date = DATE '2026-05-10'")) == 55.0
    active = {r["userid"]: (r["subscription_tier"], r["team"]) for r in _rows(
        hand, "SELECT * FROM active_user_days WHERE activity_date = DATE '2026-05-10'")}
    detail = {r["userid"]: r["subscription_tier"] for r in _rows(
        hand, "SELECT userid, subscription_tier FROM user_daily_detail WHERE activity_date = DATE '2026-05-10'")}
    assert {user: tier for user, (tier, _) in active.items()} == detail and detail[A] == "PRO"
    assert active[A][1] == "web + ml"


def test_resent_and_split_exports_in_freshness(hand):
    rows = {(r["activity_date"], r["source"], r["client_type"]): r
            for r in _rows(hand, "SELECT * FROM report_freshness")}
    resent = rows[(date(2026, 5, 10), "user_report", "KIRO_IDE")]
    assert (resent["files"], resent["exports"], resent["resent"], resent["newest_export"]) == \
        (2, 2, True, "202605111405")
    assert (resent["rows"], resent["header_variants"]) == (4, 2)
    split = rows[(date(2026, 5, 9), "user_report", "KIRO_IDE")]
    assert (split["files"], split["exports"], split["resent"], split["rows"], split["header_variants"]) == \
        (2, 1, False, 3, 1)
    assert all(not r["resent"] for key, r in rows.items() if key[0] != date(2026, 5, 10))
    assert len(rows) == 11  # one user_report row per day; no legacy files here


# --- The generated sample against tests/local_expected.py ---

@pytest.fixture(scope="module")
def sample():
    return sample_build()


def test_sample_forecast_matches_files(sample):
    want = forecast(sample.expected, sample.config)
    got = {(r["month"], r["userid"]): r for r in _rows_of(sample, "monthly_credit_forecast")}
    assert set(got) == set(want)
    for key, expected in want.items():
        row = got[key]
        assert row["username"] == sample.names.get(key[1], key[1])
        for column, value in expected.items():
            if isinstance(value, float):
                assert _close(row[column], value, 1e-6), (key, column)
            else:
                assert row[column] == value, (key, column)
        assert row["at_risk_users"] == (1 if expected["at_risk"] else 0)
    latest = max(month for month, _ in want)
    assert {k for k, v in want.items() if k[0] == latest and v["projected_credits"] >= (v["monthly_credits"] or 0)
            and v["monthly_credits"]} == {(r[0], r[1]) for r in sample.query(
                "SELECT month, userid FROM credit_forecast_watchlist")}
    assert any(v["days_elapsed"] < v["days_in_month"] for v in want.values()), "the latest month is partial"


def test_sample_teams_match_files_and_map(sample):
    groups = read_groups(sample.user_map)
    assert any(len(g) >= 2 for g in groups.values()) and any(not g for g in groups.values())
    want = team_days(sample.expected, groups)
    got = {(r["activity_date"], r["team"]): r for r in _rows_of(sample, "team_daily")}
    assert set(got) == set(want)
    assert {"(no group)", "(unknown)"} <= {team for _, team in want}
    for key, expected in want.items():
        row = got[key]
        assert row["users"] == len(expected["users"]), key
        assert _close(row["credits_used"], expected["credits"], 1e-6) and row["total_messages"] == expected["messages"]
        assert _close(row["overage_credits_used"], expected["overage"], 1e-6)


def test_sample_freshness_matches_files(sample):
    manifest = sample.manifest
    want = freshness(manifest.root / manifest.prefix / "AWSLogs" / manifest.account_id)
    got = {(r["activity_date"], r["source"], r["client_type"]): r for r in _rows_of(sample, "report_freshness")}
    assert set(got) == set(want)
    for key, expected in want.items():
        assert {column: got[key][column] for column in expected} == expected, key
    assert any(v["resent"] for v in want.values()), "the sample has re-sent exports"  # split parts: the hand bucket


def _rows_of(sample, view):
    con = duckdb.connect(str(sample.result.db_path), read_only=True)
    try:
        return _rows(con, f"SELECT * FROM {view}")
    finally:
        con.close()


@pytest.mark.parametrize("name, visual_ids", [
    ("cost-optimization", ["co-kpi-at-risk", "co-kpi-projected-overage", "co-forecast-watchlist"]),
    ("admin-overview", ["ao-team-credits", "ao-team-summary", "ao-report-freshness"])])
def test_insight_visuals_render_locally(sample, tmp_path, name, visual_ids):
    """The same analysis JSON QuickSight gets draws locally, each new visual under its dataset's date filter."""

    from kiro_analytics.local import html_dashboard
    from kiro_analytics.quicksight import definitions

    raw = definitions.load_raw(name)
    values = {key: "local:" + key.split(":", 1)[-1] for key in definitions.placeholders(raw)
              if not key.startswith("label:")}
    document = definitions.load_definition(name, "en", values)
    page = html_dashboard.render_document(document, sample.result.db_path, tmp_path / "x.html", "en").read_text(
        encoding="utf-8")
    payload = html_dashboard.read_payload(page)
    for visual_id in visual_ids:
        assert payload["visuals"][visual_id]["date"] == 0, visual_id  # its date column leads every row key
