"""Step 8: the four analyses, created or updated from quicksight/sheets/<analysis>.json, skipped when unchanged."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Tuple

from ..cli import StepContext
from ..names import ANALYSES
from ..progress import wait_until
from . import assets, permissions

log = logging.getLogger(__name__)
VALIDATION = {"Mode": "STRICT"}


def analysis_arn(context: StepContext, name: str) -> str:
    return context.names.arn("quicksight", f"analysis/{context.names.analysis_id(name)}")


def _status(client: Any, context: StepContext, analysis_id: str) -> Tuple[bool, str, Optional[Dict[str, Any]]]:
    analysis = client.describe_analysis(AwsAccountId=context.config.account_id, AnalysisId=analysis_id)["Analysis"]
    status = analysis.get("Status", "")
    assets.raise_if_failed("analysis", analysis_id, status, analysis.get("Errors", []))
    return status in assets.SUCCESS, status, analysis


def ensure_analysis(context: StepContext, name: str) -> str:
    """Create, update or leave one analysis; returns created | updated | unchanged."""
    client, account = context.clients.quicksight(), context.config.account_id
    analysis_id, arn = context.names.analysis_id(name), analysis_arn(context, name)
    document = assets.filled_definition(context, name)
    digest = assets.definition_hash({"document": document, "validation": VALIDATION})
    current = assets.describe_or_none(client.describe_analysis, AwsAccountId=account, AnalysisId=analysis_id)
    status = (current or {}).get("Analysis", {}).get("Status", "")
    body = {"AwsAccountId": account, "AnalysisId": analysis_id, "Name": document["Name"],
            "Definition": document["Definition"], "ValidationStrategy": VALIDATION}
    if current is None or status == "DELETED":
        # A DELETED analysis sits in the recycle bin under its id; creating again replaces it.
        context.recorder.call(client, "CreateAnalysis", **body, Tags=assets.hash_tags(digest),
                              Permissions=permissions.as_request(permissions.desired("analysis", context.config)))
        outcome = "created"
    elif status in assets.SUCCESS and assets.stored_hash(client, arn) == digest:
        permissions.ensure("analysis", analysis_id, client, context.recorder, context.config)
        return "unchanged"
    else:
        context.recorder.call(client, "UpdateAnalysis", **body)
        outcome = "updated"
    if context.dry_run:
        if outcome == "updated":
            context.recorder.call(client, "TagResource", ResourceArn=arn, Tags=assets.hash_tags(digest))
        return outcome
    wait_until(lambda: _status(client, context, analysis_id), f"analysis {analysis_id}", assets.POLL_TIMEOUT,
               assets.POLL_INTERVAL, assets.clock())
    if outcome == "updated":
        # Tagged only after success, so a failed update is retried by the next run.
        context.recorder.call(client, "TagResource", ResourceArn=arn, Tags=assets.hash_tags(digest))
        permissions.ensure("analysis", analysis_id, client, context.recorder, context.config)
    return outcome


def deploy(context: StepContext) -> str:
    outcomes = {}
    for name in ANALYSES:
        outcomes[name] = ensure_analysis(context, name)
        log.info("analysis %s: %s", context.names.analysis_id(name), outcomes[name])
    return ", ".join(f"{name} {outcome}" for name, outcome in outcomes.items())
