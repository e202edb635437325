"""What analyses and dashboards share: the filled definition, its hash tag, status polling, error text.

An ``Update*`` mints a new version even when nothing changed, so each asset carries a tag with the SHA-256 of
the definition it was built from; an equal hash on a healthy asset means "unchanged" and no call is made.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Mapping, Optional

from ..cli import StepContext
from ..errors import StepFailed, is_missing
from . import definitions, references

HASH_TAG = "kiro:definition-sha256"
# On a dataset: the digest of its view's SQL and everything upstream (sqlfiles.content_digests) at the last refresh.
VIEW_TAG = "kiro:view-sha256"
SUCCESS = ("CREATION_SUCCESSFUL", "UPDATE_SUCCESSFUL")
FAILED = ("CREATION_FAILED", "UPDATE_FAILED")
POLL_TIMEOUT = 600.0
POLL_INTERVAL = 5.0


def dataset_arn(context: StepContext, view: str) -> str:
    return context.names.arn("quicksight", f"dataset/{context.names.dataset_id(view)}")


def filled_definition(context: StepContext, name: str) -> Dict[str, Any]:
    """The definition with labels in the configured language and real dataset ARNs, cross-checked first."""
    raw = definitions.load_raw(name)
    source = str(definitions.definition_path(name))
    references.require_valid(raw, source)
    values = {f"dataset_arn:{view}": dataset_arn(context, view) for view in definitions.dataset_views(raw)}
    return definitions.substitute(raw, context.config.language, values, source)


def definition_hash(document: Mapping[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def describe_or_none(call: Any, **params: Any) -> Optional[Dict[str, Any]]:
    try:
        return call(**params)
    except Exception as exc:
        if is_missing(exc, ("ResourceNotFoundException",)):
            return None
        raise


def stored_hash(client: Any, arn: str, key: str = HASH_TAG) -> str:
    tags = client.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
    return next((tag["Value"] for tag in tags if tag["Key"] == key), "")


def hash_tags(digest: str, key: str = HASH_TAG) -> List[Dict[str, str]]:
    return [{"Key": key, "Value": digest}]


def format_errors(kind: str, asset_id: str, status: str, errors: List[Mapping[str, Any]]) -> str:
    """The service's own error text, each with the sheet/visual path it concerns."""
    lines = [f"{kind} {asset_id} is {status}:"]
    for error in errors or []:
        where = "; ".join(entity.get("Path", "") for entity in error.get("ViolatedEntities", []) or [])
        text = f"  - {error.get('Type', 'ERROR')}: {error.get('Message', '')}"
        lines.append(text + (f" (at {where})" if where else ""))
    if len(lines) == 1:
        lines.append("  - the service gave no error details; open the asset in the QuickSight console")
    return "\n".join(lines)


def raise_if_failed(kind: str, asset_id: str, status: str, errors: List[Mapping[str, Any]]) -> None:
    if status in FAILED:
        raise StepFailed(format_errors(kind, asset_id, status, errors))


# Tests replace this with a clock that does not sleep.
CLOCK = None  # type: Optional[Any]


def clock() -> Any:
    from ..progress import DEFAULT_CLOCK

    return CLOCK or DEFAULT_CLOCK


def normal(value: Any) -> Any:
    """A JSON value with sorted keys and plain types, so what the service answers compares with what was sent."""
    return json.loads(json.dumps(value, sort_keys=True, default=str)) if value is not None else None
