"""The local engine and its CLI: atomic rebuilds, refusals that name files, exit codes."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from kiro_analytics.config import load_config
from kiro_analytics.errors import EXIT_BAD_INPUT, EXIT_OK, InputError
from kiro_analytics.local import engine
from kiro_analytics.local.__main__ import main
from kiro_analytics.local.translate import to_duckdb
from kiro_analytics.sqlfiles import SqlObject, load_views
from local_expected import ROOT
from test_local_quirks import REGION, make_bucket

CONFIG = load_config(str(ROOT / "config.example.yaml"))


def test_untranslatable_function_is_refused_naming_the_file():
    view = SqlObject("v", "view", Path("sql/views/v.sql"),
                     "CREATE OR REPLACE VIEW kiro_analytics.v AS SELECT format_datetime(now(), 'yyyy') AS x")
    with pytest.raises(InputError, match=r"sql/views/v\.sql: uses .*no verified DuckDB translation"):
        to_duckdb(view, "kiro_analytics")


def test_views_lose_the_database_qualifier():
    sql = to_duckdb(next(v for v in load_views(CONFIG) if v.name == "user_activity_daily"), "kiro_analytics")
    assert "kiro_analytics." not in sql and "FROM user_report_latest" in sql


def test_missing_report_folder_is_an_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no AWSLogs/ folder"):
        engine.build(tmp_path / "empty", tmp_path / "out", CONFIG)


def test_rebuild_replaces_and_failed_build_keeps_the_old_db(tmp_path):
    make_bucket(tmp_path / "data")
    config = replace(CONFIG, account_id="111122223333", prefix="kiro/", report_regions=(REGION,))
    first = engine.build(tmp_path / "data", tmp_path / "out", config)
    assert first.users == 4 and first.row_counts["user_mapping"] == 0
    assert first.total_credits == pytest.approx(500.5 + 100.25 + 1200.0 + 299.5 + 20.0 + 100.0)
    second = engine.build(tmp_path / "data", tmp_path / "out", config, tmp_path / "data" / "users.csv")
    assert second.db_path == first.db_path and second.row_counts["user_mapping"] == 4
    with pytest.raises(InputError):
        engine.build(tmp_path / "data", tmp_path / "out", config, tmp_path / "no-such-users.csv")
    con = duckdb.connect(str(first.db_path), read_only=True)
    assert con.execute("SELECT count(*) FROM user_names").fetchall() == [(3,)]
    con.close()


def test_cli_builds_sample_and_reports(tmp_path, capsys):
    code = main(["--config", str(ROOT / "config.example.yaml"), "--out", str(tmp_path / "out"),
                 "--users-count", "6", "--days", "20"])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    out = captured.out
    assert f"DuckDB: {tmp_path / 'out' / 'kiro_analytics.duckdb'}" in out and "users: 6; " in out
    assert f"dashboard: {tmp_path / 'out' / 'dashboard.html'}" in out
    assert re.search(r"ingest ledger: read \d+ files, \d+ lines: \d+ used, \d+ superseded by re-sent exports, "
                     r"0 rejected", out)
    assert (tmp_path / "out" / "sample-data" / "AWSLogs").is_dir()
    # What it is doing, before each long part; and nothing staged left behind.
    assert [line.split(" (")[0].split(" under ")[0] for line in captured.err.splitlines()] == [
        "generating sample data", "reading the report files", f"building {len(load_views(CONFIG))} views ...",
        "rendering dashboard.html and 4 analysis pages ..."]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "analysis-admin-overview.html", "analysis-cost-optimization.html", "analysis-feature-adoption.html",
        "analysis-user-behavior.html", "dashboard.html", "kiro_analytics.duckdb", "sample-data",
        "sample-seat-roster.csv", "sample-user-map.csv"]


def test_cli_bad_data_folder_exit_code(tmp_path, capsys):
    code = main(["--config", str(ROOT / "config.example.yaml"), "--data", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1 and "data folder not found" in err


def test_materialised_tables_equal_plain_views(tmp_path):
    """The default build stores each view's rows as a table; as DuckDB views they give the same rows."""
    users = make_bucket(tmp_path / "data")
    config = replace(CONFIG, account_id="111122223333", prefix="kiro/", report_regions=(REGION,))
    tables = engine.build(tmp_path / "data", tmp_path / "tables", config, users)
    views = engine.build(tmp_path / "data", tmp_path / "views", config, users, materialise=False)
    assert tables.row_counts == views.row_counts
    a, b = (duckdb.connect(str(r.db_path), read_only=True) for r in (tables, views))
    kinds = dict(b.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds["user_summary"] == "VIEW" and kinds["user_report_raw"] == "BASE TABLE"
    # The parse view (read once, by the fact load) inlines its WITH queries, as Trino does: DuckDB then reads the raw
    # tables twice rather than holding every line while the per-file header aggregate runs (issue 12, 20k users).
    for con in (a, b):
        (parse,), = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'report_lines'").fetchall()
        assert "raw AS NOT MATERIALIZED" in parse and "lines AS NOT MATERIALIZED" in parse
        (other,), = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'report_line_status'"
                                " UNION ALL SELECT sql FROM duckdb_tables() WHERE table_name = 'report_line_status'"
                                ).fetchall()
        assert "NOT MATERIALIZED" not in other
    for view in load_views(config):
        assert sorted(a.table(view.name).fetchall(), key=repr) == sorted(b.table(view.name).fetchall(), key=repr)
    a.close()
    b.close()


def test_partition_columns_follow_the_projection_template(tmp_path):
    """region = the first folder below LOCATION, day = the next three (yyyy/MM/dd, as Athena projects it); files in
    the 00 folder below a day and deeper are read, as Athena reads everything under a partition's folder."""
    root = tmp_path / "bucket" / f"AWSLogs/{CONFIG.account_id}/KiroLogs/user_report"
    header = "Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used," \
             "Overage_Enabled,ProfileId,Subscription_Tier,Total_Messages\n"
    row = "2026-02-10,3c1d2e3f-0000-1111-2222-333344445555,KIRO_IDE,1,2.5,0,0,false,p,PRO,4\n"
    for folder in ("us-east-1/2026/02/10/00", "eu-west-1/2026/02/11/00/late"):
        (root / folder).mkdir(parents=True)
        (root / folder / "r.csv").write_text(header + row, encoding="utf-8")
    built = engine.build(tmp_path / "bucket", tmp_path / "out", replace(CONFIG, report_regions=("us-east-1",
                                                                                              "eu-west-1")))
    with duckdb.connect(str(built.db_path), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT region, day FROM user_report_raw ORDER BY 1").fetchall()
    assert rows == [("eu-west-1", "2026/02/11"), ("us-east-1", "2026/02/10")]
