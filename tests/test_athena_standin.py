"""The Athena stand-in refuses what Athena refuses, the way Athena does: the query ends FAILED with a reason that
kiro_analytics.athena.run_query and pyathena both raise, and the catalog is left as it was.

Without this, a test could create a view over a table that was never made, re-create a table without
IF NOT EXISTS, or read 0 rows from a SELECT nobody answered, and pass.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from kiro_analytics.athena import load_query, run_query, start_query
from kiro_analytics.errors import StepFailed
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.sqlfiles import load_facts, load_tables, load_views
from kiro_analytics.tables import ensure_tables
from kiro_analytics.views import ensure_facts, pyathena_executor
from moto import mock_aws
from moto.moto_api import state_manager
from pyathena.error import OperationalError
from standins.athena import athena_catalog

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)


@pytest.fixture
def aws(config):
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    try:
        with mock_aws(), athena_catalog() as standin:
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="results")
            glue = boto3.client("glue", region_name="us-east-1")
            glue.create_database(DatabaseInput={"Name": config.database})
            athena = boto3.client("athena", region_name="us-east-1")
            athena.create_work_group(Name=config.workgroup, Configuration={
                "ResultConfiguration": {"OutputLocation": "s3://results/athena/"},
                "EnforceWorkGroupConfiguration": True})
            yield {"glue": glue, "athena": athena, "standin": standin}
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def _run(aws, config, sql):
    return run_query(aws["athena"], sql, config.workgroup, config.database, "the test query", clock=CLOCK)


def _names(aws, config):
    return sorted(t["Name"] for t in aws["glue"].get_tables(DatabaseName=config.database)["TableList"])


def _view(config, name):
    return next(view for view in load_views(config) if view.name == name)


def test_a_view_over_a_missing_table_fails_with_athenas_reason_and_is_not_stored(aws, config):
    view = _view(config, "active_users_daily")  # reads user_active_days only (an aggregate fact table)
    line = next(number for number, text in enumerate(view.sql.splitlines(), 1)
                if f"{config.database}.user_active_days" in text)
    column = view.sql.splitlines()[line - 1].index(f"{config.database}.user_active_days") + 1
    expected = (f"TABLE_NOT_FOUND: line {line}:{column}: "
                f"Table 'awsdatacatalog.{config.database}.user_active_days' does not exist")

    with pytest.raises(StepFailed, match="failed: " + expected.replace(".", r"\.")):
        _run(aws, config, view.sql)
    execute = pyathena_executor(boto3.Session(region_name="us-east-1"), "us-east-1", config.workgroup,
                                config.database)
    with pytest.raises(OperationalError, match=expected.replace(".", r"\.")):
        execute(view.sql)
    assert _names(aws, config) == []

    # Once the tables (the fact table too, which step 5 creates) exist and the views it reads were created first
    # (load_views' order), it succeeds.
    ensure_tables(aws["glue"], aws["athena"], Recorder().call, load_tables(config), config.database,
                  config.workgroup, clock=CLOCK)
    ensure_facts(aws["glue"], aws["athena"], Recorder().call, load_facts(config), config.database, config.workgroup)
    for each in load_views(config):
        _run(aws, config, each.sql)
        if each.name == view.name:
            break
    assert view.name in _names(aws, config)


def test_only_catalog_objects_count_as_reads_not_aliases_comments_or_strings(aws, config):
    db = config.database
    ensure_tables(aws["glue"], aws["athena"], Recorder().call, load_tables(config), db, config.workgroup,
                  clock=CLOCK)
    sql = (f"CREATE OR REPLACE VIEW {db}.probe AS\n"
           f"-- was {db}.old_name\n"
           f"SELECT u.line, '{db}.not_a_table' AS note\n"
           f"FROM {db}.user_report_raw AS u")
    _run(aws, config, sql)
    assert "probe" in _names(aws, config)

    with pytest.raises(StepFailed, match=rf"line 2:6: Table 'awsdatacatalog\.{db}\.user_mapping_typo'"):
        _run(aws, config, f"CREATE OR REPLACE VIEW {db}.probe2 AS SELECT 1 AS one\nFROM {db}.user_mapping_typo")
    assert "probe2" not in _names(aws, config)


def test_create_external_table_without_if_not_exists_fails_when_the_table_exists(aws, config):
    table = next(t for t in load_tables(config) if t.name == "user_report_raw")
    assert "IF NOT EXISTS" in table.sql
    _run(aws, config, table.sql)
    before = aws["glue"].get_table(DatabaseName=config.database, Name="user_report_raw")["Table"]
    _run(aws, config, table.sql)  # IF NOT EXISTS: a no-op, as in Athena

    with pytest.raises(StepFailed, match=rf"AlreadyExistsException.*Table already exists: {config.database}\."
                                         r"user_report_raw"):
        _run(aws, config, table.sql.replace("IF NOT EXISTS ", "", 1))
    after = aws["glue"].get_table(DatabaseName=config.database, Name="user_report_raw")["Table"]
    assert after["StorageDescriptor"] == before["StorageDescriptor"]


def test_an_unanswered_select_fails_instead_of_returning_no_rows(aws, config):
    sql = load_query("table_day_counts")
    with pytest.raises(StepFailed, match="stand-in has no answer for this SELECT"):
        _run(aws, config, sql)
    query_id = start_query(aws["athena"], sql, config.workgroup, config.database)
    status = aws["athena"].get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert status["State"] == "FAILED"
    assert status["AthenaError"]["ErrorMessage"] == status["StateChangeReason"]
    with pytest.raises(ClientError, match=r"Query has not yet finished\. Current state: FAILED"):
        aws["athena"].get_query_results(QueryExecutionId=query_id)

    answer = [{"table_name": "user_report_raw", "row_count": "3", "first_day": "2026-02-10", "last_day": None}]
    aws["standin"].answer(lambda text: answer if text == sql else None)
    assert _run(aws, config, sql) == [{"table_name": "user_report_raw", "row_count": "3",
                                       "first_day": "2026-02-10", "last_day": None}]
