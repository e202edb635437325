"""Run one Athena query with a plain boto3 client and read its rows.

This module ships inside the user-sync Lambda, so it imports only the standard library, botocore-free helpers of
this package and whatever client it is handed: no pyathena, no yaml. Queries live in sql/queries/*.sql.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .errors import InputError, StepFailed
from .progress import DEFAULT_CLOCK, Clock, wait_until

log = logging.getLogger(__name__)

Call = Callable[..., Dict[str, Any]]
_HERE = Path(__file__).resolve().parent
# In the repository the queries sit at <root>/sql/queries; in the Lambda zip at <zip root>/sql/queries.
_QUERY_DIRS = (_HERE.parent.parent / "sql" / "queries", _HERE.parent / "sql" / "queries")


def load_query(name: str) -> str:
    """The text of sql/queries/<name>.sql (queries there use the session database, so they need no placeholders)."""
    for folder in _QUERY_DIRS:
        path = folder / f"{name}.sql"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip().rstrip(";")
    raise InputError(f"query file sql/queries/{name}.sql not found")


def direct_call(client: Any, operation: str, **params: Any) -> Dict[str, Any]:
    """Send ``operation`` (e.g. "PutObject") straight to the client: the default where no Recorder routes writes."""
    method = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
    return getattr(client, method)(**params)


def start_query(athena: Any, sql: str, workgroup: str, database: str,
                call: Optional[Call] = None) -> str:
    """Start a query in the workgroup (it enforces the result location); the execution id, or "" in a dry run."""
    response = (call or direct_call)(
        athena, "StartQueryExecution", QueryString=sql, WorkGroup=workgroup,
        QueryExecutionContext={"Database": database},
    )
    return str(response.get("QueryExecutionId", ""))


def wait_for_query(athena: Any, query_id: str, what: str, timeout: float = 300,
                   clock: Clock = DEFAULT_CLOCK) -> Dict[str, Any]:
    """Wait until the query finished; a failed or cancelled query raises StepFailed with Athena's own reason."""
    def poll():
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        status = execution.get("Status", {})
        state = status.get("State", "")
        if state in ("FAILED", "CANCELLED"):
            reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage", "")
            raise StepFailed(f"Athena query for {what} {state.lower()}: {reason} (query id {query_id})")
        return state == "SUCCEEDED", state, execution
    return wait_until(poll, what, timeout=timeout, interval=1.0, clock=clock)  # type: ignore[return-value]


def fetch_rows(athena: Any, query_id: str) -> List[Dict[str, Optional[str]]]:
    """All result rows as dicts keyed by column name (the first row of a SELECT's results is its header)."""
    rows: List[Dict[str, Optional[str]]] = []
    header: List[str] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        if not header:
            columns = page.get("ResultSet", {}).get("ResultSetMetadata", {}).get("ColumnInfo", [])
            header = [column["Name"] for column in columns]
        for row in page.get("ResultSet", {}).get("Rows", []):
            values = [cell.get("VarCharValue") for cell in row.get("Data", [])]
            if not header:
                header = [str(value) for value in values]
                continue
            if values == header:
                continue  # the header row Athena puts first on the first page
            rows.append(dict(zip(header, values)))
    return rows


def run_query(athena: Any, sql: str, workgroup: str, database: str, what: str, timeout: float = 300,
              clock: Clock = DEFAULT_CLOCK, call: Optional[Call] = None) -> List[Dict[str, Optional[str]]]:
    """Start, wait, read. ``call`` routes StartQueryExecution through a Recorder when the caller has one."""
    query_id = start_query(athena, sql, workgroup, database, call)
    if not query_id:
        return []
    wait_for_query(athena, query_id, what, timeout, clock)
    return fetch_rows(athena, query_id)
