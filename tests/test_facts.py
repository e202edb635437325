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
from kiro_analytics.names import Names
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


def test_month_ranges_join_consecutive_months_and_split_at_ninety():
    assert facts.month_ranges([date(2026, 1, 5), date(2026, 2, 1), date(2026, 4, 30)]) == [
        (date(2026, 1, 1), date(2026, 2, 28)), (date(2026, 4, 1), date(2026, 4, 30))]
    months = [date(2018 + n // 12, n % 12 + 1, 1) for n in range(100)]  # 2018-01 .. 2026-04
    assert facts.month_ranges(months) == [(date(2018, 1, 1), date(2025, 6, 30)), (date(2025, 7, 1), date(2026, 4, 30))]
    assert facts.month_end(date(2024, 2, 3)) == date(2024, 2, 29) and facts.month_end(date(9999, 12, 1)) == date(
        9999, 12, 31)


def test_touched_months_are_the_folders_and_every_month_their_lines_report_on_before_or_after():
    folder = "2026-05-01"
    before = [{"source_day": folder, "source_path": "s3://b/old", "first_activity_date": "2026-04-30",
               "last_activity_date": "2026-05-01"},
              {"source_day": "2026-07-01", "source_path": "s3://b/other", "first_activity_date": "2026-07-01",
               "last_activity_date": "2026-07-01"}]  # a folder not loaded: its months are not reloaded
    after = [{"source_day": folder, "source_path": "s3://b/new", "first_activity_date": "2026-06-02",
              "last_activity_date": "2026-06-02"}]
    assert facts.touched_months([date(2026, 5, 1)], before, after) == [date(2026, 4, 1), date(2026, 5, 1),
                                                                       date(2026, 6, 1)]
    assert facts.touched_months([date(2026, 5, 1)]) == [date(2026, 5, 1)]  # rows without spans: the folder's


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

    by_name = {fact.name: fact for fact in load_facts(_config())}
    for name in facts.LINE_FACTS:  # both line facts; model_message_facts selects f.<column> and c.<cell>
        created = [column for column, _ in _fact_columns(by_name[name].sql)]
        load = facts.fact_statement(name, "load", "db", date(2026, 5, 1), date(2026, 5, 1))
        target = re.search(rf"INSERT INTO db\.{name} \((.*?)\)\nSELECT", load, re.S).group(1)
        selected = re.search(r"\nSELECT\n(.*?)\nFROM ", load, re.S).group(1)
        assert [c.strip() for c in target.split(",")] == created
        assert [re.sub(r"^[fc]\.|^.* AS ", "", c.strip()) for c in re.split(r",\n", selected)] == created


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
    assert con.execute("SELECT count(*) FROM model_message_facts").fetchall() == [(3,)]  # one auto cell a line
    by_name = {each.name: each for each in load_facts(config)}

    def load_day() -> None:
        # The line facts of the day, in the job's order (facts.LINE_FACTS): the parse, then the model cells.
        for name in facts.LINE_FACTS:
            statements = fact_statements(by_name[name], config, date(2026, 5, 1), date(2026, 5, 1))
            for kind in ("delete", "load"):
                con.execute(fact_to_duckdb(statements[kind], kind, config.database))

    load_day()
    assert _day_figures(con, "2026-05-01") == [(A, 12.25, 6), (B, 2.0, 1)]  # the new export, counted once
    assert _day_figures(con, "2026-05-02") == [(A, 7.0, 2)]  # the other day untouched
    assert con.execute("SELECT sum(messages) FROM model_usage_daily WHERE activity_date = DATE '2026-05-01'"
                       ).fetchall() == [(6,)]  # auto: 5 (A, re-sent) + 1 (B), not 3 + 5 + 1 + 1
    # The ledger's counts are an aggregate per file and month (source_file_facts): the month is reloaded after the
    # day, as the facts job does (facts.touched_months).
    month = fact_statements(by_name["source_file_facts"], config, date(2026, 5, 1), date(2026, 5, 31))
    for kind in ("delete", "load"):
        con.execute(fact_to_duckdb(month[kind], kind, config.database))
    assert con.execute("SELECT export_stamp, rows_used, rows_superseded FROM ingest_ledger "
                       "WHERE activity_date = DATE '2026-05-01' ORDER BY export_stamp").fetchall() == [
        ("202605020205", 0, 2), ("202605040930", 2, 0)]
    # Both exports' cells are kept (as their lines are); model_usage_daily sums the used lines' only.
    assert con.execute("SELECT count(*) FROM model_message_facts").fetchall() == [(5,)]
    # Loading the same day again changes nothing: the delete removes exactly what the load adds.
    load_day()
    assert con.execute("SELECT count(*) FROM report_line_facts").fetchall() == [(8,)]
    assert con.execute("SELECT count(*) FROM model_message_facts").fetchall() == [(5,)]
    assert _day_figures(con, "2026-05-01") == [(A, 12.25, 6), (B, 2.0, 1)]
    assert con.execute("SELECT sum(messages) FROM model_usage_daily WHERE activity_date = DATE '2026-05-01'"
                       ).fetchall() == [(6,)]
    con.close()


def _month_figures(con):
    return con.execute("SELECT userid, credits_used, active_days FROM monthly_user_credits "
                       "WHERE month = DATE '2026-05-01' ORDER BY userid").fetchall()


def test_duckdb_a_resent_old_day_reloads_the_aggregates_of_its_month(tmp_path):
    # The aggregates (user_month_facts, user_active_days) hold months: the re-sent 05-01 changes May's sums, which
    # the monthly views read from them, so the month is deleted and loaded again after the day's facts.
    config = _config()
    data = tmp_path / "data"
    _write(data, FIRST)
    result = engine.build(data, tmp_path / "out", config, materialise=False)
    con = duckdb.connect(str(result.db_path))
    assert _month_figures(con) == [(A, 17.5, 2), (B, 2.0, 1)]  # A: 10.5 + 7.0 over two days
    assert con.execute("SELECT credits_used FROM tier_summary WHERE subscription_tier = 'PRO'").fetchall() == [(19.5,)]

    _write(data, [RESENT])
    path = str(data / RESENT[0])
    for line in RESENT[1].splitlines():
        con.execute('INSERT INTO user_report_raw VALUES (?, ?, ?, ?)', [line, REGION, "2026/05/01", path])
    by_name = {fact.name: fact for fact in load_facts(config)}
    day = fact_statements(by_name["report_line_facts"], config, date(2026, 5, 1), date(2026, 5, 1))
    for kind in ("delete", "load"):
        con.execute(fact_to_duckdb(day[kind], kind, config.database))
    assert _month_figures(con) == [(A, 17.5, 2), (B, 2.0, 1)]  # the day alone: May's sums are not yet renewed

    months = facts.month_ranges(facts.touched_months([date(2026, 5, 1)]))
    assert months == [(date(2026, 5, 1), date(2026, 5, 31))]
    for _ in range(2):  # a second reload of the month changes nothing: the delete removes what the load adds
        for name in facts.aggregate_names():
            month = fact_statements(by_name[name], config, *months[0])
            for kind in ("delete", "load"):
                con.execute(fact_to_duckdb(month[kind], kind, config.database))
        assert _month_figures(con) == [(A, 19.25, 2), (B, 2.0, 1)]  # 12.25 (re-sent) + 7.0, counted once
        assert con.execute("SELECT credits_used FROM tier_summary WHERE subscription_tier = 'PRO'").fetchall() == [
            (21.25,)]
        assert con.execute("SELECT count(*) FROM user_active_days").fetchall() == [(3,)]  # A twice, B once
        assert con.execute("SELECT count(*) FROM user_month_facts").fetchall() == [(2,)]
    con.close()


@pytest.mark.parametrize("reading", ["daily", "running_total"])
def test_the_month_sums_equal_the_daily_view_summed_per_month(tmp_path, reading):
    # user_month_facts.load.sql restates user_credit_daily's per-day readings over the filtered days (so the date
    # range reaches the facts): on the sample, under either plans.overage_reading, its rows are that view's days
    # summed per month.
    from dataclasses import replace

    from kiro_analytics.config import load_config
    from kiro_analytics.local import sample_data
    from local_expected import ROOT, SAMPLE_DAYS, SAMPLE_END, SAMPLE_USERS

    manifest = sample_data.generate(tmp_path / "data", users=SAMPLE_USERS, days=SAMPLE_DAYS, end=SAMPLE_END)
    users = sample_data.write_user_map(manifest, tmp_path / "users.csv")
    config = replace(load_config(str(ROOT / "config.example.yaml")), overage_reading=reading)
    result = engine.build(tmp_path / "data", tmp_path / "out", config, users, materialise=False)
    con = duckdb.connect(str(result.db_path), read_only=True)
    columns = ("month, userid, region, first_active, last_active, active_days, round(credits_used, 6), "
               "round(overage_credits_used, 6), overage_total_decreased, overage_clients_equal, "
               "overage_clients_differ, overage_days, overage_rising_days, total_messages")
    kept = con.execute(f"SELECT {columns} FROM user_month_facts ORDER BY ALL").fetchall()
    daily = con.execute(
        f"SELECT {columns} FROM (SELECT month, userid, region, min(activity_date) AS first_active, "
        "max(activity_date) AS last_active, count(*) AS active_days, sum(credits_used) AS credits_used, "
        "sum(overage_credits_used) AS overage_credits_used, "
        "bool_or(overage_total_decreased) AS overage_total_decreased, "
        "bool_or(overage_clients_equal) AS overage_clients_equal, "
        "bool_or(overage_clients_differ) AS overage_clients_differ, "
        "count(CASE WHEN overage_reported > 0 THEN 1 END) AS overage_days, "
        "count(CASE WHEN overage_rose THEN 1 END) AS overage_rising_days, "
        "TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages "
        "FROM user_credit_daily GROUP BY month, userid, region) ORDER BY ALL").fetchall()
    con.close()
    assert len(kept) > 50 and kept == daily
    if reading == "running_total":
        assert any(row[8] for row in kept) or any(row[12] for row in kept)  # the readings were exercised


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
            # The loader's note of files without lines sits in the stack's results bucket (FactSources.state).
            s3.create_bucket(Bucket=Names(config).results_bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
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


def _views_over_facts(env) -> None:
    """Every other view, once the fact tables exist: the aggregates' loads read views over the line facts."""
    from kiro_analytics.sqlfiles import load_views
    from kiro_analytics.views import apply_views

    views = [view for view in load_views(env["config"]) if view.name != "report_lines"]
    apply_views(env["glue"], env["athena"], Recorder(), views, env["config"].database, env["config"].workgroup)


def _noted(env):
    """The loader's note of files without lines, as the refresh left it in S3 ({} when there is none)."""
    state = fact_sources(env["config"]).state
    return facts.read_state(env["s3"], state)


def _put(env, reports) -> None:
    for key, text in reports:
        env["s3"].put_object(Bucket=env["config"].bucket_name, Key=key, Body=text.encode("utf-8"))


def _refresh(env, loaded, after=None, remaining=None, clock=CLOCK):
    """One refresh, the fact_files query answered with ``loaded`` (the paths the facts hold, by day) before the
    load and with ``after`` (default: ``loaded``) when the loader looks again after loading."""
    config, standin = env["config"], env["standin"]

    def rows(pairs):
        return [{"source_day": day, "source_path": f"s3://{config.bucket_name}/{key}"} for day, key in pairs]

    asked = []

    def answer(sql):
        if "FROM report_line_facts" not in sql or "GROUP BY" not in sql:
            return None
        asked.append(sql)
        return rows(loaded if len(asked) == 1 else (loaded if after is None else after))

    standin.answers[:] = [answer]
    standin.sql.clear()
    result = facts.refresh_facts(env["athena"], env["s3"], config.database, config.workgroup, fact_sources(config),
                                 date(2026, 5, 5), clock=clock, remaining=remaining)
    for sql in standin.sql:
        validate_request("athena", "StartQueryExecution", {"QueryString": sql, "WorkGroup": config.workgroup,
                                                           "QueryExecutionContext": {"Database": config.database}})
    # Each statement as one line, its comment lines (every file opens with its why) dropped.
    return result, [" ".join(" ".join(line for line in sql.splitlines() if not line.strip().startswith("--")).split())
                    for sql in standin.sql]


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


def _model_ranges(sent):
    """(delete | load, first, last) of the model cells' statements sent (their load reads the line facts)."""
    found = []
    for sql in sent:
        match = re.search(r"^(DELETE FROM|INSERT INTO) \w+\.model_message_facts .*source_day BETWEEN DATE "
                          r"'([-0-9]+)' AND DATE '([-0-9]+)'", sql)
        if match:
            assert match.group(1) == "DELETE FROM" or ".report_line_facts AS f" in sql, sql
            found.append(("delete" if match.group(1) == "DELETE FROM" else "load", *match.groups()[1:]))
    return found


def _month_ranges(sent):
    """(aggregate, delete | load, first, last) of the aggregate statements sent."""
    found = []
    for sql in sent:
        match = re.search(r"^(DELETE FROM|INSERT INTO) \w+\.((?!report_line_facts|model_message_facts)\w+) .*"
                          r"(?:month|activity_date|source_day) BETWEEN DATE '([-0-9]+)' AND DATE '([-0-9]+)'", sql)
        if match:
            found.append((match.group(2), "delete" if match.group(1) == "DELETE FROM" else "load", *match.groups()[2:]))
    return found


def test_athena_backfill_then_a_resent_old_day_reloads_that_day_only(athena_env):
    env = athena_env
    config = env["config"]
    created = ensure_facts(env["glue"], env["athena"], Recorder().call, load_facts(config), config.database,
                           config.workgroup)
    assert created == dict.fromkeys(["model_message_facts", "report_line_facts", "source_file_facts",
                                     "user_active_days", "user_month_facts"], "created")
    table = env["glue"].get_table(DatabaseName=config.database, Name="report_line_facts")["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    assert table["StorageDescriptor"]["Location"] == (
        f"s3://kiro-analytics-results-{ACCOUNT}-{REGION}/facts/report_line_facts/")
    # A second deploy leaves the table alone.
    env["standin"].sql.clear()
    assert ensure_facts(env["glue"], env["athena"], Recorder().call, load_facts(config), config.database,
                        config.workgroup) == dict.fromkeys(created, "unchanged")
    assert env["standin"].sql == []
    _views_over_facts(env)

    # Backfill: nothing loaded yet, two day folders listed: one range, delete then load, then the maintenance:
    # OPTIMIZE of the days just loaded, one VACUUM, and a second look at which files the facts now hold.
    _put(env, FIRST)
    loaded = [("2026-05-01", FIRST[0][0]), ("2026-05-02", FIRST[1][0])]
    result, sent = _refresh(env, [], after=loaded)
    assert result.days_loaded == [date(2026, 5, 1), date(2026, 5, 2)]
    assert _ranges(sent) == [("delete", "2026-05-01", "2026-05-02"), ("load", "2026/05/01", "2026/05/02")]
    # The model cells of the same days next, from the line facts just loaded (facts.LINE_FACTS' order).
    assert _model_ranges(sent) == [("delete", "2026-05-01", "2026-05-02"), ("load", "2026-05-01", "2026-05-02")]
    # The aggregates reloaded for the month the range reports on (delete, load, optimize each), then a second look
    # at which files the facts now hold (and the months their lines report on), and one VACUUM per table.
    assert [sql.split()[0] for sql in sent] == ["SELECT", *["DELETE", "INSERT"] * 2,
                                                *["DELETE", "INSERT", "OPTIMIZE"] * 3, "OPTIMIZE", "OPTIMIZE",
                                                "SELECT", *["VACUUM"] * 5]
    assert sent[14:16] == [f"OPTIMIZE {config.database}.{name} REWRITE DATA USING BIN_PACK "
                           "WHERE source_day BETWEEN DATE '2026-05-01' AND DATE '2026-05-02'"
                           for name in facts.LINE_FACTS]
    assert _month_ranges(sent) == [("source_file_facts", "delete", "2026-05-01", "2026-05-31"),
                                   ("source_file_facts", "load", "2026-05-01", "2026-05-31"),
                                   ("user_active_days", "delete", "2026-05-01", "2026-05-31"),
                                   ("user_active_days", "load", "2026-05-01", "2026-05-31"),
                                   ("user_month_facts", "delete", "2026-05-01", "2026-05-31"),
                                   ("user_month_facts", "load", "2026-05-01", "2026-05-31")]
    assert sent[-5:] == [f"VACUUM {config.database}.{name}" for name in [*facts.LINE_FACTS, *facts.aggregate_names()]]
    assert result.summary() == ("facts: 2 day(s) loaded (2026-05-01..2026-05-02) of 2; optimized 1 range(s); "
                                "vacuumed; aggregates reloaded for 2026-05")
    assert result.files_without_lines == 0 and not _noted(env)  # every file had lines: no note written

    # Both days loaded: the next daily run sends the small fact_files query and nothing else (no maintenance).
    result, sent = _refresh(env, loaded)
    assert result.days_loaded == [] and len(sent) == 1 and _ranges(sent) == []

    # Kiro re-sends 05-01: only that day is deleted and loaded again (the load reads both exports of the day, and
    # report_line_status keeps the newest: tested on DuckDB above).
    _put(env, [RESENT])
    result, sent = _refresh(env, loaded)
    assert result.days_loaded == [date(2026, 5, 1)]
    assert _ranges(sent) == [("delete", "2026-05-01", "2026-05-01"), ("load", "2026/05/01", "2026/05/01")]
    assert _model_ranges(sent) == [("delete", "2026-05-01", "2026-05-01"), ("load", "2026-05-01", "2026-05-01")]
    # ... and the aggregates of its month (the monthly sums it changes: tested on DuckDB above).
    assert _month_ranges(sent) == [(name, kind, "2026-05-01", "2026-05-31")
                                   for name in ("source_file_facts", "user_active_days", "user_month_facts")
                                   for kind in ("delete", "load")]


def test_athena_refuses_dml_on_a_table_that_is_not_iceberg(athena_env):
    # The stand-in is not a yes-machine: DELETE on the raw (Hive) table fails as Athena's does.
    env = athena_env
    config = env["config"]
    with pytest.raises(Exception, match="only supported for transactional tables"):
        from kiro_analytics.athena import run_query
        run_query(env["athena"], f"DELETE FROM {config.database}.user_report_raw WHERE day = '2026/05/01'",
                  config.workgroup, config.database, "bad delete", clock=CLOCK)


def test_athena_refuses_maintenance_it_would_refuse(athena_env):
    # OPTIMIZE and VACUUM work on Iceberg tables only, and OPTIMIZE's WHERE names partition columns only.
    from kiro_analytics.athena import run_query

    env = athena_env
    config, db = env["config"], env["config"].database
    ensure_facts(env["glue"], env["athena"], Recorder().call, load_facts(config), db, config.workgroup)

    def run(sql):
        return run_query(env["athena"], sql, config.workgroup, db, "maintenance", clock=CLOCK)

    with pytest.raises(Exception, match="only supported for Iceberg tables"):
        run(f"VACUUM {db}.user_report_raw")
    with pytest.raises(Exception, match="partition columns only, not activity_date"):
        run(f"OPTIMIZE {db}.report_line_facts REWRITE DATA USING BIN_PACK WHERE activity_date = DATE '2026-05-01'")
    for sql in (facts.fact_statement("report_line_facts", "optimize", db, date(2026, 5, 1), date(2026, 5, 2)),
                facts.fact_whole("report_line_facts", "vacuum", db)):
        assert run(sql) == []  # what the loader sends is accepted


def test_a_fact_table_whose_columns_changed_is_dropped_and_created_again(athena_env):
    env = athena_env
    config = env["config"]
    fact = next(each for each in load_facts(config) if each.name == "report_line_facts")
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


def test_when_one_line_fact_table_is_created_again_the_other_is_emptied_too(athena_env):
    # refresh_facts tells the loaded days from report_line_facts alone: a line fact table created or replaced on its
    # own would stay empty (or stale) while the other says every day is loaded. Both are dropped and created, so
    # every day is loaded into both; the aggregates are left alone.
    import dataclasses

    env = athena_env
    config = env["config"]
    every = load_facts(config)
    ensure_facts(env["glue"], env["athena"], Recorder().call, every, config.database, config.workgroup)
    widened = [dataclasses.replace(fact, sql=fact.sql.replace("    messages bigint\n", "    messages bigint,\n"
                                                              "    extra_column string\n"))
               if fact.name == "model_message_facts" else fact for fact in every]
    env["standin"].sql.clear()
    outcome = ensure_facts(env["glue"], env["athena"], Recorder().call, widened, config.database, config.workgroup)
    assert outcome == {"model_message_facts": "replaced (columns changed)",
                       "report_line_facts": "replaced (line facts reloaded)", "source_file_facts": "unchanged",
                       "user_active_days": "unchanged", "user_month_facts": "unchanged"}
    assert [re.search(r"^(DROP TABLE IF EXISTS \S+|CREATE TABLE IF NOT EXISTS \S+)", sql, re.M).group(1)
            for sql in env["standin"].sql] == [
        f"DROP TABLE IF EXISTS {config.database}.model_message_facts",
        f"CREATE TABLE IF NOT EXISTS {config.database}.model_message_facts",
        f"DROP TABLE IF EXISTS {config.database}.report_line_facts",
        f"CREATE TABLE IF NOT EXISTS {config.database}.report_line_facts"]
    # A new model_message_facts beside an existing report_line_facts: the same.
    env["glue"].delete_table(DatabaseName=config.database, Name="model_message_facts")
    outcome = ensure_facts(env["glue"], env["athena"], Recorder().call, widened, config.database, config.workgroup)
    assert outcome["model_message_facts"] == "created"
    assert outcome["report_line_facts"] == "replaced (line facts reloaded)"


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
    fact = next(each for each in load_facts(config) if each.name == "report_line_facts")
    stored = [name for name, _ in _fact_columns(fact.sql)]
    assert [name for name in produced if name != "partition_day"] == stored


# ---------------------------------------------------------------------------------------------------------------
# Report files without lines count as loaded
# ---------------------------------------------------------------------------------------------------------------

EMPTY = (f"{FOLDER}/2026/05/03/00/KIRO_IDE_{ACCOUNT}_user_report_202605040205.csv", "")  # 0 bytes
BLANK = (f"{FOLDER}/2026/05/04/00/KIRO_IDE_{ACCOUNT}_user_report_202605050205.csv", "\n\n")  # bytes, no line


def test_report_files_without_lines_are_not_reloaded_on_every_run(athena_env):
    env = athena_env
    config = env["config"]
    ensure_facts(env["glue"], env["athena"], Recorder().call, load_facts(config), config.database, config.workgroup)
    _views_over_facts(env)
    loaded = [("2026-05-01", FIRST[0][0]), ("2026-05-02", FIRST[1][0])]
    _put(env, [*FIRST, EMPTY, BLANK])

    # 05-03's file has 0 bytes: its size says it holds no line, so its day is current without a load. 05-04's has
    # bytes but no line: it is loaded once, the facts still do not hold it afterwards, so the loader notes it.
    result, sent = _refresh(env, loaded)
    assert result.days_loaded == [date(2026, 5, 4)]
    assert _ranges(sent) == [("delete", "2026-05-04", "2026-05-04"), ("load", "2026/05/04", "2026/05/04")]
    blank = f"s3://{config.bucket_name}/{BLANK[0]}"
    etag = env["s3"].head_object(Bucket=config.bucket_name, Key=BLANK[0])["ETag"]
    assert _noted(env) == {blank: etag} and result.files_without_lines == 1
    note = fact_sources(config).state
    assert note == f"s3://kiro-analytics-results-{ACCOUNT}-{REGION}/facts/_loader/files_without_lines.json"
    assert not note.startswith(f"s3://kiro-analytics-results-{ACCOUNT}-{REGION}/facts/report_line_facts/")  # VACUUM

    # The next daily runs: every day current, only the fact_files query, and the note is not rewritten.
    for _ in range(2):
        result, sent = _refresh(env, loaded)
        assert result.days_loaded == [] and len(sent) == 1, sent
    assert result.summary() == "facts: unchanged (4 day folder(s) current)"

    # The same key written again with lines (a new ETag): the note no longer covers it, so the day loads again,
    # and the note is emptied once the facts hold the file.
    env["s3"].put_object(Bucket=config.bucket_name, Key=BLANK[0],
                         Body=(HEADER + "\n" + _line("2026-05-04", A, 1.0, 1, 1) + "\n").encode())
    result, sent = _refresh(env, loaded, after=[*loaded, ("2026-05-04", BLANK[0])])
    assert result.days_loaded == [date(2026, 5, 4)]
    assert _noted(env) == {}


def test_a_missing_or_foreign_note_only_costs_a_reload(athena_env):
    env = athena_env
    config = env["config"]
    bucket, key = facts._split_s3(fact_sources(config).state)
    assert facts.read_state(env["s3"], fact_sources(config).state) == {}  # no note yet: no error
    env["s3"].put_object(Bucket=bucket, Key=key, Body=b"not json")
    assert facts.read_state(env["s3"], fact_sources(config).state) == {}
    assert facts.read_state(env["s3"], "") == {}  # a FACT_SOURCES from before the note: nothing kept
    # A dry run of a first deploy: step 1 only planned the results bucket, so there is no note to read.
    assert facts.read_state(env["s3"], "s3://no-such-results-bucket/facts/_loader/files_without_lines.json") == {}


# ---------------------------------------------------------------------------------------------------------------
# The Lambda's time limit: stop before the deadline, leave the rest, say it
# ---------------------------------------------------------------------------------------------------------------

class _Context:
    """A Lambda context on a fake clock: each Athena query started costs ``per_query`` seconds."""

    def __init__(self, athena, budget: float, per_query: float) -> None:
        self.now = 0.0
        self.budget = budget
        athena.meta.events.register("before-call.athena.StartQueryExecution", self._tick)
        self.per_query = per_query

    def _tick(self, **_kwargs) -> None:
        self.now += self.per_query

    def get_remaining_time_in_millis(self) -> int:
        return int((self.budget - self.now) * 1000)


def test_the_lambda_stops_before_its_deadline_and_leaves_the_rest_for_the_next_run(athena_env, monkeypatch):
    from kiro_analytics import lambda_handler

    env = athena_env
    config = env["config"]
    ensure_facts(env["glue"], env["athena"], Recorder().call, load_facts(config), config.database, config.workgroup)
    _views_over_facts(env)
    # Three day folders in three ranges (not consecutive): 05-01, 05-03, 05-05.
    reports = [FIRST[0], _report("2026-05-03", "202605040205", [(A, 1.0, 1, 1)]),
               _report("2026-05-05", "202605060205", [(B, 3.0, 2, 2)])]
    _put(env, reports)
    monkeypatch.setenv("DATABASE", config.database)
    monkeypatch.setenv("WORKGROUP", config.workgroup)
    monkeypatch.setenv("FACT_SOURCES", fact_sources(config).to_json())
    monkeypatch.setattr(lambda_handler, "make_facts_clients", lambda: {"athena": env["athena"], "s3": env["s3"]})
    held = []
    env["standin"].answers[:] = [lambda sql: [{"source_day": d, "source_path": f"s3://{config.bucket_name}/{k}"}
                                              for d, k in held] if "FROM report_line_facts" in sql else None]
    # 40 s a query, 1000 s left: fact_files (t=40), 05-01's delete and load of both line facts, the three
    # aggregates' delete, load and optimize for 2026-05, the day's two optimizes (t=640: 600 s for one day). 05-03
    # would need 600 s + RESERVE (120) but 360 are left: it is not started. The second look and the five VACUUMs
    # fit (t=880).
    context = _Context(env["athena"], budget=1000, per_query=40)
    answer = lambda_handler.run_facts(dict(__import__("os").environ), context, today=date(2026, 5, 6))
    assert answer["days_loaded"] == ["2026-05-01"]
    assert answer["days_left"] == ["2026-05-03", "2026-05-05"]
    assert answer["summary"] == ("facts: 1 day(s) loaded (2026-05-01) of 3; optimized 1 range(s); vacuumed; "
                                 "aggregates reloaded for 2026-05; 2 day(s) left for the next run "
                                 "(2026-05-03, 2026-05-05): the function's time ran out")
    assert context.now <= context.budget - 30  # ended with time to spare, not killed at 900 s
    assert answer["vacuumed"] is True

    # The next run (a new invocation, a new 1000 s) finds the two days still changed and loads one more.
    held[:] = [("2026-05-01", reports[0][0])]
    context = _Context(env["athena"], budget=1000, per_query=40)
    answer = lambda_handler.run_facts(dict(__import__("os").environ), context, today=date(2026, 5, 6))
    assert answer["days_loaded"] == ["2026-05-03"] and answer["days_left"] == ["2026-05-05"]

    # A run that cannot load even one range fails (the errors alarm), naming the days and step 5, rather than
    # stopping at the same place every day in silence.
    context = _Context(env["athena"], budget=200, per_query=40)
    with pytest.raises(Exception, match=r"not even 2026-05-05 could be loaded .* \(1 changed day\(s\) wait: "
                                        r"2026-05-05\); load them with step 5"):
        lambda_handler.run_facts(dict(__import__("os").environ), context, today=date(2026, 5, 6))

    # Step 5 has no deadline: everything left loads in one run.
    held[:] = [("2026-05-01", reports[0][0]), ("2026-05-03", reports[1][0])]
    result = facts.refresh_facts(env["athena"], env["s3"], config.database, config.workgroup, fact_sources(config),
                                 date(2026, 5, 6), clock=CLOCK)
    assert result.days_loaded == [date(2026, 5, 5)] and result.days_left == []


class _SlowAthena:
    """An Athena whose query never finishes: the deadline must stop it rather than leave it to commit later."""

    def __init__(self) -> None:
        self.stopped = []

    def start_query_execution(self, **params):
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId):
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, "Status": {"State": "RUNNING"}}}

    def stop_query_execution(self, QueryExecutionId):
        self.stopped.append(QueryExecutionId)
        return {}


def test_a_query_that_would_outlive_the_function_is_stopped_and_said():
    now = [0.0]
    clock = Clock(now=lambda: now[0], sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    athena = _SlowAthena()
    runner = facts._Runner(athena, "db", "wg", timeout=600, clock=clock, call=None,
                           remaining=lambda: 300 - now[0])
    with pytest.raises(facts.OutOfTime):
        runner.rows("INSERT INTO db.report_line_facts SELECT 1", "a load", keep=120)
    assert athena.stopped == ["q-1"]
    assert 180 <= now[0] < 300 - 60  # waited until 120 s before the deadline, then stopped it
    # Without a deadline (step 5) the same wait ends at the query timeout, as a failure naming what it waited for.
    plain = facts._Runner(_SlowAthena(), "db", "wg", timeout=50, clock=clock, call=None, remaining=None)
    with pytest.raises(Exception, match="timed out after 50s waiting for a load"):
        plain.rows("INSERT INTO db.report_line_facts SELECT 1", "a load")
    # No time left at all: nothing is started.
    late = facts._Runner(_SlowAthena(), "db", "wg", timeout=600, clock=clock, call=None, remaining=lambda: 100)
    with pytest.raises(facts.OutOfTime):
        late.rows("DELETE FROM db.report_line_facts", "a delete", keep=120)
    assert late.athena.stopped == []
