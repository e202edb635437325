"""The role Lake Formation reads the registered report locations with, and the report bucket's KMS key.

Under Lake Formation, Athena (so QuickSight too) and the crawlers read a registered location with the credentials of
the role it was registered with, not their own: "Lake Formation assumes that role when accessing the data in that
location" (https://docs.aws.amazon.com/lake-formation/latest/dg/registration-role.html). For an encrypted location
"either the role must have permission to encrypt and decrypt data with the AWS KMS key, or the KMS key policy must
grant permissions on the key to the role" (https://docs.aws.amazon.com/lake-formation/latest/dg/register-encrypted.html).
So, with s3.kms_key_arn set and a registered location over the reports:

- a user-defined registration role gets kms:Decrypt on the key from the stack (LakeFormationKeyReadPolicy, its name
  passed by step 1), which works only if the key policy lets IAM policies grant access to the key (the default key
  policy's account-root statement: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html);
- the service-linked role (AWSServiceRoleForLakeFormationDataAccess) takes no policy of ours: only the key policy can
  allow it. Preflight reads the key policy (kms:GetKeyPolicy) and says which statement is missing, or WARNs with
  that statement when it may not read the policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from .config import Config
from .errors import error_code
from .lakeformation import covering_location, crawl_paths, lake_formation_in_charge, registered_roles, table_locations

SERVICE_LINKED = ":role/aws-service-role/"
SERVICE_LINKED_ROLE = "role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"
DECRYPT_ACTIONS = ("kms:Decrypt", "kms:*", "*")


@dataclass(frozen=True)
class KeyFinding:
    status: str  # OK | WARN | FAIL (preflight's words)
    message: str
    fix: str = ""


def is_service_linked(role_arn: str) -> bool:
    return SERVICE_LINKED in role_arn


def report_registrations(lakeformation: Any, config: Config, tables: List[Any]) -> Dict[str, str]:
    """Registered location ARN → the role it was registered with, for every location over the reports."""
    roles = registered_roles(lakeformation)
    covering = {covering_location(roles, path) for path in table_locations(tables) + crawl_paths(config)}
    # A location registered with UseServiceLinkedRole lists that role's ARN; an emulator may list none.
    linked = f"arn:aws:iam::{config.account_id}:{SERVICE_LINKED_ROLE}"
    return {arn: roles[arn] or linked for arn in sorted(arn for arn in covering if arn)}


def stack_role_names(lakeformation: Any, config: Config, tables: List[Any]) -> str:
    """The LakeFormationKeyRoles stack parameter: the user-defined registration roles over the reports, by name
    (comma-separated), when a key is configured and Lake Formation is in charge; "" otherwise."""
    if not config.kms_key_arn or not lake_formation_in_charge(lakeformation):
        return ""
    roles = report_registrations(lakeformation, config, tables).values()
    # Only roles of this account can take the stack's policy (a cross-account registration's role is the other
    # account's to grant: preflight still checks the key policy for it).
    return ",".join(sorted({arn.rsplit("/", 1)[-1] for arn in roles
                            if not is_service_linked(arn) and arn.split(":")[4:5] == [config.account_id]}))


def _listed(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [value]


def _allows_decrypt(policy: Dict[str, Any], principals: List[str]) -> bool:
    """True when an Allow statement of the key policy gives kms:Decrypt to one of ``principals``."""
    for statement in _listed(policy.get("Statement", [])):
        if statement.get("Effect") != "Allow" or not set(_listed(statement.get("Action", []))) & set(DECRYPT_ACTIONS):
            continue
        principal = statement.get("Principal", {})
        named = ["*"] if principal == "*" else _listed(principal.get("AWS", [])) if isinstance(principal, dict) else []
        if "*" in named or set(named) & set(principals):
            return True
    return False


def decrypt_statement(role_arn: str) -> str:
    return json.dumps({"Sid": "LakeFormationReadsKiroReports", "Effect": "Allow", "Principal": {"AWS": role_arn},
                       "Action": "kms:Decrypt", "Resource": "*"})


def _named_role_finding(policy: Optional[Dict[str, Any]], denied: str, role: str, key: str,
                        who: str) -> Tuple[Optional[KeyFinding], str]:
    """For a role that only the key policy itself can allow (no IAM policy of ours reaches it): WARN when the
    policy is unreadable, OK when it names the role, else None for the caller to judge; and the fix."""
    fix = f"add this statement to the key policy of {key}: {decrypt_statement(role)}"
    if policy is None:
        return KeyFinding("WARN", f"could not read the key policy of {key} ({denied}) to see whether it lets "
                          f"{who} decrypt the reports", fix), fix
    if _allows_decrypt(policy, [role]):
        return KeyFinding("OK", f"the key policy of {key} lets {role} decrypt the reports"), fix
    return None, fix


def _role_finding(policy: Optional[Dict[str, Any]], denied: str, role: str, key: str, account: str) -> KeyFinding:
    if is_service_linked(role):
        found, fix = _named_role_finding(policy, denied, role, key, f"Lake Formation's service-linked role {role}")
        return found or KeyFinding(
            "FAIL", f"the reports' registered location is read with the service-linked role {role}, which the key "
            f"policy of {key} does not allow kms:Decrypt: Athena, QuickSight and the crawlers would fail to read "
            "them", fix)
    owner = role.split(":")[4] if role.count(":") >= 5 else account
    if owner != account:  # another account's role: only the key policy here, and that account's IAM, can allow it
        found, fix = _named_role_finding(policy, denied, role, key,
                                         f"the registration role {role} of account {owner}")
        if found:
            return found
        if _allows_decrypt(policy or {}, [f"arn:aws:iam::{owner}:root", owner]):
            return KeyFinding("WARN", f"the key policy of {key} leaves account {owner} to decide: {role} needs "
                              f"kms:Decrypt on the key in an IAM policy there", f"in account {owner}, allow "
                              f"kms:Decrypt on {key} to {role}")
        return KeyFinding("FAIL", f"the registration role {role} of account {owner} may not decrypt the reports: the "
                          f"key policy of {key} allows neither it nor its account", fix)
    root = [f"arn:aws:iam::{account}:root", account]
    fix = (f"keep the key policy of {key} allowing IAM policies (the default 'Enable IAM User Permissions' "
           f"statement for arn:aws:iam::{account}:root), or add: {decrypt_statement(role)}")
    if policy is None:
        return KeyFinding("WARN", f"could not read the key policy of {key} ({denied}); step 1 gives the registration "
                          f"role {role} kms:Decrypt, which works only if that policy allows IAM policies", fix)
    if _allows_decrypt(policy, [*root, role]):
        return KeyFinding("OK", f"step 1 gives the registration role {role} kms:Decrypt on {key}")
    return KeyFinding("FAIL", f"the key policy of {key} neither allows IAM policies nor names the registration role "
                      f"{role}: the kms:Decrypt step 1 gives it would not take effect", fix)


def registration_key_findings(lakeformation: Any, kms: Any, config: Config, tables: List[Any]) -> List[KeyFinding]:
    """One finding per registration role over the reports (none without s3.kms_key_arn or a registered location).
    The caller has already established that Lake Formation is in charge."""
    if not config.kms_key_arn:
        return []
    roles = sorted(set(report_registrations(lakeformation, config, tables).values()))
    if not roles:
        return []
    policy: Optional[Dict[str, Any]] = None
    denied = ""
    try:
        policy = json.loads(kms.get_key_policy(KeyId=config.kms_key_arn, PolicyName="default")["Policy"])
    except (ClientError, BotoCoreError) as exc:  # a refusal: say what could not be seen, with the fix
        denied = error_code(exc) or type(exc).__name__
    return [_role_finding(policy, denied, role, config.kms_key_arn, config.account_id) for role in roles]
