"""The CloudFormation stand-ins for AWS::CloudWatch::Alarm and AWS::S3::BucketPolicy: created when valid, refused
(CreateStack fails) when CloudWatch or S3 would refuse them, updated and deleted with the stack; and the fixes to
moto's condition handling (YAML `!Condition`, conditions that change value on update)."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from standins import cloudformation as cfn_standin
from standins.cloudformation import InvalidTemplateResource

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ops-alarms"
ALARM: Dict[str, Any] = {
    "AlarmName": "sync-errors", "AlarmDescription": "sync failed", "Namespace": "AWS/Lambda", "MetricName": "Errors",
    "Dimensions": [{"Name": "FunctionName", "Value": "sync"}], "Statistic": "Sum", "Period": "86400",
    "EvaluationPeriods": "2", "DatapointsToAlarm": "2", "Threshold": "1", "ComparisonOperator": "LessThanThreshold",
    "TreatMissingData": "breaching", "AlarmActions": [{"Ref": "Topic"}]}
POLICY: Dict[str, Any] = {"Version": "2012-10-17", "Statement": [{
    "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, {"Fn::Sub": "${Bucket.Arn}/*"}],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def template(alarm: Dict[str, Any] | None = None, policy: Dict[str, Any] | None = None) -> str:
    resources: Dict[str, Any] = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "ops-alarms"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "results-bucket"}},
        "Other": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "other-bucket"}},
    }
    if alarm is not None:
        resources["Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": alarm}
    if policy is not None:
        resources["Policy"] = {"Type": "AWS::S3::BucketPolicy",
                               "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": policy}}
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


def changed(base: Dict[str, Any], path: str, value: Any) -> Dict[str, Any]:
    """A deep copy of ``base`` with the dotted ``path`` set to ``value`` (or removed when value is ...)."""
    result = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return result


@pytest.fixture
def aws() -> Iterator[Dict[str, Any]]:
    cfn_standin.register()
    with mock_aws():
        yield {service: boto3.client(service, region_name="us-east-1")
               for service in ("cloudformation", "cloudwatch", "s3", "sns")}


def test_alarm_from_the_template_is_created_with_coerced_types(aws):
    aws["cloudformation"].create_stack(StackName="s", TemplateBody=template(alarm=ALARM))
    assert aws["cloudformation"].describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    [alarm] = aws["cloudwatch"].describe_alarms()["MetricAlarms"]
    assert {key: alarm[key] for key in ("AlarmName", "AlarmDescription", "Namespace", "MetricName", "Dimensions",
                                        "Statistic", "Period", "EvaluationPeriods", "DatapointsToAlarm",
                                        "Threshold", "ComparisonOperator", "TreatMissingData", "AlarmActions")} == {
        "AlarmName": "sync-errors", "AlarmDescription": "sync failed", "Namespace": "AWS/Lambda",
        "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "sync"}], "Statistic": "Sum",
        "Period": 86400, "EvaluationPeriods": 2, "DatapointsToAlarm": 2, "Threshold": 1.0,
        "ComparisonOperator": "LessThanThreshold", "TreatMissingData": "breaching", "AlarmActions": [TOPIC_ARN]}


def test_alarm_without_a_name_gets_the_generated_one(aws):
    aws["cloudformation"].create_stack(StackName="s", TemplateBody=template(alarm=changed(ALARM, "AlarmName", ...)))
    [alarm] = aws["cloudwatch"].describe_alarms()["MetricAlarms"]
    assert alarm["AlarmName"].startswith("s-Alarm-")


@pytest.mark.parametrize("changes, reason", [
    ({"Period": "45"}, "Period 45: CloudWatch accepts 10, 20, 30 or a multiple of 60"),
    ({"Period": "0"}, "below the minimum 1"),
    ({"ComparisonOperator": "GreaterThan"}, "'GreaterThan' is not one of GreaterThanOrEqualToThreshold"),
    ({"ComparisonOperator": "LessThanLowerThreshold"}, "goes with ThresholdMetricId"),
    ({"ComparisonOperator": ...}, "ComparisonOperator is required"),
    ({"Statistic": "Total"}, "'Total' is not one of SampleCount"),
    ({"Statistic": ...}, "exactly one of Statistic or ExtendedStatistic"),
    ({"EvaluationPeriods": "8"}, "Period x EvaluationPeriods = 691200 s: at most 604800 s"),
    ({"Period": "300", "EvaluationPeriods": "289", "DatapointsToAlarm": "1"},
     "Period x EvaluationPeriods = 86700 s: at most 86400 s for a sub-hour"),
    ({"DatapointsToAlarm": "3"}, "DatapointsToAlarm 3 is more than EvaluationPeriods 2"),
    ({"TreatMissingData": "zero"}, "TreatMissingData 'zero'"),
    ({"AlarmActions": ["ops@example.com"]}, "AlarmActions: 'ops@example.com' is not an action ARN"),
    ({"AlarmActions": [TOPIC_ARN] * 6}, "6 items, at most 5 allowed"),
    ({"Threshold": "high"}, "Invalid type for parameter Threshold"),
    ({"Threshold": ...}, "Threshold is required"),
    ({"Namespace": ":AWS/Lambda"}, "does not match the pattern"),
    ({"MetricName": ...}, "MetricName is required"),
    ({"Dimensions": [{"Name": "FunctionName"}]}, "Missing required parameter"),
    ({"Unit": "Hours"}, "'Hours' is not one of Seconds"),
    ({"Color": "red"}, "Color is not an Alarm property"),
])
def test_alarm_the_service_refuses_fails_create_stack(aws, changes, reason):
    alarm = ALARM
    for path, value in changes.items():
        alarm = changed(alarm, path, value)
    with pytest.raises(InvalidTemplateResource, match=reason.replace("(", r"\(").replace(")", r"\)")):
        aws["cloudformation"].create_stack(StackName="bad", TemplateBody=template(alarm=alarm))
    assert aws["cloudwatch"].describe_alarms()["MetricAlarms"] == []


def test_alarm_periods_cloudwatch_accepts(aws):
    for index, (period, periods) in enumerate([("10", "8640"), ("60", "1440"), ("3600", "168"), ("86400", "7")]):
        alarm = {**ALARM, "AlarmName": f"a{index}", "Period": period, "EvaluationPeriods": periods,
                 "DatapointsToAlarm": "1"}
        aws["cloudformation"].create_stack(StackName=f"s{index}", TemplateBody=template(alarm=alarm).replace(
            "results-bucket", f"results-{index}").replace("other-bucket", f"other-{index}").replace(
            "ops-alarms", f"ops-{index}"))
    assert sorted((a["Period"], a["EvaluationPeriods"]) for a in aws["cloudwatch"].describe_alarms()["MetricAlarms"]) \
        == [(10, 8640), (60, 1440), (3600, 168), (86400, 7)]


def test_alarm_update_overwrites_rename_replaces_and_delete_removes(aws):
    cf, cw = aws["cloudformation"], aws["cloudwatch"]
    cf.create_stack(StackName="s", TemplateBody=template(alarm=ALARM))
    cf.update_stack(StackName="s", TemplateBody=template(alarm=changed(ALARM, "Threshold", "3")))
    assert [(a["AlarmName"], a["Threshold"]) for a in cw.describe_alarms()["MetricAlarms"]] == [("sync-errors", 3.0)]
    cf.update_stack(StackName="s", TemplateBody=template(alarm=changed(ALARM, "AlarmName", "renamed")))
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["renamed"]
    cf.delete_stack(StackName="s")
    assert cw.describe_alarms()["MetricAlarms"] == []


def test_bucket_policy_is_put_and_tls_clients_keep_access(aws):
    aws["cloudformation"].create_stack(StackName="s", TemplateBody=template(policy=POLICY))
    stored = json.loads(aws["s3"].get_bucket_policy(Bucket="results-bucket")["Policy"])
    assert stored["Statement"][0]["Resource"] == ["arn:aws:s3:::results-bucket", "arn:aws:s3:::results-bucket/*"]
    assert stored["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        aws["s3"].get_bucket_policy(Bucket="other-bucket")
    # Emulated clients stand for TLS clients: the deny-plain-HTTP statement must not lock them out.
    aws["s3"].put_object(Bucket="results-bucket", Key="athena/q.csv", Body=b"a")
    assert aws["s3"].get_object(Bucket="results-bucket", Key="athena/q.csv")["Body"].read() == b"a"


def test_other_bucket_policy_statements_are_still_enforced(aws):
    deny_reads = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${Bucket.Arn}/*"}}]}
    aws["cloudformation"].create_stack(StackName="s", TemplateBody=template(policy=deny_reads))
    aws["s3"].put_object(Bucket="results-bucket", Key="k", Body=b"a")
    with pytest.raises(ClientError, match=r"403|AccessDenied"):
        aws["s3"].get_object(Bucket="results-bucket", Key="k")


STATEMENT = "Statement.0"


@pytest.mark.parametrize("path, value, reason", [
    (f"{STATEMENT}.Effect", ..., "Effect None is not Allow or Deny"),
    (f"{STATEMENT}.Effect", "Permit", "Effect 'Permit' is not Allow or Deny"),
    (f"{STATEMENT}.Resource", ["arn:aws:s3:::other-bucket/*"],
     "Resource 'arn:aws:s3:::other-bucket/\\*' is not an ARN of bucket 'results-bucket'"),
    (f"{STATEMENT}.Resource", "*", "Resource '\\*' is not an ARN of bucket"),
    (f"{STATEMENT}.Resource", ..., "exactly one of Resource or NotResource"),
    (f"{STATEMENT}.NotAction", "s3:GetObject", "exactly one of Action or NotAction"),
    (f"{STATEMENT}.Action", "sqs:SendMessage", "Action 'sqs:SendMessage' is not an S3 action"),
    (f"{STATEMENT}.Principal", ..., "exactly one of Principal or NotPrincipal"),
    (f"{STATEMENT}.Principal", {"Users": "bob"}, "Principal .*Users.* is not \"\\*\" or a map of AWS"),
    (f"{STATEMENT}.Sid", "deny insecure", "Sid 'deny insecure' must be letters and digits"),
    (f"{STATEMENT}.Condition", {"Bool": {"aws:SecureTransport": "maybe"}}, "is not true or false"),
    (f"{STATEMENT}.Condition", {"StringEqual": {"aws:UserAgent": "x"}}, "unknown condition operator StringEqual"),
    (f"{STATEMENT}.Actions", "s3:*", "unknown element Actions"),
    ("Version", ..., "Version None is not one of"),
    ("Version", "2024-01-01", "Version '2024-01-01' is not one of"),
    ("Statement", [], "Statement must be a statement or a non-empty list"),
])
def test_bucket_policy_s3_refuses_fails_create_stack(aws, path, value, reason):
    with pytest.raises(InvalidTemplateResource, match=reason):
        aws["cloudformation"].create_stack(StackName="s", TemplateBody=template(policy=changed(POLICY, path, value)))
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        aws["s3"].get_bucket_policy(Bucket="results-bucket")


def test_bucket_policy_accepts_the_grammar_s3_accepts(aws):
    policy = changed(POLICY, STATEMENT, {
        "Sid": "ReadForOneRole", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:role/r"]},
        "Action": ["s3:GetObject", "s3:List*"], "Resource": ["arn:aws:s3:::results-bucket/athena/*"],
        "Condition": {"ForAnyValue:StringLike": {"s3:prefix": ["athena/*"]},
                      "BoolIfExists": {"aws:ViaAWSService": True}}})
    policy = json.dumps(policy)  # a Json property may arrive as text
    aws["cloudformation"].create_stack(StackName="s", TemplateBody=json.dumps({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "results-bucket"}},
        "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": "results-bucket",
                                                                   "PolicyDocument": policy}}}}))
    assert json.loads(aws["s3"].get_bucket_policy(Bucket="results-bucket")["Policy"]) == json.loads(policy)


def test_bucket_policy_removed_from_the_template_is_deleted_and_the_stack_deletes_cleanly(aws):
    cf = aws["cloudformation"]
    cf.create_stack(StackName="s", TemplateBody=template(policy=POLICY))
    cf.update_stack(StackName="s", TemplateBody=template())
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        aws["s3"].get_bucket_policy(Bucket="results-bucket")
    cf.create_stack(StackName="t", TemplateBody=template(policy=POLICY).replace("-bucket", "-bucket-2"))
    cf.delete_stack(StackName="t")  # the policy and its bucket go in whichever order moto picks
    deleted = cf.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [stack["StackName"] for stack in deleted] == ["t"]
    assert {bucket["Name"] for bucket in aws["s3"].list_buckets()["Buckets"]} == {"results-bucket", "other-bucket"}


CONDITIONAL = """
Parameters:
  Email: {Type: String, Default: ""}
Conditions:
  HasEmail: !Not [!Equals [!Ref Email, ""]]
  HasDigest: !And [!Condition HasEmail, !Not [!Equals ["cron(0 6 ? * MON *)", ""]]]
Resources:
  Topic: {Type: AWS::SNS::Topic, Condition: HasDigest, Properties: {TopicName: digest}}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: errors
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 3600
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions: !If [HasEmail, [!Ref Topic], !Ref AWS::NoValue]
"""


def _state(aws):
    return ([topic["TopicArn"].rsplit(":", 1)[1] for topic in aws["sns"].list_topics()["Topics"]],
            [alarm["AlarmActions"] for alarm in aws["cloudwatch"].describe_alarms()["MetricAlarms"]])


def test_yaml_short_form_condition_and_conditions_that_change_on_update(aws):
    """moto reads `!Condition X` as {"Fn::Condition": X} and then treats the And as false; CloudFormation does not.
    On update, a condition that turns true creates, one that turns false deletes, and an Fn::If on it updates."""
    cf, topic = aws["cloudformation"], "arn:aws:sns:us-east-1:123456789012:digest"
    cf.create_stack(StackName="s", TemplateBody=CONDITIONAL, Parameters=[{"ParameterKey": "Email",
                                                                          "ParameterValue": "ops@example.com"}])
    assert _state(aws) == (["digest"], [[topic]])
    cf.update_stack(StackName="s", TemplateBody=CONDITIONAL, Parameters=[{"ParameterKey": "Email",
                                                                          "ParameterValue": ""}])
    assert _state(aws) == ([], [[]])
    cf.update_stack(StackName="s", TemplateBody=CONDITIONAL, Parameters=[{"ParameterKey": "Email",
                                                                          "ParameterValue": "ops@example.com"}])
    assert _state(aws) == (["digest"], [[topic]])


def _glue_athena_template(cutoff: str, description: str = "reports", database: str = "kiro_db") -> str:
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {
        "Database": {"Type": "AWS::Glue::Database", "Properties": {
            "CatalogId": "123456789012", "DatabaseInput": {"Name": database, "Description": description}}},
        "WorkGroup": {"Type": "AWS::Athena::WorkGroup", "Properties": {
            "Name": "kiro-wg", "State": "ENABLED", "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True, "BytesScannedCutoffPerQuery": cutoff,
                "ResultConfiguration": {"OutputLocation": "s3://results-bucket/athena/"}}}}}})


def test_workgroup_and_database_updates_are_validated_and_applied(aws):
    """An update must reach the emulated service (a changed scan cap shows) or fail the stack when the service would
    refuse it; updating the database keeps its tables."""
    cfn = aws["cloudformation"]
    athena, glue = boto3.client("athena", region_name="us-east-1"), boto3.client("glue", region_name="us-east-1")
    cfn.create_stack(StackName="s", TemplateBody=_glue_athena_template("10000000000"))
    glue.create_table(DatabaseName="kiro_db", TableInput={"Name": "t"})
    cfn.update_stack(StackName="s", TemplateBody=_glue_athena_template("20000000000", description="changed"))
    configuration = athena.get_work_group(WorkGroup="kiro-wg")["WorkGroup"]["Configuration"]
    assert configuration["BytesScannedCutoffPerQuery"] == 20_000_000_000
    assert [table["Name"] for table in glue.get_tables(DatabaseName="kiro_db")["TableList"]] == ["t"]

    with pytest.raises((ClientError, InvalidTemplateResource)):
        cfn.update_stack(StackName="s", TemplateBody=_glue_athena_template("5"))  # Athena's minimum is 10 MB
        status = cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"]
        assert status != "UPDATE_COMPLETE", "an invalid scan cap was accepted"
        raise InvalidTemplateResource(status)
    with pytest.raises((ClientError, InvalidTemplateResource)):
        cfn.update_stack(StackName="s", TemplateBody=_glue_athena_template("20000000000", database="renamed"))
        status = cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"]
        assert status != "UPDATE_COMPLETE", "a database rename (a replacement dropping the tables) was accepted"
        raise InvalidTemplateResource(status)
