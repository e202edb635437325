"""Step 5: create or replace every view in dependency order through pyathena, skipping views already up to date.

A view's stored definition is the Presto view text Athena keeps in the Glue table (ViewOriginalText, a base64 JSON
whose originalSql is the text after AS). Equal text (whitespace aside) means "unchanged" and no query is run.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Callable, Dict, List, Optional

from .errors import InputError
from .request_validation import validate_request

_VIEW = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+\S+\s+AS\s+(.*?)\s*;?\s*$", re.I | re.S)
_LEADING_COMMENTS = re.compile(r"^(\s*--[^\n]*\n)*\s*")
_PRESTO = re.compile(r"/\*\s*Presto View:\s*(\S+)\s*\*/")


def _normalise(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").strip()


def view_body(sql: str) -> str:
    match = _VIEW.match(sql, _LEADING_COMMENTS.match(sql).end())
    if not match:
        raise InputError(f"not a CREATE OR REPLACE VIEW statement: {sql[:80]!r}")
    return match.group(1)


def stored_body(table: Dict[str, Any]) -> Optional[str]:
    """The SQL a stored Athena view was created from, or None if it is not an Athena view."""
    match = _PRESTO.search(table.get("ViewOriginalText") or "")
    if table.get("TableType") != "VIRTUAL_VIEW" or not match:
        return None
    try:
        return json.loads(base64.b64decode(match.group(1)).decode("utf-8")).get("originalSql")
    except (ValueError, UnicodeDecodeError):
        return None


def _stored(glue: Any, database: str, name: str) -> Optional[str]:
    try:
        return stored_body(glue.get_table(DatabaseName=database, Name=name)["Table"])
    except glue.exceptions.EntityNotFoundException:
        return None


def apply_views(glue: Any, athena: Any, recorder: Any, views: List[Any], database: str, workgroup: str,
                execute: Optional[Callable[[str], None]] = None) -> Dict[str, str]:
    """Returns view name → created | replaced | unchanged (| planned under --dry-run), in the order applied.

    ``execute`` runs one statement (pyathena cursor.execute in step 5); under --dry-run the request is recorded.
    A view whose dependency changed is replaced as well: Athena views go stale when what they read changes.
    """
    outcome: Dict[str, str] = {}
    changed: set = set()
    for view in views:
        body = view_body(view.sql)
        stored = _stored(glue, database, view.name)
        depends_on_changed = any(re.search(rf"\b{re.escape(name)}\b", body) for name in changed)
        if stored is not None and _normalise(stored) == _normalise(body) and not depends_on_changed:
            outcome[view.name] = "unchanged"
            continue
        params = {"QueryString": view.sql, "WorkGroup": workgroup, "QueryExecutionContext": {"Database": database}}
        if recorder.dry_run or execute is None:
            recorder.call(athena, "StartQueryExecution", **params)
        else:
            validate_request("athena", "StartQueryExecution", params)
            execute(view.sql)
        changed.add(view.name)
        outcome[view.name] = "planned" if recorder.dry_run else ("created" if stored is None else "replaced")
    return outcome


def pyathena_executor(session: Any, region: str, workgroup: str, database: str) -> Callable[[str], None]:
    """One pyathena cursor on the workgroup (which enforces its own result location); Athena errors propagate."""
    from pyathena import connect

    cursor = connect(session=session, region_name=region, work_group=workgroup, schema_name=database).cursor()
    return lambda sql: cursor.execute(sql)
