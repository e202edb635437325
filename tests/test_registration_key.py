"""The role Lake Formation reads the registered report locations with, and the report bucket's KMS key (moto's Lake
Formation, IAM and KMS): step 1 names the user-defined registration roles so the stack gives them kms:Decrypt;
preflight reads the key policy for the service-linked role (which takes no IAM policy) and WARNs with the statement
to add when it may not read it (https://docs.aws.amazon.com/lake-formation/latest/dg/register-encrypted.html)."""

from __future__ import annotations

import json

import boto3
import pytest
from conftest import write_config
from kiro_analytics.config import load_config
from kiro_analytics.registration_key import registration_key_findings, stack_role_names
from kiro_analytics.sqlfiles import load_tables
from moto import mock_aws

ACCOUNT = "123456789012"
SERVICE_LINKED = (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/lakeformation.amazonaws.com/"
                  "AWSServiceRoleForLakeFormationDataAccess")
READER = f"arn:aws:iam::{ACCOUNT}:role/data/lf-reader"
CROSS = "arn:aws:iam::444455556666:role/cross-account-reader"


@pytest.fixture
def aws():
    with mock_aws():
        key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
        yield {"lf": boto3.client("lakeformation", region_name="us-east-1"),
               "kms": boto3.client("kms", region_name="us-east-1"), "key": key}


def _config(tmp_path, key: str = ""):
    return load_config(str(write_config(tmp_path / "c.yaml", {"s3": {"kms_key_arn": key}} if key else {})))


def _take_charge(lf) -> None:
    lf.put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": f"arn:aws:iam::{ACCOUNT}:role/admin"}],
        "CreateDatabaseDefaultPermissions": [], "CreateTableDefaultPermissions": []})


def _register(lf, bucket: str) -> None:
    """The bucket root with the service-linked role, the Kiro folders below it with a user-defined role, and another
    bucket (not the reports') with a third role."""
    lf.register_resource(ResourceArn=f"arn:aws:s3:::{bucket}", RoleArn=SERVICE_LINKED)
    lf.register_resource(ResourceArn=f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/KiroLogs", RoleArn=READER)
    lf.register_resource(ResourceArn="arn:aws:s3:::someone-elses-bucket",
                         RoleArn=f"arn:aws:iam::{ACCOUNT}:role/other-reader")
    lf.register_resource(ResourceArn=f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/QDeveloperLogs",
                         RoleArn=CROSS)


def test_step_1_names_the_user_defined_registration_roles_over_the_reports(aws, tmp_path):
    config = _config(tmp_path, aws["key"])
    tables = load_tables(config)
    _register(aws["lf"], config.bucket_name)
    assert stack_role_names(aws["lf"], config, tables) == ""  # IAM decides: no Lake Formation credentials vended
    _take_charge(aws["lf"])
    # lf-reader (by name, its /data/ path dropped) reads KiroLogs; the bucket root's service-linked role cannot take
    # an IAM policy, nor can another account's role (QDeveloperLogs); the other bucket's role reads nothing of ours.
    assert stack_role_names(aws["lf"], config, tables) == "lf-reader"
    assert stack_role_names(aws["lf"], _config(tmp_path), tables) == ""  # no key: nothing to decrypt


def _findings(aws, config):
    return [(f.status, f.message, f.fix) for f in
            registration_key_findings(aws["lf"], aws["kms"], config, load_tables(config))]


def test_the_service_linked_role_needs_the_key_policy_itself(aws, tmp_path):
    config = _config(tmp_path, aws["key"])
    _take_charge(aws["lf"])
    _register(aws["lf"], config.bucket_name)
    # moto's default key policy is AWS's: the account root may use the key, i.e. IAM policies decide.
    def by_role():
        return {next(role for role in (SERVICE_LINKED, READER, CROSS) if role in f[1]): f
                for f in _findings(aws, config)}
    findings = by_role()
    linked, reader, cross = findings[SERVICE_LINKED], findings[READER], findings[CROSS]
    assert linked[0] == "FAIL" and SERVICE_LINKED in linked[1] and "does not allow kms:Decrypt" in linked[1]
    statement = {"Sid": "LakeFormationReadsKiroReports", "Effect": "Allow", "Principal": {"AWS": SERVICE_LINKED},
                 "Action": "kms:Decrypt", "Resource": "*"}
    assert linked[2] == f"add this statement to the key policy of {aws['key']}: {json.dumps(statement)}"
    assert reader == ("OK", f"step 1 gives the registration role {READER} kms:Decrypt on {aws['key']}", "")
    # Another account's role: the stack cannot grant it, and the key policy allows only this account's root.
    assert cross[0] == "FAIL" and "allows neither it nor its account" in cross[1] and CROSS in cross[2]

    policy = json.loads(aws["kms"].get_key_policy(KeyId=aws["key"], PolicyName="default")["Policy"])
    policy["Statement"].append(statement)
    aws["kms"].put_key_policy(KeyId=aws["key"], PolicyName="default", Policy=json.dumps(policy))
    assert {role: finding[0] for role, finding in by_role().items()} == {SERVICE_LINKED: "OK", READER: "OK",
                                                                         CROSS: "FAIL"}


def test_a_key_policy_without_iam_permissions_fails_the_user_defined_role(aws, tmp_path):
    config = _config(tmp_path, aws["key"])
    _take_charge(aws["lf"])
    aws["lf"].register_resource(ResourceArn=f"arn:aws:s3:::{config.bucket_name}", RoleArn=READER)
    admin_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}, "Action": "kms:*",
         "Resource": "*"}]}
    aws["kms"].put_key_policy(KeyId=aws["key"], PolicyName="default", Policy=json.dumps(admin_only),
                              BypassPolicyLockoutSafetyCheck=True)
    [(status, message, fix)] = _findings(aws, config)
    assert status == "FAIL" and "neither allows IAM policies nor names the registration role" in message
    assert f"arn:aws:iam::{ACCOUNT}:root" in fix and READER in fix


def test_a_key_policy_it_may_not_read_is_a_warning_with_the_statement(aws, tmp_path):
    from botocore.exceptions import ClientError

    config = _config(tmp_path, aws["key"])
    _take_charge(aws["lf"])
    aws["lf"].register_resource(ResourceArn=f"arn:aws:s3:::{config.bucket_name}", RoleArn=SERVICE_LINKED)

    def denied(**_):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetKeyPolicy")
    aws["kms"].meta.events.register("before-call.kms.GetKeyPolicy", denied)
    [(status, message, fix)] = _findings(aws, config)
    assert status == "WARN" and "could not read the key policy" in message and "AccessDeniedException" in message
    assert fix.startswith(f"add this statement to the key policy of {aws['key']}") and SERVICE_LINKED in fix
    assert _findings(aws, _config(tmp_path)) == []  # no key configured: nothing to check


def test_preflight_reports_it_on_the_lake_formation_line(aws, tmp_path):
    from kiro_analytics.preflight import FAIL, check_lake_formation

    config = _config(tmp_path, aws["key"])
    _take_charge(aws["lf"])
    aws["lf"].register_resource(ResourceArn=f"arn:aws:s3:::{config.bucket_name}", RoleArn=SERVICE_LINKED)
    # A deployer who is a data lake administrator lacks nothing else: the key is the only finding.
    aws["lf"].put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": f"arn:aws:sts::{ACCOUNT}:user/moto"}],
        "CreateDatabaseDefaultPermissions": [], "CreateTableDefaultPermissions": []})

    class Clients:
        def client(self, name, region=""):
            return {"lakeformation": aws["lf"], "kms": aws["kms"]}.get(name) or boto3.client(name,
                                                                                              region_name="us-east-1")
    check = check_lake_formation(config, Clients())
    assert check.status == FAIL and SERVICE_LINKED in check.message and "kms:Decrypt" in check.fix


def test_another_accounts_role_is_left_to_that_account_when_the_key_trusts_its_root(aws, tmp_path):
    config = _config(tmp_path, aws["key"])
    _take_charge(aws["lf"])
    aws["lf"].register_resource(ResourceArn=f"arn:aws:s3:::{config.bucket_name}", RoleArn=CROSS)
    policy = json.loads(aws["kms"].get_key_policy(KeyId=aws["key"], PolicyName="default")["Policy"])
    policy["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                                "Action": "kms:Decrypt", "Resource": "*"})
    aws["kms"].put_key_policy(KeyId=aws["key"], PolicyName="default", Policy=json.dumps(policy))
    [(status, message, fix)] = _findings(aws, config)
    assert status == "WARN" and "leaves account 444455556666 to decide" in message
    assert fix == f"in account 444455556666, allow kms:Decrypt on {aws['key']} to {CROSS}"
