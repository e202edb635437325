"""Teardown against moto (stack, Glue, S3) and the strict QuickSight stand-in, after a real deploy of steps 1, 5
and 7-9: everything of ours goes, every report byte stays, a rerun and --dry-run delete nothing.
"""

from __future__ import annotations

import dataclasses
import os
import pty
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict

import boto3
import pytest
from aws_steps import context, script
from botocore.stub import Stubber
from conftest import ROOT, write_config
from kiro_analytics.config import load_config
from kiro_analytics.errors import StepFailed
from kiro_analytics.local import sample_data
from kiro_analytics.names import FACT_TABLES, Names
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.quicksight import analyses, assets, dashboard, datasets
from kiro_analytics.sqlfiles import load_facts, load_views
from kiro_analytics.teardown import ReportDeletionRefused, Teardown
from kiro_analytics.views import apply_views, ensure_facts
from moto import mock_aws
from moto.moto_api import state_manager
from standins import cloudformation as cfn_standin
from standins.athena import athena_catalog
from standins.quicksight import QuickSightStandIn

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)
MAPPING = b"userid,username,user_name,email,groups\r\nu1,Ann,ann,ann@example.com,\r\n"


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(assets, "CLOCK", CLOCK)


def _objects(s3, bucket: str) -> Dict[str, bytes]:
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _context(config, out: Path, standin: QuickSightStandIn, dry_run: bool = False):
    ctx = context(config, 0, out, dry_run=dry_run)
    standin.attach(ctx.clients.quicksight())
    return ctx


@pytest.fixture
def deployed(config, tmp_path):
    """Steps 1, 5, 6's file and 7-9 done; sample reports (with their markers and prompt logs) in the bucket."""
    cfn_standin.register()
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    try:
        with mock_aws(), athena_catalog():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=config.bucket_name)
            manifest = sample_data.generate(tmp_path / "sample", users=4, days=5)
            for path in sorted(p for p in manifest.root.rglob("*") if p.is_file()):
                s3.put_object(Bucket=config.bucket_name, Key=path.relative_to(manifest.root).as_posix(),
                              Body=path.read_bytes())
            reports = _objects(s3, config.bucket_name)

            script(1).action(context(config, 1, tmp_path))
            names = Names(config)
            glue = boto3.client("glue", region_name="us-east-1")
            athena = boto3.client("athena", region_name="us-east-1")
            ensure_facts(glue, athena, Recorder().call, load_facts(config), config.database, config.workgroup)
            apply_views(glue, athena, Recorder(), load_views(config), config.database, config.workgroup)
            s3.put_object(Bucket=config.bucket_name, Key=config.user_mapping_key, Body=MAPPING)
            # A package an older deploy staged in the report bucket (before the code moved to the results bucket).
            s3.put_object(Bucket=config.bucket_name, Key=f"{names.prefix}/lambda/user-sync-0123456789ab.zip",
                          Body=b"PK")
            s3.put_bucket_versioning(Bucket=names.results_bucket, VersioningConfiguration={"Status": "Enabled"})
            for round_ in range(2):
                for index in range(3):
                    s3.put_object(Bucket=names.results_bucket, Key=f"athena/q{index}.csv", Body=f"{round_}".encode())
            s3.delete_object(Bucket=names.results_bucket, Key="athena/q0.csv")  # a delete marker too
            # The fact table's data (Iceberg writes it under the table's LOCATION, facts/ in the results bucket).
            s3.put_object(Bucket=names.results_bucket, Body=b"PAR1",
                          Key="facts/report_line_facts/data/source_day=2026-05-01/a.parquet")

            standin = QuickSightStandIn()
            for step, module in ((7, datasets), (8, analyses), (9, dashboard)):
                ctx = _context(config, tmp_path, standin)
                ctx.step = step
                module.deploy(ctx)
            yield {"s3": s3, "reports": reports, "qs": standin, "names": names, "manifest": manifest,
                   "glue": boto3.client("glue", region_name="us-east-1"),
                   "cfn": boto3.client("cloudformation", region_name="us-east-1")}
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def _state(aws, config) -> Dict[str, object]:
    s3, names = aws["s3"], aws["names"]
    stacks = [s["StackName"] for s in aws["cfn"].list_stacks()["StackSummaries"]
              if s["StackStatus"] != "DELETE_COMPLETE"]
    databases = [d["Name"] for d in aws["glue"].get_databases()["DatabaseList"]]
    tables = (sorted(t["Name"] for t in aws["glue"].get_tables(DatabaseName=config.database)["TableList"])
              if config.database in databases else [])
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    results = (len(s3.list_object_versions(Bucket=names.results_bucket).get("Versions", []))
               if names.results_bucket in buckets else None)
    qs = aws["qs"]
    return {"stacks": stacks, "databases": databases, "tables": tables, "results_versions": results,
            "report_bucket": _objects(s3, config.bucket_name), "dashboards": sorted(qs.dashboards),
            "analyses": sorted(qs.analyses), "datasets": sorted(qs.datasets), "sources": sorted(qs.data_sources)}


def test_teardown_removes_everything_ours_and_keeps_every_report_byte(deployed, config, tmp_path):
    aws, names = deployed, deployed["names"]
    before = _state(aws, config)
    code_keys = [key for key in before["report_bucket"] if key.startswith(f"{names.prefix}/lambda/")]
    assert len(code_keys) == 1 and config.user_mapping_key in before["report_bucket"]
    # 6 query results and the function's code, which step 1 stages in the stack's own (in-region) bucket.
    # And one data file of the fact table.
    assert before["stacks"] == [names.stack] and before["results_versions"] == 8
    # raw tables, user_mapping, seat_roster, the fact table
    assert len(before["tables"]) == 5 + len(FACT_TABLES) + len(load_views(config))
    assert before["dashboards"] and len(before["analyses"]) == 4 and before["datasets"] and before["sources"]
    report_keys = [key for key in aws["reports"] if key.startswith(config.report_root)]
    assert len(report_keys) >= len(aws["manifest"].report_files) > 0  # reports, markers and prompt logs

    ctx = _context(config, tmp_path, aws["qs"])
    result = Teardown(ctx, [view.name for view in load_views(config)], clock=CLOCK).run()

    after = _state(aws, config)
    assert after["stacks"] == [] and after["dashboards"] == [] and after["analyses"] == []
    assert after["datasets"] == [] and after["sources"] == []
    assert config.database not in after["databases"] and after["results_versions"] is None
    # The report bucket holds exactly what it held before the deploy: same keys, same bytes.
    assert after["report_bucket"] == aws["reports"]
    assert len(after["report_bucket"]) == len(aws["reports"])
    # Datasets that never existed are not "deleted": only what was there is listed as removed.
    assert sorted(item for item in result.removed if item.startswith("dataset ")) == [
        f"dataset {dataset_id}" for dataset_id in before["datasets"]]
    assert f"s3://{config.bucket_name}/{config.user_mapping_key}" in result.removed
    assert f"s3://{config.bucket_name}/{code_keys[0]}" in result.removed
    assert f"9 object version(s) in s3://{names.results_bucket}" in result.removed  # 8 versions, 1 delete marker
    deletes = [op for op in aws["qs"].operations() if op.startswith("Delete")]
    assert deletes.count("DeleteAnalysis") == 4
    forced = [params for op, params in aws["qs"].calls if op == "DeleteAnalysis"]
    assert all(params["ForceDeleteWithoutRecovery"] is True for params in forced)

    # Second run: everything is already gone, nothing is deleted.
    calls_before = len(aws["qs"].calls)
    again_ctx = _context(config, tmp_path, aws["qs"])
    again = Teardown(again_ctx, [view.name for view in load_views(config)], clock=CLOCK).run()
    assert again.removed == [] and again_ctx.recorder.calls == []
    assert f"stack {names.stack}" in again.already_gone and f"dashboard {names.dashboard_id}" in again.already_gone
    assert f"s3://{config.bucket_name}/{config.user_mapping_key}" in again.already_gone
    assert not any(op.startswith("Delete") for op in aws["qs"].operations()[calls_before:])
    assert _objects(aws["s3"], config.bucket_name) == aws["reports"]
    assert again.summary() == f"removed 0, already gone {len(again.already_gone)}"


def test_dry_run_deletes_nothing_and_lists_what_would_go(deployed, config, tmp_path):
    aws = deployed
    before = _state(aws, config)
    ctx = _context(config, tmp_path / "plan", aws["qs"], dry_run=True)
    result = Teardown(ctx, [view.name for view in load_views(config)], clock=CLOCK).run()

    assert _state(aws, config) == before
    assert not any(op.startswith("Delete") for op in aws["qs"].operations())
    assert result.summary().startswith("would remove ")
    recorded = sorted(path.name.split("-", 2)[2] for path in (tmp_path / "plan" / "requests").glob("*.json"))
    assert recorded.count("cloudformation-DeleteStack.json") == 1
    assert recorded.count("glue-DeleteTable.json") == len(before["tables"])
    assert recorded.count("quicksight-DeleteDataSet.json") == len(before["datasets"])
    assert recorded.count("s3-DeleteObject.json") == 2  # the mapping and the one Lambda package


def test_leftover_datasets_are_ours_only_when_they_read_our_data_source(deployed, config, tmp_path):
    qs, names = deployed["qs"], deployed["names"]
    template = next(iter(qs.datasets.values()))

    def leftover(dataset_id: str, source_arn: str) -> None:
        table = {"view": {"RelationalTable": {**template["PhysicalTableMap"]["view"]["RelationalTable"],
                                              "DataSourceArn": source_arn}}}
        qs.datasets[dataset_id] = {**template, "Arn": qs.arn("dataset", dataset_id), "DataSetId": dataset_id,
                                   "PhysicalTableMap": table}

    ours = f"{names.prefix}-renamed-view"  # a view since renamed: our prefix, our data source
    theirs = f"{names.prefix}-eu-daily"  # another deployment whose prefix starts with ours
    leftover(ours, qs.data_sources[names.data_source_id]["Arn"])
    leftover(theirs, qs.arn("datasource", f"{names.prefix}-eu-athena"))
    Teardown(_context(config, tmp_path, qs), [view.name for view in load_views(config)], clock=CLOCK).run()
    assert sorted(qs.datasets) == [theirs]


def test_a_key_under_the_report_root_is_refused_before_any_call(tmp_path):
    # Config validation refuses such a key (tests/test_config.py); the teardown guard is the second line of defence.
    config = dataclasses.replace(load_config(str(write_config(tmp_path / "config.yaml"))),
                                 user_mapping_key="AWSLogs/123456789012/mapping/user_mapping.csv")
    standin = QuickSightStandIn()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=config.bucket_name)
        s3.put_object(Bucket=config.bucket_name, Key=config.user_mapping_key, Body=MAPPING)
        ctx = _context(config, tmp_path, standin)
        sent = []
        for service in ("s3", "glue", "cloudformation"):
            ctx.clients.client(service).meta.events.register("before-call", lambda model, **_: sent.append(model.name))
        with pytest.raises(ReportDeletionRefused, match="under the report root"):
            Teardown(ctx, ["user_days"], clock=CLOCK).run()
        assert sent == [] and standin.calls == [] and ctx.recorder.calls == []
        assert s3.get_object(Bucket=config.bucket_name, Key=config.user_mapping_key)["Body"].read() == MAPPING

        # The same check guards every single S3 delete, e.g. a report file reached by a listing.
        teardown = Teardown(ctx, [], clock=CLOCK)
        with pytest.raises(ReportDeletionRefused):
            teardown._s3_delete(config.bucket_name, "AWSLogs/123456789012/KiroLogs/user_report/x.csv")
        assert sent == []


def test_a_failed_stack_delete_names_the_resources_that_failed(tmp_path):
    config = load_config(str(write_config(tmp_path / "config.yaml")))
    ctx = context(config, 0, tmp_path)
    cfn = ctx.clients.client("cloudformation")
    name, when = Names(config).stack, datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", {"Stacks": [
            {"StackName": name, "StackStatus": "DELETE_FAILED", "CreationTime": when}]})
        stub.add_response("describe_stack_events", {"StackEvents": [
            {"StackId": name, "EventId": "1", "StackName": name, "LogicalResourceId": "ResultsBucket",
             "ResourceType": "AWS::S3::Bucket", "ResourceStatus": "DELETE_FAILED", "Timestamp": when,
             "ResourceStatusReason": "The bucket you tried to delete is not empty"}]})
        with pytest.raises(StepFailed, match=r"DELETE_FAILED:\n  - ResultsBucket \(AWS::S3::Bucket\): "
                                             r"DELETE_FAILED: The bucket you tried to delete is not empty"):
            Teardown(ctx, [], clock=CLOCK)._stack_deleted()


def _destroy_at_a_terminal(python_exe: str, args, answer: bytes, env=None) -> "tuple[int, str, str]":
    """Run destroy.py with a pseudo-terminal as stdin (what a person at a shell has) and type ``answer``."""

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([python_exe, str(ROOT / "scripts" / "destroy.py"), *args], stdin=follower,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        os.write(leader, answer)
        out, err = process.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def mapped_bucket(emulator, config_file):
    config = load_config(str(config_file))
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=config.bucket_name)
    s3.put_object(Bucket=config.bucket_name, Key=config.user_mapping_key, Body=MAPPING)
    return config, s3


def test_destroy_answering_no_exits_2_and_deletes_nothing(mapped_bucket, config_file, tmp_path, python_exe):
    config, s3 = mapped_bucket
    code, out, err = _destroy_at_a_terminal(python_exe, ["--config", str(config_file), "--out", str(tmp_path)], b"no\n")
    assert code == 2, err
    assert "Type 'yes'" in out and "(as arn:aws:sts::123456789012:user/moto)" in out
    assert "cancelled; nothing was deleted" in err
    assert s3.get_object(Bucket=config.bucket_name, Key=config.user_mapping_key)["Body"].read() == MAPPING


def test_destroy_without_a_terminal_refuses_and_says_use_yes(mapped_bucket, config_file, tmp_path, python_exe):
    """A pipe or /dev/null as stdin (cron, CI, ssh -T): no question to answer, so no EOFError either."""
    config, s3 = mapped_bucket
    for stdin in (subprocess.DEVNULL, None):
        done = subprocess.run([python_exe, str(ROOT / "scripts" / "destroy.py"), "--config", str(config_file),
                               "--out", str(tmp_path)], stdin=stdin, input=None if stdin else "yes\n",
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "no terminal to ask for confirmation; nothing was deleted. Rerun with --yes" in done.stderr
        assert "Traceback" not in done.stderr and "EOFError" not in done.stderr and "Type 'yes'" not in done.stdout
    assert s3.get_object(Bucket=config.bucket_name, Key=config.user_mapping_key)["Body"].read() == MAPPING


def test_destroy_checks_credentials_before_asking(config_file, tmp_path, python_exe):
    env = {key: value for key, value in os.environ.items()
           if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    code, out, err = _destroy_at_a_terminal(python_exe, ["--config", str(config_file), "--out", str(tmp_path)],
                                            b"yes\n", env=env)
    assert code == 1 and "no AWS credentials found" in err and "Type 'yes'" not in out, (out, err)


def test_destroy_refuses_another_account_before_asking(emulator, tmp_path, python_exe):
    other = write_config(tmp_path / "other.yaml", {"aws": {"account_id": "999988887777"},
                                                   "quicksight": {"user_arn": "arn:aws:quicksight:us-east-1:"
                                                                              "999988887777:user/default/admin"}})
    code, out, err = _destroy_at_a_terminal(python_exe, ["--config", str(other), "--out", str(tmp_path)], b"yes\n")
    assert code == 2 and "Type 'yes'" not in out
    assert "signed in to account 123456789012" in err and "config says 999988887777" in err
