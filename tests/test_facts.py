"""The fact tables (sql/facts/): which day folders a refresh loads, and a re-sent export of an old day replacing that
day's facts without a double count, on both engines: DuckDB running the same delete and load statements over a
database built from hand-made files, and Athena (moto + the stand-in) receiving them, checked on the SQL it got."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import boto3
import duckdb
import pytest
from kiro_analytics import facts
from kiro_analytics.config import parse_config
from kiro_analytics.local import engine
from kiro_analytics.local.translate import fact_to_duckdb
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.request_validation import validate_request
from kiro_analytics.sqlfiles import fact_sources, fact_statements, load_facts, load_tables
from kiro_analytics.tables import ensure_tables
from kiro_analytics.views import ensure_facts
from moto import mock_aws
from moto.moto_api import state_manager
from standins.athena import athena_catalog

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)
A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
ACCOUNT, REGION = "111122223333", "eu-west-1"
HEADER = ("Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used,"
          "Overage_Enabled,ProfileId,Subscription_Tier,Total_Messages,auto_messages")
FOLDER = f"AWSLogs/{ACCOUNT}/KiroLogs/user_report/{REGION}"


def _line(day: str, user: str, credits: float, messages: int, auto: int) -> str:
    return f'{day},"{user}",KIRO_IDE,1,{credits},1000.0,0.0,false,"arn:p",PRO,{messages},{auto}'


def _report(day: str, stamp: str, rows) -> tuple:
    folder = day.replace("-", "/")
    key = f"{FOLDER}/{folder}/00/KIRO_IDE_{ACCOUNT}_user_report_{stamp}.csv"
    return key, "\n".join([HEADER, *(_line(day, *row) for row in rows)]) + "\n"


FIRST = [_report("2026-05-01", "202605020205", [(A, 10.5, 4, 3), (B, 2.0, 1, 1)]),
         _report("2026-05-02", "202605030205", [(A, 7.0, 2, 2)])]
# Kiro re-sends 05-01 on 05-04: A's day is now 12.25 credits, 6 messages; B is unchanged.
RESENT = _report("2026-05-01", "202605040930", [(A, 12.25, 6, 5), (B, 2.0, 1, 1)])


def _config():
    return parse_config({
        "aws": {"account_id": ACCOUNT, "region": REGION},
        "s3": {"bucket_name": "facts-test-bucket", "first_report_day": "2026-04-01"},
        "identity_center": {"identity_store_id": "d-1234567890"},
        "quicksight": {"user_arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/admin"},
    })


# ---------------------------------------------------------------------------------------------------------------
# Which days a refresh loads
# ---------------------------------------------------------------------------------------------------------------

def test_day_ranges_join_consecutive_days_and_split_at_ninety():
    d = date(2026, 1, 1)
    assert facts.day_ranges([d, d + timedelta(1), d + timedelta(2), d + timedelta(9)]) == [
        (d, d + timedelta(2)), (d + timedelta(9), d + timedelta(9))]
    hundred = [d + timedelta(n) for n in range(100)]
    assert facts.day_ranges(hundred) == [(d, d + timedelta(89)), (d + timedelta(90), d + timedelta(99))]
    assert facts.day_ranges([]) == []


def test_changed_days_are_new_resent_or_removed_files():
    d1, d2, d3, d4 = (date(2026, 5, n) for n in (1, 2, 3, 4))
    listed = {d1: {"s3://b/x1"}, d2: {"s3://b/x2", "s3://b/x2-resent"}, d3: {"s3://b/x3"}}
    loaded = {d1: {"s3://b/x1"}, d2: {"s3://b/x2"}, d4: {"s3://b/x4-gone"}}
    assert facts.changed_days(listed, loaded) == [d2, d3, d4]  # d1 unchanged
    assert facts.changed_days(listed, listed) == []


def test_statements_render_the_range_in_both_forms():
    load = facts.fact_statement("report_line_facts", "load", "kiro_db", date(2026, 5, 1), date(2026, 7, 29))
    delete = facts.fact_statement("report_line_facts", "delete", "kiro_db", date(2026, 5, 1), date(2026, 7, 29))
    assert load.startswith("--") and "INSERT INTO kiro_db.report_line_facts (" in load
    assert "WHERE partition_day BETWEEN '2026/05/01' AND '2026/07/29'" in load
    assert "DELETE FROM kiro_db.report_line_facts\nWHERE source_day BETWEEN DATE '2026-05-01' AND DATE '2026-07-29'" \
        in delete
    with pytest.raises(Exception, match="empty"):
        facts.fact_statement("report_line_facts", "load", "kiro_db", date(2026, 5, 2), date(2026, 5, 1))


def test_the_load_names_every_column_of_the_table_in_order():
    # INSERT INTO ... (columns) SELECT columns: both lists equal the CREATE's columns, so no value lands in the
    # wrong column (Athena binds an INSERT by position).
    from kiro_analytics.views import _fact_columns

    fact = load_facts(_config())[0]
    created = [name for name, _ in _fact_columns(fact.sql)]
    load = facts.fact_statement(fact.name, "load", "db", date(2026, 5, 1), date(2026, 5, 1))
    target = re.search(r"INSERT INTO db\.report_line_facts \((.*?)\)\nSELECT", load, re.S).group(1)
    selected = re.search(r"\nSELECT\n(.*?)\nFROM ", load, re.S).group(1)
    assert [c.strip() for c in target.split(",")] == created
    assert [c.strip() for c in selected.split(",")] == created


# ---------------------------------------------------------------------------------------------------------------
# DuckDB: the same delete and load statements replace a day
# ---------------------------------------------------------------------------------------------------------------

def _write(root: Path, reports) -> None:
    for key, text in reports:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _day_figures(con, day: str):
    return con.execute(
        "SELECT userid, credits_used, total_messages FROM user_activity_daily "
        f"WHERE activity_date = DATE '{day}' ORDER BY userid").fetchall()


def test_duckdb_a_resent_old_day_replaces_that_days_facts(tmp_path):
    config = _config()
    data = tmp_path / "data"
    _write(data, FIRST)
    result = engine.build(data, tmp_path / "out", config, materialise=False)
    con = duckdb.connect(str(result.db_path))
    assert _day_figures(con, "2026-05-01") == [(A, 10.5, 4), (B, 2.0, 1)]
    assert con.execute("SELECT count(*) FROM report_line_facts").fetchall() == [(5,)]  # 2 headers, 3 lines

    # The re-sent export arrives in the 05-01 folder; the raw table gets its lines as Athena would read them.
    _write(data, [RESENT])
    path = str(data / RESENT[0])
    for line in RESENT[1].splitlines():
        con.execute('INSERT INTO user_report_raw VALUES (?, ?, ?, ?)', [line, REGION, "2026/05/01", path])
    fact = load_facts(config)[0]
    statements = fact_statements(fact, config, date(2026, 5, 1), date(2026, 5, 1))
    for kind in ("delete", "load"):
        con.execute(fact_to_duckdb(statements[kind], kind, config.database))

    assert _day_figures(con, "2026-05-01") == [(A, 12.25, 6), (B, 2.0, 1)]  # the new export, counted once
    assert _day_figures(con, "2026-05-02") == [(A, 7.0, 2)]  # the other day untouched
    assert con.execute("SELECT sum(messages) FROM model_usage_daily WHERE activity_date = DATE '2026-05-01'"
                       ).fetchall() == [(6,)]  # auto: 5 (A, re-sent) + 1 (B), not 3 + 5 + 1 + 1
    assert con.execute("SELECT export_stamp, rows_used, rows_superseded FROM ingest_ledger "
                       "WHERE activity_date = DATE '2026-05-01' ORDER BY export_stamp").fetchall() == [
        ("202605020205", 0, 2), ("202605040930", 2, 0)]
    # Loading the same day again changes nothing: the delete removes exactly what the load adds.
    for kind in ("delete", "load"):
        con.execute(fact_to_duckdb(statements[kind], kind, config.database))
    assert con.execute("SELECT count(*) FROM report_line_facts").fetchall() == [(8,)]
    assert _day_figures(con, "2026-05-01") == [(A, 12.25, 6), (B, 2.0, 1)]
    con.close()


# ---------------------------------------------------------------------------------------------------------------
# Athena: the stand-in receives the same statements, for the changed days only
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture
def athena_env():
    config = _config()
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    try:
        with mock_aws(), athena_catalog() as standin:
            s3 = boto3.client("s3", region_name=REGION)
            s3.create_bucket(Bucket=config.bucket_name, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.create_bucket(Bucket="results", CreateBucketConfiguration={"LocationConstraint": REGION})
            glue = boto3.client("glue", region_name=REGION)
            glue.create_database(DatabaseInput={"Name": config.database})
            athena = boto3.client("athena", region_name=REGION)
            athena.create_work_group(Name=config.workgroup, Configuration={
                "ResultConfiguration": {"OutputLocation": "s3://results/athena/"},
                "EnforceWorkGroupConfiguration": True})
            ensure_tables(glue, athena, Recorder().call, load_tables(config), config.database, config.workgroup,
                          clock=CLOCK)
            # report_lines, which the load reads (step 5 creates it before the facts).
            from kiro_analytics.sqlfiles import load_views
            from kiro_analytics.views import apply_views
            views = [view for view in load_views(config) if view.name == "report_lines"]
            apply_views(glue, athena, Recorder(), views, config.database, config.workgroup)
            standin.sql.clear()
            yield {"config": config, "s3": s3, "glue": glue, "athena": athena, "standin": standin}
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def _put(env, reports) -> None:
    for key, text in reports:
        env["s3"].put_object(Bucket=env["config"].bucket_name, Key=key, Body=text.encode("utf-8"))


def _refresh(env, loaded):
    """One refresh, the fact_files query answered with ``loaded`` (the paths the facts hold, by day)."""
    config, standin = env["config"], env["standin"]
    answer = [{"source_day": day, "source_path": f"s3://{config.bucket_name}/{key}"} for day, key in loaded]
    standin.answers[:] = [lambda sql: answer if "FROM report_line_facts" in sql and "GROUP BY" in sql else None]
    standin.sql.clear()
    result = facts.refresh_facts(env["athena"], env["s3"], config.database, config.workgroup, fact_sources(config),
                                 date(2026, 5, 5), clock=CLOCK)
    for sql in standin.sql:
        validate_request("athena", "StartQueryExecution", {"QueryString": sql, "WorkGroup": config.workgroup,
                                                           "QueryExecutionContext": {"Database": config.database}})
    return result, [" ".join(sql.split()) for sql in standin.sql]


def _ranges(sent):
    dml = []
    for sql in sent:
        delete = re.search(r"DELETE FROM \w+\.report_line_facts WHERE source_day BETWEEN DATE '([-0-9]+)' AND "
                           r"DATE '([-0-9]+)'", sql)
        load = re.search(r"INSERT INTO \w+\.report_line_facts .* FROM \w+\.report_lines WHERE partition_day BETWEEN "
                         r"'([/0-9]+)' AND '([/0-9]+)'$", sql)
        if delete:
            dml.append(("delete", *delete.groups()))
        elif load:
            dml.append(("load", *load.groups()))
    return dml


def test_athena_backfill_then_a_resent_old_day_reloads_that_day_only(athena_env):
    env = athena_env
    config = env["config"]
    created = ensure_facts(env["glue"], env["athena"], Recorder().call, load_facts(config), config.database,
                           config.workgroup)
    assert created == {"report_line_facts": "created"}
    table = env["glue"].get_table(DatabaseName=config.database, Name="report_line_facts")["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    assert table["StorageDescriptor"]["Location"] == (
        f"s3://kiro-analytics-results-{ACCOUNT}-{REGION}/facts/report_line_facts/")
    # A second deploy leaves the table alone.
    env["standin"].sql.clear()
    assert ensure_facts(env["glue"], env["athena"], Recorder().call, load_facts(config), config.database,
                        config.workgroup) == {"report_line_facts": "unchanged"}
    assert env["standin"].sql == []

    # Backfill: nothing loaded yet, two day folders listed: one range, delete then load.
    _put(env, FIRST)
    result, sent = _refresh(env, [])
    assert result.days_loaded == [date(2026, 5, 1), date(2026, 5, 2)]
    assert _ranges(sent) == [("delete", "2026-05-01", "2026-05-02"), ("load", "2026/05/01", "2026/05/02")]
    assert result.summary() == "facts: 2 day(s) loaded (2026-05-01..2026-05-02) of 2"

    # Both days loaded: the next daily run sends the small fact_files query and nothing else.
    loaded = [("2026-05-01", FIRST[0][0]), ("2026-05-02", FIRST[1][0])]
    result, sent = _refresh(env, loaded)
    assert result.days_loaded == [] and len(sent) == 1 and _ranges(sent) == []

    # Kiro re-sends 05-01: only that day is deleted and loaded again (the load reads both exports of the day, and
    # report_line_status keeps the newest: tested on DuckDB above).
    _put(env, [RESENT])
    result, sent = _refresh(env, loaded)
    assert result.days_loaded == [date(2026, 5, 1)]
    assert _ranges(sent) == [("delete", "2026-05-01", "2026-05-01"), ("load", "2026/05/01", "2026/05/01")]


def test_athena_refuses_dml_on_a_table_that_is_not_iceberg(athena_env):
    # The stand-in is not a yes-machine: DELETE on the raw (Hive) table fails as Athena's does.
    env = athena_env
    config = env["config"]
    with pytest.raises(Exception, match="only supported for transactional tables"):
        from kiro_analytics.athena import run_query
        run_query(env["athena"], f"DELETE FROM {config.database}.user_report_raw WHERE day = '2026/05/01'",
                  config.workgroup, config.database, "bad delete", clock=CLOCK)


def test_a_fact_table_whose_columns_changed_is_dropped_and_created_again(athena_env):
    env = athena_env
    config = env["config"]
    fact = load_facts(config)[0]
    ensure_facts(env["glue"], env["athena"], Recorder().call, [fact], config.database, config.workgroup)
    import dataclasses
    widened = dataclasses.replace(fact, sql=fact.sql.replace("    header_columns int,",
                                                             "    header_columns int,\n    extra_column string,"))
    env["standin"].sql.clear()
    outcome = ensure_facts(env["glue"], env["athena"], Recorder().call, [widened], config.database, config.workgroup)
    assert outcome == {"report_line_facts": "replaced (columns changed)"}
    assert env["standin"].sql[0].splitlines()[-1] == f"DROP TABLE IF EXISTS {config.database}.report_line_facts"
    columns = env["glue"].get_table(DatabaseName=config.database, Name="report_line_facts")["Table"][
        "StorageDescriptor"]["Columns"]
    assert {"Name": "extra_column", "Type": "string"} in columns


def test_fact_tables_named_once_match_the_files():
    from kiro_analytics.names import FACT_TABLES

    assert list(FACT_TABLES) == facts.fact_names() == [fact.name for fact in load_facts(_config())]


def test_the_facts_hold_every_column_the_parse_gives():
    # A column added to report_lines (the parse) but not to the fact table would be dropped silently.
    from kiro_analytics.local.translate import parse_athena
    from kiro_analytics.sqlfiles import load_views
    from kiro_analytics.views import _fact_columns

    config = _config()
    parse = next(view for view in load_views(config) if view.name == "report_lines")
    produced = [select.alias_or_name for select in parse_athena(parse.sql, "report_lines").expression.selects]
    stored = [name for name, _ in _fact_columns(load_facts(config)[0].sql)]
    assert [name for name in produced if name != "partition_day"] == stored
