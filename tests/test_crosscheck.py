"""./deploy.sh --verify: Athena's per-day aggregates against a local DuckDB build of the same report files.

The comparison on its own (numbers, tolerance, missing rows, the window), then the whole command against the
emulated account: sample reports in moto's S3, the views in the catalog, Athena's SELECTs answered by DuckDB over
the same files; and one deliberately wrong Athena answer, which must come back named by its day and column.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import date, timedelta
from pathlib import Path

import boto3
import pytest
import sqlglot
from athena_duckdb import duckdb_answers
from aws_steps import SCRIPTS, context
from conftest import write_config
from kiro_analytics.athena import load_query
from kiro_analytics.config import load_config
from kiro_analytics.crosscheck import QUERIES, Difference, compare, keyed
from kiro_analytics.errors import InputError, StepFailed
from kiro_analytics.local import engine
from kiro_analytics.local.sample_data import generate
from kiro_analytics.local.translate import functions_used, parse_athena
from kiro_analytics.local.window_query import windowed_query, with_fact_loads
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.sqlfiles import load_facts, load_tables, load_views
from kiro_analytics.tables import ensure_tables
from kiro_analytics.views import apply_views
from moto import mock_aws
from moto.moto_api import state_manager
from sqlglot import exp
from standins.athena import athena_catalog

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)


def test_compare_names_the_day_and_column_and_tolerates_summation_order():
    athena = [{"activity_date": "2026-02-10", "row_count": "3", "users": "2", "credits": "10.5", "overage": "0",
               "messages": "40"},
              {"activity_date": "2026-02-11", "row_count": "1", "users": "1", "credits": "0.1", "overage": None,
               "messages": "2"}]
    local = [{"activity_date": date(2026, 2, 10), "row_count": 3, "users": 2, "credits": 10.5 + 1e-12,
              "overage": 0.0, "messages": 41},
             {"activity_date": date(2026, 2, 11), "row_count": 1, "users": 1, "credits": 0.1, "overage": 0.0,
              "messages": 2}]
    assert compare("crosscheck_daily", athena, local) == [Difference("2026-02-10", "messages", 40.0, 41.0)]
    assert Difference("2026-02-10", "messages", 40.0, 41.0).line() == "2026-02-10 messages: Athena 40, local 41"
    # A day only one engine has is a difference in every column; the window leaves other days out.
    missing = compare("crosscheck_daily", athena[:1], local)
    assert {(d.day, d.column, d.athena) for d in missing} == {("2026-02-11", c, None) for c in
                                                               ("row_count", "users", "credits", "overage",
                                                                "messages")} | {("2026-02-10", "messages", 40.0)}
    assert compare("crosscheck_daily", athena[:1], local, since=date(2026, 2, 11)) == [
        Difference("2026-02-11", column, None, value) for column, value in
        (("row_count", 1.0), ("users", 1.0), ("credits", 0.1), ("overage", 0.0), ("messages", 2.0))]
    # A measure Athena's row lacks, or answers NULL for where the local sum is not zero, is a difference too, never
    # skipped; a NULL sum beside a zero one agrees (SUM over no non-NULL value is NULL in both engines).
    no_overage = [{key: value for key, value in row.items() if key != "overage"} for row in athena]
    assert compare("crosscheck_daily", no_overage, local) == [
        Difference("2026-02-10", "overage", None, 0.0), Difference("2026-02-10", "messages", 40.0, 41.0),
        Difference("2026-02-11", "overage", None, 0.0)]
    null_overage = [dict(athena[1], overage=None)]
    assert compare("crosscheck_daily", null_overage, [dict(local[1], overage=2.5)]) == [
        Difference("2026-02-11", "overage", None, 2.5)]
    assert Difference("2026-02-11", "overage", None, 2.5).line() == "2026-02-11 overage: Athena missing, local 2.5"
    models = compare("crosscheck_models", [{"activity_date": "2026-02-10", "model": "auto", "messages": "5"}],
                     [{"activity_date": date(2026, 2, 10), "model": "auto", "messages": 6}])
    assert [d.line() for d in models] == ["2026-02-10 auto messages: Athena 5, local 6"]
    assert keyed("crosscheck_models", [{"activity_date": "2026-02-10", "model": "auto", "messages": "5"}]) == {
        ("2026-02-10", "auto"): {"messages": 5.0}}


@pytest.fixture(scope="module")
def sample_and_build(tmp_path_factory):
    """The sample reports and their DuckDB build (Athena's side), made once for the module and only read: each test
    gets its own emulated account below, with its own copy of the reports in its bucket."""
    config = load_config(str(write_config(tmp_path_factory.mktemp("config") / "config.yaml")))
    tmp = tmp_path_factory.mktemp("crosscheck")
    manifest = generate(tmp / "sample", users=12, days=20, seed=5)
    return manifest, engine.build(manifest.root, tmp / "athena-side", config)


@pytest.fixture
def account(config, sample_and_build):
    """Sample reports in the bucket, the tables and views in the catalog, Athena answering from DuckDB."""
    manifest, built = sample_and_build
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    try:
        with mock_aws(), athena_catalog() as athena:
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=config.bucket_name)
            for path in [*manifest.report_files, *manifest.non_report_files]:
                s3.put_object(Bucket=config.bucket_name, Key=path.relative_to(manifest.root).as_posix(),
                              Body=path.read_bytes())
            s3.create_bucket(Bucket="results")
            glue = boto3.client("glue", region_name="us-east-1")
            client = boto3.client("athena", region_name="us-east-1")
            glue.create_database(DatabaseInput={"Name": config.database})
            client.create_work_group(Name=config.workgroup, Configuration={
                "ResultConfiguration": {"OutputLocation": "s3://results/athena/"}})
            ensure_tables(glue, client, Recorder().call, load_tables(config), config.database, config.workgroup,
                          clock=CLOCK)
            apply_views(glue, client, Recorder(), load_views(config), config.database, config.workgroup)
            athena.answer(duckdb_answers(built.db_path, config.database))
            yield {"athena": athena, "built": built, "s3": s3, "manifest": manifest}
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def _verify(config, tmp_path: Path, *argv: str) -> str:
    path = SCRIPTS / "crosscheck.py"
    spec = importlib.util.spec_from_file_location("crosscheck_script", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    ctx = context(config, 0, tmp_path)
    ctx.args = module.build_parser().parse_args(list(argv))
    return module.action(ctx)


def test_verify_agrees_on_every_day_of_the_sample(account, config, tmp_path, capsys):
    honest = duckdb_answers(account["built"].db_path, config.database)
    days = len({row["activity_date"] for name in QUERIES for row in honest(load_query(name))})
    assert days >= 15
    result = _verify(config, tmp_path)
    assert result == (f"Athena and DuckDB agree on {days} day(s): rows, users, credits, overage, messages, "
                      "messages per model, the legacy report's metrics, the ingest ledger's lines")
    assert f"downloaded {len(account['manifest'].report_files)} report file(s)" in capsys.readouterr().out
    # Both queries reached Athena, and only SELECTs: --verify changes nothing.
    sent = account["athena"].sql
    assert all(load_query(name) in sent for name in QUERIES) and len(QUERIES) == 4


def test_a_wrong_athena_answer_is_reported_with_its_day_and_column(account, config, tmp_path):
    honest = duckdb_answers(account["built"].db_path, config.database)
    rows = honest(load_query("crosscheck_daily"))
    victim = sorted(rows, key=lambda row: row["activity_date"])[3]
    day = victim["activity_date"].isoformat()

    def off_by_one_credit(sql: str):
        if sql != load_query("crosscheck_daily"):
            return None
        return [dict(row, credits=row["credits"] + 1) if row["activity_date"] == victim["activity_date"] else row
                for row in honest(sql)]
    account["athena"].answer(off_by_one_credit, first=True)
    with pytest.raises(StepFailed) as failure:
        _verify(config, tmp_path)
    text = str(failure.value)
    assert "Athena and the local engine differ in 1 value(s)" in text
    expected = Difference(day, "credits", float(victim["credits"]) + 1, float(victim["credits"])).line()
    assert f"  - {expected}" in text and text.count("\n  - ") == 1


def test_a_wrong_legacy_or_ledger_answer_is_reported_with_its_day_and_column(account, config, tmp_path):
    """The legacy report and the ledger are compared too: one legacy metric off by 7 on one day, and one day's
    rows_used of the legacy ledger off by one (moved to rows_rejected, so the ledger still balances)."""
    honest = duckdb_answers(account["built"].db_path, config.database)
    legacy_rows = sorted(honest(load_query("crosscheck_legacy")), key=lambda row: row["activity_date"])
    ledger_rows = sorted(honest(load_query("crosscheck_ledger")), key=lambda row: (row["activity_date"],
                                                                                   row["source"]))
    legacy_victim = legacy_rows[2]
    ledger_victim = next(row for row in ledger_rows[4:] if row["source"] == "kiro_by_user_analytic")
    assert legacy_victim["inline_acceptancecount"] > 0 and ledger_victim["rows_used"] > 0

    def broken(sql: str):
        if sql == load_query("crosscheck_legacy"):
            return [dict(row, inline_acceptancecount=row["inline_acceptancecount"] + 7) if row is legacy_victim
                    else row for row in legacy_rows]
        if sql == load_query("crosscheck_ledger"):
            return [dict(row, rows_used=row["rows_used"] - 1, rows_rejected=row["rows_rejected"] + 1)
                    if row is ledger_victim else row for row in ledger_rows]
        return None
    account["athena"].answer(broken, first=True)
    with pytest.raises(StepFailed) as failure:
        _verify(config, tmp_path)
    text = str(failure.value)
    legacy_day, ledger_day = legacy_victim["activity_date"].isoformat(), ledger_victim["activity_date"].isoformat()
    count, used, rejected = (legacy_victim["inline_acceptancecount"], ledger_victim["rows_used"],
                             ledger_victim["rows_rejected"])
    assert "Athena and the local engine differ in 3 value(s)" in text
    assert text.count("\n  - ") == 3
    assert f"  - {legacy_day} legacy inline_acceptancecount: Athena {count + 7}, local {count}" in text
    assert f"  - {ledger_day} ledger kiro_by_user_analytic rows_used: Athena {used - 1}, local {used}" in text
    assert f"  - {ledger_day} ledger kiro_by_user_analytic rows_rejected: Athena {rejected + 1}, local {rejected}" \
        in text


def test_views_inlined_for_a_window_keep_their_meaning(config):
    """The inlined query carries each view's Athena text as sqlglot writes it back: that text reads back to itself
    and calls the same functions as the file (whether Trino accepts it only a real account shows: tests/README.md);
    and a raw table read other than alone in a FROM is refused, never left unfiltered."""
    for view in load_views(config):
        tree = parse_athena(view.sql, view.name)
        written = tree.sql(dialect="athena", comments=False)
        again = parse_athena(written, view.name)
        assert again.sql(dialect="athena", comments=False) == written, view.name
        assert functions_used(again) == functions_used(tree), view.name
    raw_read = f"FROM {config.database}.user_report_raw"
    # The views read the facts; with a window the fact table is inlined as its load's SELECT, which reads
    # report_lines, which reads the raw tables.
    loaded = with_fact_loads(load_views(config), load_facts(config), config, date(2026, 2, 1), None)
    assert [v.name for v in loaded].index("report_lines") < [v.name for v in loaded].index("report_line_facts") \
        < [v.name for v in loaded].index("report_line_status")
    views = [dataclasses.replace(view, sql=view.sql.replace(raw_read, raw_read + " CROSS JOIN (VALUES 1) AS v (x)"))
             if view.name == "report_lines" else view for view in loaded]
    assert views != loaded
    with pytest.raises(InputError, match="user_report_raw is read other than alone in a FROM"):
        windowed_query(load_query("crosscheck_daily"), views, load_tables(config), config.database,
                       date(2026, 2, 1), None)


def test_a_window_downloads_and_compares_only_its_days(account, config, tmp_path, capsys):
    rows = duckdb_answers(account["built"].db_path, config.database)(load_query("crosscheck_daily"))
    days = sorted(row["activity_date"] for row in rows)
    since, until = days[5], days[8]
    mark = len(account["athena"].sql)
    result = _verify(config, tmp_path, "--since", since.isoformat(), "--until", until.isoformat())
    assert result.startswith("Athena and DuckDB agree on 4 day(s)")
    downloaded = int(capsys.readouterr().out.split("downloaded ")[1].split()[0])
    assert 0 < downloaded < len(account["manifest"].report_files)
    # Partition pruning: each query read each raw table through a filter on its day partition, the window and
    # three days either side (what was downloaded), never a raw table or a deployed view unfiltered.
    low, high = (since - timedelta(days=3)).strftime("%Y/%m/%d"), (until + timedelta(days=3)).strftime("%Y/%m/%d")
    sent = account["athena"].sql[mark:]
    assert len(sent) == len(QUERIES)
    for sql in sent:
        tree = sqlglot.parse_one(sql, read="athena")
        raw = [table for table in tree.find_all(exp.Table) if table.name.endswith("_raw")]
        assert sorted(table.name for table in raw) == ["kiro_by_user_analytic_raw", "qdev_by_user_analytic_raw",
                                                        "user_report_raw"]
        for table in raw:
            where = table.find_ancestor(exp.Select).args["where"].this
            assert where.sql(dialect="athena") == f"\"day\" BETWEEN '{low}' AND '{high}'", sql[:200]
        # Everything else read is a WITH clause of the query (the views inlined), not a deployed view.
        ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
        assert {"report_lines", "report_line_facts", "report_line_status"} <= ctes
        assert all(table.name in ctes for table in tree.find_all(exp.Table) if not table.name.endswith("_raw"))
    # Without a window the deployed views are read as they are.
    assert windowed_query(load_query("crosscheck_daily"), load_views(config), load_tables(config), config.database,
                          None, None) == load_query("crosscheck_daily")
