"""Steps 1–6 against in-process moto plus the strict stand-ins, each step's result asserted, then run again."""

from __future__ import annotations

import csv
import io

import boto3
import pytest
from alarm_branch import assert_with_email, assert_without_email, deployed_alarm_branch
from aws_steps import context, script
from conftest import write_config
from kiro_analytics.config import load_config
from kiro_analytics.names import RAW_TABLES, SEAT_ROSTER_TABLE, USER_MAPPING_TABLE, Names
from kiro_analytics.sqlfiles import load_views
from moto import mock_aws
from moto.moto_api import state_manager
from standins import cloudformation as cfn_standin
from standins.athena import athena_catalog
from standins.awslambda import lambda_runs
from standins.glue import crawls

STORE = "d-1234567890"


@pytest.fixture
def aws(config):
    cfn_standin.register()
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    try:
        with mock_aws(), athena_catalog() as athena, crawls(), lambda_runs():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=config.bucket_name)
            # What every S3 bucket has had since January 2023 (moto has no default of its own).
            s3.put_bucket_encryption(Bucket=config.bucket_name, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
            # One report file per family the discovery crawlers read (the counts themselves come from answers).
            for folder, header in (("user_report", "Date,UserId,Client_Type,Credits_Used,Total_Messages"),
                                   ("by_user_analytic", "UserId,Date,Chat_AICodeLines")):
                s3.put_object(Bucket=config.bucket_name,
                              Key=f"{config.report_root}KiroLogs/{folder}/us-east-1/2026/02/20/00/r.csv",
                              Body=f"{header}\n".encode())
            yield athena
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def _users(count: int):
    client = boto3.client("identitystore", region_name="us-east-1")
    ids = []
    for index in range(count):
        ids.append(client.create_user(
            IdentityStoreId=STORE, UserName=f"user{index}", DisplayName=f"User, \"{index}\"",
            Name={"GivenName": "U", "FamilyName": str(index)},
            Emails=[{"Value": f"user{index}@example.com", "Primary": True}])["UserId"])
    group = client.create_group(IdentityStoreId=STORE, DisplayName="Platform")["GroupId"]
    client.create_group_membership(IdentityStoreId=STORE, GroupId=group, MemberId={"UserId": ids[0]})
    return ids


def test_steps_1_to_6_then_rerun_reports_unchanged(aws, config, tmp_path, capsys):
    names = Names(config)
    ids = _users(3)
    outsider = "0123456789-abcdef01-2345-6789-abcd-ef0123456789"  # an external-IdP user: not in the store
    aws.answer(lambda sql: [{"user_id": i} for i in [*ids[:2], outsider]]
               if "distinct lower(user_id)" in sql.lower() else None)
    aws.answer(lambda sql: [{"table_name": "user_report_raw", "row_count": "42", "first_day": "2026-02-10",
                             "last_day": "2026-02-20"},
                            {"table_name": "kiro_by_user_analytic_raw", "row_count": "7", "first_day": "2026-02-11",
                             "last_day": "2026-02-19"},
                            {"table_name": "qdev_by_user_analytic_raw", "row_count": "0", "first_day": None,
                             "last_day": None}]
               if "count_if" in sql else None)
    # Step 5's facts refresh asks which files the facts hold: none on the first run, what it loaded on the rerun.
    loaded: list = []
    aws.answer(lambda sql: list(loaded) if "GROUP BY source_day, source_path" in sql else None)

    first = script(1).action(context(config, 1, tmp_path))
    assert first.startswith("stack created; code uploaded")
    glue = boto3.client("glue", region_name="us-east-1")
    assert {t["Name"] for t in glue.get_tables(DatabaseName=names.database)["TableList"]} == {
        *RAW_TABLES, USER_MAPPING_TABLE, SEAT_ROSTER_TABLE}
    crawler = glue.get_crawler(Name=names.crawler("user-report"))["Crawler"]
    assert crawler["Targets"]["S3Targets"] == [
        {"Path": f"s3://{config.bucket_name}/{config.report_root}KiroLogs/user_report/"}]
    assert crawler["TablePrefix"] == "discovered_" and crawler["DatabaseName"] == names.database
    raw = glue.get_table(DatabaseName=names.database, Name="user_report_raw")["Table"]
    assert raw["PartitionKeys"] == [{"Name": "region", "Type": "string"}, {"Name": "day", "Type": "string"}]
    assert raw["Parameters"]["projection.enabled"] == "true"
    workgroup = boto3.client("athena", region_name="us-east-1").get_work_group(WorkGroup=names.workgroup)
    configuration = workgroup["WorkGroup"]["Configuration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == config.bytes_scanned_cutoff
    assert configuration["ResultConfiguration"]["OutputLocation"] == f"s3://{names.results_bucket}/athena/"
    lam = boto3.client("lambda", region_name="us-east-1").get_function(FunctionName=names.sync_function)
    assert lam["Configuration"]["Environment"]["Variables"]["WORKGROUP"] == names.workgroup
    assert "QuickSightRoleArn" in capsys.readouterr().out
    # No alarm e-mail (the default): alarms without actions, no topic, no digest.
    assert_without_email(deployed_alarm_branch(_client, names), names)

    assert "not in charge" in script(2).action(context(config, 2, tmp_path))  # moto's default: IAM decides
    boto3.client("lakeformation", region_name="us-east-1").put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:iam::123456789012:role/admin"}],
        "CreateDatabaseDefaultPermissions": [], "CreateTableDefaultPermissions": []})
    granted = script(2).action(context(config, 2, tmp_path))
    # 5 principals (QuickSight user and role, crawler and sync roles, deployer) x (DESCRIBE on the database +
    # SELECT on the 5 tables), and the crawler's CREATE_TABLE/ALTER; the views do not exist yet, step 5 grants on them.
    assert granted.startswith("31 grant(s) added, 0 already in place, for 5 principal(s)")
    crawled = script(3).action(context(config, 3, tmp_path))
    assert crawled.count("succeeded") == 2 and "discovered_user_report 5 columns (1 table(s) created" in crawled
    verified = script(4).action(context(config, 4, tmp_path))
    assert "user_report_raw 42 rows (2026-02-10 … 2026-02-20)" in verified
    views = script(5).action(context(config, 5, tmp_path))
    view_count = len(load_views(config))
    # The crawlers' two discovery tables and the five fact tables (two of line facts, three aggregates) are in the
    # database too: SELECT on them as on every table; the sync role also gets what the daily facts run writes with
    # (one grant per fact table). The one report file's day folder is loaded into the facts, those days compacted,
    # old snapshots vacuumed; the aggregates, new, are loaded for every month after the views.
    assert views == (f"{view_count} view(s): {view_count} created; facts: 1 day(s) loaded (2026-02-20) of 1; "
                     "optimized 1 range(s); vacuumed; aggregates: every month reloaded (1 range(s); plan_tiers, "
                     f"report_line_status, source_file_facts changed); Lake Formation: {5 * (view_count + 7) + 5} "
                     "grant(s) added")
    listed = boto3.client("s3").list_objects_v2(Bucket=config.bucket_name, Prefix=config.report_root)["Contents"]
    loaded += [{"source_day": "2026-02-20", "source_path": f"s3://{config.bucket_name}/{item['Key']}"}
               for item in listed if "/2026/02/20/" in item["Key"]]
    with lambda_runs() as runs:
        synced = script(6).action(context(config, 6, tmp_path))
    assert synced.startswith("3 user(s)") and "2 from Identity Center" in synced and "1 by id only" in synced
    # Then the deployed function ran once, with the schedule's event and the stack's environment, and found the map
    # the local sync had just written: the same code, the same answer.
    assert synced.endswith("deployed function ran: 3 user(s), map unchanged, 2 from Identity Center")
    assert [(run["event"], run["errored"]) for run in runs] == [({"action": "sync"}, False)]
    body = boto3.client("s3").get_object(Bucket=config.bucket_name, Key=config.user_mapping_key)
    assert body["ServerSideEncryption"] == "AES256"  # the bucket's default: step 6 sent no encryption header
    rows = list(csv.DictReader(io.StringIO(body["Body"].read().decode())))
    assert {r["userid"]: r["groups"] for r in rows}[ids[0]] == "Platform"

    # Second run: nothing to do anywhere; the deployed template and parameters are compared, no UpdateStack sent.
    assert script(1).action(context(config, 1, tmp_path)) == "stack unchanged; code unchanged; tables unchanged"
    assert script(2).action(context(config, 2, tmp_path)).startswith(
        f"unchanged: 0 grant(s) added, {5 * (1 + 5 + 2 + 5 + view_count) + 6} already in place")
    rerun = script(5).action(context(config, 5, tmp_path))
    assert rerun.endswith(f"{view_count} unchanged; facts: unchanged (1 day folder(s) current); "
                          "aggregates: unchanged; Lake Formation: 0 grant(s) added")
    assert "(unchanged)" in script(6).action(context(config, 6, tmp_path))


def _client(service: str):
    return boto3.client(service, region_name="us-east-1")


def test_step_1_with_an_alarm_email_deploys_topic_alarm_actions_and_digest(aws, tmp_path):
    config = load_config(str(write_config(tmp_path / "alarm.yaml", {"lambda": {"alarm_email": "ops@example.com"}})))
    names = Names(config)
    assert script(1).action(context(config, 1, tmp_path)).startswith("stack created")
    assert_with_email(deployed_alarm_branch(_client, names), names, "ops@example.com")
    assert script(1).action(context(config, 1, tmp_path)) == "stack unchanged; code unchanged; tables unchanged"


def test_step_1_gives_the_lake_formation_registration_role_the_report_key(aws, tmp_path):
    """A KMS bucket under Lake Formation: the role the reports' location is registered with reads them for Athena,
    QuickSight and the crawlers, so step 1 finds it (ListResources) and the stack gives it kms:Decrypt on the key."""
    key = _client("kms").create_key()["KeyMetadata"]["Arn"]
    config = load_config(str(write_config(tmp_path / "kms.yaml", {"s3": {"kms_key_arn": key}})))
    reader = _client("iam").create_role(RoleName="lf-reader", Path="/data/", AssumeRolePolicyDocument="{}")["Role"]
    lf = _client("lakeformation")
    lf.register_resource(ResourceArn=f"arn:aws:s3:::{config.bucket_name}", RoleArn=reader["Arn"])
    lf.put_data_lake_settings(DataLakeSettings={
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:sts::123456789012:user/moto"}],
        "CreateDatabaseDefaultPermissions": [], "CreateTableDefaultPermissions": []})
    assert script(1).action(context(config, 1, tmp_path)).startswith("stack created")
    names = Names(config)
    stack = _client("cloudformation").describe_stacks(StackName=names.stack)["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["LakeFormationKeyRoles"] == "lf-reader"
    document = _client("iam").get_role_policy(RoleName="lf-reader", PolicyName=f"{names.database}-decrypt-reports")
    assert document["PolicyDocument"]["Statement"] == [{"Sid": "DecryptRegisteredReports", "Effect": "Allow",
                                                        "Action": "kms:Decrypt", "Resource": key}]


def test_dry_run_of_step_1_records_and_changes_nothing(aws, config, tmp_path):
    result = script(1).action(context(config, 1, tmp_path, dry_run=True))
    assert result.startswith("stack planned; code to upload")
    recorded = sorted(p.name.split("-", 2)[2] for p in (tmp_path / "requests").glob("*.json"))
    assert "s3-PutObject.json" in recorded and "cloudformation-CreateStack.json" in recorded
    assert recorded.count("athena-StartQueryExecution.json") == len(RAW_TABLES) + 2  # + user_mapping, seat_roster
    assert boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"] == []


def test_adding_then_removing_the_alarm_email_updates_the_stack(aws, config, tmp_path):
    names = Names(config)
    script(1).action(context(config, 1, tmp_path))
    assert_without_email(deployed_alarm_branch(_client, names), names)
    with_email = load_config(str(write_config(tmp_path / "alarm.yaml", {"lambda": {"alarm_email": "ops@example.com"}})))
    assert script(1).action(context(with_email, 1, tmp_path)).startswith("stack updated")
    assert_with_email(deployed_alarm_branch(_client, names), names, "ops@example.com")
    assert script(1).action(context(config, 1, tmp_path)).startswith("stack updated")
    assert_without_email(deployed_alarm_branch(_client, names), names, after_removal=True)


def test_step_6_reports_the_deployed_functions_own_failure(aws, config, tmp_path):
    """What the first scheduled night would hit is found at deploy time: a function error fails step 6 with the
    function's own message and log tail."""
    names = Names(config)
    aws.answer(lambda sql: [] if "distinct lower(user_id)" in sql.lower() else None)
    script(1).action(context(config, 1, tmp_path))
    lam = boto3.client("lambda", region_name="us-east-1")
    variables = lam.get_function_configuration(FunctionName=names.sync_function)["Environment"]["Variables"]
    lam.update_function_configuration(FunctionName=names.sync_function, Environment={"Variables": {
        key: value for key, value in variables.items() if key != "IDENTITY_STORE_ID"}})
    with lambda_runs() as runs, pytest.raises(Exception) as failure:
        script(6).action(context(config, 6, tmp_path))
    text = str(failure.value)
    assert f"the deployed function {names.sync_function} failed when run as its schedule will run it" in text
    assert "InputError: the function is missing environment variable(s) IDENTITY_STORE_ID" in text
    assert "identity_center.role_arn" in text and runs[0]["errored"] is True
