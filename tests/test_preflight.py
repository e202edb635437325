"""Preflight against moto (S3, STS, Identity Store, QuickSight users, Lake Formation) and botocore's Stubber for
DescribeAccountSubscription, which moto lacks (the Stubber validates request and response against the model)."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Iterator, List

import boto3
import pytest
from botocore.stub import ANY, Stubber
from kiro_analytics.preflight import FAIL, OK, SKIP, WARN, Check, run_checks
from moto import mock_aws

ACCOUNT = "123456789012"
FAIL_FAST_ATTEMPTS = 2


class FakeClients:
    """The Clients interface over moto, with QuickSight's subscription call stubbed."""

    def __init__(self, subscription: Dict[str, Any], pass_role: str = "allowed") -> None:
        self.moto = {name: boto3.client(name, region_name="us-east-1")
                     for name in ("sts", "s3", "identitystore", "lakeformation", "quicksight", "glue")}
        # moto has no policy simulator: the Stubber answers SimulatePrincipalPolicy, validated against the model.
        self.moto["iam"] = boto3.client("iam", region_name="us-east-1")
        self.iam_stub = Stubber(self.moto["iam"])
        self.iam_stub.add_response("simulate_principal_policy", {"EvaluationResults": [
            {"EvalActionName": "iam:PassRole", "EvalDecision": pass_role,
             "EvalResourceName": "arn:aws:iam::123456789012:role/kiro-analytics-quicksight"}]},
            {"PolicySourceArn": ANY, "ActionNames": ["iam:PassRole"],
             "ResourceArns": ["arn:aws:iam::123456789012:role/kiro-analytics-quicksight"]})
        self.iam_stub.activate()
        self.qs = boto3.client("quicksight", region_name="us-east-1")
        self.stubber = Stubber(self.qs)
        if subscription:
            self.stubber.add_response("describe_account_subscription", {"AccountInfo": subscription, "Status": 200},
                                      {"AwsAccountId": ACCOUNT})
        else:
            self.stubber.add_client_error("describe_account_subscription", "ResourceNotFoundException",
                                          http_status_code=404)
        self.stubber.activate()

    def client(self, name: str, region: str = "") -> Any:
        return self.moto[name]

    def quicksight(self) -> Any:
        return self.qs

    def quicksight_identity(self) -> Any:
        return self.moto["quicksight"]

    def identitystore(self) -> Any:
        return self.moto["identitystore"]


ENTERPRISE = {"AccountName": "acme", "Edition": "ENTERPRISE", "NotificationEmail": "a@b.c",
              "AuthenticationType": "IDENTITY_POOL", "AccountSubscriptionStatus": "ACCOUNT_CREATED"}


@pytest.fixture
def account(config) -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=config.bucket_name)
        boto3.client("quicksight", region_name="us-east-1").register_user(
            AwsAccountId=ACCOUNT, Namespace="default", IdentityType="QUICKSIGHT", Email="a@b.c",
            UserRole="ADMIN", UserName="admin")
        yield s3


def by_name(checks: List[Check]) -> Dict[str, Check]:
    return {check.name: check for check in checks}


def put_report(s3: Any, bucket: str, day: date, prefix: str = "") -> None:
    key = (f"{prefix}AWSLogs/{ACCOUNT}/KiroLogs/user_report/us-east-1/{day:%Y/%m/%d}/00/"
           f"KIRO_IDE_{ACCOUNT}_user_report_{day:%Y%m%d}0200.csv")
    s3.put_object(Bucket=bucket, Key=key, Body=b"Date,UserId\n")


def test_ready_account_passes_every_check(config, account) -> None:
    for day in (date(2026, 11, 23), date(2026, 11, 25), date(2026, 10, 30)):
        put_report(account, config.bucket_name, day)
    identity_store = boto3.client("identitystore", region_name="us-east-1")
    del identity_store  # moto accepts any store id for ListUsers
    checks = by_name(run_checks(config, FakeClients(ENTERPRISE), today=date(2026, 11, 26)))
    assert {name: check.status for name, check in checks.items()} == {
        "credentials": OK, "region": OK, "bucket": OK, "reports": OK, "report regions": OK, "encryption": OK,
        "quicksight": OK, "pass role": OK, "identity store": OK, "lake formation": OK}
    assert "newest day 2026-11-25" in checks["reports"].message


def test_wrong_prefix_shows_what_exists_nearby(config, account) -> None:
    put_report(account, config.bucket_name, date(2026, 11, 25), prefix="kiro-logs/")
    checks = by_name(run_checks(config, FakeClients(ENTERPRISE), today=date(2026, 11, 26)))
    reports = checks["reports"]
    assert reports.status == FAIL
    assert f"s3://{config.bucket_name}/AWSLogs/{ACCOUNT}/KiroLogs/user_report/" in reports.message
    assert "kiro-logs/" in reports.message  # what the bucket root holds instead
    assert "s3.prefix" in reports.fix


def test_stale_reports_warn(config, account) -> None:
    put_report(account, config.bucket_name, date(2026, 11, 1))
    checks = by_name(run_checks(config, FakeClients(ENTERPRISE), today=date(2026, 11, 26)))
    assert checks["reports"].status == WARN
    assert "25 days old" in checks["reports"].message


def test_missing_quicksight_and_bucket_fail_with_fixes(config) -> None:
    with mock_aws():
        checks = by_name(run_checks(config, FakeClients({}), today=date(2026, 11, 26)))
    assert checks["bucket"].status == FAIL and "does not exist" in checks["bucket"].message
    assert checks["quicksight"].status == FAIL and "Enterprise" in checks["quicksight"].fix


def test_standard_edition_and_unknown_user_fail(config, account) -> None:
    standard = dict(ENTERPRISE, Edition="STANDARD")
    assert by_name(run_checks(config, FakeClients(standard)))["quicksight"].status == FAIL
    from dataclasses import replace

    other = replace(config, quicksight_user_arn=f"arn:aws:quicksight:us-east-1:{ACCOUNT}:user/default/nobody")
    quicksight = by_name(run_checks(other, FakeClients(ENTERPRISE)))["quicksight"]
    assert quicksight.status == FAIL and "'nobody' not found" in quicksight.message


def test_wrong_account_fails(config, account) -> None:
    from dataclasses import replace

    other = replace(config, account_id="999999999999")
    credentials = by_name(run_checks(other, FakeClients(ENTERPRISE)))["credentials"]
    assert credentials.status == FAIL and "config says 999999999999" in credentials.message


def _run_preflight_script(config_file, env_overrides):
    import os
    import subprocess

    from conftest import ROOT, VENV_PYTHON

    env = {key: value for key, value in os.environ.items()
           if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    env.update(env_overrides)
    return subprocess.run([str(VENV_PYTHON), str(ROOT / "scripts" / "preflight.py"), "--config", str(config_file)],
                          capture_output=True, text=True, timeout=120, env=env)


def test_without_credentials_one_fail_and_the_rest_skipped(config_file) -> None:
    """Not five more FAILs each suggesting an IAM grant: the other account checks cannot run, and say why."""
    done = _run_preflight_script(config_file, {"AWS_EC2_METADATA_DISABLED": "true"})
    statuses = {line[8:23].strip(): line[2:6].strip() for line in done.stdout.splitlines()
                if line.startswith("  ") and not line.strip().startswith("fix:")}
    assert statuses == {"credentials": FAIL, "region": OK, "bucket": SKIP, "reports": SKIP, "report regions": SKIP,
                        "encryption": SKIP, "quicksight": SKIP, "pass role": SKIP, "identity store": SKIP,
                        "lake formation": SKIP}, done.stdout
    assert done.stdout.count("FAIL") == 1 and "Unable to locate credentials" in done.stdout
    assert "grant" not in done.stdout  # no fix suggests a permission
    assert done.returncode == 1 and "1 check(s) failed: credentials" in done.stderr


class _SilentEndpoint:
    """A TCP endpoint that accepts connections and never answers: what an unreachable AWS endpoint costs a client
    is its timeouts times its attempts; the connections counted here are the attempts."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.connections: List[Any] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(connection)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.sock.close()


def test_an_endpoint_that_never_answers_fails_fast(config, monkeypatch) -> None:
    from kiro_analytics import aws

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "10")  # what a user's shell has: the deploy steps' retry budget
    sts = aws.Clients(config).fail_fast_clients().client("sts").meta.config
    assert (sts.connect_timeout, sts.read_timeout, sts.retries["total_max_attempts"]) == (3, 10, FAIL_FAST_ATTEMPTS)
    steps = aws.Clients(config).client("sts").meta.config
    # The steps keep their budget: botocore counts max_attempts as retries, so AWS_MAX_ATTEMPTS=10 is 11 tries.
    assert (steps.connect_timeout, steps.read_timeout, steps.retries["total_max_attempts"]) == (10, 60, 11)
    endpoint = _SilentEndpoint()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
        monkeypatch.setitem(aws.FAIL_FAST, "read_timeout", 1)  # keep the test short; the attempts are what count
        quick = aws.Clients(config).fail_fast_clients()
        checks = by_name(run_checks(config, quick))
        assert checks["credentials"].status == FAIL and "timeout" in checks["credentials"].message.lower()
        assert {name: check.status for name, check in checks.items() if name not in ("credentials", "region")} == \
            dict.fromkeys(("bucket", "reports", "report regions", "encryption", "quicksight", "pass role",
                           "identity store", "lake formation"), SKIP)
        assert len(endpoint.connections) == FAIL_FAST_ATTEMPTS  # one per attempt: two, not the steps' eleven
    finally:
        endpoint.close()
def test_a_region_folder_the_tables_would_not_read_fails(config, account) -> None:
    put_report(account, config.bucket_name, date(2026, 11, 25))
    account.put_object(Bucket=config.bucket_name, Key=f"AWSLogs/{ACCOUNT}/KiroLogs/user_report/eu-central-1/"
                                                      "2026/11/25/00/KIRO_IDE_report.csv", Body=b"Date,UserId\n")
    check = by_name(run_checks(config, FakeClients(ENTERPRISE), today=date(2026, 11, 26)))["report regions"]
    assert check.status == FAIL
    assert "report folders for eu-central-1 exist, but the tables project only us-east-1" in check.message
    assert check.fix == "set s3.report_regions to [eu-central-1, us-east-1]"
    from dataclasses import replace

    both = replace(config, report_regions=("us-east-1", "eu-central-1"))
    assert by_name(run_checks(both, FakeClients(ENTERPRISE), today=date(2026, 11, 26)))["report regions"].status == OK


def test_a_kms_bucket_without_its_key_in_the_config_fails_with_the_key(config, account) -> None:
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    account.put_bucket_encryption(Bucket=config.bucket_name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    check = by_name(run_checks(config, FakeClients(ENTERPRISE)))["encryption"]
    assert check.status == FAIL and key in check.message and check.fix == f"set s3.kms_key_arn to {key}"
    from dataclasses import replace

    configured = by_name(run_checks(replace(config, kms_key_arn=key), FakeClients(ENTERPRISE)))["encryption"]
    assert configured.status == OK and "kms:Decrypt" in configured.message


def test_a_deployer_who_may_not_pass_the_quicksight_role_fails(config, account) -> None:
    check = by_name(run_checks(config, FakeClients(ENTERPRISE, pass_role="implicitDeny")))["pass role"]
    assert check.status == FAIL and "may not pass arn:aws:iam::123456789012:role/kiro-analytics-quicksight" in \
        check.message and "iam:PassRole" in check.fix


def test_lake_formation_names_what_the_deployer_lacks(config, account) -> None:
    lf = boto3.client("lakeformation", region_name="us-east-1")
    lf.put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:iam::123456789012:role/admin"}],
        "CreateDatabaseDefaultPermissions": [], "CreateTableDefaultPermissions": []})
    check = by_name(run_checks(config, FakeClients(ENTERPRISE)))["lake formation"]
    assert check.status == FAIL and "CREATE_DATABASE on the Data Catalog" in check.message
    assert "data lake administrator" in check.fix
