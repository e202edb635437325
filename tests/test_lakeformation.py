"""Lake Formation against moto: skip when IAM decides, grant exactly what is missing when LF governs (step 2), the
deployer's location access before tables exist (step 1), and what preflight says the deployer lacks."""

from __future__ import annotations

from typing import Dict, FrozenSet, Set, Tuple
from unittest import mock

import boto3
import pytest
from conftest import write_config
from kiro_analytics.config import load_config
from kiro_analytics.lakeformation import (
    caller_role_arn,
    covering_location,
    deployer_gaps,
    grant_missing,
    lake_formation_in_charge,
    prepare_tables,
)
from kiro_analytics.names import RAW_TABLES, USER_MAPPING_TABLE, Names
from kiro_analytics.plan import Recorder
from kiro_analytics.sqlfiles import load_tables
from moto import mock_aws

ACCOUNT = "123456789012"
VIEWS = ("user_days", "user_summary")
EXTRA = "arn:aws:quicksight:us-east-1:123456789012:group/default/kiro-admins"
Grant = Tuple[str, str, str]  # (principal, resource label, permission)


@pytest.fixture
def cfg(tmp_path):
    return load_config(str(write_config(tmp_path / "config.yaml", {
        "quicksight": {"extra_principals": [{"arn": EXTRA, "access": "viewer"}]}})))


@pytest.fixture
def aws(cfg):
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": cfg.database})
        for table in (*RAW_TABLES, USER_MAPPING_TABLE):
            glue.create_table(DatabaseName=cfg.database, TableInput={"Name": table, "TableType": "EXTERNAL_TABLE"})
        for view in VIEWS:
            glue.create_table(DatabaseName=cfg.database, TableInput={"Name": view, "TableType": "VIRTUAL_VIEW"})
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        sso = iam.create_role(RoleName="AWSReservedSSO_Admin_0123456789abcdef", AssumeRolePolicyDocument="{}",
                              Path="/aws-reserved/sso.amazonaws.com/")["Role"]["Arn"]
        creds = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=role, RoleSessionName="alice")["Credentials"]
        # The deploying identity is an assumed-role session, as with SSO or a CI role.
        sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        lf = boto3.client("lakeformation", region_name="us-east-1")
        lf.register_resource(ResourceArn=f"arn:aws:s3:::{cfg.bucket_name}", UseServiceLinkedRole=True)
        sso_creds = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=sso, RoleSessionName="bob@example.com")["Credentials"]
        sso_sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=sso_creds["AccessKeyId"],
                               aws_secret_access_key=sso_creds["SecretAccessKey"],
                               aws_session_token=sso_creds["SessionToken"])
        yield {"glue": glue, "sts": sts, "lf": lf, "iam": iam, "sso_sts": sso_sts, "sso": sso}


def _take_charge(lf, admin: str = f"arn:aws:iam::{ACCOUNT}:role/admin") -> None:
    lf.put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": admin}],
        "CreateDatabaseDefaultPermissions": [], "CreateTableDefaultPermissions": []})


def _grant_all(aws, cfg, recorder):
    return grant_missing(aws["lf"], aws["sts"], aws["glue"], recorder, cfg, Names(cfg), aws["iam"])


def _listed(lf) -> Set[Grant]:
    """Every grant Lake Formation lists, flattened to (principal, resource, permission)."""
    found: Set[Grant] = set()
    params: Dict = {}
    while True:
        page = lf.list_permissions(**params)
        for item in page["PrincipalResourcePermissions"]:
            resource = item["Resource"]
            if "Database" in resource:
                label = f"database {resource['Database']['Name']}"
            elif "Table" in resource:
                label = f"table {resource['Table']['DatabaseName']}.{resource['Table']['Name']}"
            else:
                label = f"location {resource['DataLocation']['ResourceArn']}"
            for permission in item["Permissions"]:
                found.add((item["Principal"]["DataLakePrincipalIdentifier"], label, permission))
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]


def _people(cfg) -> Tuple[str, ...]:
    names = Names(cfg)
    return (cfg.quicksight_user_arn, EXTRA, f"arn:aws:iam::{ACCOUNT}:role/{names.quicksight_role}",
            f"arn:aws:iam::{ACCOUNT}:role/{names.crawler_role}", f"arn:aws:iam::{ACCOUNT}:role/{names.sync_role}",
            f"arn:aws:iam::{ACCOUNT}:role/deployer")


def _expected(cfg) -> FrozenSet[Grant]:
    names = Names(cfg)
    objects = (*RAW_TABLES, USER_MAPPING_TABLE, *VIEWS)
    wanted = {(who, f"database {cfg.database}", "DESCRIBE") for who in _people(cfg)}
    wanted |= {(who, f"table {cfg.database}.{name}", "SELECT") for who in _people(cfg) for name in objects}
    crawler = f"arn:aws:iam::{ACCOUNT}:role/{names.crawler_role}"
    # The crawler creates and updates its discovery tables, and reads where it crawls.
    wanted |= {(crawler, f"database {cfg.database}", p) for p in ("ALTER", "CREATE_TABLE")}
    wanted.add((crawler, f"location arn:aws:s3:::{cfg.bucket_name}", "DATA_LOCATION_ACCESS"))
    return frozenset(wanted)


def _grants(recorder: Recorder) -> int:
    return recorder.calls.count(("lakeformation", "GrantPermissions"))


def test_iam_allowed_principals_default_means_not_in_charge_and_nothing_is_granted(aws, cfg):
    assert lake_formation_in_charge(aws["lf"]) is False  # moto starts with the account default, as AWS does
    recorder = Recorder()
    result = _grant_all(aws, cfg, recorder)
    assert result.in_charge is False and result.granted == [] and result.already == 0
    assert recorder.calls == []
    assert "not in charge" in result.summary()
    assert _listed(aws["lf"]) == set()


def test_only_one_default_with_iam_allowed_principals_still_means_iam_decides(aws):
    aws["lf"].put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [], "CreateDatabaseDefaultPermissions": [],
        "CreateTableDefaultPermissions": [{"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
                                           "Permissions": ["ALL"]}]})
    assert lake_formation_in_charge(aws["lf"]) is False


def test_assumed_role_caller_becomes_its_role_arn_with_its_path(aws):
    assert caller_role_arn(aws["sts"], aws["iam"]) == f"arn:aws:iam::{ACCOUNT}:role/deployer"
    # An Identity Center (SSO) session: its ARN has no path, the role's has, and Lake Formation wants the role's.
    assert aws["sso_sts"].get_caller_identity()["Arn"].startswith(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/")
    assert caller_role_arn(aws["sso_sts"], aws["iam"]) == aws["sso"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef")
    plain = boto3.client("sts", region_name="us-east-1")
    assert caller_role_arn(plain, aws["iam"]) == plain.get_caller_identity()["Arn"]  # a user ARN stays as it is


def test_in_charge_grants_every_principal_then_rerun_grants_nothing(aws, cfg):
    _take_charge(aws["lf"])
    assert lake_formation_in_charge(aws["lf"]) is True
    recorder = Recorder()
    with mock.patch.object(aws["lf"], "list_permissions", wraps=aws["lf"].list_permissions) as listing:
        result = _grant_all(aws, cfg, recorder)
    assert listing.call_count == 44 * 2  # a look before each grant, and one after it to verify it

    expected = _expected(cfg)
    assert _listed(aws["lf"]) == expected
    # 6 principals x (DESCRIBE on the database + SELECT on 4 tables and 2 views), the crawler's ALTER and
    # CREATE_TABLE on the database (one grant) and its location access.
    assert len(expected) == 6 * 7 + 2 + 1
    assert _grants(recorder) == 44 and len(result.granted) == 44 and result.already == 0
    assert result.principals == list(_people(cfg))
    assert result.summary() == ("44 grant(s) added, 0 already in place, for 6 principal(s); "
                                "verified with ListPermissions")

    rerun = Recorder()
    with mock.patch.object(aws["lf"], "list_permissions", wraps=aws["lf"].list_permissions) as listing:
        again = _grant_all(aws, cfg, rerun)
    assert _grants(rerun) == 0 and rerun.calls == []
    assert again.granted == [] and again.already == 44
    assert listing.call_count == 44  # one look per wanted grant; nothing granted, so nothing listed again
    assert _listed(aws["lf"]) == expected


def test_partially_granted_state_grants_only_what_is_missing(aws, cfg):
    _take_charge(aws["lf"])
    lf, names = aws["lf"], Names(cfg)
    crawler = f"arn:aws:iam::{ACCOUNT}:role/{names.crawler_role}"
    lf.grant_permissions(Principal={"DataLakePrincipalIdentifier": cfg.quicksight_user_arn},
                         Resource={"Database": {"Name": cfg.database}}, Permissions=["DESCRIBE"])
    for table in RAW_TABLES:
        lf.grant_permissions(Principal={"DataLakePrincipalIdentifier": crawler},
                             Resource={"Table": {"DatabaseName": cfg.database, "Name": table}}, Permissions=["SELECT"])
    # Another permission on the same table is not SELECT: SELECT must still be granted.
    lf.grant_permissions(Principal={"DataLakePrincipalIdentifier": EXTRA},
                         Resource={"Table": {"DatabaseName": cfg.database, "Name": "user_days"}},
                         Permissions=["ALTER"])
    before = _listed(lf)
    recorder = Recorder()
    result = _grant_all(aws, cfg, recorder)

    assert result.already == 4
    assert _grants(recorder) == 44 - 4 == len(result.granted)
    assert _listed(lf) == _expected(cfg) | before
    assert not any(line.endswith(f"to {crawler}") and f"{cfg.database}.{RAW_TABLES[0]}" in line
                   for line in result.granted)
    assert f"SELECT on Table {cfg.database}.user_days to {EXTRA}" in result.granted


def test_unregistered_bucket_gets_no_location_grant(aws, cfg):
    _take_charge(aws["lf"])
    aws["lf"].deregister_resource(ResourceArn=f"arn:aws:s3:::{cfg.bucket_name}")
    recorder = Recorder()
    _grant_all(aws, cfg, recorder)
    assert _grants(recorder) == 43
    assert not any(label.startswith("location") for _, label, _ in _listed(aws["lf"]))


def test_dry_run_records_the_grants_and_sends_none(aws, cfg, tmp_path):
    _take_charge(aws["lf"])
    recorder = Recorder(dry_run=True, out_dir=tmp_path, step=2)
    result = _grant_all(aws, cfg, recorder)
    assert len(result.granted) == 44
    assert len(list((tmp_path / "requests").glob("02-*-lakeformation-GrantPermissions.json"))) == 44
    assert _listed(aws["lf"]) == set()


def test_a_registered_sub_path_gets_the_grant_not_the_bucket_root(aws, cfg):
    _take_charge(aws["lf"])
    lf = aws["lf"]
    lf.deregister_resource(ResourceArn=f"arn:aws:s3:::{cfg.bucket_name}")
    kiro = f"arn:aws:s3:::{cfg.bucket_name}/AWSLogs/{ACCOUNT}/KiroLogs"
    lf.register_resource(ResourceArn=kiro, UseServiceLinkedRole=True)
    _grant_all(aws, cfg, Recorder())
    locations = {label for _, label, permission in _listed(lf) if label.startswith("location")}
    assert locations == {f"location {kiro}"}  # a grant on the bucket root would be refused: it is not registered
    assert covering_location([kiro], f"s3://{cfg.bucket_name}/AWSLogs/{ACCOUNT}/QDeveloperLogs/x/") is None
    assert covering_location([kiro, kiro + "/user_report"],
                             f"s3://{cfg.bucket_name}/AWSLogs/{ACCOUNT}/KiroLogs/user_report/") == kiro + "/user_report"
    assert covering_location([kiro], f"s3://{cfg.bucket_name}/AWSLogs/{ACCOUNT}/KiroLogsX/") is None


def test_step_1_gives_a_non_admin_deployer_location_access_before_the_tables(aws, cfg):
    _take_charge(aws["lf"])
    recorder = Recorder()
    result = prepare_tables(aws["lf"], aws["sts"], aws["iam"], recorder, cfg, Names(cfg), load_tables(cfg))
    assert result.granted == [f"DATA_LOCATION_ACCESS on DataLocation arn:aws:s3:::{cfg.bucket_name} to "
                              f"arn:aws:iam::{ACCOUNT}:role/deployer"]
    again = Recorder()
    prepare_tables(aws["lf"], aws["sts"], aws["iam"], again, cfg, Names(cfg), load_tables(cfg))
    assert again.calls == []
    # A data lake administrator has location access everywhere already: nothing to grant.
    _take_charge(aws["lf"], admin=f"arn:aws:iam::{ACCOUNT}:role/deployer")
    admin = Recorder()
    assert prepare_tables(aws["lf"], aws["sts"], aws["iam"], admin, cfg, Names(cfg), load_tables(cfg)).granted == []
    assert admin.calls == []


def test_preflight_names_what_a_non_admin_deployer_lacks(aws, cfg):
    names, tables = Names(cfg), load_tables(cfg)
    assert deployer_gaps(aws["lf"], aws["sts"], aws["iam"], aws["glue"], cfg, names, tables) == []  # IAM decides
    _take_charge(aws["lf"])
    aws["glue"].delete_database(Name=cfg.database)
    gaps = deployer_gaps(aws["lf"], aws["sts"], aws["iam"], aws["glue"], cfg, names, tables)
    assert gaps == ["CREATE_DATABASE on the Data Catalog (CloudFormation creates the database as you)",
                    f"DATA_LOCATION_ACCESS with grant option on arn:aws:s3:::{cfg.bucket_name} (steps 1 and 5 "
                    "create tables there, steps 2 and 5 grant it to the crawler and sync roles)"]
    deployer = {"DataLakePrincipalIdentifier": f"arn:aws:iam::{ACCOUNT}:role/deployer"}
    aws["lf"].grant_permissions(Principal=deployer, Resource={"Catalog": {}}, Permissions=["CREATE_DATABASE"])
    aws["lf"].grant_permissions(Principal=deployer, Resource={"DataLocation": {
        "ResourceArn": f"arn:aws:s3:::{cfg.bucket_name}"}}, Permissions=["DATA_LOCATION_ACCESS"],
        PermissionsWithGrantOption=["DATA_LOCATION_ACCESS"])
    assert deployer_gaps(aws["lf"], aws["sts"], aws["iam"], aws["glue"], cfg, names, tables) == []
    _take_charge(aws["lf"], admin=deployer["DataLakePrincipalIdentifier"])
    assert deployer_gaps(aws["lf"], aws["sts"], aws["iam"], aws["glue"], cfg, names, tables) == []


def test_the_fact_table_is_written_by_the_sync_role_and_read_by_everyone(aws, cfg):
    """Step 5 creates the Iceberg fact table, then grants: every reader SELECT on it (QuickSight reads it through the
    views), the daily facts run's role what its DELETE, INSERT, OPTIMIZE and VACUUM need (INSERT, DELETE; ALTER for
    each commit's new metadata location; DESCRIBE), and data location access where the table lives when that is
    registered (ALTER on a table in a registered location needs it)."""
    _take_charge(aws["lf"])
    lf, names = aws["lf"], Names(cfg)
    facts_location = f"arn:aws:s3:::{names.results_bucket}/facts"
    lf.register_resource(ResourceArn=facts_location, UseServiceLinkedRole=True)
    sync = f"arn:aws:iam::{ACCOUNT}:role/{names.sync_role}"
    fact = f"table {cfg.database}.report_line_facts"

    # Step 2 of a first deploy: the fact table does not exist yet, so nothing is granted on it (a grant on a missing
    # table fails); step 5 makes these grants once it has created it.
    _grant_all(aws, cfg, Recorder())
    assert not any(label == fact for _, label, _ in _listed(lf))
    assert (sync, f"location {facts_location}", "DATA_LOCATION_ACCESS") not in _listed(lf)

    aws["glue"].create_table(DatabaseName=cfg.database, TableInput={
        "Name": "report_line_facts", "TableType": "EXTERNAL_TABLE", "Parameters": {"table_type": "ICEBERG"}})
    recorder = Recorder()
    result = _grant_all(aws, cfg, recorder)
    listed = _listed(lf)
    on_fact = {(who, permission) for who, label, permission in listed if label == fact}
    assert on_fact == {(who, "SELECT") for who in _people(cfg)} | {
        (sync, permission) for permission in ("ALTER", "DELETE", "DESCRIBE", "INSERT")}
    assert (sync, f"location {facts_location}", "DATA_LOCATION_ACCESS") in listed
    # Only the writer writes: no reader (QuickSight's user and role, the crawler) may change the facts.
    assert not {(who, p) for who, p in on_fact if p != "SELECT" and who != sync}
    assert {who for who, label, p in listed if label == f"location {facts_location}"} == {sync}
    assert f"ALTER,DELETE,DESCRIBE,INSERT on Table {cfg.database}.report_line_facts to {sync}" in result.granted
    again = Recorder()
    _grant_all(aws, cfg, again)
    assert again.calls == []


def test_a_non_admin_deployer_gets_location_access_where_step_5_creates_the_facts(aws, cfg):
    _take_charge(aws["lf"])
    names = Names(cfg)
    facts_location = f"arn:aws:s3:::{names.results_bucket}/facts"
    aws["lf"].register_resource(ResourceArn=facts_location, UseServiceLinkedRole=True)
    deployer = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    gaps = deployer_gaps(aws["lf"], aws["sts"], aws["iam"], aws["glue"], cfg, names, load_tables(cfg))
    assert any(gap.startswith(f"DATA_LOCATION_ACCESS with grant option on {facts_location} ") for gap in gaps)
    result = prepare_tables(aws["lf"], aws["sts"], aws["iam"], Recorder(), cfg, names, load_tables(cfg))
    assert f"DATA_LOCATION_ACCESS on DataLocation {facts_location} to {deployer}" in result.granted
