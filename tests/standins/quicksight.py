"""A strict in-process QuickSight: the operations steps 7-9 use, with the service's semantics and shapes.

moto drops dataset and dashboard contents and lacks analyses, dashboard versions, publishing, permissions and
describe_data_set. This stand-in validates every request against the service model (botocore's validator plus
enums, lengths and patterns via kiro_analytics.request_validation), cross-checks definitions against the columns
of the datasets it holds (what the service reports as failed assets), and keeps versions as the service does:
UpdateDashboard creates version N+1, unpublished until UpdateDashboardPublishedVersion; DescribeDashboard without
a VersionNumber shows the published version.

Use it in-process with ``attach(client)`` (botocore event hooks: no HTTP at all) or over HTTP with
``tests.standins.server.ModelServer("quicksight", standin.handle)`` for subprocesses: ``handle(operation, params)``
is the one entry point either way. Failures are injected with ``fail`` (an API error) and ``fail_asset`` (an
asset that ends CREATION_FAILED/UPDATE_FAILED with Errors).
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any, Dict, List, Optional, Tuple

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.validate import ParamValidator
from kiro_analytics.quicksight import references
from kiro_analytics.request_validation import request_problems

from .server import StandinError

_MODEL = botocore.session.get_session().get_service_model("quicksight")
REQUEST_SOURCES = _MODEL.shape_for("IngestionRequestSource").enum  # MANUAL | SCHEDULED


def _not_found(kind: str, ident: str) -> StandinError:
    return StandinError("ResourceNotFoundException", f"{kind} {ident} not found", 404)


class QuickSightStandIn:
    def __init__(self, account_id: str = "123456789012", region: str = "us-east-1") -> None:
        self.account_id, self.region = account_id, region
        self.data_sources: Dict[str, Dict[str, Any]] = {}
        self.datasets: Dict[str, Dict[str, Any]] = {}
        self.ingestions: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self.schedules: Dict[str, Dict[str, Dict[str, Any]]] = {}
        self.analyses: Dict[str, Dict[str, Any]] = {}
        self.dashboards: Dict[str, Dict[str, Any]] = {}
        self.permissions: Dict[str, Dict[str, set]] = {}
        self.tags: Dict[str, Dict[str, str]] = {}
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self._failures: Dict[str, List[StandinError]] = {}
        self._asset_failures: Dict[str, List[Dict[str, Any]]] = {}
        # How many Describe polls an asset stays *_IN_PROGRESS, to exercise the wait loops.
        self.polls_in_progress = 0

    # ------------------------------------------------------------------ plumbing
    def arn(self, kind: str, ident: str) -> str:
        return f"arn:aws:quicksight:{self.region}:{self.account_id}:{kind}/{ident}"

    def fail(self, operation: str, code: str = "InternalFailureException", message: str = "injected failure",
             status: int = 500) -> None:
        """The next call of ``operation`` fails with this service error."""
        self._failures.setdefault(operation, []).append(StandinError(code, message, status))

    def fail_asset(self, kind: str, errors: List[Dict[str, Any]]) -> None:
        """The next created/updated ``kind`` (analysis | dashboard | data_source) ends failed with ``errors``."""
        self._asset_failures.setdefault(kind, []).append({"errors": errors})

    def operations(self, name: Optional[str] = None) -> List[str]:
        return [op for op, _ in self.calls if name is None or op == name]

    def handle(self, operation: str, params: Dict[str, Any]) -> Dict[str, Any]:
        problems = request_problems("quicksight", operation, params)
        if problems:
            raise StandinError("InvalidParameterValueException", "; ".join(problems[:10]), 400)
        self.calls.append((operation, copy.deepcopy(params)))
        if self._failures.get(operation):
            raise self._failures[operation].pop(0)
        method = getattr(self, operation, None)
        if method is None:
            raise StandinError("UnsupportedOperation", f"the stand-in does not implement {operation}", 400)
        result = method(**copy.deepcopy(params))
        result.setdefault("Status", 200)
        result.setdefault("RequestId", f"req-{len(self.calls)}")
        output = _MODEL.operation_model(operation).output_shape
        report = ParamValidator().validate(result, output)
        if report.has_errors():  # the stand-in's own answer must fit the model too
            raise AssertionError(f"stand-in answer to {operation} breaks the model:\n{report.generate_report()}")
        return result

    def _status(self, asset: Dict[str, Any], key: str = "Status") -> str:
        if asset.get("_polls", 0) > 0:
            asset["_polls"] -= 1
            return asset[key].replace("SUCCESSFUL", "IN_PROGRESS").replace("FAILED", "IN_PROGRESS")
        return asset[key]

    def _outcome(self, kind: str, verb: str) -> Tuple[str, List[Dict[str, Any]]]:
        queued = self._asset_failures.get(kind)
        if queued:
            return f"{verb}_FAILED", queued.pop(0)["errors"]
        return f"{verb}_SUCCESSFUL", []

    def _grant(self, arn: str, permissions: Optional[List[Dict[str, Any]]]) -> None:
        entry = self.permissions.setdefault(arn, {})
        for item in permissions or []:
            entry.setdefault(item["Principal"], set()).update(item["Actions"])

    def _perm_list(self, arn: str) -> List[Dict[str, Any]]:
        return [{"Principal": p, "Actions": sorted(a)} for p, a in sorted(self.permissions.get(arn, {}).items()) if a]

    def _update_perms(self, arn: str, grant: Optional[List[Dict[str, Any]]], revoke: Optional[List[Dict[str, Any]]]):
        self._grant(arn, grant)
        for item in revoke or []:
            self.permissions.get(arn, {}).get(item["Principal"], set()).difference_update(item["Actions"])
        return self._perm_list(arn)

    def _tag(self, arn: str, tags: Optional[List[Dict[str, str]]]) -> None:
        self.tags.setdefault(arn, {}).update({tag["Key"]: tag["Value"] for tag in tags or []})

    # ------------------------------------------------------------------ data sources
    def CreateDataSource(self, AwsAccountId: str, DataSourceId: str, Name: str, Type: str,
                         Permissions=None, Tags=None, **rest: Any) -> Dict[str, Any]:
        if DataSourceId in self.data_sources:
            raise StandinError("ResourceExistsException", f"data source {DataSourceId} already exists", 409)
        arn = self.arn("datasource", DataSourceId)
        status, errors = self._outcome("data_source", "CREATION")
        self.data_sources[DataSourceId] = {"Arn": arn, "DataSourceId": DataSourceId, "Name": Name, "Type": Type,
                                           "Status": status, "_polls": self.polls_in_progress, **rest}
        if errors:
            self.data_sources[DataSourceId]["ErrorInfo"] = errors[0]
        self._grant(arn, Permissions)
        self._tag(arn, Tags)
        return {"Arn": arn, "DataSourceId": DataSourceId, "CreationStatus": "CREATION_IN_PROGRESS"}

    def DescribeDataSource(self, AwsAccountId: str, DataSourceId: str) -> Dict[str, Any]:
        source = self.data_sources.get(DataSourceId)
        if source is None:
            raise _not_found("data source", DataSourceId)
        public = {k: v for k, v in source.items() if not k.startswith("_")}
        public["Status"] = self._status(source)
        return {"DataSource": public}

    def UpdateDataSource(self, AwsAccountId: str, DataSourceId: str, Name: str, **rest: Any) -> Dict[str, Any]:
        source = self.data_sources.get(DataSourceId)
        if source is None:
            raise _not_found("data source", DataSourceId)
        status, _ = self._outcome("data_source", "UPDATE")
        source.update(Name=Name, Status=status, **rest)
        return {"Arn": source["Arn"], "DataSourceId": DataSourceId, "UpdateStatus": "UPDATE_IN_PROGRESS"}

    def DeleteDataSource(self, AwsAccountId: str, DataSourceId: str) -> Dict[str, Any]:
        source = self.data_sources.pop(DataSourceId, None)
        if source is None:
            raise _not_found("data source", DataSourceId)
        self.permissions.pop(source["Arn"], None)
        return {"Arn": source["Arn"], "DataSourceId": DataSourceId}

    def DescribeDataSourcePermissions(self, AwsAccountId: str, DataSourceId: str) -> Dict[str, Any]:
        source = self.data_sources.get(DataSourceId) or {}
        if not source:
            raise _not_found("data source", DataSourceId)
        return {"DataSourceArn": source["Arn"], "DataSourceId": DataSourceId,
                "Permissions": self._perm_list(source["Arn"])}

    def UpdateDataSourcePermissions(self, AwsAccountId: str, DataSourceId: str, GrantPermissions=None,
                                    RevokePermissions=None) -> Dict[str, Any]:
        source = self.data_sources.get(DataSourceId) or {}
        if not source:
            raise _not_found("data source", DataSourceId)
        self._update_perms(source["Arn"], GrantPermissions, RevokePermissions)
        return {"DataSourceArn": source["Arn"], "DataSourceId": DataSourceId}

    # ------------------------------------------------------------------ datasets
    def _check_dataset(self, PhysicalTableMap: Dict[str, Any]) -> None:
        for key, table in PhysicalTableMap.items():
            view = table.get("RelationalTable", {}).get("Name", "")
            problems = references.check_dataset(view, {"PhysicalTableMap": {key: table}})
            if problems:
                raise StandinError("InvalidParameterValueException", "; ".join(problems), 400)
            source_arn = table["RelationalTable"]["DataSourceArn"]
            if not any(source["Arn"] == source_arn for source in self.data_sources.values()):
                raise StandinError("InvalidParameterValueException", f"data source {source_arn} does not exist", 400)

    def CreateDataSet(self, AwsAccountId: str, DataSetId: str, Name: str, PhysicalTableMap: Dict[str, Any],
                      ImportMode: str, Permissions=None, Tags=None, **rest: Any) -> Dict[str, Any]:
        if DataSetId in self.datasets:
            raise StandinError("ResourceExistsException", f"data set {DataSetId} already exists", 409)
        self._check_dataset(PhysicalTableMap)
        arn = self.arn("dataset", DataSetId)
        self.datasets[DataSetId] = {"Arn": arn, "DataSetId": DataSetId, "Name": Name,
                                    "PhysicalTableMap": PhysicalTableMap, "ImportMode": ImportMode, **rest,
                                    "_created": dt.datetime.now(dt.timezone.utc)}
        self._grant(arn, Permissions)
        self._tag(arn, Tags)
        return {"Arn": arn, "DataSetId": DataSetId, **self._ingest_if_spice(DataSetId, ImportMode)}

    def _ingest_if_spice(self, dataset_id: str, import_mode: str) -> Dict[str, Any]:
        """The service starts a SPICE dataset's ingestion itself on create and on update, and names it in the reply."""
        if import_mode != "SPICE":
            return {}
        ingestion = self._ingest(dataset_id, str(uuid.uuid4()))
        return {"IngestionArn": ingestion["Arn"], "IngestionId": ingestion["IngestionId"]}

    def DescribeDataSet(self, AwsAccountId: str, DataSetId: str) -> Dict[str, Any]:
        dataset = self.datasets.get(DataSetId)
        if dataset is None:
            raise _not_found("data set", DataSetId)
        columns = [column for table in dataset["PhysicalTableMap"].values()
                   for column in table["RelationalTable"]["InputColumns"]]
        # What the service adds to what it was sent: a LogicalTableMap of its own when none was given, usage
        # settings, times, SPICE size. A caller that compares whole documents would see a change on every rerun.
        logical = dataset.get("LogicalTableMap") or {
            key: {"Alias": key, "Source": {"PhysicalTableId": key}} for key in dataset["PhysicalTableMap"]}
        return {"DataSet": {**{k: v for k, v in dataset.items() if not k.startswith("_")}, "LogicalTableMap": logical,
                            "OutputColumns": [{"Name": c["Name"], "Type": c["Type"]} for c in columns],
                            "DataSetUsageConfiguration": {"DisableUseAsDirectQuerySource": False,
                                                          "DisableUseAsImportedSource": False},
                            "CreatedTime": dataset["_created"], "LastUpdatedTime": dataset["_created"],
                            "ConsumedSpiceCapacityInBytes": 1024}}

    def UpdateDataSet(self, AwsAccountId: str, DataSetId: str, Name: str, PhysicalTableMap: Dict[str, Any],
                      ImportMode: str, **rest: Any) -> Dict[str, Any]:
        dataset = self.datasets.get(DataSetId)
        if dataset is None:
            raise _not_found("data set", DataSetId)
        self._check_dataset(PhysicalTableMap)
        dataset.update(Name=Name, PhysicalTableMap=PhysicalTableMap, ImportMode=ImportMode, **rest)
        return {"Arn": dataset["Arn"], "DataSetId": DataSetId, **self._ingest_if_spice(DataSetId, ImportMode)}

    def DescribeDataSetPermissions(self, AwsAccountId: str, DataSetId: str) -> Dict[str, Any]:
        dataset = self.datasets.get(DataSetId)
        if dataset is None:
            raise _not_found("data set", DataSetId)
        return {"DataSetArn": dataset["Arn"], "DataSetId": DataSetId, "Permissions": self._perm_list(dataset["Arn"])}

    def UpdateDataSetPermissions(self, AwsAccountId: str, DataSetId: str, GrantPermissions=None,
                                 RevokePermissions=None) -> Dict[str, Any]:
        dataset = self.datasets.get(DataSetId)
        if dataset is None:
            raise _not_found("data set", DataSetId)
        self._update_perms(dataset["Arn"], GrantPermissions, RevokePermissions)
        return {"DataSetArn": dataset["Arn"], "DataSetId": DataSetId}

    def DeleteDataSet(self, AwsAccountId: str, DataSetId: str) -> Dict[str, Any]:
        dataset = self.datasets.pop(DataSetId, None)
        if dataset is None:
            raise _not_found("data set", DataSetId)
        self.permissions.pop(dataset["Arn"], None)
        self.tags.pop(dataset["Arn"], None)
        self.schedules.pop(DataSetId, None)
        return {"Arn": dataset["Arn"], "DataSetId": DataSetId}

    def ListDataSets(self, AwsAccountId: str, NextToken=None, MaxResults=None) -> Dict[str, Any]:
        # Small pages by default so callers must follow NextToken, as they must with the real service.
        start, size = int(NextToken or 0), MaxResults or 5
        ids = sorted(self.datasets)
        page = [{"Arn": self.datasets[i]["Arn"], "DataSetId": i, "Name": self.datasets[i]["Name"],
                 "ImportMode": self.datasets[i]["ImportMode"]} for i in ids[start:start + size]]
        result: Dict[str, Any] = {"DataSetSummaries": page}
        if start + size < len(ids):
            result["NextToken"] = str(start + size)
        return result

    def _ingest(self, dataset_id: str, ingestion_id: str, source: str = "MANUAL") -> Dict[str, Any]:
        assert source in REQUEST_SOURCES, source
        arn = self.arn("dataset", f"{dataset_id}/ingestion/{ingestion_id}")
        ingestion = {"Arn": arn, "IngestionId": ingestion_id, "IngestionStatus": "COMPLETED",
                     "RequestSource": source, "RequestType": "FULL_REFRESH",
                     "CreatedTime": dt.datetime.now(dt.timezone.utc)}
        queued = self._asset_failures.get("ingestion")
        if queued:
            ingestion.update(IngestionStatus="FAILED", ErrorInfo=queued.pop(0)["errors"][0])
        self.ingestions[(dataset_id, ingestion_id)] = ingestion
        return ingestion

    def CreateIngestion(self, AwsAccountId: str, DataSetId: str, IngestionId: str,
                        IngestionType=None) -> Dict[str, Any]:
        if DataSetId not in self.datasets:
            raise _not_found("data set", DataSetId)
        if (DataSetId, IngestionId) in self.ingestions:
            raise StandinError("ResourceExistsException", f"ingestion {IngestionId} exists", 409)
        # Enterprise edition: 32 manual refreshes per dataset in a trailing 24 hours ("You can manually refresh
        # datasets in an Enterprise edition account 32 times in a 24-hour period", CreateIngestion reference); the
        # refreshes its schedules run (RequestSource SCHEDULED) are not manual and do not count.
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=24)
        if sum(1 for (dataset, _), item in self.ingestions.items()
               if dataset == DataSetId and item["RequestSource"] == "MANUAL" and item["CreatedTime"] >= since) >= 32:
            raise StandinError("LimitExceededException", "manual refresh limit of 32 per 24 hours reached", 400)
        ingestion = self._ingest(DataSetId, IngestionId)
        return {"Arn": ingestion["Arn"], "IngestionId": IngestionId, "IngestionStatus": "INITIALIZED"}

    def scheduled_refresh(self, dataset_id: str, ingestion_id: str) -> None:
        """What a refresh schedule firing leaves in ListIngestions (not a request a client can send)."""
        self._ingest(dataset_id, ingestion_id, source="SCHEDULED")

    def ListIngestions(self, AwsAccountId: str, DataSetId: str, NextToken=None, MaxResults=None) -> Dict[str, Any]:
        if DataSetId not in self.datasets:
            raise _not_found("data set", DataSetId)
        items = sorted((item for (dataset, _), item in self.ingestions.items() if dataset == DataSetId),
                       key=lambda item: item["CreatedTime"], reverse=True)
        start, size = int(NextToken or 0), MaxResults or 10
        result: Dict[str, Any] = {"Ingestions": items[start:start + size]}
        if start + size < len(items):
            result["NextToken"] = str(start + size)
        return result

    def DescribeIngestion(self, AwsAccountId: str, DataSetId: str, IngestionId: str) -> Dict[str, Any]:
        ingestion = self.ingestions.get((DataSetId, IngestionId))
        if ingestion is None:
            raise _not_found("ingestion", IngestionId)
        return {"Ingestion": ingestion}

    def ListRefreshSchedules(self, AwsAccountId: str, DataSetId: str) -> Dict[str, Any]:
        if DataSetId not in self.datasets:
            raise _not_found("data set", DataSetId)
        return {"RefreshSchedules": list(self.schedules.get(DataSetId, {}).values())}

    def CreateRefreshSchedule(self, AwsAccountId: str, DataSetId: str, Schedule: Dict[str, Any]) -> Dict[str, Any]:
        if DataSetId not in self.datasets:
            raise _not_found("data set", DataSetId)
        schedules = self.schedules.setdefault(DataSetId, {})
        if Schedule["ScheduleId"] in schedules:
            raise StandinError("ResourceExistsException", f"schedule {Schedule['ScheduleId']} exists", 409)
        if len(schedules) >= 5:
            raise StandinError("LimitExceededException", "at most 5 refresh schedules per data set", 400)
        arn = self.arn("dataset", f"{DataSetId}/schedule/{Schedule['ScheduleId']}")
        schedules[Schedule["ScheduleId"]] = {**Schedule, "Arn": arn}
        return {"ScheduleId": Schedule["ScheduleId"], "Arn": arn}

    def UpdateRefreshSchedule(self, AwsAccountId: str, DataSetId: str, Schedule: Dict[str, Any]) -> Dict[str, Any]:
        schedules = self.schedules.get(DataSetId, {})
        if Schedule["ScheduleId"] not in schedules:
            raise _not_found("refresh schedule", Schedule["ScheduleId"])
        schedules[Schedule["ScheduleId"]].update(Schedule)
        return {"ScheduleId": Schedule["ScheduleId"], "Arn": schedules[Schedule["ScheduleId"]]["Arn"]}

    # ------------------------------------------------------------------ definitions (shared by analyses, dashboards)
    def _definition_errors(self, definition: Dict[str, Any]) -> List[Dict[str, Any]]:
        """What the service reports on a failed asset: unknown datasets and columns, with a path."""
        columns: Dict[str, Dict[str, str]] = {}
        for declaration in definition.get("DataSetIdentifierDeclarations", []):
            dataset = next((d for d in self.datasets.values() if d["Arn"] == declaration["DataSetArn"]), None)
            if dataset is None:
                return [{"Type": "DATA_SET_NOT_FOUND", "Message": f"data set {declaration['DataSetArn']} not found",
                         "ViolatedEntities": [{"Path": f"DataSetIdentifierDeclarations/{declaration['Identifier']}"}]}]
            columns[declaration["Identifier"]] = {c["Name"]: c["Type"] for t in dataset["PhysicalTableMap"].values()
                                                  for c in t["RelationalTable"]["InputColumns"]}
        problems = references.check_definition({"Definition": definition}, columns, "definition")
        return [{"Type": "COLUMN_TYPE_MISMATCH", "Message": problem.split(": ", 1)[-1],
                 "ViolatedEntities": [{"Path": problem.split(": ", 2)[1] if problem.count(": ") > 1 else "definition"}]}
                for problem in problems[:20]]

    def _finish(self, kind: str, verb: str, definition: Dict[str, Any]) -> Tuple[str, List[Dict[str, Any]]]:
        errors = self._definition_errors(definition)
        if errors:
            return f"{verb}_FAILED", errors
        return self._outcome(kind, verb)

    # ------------------------------------------------------------------ analyses
    def CreateAnalysis(self, AwsAccountId: str, AnalysisId: str, Name: str, Definition=None, Permissions=None,
                       Tags=None, **rest: Any) -> Dict[str, Any]:
        existing = self.analyses.get(AnalysisId)
        if existing is not None and existing["Status"] != "DELETED":
            raise StandinError("ResourceExistsException", f"analysis {AnalysisId} already exists", 409)
        arn = self.arn("analysis", AnalysisId)
        status, errors = self._finish("analysis", "CREATION", Definition or {})
        self.analyses[AnalysisId] = {"AnalysisId": AnalysisId, "Arn": arn, "Name": Name, "Status": status,
                                     "Errors": errors, "Definition": Definition, "_polls": self.polls_in_progress}
        self._grant(arn, Permissions)
        self._tag(arn, Tags)
        return {"Arn": arn, "AnalysisId": AnalysisId, "CreationStatus": "CREATION_IN_PROGRESS"}

    def UpdateAnalysis(self, AwsAccountId: str, AnalysisId: str, Name: str, Definition=None, **rest: Any):
        analysis = self.analyses.get(AnalysisId)
        if analysis is None:
            raise _not_found("analysis", AnalysisId)
        status, errors = self._finish("analysis", "UPDATE", Definition or {})
        analysis.update(Name=Name, Definition=Definition, Status=status, Errors=errors, _polls=self.polls_in_progress)
        return {"Arn": analysis["Arn"], "AnalysisId": AnalysisId, "UpdateStatus": "UPDATE_IN_PROGRESS"}

    def DescribeAnalysis(self, AwsAccountId: str, AnalysisId: str) -> Dict[str, Any]:
        analysis = self.analyses.get(AnalysisId)
        if analysis is None:
            raise _not_found("analysis", AnalysisId)
        public = {k: analysis[k] for k in ("AnalysisId", "Arn", "Name")}
        public["Status"] = self._status(analysis)
        if analysis["Errors"] and public["Status"].endswith("FAILED"):
            public["Errors"] = analysis["Errors"]
        return {"Analysis": public}

    def DescribeAnalysisPermissions(self, AwsAccountId: str, AnalysisId: str) -> Dict[str, Any]:
        if AnalysisId not in self.analyses:
            raise _not_found("analysis", AnalysisId)
        arn = self.analyses[AnalysisId]["Arn"]
        return {"AnalysisId": AnalysisId, "AnalysisArn": arn, "Permissions": self._perm_list(arn)}

    def UpdateAnalysisPermissions(self, AwsAccountId: str, AnalysisId: str, GrantPermissions=None,
                                  RevokePermissions=None) -> Dict[str, Any]:
        if AnalysisId not in self.analyses:
            raise _not_found("analysis", AnalysisId)
        arn = self.analyses[AnalysisId]["Arn"]
        return {"AnalysisId": AnalysisId, "AnalysisArn": arn,
                "Permissions": self._update_perms(arn, GrantPermissions, RevokePermissions)}

    def DeleteAnalysis(self, AwsAccountId: str, AnalysisId: str, RecoveryWindowInDays=None,
                       ForceDeleteWithoutRecovery=None) -> Dict[str, Any]:
        analysis = self.analyses.get(AnalysisId)
        if analysis is None:
            raise _not_found("analysis", AnalysisId)
        if RecoveryWindowInDays is not None and ForceDeleteWithoutRecovery:
            raise StandinError("InvalidParameterValueException",
                               "RecoveryWindowInDays and ForceDeleteWithoutRecovery exclude each other", 400)
        deletion = dt.datetime.now(dt.timezone.utc)
        if ForceDeleteWithoutRecovery:
            del self.analyses[AnalysisId]
            self.permissions.pop(analysis["Arn"], None)
            self.tags.pop(analysis["Arn"], None)
        else:
            # Without force the service keeps it DELETED (restorable) for the recovery window, 30 days by default.
            analysis.update(Status="DELETED", Errors=[])
            deletion += dt.timedelta(days=RecoveryWindowInDays or 30)
        return {"Arn": analysis["Arn"], "AnalysisId": AnalysisId, "DeletionTime": deletion}

    # ------------------------------------------------------------------ dashboards
    def _new_version(self, dashboard: Dict[str, Any], definition: Dict[str, Any], verb: str) -> Dict[str, Any]:
        number = len(dashboard["versions"]) + 1
        status, errors = self._finish("dashboard", verb, definition)
        version = {"VersionNumber": number, "Status": status, "Errors": errors, "Definition": definition,
                   "Arn": f"{dashboard['Arn']}/version/{number}", "_polls": self.polls_in_progress}
        dashboard["versions"].append(version)
        return version

    def CreateDashboard(self, AwsAccountId: str, DashboardId: str, Name: str, Definition=None, Permissions=None,
                        Tags=None, **rest: Any) -> Dict[str, Any]:
        if DashboardId in self.dashboards:
            raise StandinError("ResourceExistsException", f"dashboard {DashboardId} already exists", 409)
        arn = self.arn("dashboard", DashboardId)
        dashboard = {"DashboardId": DashboardId, "Arn": arn, "Name": Name, "versions": [], "published": 1}
        version = self._new_version(dashboard, Definition or {}, "CREATION")
        self.dashboards[DashboardId] = dashboard
        self._grant(arn, Permissions)
        self._tag(arn, Tags)
        return {"Arn": arn, "VersionArn": version["Arn"], "DashboardId": DashboardId,
                "CreationStatus": "CREATION_IN_PROGRESS"}

    def UpdateDashboard(self, AwsAccountId: str, DashboardId: str, Name: str, Definition=None, **rest: Any):
        dashboard = self.dashboards.get(DashboardId)
        if dashboard is None:
            raise _not_found("dashboard", DashboardId)
        dashboard["Name"] = Name
        # Real QuickSight reports a new dashboard version as CREATION_*, not UPDATE_*.
        version = self._new_version(dashboard, Definition or {}, "CREATION")
        return {"Arn": dashboard["Arn"], "VersionArn": version["Arn"], "DashboardId": DashboardId,
                "CreationStatus": "CREATION_IN_PROGRESS"}

    def DescribeDashboard(self, AwsAccountId: str, DashboardId: str, VersionNumber=None, AliasName=None):
        dashboard = self.dashboards.get(DashboardId)
        if dashboard is None:
            raise _not_found("dashboard", DashboardId)
        number = VersionNumber or dashboard["published"]
        if not 1 <= number <= len(dashboard["versions"]):
            raise _not_found("dashboard version", f"{DashboardId}/{number}")
        stored = dashboard["versions"][number - 1]
        version = {"VersionNumber": number, "Arn": stored["Arn"], "Status": self._status(stored)}
        if stored["Errors"] and version["Status"].endswith("FAILED"):
            version["Errors"] = stored["Errors"]
        return {"Dashboard": {"DashboardId": DashboardId, "Arn": dashboard["Arn"], "Name": dashboard["Name"],
                              "Version": version}}

    def ListDashboardVersions(self, AwsAccountId: str, DashboardId: str, NextToken=None, MaxResults=None):
        dashboard = self.dashboards.get(DashboardId)
        if dashboard is None:
            raise _not_found("dashboard", DashboardId)
        return {"DashboardVersionSummaryList": [
            {"Arn": v["Arn"], "VersionNumber": v["VersionNumber"], "Status": v["Status"]}
            for v in dashboard["versions"]]}

    def UpdateDashboardPublishedVersion(self, AwsAccountId: str, DashboardId: str, VersionNumber: int):
        dashboard = self.dashboards.get(DashboardId)
        if dashboard is None:
            raise _not_found("dashboard", DashboardId)
        if not 1 <= VersionNumber <= len(dashboard["versions"]):
            raise _not_found("dashboard version", f"{DashboardId}/{VersionNumber}")
        if not dashboard["versions"][VersionNumber - 1]["Status"].endswith("SUCCESSFUL"):
            raise StandinError("InvalidParameterValueException",
                               f"version {VersionNumber} is {dashboard['versions'][VersionNumber - 1]['Status']}", 400)
        dashboard["published"] = VersionNumber
        return {"DashboardId": DashboardId, "DashboardArn": dashboard["Arn"]}

    def DeleteDashboard(self, AwsAccountId: str, DashboardId: str, VersionNumber=None) -> Dict[str, Any]:
        dashboard = self.dashboards.get(DashboardId)
        if dashboard is None:
            raise _not_found("dashboard", DashboardId)
        if VersionNumber is not None:
            raise StandinError("UnsupportedOperation", "the stand-in deletes whole dashboards only", 400)
        del self.dashboards[DashboardId]
        self.permissions.pop(dashboard["Arn"], None)
        self.tags.pop(dashboard["Arn"], None)
        return {"Arn": dashboard["Arn"], "DashboardId": DashboardId}

    def DescribeDashboardPermissions(self, AwsAccountId: str, DashboardId: str) -> Dict[str, Any]:
        if DashboardId not in self.dashboards:
            raise _not_found("dashboard", DashboardId)
        arn = self.dashboards[DashboardId]["Arn"]
        return {"DashboardId": DashboardId, "DashboardArn": arn, "Permissions": self._perm_list(arn)}

    def UpdateDashboardPermissions(self, AwsAccountId: str, DashboardId: str, GrantPermissions=None,
                                   RevokePermissions=None, **rest: Any) -> Dict[str, Any]:
        if DashboardId not in self.dashboards:
            raise _not_found("dashboard", DashboardId)
        arn = self.dashboards[DashboardId]["Arn"]
        return {"DashboardId": DashboardId, "DashboardArn": arn,
                "Permissions": self._update_perms(arn, GrantPermissions, RevokePermissions)}

    # ------------------------------------------------------------------ tags
    def _known_arn(self, arn: str) -> bool:
        assets = [*self.data_sources.values(), *self.datasets.values(), *self.analyses.values(),
                  *self.dashboards.values()]
        return any(asset["Arn"] == arn for asset in assets)

    def TagResource(self, ResourceArn: str, Tags: List[Dict[str, str]]) -> Dict[str, Any]:
        if not self._known_arn(ResourceArn):
            raise _not_found("resource", ResourceArn)
        self._tag(ResourceArn, Tags)
        return {}

    def ListTagsForResource(self, ResourceArn: str) -> Dict[str, Any]:
        if not self._known_arn(ResourceArn):
            raise _not_found("resource", ResourceArn)
        tags = [{"Key": k, "Value": v} for k, v in sorted(self.tags.get(ResourceArn, {}).items())]
        return {"Tags": tags} if tags else {}  # the model's Tags has at least one item: none means no member

    # ------------------------------------------------------------------ in-process adapter
    # ------------------------------------------------------------------ account (what preflight reads)
    edition = "ENTERPRISE"
    users = ("admin",)

    def DescribeAccountSubscription(self, AwsAccountId: str) -> Dict[str, Any]:
        if not self.edition:
            raise _not_found("account subscription", AwsAccountId)
        return {"AccountInfo": {"AccountName": "emulated", "Edition": self.edition, "NotificationEmail": "a@b.c",
                                "AuthenticationType": "IDENTITY_POOL",
                                "AccountSubscriptionStatus": "ACCOUNT_CREATED"}, "Status": 200}

    def DescribeUser(self, UserName: str, AwsAccountId: str, Namespace: str) -> Dict[str, Any]:
        if UserName not in self.users:
            raise _not_found("user", UserName)
        arn = f"arn:aws:quicksight:{self.region}:{AwsAccountId}:user/{Namespace}/{UserName}"
        return {"User": {"Arn": arn, "UserName": UserName, "Email": "a@b.c", "Role": "ADMIN",
                         "IdentityType": "QUICKSIGHT", "Active": True, "PrincipalId": f"federated/{UserName}"},
                "Status": 200}

    def attach(self, client: Any) -> Any:
        """Answer every call of a boto3 QuickSight client from this stand-in; nothing goes over the network."""
        def keep_params(params: Dict[str, Any], context: Dict[str, Any], **_: Any) -> None:
            context["standin_params"] = copy.deepcopy(params)

        def answer(model: Any, context: Dict[str, Any], **_: Any) -> Tuple[AWSResponse, Dict[str, Any]]:
            try:
                parsed = self.handle(model.name, context.get("standin_params", {}))
                status = 200
            except StandinError as exc:
                parsed = {"Error": {"Code": exc.code, "Message": exc.message},
                          "Message": exc.message, "ResponseMetadata": {"HTTPStatusCode": exc.status}}
                status = exc.status
            parsed = _as_parsed(parsed)
            parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": status})
            return AWSResponse("https://quicksight.standin", status, {}, None), parsed

        client.meta.events.register("before-parameter-build.quicksight", keep_params)
        client.meta.events.register("before-call.quicksight", answer)
        return client


def _as_parsed(value: Any) -> Any:
    """What botocore's parser would hand back: plain dicts and lists, sets as sorted lists, timestamps as aware
    datetimes (as the HTTP path's parser gives them), so callers meet the types the real client returns."""
    if isinstance(value, dict):
        return {key: _as_parsed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_parsed(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return value


