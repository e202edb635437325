"""Preflight: what a first deploy needs, checked read-only, one OK/WARN/FAIL line each with its fix.

Every check catches its own AWS error so one missing permission doesn't hide the other answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from .config import QS_PRINCIPAL_RE, Config
from .digest import STALE_AFTER_DAYS
from .errors import error_code, is_missing
from .lakeformation import lake_formation_in_charge
from .report_location import describe_nearby, newest_report_day

OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"
BUCKET_MISSING = ("404", "NoSuchBucket", "NotFound")
IDENTITY_STORE_UNREACHABLE = ("AccessDeniedException", "ResourceNotFoundException", "ValidationException")


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    message: str
    fix: str = ""


def _guard(name: str, fix: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except (ClientError, BotoCoreError) as exc:
        return Check(FAIL, name, f"{error_code(exc) or type(exc).__name__}: {exc}", fix)


def check_credentials(config: Config, sts: Any) -> Check:
    def run() -> Check:
        identity = sts.get_caller_identity()
        if identity["Account"] != config.account_id:
            return Check(FAIL, "credentials", f"signed in to account {identity['Account']}, config says "
                         f"{config.account_id}", "switch credentials (aws.profile / AWS_PROFILE) or fix aws.account_id")
        return Check(OK, "credentials", f"{identity['Arn']} in account {identity['Account']}")
    return _guard("credentials", "configure AWS credentials (aws configure, or aws.profile in the config)", run)


def check_region(config: Config) -> Check:
    notes = [f"deploy region {config.region}"]
    if config.identity_region != config.region:
        notes.append(f"Identity Center in {config.identity_region}")
    if config.quicksight_identity_region != config.region:
        notes.append(f"QuickSight identity region {config.quicksight_identity_region}")
    return Check(OK, "region", ", ".join(notes))


def check_bucket(config: Config, s3: Any) -> Check:
    def run() -> Check:
        try:
            s3.head_bucket(Bucket=config.bucket_name)
        except ClientError as exc:
            code = error_code(exc)
            if code in BUCKET_MISSING:
                return Check(FAIL, "bucket", f"s3://{config.bucket_name} does not exist",
                             "set s3.bucket_name to the bucket Kiro delivers reports to")
            return Check(FAIL, "bucket", f"s3://{config.bucket_name} is not readable ({code})",
                         "grant s3:ListBucket and s3:GetObject on the bucket to the deploying identity")
        location = s3.get_bucket_location(Bucket=config.bucket_name).get("LocationConstraint") or "us-east-1"
        if location != config.region:
            return Check(WARN, "bucket", f"s3://{config.bucket_name} is in {location}, deploying to {config.region}",
                         "cross-region reads work but cost transfer; deploy in the bucket's region if you can")
        return Check(OK, "bucket", f"s3://{config.bucket_name} readable, in {location}")
    return _guard("bucket", "check s3.bucket_name and your S3 permissions", run)


def check_reports(config: Config, s3: Any, today: Optional[date] = None) -> Check:
    def run() -> Check:
        prefix = f"{config.report_root}KiroLogs/user_report/"
        newest = newest_report_day(s3, config.bucket_name, prefix)
        if newest is None:
            nearby = describe_nearby(s3, config.bucket_name, config.prefix)
            return Check(FAIL, "reports", f"no user_report files under s3://{config.bucket_name}/{prefix}; {nearby}",
                         "fix s3.prefix (the part before AWSLogs/) or enable user activity reports in the Kiro console")
        age = ((today or datetime.now(timezone.utc).date()) - newest).days
        if age > STALE_AFTER_DAYS:
            return Check(WARN, "reports", f"newest report day is {newest} ({age} days old)",
                         "Kiro delivers daily at about 02:00 UTC; check the report settings in the Kiro console")
        return Check(OK, "reports", f"user_report files found, newest day {newest}")
    return _guard("reports", "grant s3:ListBucket on the report prefix", run)


def check_quicksight(config: Config, quicksight: Any, quicksight_identity: Any) -> Check:
    def run() -> Check:
        try:
            subscription = quicksight.describe_account_subscription(AwsAccountId=config.account_id)["AccountInfo"]
        except ClientError as exc:
            if is_missing(exc, ("ResourceNotFoundException",)):
                return Check(FAIL, "quicksight", "QuickSight is not subscribed in this account",
                             "sign up for QuickSight Enterprise edition in the QuickSight console")
            raise
        edition = subscription.get("Edition", "")
        if "ENTERPRISE" not in edition:
            return Check(FAIL, "quicksight", f"QuickSight edition is {edition or 'unknown'}",
                         "upgrade to Enterprise edition (datasets from Athena, dashboards via the API need it)")
        match = QS_PRINCIPAL_RE.match(config.quicksight_user_arn)
        namespace, user = config.quicksight_user_arn.split(":user/", 1)[1].split("/", 1) if match else ("", "")
        try:
            quicksight_identity.describe_user(AwsAccountId=config.account_id, Namespace=namespace, UserName=user)
        except ClientError as exc:
            if is_missing(exc, ("ResourceNotFoundException",)):
                return Check(FAIL, "quicksight", f"user {user!r} not found in namespace {namespace!r} "
                             f"({config.quicksight_identity_region})",
                             "copy the user ARN from QuickSight → Manage users, in the QuickSight identity region")
            raise
        return Check(OK, "quicksight", f"{edition}; owner {user} exists")
    return _guard("quicksight", "grant quicksight:DescribeAccountSubscription and quicksight:DescribeUser", run)


def check_identity_store(config: Config, identitystore: Any) -> Check:
    def run() -> Check:
        try:
            identitystore.list_users(IdentityStoreId=config.identity_store_id, MaxResults=1)
        except ClientError as exc:
            if error_code(exc) in IDENTITY_STORE_UNREACHABLE:
                return Check(FAIL, "identity store", f"{config.identity_store_id} in {config.identity_region}: "
                             f"{error_code(exc)}",
                             "run from the Identity Center management (or delegated admin) account, set "
                             "identity_center.region to its home region and check identity_store_id")
            raise
        return Check(OK, "identity store", f"{config.identity_store_id} reachable in {config.identity_region}")
    return _guard("identity store", "grant identitystore:ListUsers", run)


def check_lake_formation(lakeformation: Any) -> Check:
    def run() -> Check:
        if lake_formation_in_charge(lakeformation):
            return Check(OK, "lake formation", "Lake Formation governs the catalog: step 2 grants access")
        return Check(OK, "lake formation", "IAM access control (Lake Formation not enforcing): step 2 will skip")
    return _guard("lake formation", "grant lakeformation:GetDataLakeSettings", run)


def run_checks(config: Config, clients: Any, today: Optional[date] = None) -> List[Check]:
    """Every check; when the credentials check fails, the ones that need them are SKIPped with that reason (each
    would fail too and suggest a permission that is not the problem)."""
    credentials = check_credentials(config, clients.client("sts"))
    account_checks: List[Tuple[str, Callable[[], Check]]] = [
        ("bucket", lambda: check_bucket(config, clients.client("s3"))),
        ("reports", lambda: check_reports(config, clients.client("s3"), today)),
        ("quicksight", lambda: check_quicksight(config, clients.quicksight(), clients.quicksight_identity())),
        ("identity store", lambda: check_identity_store(config, clients.identitystore())),
        ("lake formation", lambda: check_lake_formation(clients.client("lakeformation"))),
    ]
    checks = [credentials, check_region(config)]
    if credentials.status == FAIL:
        return checks + [Check(SKIP, name, "skipped: the credentials check failed (fix that first)")
                         for name, _ in account_checks]
    return checks + [check() for _, check in account_checks]
