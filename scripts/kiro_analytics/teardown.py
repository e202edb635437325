"""Remove everything the project created, in reverse deploy order, and nothing else.

Idempotent: what is already gone is reported as such. The customer's report files are never touched: every
S3 delete is checked against the report root before it is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional

from botocore.exceptions import ClientError

from .errors import InputError, KiroError, StepFailed, is_missing
from .names import ANALYSES, DISCOVERY_TABLES, FACT_TABLES, RAW_TABLES, SEAT_ROSTER_TABLE, USER_MAPPING_TABLE, Names
from .progress import DEFAULT_CLOCK, Clock, wait_until
from .stack import describe_stack, failure_reasons

log = logging.getLogger(__name__)
# What QuickSight, Glue and S3 answer for something already deleted (the stack: stack.describe_stack → None).
GONE_CODES = ("ResourceNotFoundException", "EntityNotFoundException", "NoSuchKey", "NoSuchBucket", "404", "NotFound")


class ReportDeletionRefused(KiroError):
    """A delete would have touched the customer's reports: a bug, refused before sending."""


def signed_in_as(ctx: Any) -> str:
    """The caller's ARN, checked to be in the configured account: asked before the confirmation question, so
    nobody answers "yes" for an account the credentials do not reach (a failure is botocore's, named by the CLI)."""
    identity = ctx.clients.client("sts").get_caller_identity()
    if identity["Account"] != ctx.config.account_id:
        raise InputError(f"signed in to account {identity['Account']} ({identity['Arn']}), but the config says "
                         f"{ctx.config.account_id}: switch credentials (aws.profile / AWS_PROFILE) or fix "
                         "aws.account_id; nothing was deleted")
    return str(identity["Arn"])


@dataclass
class TeardownResult:
    removed: List[str] = field(default_factory=list)
    already_gone: List[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return f"{verb} {len(self.removed)}, already gone {len(self.already_gone)}"


class Teardown:
    def __init__(self, ctx: Any, view_names: List[str], clock: Clock = DEFAULT_CLOCK) -> None:
        self.ctx = ctx
        self.names: Names = ctx.names
        self.config = ctx.config
        self.view_names = view_names
        self.clock = clock
        self.result = TeardownResult(dry_run=bool(ctx.dry_run))

    def _delete(self, label: str, call: Callable[[], Any], probe: Optional[Callable[[], Any]] = None) -> None:
        """Delete, or report "already gone". ``probe`` (a read) is asked first: a dry run sends no delete, an S3
        delete of a missing key succeeds, and a rerun should send no delete at all."""
        try:
            if probe is not None:
                probe()
            call()
        except ClientError as exc:
            if not is_missing(exc, GONE_CODES):
                raise
            self.result.already_gone.append(label)
            log.info("already gone: %s", label)
            return
        self.result.removed.append(label)
        log.info("%s %s", "would remove" if self.ctx.dry_run else "removed", label)

    def _refuse_reports(self, bucket: str, key: str) -> None:
        if bucket == self.config.bucket_name and (key.startswith(self.config.report_root) or "AWSLogs/" in key):
            raise ReportDeletionRefused(f"refusing to delete s3://{bucket}/{key}: it is under the report root "
                                        f"s3://{bucket}/{self.config.report_root}; nothing was deleted by this check")

    def _s3_delete(self, bucket: str, key: str) -> None:
        self._refuse_reports(bucket, key)
        s3 = self.ctx.clients.client("s3")
        self._delete(f"s3://{bucket}/{key}", lambda: self.ctx.recorder.call(s3, "DeleteObject", Bucket=bucket, Key=key),
                     probe=lambda: s3.head_object(Bucket=bucket, Key=key))

    def quicksight(self) -> None:
        qs = self.ctx.clients.quicksight()
        account = self.config.account_id
        call = self.ctx.recorder.call
        dashboard_id = self.names.dashboard_id
        self._delete(f"dashboard {dashboard_id}", lambda: call(
            qs, "DeleteDashboard", AwsAccountId=account, DashboardId=dashboard_id),
            probe=lambda: qs.describe_dashboard(AwsAccountId=account, DashboardId=dashboard_id))
        for analysis in ANALYSES:
            analysis_id = self.names.analysis_id(analysis)
            # Without ForceDeleteWithoutRecovery the analysis lingers for 30 days and blocks a redeploy with its id.
            self._delete(f"analysis {analysis_id}", lambda analysis_id=analysis_id: call(
                qs, "DeleteAnalysis", AwsAccountId=account, AnalysisId=analysis_id, ForceDeleteWithoutRecovery=True),
                probe=lambda analysis_id=analysis_id: qs.describe_analysis(AwsAccountId=account,
                                                                           AnalysisId=analysis_id))
        for dataset_id in self._our_datasets(qs):
            self._delete(f"dataset {dataset_id}", lambda dataset_id=dataset_id: call(
                qs, "DeleteDataSet", AwsAccountId=account, DataSetId=dataset_id))
        source_id = self.names.data_source_id
        self._delete(f"data source {source_id}", lambda: call(
            qs, "DeleteDataSource", AwsAccountId=account, DataSourceId=source_id),
            probe=lambda: qs.describe_data_source(AwsAccountId=account, DataSourceId=source_id))

    def _our_datasets(self, qs: Any) -> List[str]:
        """Datasets that exist and are ours: named after our views, or a leftover (a view since renamed) that
        carries our prefix AND reads our data source, so another deployment whose prefix merely starts with ours
        (kiro → kiro-analytics-…) is left alone."""
        account = self.config.account_id
        wanted = {self.names.dataset_id(view) for view in self.view_names}
        try:
            found = {summary["DataSetId"] for page in qs.get_paginator("list_data_sets").paginate(
                AwsAccountId=account) for summary in page.get("DataSetSummaries", [])}
        except ClientError as exc:
            if not is_missing(exc, GONE_CODES):
                raise
            return []
        source_arn = self.names.arn("quicksight", f"datasource/{self.names.data_source_id}")
        ours = found & wanted
        for dataset_id in sorted(found - wanted):
            if not dataset_id.startswith(f"{self.names.prefix}-"):
                continue
            try:
                tables = qs.describe_data_set(AwsAccountId=account, DataSetId=dataset_id)["DataSet"].get(
                    "PhysicalTableMap", {})
            except ClientError as exc:
                # One we may not even describe was not made by this deployment's identity: leave it.
                if is_missing(exc, (*GONE_CODES, "AccessDeniedException")):
                    continue
                raise
            if any(next(iter(table.values()), {}).get("DataSourceArn") == source_arn for table in tables.values()):
                ours.add(dataset_id)
        return sorted(ours)

    def catalog(self) -> None:
        glue = self.ctx.clients.client("glue")
        database = self.names.database
        # The fact tables' data goes with the results bucket (stack()), which holds it under facts/.
        for table in [*reversed(self.view_names), *FACT_TABLES, SEAT_ROSTER_TABLE, USER_MAPPING_TABLE, *RAW_TABLES,
                      *DISCOVERY_TABLES]:
            self._delete(f"table {database}.{table}", lambda table=table: self.ctx.recorder.call(
                glue, "DeleteTable", DatabaseName=database, Name=table),
                probe=lambda table=table: glue.get_table(DatabaseName=database, Name=table))

    def objects(self) -> None:
        """Our objects in the report bucket: the user mapping, seat roster, and Lambda packages that deploys before
        the code moved to the results bucket staged there. Never a report."""
        self._s3_delete(self.config.bucket_name, self.config.user_mapping_key)
        self._s3_delete(self.config.bucket_name, self.names.seat_roster_key)
        s3 = self.ctx.clients.client("s3")
        code_prefix = f"{self.names.prefix}/lambda/"
        try:
            pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=self.config.bucket_name,
                                                                      Prefix=code_prefix))
        except ClientError as exc:
            if is_missing(exc, GONE_CODES):
                return
            raise
        for page in pages:
            for item in page.get("Contents", []):
                self._s3_delete(self.config.bucket_name, item["Key"])

    def _empty_results_bucket(self) -> None:
        # CloudFormation cannot delete a bucket that still holds objects or versions.
        s3 = self.ctx.clients.client("s3")
        bucket = self.names.results_bucket
        try:
            pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket))
        except ClientError as exc:
            if is_missing(exc, GONE_CODES):
                self.result.already_gone.append(f"objects in s3://{bucket}")
                return
            raise
        entries = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                   for page in pages for kind in ("Versions", "DeleteMarkers") for item in page.get(kind, [])]
        # One page holds up to 1000 versions AND 1000 delete markers; DeleteObjects takes at most 1000 keys.
        for start in range(0, len(entries), 1000):
            chunk = entries[start:start + 1000]
            response = self.ctx.recorder.call(s3, "DeleteObjects", Bucket=bucket,
                                              Delete={"Objects": chunk, "Quiet": True})
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StepFailed(f"s3://{bucket}: {len(errors)} object version(s) not deleted, e.g. "
                                 f"{first.get('Key')}: {first.get('Code')}: {first.get('Message')}")
        if entries:
            self.result.removed.append(f"{len(entries)} object version(s) in s3://{bucket}")

    def stack(self) -> None:
        cfn = self.ctx.clients.client("cloudformation")
        if describe_stack(cfn, self.names.stack) is None:
            self.result.already_gone.append(f"stack {self.names.stack}")
            return
        self._empty_results_bucket()
        self.ctx.recorder.call(cfn, "DeleteStack", StackName=self.names.stack)
        self.result.removed.append(f"stack {self.names.stack}")
        if not self.ctx.dry_run:
            wait_until(self._stack_deleted, f"stack {self.names.stack} deletion", timeout=1800, interval=10,
                       clock=self.clock)

    def _stack_deleted(self) -> Any:
        cfn = self.ctx.clients.client("cloudformation")
        stack = describe_stack(cfn, self.names.stack)
        if stack is None:
            return True, "DELETE_COMPLETE", None
        status = stack["StackStatus"]
        if status == "DELETE_FAILED":
            reasons = failure_reasons(cfn, self.names.stack)
            detail = "\n".join(f"  - {reason}" for reason in reasons) or "  (no failed resource events found)"
            raise StepFailed(f"stack {self.names.stack} DELETE_FAILED:\n{detail}")
        return status == "DELETE_COMPLETE", status, None

    def run(self) -> TeardownResult:
        # Checked before any call: a mapping key inside the report tree would otherwise be found out only after
        # QuickSight and the catalog were already gone.
        self._refuse_reports(self.config.bucket_name, self.config.user_mapping_key)
        self.quicksight()
        self.catalog()
        # The stack goes before our report-bucket objects: until then its scheduled Lambda could write the
        # mapping again.
        self.stack()
        self.objects()
        return self.result
