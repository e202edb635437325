"""Partition projection: the raw tables' TBLPROPERTIES in the documented form, exactly, and the local engine reading
only the folders that projection reads (region enum from s3.report_regions, day range s3.first_report_day to NOW).

The form is Athena's (https://docs.aws.amazon.com/athena/latest/ug/partition-projection-setting-up.html and
https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html): projection.enabled;
projection.<col>.type enum | date; an enum's comma-separated projection.<col>.values; a date's projection.<col>.range
"start,end" written in projection.<col>.format (a Java DateTimeFormatter pattern) or NOW, projection.<col>.interval
and .interval.unit (YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES, SECONDS); storage.location.template naming every
partition column as ${col}. A folder no projected value names is not read at all.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import write_config
from kiro_analytics.config import load_config
from kiro_analytics.errors import InputError
from kiro_analytics.local import engine
from kiro_analytics.names import RAW_TABLES
from kiro_analytics.sqlfiles import load_tables
from kiro_analytics.tables import parse_table_ddl

ACCOUNT = "123456789012"
FOLDERS = {"user_report_raw": "KiroLogs/user_report", "kiro_by_user_analytic_raw": "KiroLogs/by_user_analytic",
           "qdev_by_user_analytic_raw": "QDeveloperLogs/by_user_analytic"}
UNITS = {"YEARS", "MONTHS", "WEEKS", "DAYS", "HOURS", "MINUTES", "SECONDS"}
HEADER = ("Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used,Overage_Enabled,"
          "ProfileId,Subscription_Tier,Total_Messages\n")


@pytest.fixture
def config(tmp_path):
    return load_config(str(write_config(tmp_path / "c.yaml", {"s3": {
        "bucket_name": "kiro-reports-test", "prefix": "kiro/", "report_regions": ["us-east-1", "eu-west-1"],
        "first_report_day": "2025-03-01"}})))


def test_raw_tables_project_their_partitions_in_exactly_the_documented_form(config):
    raw = {table.name: table for table in load_tables(config) if table.name in RAW_TABLES}
    assert sorted(raw) == sorted(FOLDERS)
    for name, folder in FOLDERS.items():
        spec = parse_table_ddl(raw[name].sql)
        location = f"s3://kiro-reports-test/kiro/AWSLogs/{ACCOUNT}/{folder}/"
        assert spec.location == location
        assert spec.partition_keys == (("region", "string"), ("day", "string"))
        assert dict(spec.table_parameters) == {
            "classification": "text",
            "projection.enabled": "true",
            "projection.region.type": "enum",
            "projection.region.values": "us-east-1,eu-west-1",
            "projection.day.type": "date",
            "projection.day.format": "yyyy/MM/dd",
            "projection.day.range": "2025/03/01,NOW",
            "projection.day.interval": "1",
            "projection.day.interval.unit": "DAYS",
            "storage.location.template": location + "${region}/${day}/",
        }, name
        properties = dict(spec.table_parameters)
        # The rules the form must keep, whatever the values: every partition key projected and in the template, in
        # order, below LOCATION; the range start written in the format; a documented unit; enum values unspaced.
        template = properties["storage.location.template"]
        assert template.startswith(spec.location)
        assert re.findall(r"\$\{(\w+)\}", template) == [key for key, _ in spec.partition_keys]
        assert {properties[f"projection.{key}.type"] for key, _ in spec.partition_keys} == {"enum", "date"}
        start, end = properties["projection.day.range"].split(",")
        assert datetime.strptime(start, "%Y/%m/%d").strftime("%Y/%m/%d") == start and end == "NOW"
        assert properties["projection.day.interval.unit"] in UNITS
        assert " " not in properties["projection.region.values"]


def _report(root: Path, folder: str, rows: int = 1) -> Path:
    path = root / "kiro" / "AWSLogs" / ACCOUNT / "KiroLogs" / "user_report" / folder / "r.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    day = "-".join(folder.split("/")[1:4]) if folder.count("/") >= 3 else "2026-02-10"
    lines = "".join(f"{day},3c1d2e3f-0000-1111-2222-33334444555{index},KIRO_IDE,1,2.5,0,0,false,p,PRO,4\n"
                    for index in range(rows))
    path.write_text(HEADER + lines, encoding="utf-8")
    return path


def test_the_local_engine_reads_only_the_folders_projection_reads(config, tmp_path):
    """Two configured region folders are read; another region, a day before s3.first_report_day, a day after today
    (NOW), a day folder spelled 2026/2/12 and an impossible 2026/02/30 are not, and the build says why."""
    data = tmp_path / "data"
    read = [_report(data, "us-east-1/2026/02/10/00"), _report(data, "eu-west-1/2026/02/11/00", rows=2),
            _report(data, "us-east-1/2025/03/01/00"),  # the range's first day is in it
            _report(data, "eu-west-1/2026/02/14/00")]  # and so is its last, today (NOW)
    for folder in ("ap-south-1/2026/02/10/00", "us-east-1/2025/02/28/00", "us-east-1/2026/02/15/00",
                   "us-east-1/2026/2/12/00", "us-east-1/2026/02/30/00"):
        _report(data, folder)
    built = engine.build(data, tmp_path / "out", config, today=date(2026, 2, 14))
    assert built.report_files["user_report_raw"] == 4
    with duckdb.connect(str(built.db_path), read_only=True) as con:
        paths = sorted(row[0] for row in con.execute('SELECT DISTINCT "$path" FROM user_report_raw').fetchall())
        lines = con.execute("SELECT count(*) FROM user_report_raw").fetchall()[0][0]
    assert paths == sorted(str(path) for path in read)
    assert lines == 4 + 1 + 2 + 1 + 1  # four headers, 1 + 2 + 1 + 1 rows
    ledger = built.ledger
    assert ledger is not None and (ledger.files, ledger.lines_read, ledger.rows_used) == (4, 5, 5)
    [note] = [n for n in built.notes if n.startswith("user_report_raw: not read")]
    assert note == ("user_report_raw: not read, as Athena's partition projection would not read them either: "
                    "1 file(s): day 2025/02/28 is before the projected range, which starts 2025-03-01 "
                    "(s3.first_report_day); "
                    "1 file(s): day 2026/02/15 is after the projected range, which ends today (2026-02-14) "
                    "(s3.first_report_day); "
                    "1 file(s): day folder 2026/02/30 is not a day in the projected format (s3.first_report_day); "
                    "1 file(s): day folder 2026/2/12 is not a day in the projected format (s3.first_report_day); "
                    "1 file(s): region ap-south-1 is not in us-east-1,eu-west-1 (s3.report_regions)")


def test_a_build_that_projection_leaves_empty_says_why_nothing_was_read(tmp_path):
    config = load_config(str(write_config(tmp_path / "c.yaml", {"s3": {
        "bucket_name": "kiro-reports-test", "prefix": "kiro/", "report_regions": ["us-east-1"],
        "first_report_day": "2026-01-01"}})))
    data = tmp_path / "data"
    _report(data, "eu-west-1/2026/02/10/00")
    _report(data, "us-east-1/2025/12/31/00")
    with pytest.raises(InputError) as failure:
        engine.build(data, tmp_path / "out", config, today=date(2026, 2, 14))
    text = str(failure.value)
    assert text.startswith("no report file is in a partition the tables project, so Athena would read none either")
    assert ("Not read: 1 file(s): day 2025/12/31 is before the projected range, which starts 2026-01-01 "
            "(s3.first_report_day); 1 file(s): region eu-west-1 is not in us-east-1 (s3.report_regions). Set "
            "s3.report_regions and s3.first_report_day to cover the reports") in text
    assert not (tmp_path / "out" / engine.DB_NAME).exists()
