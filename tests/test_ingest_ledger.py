"""Nothing read silently wrong: a hand-made bucket with every kind of bad input, each file's fate written out,
and the ingest ledger checked to account for every line of every file (here and on the generated sample)."""

from __future__ import annotations

import bz2
import gzip
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Dict, List, Tuple

import duckdb
import pytest
from kiro_analytics.config import parse_config
from kiro_analytics.ingest_ledger import REASONS, LedgerTotals
from kiro_analytics.local import engine
from local_expected import ROOT, sample_build

A = "aaaaaaaa-2222-4000-8000-000000000001"
B = "bbbbbbbb-2222-4000-8000-000000000002"
C = "cccccccc-2222-4000-8000-000000000003"
D, E, F, G, H = (f"{letter * 8}-2222-4000-8000-00000000000{n}" for n, letter in enumerate("defab", start=4))
ACCOUNT, REGION, OTHER_REGION = "222233334444", "eu-west-1", "us-east-1"
ARN = f'"arn:aws:codewhisperer:{REGION}:{ACCOUNT}:profile/P1"'
NAMES = ["Date", "UserId", "Client_Type", "Chat_Conversations", "Credits_Used", "Overage_Cap", "Overage_Credits_Used",
         "Overage_Enabled", "ProfileId", "Subscription_Tier", "Total_Messages"]
FIXED = ",".join(NAMES)
LEGACY = "UserId,Date,Chat_AICodeLines,Chat_MessagesSent,Inline_SuggestionsCount"


def row(day: str, user: str, client: str = "KIRO_IDE", credits: str = "10.0", messages: str = "3",
        chats: str = "1") -> List[str]:
    return [day, f'"{user}"', client, chats, credits, "1000.0", "0.0", "false", ARN, "PRO", messages]


def line(cells: List[str]) -> str:
    return ",".join(cells)


# file key -> (lines_read, used, superseded, {reason: count}); header lines are not "read" lines.
EXPECTED: Dict[str, Tuple[int, int, int, Dict[str, int]]] = {}
CREDITS: Dict[Tuple[str, str, str, str], float] = {}  # (day, user, client, region) -> credits the views must show


def write(root: Path, family: str, day: int, name: str, text: bytes, region: str = REGION) -> Path:
    folder = "KiroLogs" if family != "qdev" else "QDeveloperLogs"
    sub = "user_report" if family == "user_report" else "by_user_analytic"
    path = root / "AWSLogs" / ACCOUNT / folder / sub / region / f"2026/05/{day:02d}/00" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    return path


def stamp(day: int, hour: str = "02") -> str:
    """Kiro exports a day at about 02:00 UTC the next day."""
    return f"202605{day + 1:02d}{hour}00"


def ur(day: int, client: str = "KIRO_IDE", hour: str = "02") -> str:
    return f"{client}_{ACCOUNT}_user_report_{stamp(day, hour)}.csv"


def legacy(day: int) -> str:
    return f"{ACCOUNT}_by_user_analytic_{stamp(day, '03')}_report.csv"


def make_bad_bucket(root: Path) -> Dict[str, Path]:
    files: Dict[str, Path] = {}

    def add(key, family, day, name, lines, expected, region=REGION):
        files[key] = write(root, family, day, name, ("\n".join(lines) + "\n").encode("utf-8"), region)
        EXPECTED[key] = expected

    add("good", "user_report", 1, ur(1), [FIXED, line(row("2026-05-01", A, credits="10.0")),
                                        line(row("2026-05-01", B, credits="20.0"))], (2, 2, 0, {}))
    CREDITS.update({("2026-05-01", A, "KIRO_IDE", REGION): 10.0, ("2026-05-01", B, "KIRO_IDE", REGION): 20.0})
    # Another column order, spaces around names, upper-case DATE: bound by name all the same.
    order = list(reversed(range(len(NAMES))))
    header = " , ".join(NAMES[i] for i in order).replace("Date", "DATE")
    add("reordered", "user_report", 2, ur(2, "KIRO_CLI"),
        [f" {header} ", line([row("2026-05-02", A, "KIRO_CLI", "7.5")[i] for i in order])], (1, 1, 0, {}))
    CREDITS[("2026-05-02", A, "KIRO_CLI", REGION)] = 7.5
    # UserId as the last column (no comma after its name): still a header, bound by name.
    last = [i for i in range(len(NAMES)) if NAMES[i] != "UserId"] + [NAMES.index("UserId")]
    add("userid_last", "user_report", 20, ur(20), [",".join(NAMES[i] for i in last),
                                                 line([row("2026-05-20", B, credits="3.5")[i] for i in last])],
        (1, 1, 0, {}))
    CREDITS[("2026-05-20", B, "KIRO_IDE", REGION)] = 3.5
    # MM-DD-YYYY (the legacy report's format) is read; anything else is a bad date, not a vanished file.
    add("dates", "user_report", 3, ur(3), [FIXED, line(row("05-03-2026", A, credits="5.0")),
                                         line(row("2026/05/03", B, credits="6.0"))], (2, 1, 0, {"bad date": 1}))
    CREDITS[("2026-05-03", A, "KIRO_IDE", REGION)] = 5.0
    add("renamed", "user_report", 4, ur(4), [FIXED.replace(",Credits_Used,", ",Credits,"),
                                           line(row("2026-05-04", A)), line(row("2026-05-04", B))],
        (2, 0, 0, {"missing required column": 2}))
    add("numbers", "user_report", 5, ur(5, "PLUGIN"), [
        FIXED, line(row("2026-05-05", A, "PLUGIN", "abc")), line(row("2026-05-05", B, "PLUGIN", "")),
        line(row("2026-05-05", C, "PLUGIN", "1.25e1", chats="")), line(row("2026-05-05", A, "KIRO_IDE", "2", "1.5"))],
        (4, 1, 0, {"bad number": 3}))
    CREDITS[("2026-05-05", C, "PLUGIN", REGION)] = 12.5
    # The last line was cut off (no newline after it either): not a phantom user.
    files["truncated"] = write(root, "user_report", 6, ur(6), "\n".join([
        FIXED, line(row("2026-05-06", A, credits="1.0")), line(row("2026-05-06", B, credits="2.0")),
        f'2026-05-06,"{C}",KIRO_IDE,1,5']).encode("utf-8"))
    EXPECTED["truncated"] = (3, 2, 0, {"truncated line": 1})
    CREDITS.update({("2026-05-06", A, "KIRO_IDE", REGION): 1.0, ("2026-05-06", B, "KIRO_IDE", REGION): 2.0})
    add("headerless", "user_report", 7, ur(7), [line(row("2026-05-07", A)), line(row("2026-05-07", B))],
        (2, 0, 0, {"no header": 2}))
    quoted = row("2026-05-08", A)
    quoted[9] = '"Pro, Plus"'
    add("quoted", "user_report", 8, ur(8), [FIXED, line(quoted), line(row("2026-05-08", B, credits="4.0"))],
        (2, 1, 0, {"extra fields (a comma in a field)": 1}))
    CREDITS[("2026-05-08", B, "KIRO_IDE", REGION)] = 4.0
    # The same user, day and client in two regions: two profiles, both count.
    add("region_a", "user_report", 9, ur(9), [FIXED, line(row("2026-05-09", A, credits="30.0"))], (1, 1, 0, {}))
    add("region_b", "user_report", 9, ur(9), [FIXED, line(row("2026-05-09", A, credits="40.0"))], (1, 1, 0, {}),
        region=OTHER_REGION)
    CREDITS.update({("2026-05-09", A, "KIRO_IDE", REGION): 30.0, ("2026-05-09", A, "KIRO_IDE", OTHER_REGION): 40.0})
    # Names Athena reads too: gzip and bzip2 by suffix, upper-case .CSV; hidden names it skips.
    files["gzip"] = write(root, "user_report", 10, ur(10) + ".gz", gzip.compress(
        (FIXED + "\n" + line(row("2026-05-10", A, credits="11.0")) + "\n").encode("utf-8")))
    EXPECTED["gzip"] = (1, 1, 0, {})
    files["bzip2"] = write(root, "user_report", 10, ur(10, "KIRO_CLI") + ".bz2", bz2.compress(
        (FIXED + "\n" + line(row("2026-05-10", C, "KIRO_CLI", credits="13.0")) + "\n").encode("utf-8")))
    EXPECTED["bzip2"] = (1, 1, 0, {})
    add("upper", "user_report", 10, ur(10, "PLUGIN")[:-4] + ".CSV",
        [FIXED, line(row("2026-05-10", B, "PLUGIN", credits="12.0"))], (1, 1, 0, {}))
    CREDITS.update({("2026-05-10", A, "KIRO_IDE", REGION): 11.0, ("2026-05-10", B, "PLUGIN", REGION): 12.0,
                    ("2026-05-10", C, "KIRO_CLI", REGION): 13.0})
    for hidden in ("_SUCCESS", ".DS_Store"):
        write(root, "user_report", 10, hidden, (FIXED + "\n" + line(row("2026-05-10", C, credits="999.0"))).encode())
    # A Latin-1 byte in an e-mail address: that line is rejected and named; the file goes on.
    files["latin1"] = write(root, "user_report", 11, ur(11), (FIXED + ",User_Email\n").encode() +
                            line(row("2026-05-11", A, credits="9.0")).encode() + b",caf\xe9@example.com\n" +
                            (line(row("2026-05-11", B, credits="8.0")) + ",b@example.com\n").encode())
    EXPECTED["latin1"] = (2, 1, 0, {"not UTF-8": 1})
    CREDITS[("2026-05-11", B, "KIRO_IDE", REGION)] = 8.0
    # A re-sent export: the older copy's A line is superseded, its B line (not re-sent) is used.
    add("resent_old", "user_report", 12, ur(12, hour="01"),
        [FIXED, line(row("2026-05-12", A, credits="99.0")), line(row("2026-05-12", B, credits="5.0"))],
        (2, 1, 1, {}))
    add("resent_new", "user_report", 12, ur(12, hour="14"), [FIXED, line(row("2026-05-12", A, credits="50.0"))],
        (1, 1, 0, {}))
    CREDITS.update({("2026-05-12", A, "KIRO_IDE", REGION): 50.0, ("2026-05-12", B, "KIRO_IDE", REGION): 5.0})
    add("twice", "user_report", 13, ur(13), [FIXED + ",Credits_Used", line([*row("2026-05-13", A), "7.0"])],
        (1, 0, 0, {"unknown header layout": 1}))
    add("no_id", "user_report", 14, ur(14),
        [FIXED, line(row("2026-05-14", "")), line(row("2026-05-14", B, credits="3.0"))], (2, 1, 0, {"no user id": 1}))
    CREDITS[("2026-05-14", B, "KIRO_IDE", REGION)] = 3.0
    # A re-sent export whose line is broken does not hide the older, readable one (and the ledger shows it).
    add("resent_ok", "user_report", 15, ur(15, hour="01"), [FIXED, line(row("2026-05-15", A, credits="6.0"))],
        (1, 1, 0, {}))
    add("resent_bad", "user_report", 15, ur(15, hour="14"), [FIXED, line(row("2026-05-15", A, credits="6,5"))],
        (1, 0, 0, {"extra fields (a comma in a field)": 1}))
    CREDITS[("2026-05-15", A, "KIRO_IDE", REGION)] = 6.0
    # Numbers that are no credits: negative, not a number, infinite, beyond the largest double (1.7976931348623157E308),
    # a negative cap, a count that fits no BIGINT. Each is 'bad number' (in Athena too: tests/test_sql_parity.py);
    # 1.0e2 is a hundred credits.
    extremes = [row("2026-05-16", A, credits="-1.0"), row("2026-05-16", B, credits="NaN"),
                row("2026-05-16", C, credits="Infinity"), row("2026-05-16", D, credits="1e999"),
                row("2026-05-16", E, credits="1.7976931348623159E308"), row("2026-05-16", F, credits="2.5"),
                row("2026-05-16", G, credits="1.0e2"), row("2026-05-16", H, chats="99999999999999999999")]
    extremes[5][5] = "-1000.0"
    add("extremes", "user_report", 16, ur(16), [FIXED, *map(line, extremes)], (8, 1, 0, {"bad number": 7}))
    CREDITS[("2026-05-16", G, "KIRO_IDE", REGION)] = 100.0
    # Header detection is by name: a line of words is a bad data line (not a second header that would reject the
    # file); a header without UserId is no header, so the file's lines, that one included, are 'no header'.
    add("stray_words", "user_report", 17, ur(17), [FIXED, line(row("2026-05-17", A, credits="2.0")), "Total,Summary"],
        (2, 1, 0, {"truncated line": 1}))
    CREDITS[("2026-05-17", A, "KIRO_IDE", REGION)] = 2.0
    add("no_userid", "user_report", 18, ur(18), [FIXED.replace(",UserId,", ",User,"), line(row("2026-05-18", A)),
                                               line(row("2026-05-18", B))], (3, 0, 0, {"no header": 3}))
    # A model column: added (drift), moved to the front (the same names: no drift), then written with hyphens
    # (drift: another name, and not in the form Kiro writes). Each is read by its name.
    add("model_added", "user_report", 16, ur(16, "PLUGIN"), [FIXED + ",claude_sonnet_4_messages",
                                                           line([*row("2026-05-16", A, "PLUGIN", "1.0"), "4"])],
        (1, 1, 0, {}))
    add("model_moved", "user_report", 17, ur(17, "PLUGIN"), ["claude_sonnet_4_messages," + FIXED,
                                                           line(["5", *row("2026-05-17", A, "PLUGIN", "1.0")])],
        (1, 1, 0, {}))
    add("model_hyphen", "user_report", 18, ur(18, "PLUGIN"), [FIXED + ",claude-sonnet-4_messages",
                                                            line([*row("2026-05-18", A, "PLUGIN", "1.0"), "6"])],
        (1, 1, 0, {}))
    # The same hyphens in the next export: the names did not change, but they are still not Kiro's form: drift.
    add("model_hyphen_again", "user_report", 19, ur(19, "PLUGIN"), [FIXED + ",claude-sonnet-4_messages",
                                                                  line([*row("2026-05-19", A, "PLUGIN", "1.0"), "2"])],
        (1, 1, 0, {}))
    CREDITS.update({(f"2026-05-{day}", A, "PLUGIN", REGION): 1.0 for day in (16, 17, 18, 19)})
    # The legacy report: a bad number, a missing header, and two header layouts in one file.
    add("legacy_good", "legacy", 1, legacy(1),
        [LEGACY, f"{A},05-01-2026,3,4,5"], (1, 1, 0, {}))
    add("legacy_numbers", "legacy", 2, legacy(2),
        [LEGACY, f"{A},05-02-2026,3,1.5,5", f"{B},05-02-2026,,2,", f"{C},05-02-2026,1234567890,0,0"],
        (3, 1, 0, {"bad number": 2}))  # ten digits: more than a metric holds (an INTEGER of at most 9 digits)
    add("legacy_headerless", "qdev", 3, legacy(3),
        [f"{A},05-03-2026,3,4,5"], (1, 0, 0, {"no header": 1}))
    add("legacy_two_layouts", "legacy", 4, legacy(4),
        [LEGACY, f"{A},05-04-2026,3,4,5", "Date,UserId,Chat_MessagesSent", f"05-04-2026,{B},1"],
        (2, 0, 0, {"unknown header layout": 2}))
    return files


def non_blank_lines(path: Path) -> int:
    data = path.read_bytes()
    data = gzip.decompress(data) if path.name.endswith(".gz") else bz2.decompress(data) if path.name.endswith(
        ".bz2") else data
    return sum(1 for text in data.split(b"\n") if text.strip())


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    files = make_bad_bucket(root / "data")
    config = parse_config({
        "aws": {"account_id": ACCOUNT, "region": REGION},
        # The bucket has reports in two regions; the tables (and so the local engine) read only these folders.
        "s3": {"bucket_name": "bad-input-bucket", "prefix": "", "report_regions": [REGION, OTHER_REGION]},
        "identity_center": {"identity_store_id": "d-2222222222"},
        "quicksight": {"user_arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/admin"},
    })
    result = engine.build(root / "data", root / "out", config)
    con = duckdb.connect(str(result.db_path), read_only=True)
    yield con, result, files
    con.close()


def ledger_rows(con) -> Dict[str, dict]:
    cursor = con.execute("SELECT * FROM ingest_ledger")
    names = [column[0] for column in cursor.description]
    return {row[names.index("source_path")]: dict(zip(names, row)) for row in cursor.fetchall()}


def test_every_bad_file_is_in_the_ledger_with_its_fate(bad):
    con, _, files = bad
    rows = ledger_rows(con)
    assert set(rows) == {str(path) for path in files.values()}  # hidden files are not read, nothing vanished
    for key, path in files.items():
        got = rows[str(path)]
        read, used, superseded, reasons = EXPECTED[key]
        rejected = {REASONS[column]: got[column] for column in REASONS if got[column]}
        assert (got["lines_read"], got["rows_used"], got["rows_superseded"], rejected) == \
            (read, used, superseded, reasons), key
        assert got["rows_rejected"] == sum(reasons.values()), key


def test_the_ledger_accounts_for_every_line_of_every_file(bad):
    con, result, files = bad
    rows = ledger_rows(con)
    for key, path in files.items():
        got = rows[str(path)]
        assert got["lines_read"] == got["rows_used"] + got["rows_superseded"] + got["rows_rejected"], key
        assert got["lines_read"] + got["header_lines"] == non_blank_lines(path), key
    totals = result.ledger
    assert totals.files == len(files) == 32 and totals.balanced
    assert totals.lines_read == sum(e[0] for e in EXPECTED.values()) == 58
    assert (totals.rows_used, totals.rows_superseded, totals.rows_rejected) == (27, 1, 30)
    assert dict(totals.by_reason) == dict(sum((Counter(e[3]) for e in EXPECTED.values()), Counter()))
    assert totals.files_with_rejections == 16 and len(totals.worst_files) == 5


def test_only_the_lines_the_ledger_used_reach_the_numbers(bad):
    con, _, _ = bad
    got = {(r[0].isoformat(), r[1], r[2], r[4]): r[3] for r in con.execute(
        "SELECT activity_date, userid, client_type, credits_used, region FROM user_activity_daily").fetchall()}
    assert got == CREDITS
    # Two regions are two rows, summed by every daily view; C's empty Chat_Conversations reads 0.
    assert con.execute("SELECT credits_used FROM daily_summary WHERE activity_date = DATE '2026-05-09'").fetchall() \
        == [(70.0,)]
    assert con.execute(f"SELECT chat_conversations FROM user_activity_daily WHERE userid = '{C}' "
                       "AND client_type = 'PLUGIN'").fetchall() == [(0,)]
    behaviour = {(r[0].isoformat(), r[1]): r[2:] for r in con.execute(
        "SELECT activity_date, userid, chat_aicodelines, chat_messagessent, inline_suggestionscount "
        "FROM user_behavior_daily").fetchall()}
    assert behaviour == {("2026-05-01", A): (3, 4, 5), ("2026-05-02", B): (0, 2, 0)}


def test_user_days_are_the_days_and_users_of_used_lines_only(bad):
    """user_days reads the valid fact lines directly (one scan, no dedup): a rejected line, which still has its
    day and user, must not make that user active that day."""
    con, _, _ = bad
    got = {(r[0].isoformat(), r[1]) for r in con.execute("SELECT activity_date, userid FROM user_days").fetchall()}
    assert got == {(day, user) for day, user, _client, _region in CREDITS} | {("2026-05-01", A), ("2026-05-02", B)}


def test_freshness_sees_reordered_headers_and_us_dates(bad):
    con, _, _ = bad
    rows = {(r[0], r[1], r[2]): r[3] for r in con.execute(
        "SELECT activity_date, source, client_type, rows FROM report_freshness").fetchall()}
    assert rows[(date(2026, 5, 2), "user_report", "KIRO_CLI")] == 1   # the reordered, spaced header
    assert rows[(date(2026, 5, 3), "user_report", "KIRO_IDE")] == 1   # the MM-DD-YYYY line (the other: bad date)


def test_ledger_days_clients_and_drift(bad):
    con, _, files = bad
    rows = ledger_rows(con)
    headerless = rows[str(files["headerless"])]
    assert (headerless["activity_date"], headerless["client_type"], headerless["header"]) == \
        (date(2026, 5, 7), "KIRO_IDE", None)  # the day from the folder, the client from the file name
    assert rows[str(files["legacy_good"])]["client_type"] == "ALL"
    assert rows[str(files["region_b"])]["region"] == OTHER_REGION
    assert rows[str(files["reordered"])]["header"].startswith("total_messages,subscription_tier,")
    drifted = {key for key, path in files.items() if rows[str(path)]["header_drift"]}
    # Against the previous export of the same stream (KIRO_IDE in eu-west-1, by stamp): Credits_Used renamed, then
    # back; User_Email came, then went; Credits_Used named twice, then once. After a file without a header there is
    # nothing to compare with. KIRO_CLI: the bzip2 file has the columns in the usual order, the one before reversed:
    # the same names, no drift. PLUGIN: a model column added, then moved (no drift), then written with hyphens,
    # twice (the second time the same names as before, but still not in Kiro's form).
    assert drifted == {"renamed", "truncated", "latin1", "resent_old", "twice", "no_id", "model_added",
                       "model_hyphen", "model_hyphen_again"}
    models = {(r[0].day, r[1]): r[2] for r in con.execute(
        f"SELECT activity_date, model, messages FROM model_usage_daily WHERE userid = '{A}' AND client_type = 'PLUGIN'"
    ).fetchall()}
    assert models == {(16, "claude_sonnet_4"): 4, (17, "claude_sonnet_4"): 5, (18, "claude-sonnet-4"): 6,
                      (19, "claude-sonnet-4"): 2}


def test_the_local_build_names_the_bad_byte_and_what_it_skipped(bad):
    _, result, files = bad
    notes = "\n".join(result.notes)
    assert f"{files['latin1']}: line 2 is not UTF-8 (byte 0xe9 at column " in notes
    assert "_SUCCESS" not in notes and ".DS_Store" not in notes


def test_summary_line_names_the_reasons_and_the_worst_files(bad):
    _, result, files = bad
    text = result.ledger.summary()
    assert text.startswith("read 32 files, 58 lines: 27 used, 1 superseded by re-sent exports, rejected 30 lines "
                           "in 16 files (")
    assert "12 bad number" in text and "2 truncated line" in text and "6 no header" in text
    assert "2 extra fields (a comma in a field)" in text
    assert f"{files['extremes']}: 7 (bad number)" in text and "and 11 more files" in text
    assert f"{files['legacy_numbers']}: 2 (bad number)" in text


def test_summary_of_a_clean_ledger():
    totals = LedgerTotals.from_rows({"files": "3", "lines_read": "10", "rows_used": "9", "rows_superseded": "1",
                                     "rows_rejected": "0", "files_with_rejections": "0",
                                     "files_with_header_drift": "1"})
    assert totals.summary() == "read 3 files, 10 lines: 9 used, 1 superseded by re-sent exports, 0 rejected; " \
        "header changed in 1 files"
    assert totals.balanced


def test_reasons_listed_here_are_the_ones_the_sql_writes():
    lines = (ROOT / "sql" / "views" / "report_lines.sql").read_text(encoding="utf-8")
    ledger = (ROOT / "sql" / "views" / "ingest_ledger.sql").read_text(encoding="utf-8")
    # The counts per file and month are the facts job's (source_file_facts); the ledger sums a file's months.
    counts = (ROOT / "sql" / "facts" / "source_file_facts.load.sql").read_text(encoding="utf-8")
    for column, reason in REASONS.items():
        assert f"THEN '{reason}'" in lines, reason
        assert f"reject_reason = '{reason}' THEN 1 END) AS {column}" in counts, column
        assert f"TRY_CAST(sum({column}) AS BIGINT) AS {column}" in ledger, column
    assert lines.count("THEN '") - lines.count("WHEN 'user_report' THEN '") >= len(REASONS)


def test_the_sample_ledger_balances_and_rejects_nothing():
    sample = sample_build()
    rows = sample.query("SELECT source_path, header_lines, lines_read, rows_used, rows_superseded, rows_rejected "
                        "FROM ingest_ledger")
    assert len(rows) == len(sample.manifest.report_files)
    by_path = {row[0]: row[1:] for row in rows}
    for path in sample.manifest.report_files:
        header_lines, read, used, superseded, rejected = by_path[str(path)]
        assert read == used + superseded + rejected and rejected == 0, path
        assert header_lines + read == non_blank_lines(path), path
    ledger = sample.result.ledger
    assert ledger.balanced and ledger.rows_rejected == 0 and ledger.files == len(rows)
    # Every used user_report line is one row of user_activity_daily; superseded ones are the re-sent copies.
    used = sample.query("SELECT sum(rows_used) FROM ingest_ledger WHERE source = 'user_report'")[0][0]
    assert used == sample.query("SELECT count(*) FROM user_activity_daily")[0][0] == len(sample.expected.activity)
