"""infrastructure/cloudformation.yaml: cfn-lint clean, least-privilege IAM, every name a parameter from names.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cfn_yaml import load_template
from kiro_analytics.lambda_package import HANDLER
from kiro_analytics.names import Names
from kiro_analytics.stack import INLINE_TEMPLATE_LIMIT, TEMPLATE_PATH, stack_parameters

CFN_LINT = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "cfn-lint"
READ_PREFIXES = ("Get", "List", "Describe", "BatchGet")




@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE_PATH)


def test_cfn_lint_is_clean():
    assert CFN_LINT.exists(), "cfn-lint is missing from .venv: run ./tests/run.sh, which installs requirements-dev.txt"
    run = subprocess.run([str(CFN_LINT), str(TEMPLATE_PATH)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_fits_inline():
    assert len(TEMPLATE_PATH.read_bytes()) <= INLINE_TEMPLATE_LIMIT


def _statements(template):
    for logical, resource in template["Resources"].items():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical, statement
        if resource["Type"] == "AWS::IAM::Policy":  # a conditional policy (the digest's sns:Publish)
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                yield logical, statement


def test_iam_has_no_wildcard_actions_and_no_writes_on_star(template):
    statements = list(_statements(template))
    assert len(statements) > 15
    for logical, statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert not any("*" in action for action in actions), (logical, actions)
        if "*" in resources:
            writes = [a for a in actions if not a.split(":")[1].startswith(READ_PREFIXES)]
            assert not writes, (logical, writes)


def test_every_parameter_is_passed_and_used_and_no_name_is_literal(template, config):
    names = Names(config)
    parameters = stack_parameters(config, names, names.lambda_code_key("ab" * 32))
    assert set(parameters) == set(template["Parameters"])
    body = TEMPLATE_PATH.read_text(encoding="utf-8")
    for key in parameters:
        assert re.search(rf"(!Ref {key}\b|\$\{{{key}\}})", body), f"parameter {key} is never used"
    expected = {"DatabaseName": names.database, "WorkGroupName": names.workgroup,
                "ResultsBucketName": names.results_bucket, "UserReportCrawlerName": names.crawler("user-report"),
                "ByUserAnalyticCrawlerName": names.crawler("by-user-analytic"), "CrawlerRoleName": names.crawler_role,
                "SyncFunctionName": names.sync_function, "SyncRoleName": names.sync_role,
                "QuickSightRoleName": names.quicksight_role, "SyncScheduleRuleName": names.sync_schedule_rule,
                "SyncAlarmName": names.sync_alarm, "AlarmTopicName": names.alarm_topic,
                "DigestScheduleRuleName": names.digest_schedule_rule,
                "UserReportCrawlerFolder": "KiroLogs/user_report/",
                "ByUserAnalyticCrawlerFolder": "KiroLogs/by_user_analytic/"}
    # The handler names the Python package, which happens to share its spelling with the default database name.
    resources = body.split("Resources:", 1)[1].replace(f"Handler: {HANDLER}", "Handler: <package>")
    for key, value in expected.items():
        assert parameters[key] == value
        assert value not in resources, f"{value} is spelled literally in the template"
    assert names.sync_log_group == f"/aws/lambda/{names.sync_function}"  # the template derives it the same way
    assert "/aws/lambda/${SyncFunctionName}" in body


def test_crawlers_only_discover_into_tables_of_their_own(template):
    """No crawler targets a raw table (a catalog-target crawl over the text tables deprecates them: issue #463 of the
    Cloud Intelligence Dashboards collector); each writes a discovered_ table, and its role may write nothing else."""
    for logical in ("UserReportCrawler", "ByUserAnalyticCrawler"):
        props = template["Resources"][logical]["Properties"]
        assert "CatalogTargets" not in props["Targets"] and len(props["Targets"]["S3Targets"]) == 1
        assert props["TablePrefix"] == {"Ref": "DiscoveryTablePrefix"}
        assert props["SchemaChangePolicy"]["DeleteBehavior"] == "LOG"
        assert "Condition" not in template["Resources"][logical]
    writes = [statement for policy in template["Resources"]["CrawlerRole"]["Properties"]["Policies"]
              for statement in policy["PolicyDocument"]["Statement"]
              if any(action.startswith(("glue:Create", "glue:Update", "glue:BatchCreate", "glue:BatchUpdate"))
                     for action in statement["Action"])]
    assert len(writes) == 1
    tables = [resource["Fn::Sub"] for resource in writes[0]["Resource"] if ":table/" in resource["Fn::Sub"]]
    assert tables == ["arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${DatabaseName}/"
                      "${DiscoveryTablePrefix}*"]


def test_no_reserved_concurrency_and_code_staged_in_region(template):
    function = template["Resources"]["SyncFunction"]
    # A reservation fails stack creation in accounts whose concurrency quota is 100 or less.
    assert "ReservedConcurrentExecutions" not in function["Properties"]
    # Lambda reads code only from a bucket in its own region: the stack's results bucket, not the report bucket.
    assert function["Properties"]["Code"]["S3Bucket"] == {"Ref": "ResultsBucket"}
    assert function["Condition"] == "HasCode"
    # Sized for 100k users (bench/sync_memory.py: 238 MiB peak); the query's wait and the rest fit the timeout.
    from kiro_analytics.lambda_handler import AFTER_QUERY, QUERY_TIMEOUT

    assert function["Properties"]["MemorySize"] >= 2 * 238
    assert function["Properties"]["Timeout"] >= QUERY_TIMEOUT + AFTER_QUERY
    rule = template["Resources"]["ResultsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]
    assert rule["Prefix"] == "athena/"  # query results expire; the code under lambda/ does not


def test_step_6_waits_out_the_functions_timeout_and_never_retries_the_sync(template, config, tmp_path, monkeypatch):
    """A synchronous Invoke answers when the function ends (up to its Timeout); botocore's 60 s read timeout and its
    retries would start the sync again beside the first (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)."""
    from aws_steps import context, script
    from kiro_analytics import aws, deployed_sync, identity_sync

    timeout = template["Resources"]["SyncFunction"]["Properties"]["Timeout"]
    assert timeout == aws.SYNC_FUNCTION_TIMEOUT == 900
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "10")  # a user's shell: the other clients keep their retries
    used = []

    class Synced:
        identity_calls: dict = {}

        def summary(self):
            return "synced"

    monkeypatch.setattr(identity_sync, "sync_user_mapping", lambda *args, **kwargs: Synced())
    monkeypatch.setattr(deployed_sync, "invoke_deployed_sync",
                        lambda lam, recorder, names: used.append(lam) or deployed_sync.Invocation({}, planned=True))
    script(6).action(context(config, 6, tmp_path))
    invoker = used[0]
    assert invoker.meta.service_model.service_name == "lambda"
    assert invoker.meta.config.read_timeout == timeout + 10  # 910: longer than the function may run
    assert invoker.meta.config.retries["total_max_attempts"] == 1  # one attempt: no second sync
    assert aws.Clients(config).client("lambda").meta.config.retries["total_max_attempts"] == 11


def test_lambda_schedule_alarm_and_results_bucket(template):
    resources = template["Resources"]
    assert resources["SyncFunction"]["Properties"]["Runtime"] in ("python3.12", "python3.13")
    permission = resources["SyncSchedulePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert resources["AlarmTopic"]["Condition"] == "HasAlarmEmail"
    wg = resources["WorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert wg["EnforceWorkGroupConfiguration"] is True
    assert wg["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    bucket = resources["ResultsBucket"]["Properties"]
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {"Ref": "ResultsExpirationDays"}
    trust = resources["QuickSightRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "quicksight.amazonaws.com"}


def test_digest_rule_invokes_the_same_function_with_its_action(template):
    resources = template["Resources"]
    rule = resources["DigestSchedule"]
    assert rule["Condition"] == "HasDigest"
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "DigestCron"}
    target = rule["Properties"]["Targets"][0]
    assert target["Arn"] == {"Fn::GetAtt": "SyncFunction.Arn"} and target["Input"] == '{"action": "digest"}'
    permission = resources["DigestSchedulePermission"]
    assert permission["Condition"] == "HasDigest"
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": "DigestSchedule.Arn"}
    policy = resources["DigestPublishPolicy"]
    assert policy["Condition"] == "HasDigest" and policy["Properties"]["Roles"] == [{"Ref": "SyncRole"}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Sid": "PublishDigest", "Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "AlarmTopic"}}]
    # The digest needs a schedule, somewhere to send it, and the function (absent on a first deploy's first pass).
    assert template["Conditions"]["HasDigest"] == {"Fn::And": [
        {"Fn::Condition": "HasAlarmEmail"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "DigestCron"}, ""]}]},
        {"Fn::Condition": "HasCode"}]}
