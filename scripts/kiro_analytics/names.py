"""Every AWS resource name, derived from config in one place: nothing else spells a stack, crawler or dataset id.

The CloudFormation template receives these as parameters (step 1), so the template and the scripts cannot drift;
a test checks that the template uses the parameters rather than literal names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from .config import Config
from .seat_roster import seat_roster_key

RAW_TABLES: Tuple[str, ...] = ("user_report_raw", "kiro_by_user_analytic_raw", "qdev_by_user_analytic_raw")
# The Iceberg fact tables of sql/facts/ (a test checks this list against the files); their data sits under facts/
# in the results bucket, which teardown empties before the stack goes.
FACT_TABLES: Tuple[str, ...] = ("model_message_facts", "report_line_facts", "source_file_facts", "user_active_days",
                                "user_month_facts")
FACTS_FOLDER = "facts/"
# The facts loader's note of report files without lines (facts.py): beside the tables' folders, never inside one,
# where VACUUM's orphan-file removal would delete it.
FACTS_STATE_KEY = FACTS_FOLDER + "_loader/files_without_lines.json"
USER_MAPPING_TABLE = "user_mapping"
SEAT_ROSTER_TABLE = "seat_roster"
# Report family → the folder under the report root its discovery crawler reads. The raw tables project their
# partitions, so no crawler touches them: a crawler writes only its own table, DISCOVERY_PREFIX + the folder's last
# name (discovered_user_report, discovered_by_user_analytic), which shows the columns the real files carry and which
# no view reads. Q Developer's legacy folder gets no new files, so nothing there can drift.
DISCOVERY_PREFIX = "discovered_"
CRAWLER_FOLDERS: Dict[str, str] = {
    "user-report": "KiroLogs/user_report/",
    "by-user-analytic": "KiroLogs/by_user_analytic/",
}


def discovery_table(family: str) -> str:
    return DISCOVERY_PREFIX + CRAWLER_FOLDERS[family].rstrip("/").rsplit("/", 1)[-1]


DISCOVERY_TABLES: Tuple[str, ...] = tuple(discovery_table(family) for family in CRAWLER_FOLDERS)
ANALYSES: Tuple[str, ...] = ("admin-overview", "user-behavior", "cost-optimization", "feature-adoption")


@dataclass(frozen=True)
class Names:
    config: Config

    @property
    def prefix(self) -> str:
        return self.config.resource_prefix

    @property
    def stack(self) -> str:
        return self.config.stack_name

    @property
    def database(self) -> str:
        return self.config.database

    @property
    def workgroup(self) -> str:
        return self.config.workgroup

    @property
    def results_bucket(self) -> str:
        # Account and region make the bucket name globally unique and tell a reader whose it is.
        return f"{self.prefix}-results-{self.config.account_id}-{self.config.region}".lower()[:63].rstrip("-.")

    def crawler(self, family: str) -> str:
        if family not in CRAWLER_FOLDERS:
            raise KeyError(f"unknown report family {family!r}")
        return f"{self.prefix}-{family}"

    @property
    def crawlers(self) -> Dict[str, str]:
        return {family: self.crawler(family) for family in CRAWLER_FOLDERS}

    @property
    def sync_function(self) -> str:
        return f"{self.prefix}-user-sync"

    @property
    def crawler_role(self) -> str:
        return f"{self.prefix}-crawler"

    @property
    def sync_role(self) -> str:
        return f"{self.prefix}-user-sync"

    @property
    def quicksight_role(self) -> str:
        return f"{self.prefix}-quicksight"

    def lambda_code_key(self, sha256: str) -> str:
        """Where step 1 uploads the Lambda package: in the stack's results bucket, which the stack creates in the
        deploy region. Lambda reads code only from a bucket in the function's region
        (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html), and the report bucket sits in the
        Kiro profile's region, which may be another. The first deploy therefore creates the stack without the
        function, uploads, then adds it (stack.deploy). The digest in the key makes a code change a parameter
        change, which is what makes CloudFormation update the function.
        """
        return f"lambda/user-sync-{sha256[:12]}.zip"

    def template_key(self, sha256: str) -> str:
        """Only used when the template outgrows the 51,200-byte inline limit (then CloudFormation reads it from S3)."""
        return f"{self.prefix}/cloudformation/template-{sha256[:12]}.yaml"

    @property
    def sync_schedule_rule(self) -> str:
        return f"{self.prefix}-user-sync-schedule"

    @property
    def digest_schedule_rule(self) -> str:
        return f"{self.prefix}-weekly-digest-schedule"

    @property
    def sync_alarm(self) -> str:
        return f"{self.prefix}-user-sync-errors"

    @property
    def sync_silence_alarm(self) -> str:
        return f"{self.prefix}-user-sync-not-running"

    @property
    def alarm_topic(self) -> str:
        return f"{self.prefix}-alarms"

    @property
    def sync_log_group(self) -> str:
        return f"/aws/lambda/{self.sync_function}"

    @property
    def data_source_id(self) -> str:
        return f"{self.prefix}-athena"

    def dataset_id(self, view: str) -> str:
        return f"{self.prefix}-{view.replace('_', '-')}"

    def analysis_id(self, analysis: str) -> str:
        return f"{self.prefix}-{analysis}"

    @property
    def dashboard_id(self) -> str:
        return f"{self.prefix}-dashboard"

    @property
    def dashboard_console_url(self) -> str:
        """The dashboard in the QuickSight console of the deploy region (step 9 prints it; the digest links to it)."""
        return f"https://{self.config.region}.quicksight.aws.amazon.com/sn/dashboards/{self.dashboard_id}"

    @property
    def seat_roster_key(self) -> str:
        """Where the user sync writes the seat roster: a folder of its own beside the mapping's (see identity_sync)."""
        return seat_roster_key(self.config.user_mapping_key)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.config.region}:{self.config.account_id}:{resource}"

    def role_arn(self, role_name: str) -> str:
        """IAM is global: no region in a role's ARN."""
        return f"arn:aws:iam::{self.config.account_id}:role/{role_name}"
