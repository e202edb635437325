"""Step 9: the dashboard: create or update, wait for the NEW version, publish it, then grant access.

``UpdateDashboard`` creates version N+1 and leaves N published; ``DescribeDashboard`` without a version number
shows the published one, so a failed update would look healthy. We poll the version from the returned VersionArn
and publish only that. An unchanged definition (hash tag) creates no version at all.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Tuple

from ..cli import StepContext
from ..errors import StepFailed
from ..progress import wait_until
from . import assets, permissions

log = logging.getLogger(__name__)
VALIDATION = {"Mode": "STRICT"}
PUBLISH_OPTIONS = {
    "AdHocFilteringOption": {"AvailabilityStatus": "DISABLED"},
    "ExportToCSVOption": {"AvailabilityStatus": "ENABLED"},
    "SheetControlsOption": {"VisibilityState": "EXPANDED"},
}


def dashboard_arn(context: StepContext) -> str:
    return context.names.arn("quicksight", f"dashboard/{context.names.dashboard_id}")


def version_number(version_arn: str) -> int:
    """arn:aws:quicksight:<region>:<account>:dashboard/<id>/version/<n> → n."""
    try:
        return int(version_arn.rstrip("/").rsplit("/", 1)[1])
    except (IndexError, ValueError):
        raise StepFailed(f"cannot read a version number from {version_arn!r}") from None


def _version_status(client: Any, context: StepContext, number: int) -> Tuple[bool, str, Optional[Dict[str, Any]]]:
    dashboard = client.describe_dashboard(AwsAccountId=context.config.account_id,
                                          DashboardId=context.names.dashboard_id, VersionNumber=number)["Dashboard"]
    version = dashboard.get("Version", {})
    status = version.get("Status", "")
    assets.raise_if_failed(f"dashboard version {number} of", context.names.dashboard_id, status,
                           version.get("Errors", []))
    return status in assets.SUCCESS, status, dashboard


def _latest_version(client: Any, context: StepContext) -> int:
    paginator = client.get_paginator("list_dashboard_versions")
    numbers = [summary.get("VersionNumber", 0)
               for page in paginator.paginate(AwsAccountId=context.config.account_id,
                                              DashboardId=context.names.dashboard_id)
               for summary in page.get("DashboardVersionSummaryList", [])]
    return max(numbers, default=0)


def deploy(context: StepContext) -> str:
    client, account = context.clients.quicksight(), context.config.account_id
    dashboard_id, arn = context.names.dashboard_id, dashboard_arn(context)
    document = assets.filled_definition(context, "dashboard")
    digest = assets.definition_hash({"document": document, "validation": VALIDATION, "publish": PUBLISH_OPTIONS})
    current = assets.describe_or_none(client.describe_dashboard, AwsAccountId=account, DashboardId=dashboard_id)
    body = {"AwsAccountId": account, "DashboardId": dashboard_id, "Name": document["Name"],
            "Definition": document["Definition"], "ValidationStrategy": VALIDATION,
            "DashboardPublishOptions": PUBLISH_OPTIONS}
    if current is not None:
        published = current["Dashboard"].get("Version", {})
        if published.get("Status") in assets.SUCCESS and assets.stored_hash(client, arn) == digest:
            grant = permissions.ensure("dashboard", dashboard_id, client, context.recorder, context.config)
            return (f"{dashboard_id} unchanged (version {published.get('VersionNumber')} published); "
                    f"permissions {grant}; {context.names.dashboard_console_url}")
        response = context.recorder.call(client, "UpdateDashboard", **body)
        action = "updated"
    else:
        response = context.recorder.call(client, "CreateDashboard", **body, Tags=assets.hash_tags(digest),
                                         Permissions=permissions.as_request(permissions.desired("dashboard",
                                                                                                context.config)))
        action = "created"
    if context.dry_run:
        number = _latest_version(client, context) + 1 if current is not None else 1
    else:
        number = version_number(response.get("VersionArn", ""))
        wait_until(lambda: _version_status(client, context, number), f"dashboard {dashboard_id} version {number}",
                   assets.POLL_TIMEOUT, assets.POLL_INTERVAL, assets.clock())
    context.recorder.call(client, "UpdateDashboardPublishedVersion", AwsAccountId=account, DashboardId=dashboard_id,
                          VersionNumber=number)
    if action == "updated":
        # Tagged only once published, so an update that failed or was never published is redone next run.
        context.recorder.call(client, "TagResource", ResourceArn=arn, Tags=assets.hash_tags(digest))
        if not context.dry_run:
            permissions.ensure("dashboard", dashboard_id, client, context.recorder, context.config)
    return f"{dashboard_id} {action}: version {number} published; {context.names.dashboard_console_url}"
