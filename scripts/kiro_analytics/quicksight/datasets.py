"""Step 7: the Athena data source and one SPICE dataset per view, each created or updated only when it differs.

Datasets are RelationalTables on the Athena views (the SQL lives in sql/views/, names are joined there). A dataset
whose definition changed gets an immediate full ingestion, because SPICE does not see a view change until it is
refreshed; every dataset gets a daily refresh schedule after the user-name sync.

Every ingestion the deploy causes is awaited, the first one of a new dataset too (CreateDataSet starts it and names
it in its reply): a failed load fails the step with QuickSight's ErrorInfo instead of reporting success. Only the
fields this step sends are compared with what the service describes (it adds its own), so a rerun is unchanged.
Manual refreshes are capped at 32 per dataset in 24 hours on Enterprise edition
(https://docs.aws.amazon.com/quicksight/latest/APIReference/API_CreateIngestion.html): a refresh that would pass
the cap is not started, and the step says when the next one is possible.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..cli import StepContext
from ..errors import InputError, StepFailed, error_code
from ..progress import wait_until
from ..sqlfiles import content_digests
from . import assets, definitions, permissions, references

log = logging.getLogger(__name__)

DATA_SOURCE_FILE = definitions.ROOT / "data_source.json"
SCHEDULE_ID = "kiro-daily-refresh"
# Minutes between the refreshes of consecutive datasets, so they do not all queue on SPICE at once.
STAGGER_MINUTES = 2
INGESTION_TIMEOUT = 1800.0
MANUAL_REFRESHES_PER_DAY = 32


def role_arn(context: StepContext) -> str:
    return context.names.role_arn(context.names.quicksight_role)


def data_source_arn(context: StepContext) -> str:
    return context.names.arn("quicksight", f"datasource/{context.names.data_source_id}")


def desired_data_source(context: StepContext) -> Dict[str, Any]:
    try:
        raw = json.loads(DATA_SOURCE_FILE.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{DATA_SOURCE_FILE}: {exc}") from None
    values = {"data_source_name": f"{context.names.prefix} Athena", "workgroup": context.config.workgroup,
              "quicksight_role_arn": role_arn(context)}
    return definitions.substitute(raw, context.config.language, values, str(DATA_SOURCE_FILE))


def desired_dataset(context: StepContext, view: str) -> Dict[str, Any]:
    raw = definitions.load_raw_dataset(view)
    problems = references.check_dataset(view, raw)
    if problems:
        raise InputError("\n".join(problems))
    values = {f"dataset_name:{view}": f"{context.names.prefix} {view}", "data_source_arn": data_source_arn(context),
              "database": context.config.database}
    return definitions.substitute(raw, context.config.language, values, str(definitions.dataset_path(view)))


def _data_source_status(client: Any, context: StepContext) -> Tuple[bool, str, Optional[Dict[str, Any]]]:
    source = client.describe_data_source(AwsAccountId=context.config.account_id,
                                         DataSourceId=context.names.data_source_id)["DataSource"]
    status = source.get("Status", "")
    if status in assets.FAILED:
        info = source.get("ErrorInfo", {})
        raise StepFailed(f"data source {context.names.data_source_id} is {status}: "
                         f"{info.get('Type', 'UNKNOWN')}: {info.get('Message', 'no details')}. "
                         f"Check the role {role_arn(context)} (trusts quicksight.amazonaws.com, Athena/Glue/S3 "
                         "access, Lake Formation grants) and the workgroup.")
    return status in assets.SUCCESS, status, source


def ensure_data_source(context: StepContext) -> str:
    client, account = context.clients.quicksight(), context.config.account_id
    source_id = context.names.data_source_id
    want = desired_data_source(context)
    current = assets.describe_or_none(client.describe_data_source, AwsAccountId=account, DataSourceId=source_id)
    existing = (current or {}).get("DataSource")
    outcome = "created"
    if existing and existing.get("Status") == "CREATION_FAILED":
        info = existing.get("ErrorInfo", {})
        # A failed data source blocks its id until deleted, so a rerun could never succeed without this.
        log.warning("data source %s is CREATION_FAILED (%s: %s); deleting it and creating it again",
                    source_id, info.get("Type", "UNKNOWN"), info.get("Message", "no details"))
        context.recorder.call(client, "DeleteDataSource", AwsAccountId=account, DataSourceId=source_id)
        existing, outcome = None, "recreated after CREATION_FAILED"
    if existing is None:
        context.recorder.call(client, "CreateDataSource", AwsAccountId=account, DataSourceId=source_id,
                              Permissions=permissions.as_request(permissions.desired("data_source", context.config)),
                              **want)
    elif differs(existing, {key: value for key, value in want.items() if key != "Type"}):
        update = {key: value for key, value in want.items() if key != "Type"}
        context.recorder.call(client, "UpdateDataSource", AwsAccountId=account, DataSourceId=source_id, **update)
        outcome = "updated"
    else:
        outcome = "unchanged"
    if context.dry_run:
        return outcome
    wait_until(lambda: _data_source_status(client, context), f"data source {source_id}", assets.POLL_TIMEOUT,
               assets.POLL_INTERVAL, assets.clock())
    if outcome in ("updated", "unchanged"):
        permissions.ensure("data_source", source_id, client, context.recorder, context.config)
    return outcome


def differs(current: Any, want: Any) -> bool:
    """Whether what the service describes differs from what this step sends, in the fields it sends only: the
    service adds its own (ARNs, times, OutputColumns, defaults), and comparing those would update every rerun."""
    if isinstance(want, Mapping):
        return not isinstance(current, Mapping) or any(differs(current.get(key), value) for key, value in want.items())
    if isinstance(want, list):
        return (not isinstance(current, list) or len(current) != len(want)
                or any(differs(have, wanted) for have, wanted in zip(current, want)))
    return _normal(current) != _normal(want)


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str)) if value is not None else None


def ensure_dataset(context: StepContext, view: str, view_digest: str) -> Tuple[str, str]:
    """Create, update or leave one dataset: (created | updated | unchanged, the id of the ingestion an update
    started, or "")."""
    client, account = context.clients.quicksight(), context.config.account_id
    dataset_id = context.names.dataset_id(view)
    want = desired_dataset(context, view)
    current = assets.describe_or_none(client.describe_data_set, AwsAccountId=account, DataSetId=dataset_id)
    if current is None:
        # No view tag yet: it is set once the first ingestion succeeded, so a failed first load is retried next time.
        response = context.recorder.call(
            client, "CreateDataSet", AwsAccountId=account, DataSetId=dataset_id,
            Permissions=permissions.as_request(permissions.desired("dataset", context.config)), **want)
        return "created", str(response.get("IngestionId", ""))
    ingestion_id = ""
    if differs(current["DataSet"], want):
        # Updating a SPICE dataset starts its full refresh by itself; the reply names that ingestion.
        response = context.recorder.call(client, "UpdateDataSet", AwsAccountId=account, DataSetId=dataset_id, **want)
        outcome, ingestion_id = "updated", str(response.get("IngestionId", ""))
    else:
        outcome = "unchanged"
    if not context.dry_run:
        permissions.ensure("dataset", dataset_id, client, context.recorder, context.config)
    return outcome, ingestion_id


def refresh_time(base: str, index: int) -> str:
    hours, minutes = (int(part) for part in base.split(":"))
    total = (hours * 60 + minutes + index * STAGGER_MINUTES) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def ensure_schedule(context: StepContext, view: str, index: int, existed: bool) -> str:
    client, account = context.clients.quicksight(), context.config.account_id
    dataset_id = context.names.dataset_id(view)
    schedule = {"ScheduleId": SCHEDULE_ID, "RefreshType": "FULL_REFRESH",
                "ScheduleFrequency": {"Interval": "DAILY", "Timezone": "UTC",
                                      "TimeOfTheDay": refresh_time(context.config.spice_refresh_time, index)}}
    current: List[Dict[str, Any]] = []
    if existed:
        current = client.list_refresh_schedules(AwsAccountId=account, DataSetId=dataset_id).get("RefreshSchedules", [])
    ours = next((item for item in current if item.get("ScheduleId") == SCHEDULE_ID), None)
    if ours is None:
        context.recorder.call(client, "CreateRefreshSchedule", AwsAccountId=account, DataSetId=dataset_id,
                              Schedule=schedule)
        return "scheduled"
    if (ours.get("RefreshType"), _normal(ours.get("ScheduleFrequency"))) == (schedule["RefreshType"],
                                                                           _normal(schedule["ScheduleFrequency"])):
        return "unchanged"
    context.recorder.call(client, "UpdateRefreshSchedule", AwsAccountId=account, DataSetId=dataset_id,
                          Schedule=schedule)
    return "rescheduled"


def _manual_refreshes_today(client: Any, context: StepContext, view: str,
                            now: dt.datetime) -> List[dt.datetime]:
    """When the dataset's manual ingestions of the last 24 hours started, oldest first. Only manual ones count: the
    cap is on manual refreshes (API_CreateIngestion), and the daily schedule's own loads (RequestSource SCHEDULED)
    must not block a deploy's refresh."""
    since = now - dt.timedelta(hours=24)
    started: List[dt.datetime] = []
    for page in client.get_paginator("list_ingestions").paginate(AwsAccountId=context.config.account_id,
                                                                 DataSetId=context.names.dataset_id(view)):
        started += [item["CreatedTime"] for item in page.get("Ingestions", [])
                    if item.get("RequestSource", "MANUAL") == "MANUAL" and item.get("CreatedTime")
                    and item["CreatedTime"] >= since]
    return sorted(started)


def _cap_reached(view: str, earliest: Optional[dt.datetime]) -> StepFailed:
    when = f" after {(earliest + dt.timedelta(hours=24)):%Y-%m-%d %H:%M} UTC" if earliest else " tomorrow"
    return StepFailed(f"SPICE refresh of {view} not started: QuickSight allows {MANUAL_REFRESHES_PER_DAY} manual "
                      f"refreshes of a dataset in 24 hours and they are used up. Its daily schedule still runs; "
                      f"rerun step 7{when} to refresh it now (the changed view is remembered until then).")


def start_ingestion(context: StepContext, view: str, now: Optional[dt.datetime] = None) -> str:
    client = context.clients.quicksight()
    if not context.dry_run:
        today = _manual_refreshes_today(client, context, view, now or dt.datetime.now(dt.timezone.utc))
        if len(today) >= MANUAL_REFRESHES_PER_DAY:
            raise _cap_reached(view, today[-MANUAL_REFRESHES_PER_DAY])
    # Unique per call: two deploys within one second must not collide on the id.
    ingestion_id = f"deploy-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    try:
        context.recorder.call(client, "CreateIngestion", AwsAccountId=context.config.account_id,
                              DataSetId=context.names.dataset_id(view), IngestionId=ingestion_id,
                              IngestionType="FULL_REFRESH")
    except Exception as exc:
        if error_code(exc) == "LimitExceededException":
            raise _cap_reached(view, None) from None
        raise
    return ingestion_id


def _ingestion_status(client: Any, context: StepContext, view: str, ingestion_id: str):
    ingestion = client.describe_ingestion(AwsAccountId=context.config.account_id,
                                          DataSetId=context.names.dataset_id(view),
                                          IngestionId=ingestion_id)["Ingestion"]
    status = ingestion.get("IngestionStatus", "")
    if status in ("FAILED", "CANCELLED"):
        info = ingestion.get("ErrorInfo", {})
        raise StepFailed(f"SPICE refresh of {view} {status}: {info.get('Type', 'UNKNOWN')}: "
                         f"{info.get('Message', 'no details')}")
    return status == "COMPLETED", status, ingestion


def deploy(context: StepContext) -> str:
    """Step 7's action: data source, datasets, schedules, and a refresh of every dataset that changed."""
    source = ensure_data_source(context)
    outcomes: Dict[str, str] = {}
    ingestions: List[Tuple[str, str]] = []
    client = context.clients.quicksight()
    digests = content_digests(context.config)
    for index, view in enumerate(definitions.dataset_files()):
        outcome, update_ingestion = ensure_dataset(context, view, digests[view])
        ensure_schedule(context, view, index, existed=outcome != "created")
        # Creating or updating a SPICE dataset ingests once by itself: an update is waited on, not refreshed again
        # (a second, overlapping ingestion). One whose view (or anything the view reads) changed since its last
        # refresh but whose definition did not needs an explicit refresh, or SPICE shows the old rows.
        arn = assets.dataset_arn(context, view)
        if outcome == "unchanged" and assets.stored_hash(client, arn, assets.VIEW_TAG) != digests[view]:
            outcome = "view changed"
        outcomes[view] = outcome
        log.info("dataset %s: %s", context.names.dataset_id(view), outcome)
        if outcome in ("created", "updated") and (update_ingestion or context.dry_run):
            ingestions.append((view, update_ingestion))  # "" under --dry-run, where nothing is waited on
        elif outcome in ("updated", "view changed"):
            ingestions.append((view, start_ingestion(context, view)))
    for view, ingestion_id in ingestions:
        if not context.dry_run:
            wait_until(lambda v=view, i=ingestion_id: _ingestion_status(client, context, v, i),
                       f"SPICE refresh of {view}", INGESTION_TIMEOUT, 10.0, assets.clock())
        # Tagged after a successful refresh only, so a failed one is retried by the next deploy.
        context.recorder.call(client, "TagResource", ResourceArn=assets.dataset_arn(context, view),
                              Tags=assets.hash_tags(digests[view], assets.VIEW_TAG))
    counts = {state: sum(1 for o in outcomes.values() if o == state)
              for state in ("created", "updated", "view changed", "unchanged")}
    return (f"data source {source}; datasets: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['view changed']} refreshed for a changed view, {counts['unchanged']} unchanged; "
            f"daily refresh from {context.config.spice_refresh_time} UTC")
