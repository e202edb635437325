"""One route for every mutating AWS call: validated first, then sent, or recorded under --dry-run.

Steps compare desired with current state and call ``Recorder.call`` only for the difference. With --dry-run the
request is written to ``<out>/requests/NN-NNN-<service>-<Operation>.json`` instead of being sent, and a guard on
every client refuses any mutating call that tried to bypass the recorder.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from botocore import xform_name

from .request_validation import operation_model, validate_request

log = logging.getLogger(__name__)

# Simulate (IAM's policy simulator) and Filter (CloudWatch Logs' FilterLogEvents) only read too.
READ_PREFIXES = ("Describe", "Get", "List", "Search", "Head", "Lookup", "Validate", "Select", "BatchGet", "Simulate",
                 "Filter")


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


class DryRunViolation(RuntimeError):
    """A mutating call reached a client during --dry-run without going through the recorder: a bug."""


@dataclass
class Recorder:
    dry_run: bool = False
    out_dir: Optional[Path] = None
    step: int = 0
    calls: List[Tuple[str, str]] = field(default_factory=list)

    def call(self, client: Any, operation: str, **params: Any) -> Dict[str, Any]:
        """Validate ``params`` against the service model, then send it (or record it under --dry-run)."""
        service = client.meta.service_model.service_name
        api_name = operation_model(service, operation).name
        validate_request(service, api_name, params)
        self.calls.append((service, api_name))
        if self.dry_run:
            self._write(service, api_name, params)
            log.info("would call %s %s", service, api_name)
            return {}
        method = operation if operation[0].islower() else xform_name(operation)
        return getattr(client, method)(**params)

    def _write(self, service: str, operation: str, params: Dict[str, Any]) -> None:
        if self.out_dir is None:
            return
        folder = self.out_dir / "requests"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.step:02d}-{len(self.calls):03d}-{service}-{operation}.json"
        body = {"service": service, "operation": operation, "params": params}
        (folder / name).write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    def guard(self, model: Any, **_: Any) -> None:
        """botocore ``before-call`` handler installed under --dry-run."""
        if is_mutating(model.name):
            raise DryRunViolation(
                f"{model.service_model.service_name} {model.name} was about to be sent during --dry-run"
            )
