"""Stack create/update answers CloudFormation gives that moto does not: no-op updates, rollbacks, failure events.

botocore's Stubber validates every request and every canned response against the service model.
"""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import ANY, Stubber
from kiro_analytics.errors import StepFailed
from kiro_analytics.names import Names
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.stack import apply_stack

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)


def _stack(name, status):
    return {"Stacks": [{"StackName": name, "StackStatus": status, "CreationTime": NOW}]}


def _apply(config, cfn):
    names = Names(config)
    return apply_stack(cfn, Recorder(), config, names, {"TemplateBody": "{}"}, {"DatabaseName": names.database},
                       CLOCK)


def test_no_updates_is_unchanged(config):
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", _stack(config.stack_name, "UPDATE_COMPLETE"), {"StackName": ANY})
        stub.add_client_error("update_stack", "ValidationError", "No updates are to be performed.")
        assert _apply(config, cfn) == "unchanged"


def test_rollback_complete_gives_the_delete_command(config):
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", _stack(config.stack_name, "ROLLBACK_COMPLETE"), {"StackName": ANY})
        with pytest.raises(StepFailed, match=rf"aws cloudformation delete-stack --stack-name {config.stack_name} "
                                             rf"--region {config.region}"):
            _apply(config, cfn)


def test_failed_create_prints_each_failed_resource_reason(config):
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    name = config.stack_name
    events = {"StackEvents": [
        {"StackId": "id", "EventId": "3", "StackName": name, "Timestamp": NOW, "LogicalResourceId": name,
         "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "ROLLBACK_IN_PROGRESS",
         "ResourceStatusReason": "The following resource(s) failed to create: [WorkGroup]."},
        {"StackId": "id", "EventId": "2", "StackName": name, "Timestamp": NOW, "LogicalResourceId": "WorkGroup",
         "ResourceType": "AWS::Athena::WorkGroup", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "WorkGroup kiro-analytics already exists"},
        {"StackId": "id", "EventId": "1", "StackName": name, "Timestamp": NOW, "LogicalResourceId": name,
         "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "CREATE_IN_PROGRESS",
         "ResourceStatusReason": "User Initiated"},
        {"StackId": "id", "EventId": "0", "StackName": name, "Timestamp": NOW, "LogicalResourceId": "Old",
         "ResourceType": "AWS::S3::Bucket", "ResourceStatus": "CREATE_FAILED", "ResourceStatusReason": "older run"},
    ]}
    with Stubber(cfn) as stub:
        stub.add_client_error("describe_stacks", "ValidationError", f"Stack with id {name} does not exist")
        stub.add_response("create_stack", {"StackId": "id"})
        stub.add_response("describe_stacks", _stack(name, "CREATE_IN_PROGRESS"), {"StackName": name})
        stub.add_response("describe_stacks", _stack(name, "ROLLBACK_COMPLETE"), {"StackName": name})
        stub.add_response("describe_stack_events", events, {"StackName": name})
        with pytest.raises(StepFailed) as failure:
            _apply(config, cfn)
    message = str(failure.value)
    assert "ended in ROLLBACK_COMPLETE" in message
    assert "WorkGroup (AWS::Athena::WorkGroup): CREATE_FAILED: WorkGroup kiro-analytics already exists" in message
    assert "older run" not in message and "delete-stack" in message
