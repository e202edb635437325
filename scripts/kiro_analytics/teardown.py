"""Remove everything the project created, in reverse deploy order, and nothing else.

Idempotent: what is already gone is reported as such. The customer's report files are never touched: every
S3 delete is checked against the report root before it is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, List

from botocore.exceptions import ClientError

from .errors import KiroError, StepFailed
from .names import ANALYSES, RAW_TABLES, USER_MAPPING_TABLE, Names
from .progress import DEFAULT_CLOCK, Clock, wait_until

log = logging.getLogger(__name__)
GONE_CODES = {"ResourceNotFoundException", "EntityNotFoundException", "NoSuchKey", "NoSuchBucket", "404",
              "ValidationError", "NotFound"}


class ReportDeletionRefused(KiroError):
    """A delete would have touched the customer's reports: a bug, refused before sending."""


@dataclass
class TeardownResult:
    removed: List[str] = field(default_factory=list)
    already_gone: List[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"removed {len(self.removed)}, already gone {len(self.already_gone)}"


def _gone(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    if code == "ValidationError":  # CloudFormation says "Stack … does not exist" this way
        return "does not exist" in error.get("Message", "")
    return code in GONE_CODES


class Teardown:
    def __init__(self, ctx: Any, view_names: List[str], clock: Clock = DEFAULT_CLOCK) -> None:
        self.ctx = ctx
        self.names: Names = ctx.names
        self.config = ctx.config
        self.view_names = view_names
        self.clock = clock
        self.result = TeardownResult()

    def _delete(self, label: str, call: Callable[[], Any]) -> None:
        try:
            call()
        except ClientError as exc:
            if not _gone(exc):
                raise
            self.result.already_gone.append(label)
            log.info("already gone: %s", label)
            return
        self.result.removed.append(label)
        log.info("%s %s", "would remove" if self.ctx.dry_run else "removed", label)

    def _s3_delete(self, bucket: str, key: str) -> None:
        if bucket == self.config.bucket_name and (key.startswith(self.config.report_root) or "AWSLogs/" in key):
            raise ReportDeletionRefused(f"refusing to delete s3://{bucket}/{key}: it is under the report root")
        s3 = self.ctx.clients.client("s3")
        self._delete(f"s3://{bucket}/{key}", lambda: self.ctx.recorder.call(s3, "DeleteObject", Bucket=bucket, Key=key))

    def quicksight(self) -> None:
        qs = self.ctx.clients.quicksight()
        account = self.config.account_id
        call = self.ctx.recorder.call
        self._delete(f"dashboard {self.names.dashboard_id}", lambda: call(
            qs, "DeleteDashboard", AwsAccountId=account, DashboardId=self.names.dashboard_id))
        for analysis in ANALYSES:
            analysis_id = self.names.analysis_id(analysis)
            # Without ForceDeleteWithoutRecovery the analysis lingers for 30 days and blocks a redeploy with its id.
            self._delete(f"analysis {analysis_id}", lambda analysis_id=analysis_id: call(
                qs, "DeleteAnalysis", AwsAccountId=account, AnalysisId=analysis_id, ForceDeleteWithoutRecovery=True))
        for dataset_id in self._our_datasets(qs):
            self._delete(f"dataset {dataset_id}", lambda dataset_id=dataset_id: call(
                qs, "DeleteDataSet", AwsAccountId=account, DataSetId=dataset_id))
        self._delete(f"data source {self.names.data_source_id}", lambda: call(
            qs, "DeleteDataSource", AwsAccountId=account, DataSourceId=self.names.data_source_id))

    def _our_datasets(self, qs: Any) -> List[str]:
        wanted = {self.names.dataset_id(view) for view in self.view_names}
        try:
            found = {summary["DataSetId"] for page in qs.get_paginator("list_data_sets").paginate(
                AwsAccountId=self.config.account_id) for summary in page.get("DataSetSummaries", [])}
        except ClientError as exc:
            if not _gone(exc):
                raise
            found = set()
        # Ids from our views, plus any leftover with our prefix from a view since renamed.
        return sorted(wanted | {item for item in found if item.startswith(f"{self.names.prefix}-")})

    def catalog(self) -> None:
        glue = self.ctx.clients.client("glue")
        for table in [*reversed(self.view_names), USER_MAPPING_TABLE, *RAW_TABLES]:
            self._delete(f"table {self.names.database}.{table}", lambda table=table: self.ctx.recorder.call(
                glue, "DeleteTable", DatabaseName=self.names.database, Name=table))

    def objects(self) -> None:
        self._s3_delete(self.config.bucket_name, self.config.user_mapping_key)
        s3 = self.ctx.clients.client("s3")
        code_prefix = f"{self.names.prefix}/lambda/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.config.bucket_name, Prefix=code_prefix):
            for item in page.get("Contents", []):
                self._s3_delete(self.config.bucket_name, item["Key"])
        self._empty_results_bucket(s3)

    def _empty_results_bucket(self, s3: Any) -> None:
        # CloudFormation cannot delete a bucket that still holds objects or versions.
        bucket = self.names.results_bucket
        try:
            pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket))
        except ClientError as exc:
            if _gone(exc):
                return
            raise
        for page in pages:
            entries = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                       for kind in ("Versions", "DeleteMarkers") for item in page.get(kind, [])]
            if entries:
                self.ctx.recorder.call(s3, "DeleteObjects", Bucket=bucket, Delete={"Objects": entries, "Quiet": True})
                self.result.removed.append(f"{len(entries)} object(s) in s3://{bucket}")

    def stack(self) -> None:
        cfn = self.ctx.clients.client("cloudformation")
        try:
            cfn.describe_stacks(StackName=self.names.stack)
        except ClientError as exc:
            if _gone(exc):
                self.result.already_gone.append(f"stack {self.names.stack}")
                return
            raise
        self.ctx.recorder.call(cfn, "DeleteStack", StackName=self.names.stack)
        self.result.removed.append(f"stack {self.names.stack}")
        if not self.ctx.dry_run:
            wait_until(self._stack_deleted, f"stack {self.names.stack} deletion", timeout=1800, interval=10,
                       clock=self.clock)

    def _stack_deleted(self) -> Any:
        cfn = self.ctx.clients.client("cloudformation")
        try:
            status = cfn.describe_stacks(StackName=self.names.stack)["Stacks"][0]["StackStatus"]
        except ClientError as exc:
            if _gone(exc):
                return True, "DELETE_COMPLETE", None
            raise
        if status == "DELETE_FAILED":
            raise StepFailed(f"stack {self.names.stack} DELETE_FAILED; see its events in the CloudFormation console")
        return status == "DELETE_COMPLETE", status, None

    def run(self) -> TeardownResult:
        self.quicksight()
        self.catalog()
        self.objects()
        self.stack()
        return self.result
