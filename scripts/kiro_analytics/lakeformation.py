"""Lake Formation: only when it governs the catalog, grant only what is missing, and say what the deployer lacks.

Lake Formation is "not in charge" while new databases and tables give IAM_ALLOWED_PRINCIPALS full access by
default (the account default); IAM policies then decide and there is nothing to grant.

When it is in charge, three moments matter (https://docs.aws.amazon.com/lake-formation/latest/dg/
access-control-underlying-data.html: creating a table that points at a registered location needs data location
permission on it):
- step 1, before any table: the deployer needs DATA_LOCATION_ACCESS on the registered locations under the tables'
  LOCATIONs (prepare_tables); a data lake administrator has it implicitly
  (https://docs.aws.amazon.com/lake-formation/latest/dg/implicit-permissions.html);
- step 2: DESCRIBE and SELECT for every principal that reads, and for the crawler role CREATE_TABLE and ALTER on
  the database plus data location access where it crawls, since it creates and updates its discovery tables;
- preflight: the deployer's missing permissions, named (deployer_gaps).
The Iceberg fact tables (sql/facts/) are written after they exist: step 5 creates them as the deployer (who needs data
location access where they live, when it is registered), and the daily {"action": "facts"} run writes them as the
sync role, which then needs, besides SELECT, INSERT and DELETE on the table (the data access permissions of a table
in a registered location, access-control-underlying-data.html above), ALTER (every Iceberg commit, OPTIMIZE and
VACUUM included, updates the table's metadata location in the catalog) and DESCRIBE
(https://docs.aws.amazon.com/lake-formation/latest/dg/lf-permissions-reference.html), plus data location access on
the registered location holding it: ALTER on a table there needs it (access-control-underlying-data.html). The
readers' SELECT on it is the same as on every table; step 5 grants it once the table exists.
Grants go to the registered location that covers a path, which may be a sub-path rather than the bucket root: a
grant needs a registered location (https://docs.aws.amazon.com/lake-formation/latest/dg/granting-location-permissions.html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .config import Config
from .errors import StepFailed, error_code
from .names import CRAWLER_FOLDERS, FACT_TABLES, FACTS_FOLDER, Names

IAM_ALLOWED = "IAM_ALLOWED_PRINCIPALS"
CRAWLER_DATABASE_PERMISSIONS = ["ALTER", "CREATE_TABLE", "DESCRIBE"]
# What the facts' writer (the sync role) needs on each fact table beyond the SELECT every reader gets.
FACT_WRITER_PERMISSIONS = ["ALTER", "DELETE", "DESCRIBE", "INSERT"]
Grant = Tuple[str, Dict, List[str]]


@dataclass
class GrantResult:
    in_charge: bool
    granted: List[str] = field(default_factory=list)
    already: int = 0
    principals: List[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.in_charge:
            return "unchanged: Lake Formation is not in charge of the catalog (IAM permissions apply); nothing to grant"
        state = "" if self.granted else "unchanged: "
        return (f"{state}{len(self.granted)} grant(s) added, {self.already} already in place, "
                f"for {len(self.principals)} principal(s); verified with ListPermissions")


def _settings(lakeformation: Any) -> Dict[str, Any]:
    return lakeformation.get_data_lake_settings()["DataLakeSettings"]


def lake_formation_in_charge(lakeformation: Any) -> bool:
    settings = _settings(lakeformation)
    defaults = settings.get("CreateDatabaseDefaultPermissions", []) + settings.get("CreateTableDefaultPermissions", [])
    iam_default = any(item.get("Principal", {}).get("DataLakePrincipalIdentifier") == IAM_ALLOWED for item in defaults)
    return not iam_default


def caller_role_arn(sts: Any, iam: Any) -> str:
    """The deploying identity as Lake Formation knows it: an assumed-role session becomes its IAM role's ARN, path
    included. The session ARN has no path, and an IAM Identity Center (SSO) role lives under
    /aws-reserved/sso.amazonaws.com/, so the ARN comes from iam:GetRole, not from the session's name."""
    arn = sts.get_caller_identity()["Arn"]
    parts = arn.split(":")
    if not (len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/")):
        return arn
    role = parts[5].split("/")[1]
    try:
        return str(iam.get_role(RoleName=role)["Role"]["Arn"])
    except Exception as exc:
        if error_code(exc) in ("AccessDenied", "AccessDeniedException"):
            raise StepFailed(f"iam:GetRole on role {role} was denied: Lake Formation grants must name the deployer's "
                             f"role with its path (SSO roles live under /aws-reserved/). Allow iam:GetRole on "
                             f"arn:aws:iam::{parts[4]}:role/*{role} for the deploying identity") from None
        raise


def principals(config: Config, names: Names, deployer: str) -> List[str]:
    account = config.account_id
    found = [config.quicksight_user_arn, *(p.arn for p in config.extra_principals),
             f"arn:aws:iam::{account}:role/{names.quicksight_role}",
             f"arn:aws:iam::{account}:role/{names.crawler_role}",
             f"arn:aws:iam::{account}:role/{names.sync_role}", deployer]
    return list(dict.fromkeys(found))


def _pages(method: Any, key: str, **params: Any) -> List[Dict[str, Any]]:
    """Lake Formation's List* calls have no boto3 paginator: follow NextToken by hand."""
    items: List[Dict[str, Any]] = []
    while True:
        page = method(**params)
        items.extend(page.get(key, []))
        if not page.get("NextToken"):
            return items
        params["NextToken"] = page["NextToken"]


def registered_roles(lakeformation: Any) -> Dict[str, str]:
    """Registered location ARN → the role Lake Formation reads it with (RoleArn of ListResources)."""
    return {item["ResourceArn"].rstrip("/"): str(item.get("RoleArn", ""))
            for item in _pages(lakeformation.list_resources, "ResourceInfoList")
            if item.get("ResourceArn", "").startswith("arn:")}


def registered_locations(lakeformation: Any) -> List[str]:
    return list(registered_roles(lakeformation))


def covering_location(registered: Iterable[str], s3_url: str) -> Optional[str]:
    """The registered location (the longest, if several) that an s3://bucket/key/ path lies under, or None."""
    bucket, _, key = s3_url[len("s3://"):].partition("/")
    path = f"arn:aws:s3:::{bucket}/{key}".rstrip("/") + "/"
    under = [arn for arn in registered if path.startswith(arn + "/")]
    return max(under, key=len) if under else None


def table_locations(tables: Iterable[Any]) -> List[str]:
    from .tables import parse_table_ddl  # tables imports athena; keep this module importable without it

    return [parse_table_ddl(table.sql).location for table in tables]


def fact_locations(names: Names, tables: Iterable[str] = FACT_TABLES) -> List[str]:
    """Where each fact table's data and metadata live (sql/facts/<name>.sql's LOCATION)."""
    return [f"s3://{names.results_bucket}/{FACTS_FOLDER}{name}/" for name in tables]


def crawl_paths(config: Config) -> List[str]:
    return [f"s3://{config.bucket_name}/{config.report_root}{folder}" for folder in CRAWLER_FOLDERS.values()]


def _location_grants(principal: str, registered: List[str], paths: Iterable[str]) -> List[Grant]:
    arns = sorted({arn for arn in (covering_location(registered, path) for path in paths) if arn})
    return [(principal, {"DataLocation": {"ResourceArn": arn}}, ["DATA_LOCATION_ACCESS"]) for arn in arns]


def _is_admin(lakeformation: Any, principal: str) -> bool:
    return any(item.get("DataLakePrincipalIdentifier") == principal
               for item in _settings(lakeformation).get("DataLakeAdmins", []))


def _wanted(config: Config, names: Names, objects: List[str], people: List[str], registered: List[str]) -> List[Grant]:
    wanted: List[Grant] = []
    for principal in people:
        wanted.append((principal, {"Database": {"Name": names.database}}, ["DESCRIBE"]))
        for name in objects:
            wanted.append((principal, {"Table": {"DatabaseName": names.database, "Name": name}}, ["SELECT"]))
    crawler = names.role_arn(names.crawler_role)
    wanted.append((crawler, {"Database": {"Name": names.database}}, list(CRAWLER_DATABASE_PERMISSIONS)))
    facts = [name for name in FACT_TABLES if name in objects]  # grants need the table: step 5 creates it
    writer = names.role_arn(names.sync_role)
    for name in facts:
        table = {"Table": {"DatabaseName": names.database, "Name": name}}
        wanted.append((writer, table, list(FACT_WRITER_PERMISSIONS)))
    # An unregistered location is read with IAM permissions; Lake Formation refuses grants on it.
    return (wanted + _location_grants(crawler, registered, crawl_paths(config))
            + _location_grants(writer, registered, fact_locations(names, facts)))


def _held(lakeformation: Any, principal: str, resource: Dict) -> set:
    held: set = set()
    for item in _pages(lakeformation.list_permissions, "PrincipalResourcePermissions",
                       Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource):
        held.update(item.get("Permissions", []))
    return held


def _grantable(lakeformation: Any, principal: str, resource: Dict) -> set:
    grantable: set = set()
    for item in _pages(lakeformation.list_permissions, "PrincipalResourcePermissions",
                       Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource):
        grantable.update(item.get("PermissionsWithGrantOption", []))
    return grantable


def _grant(lakeformation: Any, recorder: Any, wanted: List[Grant], result: GrantResult) -> None:
    granted: List[Grant] = []
    for principal, resource, permissions in wanted:
        held = _held(lakeformation, principal, resource)
        missing = [p for p in permissions if p not in held and "ALL" not in held]
        if not missing:
            result.already += 1
            continue
        recorder.call(lakeformation, "GrantPermissions", Principal={"DataLakePrincipalIdentifier": principal},
                      Resource=resource, Permissions=missing)
        granted.append((principal, resource, missing))
        result.granted.append(f"{','.join(missing)} on {next(iter(resource))} {_label(resource)} to {principal}")
    if not recorder.dry_run:
        # What was held before needs no second look; only the new grants are listed again.
        absent = [f"{perms} on {_label(res)} for {who}" for who, res, perms in granted
                  if not set(perms) <= _held(lakeformation, who, res)]
        if absent:
            raise StepFailed("Lake Formation does not list these grants after granting them:\n"
                             + "\n".join(f"  - {line}" for line in absent))


def prepare_tables(lakeformation: Any, sts: Any, iam: Any, recorder: Any, config: Config, names: Names,
                   tables: List[Any]) -> GrantResult:
    """Step 1, before CREATE TABLE: the deployer's data location access under the tables' LOCATIONs."""
    if not lake_formation_in_charge(lakeformation):
        return GrantResult(in_charge=False)
    deployer = caller_role_arn(sts, iam)
    result = GrantResult(in_charge=True, principals=[deployer])
    if not _is_admin(lakeformation, deployer):  # administrators have data location access everywhere
        # The fact tables too: step 5 creates them as the deployer.
        _grant(lakeformation, recorder, _location_grants(deployer, registered_locations(lakeformation),
                                                         table_locations(tables) + fact_locations(names)), result)
    return result


def grant_missing(lakeformation: Any, sts: Any, glue: Any, recorder: Any, config: Config, names: Names,
                  iam: Any) -> GrantResult:
    if not lake_formation_in_charge(lakeformation):
        return GrantResult(in_charge=False)
    objects = sorted(t["Name"] for page in glue.get_paginator("get_tables").paginate(DatabaseName=names.database)
                     for t in page.get("TableList", []))
    people = principals(config, names, caller_role_arn(sts, iam))
    result = GrantResult(in_charge=True, principals=people)
    _grant(lakeformation, recorder, _wanted(config, names, objects, people, registered_locations(lakeformation)),
           result)
    return result


def deployer_gaps(lakeformation: Any, sts: Any, iam: Any, glue: Any, config: Config, names: Names,
                  tables: List[Any]) -> List[str]:
    """What the deployer lacks to run steps 1, 2 and 5 under Lake Formation (empty when it is not in charge, or the
    deployer is a data lake administrator). Creators of a database or table hold every permission on it and may
    grant it on (implicit permissions), so what a non-administrator needs beforehand is CREATE_DATABASE and
    grantable data location access."""
    if not lake_formation_in_charge(lakeformation):
        return []
    deployer = caller_role_arn(sts, iam)
    if _is_admin(lakeformation, deployer):
        return []
    gaps: List[str] = []
    # ListPermissions wants a Resource whenever it is given a Principal, so each resource is asked for in turn.
    if not (glue is not None and _database_exists(glue, names.database)) and not {"CREATE_DATABASE", "ALL"} & _held(
            lakeformation, deployer, {"Catalog": {}}):
        gaps.append("CREATE_DATABASE on the Data Catalog (CloudFormation creates the database as you)")
    registered = registered_locations(lakeformation)
    paths = table_locations(tables) + crawl_paths(config) + fact_locations(names)
    for arn in sorted({arn for arn in (covering_location(registered, path) for path in paths) if arn}):
        if "DATA_LOCATION_ACCESS" not in _grantable(lakeformation, deployer, {"DataLocation": {"ResourceArn": arn}}):
            gaps.append(f"DATA_LOCATION_ACCESS with grant option on {arn} (steps 1 and 5 create tables there, "
                        "steps 2 and 5 grant it to the crawler and sync roles)")
    return gaps


def _database_exists(glue: Any, database: str) -> bool:
    try:
        glue.get_database(Name=database)
        return True
    except glue.exceptions.EntityNotFoundException:
        return False


def _label(resource: Dict) -> str:
    kind, spec = next(iter(resource.items()))
    if kind == "Table":
        return f"{spec['DatabaseName']}.{spec['Name']}"
    return spec.get("Name") or spec.get("ResourceArn", "")
