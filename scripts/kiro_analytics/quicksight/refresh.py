"""How each SPICE dataset is refreshed (``quicksight/refresh.json``), and step 7's schedules and refresh properties.

A full refresh re-reads a dataset's whole view, so every day of the fact table; a daily full refresh of every dataset
read the facts about 7 times a day (``bench/local_build.py --scan``). The datasets named under ``Incremental`` get
QuickSight's incremental refresh instead: refresh properties with a lookback window on a date column
(PutDataSetRefreshProperties, https://docs.aws.amazon.com/quicksight/latest/APIReference/API_PutDataSetRefreshProperties.html),
then a daily schedule of RefreshType INCREMENTAL_REFRESH (CreateRefreshSchedule,
https://docs.aws.amazon.com/quicksight/latest/APIReference/API_CreateRefreshSchedule.html). Such a refresh asks the
data source only for the rows whose date is inside the window and replaces those rows in SPICE ("Refreshing SPICE
data", incremental refresh, for SQL data sources such as Athena:
https://docs.aws.amazon.com/quicksight/latest/user/refreshing-imported-data.html); the views named here let that
date predicate reach the fact table (sql/views/user_day_credits.sql), so Athena reads the window's days only.

A row older than the window is not refreshed by it: a re-sent export of a day more than a week old, a renamed user, a
changed team. So each such dataset also keeps a weekly full refresh (``FullRefreshDay``, ``FullRefreshDelayMinutes``
after that day's incremental one). Datasets not named stay on a daily full refresh: their rows depend on every day
(all-time totals, months, rolling 30-day windows, idle seats). A dataset has at most 5 schedules; these use 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from ..errors import InputError
from ..request_validation import enum_values
from . import assets, definitions

if TYPE_CHECKING:  # pragma: no cover
    from ..cli import StepContext

REFRESH_FILE = definitions.ROOT / "refresh.json"
DAILY_SCHEDULE_ID = "kiro-daily-refresh"
FULL_SCHEDULE_ID = "kiro-weekly-full-refresh"
OUR_SCHEDULES = (DAILY_SCHEDULE_ID, FULL_SCHEDULE_ID)
# Minutes between the refreshes of consecutive datasets, so they do not all queue on SPICE at once.
STAGGER_MINUTES = 2
_KEYS = {"LookbackWindow", "FullRefreshDay", "FullRefreshDelayMinutes", "Incremental"}
# What the requests will carry: read from the service model, so the check cannot drift from what QuickSight takes.
_DAYS = enum_values("quicksight", "DayOfWeek")
_UNITS = enum_values("quicksight", "LookbackWindowSizeUnit")


@dataclass(frozen=True)
class RefreshPlan:
    lookback_size: int
    lookback_unit: str
    full_refresh_day: str
    full_refresh_delay: int
    incremental: Mapping[str, str]  # dataset (view) -> its lookback date column

    def lookback_days(self) -> float:
        return self.lookback_size * {"HOUR": 1 / 24, "DAY": 1, "WEEK": 7}[self.lookback_unit]


def _date_columns(view: str) -> Tuple[str, ...]:
    tables = definitions.load_raw_dataset(view).get("PhysicalTableMap", {}).values()
    return tuple(column.get("Name", "") for table in tables
                 for column in table.get("RelationalTable", {}).get("InputColumns", [])
                 if column.get("Type") == "DATETIME")


def load_plan() -> RefreshPlan:
    """refresh.json, checked: every problem is reported at once, naming the file and the key."""
    raw = definitions._read_json(REFRESH_FILE)
    where = str(REFRESH_FILE)
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object with the keys {', '.join(sorted(_KEYS))}")
    problems: List[str] = [f"{where}: unknown key {key!r}" for key in sorted(set(raw) - _KEYS)]
    problems += [f"{where}: missing key {key!r}" for key in sorted(_KEYS - set(raw))]
    window = raw.get("LookbackWindow") if isinstance(raw.get("LookbackWindow"), dict) else {}
    size, unit = window.get("Size"), window.get("SizeUnit")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        problems.append(f"{where}: LookbackWindow.Size must be a whole number >= 1, not {size!r}")
    if unit not in _UNITS:
        problems.append(f"{where}: LookbackWindow.SizeUnit must be one of {', '.join(_UNITS)}, not {unit!r}")
    day, delay = raw.get("FullRefreshDay"), raw.get("FullRefreshDelayMinutes")
    if day not in _DAYS:
        problems.append(f"{where}: FullRefreshDay must be one of {', '.join(_DAYS)}, not {day!r}")
    if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay < 24 * 60:
        problems.append(f"{where}: FullRefreshDelayMinutes must be a whole number of minutes in 0..1439")
    incremental = raw.get("Incremental") if isinstance(raw.get("Incremental"), dict) else {}
    known = set(definitions.dataset_files())
    for view, column in sorted(incremental.items()):
        if view not in known:
            problems.append(f"{where}: Incremental.{view}: no dataset quicksight/datasets/{view}.json")
        elif column not in _date_columns(view):
            # QuickSight's lookback window is on a date column of the dataset.
            problems.append(f"{where}: Incremental.{view}: {column!r} is not a DATETIME column of that dataset "
                            f"(its date columns: {', '.join(_date_columns(view)) or 'none'})")
    if problems:
        raise InputError("\n".join(problems))
    return RefreshPlan(size, unit, day, delay, dict(incremental))


def refresh_time(base: str, index: int, delay: int = 0) -> str:
    hours, minutes = (int(part) for part in base.split(":"))
    total = (hours * 60 + minutes + index * STAGGER_MINUTES + delay) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def desired_properties(plan: RefreshPlan, view: str) -> Optional[Dict[str, Any]]:
    column = plan.incremental.get(view)
    if column is None:
        return None
    return {"RefreshConfiguration": {"IncrementalRefresh": {"LookbackWindow": {
        "ColumnName": column, "Size": plan.lookback_size, "SizeUnit": plan.lookback_unit}}}}


def desired_schedules(plan: RefreshPlan, view: str, base_time: str, index: int) -> List[Dict[str, Any]]:
    daily = {"Interval": "DAILY", "Timezone": "UTC", "TimeOfTheDay": refresh_time(base_time, index)}
    if view not in plan.incremental:
        return [{"ScheduleId": DAILY_SCHEDULE_ID, "RefreshType": "FULL_REFRESH", "ScheduleFrequency": daily}]
    weekly = {"Interval": "WEEKLY", "RefreshOnDay": {"DayOfWeek": plan.full_refresh_day}, "Timezone": "UTC",
              "TimeOfTheDay": refresh_time(base_time, index, plan.full_refresh_delay)}
    return [{"ScheduleId": DAILY_SCHEDULE_ID, "RefreshType": "INCREMENTAL_REFRESH", "ScheduleFrequency": daily},
            {"ScheduleId": FULL_SCHEDULE_ID, "RefreshType": "FULL_REFRESH", "ScheduleFrequency": weekly}]


def _same(current: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    return (current.get("RefreshType"), assets.normal(current.get("ScheduleFrequency"))) == \
        (want["RefreshType"], assets.normal(want["ScheduleFrequency"]))


def ensure(context: "StepContext", plan: RefreshPlan, view: str, index: int, existed: bool) -> str:
    """Refresh properties and schedules of one dataset: (scheduled | rescheduled | unchanged).

    Order matters to the service: an incremental schedule needs the dataset's incremental refresh properties, so
    they are put first; going back to full refresh, the schedules change first and the properties go last."""
    client, account = context.clients.quicksight(), context.config.account_id
    dataset_id = context.names.dataset_id(view)
    ids = {"AwsAccountId": account, "DataSetId": dataset_id}
    want_props = desired_properties(plan, view)
    have_props = None
    current: Dict[str, Dict[str, Any]] = {}
    if existed:
        answer = assets.describe_or_none(client.describe_data_set_refresh_properties, **ids)
        have_props = (answer or {}).get("DataSetRefreshProperties")
        current = {item["ScheduleId"]: item for item in
                   client.list_refresh_schedules(**ids).get("RefreshSchedules", [])}
    changed = False
    if want_props is not None and assets.normal(have_props) != assets.normal(want_props):
        context.recorder.call(client, "PutDataSetRefreshProperties", DataSetRefreshProperties=want_props, **ids)
        changed = True
    wanted = desired_schedules(plan, view, context.config.spice_refresh_time, index)
    for schedule in wanted:
        ours = current.get(schedule["ScheduleId"])
        if ours is None:
            context.recorder.call(client, "CreateRefreshSchedule", Schedule=schedule, **ids)
            changed = True
        elif not _same(ours, schedule):
            context.recorder.call(client, "UpdateRefreshSchedule", Schedule=schedule, **ids)
            changed = True
    # Only this project's schedule ids are removed: a schedule someone added by hand stays.
    for schedule_id in sorted(set(current) & set(OUR_SCHEDULES) - {item["ScheduleId"] for item in wanted}):
        context.recorder.call(client, "DeleteRefreshSchedule", ScheduleId=schedule_id, **ids)
        changed = True
    if want_props is None and have_props is not None:
        context.recorder.call(client, "DeleteDataSetRefreshProperties", **ids)
        changed = True
    if not changed:
        return "unchanged"
    return "scheduled" if not existed else "rescheduled"
