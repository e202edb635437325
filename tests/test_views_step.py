"""Step 5 against moto with the Athena stand-in (which stores views in Glue as Athena does), through pyathena.

Order, idempotency, a changed definition and --dry-run are checked on the SQL Athena actually received.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import List

import boto3
import pytest
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.sqlfiles import load_facts, load_tables, load_views
from kiro_analytics.tables import ensure_tables
from kiro_analytics.views import apply_views, ensure_facts, pyathena_executor, stored_body, view_body
from moto import mock_aws
from moto.moto_api import state_manager
from standins.athena import athena_catalog

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)
_NAME = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+\w+\.(\w+)", re.I)


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
            # Step 1's raw tables, as Athena needs them before a view that reads them can be created.
            ensure_tables(glue, athena, Recorder().call, load_tables(config), config.database, config.workgroup,
                          clock=CLOCK)
            # And the fact tables, as step 5 creates them before the first view that reads them (test_facts.py).
            ensure_facts(glue, athena, Recorder().call, load_facts(config), config.database, config.workgroup)
            standin.sql.clear()
            execute = pyathena_executor(boto3.Session(region_name="us-east-1"), "us-east-1", config.workgroup,
                                        config.database)
            yield {"glue": glue, "athena": athena, "standin": standin, "execute": execute}
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def _apply(aws, config, views, recorder=None, execute=True):
    return apply_views(aws["glue"], aws["athena"], recorder or Recorder(), views, config.database, config.workgroup,
                       aws["execute"] if execute else None)


def _sent_views(aws) -> List[str]:
    return [_NAME.search(sql).group(1) for sql in aws["standin"].sql if _NAME.search(sql)]


def _stored_views(aws, config) -> List[str]:
    tables = aws["glue"].get_tables(DatabaseName=config.database)["TableList"]
    return sorted(t["Name"] for t in tables if t.get("TableType") == "VIRTUAL_VIEW")


def test_views_are_created_in_dependency_order_then_a_rerun_sends_nothing(aws, config):
    views = load_views(config)
    names = [view.name for view in views]
    result = _apply(aws, config, views)

    assert list(result) == names and set(result.values()) == {"created"}
    # Athena received exactly the rendered files (pyathena trims the final newline), in load_views order.
    assert aws["standin"].sql == [view.sql.strip() for view in views]
    sent = _sent_views(aws)
    assert sent == names
    # Independently of sqlfiles' ordering code: every view another view's body names was sent before it.
    checked = 0
    for index, view in enumerate(views):
        for other in names:
            if other != view.name and re.search(rf"\b{config.database}\.{other}\b", view_body(view.sql)):
                assert sent.index(other) < index, f"{view.name} was created before {other}, which it reads"
                checked += 1
    assert checked >= 10  # the views really do depend on each other: the order matters
    assert _stored_views(aws, config) == sorted(names)

    recorder = Recorder()
    again = _apply(aws, config, views, recorder)
    assert again == {name: "unchanged" for name in names}
    assert len(aws["standin"].sql) == len(views)  # zero StartQueryExecution on the rerun
    assert recorder.calls == []


def _leaf_and_root(views, database):
    """A view no other view reads, and one that others read, with the names of those readers."""
    bodies = {view.name: view_body(view.sql) for view in views}

    def readers(name):
        return {other for other, body in bodies.items()
                if other != name and re.search(rf"\b{database}\.{name}\b", body)}
    leaf = next(view for view in views if not readers(view.name))
    root = next(view for view in views if readers(view.name))
    return leaf, root, readers(root.name)


def _changed(view):
    return dataclasses.replace(view, sql=view.sql.rstrip().rstrip(";") + "\nLIMIT 1000000\n")


def test_a_changed_definition_recreates_only_that_view(aws, config):
    views = load_views(config)
    _apply(aws, config, views)
    leaf, _, _ = _leaf_and_root(views, config.database)
    edited = [_changed(view) if view.name == leaf.name else view for view in views]
    aws["standin"].sql.clear()

    result = _apply(aws, config, edited)
    assert {name: state for name, state in result.items() if state != "unchanged"} == {leaf.name: "replaced"}
    assert aws["standin"].sql == [_changed(leaf).sql.strip()]
    stored = aws["glue"].get_table(DatabaseName=config.database, Name=leaf.name)["Table"]
    assert stored_body(stored).endswith("LIMIT 1000000")
    assert set(_apply(aws, config, edited).values()) == {"unchanged"}  # and now the catalog matches the files


def test_a_changed_view_also_replaces_the_views_that_read_it(aws, config):
    # Athena views go stale when what they read changes, so readers are re-created after the changed view.
    views = load_views(config)
    _apply(aws, config, views)
    _, root, readers = _leaf_and_root(views, config.database)
    edited = [_changed(view) if view.name == root.name else view for view in views]
    aws["standin"].sql.clear()

    result = _apply(aws, config, edited)
    replaced = {name for name, state in result.items() if state == "replaced"}
    assert root.name in replaced and readers <= replaced
    assert _sent_views(aws)[0] == root.name
    assert len(aws["standin"].sql) == len(replaced)


def test_dry_run_records_every_view_and_executes_nothing(aws, config, tmp_path):
    views = load_views(config)
    recorder = Recorder(dry_run=True, out_dir=tmp_path, step=5)
    aws["athena"].meta.events.register("before-call", recorder.guard)  # as the scripts do under --dry-run
    result = _apply(aws, config, views, recorder, execute=False)

    assert result == {view.name: "planned" for view in views}
    assert aws["standin"].sql == [] and _stored_views(aws, config) == []
    files = sorted((tmp_path / "requests").glob("05-*-athena-StartQueryExecution.json"))
    assert len(files) == len(views)
    recorded = [json.loads(path.read_text(encoding="utf-8"))["params"] for path in files]
    assert [params["QueryString"] for params in recorded] == [view.sql for view in views]
    assert {params["WorkGroup"] for params in recorded} == {config.workgroup}
    assert {params["QueryExecutionContext"]["Database"] for params in recorded} == {config.database}


def test_dry_run_after_a_deploy_records_nothing(aws, config, tmp_path):
    views = load_views(config)
    _apply(aws, config, views)
    recorder = Recorder(dry_run=True, out_dir=tmp_path, step=5)
    assert set(_apply(aws, config, views, recorder, execute=False).values()) == {"unchanged"}
    assert recorder.calls == [] and not (tmp_path / "requests").exists()


def test_a_table_recreated_by_step_1_replaces_the_views_that_read_it(aws, config):
    """Step 1 drops and recreates a raw table whose DDL changed; the views over it are then stale in Athena
    (https://repost.aws/knowledge-center/athena-view-is-stale-error), so step 5 must replace them although their
    own text did not change, and only them (and what reads them)."""
    views = load_views(config)
    _apply(aws, config, views)
    tables = load_tables(config)
    legacy = next(table for table in tables if table.name == "qdev_by_user_analytic_raw")
    changed = dataclasses.replace(legacy, sql=legacy.sql.replace("'projection.day.interval' = '1'",
                                                                  "'projection.day.interval' = '2'"))
    outcome = ensure_tables(aws["glue"], aws["athena"], Recorder().call, [changed], config.database,
                            config.workgroup, clock=CLOCK)
    assert outcome["qdev_by_user_analytic_raw"].startswith("replaced (TBLPROPERTIES projection.day.interval")
    aws["standin"].sql.clear()

    result = _apply(aws, config, views)
    replaced = {name for name, state in result.items() if state == "replaced"}
    readers = {view.name for view in views if "qdev_by_user_analytic_raw" in view.reads}
    assert readers == {"report_lines"}
    # report_lines (the parse) is replaced; the views over the facts are not: the fact table did not change, and
    # a day whose files changed is reloaded by the facts' refresh (test_facts.py).
    assert "report_lines" in replaced and "user_report_lines" not in replaced
    assert "plan_tiers" not in replaced  # reads no table: untouched
    assert set(_apply(aws, config, views).values()) == {"unchanged"}  # replaced once, then current again
