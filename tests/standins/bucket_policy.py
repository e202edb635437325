"""What S3 checks in a bucket policy before PutBucketPolicy succeeds, and how the emulator enforces a stored one.

S3 answers MalformedPolicy for a document that breaks the IAM policy grammar, names an action outside S3, names a
resource outside the bucket, or has no Principal (a bucket policy is resource-based). The checks below follow
that grammar; one is stricter than S3 on purpose: Version must be spelt, because a missing Version means
2008-10-17, where policy variables are literal text.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List

from moto.iam.access_control import IAMPolicy, PermissionResult

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
                  "Condition"}
PRINCIPAL_KEYS = {"AWS", "Service", "Federated", "CanonicalUser"}
S3_ACTION = re.compile(r"^(\*|s3:[A-Za-z*?]+)$")
CONDITION_OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null"}
MAX_POLICY_BYTES = 20 * 1024


def _strings(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [value]


def _operator_known(operator: str) -> bool:
    base = re.sub(r"^For(AnyValue|AllValues):", "", operator)
    base = base[:-len("IfExists")] if base.endswith("IfExists") and base != "Null" else base
    return base in CONDITION_OPERATORS


def _statement_problems(statement: Any, where: str, bucket: str) -> List[str]:
    if not isinstance(statement, dict):
        return [f"{where} is not an object"]
    problems = [f"{where}: unknown element {key}" for key in sorted(set(statement) - STATEMENT_KEYS)]
    if statement.get("Effect") not in ("Allow", "Deny"):
        problems.append(f"{where}: Effect {statement.get('Effect')!r} is not Allow or Deny")
    for pair in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
        if sum(key in statement for key in pair) != 1:
            problems.append(f"{where}: exactly one of {pair[0]} or {pair[1]} is required")
    if "Sid" in statement and not re.fullmatch(r"[A-Za-z0-9]*", str(statement["Sid"])):
        problems.append(f"{where}: Sid {statement['Sid']!r} must be letters and digits")
    for key in ("Action", "NotAction"):
        for action in _strings(statement.get(key, [])):
            if not isinstance(action, str) or not S3_ACTION.match(action):
                problems.append(f"{where}: {key} {action!r} is not an S3 action")
    arn = re.compile(rf"^arn:aws[a-z-]*:s3:::{re.escape(bucket)}(/.*)?$")
    for key in ("Resource", "NotResource"):
        for resource in _strings(statement.get(key, [])):
            if not isinstance(resource, str) or not arn.match(resource):
                problems.append(f"{where}: {key} {resource!r} is not an ARN of bucket {bucket!r} or its objects")
    for key in ("Principal", "NotPrincipal"):
        principal = statement.get(key)
        if key in statement and principal != "*" and not (
                isinstance(principal, dict) and principal and set(principal) <= PRINCIPAL_KEYS
                and all(isinstance(v, str) for value in principal.values() for v in _strings(value))):
            problems.append(f"{where}: {key} {principal!r} is not \"*\" or a map of AWS/Service/Federated/"
                            "CanonicalUser")
    condition = statement.get("Condition", {})
    if not isinstance(condition, dict):
        problems.append(f"{where}: Condition is not an object")
        condition = {}
    for operator, keys in condition.items():
        if not _operator_known(operator):
            problems.append(f"{where}: unknown condition operator {operator}")
        if not isinstance(keys, dict) or not keys:
            problems.append(f"{where}: Condition {operator} must map condition keys to values")
            continue
        if operator.startswith("Bool"):
            for key, value in keys.items():
                if any(str(v).lower() not in ("true", "false") for v in _strings(value)):
                    problems.append(f"{where}: Condition {operator} {key} {value!r} is not true or false")
    return problems


def bucket_policy_problems(document: Any, bucket: str) -> List[str]:
    """Every reason S3 (or the Version rule above) refuses ``document`` as the policy of ``bucket``."""
    if not isinstance(document, dict):
        return ["PolicyDocument is not a JSON object"]
    problems = [f"unknown top-level element {key}" for key in sorted(set(document) - {"Version", "Id", "Statement"})]
    if document.get("Version") not in VERSIONS:
        problems.append(f"Version {document.get('Version')!r} is not one of {', '.join(VERSIONS)}")
    statements = document.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        return [*problems, "Statement must be a statement or a non-empty list of them"]
    sids = [s.get("Sid") for s in statements if isinstance(s, dict) and s.get("Sid")]
    problems += [f"Sid {sid!r} is used twice" for sid in sorted(set(sids)) if sids.count(sid) > 1]
    for index, statement in enumerate(statements):
        problems += _statement_problems(statement, f"Statement[{index}]", bucket)
    if len(json.dumps(document).encode()) > MAX_POLICY_BYTES:
        problems.append(f"the policy is larger than {MAX_POLICY_BYTES} bytes")
    return problems


def _denies_plain_http_only(statement: Dict[str, Any]) -> bool:
    condition = statement.get("Condition")
    return (statement.get("Effect") == "Deny" and isinstance(condition, dict) and list(condition) == ["Bool"]
            and list(condition["Bool"]) == ["aws:SecureTransport"]
            and [str(v).lower() for v in _strings(condition["Bool"]["aws:SecureTransport"])] == ["false"])


def get_permission_over_tls(bucket: Any, action: str, resource: str) -> Any:
    """moto's FakeBucket.get_permission for a client that uses TLS, as every client of the real service does.

    moto evaluates a bucket policy without its conditions (and calls an unmatched condition a deny), so the
    template's "deny unless aws:SecureTransport" statement would refuse every object call. Requests to the
    emulator stand for HTTPS requests: that statement does not apply to them; the rest is moto's evaluation.
    """
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(bucket.policy)
    statements = [s for s in _strings(document.get("Statement", [])) if not _denies_plain_http_only(s)]
    if not statements:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**document, "Statement": statements})).is_action_permitted(action, resource)
