"""Preflight: what a first deploy needs, checked read-only, one OK/WARN/FAIL line each with its fix.

Every check catches its own AWS error so one missing permission doesn't hide the other answers. FAIL means the
deploy cannot work as configured (a region folder the tables would never read, a KMS key the roles may not use,
a role the deployer may not pass, Lake Formation permissions the deployer lacks); WARN means it works at a cost or
could not be verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from .config import QS_PRINCIPAL_RE, Config
from .digest import STALE_AFTER_DAYS
from .errors import StepFailed, error_code, is_missing
from .lakeformation import caller_role_arn, deployer_gaps, lake_formation_in_charge
from .names import Names
from .registration_key import registration_key_findings
from .report_location import children, describe_nearby, newest_report_day

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
    except StepFailed as exc:  # a check that found a refusal and explained it (e.g. iam:GetRole denied)
        return Check(FAIL, name, str(exc), fix)


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


REPORT_FAMILIES = ("KiroLogs/user_report/", "KiroLogs/by_user_analytic/", "QDeveloperLogs/by_user_analytic/")


def check_report_regions(config: Config, s3: Any) -> Check:
    """Partition projection reads only the regions listed: data under any other region folder would be invisible."""
    def run() -> Check:
        wanted = set(config.report_regions or (config.region,))
        found = {region for family in REPORT_FAMILIES
                 for region in children(s3, config.bucket_name, f"{config.report_root}{family}")}
        missed = sorted(found - wanted)
        if missed:
            return Check(FAIL, "report regions", f"report folders for {', '.join(missed)} exist, but the tables "
                         f"project only {', '.join(sorted(wanted))}: their reports would never be read",
                         f"set s3.report_regions to [{', '.join(sorted(found | wanted))}]")
        return Check(OK, "report regions", f"tables read {', '.join(sorted(wanted))}; folders found: "
                     f"{', '.join(sorted(found)) or 'none yet'}")
    return _guard("report regions", "grant s3:ListBucket on the report prefix", run)


def check_bucket_encryption(config: Config, s3: Any) -> Check:
    """A report bucket encrypted with a customer managed key: every reader needs kms:Decrypt on that key, which the
    stack grants only for s3.kms_key_arn (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)."""
    def run() -> Check:
        try:
            rules = s3.get_bucket_encryption(Bucket=config.bucket_name)["ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as exc:
            if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            rules = []
        default = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
        algorithm, key = default.get("SSEAlgorithm", "AES256"), default.get("KMSMasterKeyID", "")
        if not algorithm.startswith("aws:kms") or not key:
            note = "SSE-KMS with the AWS managed key aws/s3" if algorithm.startswith("aws:kms") else "SSE-S3"
            if config.kms_key_arn:
                return Check(WARN, "encryption", f"s3://{config.bucket_name} defaults to {note}, yet s3.kms_key_arn "
                             "is set", "remove s3.kms_key_arn unless older reports are encrypted with that key")
            return Check(OK, "encryption", f"s3://{config.bucket_name} defaults to {note}: no key to grant")
        if config.kms_key_arn and (key == config.kms_key_arn or config.kms_key_arn.endswith(f"/{key}")):
            return Check(OK, "encryption", f"SSE-KMS with {config.kms_key_arn}: the stack's roles get kms:Decrypt")
        hint = (f"set s3.kms_key_arn to {key}" if key.startswith("arn:") and ":key/" in key else
                f"set s3.kms_key_arn to the key ARN of {key} (aws kms describe-key --key-id {key})")
        return Check(FAIL, "encryption", f"s3://{config.bucket_name} is encrypted with KMS key {key}; the crawler, "
                     f"the user sync and QuickSight could not decrypt the reports", hint)
    return _guard("encryption", "grant s3:GetEncryptionConfiguration on the bucket", run)


def check_pass_role(config: Config, sts: Any, iam: Any) -> Check:
    """Step 7 hands the QuickSight data source its role, which takes iam:PassRole on it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html); asked of IAM's policy simulator
    for the deployer's own role (with its path) or user."""
    role = Names(config).role_arn(Names(config).quicksight_role)

    def run() -> Check:
        deployer = caller_role_arn(sts, iam)
        try:
            results = iam.simulate_principal_policy(PolicySourceArn=deployer, ActionNames=["iam:PassRole"],
                                                    ResourceArns=[role])["EvaluationResults"]
        except (ClientError, BotoCoreError, ResponseParserError) as exc:  # no simulator here: say so, do not guess
            return Check(WARN, "pass role", f"could not check iam:PassRole on {role} "
                         f"({error_code(exc) or type(exc).__name__})",
                         "allow iam:SimulatePrincipalPolicy to have it checked, or make sure you may pass that role")
        decision = results[0].get("EvalDecision", "") if results else ""
        if decision == "allowed":
            return Check(OK, "pass role", f"{deployer} may pass {role} (step 7's data source)")
        return Check(FAIL, "pass role", f"{deployer} may not pass {role} ({decision or 'no decision'}): step 7's "
                     "CreateDataSource would be refused", f"allow iam:PassRole on {role} for the deploying identity")
    return _guard("pass role", "grant iam:GetRole and iam:SimulatePrincipalPolicy", run)


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


def check_lake_formation(config: Config, clients: Any) -> Check:
    def run() -> Check:
        lakeformation = clients.client("lakeformation")
        if not lake_formation_in_charge(lakeformation):
            return Check(OK, "lake formation", "IAM access control (Lake Formation not enforcing): step 2 will skip")
        from .sqlfiles import load_tables

        gaps = deployer_gaps(lakeformation, clients.client("sts"), clients.client("iam"), clients.client("glue"),
                             config, Names(config), load_tables(config))
        if gaps:
            return Check(FAIL, "lake formation", "Lake Formation governs the catalog and the deployer is not a data "
                         "lake administrator; it lacks: " + "; ".join(gaps),
                         "make the deploying role a data lake administrator, or grant it the permissions above")
        # The registration role reads the reports for everyone under Lake Formation: it needs the KMS key too.
        findings = registration_key_findings(lakeformation, clients.client("kms"), config, load_tables(config))
        worst = next((status for status in (FAIL, WARN) if any(f.status == status for f in findings)), OK)
        notes = "".join(f"; {f.message}" for f in findings)
        fixes = "; ".join(f.fix for f in findings if f.status != OK)
        return Check(worst, "lake formation", f"Lake Formation governs the catalog: step 2 grants access{notes}",
                     fixes)
    return _guard("lake formation", "grant lakeformation:GetDataLakeSettings, lakeformation:ListPermissions and "
                  "lakeformation:ListResources (and kms:GetKeyPolicy on s3.kms_key_arn)", run)


def run_checks(config: Config, clients: Any, today: Optional[date] = None) -> List[Check]:
    """Every check; when the credentials check fails, the ones that need them are SKIPped with that reason (each
    would fail too and suggest a permission that is not the problem)."""
    credentials = check_credentials(config, clients.client("sts"))
    account_checks: List[Tuple[str, Callable[[], Check]]] = [
        ("bucket", lambda: check_bucket(config, clients.client("s3"))),
        ("reports", lambda: check_reports(config, clients.client("s3"), today)),
        ("report regions", lambda: check_report_regions(config, clients.client("s3"))),
        ("encryption", lambda: check_bucket_encryption(config, clients.client("s3"))),
        ("quicksight", lambda: check_quicksight(config, clients.quicksight(), clients.quicksight_identity())),
        ("pass role", lambda: check_pass_role(config, clients.client("sts"), clients.client("iam"))),
        ("identity store", lambda: check_identity_store(config, clients.identitystore())),
        ("lake formation", lambda: check_lake_formation(config, clients)),
    ]
    checks = [credentials, check_region(config)]
    if credentials.status == FAIL:
        return checks + [Check(SKIP, name, "skipped: the credentials check failed (fix that first)")
                         for name, _ in account_checks]
    return checks + [check() for _, check in account_checks]
