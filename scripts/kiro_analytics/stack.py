"""Step 1: create or update the stack and wait, upload the Lambda package into it, then create the tables.

Every name reaches the template as a parameter from names.Names. The code is staged in the stack's own results
bucket (in the deploy region, where Lambda must find it), so a first deploy runs the stack twice: without the
function, then (code uploaded) with it; later deploys need one pass. In Lake Formation mode the deployer is given
the data location permissions its CREATE TABLE needs before any table is created (lakeformation.prepare_tables).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .config import Config
from .errors import StepFailed, error_code, error_message, is_missing
from .lakeformation import prepare_tables
from .lambda_package import build_package
from .names import CRAWLER_FOLDERS, DISCOVERY_PREFIX, FACTS_FOLDER, Names
from .progress import DEFAULT_CLOCK, Clock, wait_until
from .registration_key import stack_role_names
from .sqlfiles import fact_sources, sql_values
from .tables import ensure_tables

log = logging.getLogger(__name__)

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infrastructure" / "cloudformation.yaml"
INLINE_TEMPLATE_LIMIT = 51_200
STACK_TIMEOUT = 30 * 60
TAGS = [{"Key": "project", "Value": "kiro-user-activity-analytics"}]
FAILED = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED", "DELETE_COMPLETE",
          "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_COMPLETE",
          "IMPORT_ROLLBACK_FAILED")
S3_MISSING = ("404", "NoSuchKey", "NotFound")
CRAWLER_PARAMETERS = {"user-report": "UserReportCrawler", "by-user-analytic": "ByUserAnalyticCrawler"}
# The Identity Store resource's account when the owner is not configured: IAM matches any account.
ANY_ACCOUNT = "*"


@dataclass
class StackResult:
    action: str  # created | updated | unchanged (| planned under --dry-run)
    outputs: Dict[str, str] = field(default_factory=dict)
    code_key: str = ""
    code_uploaded: bool = False
    tables: Dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        planned = self.action == "planned"
        changed = [f"{name} {'to be ' if planned else ''}{state}" for name, state in sorted(self.tables.items())
                   if state != "unchanged"]
        tables = "; ".join(changed) if changed else "tables unchanged"
        code = ("code to upload" if planned else "code uploaded") if self.code_uploaded else "code unchanged"
        return f"stack {self.action}; {code}; {tables}"


def stack_parameters(config: Config, names: Names, code_key: str, lake_formation_key_roles: str = "") -> Dict[str, str]:
    """Template parameter → value. The template spells no resource name itself; a test checks both sides agree.
    ``lake_formation_key_roles``: registration_key.stack_role_names, found by step 1."""
    folders = sql_values(config)  # the map and roster tables' LOCATION folders, exactly as their DDL gets them
    parameters = {
        "DatabaseName": names.database,
        "WorkGroupName": names.workgroup,
        "ResultsBucketName": names.results_bucket,
        "ReportBucketName": config.bucket_name,
        "ReportRoot": config.report_root,
        "UserMappingKey": config.user_mapping_key,
        "SeatRosterKey": names.seat_roster_key,
        "UserMappingFolder": folders["user_mapping_prefix"],
        "SeatRosterFolder": folders["seat_roster_prefix"],
        "SeatGroups": json.dumps(list(config.seat_groups), ensure_ascii=False),
        "IdentityStoreId": config.identity_store_id,
        "IdentityRegion": config.identity_region,
        "IdentityStoreAccount": config.identity_account_id or ANY_ACCOUNT,
        "IdentityRoleArn": config.identity_role_arn,
        "ReportKmsKeyArn": config.kms_key_arn,
        "LakeFormationKeyRoles": lake_formation_key_roles,
        "DiscoveryTablePrefix": DISCOVERY_PREFIX,
        "CrawlerCron": config.crawler_cron,
        "CrawlerRoleName": names.crawler_role,
        "SyncFunctionName": names.sync_function,
        "SyncRoleName": names.sync_role,
        "SyncScheduleRuleName": names.sync_schedule_rule,
        "UserSyncCron": config.user_sync_cron,
        "SyncAlarmName": names.sync_alarm,
        "SyncSilenceAlarmName": names.sync_silence_alarm,
        "AlarmTopicName": names.alarm_topic,
        "AlarmEmail": config.alarm_email,
        "DigestScheduleRuleName": names.digest_schedule_rule,
        "DigestCron": config.digest_cron,
        "DashboardUrl": names.dashboard_console_url,
        "QuickSightRoleName": names.quicksight_role,
        "LambdaCodeKey": code_key,
        "BytesScannedCutoff": str(config.bytes_scanned_cutoff),
        "ResultsExpirationDays": str(config.results_expiration_days),
        "LogRetentionDays": str(config.log_retention_days),
        "FactSources": fact_sources(config).to_json(),
        "FactsFolder": FACTS_FOLDER,
    }
    for family, stem in CRAWLER_PARAMETERS.items():
        parameters[f"{stem}Name"] = names.crawler(family)
        parameters[f"{stem}Folder"] = CRAWLER_FOLDERS[family]
    return parameters


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except Exception as exc:
        if is_missing(exc, S3_MISSING):
            return False
        raise


def upload_lambda_code(s3: Any, recorder: Any, names: Names, exists: bool = True) -> Tuple[str, bool]:
    """Upload the zip into the results bucket under a digest-named key unless that key is already there; returns
    (key, uploaded). ``exists`` False: the bucket is not there yet (first pass of a dry run), so do not look."""
    package = build_package()
    key = names.lambda_code_key(package.sha256)
    if exists and _exists(s3, names.results_bucket, key):
        return key, False
    recorder.call(s3, "PutObject", Bucket=names.results_bucket, Key=key, Body=package.body,
                  ContentType="application/zip", ServerSideEncryption="AES256")
    return key, True


def _template_source(s3: Any, recorder: Any, config: Config, names: Names) -> Dict[str, str]:
    body = TEMPLATE_PATH.read_text(encoding="utf-8")
    if len(body.encode("utf-8")) <= INLINE_TEMPLATE_LIMIT:
        return {"TemplateBody": body}
    key = names.template_key(hashlib.sha256(body.encode("utf-8")).hexdigest())
    if not _exists(s3, config.bucket_name, key):
        recorder.call(s3, "PutObject", Bucket=config.bucket_name, Key=key, Body=body.encode("utf-8"),
                      ServerSideEncryption="AES256")
    return {"TemplateURL": f"https://{config.bucket_name}.s3.{config.region}.amazonaws.com/{key}"}


def describe_stack(cfn: Any, name: str) -> Optional[Dict[str, Any]]:
    """The stack, or None when there is none (CloudFormation says so with a ValidationError "… does not exist")."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in error_message(exc):
            return None
        raise
    return stacks[0] if stacks else None


def failure_reasons(cfn: Any, name: str) -> List[str]:
    """Failed resources of the latest operation, newest first, with CloudFormation's own ResourceStatusReason."""
    reasons: List[str] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
        for event in page.get("StackEvents", []):
            if event.get("ResourceType") == "AWS::CloudFormation::Stack" and event.get("ResourceStatus", "").endswith(
                    "_IN_PROGRESS") and event.get("ResourceStatusReason") == "User Initiated":
                return reasons
            if event.get("ResourceStatus", "").endswith("FAILED") and event.get("ResourceStatusReason"):
                reasons.append(f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}): "
                               f"{event['ResourceStatus']}: {event['ResourceStatusReason']}")
        if len(reasons) > 20:
            break
    return reasons


def _rollback_complete_message(config: Config, name: str) -> str:
    profile = f" --profile {config.profile}" if config.profile else ""
    return (f"stack {name} is in ROLLBACK_COMPLETE: its first create failed, and CloudFormation cannot update a stack "
            f"in that state. Delete it, then run step 1 again:\n  aws cloudformation delete-stack --stack-name {name} "
            f"--region {config.region}{profile}\n  aws cloudformation wait stack-delete-complete --stack-name {name} "
            f"--region {config.region}{profile}")


def wait_for_stack(cfn: Any, config: Config, name: str, clock: Clock) -> Dict[str, Any]:
    def poll():
        stack = describe_stack(cfn, name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if status in FAILED:
            reasons = failure_reasons(cfn, name)
            detail = "\n".join(f"  - {reason}" for reason in reasons) or "  (no failed resource events found)"
            hint = ("\n" + _rollback_complete_message(config, name)) if status == "ROLLBACK_COMPLETE" else ""
            raise StepFailed(f"stack {name} ended in {status}:\n{detail}{hint}")
        return not status.endswith("_IN_PROGRESS"), status, stack
    return wait_until(poll, f"stack {name}", timeout=STACK_TIMEOUT, interval=10, clock=clock)  # type: ignore


def apply_stack(cfn: Any, recorder: Any, config: Config, names: Names, template: Dict[str, str],
                parameters: Dict[str, str], clock: Clock) -> str:
    """Create or update the stack and wait; returns created | updated | unchanged | planned."""
    name = names.stack
    stack = describe_stack(cfn, name)
    if stack and stack["StackStatus"].endswith("_IN_PROGRESS"):
        log.info("stack %s is busy (%s); waiting for it first", name, stack["StackStatus"])
        stack = wait_for_stack(cfn, config, name, clock)
    if stack and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        raise StepFailed(_rollback_complete_message(config, name))
    request = dict(template, StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"], Tags=TAGS,
                   Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())])
    if stack is None:
        recorder.call(cfn, "CreateStack", **request)
        action = "created"
    elif _same_as_deployed(cfn, stack, template, parameters):
        # CloudFormation would answer "No updates are to be performed"; not asking keeps a rerun free of writes.
        return "unchanged"
    else:
        try:
            recorder.call(cfn, "UpdateStack", **request)
        except Exception as exc:
            if "No updates are to be performed" in error_message(exc):
                return "unchanged"
            raise
        action = "updated"
    if recorder.dry_run:
        return "planned"
    wait_for_stack(cfn, config, name, clock)
    return action


def _same_as_deployed(cfn: Any, stack: Dict[str, Any], template: Dict[str, str], parameters: Dict[str, str]) -> bool:
    if "TemplateBody" not in template or stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return False
    deployed = {item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])}
    if {key: value for key, value in deployed.items() if value} != {k: v for k, v in parameters.items() if v}:
        return False
    body = cfn.get_template(StackName=stack["StackName"], TemplateStage="Original").get("TemplateBody")
    return isinstance(body, str) and body.strip() == template["TemplateBody"].strip()


def stack_outputs(cfn: Any, name: str) -> Dict[str, str]:
    stack = describe_stack(cfn, name) or {}
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def deploy(clients: Any, recorder: Any, config: Config, names: Names, tables: List[Any],
           clock: Clock = DEFAULT_CLOCK) -> StackResult:
    """The whole of step 1. ``tables`` are sqlfiles.load_tables(config) objects."""
    cfn, s3, glue, athena = (clients.client(s) for s in ("cloudformation", "s3", "glue", "athena"))
    template = _template_source(s3, recorder, config, names)
    action = ""
    key_roles = stack_role_names(clients.client("lakeformation"), config, tables)
    new_stack = describe_stack(cfn, names.stack) is None
    if new_stack:
        # The code goes into the results bucket, which only the stack creates: first the stack without the function.
        action = apply_stack(cfn, recorder, config, names, template, stack_parameters(config, names, "", key_roles),
                             clock)
    code_key, uploaded = upload_lambda_code(s3, recorder, names, exists=not (recorder.dry_run and new_stack))
    if not (recorder.dry_run and new_stack):  # a dry run cannot update a stack it only planned to create
        second = apply_stack(cfn, recorder, config, names, template,
                             stack_parameters(config, names, code_key, key_roles), clock)
        action = action or second
    prepare_tables(clients.client("lakeformation"), clients.client("sts"), clients.client("iam"), recorder, config,
                   names, tables)
    made = ensure_tables(glue, athena, recorder.call, tables, names.database, names.workgroup, clock)
    outputs = {} if recorder.dry_run else stack_outputs(cfn, names.stack)
    return StackResult(action=action, outputs=outputs, code_key=code_key, code_uploaded=uploaded, tables=made)
