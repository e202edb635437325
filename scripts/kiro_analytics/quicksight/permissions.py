"""QuickSight permissions: owner and viewer action lists, and grants of only the missing actions.

``Update*`` calls take no Permissions, so access to an existing asset is managed here: describe the current
permissions, grant what is missing, and revoke nothing (a customer may have shared an asset further by hand).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Set, Tuple

from botocore import xform_name

from ..config import Config

log = logging.getLogger(__name__)

_P = "quicksight:"
OWNER_ACTIONS: Dict[str, Tuple[str, ...]] = {
    "data_source": tuple(_P + a for a in (
        "DescribeDataSource", "DescribeDataSourcePermissions", "PassDataSource", "UpdateDataSource",
        "DeleteDataSource", "UpdateDataSourcePermissions")),
    "dataset": tuple(_P + a for a in (
        "DescribeDataSet", "DescribeDataSetPermissions", "PassDataSet", "DescribeIngestion", "ListIngestions",
        "UpdateDataSet", "DeleteDataSet", "CreateIngestion", "CancelIngestion", "UpdateDataSetPermissions",
        # The owner manages the daily refresh schedule and the refresh properties too: the 18 actions the console
        # grants a dataset owner (https://github.com/hashicorp/terraform-provider-aws/issues/33907 lists them).
        "CreateRefreshSchedule", "UpdateRefreshSchedule", "DeleteRefreshSchedule", "DescribeRefreshSchedule",
        "ListRefreshSchedules", "PutDataSetRefreshProperties", "DescribeDataSetRefreshProperties",
        "DeleteDataSetRefreshProperties")),
    "analysis": tuple(_P + a for a in (
        "RestoreAnalysis", "UpdateAnalysisPermissions", "DeleteAnalysis", "DescribeAnalysisPermissions",
        "QueryAnalysis", "DescribeAnalysis", "UpdateAnalysis")),
    "dashboard": tuple(_P + a for a in (
        "DescribeDashboard", "ListDashboardVersions", "UpdateDashboardPermissions", "QueryDashboard",
        "UpdateDashboard", "DeleteDashboard", "DescribeDashboardPermissions", "UpdateDashboardPublishedVersion")),
}
VIEWER_ACTIONS: Dict[str, Tuple[str, ...]] = {
    "dashboard": tuple(_P + a for a in ("DescribeDashboard", "ListDashboardVersions", "QueryDashboard")),
}
# kind → (id parameter, Describe…Permissions, Update…Permissions)
OPERATIONS: Dict[str, Tuple[str, str, str]] = {
    "data_source": ("DataSourceId", "DescribeDataSourcePermissions", "UpdateDataSourcePermissions"),
    "dataset": ("DataSetId", "DescribeDataSetPermissions", "UpdateDataSetPermissions"),
    "analysis": ("AnalysisId", "DescribeAnalysisPermissions", "UpdateAnalysisPermissions"),
    "dashboard": ("DashboardId", "DescribeDashboardPermissions", "UpdateDashboardPermissions"),
}


def desired(kind: str, config: Config) -> Dict[str, Set[str]]:
    """Principal → actions: the configured owner gets owner actions; extra principals owner or (dashboards) viewer."""
    wanted: Dict[str, Set[str]] = {config.quicksight_user_arn: set(OWNER_ACTIONS[kind])}
    for principal in config.extra_principals:
        actions = OWNER_ACTIONS[kind] if principal.access == "owner" else VIEWER_ACTIONS.get(kind, ())
        if actions:
            wanted.setdefault(principal.arn, set()).update(actions)
    return wanted


def as_request(wanted: Mapping[str, Set[str]]) -> List[Dict[str, Any]]:
    return [{"Principal": principal, "Actions": sorted(actions)} for principal, actions in sorted(wanted.items())]


def missing(current: List[Mapping[str, Any]], wanted: Mapping[str, Set[str]]) -> Dict[str, Set[str]]:
    """Actions each principal lacks; a principal with everything already granted is left out."""
    have: Dict[str, Set[str]] = {}
    for entry in current:
        have.setdefault(entry["Principal"], set()).update(entry.get("Actions", []))
    return {principal: actions - have.get(principal, set())
            for principal, actions in wanted.items() if actions - have.get(principal, set())}


def ensure(kind: str, resource_id: str, client: Any, recorder: Any, config: Config) -> str:
    """Grant the missing actions on an existing asset; returns "unchanged" or what was granted."""
    id_param, describe, update = OPERATIONS[kind]
    base = {"AwsAccountId": config.account_id, id_param: resource_id}
    current = getattr(client, xform_name(describe))(**base).get("Permissions", [])
    grants = missing(current, desired(kind, config))
    if not grants:
        return "unchanged"
    recorder.call(client, update, GrantPermissions=as_request(grants), **base)
    log.info("granted %s on %s %s to %s", sum(len(a) for a in grants.values()), kind.replace("_", " "),
             resource_id, ", ".join(sorted(grants)))
    return f"granted to {len(grants)} principal(s)"

