"""Step 2: Lake Formation grants, only when Lake Formation governs the catalog, and only what is missing.

Lake Formation is "not in charge" while new databases and tables give IAM_ALLOWED_PRINCIPALS full access by
default (the account default); IAM policies then decide and there is nothing to grant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from .config import Config
from .errors import StepFailed
from .names import Names

IAM_ALLOWED = "IAM_ALLOWED_PRINCIPALS"


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


def lake_formation_in_charge(lakeformation: Any) -> bool:
    settings = lakeformation.get_data_lake_settings()["DataLakeSettings"]
    defaults = settings.get("CreateDatabaseDefaultPermissions", []) + settings.get("CreateTableDefaultPermissions", [])
    iam_default = any(item.get("Principal", {}).get("DataLakePrincipalIdentifier") == IAM_ALLOWED for item in defaults)
    return not iam_default


def caller_role_arn(sts: Any) -> str:
    """The deploying identity as Lake Formation knows it: an assumed-role session becomes its IAM role ARN."""
    arn = sts.get_caller_identity()["Arn"]
    parts = arn.split(":")
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return arn


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


def _bucket_registered(lakeformation: Any, bucket: str) -> bool:
    arn = f"arn:aws:s3:::{bucket}"
    for item in _pages(lakeformation.list_resources, "ResourceInfoList"):
        if item.get("ResourceArn", "").rstrip("/") == arn or item.get("ResourceArn", "").startswith(arn + "/"):
            return True
    return False


def _wanted(config: Config, names: Names, objects: List[str], people: List[str],
            registered: bool) -> List[Tuple[str, Dict, List[str]]]:
    wanted = []
    for principal in people:
        wanted.append((principal, {"Database": {"Name": names.database}}, ["DESCRIBE"]))
        for name in objects:
            wanted.append((principal, {"Table": {"DatabaseName": names.database, "Name": name}}, ["SELECT"]))
    if not registered:
        return wanted  # an unregistered location is read with IAM permissions; LF refuses grants on it
    bucket_arn = f"arn:aws:s3:::{config.bucket_name}"
    wanted.append((f"arn:aws:iam::{config.account_id}:role/{names.crawler_role}",
                   {"DataLocation": {"ResourceArn": bucket_arn}}, ["DATA_LOCATION_ACCESS"]))
    return wanted


def _held(lakeformation: Any, principal: str, resource: Dict) -> set:
    held: set = set()
    for item in _pages(lakeformation.list_permissions, "PrincipalResourcePermissions",
                       Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource):
        held.update(item.get("Permissions", []))
    return held


def grant_missing(lakeformation: Any, sts: Any, glue: Any, recorder: Any, config: Config, names: Names) -> GrantResult:
    if not lake_formation_in_charge(lakeformation):
        return GrantResult(in_charge=False)
    objects = sorted(t["Name"] for page in glue.get_paginator("get_tables").paginate(DatabaseName=names.database)
                     for t in page.get("TableList", []))
    people = principals(config, names, caller_role_arn(sts))
    result = GrantResult(in_charge=True, principals=people)
    registered = _bucket_registered(lakeformation, config.bucket_name)
    granted: List[Tuple[str, Dict, List[str]]] = []
    for principal, resource, permissions in _wanted(config, names, objects, people, registered):
        missing = [p for p in permissions if p not in _held(lakeformation, principal, resource)]
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
    return result


def _label(resource: Dict) -> str:
    kind, spec = next(iter(resource.items()))
    if kind == "Table":
        return f"{spec['DatabaseName']}.{spec['Name']}"
    return spec.get("Name") or spec.get("ResourceArn", "")
