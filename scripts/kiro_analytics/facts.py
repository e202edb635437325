"""Keep the fact tables (sql/facts/) in step with the report files: load only the day folders whose files are new,
re-sent or gone, at most MAX_DAYS per statement.

Step 5 (backfill after creating the tables) and the daily Lambda ({"action": "facts"} on the sync's schedule) run
the same refresh_facts. A day folder is compared by the set of report files S3 lists under it (one ListObjectsV2
pass over the raw tables' locations) against the set of source paths its facts were loaded from (one small Athena
query over two columns of the facts): any difference reloads the day, DELETE then INSERT, so a re-sent export of
an old day replaces that day's facts and a rerun loads nothing.

Ships inside the Lambda: the standard library, athena.py and templating.py only (no yaml, pyathena or duckdb).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from .athena import Call, load_query, run_query
from .errors import InputError
from .progress import DEFAULT_CLOCK, Clock
from .templating import render

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
# In the repository the fact SQL sits at <root>/sql/facts; in the Lambda zip at <zip root>/sql/facts.
_FACT_DIRS = (_HERE.parent.parent / "sql" / "facts", _HERE.parent / "sql" / "facts")
# Athena's INSERT INTO writes at most 100 partitions per query
# (https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html); the facts are partitioned by day.
MAX_DAYS = 90
FACT_FILES_QUERY = "fact_files"
_DAY_KEY = re.compile(r"^([^/]+)/([0-9]{4})/([0-9]{2})/([0-9]{2})/(.+)$")
STATEMENTS = ("delete", "load")


@dataclass(frozen=True)
class FactSources:
    """Where the raw tables read (their LOCATIONs), which region folders and from which day: what the partition
    projection of sql/tables/ covers, so the refresh lists exactly the files Athena would read."""
    locations: Tuple[str, ...]
    regions: Tuple[str, ...]
    first_day: date

    def to_json(self) -> str:
        return json.dumps({"locations": list(self.locations), "regions": list(self.regions),
                           "first_day": self.first_day.isoformat()}, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "FactSources":
        try:
            value = json.loads(text)
            return FactSources(locations=tuple(value["locations"]), regions=tuple(value["regions"]),
                               first_day=date.fromisoformat(value["first_day"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"FACT_SOURCES is not the JSON the stack writes ({exc}); redeploy the stack") from None


@dataclass(frozen=True)
class FactsRefresh:
    days_listed: int
    days_loaded: List[date] = field(default_factory=list)
    ranges: List[Tuple[date, date]] = field(default_factory=list)

    def summary(self) -> str:
        if not self.days_loaded:
            return f"facts: unchanged ({self.days_listed} day folder(s) current)"
        spans = ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in self.ranges)
        return f"facts: {len(self.days_loaded)} day(s) loaded ({spans}) of {self.days_listed}"


def fact_dir() -> Path:
    for folder in _FACT_DIRS:
        if folder.is_dir():
            return folder
    raise InputError("sql/facts/ not found")


def fact_names() -> List[str]:
    """Every fact table, named by its CREATE file (sql/facts/<name>.sql)."""
    return sorted(path.stem for path in fact_dir().glob("*.sql") if "." not in path.stem)


def fact_statement(name: str, kind: str, database: str, first: date, last: date) -> str:
    """The fact table's delete or load statement for the day folders first .. last (inclusive), rendered."""
    if kind not in STATEMENTS:
        raise InputError(f"unknown fact statement {kind!r}")
    if last < first:
        raise InputError(f"sql/facts/{name}.{kind}.sql: day range {first} .. {last} is empty")
    path = fact_dir() / f"{name}.{kind}.sql"
    if not path.is_file():
        raise InputError(f"{path} is missing (every fact table has a .load.sql and a .delete.sql)")
    values = {"database": database, "first_day": first.strftime("%Y/%m/%d"), "last_day": last.strftime("%Y/%m/%d"),
              "first_date": first.isoformat(), "last_date": last.isoformat()}
    return render(path.read_text(encoding="utf-8"), values, str(path)).strip().rstrip(";")


def fact_drop(name: str, database: str) -> str:
    """The fact table's DROP statement (sql/facts/<name>.drop.sql), rendered."""
    path = fact_dir() / f"{name}.drop.sql"
    if not path.is_file():
        raise InputError(f"{path} is missing")
    return render(path.read_text(encoding="utf-8"), {"database": database}, str(path)).strip().rstrip(";")


def _split_s3(uri: str) -> Tuple[str, str]:
    if not uri.startswith("s3://"):
        raise InputError(f"{uri}: not an s3:// location")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def _hidden(name: str) -> bool:
    # Athena skips objects whose name starts with _ or . (https://docs.aws.amazon.com/athena/latest/ug/tables-location-format.html)
    return name.startswith(("_", "."))


def listed_days(s3: Any, sources: FactSources, today: date) -> Dict[date, Set[str]]:
    """day folder -> the s3:// paths of the report files under it, for every projected region and day."""
    days: Dict[date, Set[str]] = {}
    for location in sources.locations:
        bucket, root = _split_s3(location)
        for region in sources.regions:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{root}{region}/"):
                for item in page.get("Contents", []):
                    match = _DAY_KEY.match(item["Key"][len(root):])
                    if not match or _hidden(item["Key"].rsplit("/", 1)[-1]) or item["Key"].endswith("/"):
                        continue
                    try:
                        day = date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
                    except ValueError:
                        continue  # not a day folder: the projection would not read it either
                    if sources.first_day <= day <= today:
                        days.setdefault(day, set()).add(f"s3://{bucket}/{item['Key']}")
    return days


def loaded_days(rows: Iterable[Mapping[str, Optional[str]]]) -> Dict[date, Set[str]]:
    """day -> source paths, from the rows of sql/queries/fact_files.sql."""
    days: Dict[date, Set[str]] = {}
    for row in rows:
        if row.get("source_day") and row.get("source_path"):
            days.setdefault(date.fromisoformat(str(row["source_day"])), set()).add(str(row["source_path"]))
    return days


def changed_days(listed: Mapping[date, Set[str]], loaded: Mapping[date, Set[str]]) -> List[date]:
    """Days whose files differ from what their facts were loaded from: new, re-sent (a new file) or removed."""
    return sorted(day for day in set(listed) | set(loaded) if listed.get(day, set()) != loaded.get(day, set()))


def day_ranges(days: Iterable[date], max_days: int = MAX_DAYS) -> List[Tuple[date, date]]:
    """Consecutive days as (first, last) ranges of at most max_days each."""
    ranges: List[Tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1) and (day - ranges[-1][0]).days < max_days:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def refresh_facts(athena: Any, s3: Any, database: str, workgroup: str, sources: FactSources, today: date,
                  timeout: float = 600, clock: Clock = DEFAULT_CLOCK, call: Optional[Call] = None) -> FactsRefresh:
    """Load every day folder whose files changed into every fact table (DELETE, then INSERT), oldest first."""
    listed = listed_days(s3, sources, today)
    names = fact_names()
    # Every fact table is loaded from the same lines in the same statements' range, so one table's files tell.
    rows = run_query(athena, load_query(FACT_FILES_QUERY), workgroup, database, "the files the facts were loaded from",
                     timeout, clock, call)
    days = changed_days(listed, loaded_days(rows))
    ranges = day_ranges(days)
    for first, last in ranges:
        for name in names:
            for kind in STATEMENTS:
                run_query(athena, fact_statement(name, kind, database, first, last), workgroup, database,
                          f"{name} {kind} {first}..{last}", timeout, clock, call)
        log.info("facts: loaded %s .. %s", first, last)
    return FactsRefresh(days_listed=len(listed), days_loaded=days, ranges=ranges)
