"""One test per trap of kiro-reports.md, with numbers: a hand-made bucket whose every expected value
is written out below, plus checks on the generated sample's own quirk files."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest
from kiro_analytics.config import parse_config
from kiro_analytics.local import engine
from local_expected import bare_id, sample_build, stamp_of

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
C = "cccccccc-0000-4000-8000-000000000003"
D = "dddddddd-0000-4000-8000-000000000004"
ACCOUNT, REGION, PREFIX = "111122223333", "eu-west-1", "kiro/"
ARN = f'"arn:aws:codewhisperer:{REGION}:{ACCOUNT}:profile/P1"'
FIXED = ("Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used,"
         "Overage_Enabled,ProfileId,Subscription_Tier,Total_Messages")
METRICS = sorted(["Chat_AICodeLines", "Chat_MessagesInteracted", "Chat_MessagesSent", "CodeFix_AcceptanceEventCount",
                  "CodeFix_AcceptedLines", "CodeFix_GeneratedLines", "CodeFix_GenerationEventCount",
                  "CodeReview_FailedEventCount", "CodeReview_FindingsCount", "CodeReview_SucceededEventCount",
                  "Dev_AcceptanceEventCount", "Dev_AcceptedLines", "Dev_GeneratedLines", "Dev_GenerationEventCount",
                  "DocGeneration_AcceptedFileUpdates", "DocGeneration_AcceptedFilesCreations",
                  "DocGeneration_AcceptedLineAdditions", "DocGeneration_AcceptedLineUpdates",
                  "DocGeneration_EventCount", "DocGeneration_RejectedFileCreations",
                  "DocGeneration_RejectedFileUpdates", "DocGeneration_RejectedLineAdditions",
                  "DocGeneration_RejectedLineUpdates", "InlineChat_AcceptanceEventCount",
                  "InlineChat_AcceptedLineAdditions", "InlineChat_AcceptedLineDeletions",
                  "InlineChat_DismissalEventCount", "InlineChat_DismissedLineAdditions",
                  "InlineChat_DismissedLineDeletions", "InlineChat_RejectedLineAdditions",
                  "InlineChat_RejectedLineDeletions", "InlineChat_RejectionEventCount", "InlineChat_TotalEventCount",
                  "Inline_AICodeLines", "Inline_AcceptanceCount", "Inline_SuggestionsCount",
                  "TestGeneration_AcceptedLines", "TestGeneration_AcceptedTests", "TestGeneration_EventCount",
                  "TestGeneration_GeneratedLines", "TestGeneration_GeneratedTests", "Transformation_EventCount",
                  "Transformation_LinesGenerated", "Transformation_LinesIngested"])
# Deliberately odd plans: a SQL file that hard-coded the published prices would disagree.
PLANS = {"overage_price_per_credit": 0.07, "tiers": {
    "POWER": {"credits": 9000, "price": 150}, "PRO": {"credits": 700, "price": 17.5},
    "PRO_MAX": {"credits": 4000, "price": 80}, "PRO_PLUS": {"credits": 1500, "price": 33}}}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def _legacy(day: str, rows, order=METRICS) -> str:
    lines = [",".join(["UserId", "Date", *order])]
    for userid, values, blank in rows:
        cells = [str(values[m]) if m in values else ("" if blank else "0") for m in order]
        lines.append(",".join([userid, day, *cells]))
    return "\n".join(lines) + "\n"


def make_bucket(root: Path) -> Path:
    logs = root / PREFIX / "AWSLogs" / ACCOUNT
    ur = logs / "KiroLogs" / "user_report" / REGION
    h1 = FIXED + ",New_User,User_Email,auto_messages,claude_x_messages"
    stem = f"KIRO_IDE_{ACCOUNT}_user_report_"
    # 05-01, one export split in two parts, and an older export of the same day that must lose.
    _write(ur / "2026/05/01/00" / f"{stem}202605020205_part_1.csv", "\n".join([
        h1, f'2026-05-01,"{A}",KIRO_IDE,2,500.5,700.0,0.0,TRUE,{ARN},Pro,30,true,a@example.com,10,20',
        f'2026-05-01,"{B}",KIRO_IDE,1,100.25,1500.0,0.0,false,{ARN},Pro Plus,12,false,b@example.com,12,0']) + "\n")
    _write(ur / "2026/05/01/00" / f"{stem}202605020205_part_2.csv", "\n".join([
        h1, f'2026-05-01,"d-1234567890.{C}",KIRO_IDE,3,1200.0,1500.0,0.0,false,{ARN},ProPlus,8,false,c@example.com,3,5'
    ]) + "\n")
    _write(ur / "2026/05/01/00" / f"{stem}202605020105.csv", "\n".join([
        h1, f'2026-05-01,"{A}",KIRO_IDE,9,999.0,700.0,0.0,true,{ARN},PRO,99,true,a@example.com,90,9']) + "\n")
    # 05-02: no New_User / User_Email, model columns in another order, and a model that is new.
    h2 = FIXED + ",claude_x_messages,auto_messages,claude_new_messages"
    _write(ur / "2026/05/02/00" / f"{stem}202605030200.csv", "\n".join([
        h2, f'2026-05-02,"{A}",KIRO_IDE,1,299.5,700.0,0.0,true,{ARN},PRO,40,25,5,10',
        f'2026-05-02,"{B}",KIRO_IDE,0,20.0,9000.0,0.0,false,{ARN},POWER,4,4,0,0']) + "\r\n")
    # A single-row file with a byte-order mark and CRLF line ends.
    _write(ur / "2026/05/02/00" / f"PLUGIN_{ACCOUNT}_user_report_202605030200.csv", "\ufeff" + "\r\n".join([
        h1, f'2026-05-02,"{D}",PLUGIN,0,100.0,4000.0,0.0,false,{ARN},pro-max,3,true,d@example.com,0,0']) + "\r\n")
    # Legacy: a Q Developer copy newer than Kiro's (Q wins), a tie (Kiro wins), empty fields, reordered columns.
    kl, ql = logs / "KiroLogs" / "by_user_analytic" / REGION, logs / "QDeveloperLogs" / "by_user_analytic" / REGION
    name = f"{ACCOUNT}_by_user_analytic_"
    _write(kl / "2026/04/30/00" / f"{name}202605010100_report.csv",
           _legacy("04-30-2026", [(A, {"Chat_MessagesSent": 50}, False)]))
    _write(ql / "2026/04/30/00" / f"{name}202605010300_report.csv",
           _legacy("04-30-2026", [(A, {"Chat_MessagesSent": 5}, True)]))
    ones = {m: 1 for m in METRICS} | {"Inline_SuggestionsCount": 10, "Inline_AcceptanceCount": 4}
    _write(kl / "2026/05/01/00" / f"{name}202605020300_report.csv", _legacy("05-01-2026", [(f'"{A}"', ones, False)]))
    _write(ql / "2026/05/01/00" / f"{name}202605020300_report.csv", _legacy("05-01-2026", [
        (A, {m: 9 for m in METRICS}, True), (f"d-1234567890.{B}", {"Chat_MessagesSent": 7}, True)]))
    _write(kl / "2026/05/02/00" / f"{name}202605030300_report.csv",
           _legacy("05-02-2026", [(A, {"Inline_SuggestionsCount": 6, "Dev_AcceptedLines": 2}, False)], METRICS[::-1]))
    # Not reports: a permission marker, prompt logs, and a CSV inside a prompt-log folder.
    bogus = FIXED + f"\n2026-05-01,{A},KIRO_IDE,1,100000.0,0,0,false,x,PRO,1\n"
    _write(logs / "KiroLogs" / "0f6b2c1e-1111-4222-8333-944445555666", bogus)
    _write(logs / "KiroLogs" / "GenerateAssistantResponse" / REGION / "2026/05/01/00" / "log.csv", bogus)
    path = logs / "KiroLogs" / "GenerateAssistantResponse" / REGION / "2026/05/01/00" / "log.json.gz"
    path.write_bytes(gzip.compress(b'{"records": []}'))
    users = root / "users.csv"
    with open(users, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userid", "username", "user_name", "email", "groups"])
        writer.writerows([[A, "Ann Example", "ann", "a@example.com", "dev"], [A, "Ann Example", "ann", "", ""],
                          [f"d-1234567890.{B}", "Bo, Jr.", "bo", "", ""], [C, "", "cee", "", ""]])
    return users


def hand_config():
    """The config of the hand-made buckets (their account, region, prefix and plans)."""
    return parse_config({
        "aws": {"account_id": ACCOUNT, "region": REGION},
        "s3": {"bucket_name": "hand-made-bucket", "prefix": PREFIX},
        "identity_center": {"identity_store_id": "d-1234567890"},
        "quicksight": {"user_arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/admin"},
        "names": {"database": "kiro_test_db"},
        "plans": PLANS,
    })


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand")
    users = make_bucket(root / "data")
    config = hand_config()
    result = engine.build(root / "data", root / "out", config, users)
    con = duckdb.connect(str(result.db_path), read_only=True)
    yield con, result
    con.close()


def q(hand, sql):
    return hand[0].execute(sql).fetchall()


ACTIVITY = ("activity_date, userid, client_type, subscription_tier, chat_conversations, credits_used, overage_cap, "
            "overage_credits_used, overage_enabled, total_messages, new_user, user_email, usage_limit")


def activity(hand):
    rows = q(hand, f"SELECT {ACTIVITY} FROM user_activity_daily")
    return {(r[0].isoformat(), r[1], r[2]): r[3:] for r in rows}


def test_resent_export_is_not_double_counted(hand):
    row = activity(hand)[("2026-05-01", A, "KIRO_IDE")]
    assert row[1:5:2] == (2, 700.0) and row[2] == 500.5 and row[6] == 30  # the 999-credit older export lost


def test_every_part_of_a_split_export_counts(hand):
    day = {k[1]: v for k, v in activity(hand).items() if k[0] == "2026-05-01"}
    assert set(day) == {A, B, C}
    assert sum(v[2] for v in day.values()) == 500.5 + 100.25 + 1200.0


def test_missing_new_user_and_email_columns_are_null(hand):
    rows = activity(hand)  # ..., new_user, user_email, usage_limit (no file here has Usage_Limit)
    assert rows[("2026-05-02", A, "KIRO_IDE")][-3:] == (None, None, None)
    assert rows[("2026-05-01", A, "KIRO_IDE")][-3:] == (True, "a@example.com", None)
    assert rows[("2026-05-02", D, "PLUGIN")][-3:] == (True, "d@example.com", None)


def test_model_columns_bound_by_name_and_new_model_appears(hand):
    got = {(r[0].isoformat(), r[1], r[3]): r[4] for r in q(hand, "SELECT * FROM model_usage_daily")}
    assert got == {("2026-05-01", A, "auto"): 10, ("2026-05-01", A, "claude_x"): 20,
                   ("2026-05-01", B, "auto"): 12, ("2026-05-01", C, "auto"): 3, ("2026-05-01", C, "claude_x"): 5,
                   ("2026-05-02", A, "claude_x"): 25, ("2026-05-02", A, "auto"): 5,
                   ("2026-05-02", A, "claude_new"): 10, ("2026-05-02", B, "claude_x"): 4}


def test_quoted_and_prefixed_ids_are_normalised(hand):
    users = {r[0] for r in q(hand, "SELECT userid FROM user_days")}
    assert users == {A, B, C, D}
    names = dict(q(hand, "SELECT userid, username FROM user_summary"))
    assert names == {A: "Ann Example", B: "Bo, Jr.", C: C, D: D}  # empty name and no entry fall back to the id


def test_legacy_dates_empty_fields_and_sources(hand):
    rows = {(r[0].isoformat(), r[1]): r for r in q(
        hand, "SELECT activity_date, userid, chat_messagessent, inline_suggestionscount, inline_acceptancecount, "
              "dev_acceptedlines, codereview_findingscount FROM user_behavior_daily")}
    assert rows[("2026-04-30", A)][2] == 5                 # Q Developer export is newer: it wins
    assert rows[("2026-05-01", A)][2:] == (1, 10, 4, 1, 1)  # same stamp: the KiroLogs copy wins
    assert rows[("2026-05-01", B)][2:] == (7, 0, 0, 0, 0)   # empty legacy fields are 0
    assert rows[("2026-05-02", A)][2:] == (0, 6, 0, 2, 0)   # reversed column order, bound by name
    assert len(rows) == 4


def test_tier_spellings_and_upper_case_true(hand):
    rows = activity(hand)
    assert {k: v[0] for k, v in rows.items()} == {
        ("2026-05-01", A, "KIRO_IDE"): "PRO", ("2026-05-01", B, "KIRO_IDE"): "PRO_PLUS",
        ("2026-05-01", C, "KIRO_IDE"): "PRO_PLUS", ("2026-05-02", A, "KIRO_IDE"): "PRO",
        ("2026-05-02", B, "KIRO_IDE"): "POWER", ("2026-05-02", D, "PLUGIN"): "PRO_MAX"}
    assert rows[("2026-05-01", A, "KIRO_IDE")][5] is True   # TRUE
    assert rows[("2026-05-01", B, "KIRO_IDE")][5] is False


def test_markers_and_prompt_logs_are_never_read(hand):
    _, result = hand
    assert result.report_files == {"user_report_raw": 5, "kiro_by_user_analytic_raw": 3,
                                   "qdev_by_user_analytic_raw": 2, "user_mapping": 4}
    assert q(hand, "SELECT max(credits_used) FROM user_activity_daily") == [(1200.0,)]
    assert q(hand, "SELECT count(*) FROM user_report_raw WHERE \"$path\" LIKE '%Generate%'") == [(0,)]


def test_single_row_file_with_bom_and_crlf(hand):
    assert activity(hand)[("2026-05-02", D, "PLUGIN")][:7] == ("PRO_MAX", 0, 100.0, 4000.0, 0.0, False, 3)


def test_latest_tier_not_max_tier(hand):
    tiers = dict(q(hand, "SELECT userid, subscription_tier FROM user_summary"))
    assert tiers[B] == "POWER"  # PRO_PLUS on 05-01, POWER on 05-02; MAX() would say PRO_PLUS


def test_duplicate_mapping_rows_do_not_multiply(hand):
    assert q(hand, f"SELECT credits_used, total_messages, active_days FROM user_summary WHERE userid = '{A}'") == [
        (800.0, 70, 2)]


def test_plan_math_follows_config(hand):
    rows = {r[1]: r for r in q(hand, "SELECT month, userid, subscription_tier, consumption_credits, allowance, "
                                     "utilisation_pct, in_overage, near_cap, overage_cost, monthly_price, "
                                     "period_status, recommendation, recommended_tier, projected_credits "
                                     "FROM monthly_user_credits")}
    assert {r[0] for r in rows.values()} == {date(2026, 5, 1)}
    assert {r[10] for r in rows.values()} == {"MONTH_TO_DATE"}  # the data ends on 05-02: advice is provisional
    a = rows[A]
    assert a[2:5] == ("PRO", 800.0, 700.0) and a[5] == pytest.approx(800 / 700 * 100)
    # 100 credits beyond the plan, but Kiro reported no overage: nothing is billed (monthly_user_credits shows the
    # implied 100 beside it, see test_cost_model.py), and the plan price comes from config.
    assert a[6:8] == (True, True) and a[8] == 0 and a[9] == 17.5
    # 800 in 2 days, projected over 31: 800 + 400 x 29 = 12,400 with overage on. Cheapest: POWER 150 + 3,400 x 0.07.
    assert a[13] == pytest.approx(12400.0) and a[11:13] == ("UPGRADE", "POWER")
    # B: POWER since 05-02, 120.25 in 2 days -> 1,863.875 projected, overage off: PRO_MAX (4,000) is the cheapest
    # tier that covers it.
    assert rows[B][2] == "POWER" and rows[B][13] == pytest.approx(1863.875) and rows[B][11:13] == ("DOWNGRADE",
                                                                                                 "PRO_MAX")
    assert rows[C][2:4] == ("PRO_PLUS", 1200.0) and rows[C][6:8] == (False, True)  # exactly 80%: near the cap
    # C: 1,200 on day 1 -> 18,600 projected with overage off: no tier covers it, so the largest allowance.
    assert rows[C][8] == 0 and rows[C][11:13] == ("UPGRADE", "POWER")
    # D: 100 on 05-02 -> 1,550 projected: PRO_PLUS (1,500) does not cover it, PRO_MAX does: keep.
    assert rows[D][2] == "PRO_MAX" and rows[D][11:13] == ("KEEP", "PRO_MAX")
    plans = {r[0]: r[1:] for r in q(hand, "SELECT subscription_tier, monthly_credits, monthly_price, tier_rank, "
                                          "overage_price_per_credit, overage_available, advisable FROM plan_tiers")}
    assert plans == {"PRO": (700.0, 17.5, 1, 0.07, True, True), "PRO_PLUS": (1500.0, 33.0, 2, 0.07, True, True),
                     "PRO_MAX": (4000.0, 80.0, 3, 0.07, True, True), "POWER": (9000.0, 150.0, 4, 0.07, True, True)}
    tiers = {r[0]: r[1:] for r in q(hand, "SELECT subscription_tier, users, monthly_seat_cost FROM tier_summary")}
    assert tiers == {"PRO": (1, 17.5), "PRO_PLUS": (1, 33.0), "PRO_MAX": (1, 80.0), "POWER": (1, 150.0)}


# -- the generated sample's own quirk files ------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    return sample_build()


def test_sample_resent_exports_keep_the_newest(sample):
    files = [p for p in sample.manifest.quirks["resent_export"] if "user_report" in str(p)]
    assert files, "the sample should contain a re-sent export"
    groups = defaultdict(list)
    for path in files:
        groups[(path.parent, path.name.split("_")[0])].append(path)
    for paths in groups.values():
        newest = max(paths, key=stamp_of)
        with open(newest, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        day, client = rows[0]["Date"], rows[0]["Client_Type"]
        got = dict(sample.query(f"SELECT userid, credits_used FROM user_activity_daily WHERE activity_date = "
                                f"DATE '{day}' AND client_type = '{client}'"))
        assert got == {bare_id(r["UserId"]): float(r["Credits_Used"]) for r in rows}


def test_sample_raw_tables_hold_only_report_lines(sample):
    lines = 0
    for path in sample.manifest.report_files:
        lines += sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line)
    raw = sum(sample.query(f"SELECT count(*) FROM {t}")[0][0]
              for t in ("user_report_raw", "kiro_by_user_analytic_raw", "qdev_by_user_analytic_raw"))
    assert raw == lines
    assert sample.manifest.non_report_files
    paths = {r[0] for r in sample.query("SELECT DISTINCT \"$path\" FROM user_report_raw")}
    assert not paths & {str(p) for p in sample.manifest.non_report_files}


def test_sample_new_model_and_overlap_present(sample):
    models = {r[0] for r in sample.query("SELECT DISTINCT model FROM model_usage_daily")}
    assert "claude_opus_4.6" in models and "auto" in models
    overlap = sample.manifest.quirks["legacy_source_overlap"]
    assert any("QDeveloperLogs" in str(p) for p in overlap) and any("KiroLogs" in str(p) for p in overlap)


@pytest.fixture(scope="module")
def padded(tmp_path_factory):
    """Cells with spaces around them (and a line holding a character beyond ASCII): read trimmed, as Athena's
    trim() reads them. report_lines trims a line's cells only when the line holds whitespace or a non-ASCII
    character, so each kind of line is here once, beside a plain one."""
    root = tmp_path_factory.mktemp("padded")
    logs = root / "data" / PREFIX / "AWSLogs" / ACCOUNT / "KiroLogs"
    stem = f"KIRO_IDE_{ACCOUNT}_user_report_"
    _write(logs / "user_report" / REGION / "2026/05/01/00" / f"{stem}202605020205.csv", "\n".join([
        FIXED + ",User_Email,auto_messages",
        f'2026-05-01,"{A}",KIRO_IDE,2,500.5,700.0,0.0,true,{ARN},PRO,30,a@example.com,7',
        f' 2026-05-01 , "{B}" ,KIRO_IDE, 3 , 12.5 ,700.0, 0.0 ,false,{ARN}, Pro Plus ,9 , b@example.com, 4 ',
        f'2026-05-01,"{C}",KIRO_IDE,1,1.25,700.0,0.0,false,{ARN},PRO,2,é@example.com,1 ']) + "\n")
    name = f"{ACCOUNT}_by_user_analytic_"
    _write(logs / "by_user_analytic" / REGION / "2026/05/01/00" / f"{name}202605020300_report.csv",
           _legacy("05-01-2026", [(A, {"Chat_MessagesSent": " 5 ", "Inline_SuggestionsCount": "6 "}, False),
                                  (B, {"Chat_MessagesSent": 8}, False)]))
    config = hand_config()
    result = engine.build(root / "data", root / "out", config)
    con = duckdb.connect(str(result.db_path), read_only=True)
    yield con, result
    con.close()


def test_padded_cells_are_read_trimmed(padded):
    assert q(padded, "SELECT count(*) FROM report_line_facts WHERE line_status = 'rejected'") == [(0,)]
    rows = activity(padded)
    assert rows[("2026-05-01", A, "KIRO_IDE")][:6] == ("PRO", 2, 500.5, 700.0, 0.0, True)
    assert rows[("2026-05-01", B, "KIRO_IDE")][:7] == ("PRO_PLUS", 3, 12.5, 700.0, 0.0, False, 9)
    assert rows[("2026-05-01", B, "KIRO_IDE")][-2] == "b@example.com"
    assert rows[("2026-05-01", C, "KIRO_IDE")][-2] == "é@example.com"
    models = {(r[1], r[3]): r[4] for r in q(padded, "SELECT * FROM model_usage_daily")}
    assert models == {(A, "auto"): 7, (B, "auto"): 4, (C, "auto"): 1}
    legacy = {r[0]: r[1:] for r in q(padded, "SELECT userid, chat_messagessent, inline_suggestionscount "
                                             "FROM user_behavior_daily")}
    assert legacy == {A: (5, 6), B: (8, 0)}
