"""Step 4 against moto (S3, Glue, Athena) with the Athena stand-in answering the row-count query.

Also the S3 walks behind "where are the reports": newest_report_day and describe_nearby.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Dict, List, Optional

import boto3
import pytest
from conftest import write_config
from kiro_analytics.athena import load_query
from kiro_analytics.config import load_config
from kiro_analytics.errors import StepFailed
from kiro_analytics.names import RAW_TABLES
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.report_location import describe_nearby, newest_report_day
from kiro_analytics.sqlfiles import SQL_DIR, load_tables
from kiro_analytics.tables import ensure_tables
from kiro_analytics.verify import counts_by_table, verify
from moto import mock_aws
from moto.moto_api import state_manager
from standins.athena import athena_catalog

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)
BUCKET = "kiro-reports-test"
ROOT = "AWSLogs/123456789012/KiroLogs/"


def _config(tmp_path: Path, prefix: str = ""):
    return load_config(str(write_config(tmp_path / "config.yaml", {"s3": {"prefix": prefix}})))


@pytest.fixture
def aws():
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    try:
        with mock_aws(), athena_catalog() as standin:
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            yield {"s3": s3, "glue": boto3.client("glue", region_name="us-east-1"),
                   "athena": boto3.client("athena", region_name="us-east-1"), "standin": standin}
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def _tables(aws, config) -> None:
    """The raw tables as step 1 creates them (through Athena DDL, which the stand-in applies to Glue)."""
    aws["glue"].create_database(DatabaseInput={"Name": config.database})
    aws["athena"].create_work_group(Name=config.workgroup, Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}-results/athena/"}})
    ensure_tables(aws["glue"], aws["athena"], Recorder().call, load_tables(config), config.database,
                  config.workgroup, clock=CLOCK)
    aws["standin"].sql.clear()


def _counts(aws, rows: Dict[str, tuple]) -> None:
    """Answer the row-count query with (rows, first day, last day) per table; tables left out return no row."""
    answer: List[Dict[str, Optional[str]]] = [
        {"table_name": name, "row_count": str(n), "first_day": first, "last_day": last}
        for name, (n, first, last) in rows.items()]
    aws["standin"].answer(lambda sql: answer if sql == load_query("table_day_counts") else None)


def _put(s3, *keys: str) -> None:
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")


def test_counts_days_and_no_warnings_when_fresh(aws, tmp_path):
    config = _config(tmp_path)
    _tables(aws, config)
    _counts(aws, {"user_report_raw": (42, "2026-02-10", "2026-02-20"),
                  "kiro_by_user_analytic_raw": (7, "2026-02-11", "2026-02-19"),
                  "qdev_by_user_analytic_raw": (0, None, None)})
    result = verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 23), clock=CLOCK)

    # Exactly one query, the text of sql/queries/table_day_counts.sql.
    query_file = (SQL_DIR / "queries" / "table_day_counts.sql").read_text(encoding="utf-8").strip().rstrip(";")
    assert aws["standin"].sql == [query_file]
    assert counts_by_table(result) == {"user_report_raw": 42, "kiro_by_user_analytic_raw": 7,
                                       "qdev_by_user_analytic_raw": 0}
    by_table = {count.table: count for count in result.counts}
    assert [count.table for count in result.counts] == list(RAW_TABLES)
    assert (by_table["user_report_raw"].first_day, by_table["user_report_raw"].last_day) == ("2026-02-10",
                                                                                              "2026-02-20")
    assert by_table["qdev_by_user_analytic_raw"].first_day == ""
    assert by_table["user_report_raw"].location == f"s3://{BUCKET}/{ROOT}user_report/"
    assert result.warnings == []  # 2026-02-20 is 3 days before 2026-02-23: not stale yet
    assert result.summary() == ("user_report_raw 42 rows (2026-02-10 … 2026-02-20); kiro_by_user_analytic_raw 7 rows "
                                "(2026-02-11 … 2026-02-19); qdev_by_user_analytic_raw empty")


REASON_COLUMNS = ("rejected_no_header", "rejected_header_layout", "rejected_missing_column", "rejected_not_utf8",
                  "rejected_truncated", "rejected_extra_fields", "rejected_bad_date", "rejected_no_user_id",
                  "rejected_bad_number")
LEDGER_TOTALS = {"files": "1270", "lines_read": "170104", "rows_used": "160000", "rows_superseded": "10101",
                 "rows_rejected": "3", "files_with_rejections": "2", "files_with_header_drift": "0",
                 **dict.fromkeys(REASON_COLUMNS, "0"), "rejected_bad_number": "2", "rejected_truncated": "1"}
REJECTED = [{"source_path": f"s3://{BUCKET}/{ROOT}user_report/us-east-1/2026/02/10/00/a.csv", "rows_rejected": "2",
             **dict.fromkeys(REASON_COLUMNS, "0"), "rejected_bad_number": "2"},
            {"source_path": f"s3://{BUCKET}/{ROOT}user_report/us-east-1/2026/02/11/00/b.csv", "rows_rejected": "1",
             **dict.fromkeys(REASON_COLUMNS, "0"), "rejected_truncated": "1"}]


def _ledger_view(aws, config, totals=LEDGER_TOTALS, rejected=REJECTED) -> None:
    """The ingest_ledger view as step 5 leaves it in the catalog, and Athena's answers to the two ledger queries."""
    aws["glue"].create_table(DatabaseName=config.database, TableInput={
        "Name": "ingest_ledger", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "/* Presto View */"})
    answers = {load_query("ledger_totals"): [totals], load_query("ledger_rejected_files"): rejected}
    aws["standin"].answer(lambda sql: answers.get(sql))


def test_no_ledger_totals_before_step_5_says_when_they_come(aws, tmp_path):
    config = _config(tmp_path)
    _tables(aws, config)
    _counts(aws, {"user_report_raw": (42, "2026-02-10", "2026-02-20")})
    result = verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 21), clock=CLOCK)
    assert result.ledger is None and len(aws["standin"].sql) == 1  # only the counts: the view is not there yet
    assert result.ledger_note == ("the ingest_ledger view is created by step 5; its totals print here from the next "
                                  "run of step 4 (./deploy.sh --only 4)")


def test_ledger_totals_are_read_and_rejections_warned(aws, tmp_path):
    config = _config(tmp_path)
    _tables(aws, config)
    _counts(aws, {"user_report_raw": (42, "2026-02-10", "2026-02-20")})
    _ledger_view(aws, config)
    result = verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 21), clock=CLOCK)
    assert aws["standin"].sql[1:] == [load_query("ledger_totals"), load_query("ledger_rejected_files")]
    assert result.ledger.summary() == (
        "read 1,270 files, 170,104 lines: 160,000 used, 10,101 superseded by re-sent exports, rejected 3 lines in 2 "
        f"files (1 truncated line, 2 bad number): {REJECTED[0]['source_path']}: 2 (bad number); "
        f"{REJECTED[1]['source_path']}: 1 (truncated line)")
    assert result.warnings == ["3 report lines were rejected: see the ingest ledger below and README \"What if my "
                               "numbers look wrong\""]


def test_a_ledger_that_cannot_be_read_is_a_note_not_a_failure(aws, tmp_path):
    config = _config(tmp_path)
    _tables(aws, config)
    _counts(aws, {"user_report_raw": (42, "2026-02-10", "2026-02-20")})
    aws["glue"].create_table(DatabaseName=config.database, TableInput={
        "Name": "ingest_ledger", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "/* Presto View */"})
    result = verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 21), clock=CLOCK)
    assert result.ledger is None and result.ledger_note.startswith("could not read ingest_ledger (Athena query for "
                                                                   "ingest ledger totals failed: ")
    assert result.ledger_note.endswith("run step 5, then ./deploy.sh --only 4")


def test_stale_data_and_empty_user_report_warn(aws, tmp_path):
    config = _config(tmp_path)
    _tables(aws, config)
    _counts(aws, {"user_report_raw": (0, None, None), "kiro_by_user_analytic_raw": (7, "2026-02-11", "2026-02-19"),
                  "qdev_by_user_analytic_raw": (3, "2025-10-01", "2026-02-20")})
    result = verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 24), clock=CLOCK)

    assert len(result.warnings) == 2
    stale, empty = result.warnings
    # The newest day over all tables counts (qdev's 02-20), and 4 days is more than 3.
    assert stale.startswith("newest report day is 2026-02-20, 4 days ago: is Kiro still delivering to "
                            f"s3://{BUCKET}/AWSLogs/123456789012/?")
    assert "crawler" not in stale  # the tables project their partitions: no crawl to blame
    assert empty == (f"user_report_raw is empty (s3://{BUCKET}/{ROOT}user_report/): credit and tier figures "
                     "will be blank")
    assert result.summary().endswith("; 2 warning(s)")


def test_nothing_found_names_the_locations_read_and_the_misplaced_reports(aws, tmp_path):
    config = _config(tmp_path, prefix="reports/")
    _tables(aws, config)
    _counts(aws, {name: (0, None, None) for name in RAW_TABLES})
    # The reports really are under kiro-logs/, not under the configured reports/.
    _put(aws["s3"], f"kiro-logs/{ROOT}user_report/us-east-1/2026/02/10/00/KIRO_IDE_123456789012_user_report.csv",
         "user-mapping/user_mapping.csv")
    with pytest.raises(StepFailed) as failure:
        verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 24), clock=CLOCK)
    message = str(failure.value)
    assert message.startswith("no report rows found. The tables project regions us-east-1 (s3.report_regions) and "
                              "days 2024-01-01 to today (s3.first_report_day). Looked at:\n")
    for table, folder in (("user_report_raw", "KiroLogs/user_report/"),
                          ("kiro_by_user_analytic_raw", "KiroLogs/by_user_analytic/"),
                          ("qdev_by_user_analytic_raw", "QDeveloperLogs/by_user_analytic/")):
        assert (f"  - {table}: s3://{BUCKET}/reports/AWSLogs/123456789012/{folder} (region folders there: "
                "none)\n") in message
    assert (f"What exists nearby: under the prefix s3://{BUCKET}/reports/: nothing; "
            f"under AWSLogs/ s3://{BUCKET}/reports/AWSLogs/: nothing; "
            f"at the bucket root s3://{BUCKET}/: kiro-logs/, user-mapping/\n") in message
    assert "set s3.prefix to the part before AWSLogs/" in message


def test_nothing_found_under_another_account_lists_that_accounts_folders(aws, tmp_path):
    config = _config(tmp_path)
    _tables(aws, config)
    _counts(aws, {})  # a query over empty tables can also return no row at all
    _put(aws["s3"], "AWSLogs/999999999999/KiroLogs/user_report/us-east-1/2026/02/10/00/a.csv")
    with pytest.raises(StepFailed, match="no report rows found") as failure:
        verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 24), clock=CLOCK)
    assert (f"What exists nearby: under the prefix s3://{BUCKET}/: AWSLogs/; "
            f"under AWSLogs/ s3://{BUCKET}/AWSLogs/: 999999999999/; "
            f"s3://{BUCKET}/AWSLogs/999999999999/: KiroLogs/\n") in str(failure.value)


def test_missing_table_says_run_step_1(aws, tmp_path):
    config = _config(tmp_path)
    aws["glue"].create_database(DatabaseInput={"Name": config.database})
    aws["athena"].create_work_group(Name=config.workgroup)
    _counts(aws, {"user_report_raw": (1, "2026-02-10", "2026-02-10")})
    with pytest.raises(StepFailed, match=f"table {config.database}.user_report_raw does not exist: run step 1"):
        verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 11), clock=CLOCK)


# ---------------------------------------------------------------- report_location

FAMILY = f"{ROOT}user_report/"


def test_newest_report_day_takes_the_newest_over_several_regions(aws):
    s3 = aws["s3"]
    _put(s3, f"{FAMILY}us-east-1/2026/02/28/00/a.csv", f"{FAMILY}us-east-1/2025/12/31/00/a.csv",
         f"{FAMILY}eu-central-1/2026/03/02/00/a.csv", f"{FAMILY}eu-central-1/2026/01/15/00/a.csv",
         f"{FAMILY}us-west-2/2026/03/01/00/a.csv")
    assert newest_report_day(s3, BUCKET, FAMILY) == date(2026, 3, 2)


def test_newest_report_day_ignores_non_date_folders_and_impossible_dates(aws):
    s3 = aws["s3"]
    _put(s3, f"{FAMILY}us-east-1/2026/02/10/00/a.csv",
         f"{FAMILY}us-east-1/latest/x.csv",            # not a year: ignored, not taken as "newest"
         f"{FAMILY}us-east-1/2026/tmp/x.csv",           # not a month under the newest year
         f"{FAMILY}us-east-1/2026/02/notes/x.csv",      # not a day
         f"{FAMILY}us-east-1/2026/02/10/00/b.csv",
         f"{FAMILY}ap-south-1/2026/02/31/00/a.csv",     # a day that does not exist: that region gives nothing
         f"{FAMILY}ap-south-1/README.txt",
         f"{FAMILY}eu-west-1/2026/x.csv")               # a region with no month folder
    assert newest_report_day(s3, BUCKET, FAMILY) == date(2026, 2, 10)


def test_newest_report_day_is_none_when_there_is_nothing(aws):
    assert newest_report_day(aws["s3"], BUCKET, FAMILY) is None
    _put(aws["s3"], f"{FAMILY}us-east-1/readme.txt")
    assert newest_report_day(aws["s3"], BUCKET, FAMILY) is None


def test_describe_nearby_with_an_empty_bucket_and_many_folders(aws):
    s3 = aws["s3"]
    assert describe_nearby(s3, BUCKET, "") == f"under the prefix s3://{BUCKET}/: nothing; under AWSLogs/ " \
                                              f"s3://{BUCKET}/AWSLogs/: nothing"
    _put(s3, *(f"folder{index:02d}/x" for index in range(10)))
    shown = describe_nearby(s3, BUCKET, "")
    # At most 8 folders are named, then an ellipsis.
    assert shown.startswith(f"under the prefix s3://{BUCKET}/: " + ", ".join(f"folder{i:02d}/" for i in range(8))
                            + " …;")
    assert "folder08" not in shown


def test_nothing_found_because_of_a_region_the_tables_do_not_project_says_so(aws, tmp_path):
    """Partition projection reads only s3.report_regions: reports under another region folder count zero rows, and
    the message names the folder that is there."""
    config = _config(tmp_path)
    _tables(aws, config)
    _counts(aws, {name: (0, None, None) for name in RAW_TABLES})
    _put(aws["s3"], f"{ROOT}user_report/eu-west-1/2026/02/10/00/KIRO_IDE_123456789012_user_report.csv")
    with pytest.raises(StepFailed) as failure:
        verify(aws["athena"], aws["glue"], aws["s3"], config, today=date(2026, 2, 24), clock=CLOCK)
    message = str(failure.value)
    assert f"  - user_report_raw: s3://{BUCKET}/{ROOT}user_report/ (region folders there: eu-west-1)" in message
    assert "list them in s3.report_regions" in message
