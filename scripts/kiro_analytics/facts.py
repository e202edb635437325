"""Keep the fact tables (sql/facts/) in step with the report files: load only the day folders whose files are new,
re-sent or gone, at most MAX_DAYS per statement.

Step 5 (backfill after creating the tables) and the daily Lambda ({"action": "facts"} on the sync's schedule) run
the same refresh_facts. A day folder is compared by the set of report files S3 lists under it (one ListObjectsV2
pass over the raw tables' locations) against the set of source paths its facts were loaded from (one small Athena
query over two columns of the facts): any difference reloads the day, DELETE then INSERT, so a re-sent export of
an old day replaces that day's facts and a rerun loads nothing.

A report file with no lines (0 bytes, an empty .gz, blank lines) leaves nothing in the facts, so the fact_files query
can never show it loaded: after a load, the files of the loaded days that the facts do not hold are noted with their
ETag in a small JSON object beside the tables (FactSources.state, outside every table's folder, which VACUUM's orphan
removal would clear), and count as loaded while their ETag is unchanged.

Iceberg maintenance follows each load: OPTIMIZE ... REWRITE DATA USING BIN_PACK over the days just loaded (DELETE
leaves delete files there; https://docs.aws.amazon.com/athena/latest/ug/optimize-statement.html, charged by what it
rewrites, so the WHERE keeps it to those days' partitions), then one VACUUM (snapshot expiry and orphan removal,
https://docs.aws.amazon.com/athena/latest/ug/vacuum-statement.html).

The Lambda passes ``remaining`` (its context's remaining time): a range starts only when the time a range of its size
took so far, plus RESERVE, is left, and a query is stopped before the deadline, so a large reload ends with the days
it did not reach said and left for the next run, which finds them changed. Step 5 passes none and loads everything.

Ships inside the Lambda: the standard library, athena.py and templating.py only (no yaml, pyathena or duckdb).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from .athena import Call, direct_call, fetch_rows, load_query, start_query, wait_for_query
from .errors import InputError, StepFailed, error_code
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
# Statements over a day range (delete, load, optimize) and over the whole table (vacuum), one file each.
RANGED = ("delete", "load", "optimize")
WHOLE = ("vacuum", "drop")
# Seconds kept back under a deadline for what follows the last range: the check of what was loaded, VACUUM, the note.
RESERVE = 120.0
# A range's first estimate, before one has been timed (a delete, a load and an optimize of a day or a few).
FIRST_RANGE_SECONDS = 90.0
STATE_VERSION = 1
# The facts loaded per day folder, in this order: the parse (report_lines) into report_line_facts, then those days'
# model cells in long form (model_message_facts, loaded from the line facts just written). Every other table of
# sql/facts/ is an aggregate of them (user_month_facts, user_active_days), loaded per month from the views over
# them, since a month's rows depend on all its days: after day folders are loaded, every month their lines reported
# on, before or after, is reloaded.
LINE_FACTS = ("report_line_facts", "model_message_facts")


@dataclass(frozen=True)
class FactSources:
    """Where the raw tables read (their LOCATIONs), which region folders and from which day: what the partition
    projection of sql/tables/ covers, so the refresh lists exactly the files Athena would read."""
    locations: Tuple[str, ...]
    regions: Tuple[str, ...]
    first_day: date
    # s3:// URI of the loader's note of report files that hold no line (empty: no note is kept).
    state: str = ""

    def to_json(self) -> str:
        value = {"locations": list(self.locations), "regions": list(self.regions),
                 "first_day": self.first_day.isoformat()}
        if self.state:
            value["state"] = self.state
        return json.dumps(value, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "FactSources":
        try:
            value = json.loads(text)
            return FactSources(locations=tuple(value["locations"]), regions=tuple(value["regions"]),
                               first_day=date.fromisoformat(value["first_day"]), state=str(value.get("state", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"FACT_SOURCES is not the JSON the stack writes ({exc}); redeploy the stack") from None


def _spans(ranges: Iterable[Tuple[date, date]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in ranges)


def _months(ranges: Iterable[Tuple[date, date]]) -> str:
    return ", ".join(f"{a:%Y-%m}" if (a.year, a.month) == (b.year, b.month) else f"{a:%Y-%m}..{b:%Y-%m}"
                     for a, b in ranges)


@dataclass(frozen=True)
class FactsRefresh:
    days_listed: int
    days_loaded: List[date] = field(default_factory=list)
    ranges: List[Tuple[date, date]] = field(default_factory=list)
    # Changed days a deadline left for the next run (which finds them changed still), as ranges.
    days_left: List[date] = field(default_factory=list)
    left_ranges: List[Tuple[date, date]] = field(default_factory=list)
    optimized: int = 0
    vacuumed: bool = False
    files_without_lines: int = 0
    # The months the aggregate facts were reloaded for, as (first day, last day) ranges.
    month_ranges: List[Tuple[date, date]] = field(default_factory=list)
    # The months the loaded folders touch (facts.touched_months), reloaded or not: step 5 reloads them itself.
    months_touched: List[date] = field(default_factory=list)

    def summary(self) -> str:
        if not self.days_loaded and not self.days_left:
            return f"facts: unchanged ({self.days_listed} day folder(s) current)"
        text = (f"facts: {len(self.days_loaded)} day(s) loaded ({_spans(self.ranges) or 'none'}) "
                f"of {self.days_listed}")
        if self.days_loaded:
            text += f"; optimized {self.optimized} range(s)" + ("; vacuumed" if self.vacuumed else "; vacuum not run")
        if self.month_ranges:
            text += f"; aggregates reloaded for {_months(self.month_ranges)}"
        if self.days_left:
            text += (f"; {len(self.days_left)} day(s) left for the next run ({_spans(self.left_ranges)}): "
                     "the function's time ran out")
        return text


def fact_dir() -> Path:
    for folder in _FACT_DIRS:
        if folder.is_dir():
            return folder
    raise InputError("sql/facts/ not found")


def fact_names() -> List[str]:
    """Every fact table, named by its CREATE file (sql/facts/<name>.sql)."""
    return sorted(path.stem for path in fact_dir().glob("*.sql") if "." not in path.stem)


def aggregate_names() -> List[str]:
    """The aggregate fact tables (every fact table but the line facts), in file-name order."""
    return [name for name in fact_names() if name not in LINE_FACTS]


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    if day.month == 12:  # also keeps 9999-12 (an open end) from overflowing
        return day.replace(day=31)
    return day.replace(month=day.month + 1, day=1) - timedelta(days=1)


def month_ranges(months: Iterable[date], max_months: int = MAX_DAYS) -> List[Tuple[date, date]]:
    """Consecutive months (any day of each) as (first day of the first, last day of the last) ranges of at most
    max_months months each (an aggregate is partitioned by month: Athena's 100 partitions per INSERT)."""
    ranges: List[Tuple[date, date]] = []
    count = 0
    for first in sorted({month_start(day) for day in months}):
        if ranges and first == ranges[-1][1] + timedelta(days=1) and count < max_months:
            ranges[-1] = (ranges[-1][0], month_end(first))
            count += 1
        else:
            ranges.append((first, month_end(first)))
            count = 1
    return ranges


def touched_months(days: Iterable[date], *rows: Iterable[Mapping[str, Optional[str]]]) -> List[date]:
    """The months (their first days) an aggregate must reload after the day folders ``days`` were loaded: each
    folder's own month, and every month the lines of those folders report on, from fact_files rows taken before
    the load (lines since replaced or removed) and after it."""
    folders = set(days)
    months = {month_start(day) for day in folders}
    for batch in rows:
        for row in batch:
            if not row.get("source_day") or date.fromisoformat(str(row["source_day"])) not in folders:
                continue
            low, high = row.get("first_activity_date"), row.get("last_activity_date")
            if low and high:
                month = month_start(date.fromisoformat(str(low)))
                while month <= date.fromisoformat(str(high)):
                    months.add(month)
                    month = month_end(month) + timedelta(days=1)
    return sorted(months)


def fact_statement(name: str, kind: str, database: str, first: date, last: date) -> str:
    """The fact table's delete, load or optimize statement for the day folders first .. last (inclusive), rendered."""
    if kind not in RANGED:
        raise InputError(f"unknown fact statement {kind!r}")
    if last < first:
        raise InputError(f"sql/facts/{name}.{kind}.sql: day range {first} .. {last} is empty")
    path = fact_dir() / f"{name}.{kind}.sql"
    if not path.is_file():
        raise InputError(f"{path} is missing (every fact table has a .load.sql, .delete.sql and .optimize.sql)")
    values = {"database": database, "first_day": first.strftime("%Y/%m/%d"), "last_day": last.strftime("%Y/%m/%d"),
              "first_date": first.isoformat(), "last_date": last.isoformat()}
    return render(path.read_text(encoding="utf-8"), values, str(path)).strip().rstrip(";")


def fact_whole(name: str, kind: str, database: str) -> str:
    """The fact table's DROP or VACUUM statement (sql/facts/<name>.<kind>.sql), rendered."""
    if kind not in WHOLE:
        raise InputError(f"unknown fact statement {kind!r}")
    path = fact_dir() / f"{name}.{kind}.sql"
    if not path.is_file():
        raise InputError(f"{path} is missing")
    return render(path.read_text(encoding="utf-8"), {"database": database}, str(path)).strip().rstrip(";")


def fact_drop(name: str, database: str) -> str:
    """The fact table's DROP statement (sql/facts/<name>.drop.sql), rendered."""
    return fact_whole(name, "drop", database)


def _split_s3(uri: str) -> Tuple[str, str]:
    if not uri.startswith("s3://"):
        raise InputError(f"{uri}: not an s3:// location")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def _hidden(name: str) -> bool:
    # Athena skips objects whose name starts with _ or . (https://docs.aws.amazon.com/athena/latest/ug/tables-location-format.html)
    return name.startswith(("_", "."))


def listed_files(s3: Any, sources: FactSources, today: date) -> Dict[date, Dict[str, "Listed"]]:
    """day folder -> {s3:// path: its ETag and size} of the report files under it, for every projected region and
    day (what Athena reads)."""
    days: Dict[date, Dict[str, Listed]] = {}
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
                        days.setdefault(day, {})[f"s3://{bucket}/{item['Key']}"] = Listed(
                            etag=str(item.get("ETag", "")), size=int(item.get("Size", 0)))
    return days


@dataclass(frozen=True)
class Listed:
    etag: str
    size: int


def listed_days(s3: Any, sources: FactSources, today: date) -> Dict[date, Set[str]]:
    """day folder -> the s3:// paths of the report files under it, for every projected region and day."""
    return {day: set(files) for day, files in listed_files(s3, sources, today).items()}


def loaded_days(rows: Iterable[Mapping[str, Optional[str]]]) -> Dict[date, Set[str]]:
    """day -> source paths, from the rows of sql/queries/fact_files.sql."""
    days: Dict[date, Set[str]] = {}
    for row in rows:
        if row.get("source_day") and row.get("source_path"):
            days.setdefault(date.fromisoformat(str(row["source_day"])), set()).add(str(row["source_path"]))
    return days


def changed_days(listed: Mapping[date, Iterable[str]], loaded: Mapping[date, Set[str]],
                 without_lines: Iterable[str] = ()) -> List[date]:
    """Days whose files differ from what their facts were loaded from: new, re-sent (a new file) or removed. A file
    known to hold no line (``without_lines``) counts as loaded: it can never appear in the facts."""
    none = set(without_lines)
    return sorted(day for day in set(listed) | set(loaded)
                  if set(listed.get(day, ())) - none != loaded.get(day, set()) - none)


def day_ranges(days: Iterable[date], max_days: int = MAX_DAYS) -> List[Tuple[date, date]]:
    """Consecutive days as (first, last) ranges of at most max_days each."""
    ranges: List[Tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1) and (day - ranges[-1][0]).days < max_days:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


# ---------------------------------------------------------------------------------------------------------------
# The note of files without lines
# ---------------------------------------------------------------------------------------------------------------

def read_state(s3: Any, uri: str) -> Dict[str, str]:
    """path -> ETag of the report files a load found without lines; {} when there is no note (or no place for one).
    The note only saves reloads: a missing or unreadable one costs a reload of those days, never a wrong number."""
    if not uri:
        return {}
    bucket, key = _split_s3(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        # No note yet; or no results bucket yet, in a dry run before step 1 created it.
        if error_code(exc) in ("NoSuchKey", "404", "NoSuchBucket"):
            return {}
        raise
    try:
        value = json.loads(body)
        files = value["files"] if value.get("version") == STATE_VERSION else {}
        return {str(path): str(etag) for path, etag in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("facts: %s is not the loader's note; ignoring it (its days are checked again)", uri)
        return {}


def write_state(s3: Any, uri: str, files: Mapping[str, str], call: Call) -> None:
    bucket, key = _split_s3(uri)
    body = json.dumps({"version": STATE_VERSION, "files": dict(sorted(files.items()))}, indent=1)
    call(s3, "PutObject", Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/json")


def known_without_lines(listing: Mapping[date, Mapping[str, Listed]], state: Mapping[str, str]) -> Dict[str, str]:
    """The listed files that hold no line: 0 bytes, or noted by a load with the ETag they still have."""
    return {path: item.etag for files in listing.values() for path, item in files.items()
            if item.size == 0 or (path in state and state[path] == item.etag)}


# ---------------------------------------------------------------------------------------------------------------
# Running the statements, within a deadline when there is one
# ---------------------------------------------------------------------------------------------------------------

class OutOfTime(Exception):
    """A query would outlive the function: it was stopped, and what it was part of is left for the next run."""


@dataclass
class _Runner:
    athena: Any
    database: str
    workgroup: str
    timeout: float
    clock: Clock
    call: Optional[Call]
    remaining: Optional[Callable[[], float]]

    def left(self) -> float:
        return float("inf") if self.remaining is None else self.remaining()

    def elapsed(self) -> float:
        """A moment to time a range by: the deadline's own countdown when there is one (the Lambda's context)."""
        return self.clock.now() if self.remaining is None else -self.remaining()

    def rows(self, sql: str, what: str, keep: float = 0.0) -> Optional[List[Dict[str, Optional[str]]]]:
        """Run one statement; its rows, or None in a dry run (nothing was sent). Under a deadline the wait ends
        ``keep`` seconds before it and the query is stopped, so no write commits after the function is gone."""
        limit = min(self.timeout, self.left() - keep)
        if limit <= 0:
            raise OutOfTime(f"{what}: not started, the function's time is running out")
        query_id = start_query(self.athena, sql, self.workgroup, self.database, self.call)
        if not query_id:
            return None
        try:
            wait_for_query(self.athena, query_id, what, limit, self.clock)
        except StepFailed as exc:
            if "timed out" not in str(exc):
                raise  # Athena's own failure, with its reason
            # A write left running could commit after the next run began; stop it (an Iceberg commit is atomic).
            (self.call or direct_call)(self.athena, "StopQueryExecution", QueryExecutionId=query_id)
            if self.remaining is None or limit == self.timeout:
                raise
            raise OutOfTime(f"{what}: stopped before the function's deadline") from None
        return fetch_rows(self.athena, query_id)


def refresh_facts(athena: Any, s3: Any, database: str, workgroup: str, sources: FactSources, today: date,
                  timeout: float = 600, clock: Clock = DEFAULT_CLOCK, call: Optional[Call] = None,
                  remaining: Optional[Callable[[], float]] = None, with_aggregates: bool = True) -> FactsRefresh:
    """Load every day folder whose files changed into the line facts (DELETE, INSERT, then OPTIMIZE those days),
    oldest first; then the aggregates for every month those folders report on (``with_aggregates``: step 5 loads
    them after its views instead, reload_aggregates); then one VACUUM, and note the loaded days' files that hold no
    line.

    ``remaining`` (seconds left, the Lambda context's) bounds the run: see the module's text."""
    runner = _Runner(athena, database, workgroup, timeout, clock, call, remaining)
    listing = listed_files(s3, sources, today)
    present = set(fact_names())
    names = [name for name in LINE_FACTS if name in present]  # LINE_FACTS' order: the model cells' load reads
    aggregates = aggregate_names() if with_aggregates else []
    state = read_state(s3, sources.state)
    without = known_without_lines(listing, state)
    # Every fact table is loaded from the same lines in the same statements' range, so one table's files tell.
    rows = runner.rows(load_query(FACT_FILES_QUERY), "the files the facts were loaded from", keep=RESERVE) or []
    days = changed_days({day: set(files) for day, files in listing.items()}, loaded_days(rows), without)
    ranges = day_ranges(days)
    done, optimized, reloaded = _load_ranges(runner, names, aggregates, database, ranges, rows)
    loaded = [day for day in days if any(a <= day <= b for a, b in done)]
    left = [day for day in days if day not in loaded]
    if ranges and not done:
        # No progress at all: the next run would stop at the same place, every day, in silence. Fail, so the
        # function's errors alarm says it.
        raise StepFailed(f"facts: not even {_spans(ranges[:1])} could be loaded before the function's time ran out "
                         f"({len(left)} changed day(s) wait: {_spans(day_ranges(left))}); load them with step 5 "
                         "(./deploy.sh --only 5), which has no time limit")
    held = _held_after(runner) if loaded else None
    touched = touched_months(loaded, rows, held or [])
    if held and aggregates:
        # A loaded folder whose new lines report on a month no range reloaded (a file in another day's folder).
        extra = sorted(set(touched_months(loaded, held)) - set(reloaded))
        if extra:
            _load_aggregates(runner, aggregates, database, month_ranges(extra))
            reloaded |= set(extra)
    months = month_ranges(reloaded)
    vacuumed = bool(done) and _vacuum(runner, names + (aggregates if months else []), database)
    noted = _note_without_lines(runner, s3, sources, listing, state, without, loaded, held, call)
    return FactsRefresh(days_listed=len(listing), days_loaded=loaded, ranges=done, days_left=left,
                        left_ranges=day_ranges(left), optimized=optimized, vacuumed=vacuumed,
                        files_without_lines=noted, month_ranges=months, months_touched=touched)


def reload_aggregates(athena: Any, database: str, workgroup: str, first: date, last: date, timeout: float = 600,
                      clock: Clock = DEFAULT_CLOCK, call: Optional[Call] = None) -> List[Tuple[date, date]]:
    """Reload every month of the aggregate facts from ``first`` to ``last`` (step 5, after it replaced the views:
    they hold what the views compute with the deployed config), then VACUUM them. Returns the month ranges."""
    return reload_aggregates_months(athena, database, workgroup, _month_days(first, last), timeout, clock, call)


def reload_aggregates_months(athena: Any, database: str, workgroup: str, months: Iterable[date],
                             timeout: float = 600, clock: Clock = DEFAULT_CLOCK,
                             call: Optional[Call] = None) -> List[Tuple[date, date]]:
    """Reload the aggregate facts for these months (any day of each), then VACUUM them. Returns the month ranges."""
    runner = _Runner(athena, database, workgroup, timeout, clock, call, None)
    names = aggregate_names()
    ranges = month_ranges(months)
    _load_aggregates(runner, names, database, ranges)
    _vacuum(runner, names, database)
    return ranges


def _month_days(first: date, last: date) -> List[date]:
    days, month = [], month_start(first)
    while month <= last:
        days.append(month)
        month = month_end(month) + timedelta(days=1)
    return days


def _held_after(runner: "_Runner") -> Optional[List[Dict[str, Optional[str]]]]:
    """The fact_files rows after a load (None in a dry run, or with no time left to look)."""
    try:
        return runner.rows(load_query(FACT_FILES_QUERY), "the files the facts hold after the load", keep=10.0)
    except OutOfTime:
        return None


def _load_aggregates(runner: "_Runner", names: List[str], database: str, months: List[Tuple[date, date]]) -> None:
    """DELETE, INSERT and OPTIMIZE each aggregate over each month range. The day folders are loaded by now, and a
    later run finds them current, so an aggregate left behind would stay stale in silence: out of time, this fails
    naming step 5, which reloads every month."""
    try:
        for first, last in months:
            for name in names:
                for kind in (*STATEMENTS, "optimize"):
                    runner.rows(fact_statement(name, kind, runner.database, first, last),
                                f"{name} {kind} {first:%Y-%m}..{last:%Y-%m}", keep=RESERVE / 2)
    except OutOfTime:
        raise StepFailed(f"facts: the aggregates of {_months(months)} could not be reloaded before the function's "
                         "time ran out; reload them with step 5 (./deploy.sh --only 5)") from None


def _load_ranges(runner: _Runner, names: List[str], aggregates: List[str], database: str,
                 ranges: List[Tuple[date, date]], before: List[Dict[str, Optional[str]]],
                 ) -> Tuple[List[Tuple[date, date]], int, Set[date]]:
    """DELETE and INSERT each range in turn into the line facts, then the aggregates for the months it touches
    (touched_months, from the fact_files rows taken ``before``), then OPTIMIZE, while the deadline leaves room for
    one more; returns the ranges loaded, how many of them were compacted, and the months reloaded."""
    done: List[Tuple[date, date]] = []
    reloaded: Set[date] = set()
    per_day = 0.0  # the slowest range so far, in seconds per day
    optimized = 0
    for first, last in ranges:
        size = (last - first).days + 1
        needed = max(FIRST_RANGE_SECONDS if not done else 0.0, per_day * size)
        if runner.left() < needed + RESERVE:
            break
        started = runner.elapsed()
        try:
            for name in names:
                for kind in STATEMENTS:
                    runner.rows(fact_statement(name, kind, database, first, last), f"{name} {kind} {first}..{last}",
                                keep=RESERVE)
        except OutOfTime:
            log.warning("facts: stopped in %s .. %s: the function's time is running out", first, last)
            break
        done.append((first, last))
        log.info("facts: loaded %s .. %s", first, last)
        months = [month for month in touched_months(
            [first + timedelta(days=n) for n in range(size)], before) if month not in reloaded]
        if aggregates and months:
            _load_aggregates(runner, aggregates, database, month_ranges(months))
            reloaded.update(months)
        try:
            for name in names:
                runner.rows(fact_statement(name, "optimize", database, first, last), f"{name} optimize {first}..{last}",
                            keep=RESERVE)
            optimized += 1
        except OutOfTime:
            log.warning("facts: OPTIMIZE of %s .. %s stopped (time); the next load of those days compacts them",
                        first, last)
            break
        per_day = max(per_day, (runner.elapsed() - started) / size)
    return done, optimized, reloaded


def _vacuum(runner: _Runner, names: List[str], database: str) -> bool:
    """Expire old snapshots and remove orphan files, after loads only (they alone add snapshots)."""
    try:
        for name in names:
            runner.rows(fact_whole(name, "vacuum", database), f"{name} vacuum", keep=30.0)
    except OutOfTime:
        log.warning("facts: VACUUM stopped (time); it runs again after the next load")
        return False
    return True


def _note_without_lines(runner: _Runner, s3: Any, sources: FactSources, listing: Mapping[date, Mapping[str, Listed]],
                        state: Mapping[str, str], without: Mapping[str, str], loaded: List[date],
                        rows: Optional[List[Dict[str, Optional[str]]]], call: Optional[Call]) -> int:
    """Note the files of the days just loaded that the facts do not hold (no line to load; ``rows``: fact_files
    after the load), and forget notes of files no longer listed; written only when the note changes. Returns how
    many files the note holds."""
    if not sources.state:
        return 0
    # Notes still true (listed, same ETag) stay; a 0-byte file needs none (its size says it).
    files = {path: etag for path, etag in without.items() if path in state}
    if loaded and rows is not None:  # None: a dry run, or no time to look; the days are checked again next run
        held = loaded_days(rows)
        for day in loaded:
            for path, item in listing.get(day, {}).items():
                if path not in held.get(day, set()) and item.size > 0:
                    files[path] = item.etag
    if files != dict(state):
        write_state(s3, sources.state, files, call or direct_call)
    return len(files)
