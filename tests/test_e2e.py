"""The product as a user runs it: the real ./deploy.sh, all nine steps as subprocesses, against a local account.

The account is moto's server on loopback behind a middleware that names and counts every operation it receives,
plus the project's strict stand-ins: Glue and Athena resources in CloudFormation, Athena DDL applied to the
catalog, SELECTs answered by DuckDB over the same sample reports (translated from the same Athena SQL), crawls
that register partitions, and QuickSight (analyses, dashboard versions, publishing, permissions) served over HTTP.
Every stand-in validates requests against the botocore service model.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import boto3
import pytest
from alarm_branch import assert_with_email, deployed_alarm_branch
from athena_duckdb import duckdb_answers, reads_only
from conftest import ROOT, write_config
from kiro_analytics.athena import load_query
from kiro_analytics.config import load_config
from kiro_analytics.crosscheck import QUERIES
from kiro_analytics.local import engine
from kiro_analytics.local.sample_data import IDENTITY_STORE_ID, SampleManifest, generate
from kiro_analytics.local.window_query import windowed_query, with_fact_loads
from kiro_analytics.names import Names
from kiro_analytics.sqlfiles import load_facts, load_tables, load_views
from moto.identitystore.models import identitystore_backends
from moto.moto_api import state_manager
from standins import cloudformation as cfn_standin
from standins.athena import athena_catalog
from standins.awslambda import lambda_runs
from standins.emulator import Emulator
from standins.glue import crawls
from standins.quicksight import QuickSightStandIn
from standins.recording import Call, Fault

pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"


@dataclass
class Account:
    emulator: Emulator
    quicksight: QuickSightStandIn
    config_path: Path
    sample: SampleManifest
    reports: Dict[str, str]  # S3 key → sha256 of the bytes uploaded

    def client(self, service: str):
        return boto3.client(service, region_name="us-east-1", endpoint_url=self.emulator.url)

    def deploy(self, *args: str, env: Optional[Dict[str, str]] = None,
               timeout: int = 300) -> subprocess.CompletedProcess:
        return run(["./deploy.sh", "--config", str(self.config_path), *args], self, env, timeout)

    def destroy(self, *args: str) -> subprocess.CompletedProcess:
        return run(["./destroy.sh", "--config", str(self.config_path), *args], self, None, 300)

    def mutating_since(self, mark: int) -> List[Call]:
        return [call for call in self.emulator.log.since(mark) if call.mutating and not is_run(call)]

    def report_digests(self) -> Dict[str, str]:
        s3 = self.client("s3")
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.sample_bucket, Prefix="AWSLogs/"):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=self.sample_bucket, Key=item["Key"])["Body"].read()
                found[item["Key"]] = hashlib.sha256(body).hexdigest()
        return found

    @property
    def sample_bucket(self) -> str:
        return load_config(str(self.config_path)).bucket_name


def is_run(call: Call) -> bool:
    """Athena SELECTs (verification, the sync's id list) read, and step 6's run of the deployed function changes
    nothing it did not find changed (its own writes, if any, are counted where they land): neither changes what is
    deployed."""
    if call.service == "lambda" and call.operation == "Invoke":
        return True
    return (call.service == "athena" and call.operation == "StartQueryExecution"
            and reads_only(str(call.params.get("QueryString", ""))))


def run(command: List[str], account: Account, env: Optional[Dict[str, str]],
        timeout: int) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "KIRO_PYTHON": str(ROOT / ".venv" / "bin" / "python"), **account.emulator.environment(), **(env or {}),
    })
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def seed_identity_store(manifest: SampleManifest, leave_out: int = 2) -> None:
    """The sample's people as Identity Center users, with the sample's own ids; a few are left out (external IdP)."""
    client = boto3.client("identitystore", region_name="us-east-1", endpoint_url=os.environ["E2E_ENDPOINT"])
    backend = identitystore_backends[ACCOUNT]["us-east-1"]
    groups: Dict[str, str] = {}
    for person in manifest.users[leave_out:]:
        made = client.create_user(
            IdentityStoreId=IDENTITY_STORE_ID, UserName=person.username, DisplayName=person.display_name,
            Name={"GivenName": person.display_name[:20] or "x", "FamilyName": "-"},
            Emails=[{"Value": person.email, "Primary": True}])["UserId"]
        store = backend.identity_stores[IDENTITY_STORE_ID]
        store.users[person.userid] = store.users.pop(made)._replace(UserId=person.userid)
        for group in person.groups:
            if group not in groups:
                groups[group] = client.create_group(IdentityStoreId=IDENTITY_STORE_ID, DisplayName=group)["GroupId"]
            client.create_group_membership(IdentityStoreId=IDENTITY_STORE_ID, GroupId=groups[group],
                                           MemberId={"UserId": person.userid})


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleManifest:
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    return generate(tmp_path_factory.mktemp("reports"), users=24, days=45, seed=11, end=yesterday)


@pytest.fixture(scope="module")
def emulator(sample: SampleManifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    config = load_config(str(write_config(tmp_path_factory.mktemp("cfg") / "config.yaml")))
    built = engine.build(sample.root, tmp_path_factory.mktemp("duck"), config)
    cfn_standin.register()
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    emu = Emulator().start()
    os.environ["E2E_ENDPOINT"] = emu.url
    try:
        with athena_catalog() as athena, crawls(), lambda_runs(endpoint=emu.url):
            # Paths as Athena gives them: s3://<bucket>/<key>, the key being the file's path below the sample root.
            athena.answer(duckdb_answers(built.db_path, config.database,
                                         (str(Path(sample.root).absolute()) + "/", f"s3://{config.bucket_name}/")))
            emu.athena, emu.duckdb_path = athena, built.db_path  # type: ignore[attr-defined]
            yield emu
    finally:
        state_manager.unset_transition(model_name="athena::execution")
        os.environ.pop("E2E_ENDPOINT", None)
        emu.stop()


@pytest.fixture
def account(emulator: Emulator, sample: SampleManifest, tmp_path: Path) -> Iterator[Account]:
    """A fresh account: reports in the bucket, people in Identity Center, QuickSight Enterprise with its owner."""
    emulator.reset()
    emulator.faults.faults.clear()
    emulator.faults.injected.clear()
    standin = QuickSightStandIn(account_id=ACCOUNT)
    emulator.standins.pop("quicksight", None)
    emulator.host("quicksight", standin.handle)
    config_path = write_config(tmp_path / "config.yaml")
    config = load_config(str(config_path))
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=emulator.url)
    s3.create_bucket(Bucket=config.bucket_name)
    reports = {}
    for path in [*sample.report_files, *sample.non_report_files]:
        key = path.relative_to(sample.root).as_posix()
        body = path.read_bytes()
        s3.put_object(Bucket=config.bucket_name, Key=key, Body=body)
        reports[key] = hashlib.sha256(body).hexdigest()
    seed_identity_store(sample)
    emulator.log.calls.clear()
    yield Account(emulator, standin, config_path, sample, reports)
    with contextlib.suppress(Exception):
        emulator.standins.pop("quicksight").stop()


def step_lines(output: str) -> Dict[int, str]:
    return {int(line.split()[1]): line for line in output.splitlines() if line.startswith("step ")}


def test_deploy_rerun_and_teardown(account: Account) -> None:
    first = account.deploy()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    results = step_lines(first.stdout)
    assert sorted(results) == list(range(1, 10)), first.stdout
    names = Names(load_config(str(account.config_path)))

    # What the nine steps built, seen from the account's side.
    glue = account.client("glue")
    tables = {table["Name"] for table in glue.get_tables(DatabaseName=names.database)["TableList"]}
    assert {"user_report_raw", "user_activity_daily", "user_summary", "daily_summary"} <= tables
    # Reading needs no partition in the catalog (projection); the crawlers wrote their discovery tables only.
    raw = glue.get_table(DatabaseName=names.database, Name="user_report_raw")["Table"]
    assert raw["Parameters"]["projection.enabled"] == "true"
    assert glue.get_partitions(DatabaseName=names.database, TableName="user_report_raw")["Partitions"] == []
    discovered = glue.get_table(DatabaseName=names.database, Name="discovered_user_report")["Table"]
    assert {"date", "userid", "credits_used"} <= {c["Name"] for c in discovered["StorageDescriptor"]["Columns"]}
    assert "deployed function ran" in results[6], results[6]
    mapping = account.client("s3").get_object(Bucket=account.sample_bucket, Key="user-mapping/user_mapping.csv")
    rows = {row["userid"]: row for row in csv.DictReader(io.StringIO(mapping["Body"].read().decode("utf-8")))}
    known = {person.userid: person for person in account.sample.users[2:]}
    active = {userid for userid in rows}
    for userid in active & set(known):
        assert rows[userid]["username"] == known[userid].display_name
    for person in account.sample.users[:2]:  # not in Identity Center: they keep their id
        if person.userid in rows:
            assert rows[person.userid]["username"] == person.userid
    qs = account.quicksight
    dashboard = qs.DescribeDashboard(ACCOUNT, names.dashboard_id)["Dashboard"]
    assert dashboard["Version"]["VersionNumber"] == 1 and dashboard["Version"]["Status"] == "CREATION_SUCCESSFUL"
    assert len([op for op in qs.operations() if op == "CreateAnalysis"]) == 4

    # Second run: nothing changes anywhere, and every step says so.
    mark = account.emulator.log.mark()
    second = account.deploy()
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert account.mutating_since(mark) == [], account.mutating_since(mark)
    for number, line in step_lines(second.stdout).items():
        if number != 4:  # verification only reads; it reports counts
            assert "unchanged" in line, line
    # Step 4 prints the ingest ledger's totals once step 5 has created the view: answered by DuckDB over the same
    # sample, every line accounted for.
    assert "ingest ledger: the ingest_ledger view is created by step 5" in first.stdout
    ledger = re.search(r"ingest ledger: read ([\d,]+) files, ([\d,]+) lines: ([\d,]+) used, ([\d,]+) superseded by "
                       r"re-sent exports, 0 rejected", second.stdout)
    assert ledger, second.stdout
    files, lines, used, superseded = (int(value.replace(",", "")) for value in ledger.groups())
    assert files == len(account.sample.report_files) and lines == used + superseded > 0
    assert qs.DescribeDashboard(ACCOUNT, names.dashboard_id)["Dashboard"]["Version"]["VersionNumber"] == 1

    # Teardown removes what we made, never the reports; a second teardown finds nothing to do.
    gone = account.destroy("--yes")
    assert gone.returncode == 0, gone.stdout[-3000:] + gone.stderr[-3000:]
    assert account.report_digests() == {key: digest for key, digest in account.reports.items()
                                         if key.startswith("AWSLogs/")}
    assert account.client("cloudformation").list_stacks()["StackSummaries"][0]["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(Exception, match="EntityNotFound"):
        glue.get_table(DatabaseName=names.database, Name="user_summary")
    again = account.destroy("--yes")
    assert again.returncode == 0 and "removed 0" in again.stdout, again.stdout + again.stderr


def test_deploy_with_alarm_email_creates_the_digest_branch(account: Account) -> None:
    write_config(account.config_path, {"lambda": {"alarm_email": "ops@example.com"}})
    first = account.deploy("--only", "1")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    names = Names(load_config(str(account.config_path)))
    assert_with_email(deployed_alarm_branch(account.client, names), names, "ops@example.com")

    mark = account.emulator.log.mark()
    again = account.deploy("--only", "1")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert account.mutating_since(mark) == [], account.mutating_since(mark)
    assert "unchanged" in step_lines(again.stdout)[1], again.stdout

def test_fault_in_step_7_fails_with_resume_command_then_resume_completes(account: Account) -> None:
    account.emulator.faults.faults.append(Fault("quicksight", "CreateDataSet", code="AccessDeniedException",
                                                message="injected: not allowed", status=403))
    failed = account.deploy()
    assert failed.returncode != 0
    assert "Step 7 (Create QuickSight data source and datasets) failed" in failed.stderr
    assert f"./deploy.sh --from 7 --config {account.config_path}" in failed.stderr
    assert "injected: not allowed" in failed.stderr
    assert sorted(step_lines(failed.stdout)) == [1, 2, 3, 4, 5, 6]

    resumed = account.deploy("--from", "7")
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert sorted(step_lines(resumed.stdout)) == [7, 8, 9]
    names = Names(load_config(str(account.config_path)))
    assert account.quicksight.DescribeDashboard(ACCOUNT, names.dashboard_id)["Dashboard"]["Version"]["Status"] == \
        "CREATION_SUCCESSFUL"


def test_throttling_is_retried_and_the_deploy_succeeds(account: Account) -> None:
    throttled = [Fault("cloudformation", "DescribeStacks", code="Throttling"),
                 Fault("glue", "GetCrawler"), Fault("identitystore", "ListUsers"),
                 Fault("quicksight", "DescribeDashboard", code="ThrottlingException", status=429)]
    account.emulator.faults.faults.extend(throttled)
    result = account.deploy(env={"AWS_MAX_ATTEMPTS": "4"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    injected = {(call.service, call.operation) for call in account.emulator.faults.injected}
    assert injected == {(fault.service, fault.operation) for fault in throttled}
    assert all(fault.times == 0 for fault in throttled)


def test_dry_run_changes_nothing_and_writes_every_request(account: Account, tmp_path: Path) -> None:
    mark = account.emulator.log.mark()
    result = account.deploy("--dry-run", "--out", str(tmp_path / "plan"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert account.mutating_since(mark) == []
    requests = sorted(path.name for path in (tmp_path / "plan" / "requests").glob("*.json"))
    operations = {name.split("-", 2)[2][:-5] for name in requests}
    assert {"cloudformation-CreateStack", "quicksight-CreateDataSource", "quicksight-CreateDataSet",
            "quicksight-CreateAnalysis", "quicksight-CreateDashboard"} <= operations
    for number, line in step_lines(result.stdout).items():
        assert line.startswith(f"step {number}"), line
    assert "[dry-run]" in result.stdout


def test_interrupt_during_a_wait_stops_cleanly_and_from_resumes(account: Account) -> None:
    first = account.deploy("--only", "1,2")
    assert first.returncode == 0, first.stderr[-2000:]
    from standins.glue import set_progression

    set_progression("manual")  # crawls now run until stopped: step 3 waits
    try:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        environment.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
                            "KIRO_PYTHON": str(ROOT / ".venv" / "bin" / "python"), **account.emulator.environment()})
        environment["PYTHONUNBUFFERED"] = "1"  # step 3's progress lines reach the pipe as they are printed
        process = subprocess.Popen(["./deploy.sh", "--config", str(account.config_path), "--only", "3"], cwd=ROOT,
                                   env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        # Wait for the state the test needs, however long a busy machine takes to reach it: step 3 says it is
        # waiting for the running crawlers (the line comes after the crawlers were seen RUNNING).
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "waiting for" in line:
                break
        assert any("waiting for" in line for line in seen), "".join(seen) + process.stderr.read()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
        rest, err = process.communicate(timeout=600)
        out = "".join(seen) + rest
    finally:
        set_progression("immediate")
    assert process.returncode == 130, out + err
    assert "Traceback" not in err
    # Resume the way it ran: --only 3 again (the step's own line and deploy.sh's agree).
    assert "interrupted; resume with ./deploy.sh --only 3" in err and "resume with:\n  ./deploy.sh --only 3" in err
    assert "--from" not in err
    for crawler in Names(load_config(str(account.config_path))).crawlers.values():
        with contextlib.suppress(Exception):
            account.client("glue").stop_crawler(Name=crawler)
    resumed = account.deploy("--from", "3")
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]


def test_preflight_check_reports_every_line(account: Account) -> None:
    result = account.deploy("--check")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("credentials", "region", "bucket", "reports", "quicksight", "identity store", "lake formation"):
        assert any(line.split()[1:2] and name.split()[0] in line for line in result.stdout.splitlines()
                   if line.strip().startswith(("OK", "WARN"))), (name, result.stdout)
    assert "FAIL" not in result.stdout
    assert f"newest day {date.today() - timedelta(days=1)}" in result.stdout or "newest day" in result.stdout


def test_verify_compares_athena_with_duckdb_and_names_a_wrong_answer(account: Account) -> None:
    """./deploy.sh --verify against the emulated account: every day agrees; then one wrong Athena answer (credits
    of one day off by 2.5) is reported with that day and column, and the command fails."""
    deployed = account.deploy("--only", "1,5", "--skip-check")
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    database = load_config(str(account.config_path)).database
    honest = duckdb_answers(account.emulator.duckdb_path, database)  # type: ignore[attr-defined]
    daily = load_query("crosscheck_daily")
    days = sorted(row["activity_date"] for row in honest(daily))
    every_day = {row["activity_date"] for name in QUERIES for row in honest(load_query(name))}
    agree = account.deploy("--verify")
    assert agree.returncode == 0, agree.stdout[-3000:] + agree.stderr[-3000:]
    assert f"verify ok: Athena and DuckDB agree on {len(every_day)} day(s)" in agree.stdout
    mark = account.emulator.log.mark()
    assert account.mutating_since(mark) == []

    victim = days[len(days) // 2]
    # With --since, the daily query reaches Athena with the views inlined and the raw tables filtered on their day
    # folders from three days before (tests/test_crosscheck.py checks that text): answer that one wrongly.
    config = load_config(str(account.config_path))
    low = days[1] - timedelta(days=3)
    windowed = windowed_query(daily, with_fact_loads(load_views(config), load_facts(config), config, low, None),
                              load_tables(config), database, low, None)

    def wrong(sql: str):
        if sql != windowed:
            return None
        return [dict(row, credits=row["credits"] + 2.5) if row["activity_date"] == victim else row
                for row in honest(sql)]
    responders = account.emulator.athena.answers  # type: ignore[attr-defined]
    account.emulator.athena.answer(wrong, first=True)  # type: ignore[attr-defined]
    try:
        broken = account.deploy("--verify", "--since", days[1].isoformat())
    finally:
        responders.remove(wrong)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Athena and the local engine differ in 1 value(s)" in broken.stderr
    assert f"{victim.isoformat()} credits: Athena " in broken.stderr
    assert "./deploy.sh --verify" not in broken.stdout
