"""Load and validate config.yaml once, into an immutable object, before any AWS call.

Validation collects every problem (each names its key and what is expected) and raises one
ConfigError, so a user fixes a file in one pass rather than one error per run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import yaml

from .errors import ConfigError

ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# S3 general-purpose bucket naming rules (no dots-as-IP, no xn-- prefix, no -s3alias suffix).
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IDENTITY_STORE_RE = re.compile(r"^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
QS_PRINCIPAL_RE = re.compile(
    r"^arn:aws[a-z-]*:quicksight:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>user|group)/[\w+=,.@-]+/[\w+=,.@/-]+$"
)
DATABASE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")
RESOURCE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,39}$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
TIER_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-zA-Z-]+$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


@dataclass(frozen=True)
class Tier:
    code: str
    credits: float
    price: float
    # Whether this plan can buy overage at all (Kiro's Free plan cannot); a user's own Overage_Enabled still decides.
    overage: bool = True


# How Overage_Credits_Used is read: each day's overage, or the month-to-date total (the Kiro docs disagree).
OVERAGE_READINGS = ("daily", "running_total")
FREE_TIER = "FREE"


@dataclass(frozen=True)
class Principal:
    arn: str
    access: str  # "owner" | "viewer"


@dataclass(frozen=True)
class Config:
    account_id: str
    region: str
    profile: str
    bucket_name: str
    prefix: str
    user_mapping_key: str
    identity_store_id: str
    identity_region: str
    quicksight_user_arn: str
    language: str
    spice_refresh_time: str
    extra_principals: Tuple[Principal, ...]
    stack_name: str
    resource_prefix: str
    database: str
    workgroup: str
    crawler_cron: str
    user_sync_cron: str
    bytes_scanned_cutoff: int
    results_expiration_days: int
    log_retention_days: int
    alarm_email: str
    overage_price_per_credit: float
    tiers: Tuple[Tier, ...]
    source_path: str = field(default="", compare=False)
    # Idle-seat detection (seat_utilisation); no groups = off.
    seat_groups: Tuple[str, ...] = ()
    seat_default_tier: str = "PRO"
    seat_grace_days: int = 14
    seat_idle_after_days: int = 30
    # Weekly digest e-mail (AWS cron, UTC); empty = off. Sent only when lambda.alarm_email is set too.
    digest_cron: str = "cron(0 6 ? * MON *)"
    # The cost model (sql/README.md, Plans): how Overage_Credits_Used is read, and whether the FREE tier may be
    # advised (an enterprise seat is never moved to the free plan unless the admin says so).
    overage_reading: str = "daily"
    advise_free: bool = False
    # Partition projection of the raw tables: the region folders Kiro writes to (default: aws.region) and the
    # first day projected (the oldest Q Developer era files must be on or after it).
    report_regions: Tuple[str, ...] = ()
    first_report_day: str = "2024-01-01"
    # The customer managed KMS key of the report bucket's default encryption; empty = SSE-S3 (or aws/s3).
    kms_key_arn: str = ""
    # The account that owns the identity store (usually the organisation's management account); empty = any.
    identity_account_id: str = ""
    # A role the user sync assumes for directory reads, for organisations that deny member accounts; empty = none.
    identity_role_arn: str = ""

    @property
    def quicksight_identity_region(self) -> str:
        """QuickSight users live in the identity region, which the ARN names."""
        match = QS_PRINCIPAL_RE.match(self.quicksight_user_arn)
        return match.group("region") if match else self.region

    @property
    def report_root(self) -> str:
        """S3 key prefix of the account's Kiro folder, ending in a slash."""
        return f"{self.prefix}AWSLogs/{self.account_id}/"


# Defaults for every optional key; the five REQUIRED keys have none.
DEFAULTS: Dict[str, Any] = {
    "aws.profile": "",
    "s3.prefix": "",
    "s3.user_mapping_key": "user-mapping/user_mapping.csv",
    "s3.report_regions": [],
    "s3.first_report_day": "2024-01-01",
    "s3.kms_key_arn": "",
    "identity_center.region": "",
    "identity_center.account_id": "",
    "identity_center.role_arn": "",
    "quicksight.language": "zh",
    "quicksight.spice_refresh_time": "04:00",
    "quicksight.extra_principals": [],
    "names.stack_name": "kiro-analytics",
    "names.resource_prefix": "kiro-analytics",
    "names.database": "kiro_analytics",
    "names.workgroup": "kiro-analytics",
    "schedules.crawler_cron": "cron(0 3 * * ? *)",
    "schedules.user_sync_cron": "cron(30 3 * * ? *)",
    "athena.bytes_scanned_cutoff": 10 * 1024**3,
    "athena.results_expiration_days": 30,
    "lambda.log_retention_days": 90,
    "lambda.alarm_email": "",
    "plans.overage_price_per_credit": 0.04,
    "plans.overage_reading": "daily",
    "plans.advise_free": False,
    "plans.tiers": {
        "FREE": {"credits": 50, "price": 0, "overage": False},
        "PRO": {"credits": 1000, "price": 20},
        "PRO_PLUS": {"credits": 2000, "price": 40},
        "PRO_MAX": {"credits": 5000, "price": 100},
        "POWER": {"credits": 10000, "price": 200},
    },
    "seats.groups": [],
    "seats.default_tier": "PRO",
    "seats.grace_days": 14,
    "seats.idle_after_days": 30,
    "digest.cron": "cron(0 6 ? * MON *)",
}
REQUIRED = (
    "aws.account_id",
    "aws.region",
    "s3.bucket_name",
    "identity_center.identity_store_id",
    "quicksight.user_arn",
)
KNOWN_SECTIONS = {key.split(".")[0] for key in list(DEFAULTS) + list(REQUIRED)}
KNOWN_KEYS = set(DEFAULTS) | set(REQUIRED)
LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653}


class _Reader:
    """Reads dotted keys from the parsed YAML and records every problem instead of stopping."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: List[str] = []

    def raw(self, key: str) -> Any:
        section, name = key.split(".", 1)
        block = self.data.get(section)
        if isinstance(block, Mapping) and name in block and block[name] is not None:
            return block[name]
        if key in DEFAULTS:
            return DEFAULTS[key]
        self.problems.append(f"{key}: required, missing (see config.example.yaml)")
        return None

    def string(self, key: str, pattern: Optional[re.Pattern] = None, expected: str = "",
               allow_empty: bool = False) -> str:
        value = self.raw(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.problems.append(f"{key}: expected a string ({expected or 'text'}), got {type(value).__name__}")
            return ""
        text = str(value).strip()
        if not text and allow_empty:
            return ""
        if not text:
            self.problems.append(f"{key}: must not be empty ({expected})")
        elif pattern is not None and not pattern.match(text):
            self.problems.append(f"{key}: {text!r} is not valid; expected {expected}")
        return text

    def number(self, key: str, kind: Callable[[Any], Any], minimum: float, expected: str) -> Any:
        value = self.raw(key)
        if value is None:
            return kind(0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and isinstance(value, float)):
            self.problems.append(f"{key}: expected {expected}, got {value!r}")
            return kind(0)
        if value < minimum:
            self.problems.append(f"{key}: expected {expected}, got {value!r}")
        return kind(value)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def _bucket_problem(name: str) -> Optional[str]:
    if not BUCKET_RE.match(name):
        return ("3-63 characters: lower-case letters, digits, dots and hyphens, "
                "starting and ending with a letter or digit")
    if ".." in name or ".-" in name or "-." in name:
        return "no adjacent dots, and no dot next to a hyphen"
    if re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        return "not formatted as an IP address"
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3")):
        return "no reserved prefix (xn--, sthree-) or suffix (-s3alias, --ol-s3, --x-s3)"
    return None


def _cron_problem(expression: str) -> Optional[str]:
    """Validate an AWS (Glue / EventBridge) cron: cron(min hour day-of-month month day-of-week year), UTC."""
    match = re.match(r"^cron\((.*)\)$", expression)
    if not match:
        return "cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 3 * * ? *)"
    fields = match.group(1).split()
    if len(fields) != 6:
        return f"6 fields inside cron(...), found {len(fields)}"
    patterns = [
        (r"^(\*|\d{1,2}([-/]\d{1,2})?(,\d{1,2})*)$", 0, 59),
        (r"^(\*|\d{1,2}([-/]\d{1,2})?(,\d{1,2})*)$", 0, 23),
        (r"^(\*|\?|L|W|\d{1,2}W?([-/]\d{1,2})?(,\d{1,2})*)$", 1, 31),
        (r"^(\*|(\d{1,2}|[A-Z]{3})([-/](\d{1,2}|[A-Z]{3}))?(,(\d{1,2}|[A-Z]{3}))*)$", 1, 12),
        (r"^(\*|\?|L|(\d|[A-Z]{3})(#\d|L)?([-/](\d|[A-Z]{3}))?(,(\d|[A-Z]{3}))*)$", 1, 7),
        (r"^(\*|\d{4}([-/]\d{1,4})?(,\d{4})*)$", 1970, 2199),
    ]
    names = ["minutes", "hours", "day-of-month", "month", "day-of-week", "year"]
    for name, value, (pattern, low, high) in zip(names, fields, patterns):
        if not re.match(pattern, value):
            return f"{name} field {value!r} is not valid"
        if name != "year":
            for number in re.findall(r"\d+", value.split("/")[0].split("#")[0]):
                if not low <= int(number) <= high:
                    return f"{name} field {value!r} is out of range {low}-{high}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def _principals(reader: _Reader) -> Tuple[Principal, ...]:
    value = reader.raw("quicksight.extra_principals")
    if not isinstance(value, list):
        reader.check(False, "quicksight.extra_principals: expected a list of {arn, access}")
        return ()
    found: List[Principal] = []
    for index, item in enumerate(value):
        key = f"quicksight.extra_principals[{index}]"
        if not isinstance(item, Mapping):
            reader.check(False, f"{key}: expected a mapping with arn and access")
            continue
        arn = str(item.get("arn", ""))
        access = str(item.get("access", "viewer"))
        reader.check(bool(QS_PRINCIPAL_RE.match(arn)),
                     f"{key}.arn: {arn!r} is not a QuickSight user or group ARN "
                     "(arn:aws:quicksight:<region>:<account>:user|group/<namespace>/<name>)")
        reader.check(access in ("viewer", "owner"), f"{key}.access: {access!r} must be viewer or owner")
        found.append(Principal(arn=arn, access=access))
    return tuple(found)


def _tiers(reader: _Reader) -> Tuple[Tier, ...]:
    value = reader.raw("plans.tiers")
    if not isinstance(value, Mapping) or not value:
        reader.check(False, "plans.tiers: expected a mapping of tier code to {credits, price}")
        return ()
    tiers: List[Tier] = []
    for code, spec in value.items():
        key = f"plans.tiers.{code}"
        reader.check(isinstance(code, str) and bool(TIER_RE.match(code)),
                     f"{key}: tier codes are upper case like PRO_PLUS")
        if not isinstance(spec, Mapping):
            reader.check(False, f"{key}: expected {{credits: <number>, price: <number>}}")
            continue
        for name in spec:
            reader.check(name in ("credits", "price", "overage"),
                         f"{key}.{name}: unknown key (known: credits, price, overage)")
        overage = spec.get("overage", True)
        reader.check(isinstance(overage, bool), f"{key}.overage: expected true or false, got {overage!r}")
        numbers = {}
        for part in ("credits", "price"):
            number = spec.get(part)
            ok = isinstance(number, (int, float)) and not isinstance(number, bool) and number >= 0
            reader.check(ok and (part != "credits" or number > 0),
                         f"{key}.{part}: expected a {'positive' if part == 'credits' else 'non-negative'} "
                         f"number, got {number!r}")
            numbers[part] = float(number) if ok else 0.0
        tiers.append(Tier(code=str(code), credits=numbers["credits"], price=numbers["price"],
                          overage=overage if isinstance(overage, bool) else True))
    # Recommendations walk tiers by allowance, so the order is by credits, not by file order.
    return tuple(sorted(tiers, key=lambda tier: tier.credits))


def _seat_groups(reader: _Reader) -> Tuple[str, ...]:
    value = reader.raw("seats.groups")
    if not isinstance(value, list):
        reader.check(False, "seats.groups: expected a list of Identity Center group display names ([] = off)")
        return ()
    groups: List[str] = []
    for index, item in enumerate(value):
        # The sync writes the roster as CSV and the Lambda reads the list from JSON: any text is safe, but an
        # empty or repeated name is a typo.
        name = item.strip() if isinstance(item, str) else ""
        reader.check(bool(name), f"seats.groups[{index}]: expected a non-empty group display name, got {item!r}")
        reader.check(not name or name not in groups, f"seats.groups[{index}]: {name!r} is listed twice")
        if name and name not in groups:
            groups.append(name)
    return tuple(groups)


def _report_regions(reader: _Reader, region: str) -> Tuple[str, ...]:
    value = reader.raw("s3.report_regions")
    if not isinstance(value, list) or not all(isinstance(item, str) and REGION_RE.match(item) for item in value):
        reader.check(False, f"s3.report_regions: expected a list of AWS regions such as [us-east-1], got {value!r}")
        return ()
    found = tuple(dict.fromkeys(item.strip() for item in value))
    return found or ((region,) if region else ())


def _first_day(reader: _Reader) -> str:
    text = reader.string("s3.first_report_day", DAY_RE, "a date YYYY-MM-DD on or before the oldest report")
    try:
        date.fromisoformat(text)
    except ValueError:
        reader.check(not DAY_RE.match(text), f"s3.first_report_day: {text!r} is not a real date")
    return text


def parse_config(data: Any, source: str = "config.yaml") -> Config:
    """Validate parsed YAML and return a Config, or raise ConfigError listing every problem."""
    if not isinstance(data, Mapping):
        raise ConfigError(source, ["the file must be a YAML mapping (see config.example.yaml)"])
    reader = _Reader(data)
    for section, block in data.items():
        if section not in KNOWN_SECTIONS:
            reader.problems.append(f"{section}: unknown section (known: {', '.join(sorted(KNOWN_SECTIONS))})")
        elif not isinstance(block, Mapping):
            reader.problems.append(f"{section}: expected a mapping of keys")
        else:
            for name in block:
                if f"{section}.{name}" not in KNOWN_KEYS:
                    reader.problems.append(f"{section}.{name}: unknown key (typo?)")

    account = reader.string("aws.account_id", ACCOUNT_RE, "12 digits, quoted, e.g. \"123456789012\"")
    region = reader.string("aws.region", REGION_RE, "an AWS region such as us-east-1")
    bucket = reader.string("s3.bucket_name", expected="an S3 bucket name")
    if bucket:
        problem = _bucket_problem(bucket)
        reader.check(problem is None, f"s3.bucket_name: {bucket!r} breaks S3 naming rules: {problem}")
    prefix = reader.string("s3.prefix", allow_empty=True)
    reader.check(not prefix.startswith("/") and "AWSLogs" not in prefix,
                 f"s3.prefix: {prefix!r} must be the part before AWSLogs/, without a leading slash")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    mapping_key = reader.string("s3.user_mapping_key", re.compile(r"^[^/].*\.csv$"),
                                "a key like user-mapping/user_mapping.csv")
    reader.check("AWSLogs/" not in mapping_key, f"s3.user_mapping_key: {mapping_key!r} must not be under an "
                                                "AWSLogs/ folder (the deploy never writes among the reports)")
    # The mapping table's LOCATION is the key's folder; the bucket root would hold the reports too.
    reader.check(not mapping_key or "/" in mapping_key, f"s3.user_mapping_key: {mapping_key!r} must be inside a "
                                                        "folder, e.g. user-mapping/user_mapping.csv")
    store = reader.string("identity_center.identity_store_id", IDENTITY_STORE_RE,
                          "d- followed by 10 hex characters, e.g. d-1234567890")
    identity_region = reader.string("identity_center.region", REGION_RE, "an AWS region such as us-east-1",
                                    allow_empty=True)
    user_arn = reader.string("quicksight.user_arn", QS_PRINCIPAL_RE,
                             "arn:aws:quicksight:<identity-region>:<account>:user/<namespace>/<user-name>")
    if user_arn and ACCOUNT_RE.match(account) and QS_PRINCIPAL_RE.match(user_arn):
        reader.check(QS_PRINCIPAL_RE.match(user_arn).group("account") == account,  # type: ignore[union-attr]
                     f"quicksight.user_arn: account in the ARN differs from aws.account_id {account}")
    language = reader.string("quicksight.language", re.compile(r"^(zh|en)$"), "zh or en")
    refresh = reader.string("quicksight.spice_refresh_time", HHMM_RE, "UTC time as HH:MM, e.g. 04:00")
    names = {
        "stack_name": reader.string("names.stack_name", re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$"),
                                    "letters, digits and hyphens, starting with a letter"),
        "resource_prefix": reader.string("names.resource_prefix", RESOURCE_NAME_RE,
                                         "1-40 letters, digits and hyphens, starting with a letter"),
        "database": reader.string("names.database", DATABASE_RE, "lower-case letters, digits and underscores"),
        "workgroup": reader.string("names.workgroup", re.compile(r"^[A-Za-z0-9._-]{1,128}$"),
                                   "letters, digits, '.', '_' and '-'"),
    }
    crons = {}
    for key in ("schedules.crawler_cron", "schedules.user_sync_cron", "digest.cron"):
        crons[key] = reader.string(key, expected="cron(...)", allow_empty=key == "digest.cron")
        if crons[key]:
            problem = _cron_problem(crons[key])
            reader.check(problem is None, f"{key}: {crons[key]!r} is not an AWS cron expression: {problem}")
    cutoff = reader.number("athena.bytes_scanned_cutoff", int, 10_000_000, "a whole number of bytes, at least 10000000")
    expiry = reader.number("athena.results_expiration_days", int, 1, "a whole number of days, at least 1")
    retention = reader.number("lambda.log_retention_days", int, 1, "a whole number of days")
    if retention and retention not in LOG_RETENTION_DAYS:
        reader.check(False, f"lambda.log_retention_days: {retention} is not a CloudWatch value "
                            f"({', '.join(str(d) for d in sorted(LOG_RETENTION_DAYS))})")
    email = reader.string("lambda.alarm_email", EMAIL_RE, "an e-mail address or empty", allow_empty=True)
    overage = reader.number("plans.overage_price_per_credit", float, 0, "a non-negative number (USD per credit)")
    reading = reader.string("plans.overage_reading", re.compile(f"^({'|'.join(OVERAGE_READINGS)})$"),
                            " or ".join(OVERAGE_READINGS))
    advise_free = reader.raw("plans.advise_free")
    reader.check(isinstance(advise_free, bool), f"plans.advise_free: expected true or false, got {advise_free!r}")
    principals = _principals(reader)
    tiers = _tiers(reader)
    seat_groups = _seat_groups(reader)
    seat_tier = reader.string("seats.default_tier", TIER_RE, "a tier code like PRO")
    if seat_tier and tiers:
        reader.check(seat_tier in {tier.code for tier in tiers},
                     f"seats.default_tier: {seat_tier!r} is not a tier in plans.tiers "
                     f"({', '.join(tier.code for tier in tiers)})")
    grace = reader.number("seats.grace_days", int, 0, "a whole number of days, 0 or more")
    idle_after = reader.number("seats.idle_after_days", int, 1, "a whole number of days, at least 1")
    report_regions = _report_regions(reader, region if REGION_RE.match(region) else "")
    first_day = _first_day(reader)
    kms_key = reader.string("s3.kms_key_arn", KMS_KEY_ARN_RE, "a KMS key ARN arn:aws:kms:<region>:<account>:key/<id>",
                            allow_empty=True)
    identity_account = reader.string("identity_center.account_id", ACCOUNT_RE, "12 digits, quoted", allow_empty=True)
    identity_role = reader.string("identity_center.role_arn", ROLE_ARN_RE, "an IAM role ARN", allow_empty=True)

    if reader.problems:
        raise ConfigError(source, reader.problems)
    return Config(
        account_id=account, region=region, profile=reader.string("aws.profile", allow_empty=True),
        bucket_name=bucket, prefix=prefix, user_mapping_key=mapping_key,
        identity_store_id=store, identity_region=identity_region or region,
        quicksight_user_arn=user_arn, language=language, spice_refresh_time=refresh,
        extra_principals=principals, crawler_cron=crons["schedules.crawler_cron"],
        user_sync_cron=crons["schedules.user_sync_cron"], bytes_scanned_cutoff=cutoff,
        results_expiration_days=expiry, log_retention_days=retention, alarm_email=email,
        overage_price_per_credit=overage, tiers=tiers, source_path=source, seat_groups=seat_groups,
        seat_default_tier=seat_tier, seat_grace_days=grace, seat_idle_after_days=idle_after,
        digest_cron=crons["digest.cron"], overage_reading=reading, advise_free=advise_free is True,
        report_regions=report_regions, first_report_day=first_day, kms_key_arn=kms_key,
        identity_account_id=identity_account, identity_role_arn=identity_role, **names,
    )


def load_config(path: str) -> Config:
    """Read and validate a YAML config file; every failure is a ConfigError naming the file."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(path, [f"file not found; copy config.example.yaml to {path} and fill it in"])
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"not valid YAML: {exc}"]) from None
    return parse_config(data or {}, source=path)
