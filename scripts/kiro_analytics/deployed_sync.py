"""Step 6's smoke test of the deployed user-sync function: invoke it once, as its schedule will, and report.

The local sync runs as the deployer; the function runs as its own role, in its own account, maybe against an
Identity Store owned by another account. Only a real run shows that this works before the first scheduled night,
and the run is also the function's first Invocations data point, which the stack's "not running" alarm watches.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Dict

from .errors import StepFailed, error_code
from .names import Names

TAIL_LINES = 8


@dataclass(frozen=True)
class Invocation:
    answer: Dict[str, Any]
    planned: bool = False

    def summary(self) -> str:
        if self.planned:
            return "deployed function: run planned"
        state = ("not written: another run replaced the map meanwhile" if self.answer.get("conflict")
                 else "written" if self.answer.get("changed") else "unchanged")
        return (f"deployed function ran: {self.answer.get('users', 0)} user(s), map {state}, "
                f"{self.answer.get('from_directory', 0)} from Identity Center")


def _tail(response: Dict[str, Any]) -> str:
    text = base64.b64decode(response.get("LogResult") or b"").decode("utf-8", "replace")
    return "\n".join(f"      {line}" for line in text.strip().splitlines()[-TAIL_LINES:])


def invoke_deployed_sync(lam: Any, recorder: Any, names: Names) -> Invocation:
    """Run the function once with the schedule's event; a function error fails the step with its own message."""
    try:
        response = recorder.call(lam, "Invoke", FunctionName=names.sync_function, InvocationType="RequestResponse",
                                 LogType="Tail", Payload=json.dumps({"action": "sync"}).encode())
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise StepFailed(f"function {names.sync_function} does not exist: run step 1 (./deploy.sh --only 1)") \
                from None
        raise
    if recorder.dry_run:
        return Invocation({}, planned=True)
    body = response["Payload"].read()
    answer = json.loads(body) if body else {}
    if response.get("FunctionError"):
        raise StepFailed(
            f"the map was written, but the deployed function {names.sync_function} failed when run as its schedule "
            f"will run it: {answer.get('errorType', 'Error')}: {answer.get('errorMessage', body[:300])}\n"
            f"    log tail ({names.sync_log_group}):\n{_tail(response)}\n"
            "    If it is AccessDenied on the Identity Store: set identity_center.account_id to the store owner's "
            "account, or identity_center.role_arn to a role there the function may assume; then ./deploy.sh --from 1")
    return Invocation(answer if isinstance(answer, dict) else {})
