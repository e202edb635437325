"""What the stack's alarm, topic and weekly-digest resources look like in an (emulated) account, read back through
the service APIs, for the tests that deploy step 1 with and without `lambda.alarm_email`."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional

from botocore.exceptions import ClientError
from kiro_analytics.names import Names


def _digest_rule(events: Any, names: Names) -> Optional[Dict[str, Any]]:
    try:
        rule = events.describe_rule(Name=names.digest_schedule_rule)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    targets = events.list_targets_by_rule(Rule=names.digest_schedule_rule)["Targets"]
    return {"arn": rule["Arn"], "schedule": rule["ScheduleExpression"], "state": rule["State"],
            "targets": [(target["Arn"], json.loads(target.get("Input", "null"))) for target in targets]}


def _invoke_permissions(lam: Any, function: str) -> List[Dict[str, str]]:
    """(principal, source ARN) of every statement that lets a service invoke the sync function."""
    statements = json.loads(lam.get_policy(FunctionName=function)["Policy"])["Statement"]
    return [{"principal": s["Principal"].get("Service", ""), "action": s["Action"],
             "source": s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn", "")} for s in statements]


def _bucket_policy(s3: Any, bucket: str) -> Optional[Dict[str, Any]]:
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return None
        raise


def deployed_alarm_branch(client: Callable[[str], Any], names: Names) -> Dict[str, Any]:
    """Alarms (name → actions), topics with their subscriptions, the digest rule, invoke permissions, bucket policy."""
    alarms = {alarm["AlarmName"]: alarm for alarm in client("cloudwatch").describe_alarms()["MetricAlarms"]}
    sns = client("sns")
    topics = {}
    for topic in sns.list_topics()["Topics"]:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
        topics[topic["TopicArn"]] = sorted((s["Protocol"], s["Endpoint"]) for s in subscriptions)
    return {
        "alarms": alarms,
        "alarm_actions": {name: alarm["AlarmActions"] for name, alarm in alarms.items()},
        "insufficient_data_actions": {name: alarm["InsufficientDataActions"] for name, alarm in alarms.items()},
        "topics": topics,
        "digest_rule": _digest_rule(client("events"), names),
        "permissions": _invoke_permissions(client("lambda"), names.sync_function),
        "results_bucket_policy": _bucket_policy(client("s3"), names.results_bucket),
        "sync_arn": client("lambda").get_function(FunctionName=names.sync_function)["Configuration"]["FunctionArn"],
        "topic_env": client("lambda").get_function(FunctionName=names.sync_function)["Configuration"][
            "Environment"]["Variables"]["TOPIC_ARN"],
    }


def assert_tls_only(policy: Optional[Dict[str, Any]], bucket: str) -> None:
    assert policy is not None, f"{bucket} has no bucket policy"
    [statement] = policy["Statement"]
    assert statement == {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def assert_with_email(branch: Dict[str, Any], names: Names, email: str, account: str = "123456789012",
                      region: str = "us-east-1") -> None:
    topic = f"arn:aws:sns:{region}:{account}:{names.alarm_topic}"
    assert branch["topics"] == {topic: [("email", email)]}
    # Errors alarm on ALARM; the silence alarm on INSUFFICIENT_DATA: a day without a run has no Invocations data
    # point, and treating that as breaching fired on day 1, before the first run.
    assert branch["alarm_actions"] == {names.sync_alarm: [topic], names.sync_silence_alarm: []}
    assert branch["insufficient_data_actions"] == {names.sync_alarm: [], names.sync_silence_alarm: [topic]}
    errors, silence = branch["alarms"][names.sync_alarm], branch["alarms"][names.sync_silence_alarm]
    assert (errors["MetricName"], errors["Period"], errors["ComparisonOperator"]) == (
        "Errors", 3600, "GreaterThanOrEqualToThreshold")
    assert (silence["MetricName"], silence["Period"], silence["EvaluationPeriods"], silence["TreatMissingData"]) == (
        "Invocations", 86400, 2, "missing")
    for alarm in (errors, silence):
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": names.sync_function}]
    rule = branch["digest_rule"]
    assert rule is not None and rule["state"] == "ENABLED"
    assert rule["targets"] == [(branch["sync_arn"], {"action": "digest"})]
    assert {"principal": "events.amazonaws.com", "action": "lambda:InvokeFunction",
            "source": rule["arn"]} in branch["permissions"]
    assert branch["topic_env"] == topic
    assert_tls_only(branch["results_bucket_policy"], names.results_bucket)


def assert_without_email(branch: Dict[str, Any], names: Names, after_removal: bool = False) -> None:
    assert branch["topics"] == {}
    assert branch["alarm_actions"] == {names.sync_alarm: [], names.sync_silence_alarm: []}
    assert branch["insufficient_data_actions"] == {names.sync_alarm: [], names.sync_silence_alarm: []}
    assert branch["digest_rule"] is None
    if not after_removal:  # moto's Lambda Permission model cannot be deleted by a stack update; CloudFormation can
        assert [p["principal"] for p in branch["permissions"]] == ["events.amazonaws.com"]  # the daily sync's only
    assert branch["topic_env"] == ""
    assert_tls_only(branch["results_bucket_policy"], names.results_bucket)
