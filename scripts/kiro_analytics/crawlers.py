"""Step 3: run the discovery crawlers, wait for them, and read what each crawl really did.

Reading never depends on a crawler: the raw tables project their partitions (sql/tables). A catalog-target crawler
over those tables would classify the files as CSV where the tables say text with a U+0001 delimiter; Glue treats
classification, compression and delimiter as fundamental, marks the table deprecated, adds no partition, and still
reports the crawl SUCCEEDED (https://github.com/aws-solutions-library-samples/cloud-intelligence-dashboards-data-
collection/issues/463). So the crawlers do a job that works on the real files: each crawls one report family's
folder into a table of its own (names.discovery_table), which shows the columns Kiro writes and when they drift;
no view reads it, and the crawler role can write nothing else.

A crawl's status alone proves nothing, so each finished crawl is read back: GetCrawlerMetrics (tables created,
updated, deleted: https://docs.aws.amazon.com/glue/latest/webapi/API_CrawlerMetrics.html), its discovery table
(missing, or deprecated: the DEPRECATED_BY_CRAWLER parameter) and the WARN/ERROR lines of its CloudWatch log stream
(LastCrawl.LogGroup/LogStream). A deprecated table, a crawl that left no table at all, or one that split its family
into several tables (every table it wrote carries UPDATED_BY_CRAWLER; Glue makes a table per folder when the files'
schemas are unalike: https://docs.aws.amazon.com/glue/latest/dg/crawler-s3-folder-table-partition.html) fails the
step with those lines and the metrics; a crawl that changed nothing says so.

A crawler that is already running (its schedule fired, or another deploy started it) is waited for, not an error.
A crawler whose last crawl succeeded after the newest report file arrived, and whose table is sound, is not started:
a rerun changes nothing, and one on the day of the first delivery still crawls that day's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, List, Optional

from .config import Config
from .errors import StepFailed
from .names import CRAWLER_FOLDERS, Names, discovery_table
from .progress import DEFAULT_CLOCK, Clock, wait_until
from .report_location import newest_delivery

CRAWL_TIMEOUT = 30 * 60
DEPRECATED = "DEPRECATED_BY_CRAWLER"
UPDATED_BY = "UPDATED_BY_CRAWLER"  # the parameter Glue sets on every table a crawler creates or updates
LOG_MARKERS = ("WARN", "ERROR")
MAX_LOG_LINES = 5
LAST_MODIFIED_RESOLUTION = timedelta(seconds=1)


@dataclass
class Crawl:
    """What one crawler did this run (how: started | was running | current | would start …)."""
    name: str
    how: str
    table: str
    columns: int = 0
    created: int = 0
    updated: int = 0
    new_columns: Optional[List[str]] = None

    def summary(self) -> str:
        if self.how == "current":
            return f"{self.name} current ({self.table}, {self.columns} columns)"
        if self.how.startswith("would"):
            return f"{self.name} {self.how}"
        change = (f"{self.created} table(s) created, {self.updated} updated" if self.created or self.updated
                  else "nothing changed since its last crawl")
        drift = f"; new columns: {', '.join(self.new_columns)}" if self.new_columns else ""
        return f"{self.name} {self.how}, succeeded: {self.table} {self.columns} columns ({change}){drift}"


def _crawler_or_none(glue: Any, name: str) -> Optional[Dict[str, Any]]:
    try:
        return glue.get_crawler(Name=name)["Crawler"]
    except glue.exceptions.EntityNotFoundException:
        return None


def _not_deployed(name: str) -> StepFailed:
    return StepFailed(f"crawler {name} does not exist: run step 1 (./deploy.sh --only 1) first")


def _crawler(glue: Any, name: str) -> Dict[str, Any]:
    crawler = _crawler_or_none(glue, name)
    if crawler is None:
        raise _not_deployed(name)
    return crawler


def _start_time(crawler: Dict[str, Any]) -> Optional[Any]:
    return (crawler.get("LastCrawl") or {}).get("StartTime")


def _table(glue: Any, database: str, name: str) -> Optional[Dict[str, Any]]:
    try:
        return glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None


def _is_current(glue: Any, s3: Any, config: Config, names: Names, family: str, crawler: Dict[str, Any]) -> bool:
    """Succeeded before, after the newest report file was written, and left a sound table: nothing to crawl."""
    last = crawler.get("LastCrawl") or {}
    if crawler.get("State") != "READY" or last.get("Status") != "SUCCEEDED":
        return False
    table = _table(glue, names.database, discovery_table(family))
    if table is None or DEPRECATED in (table.get("Parameters") or {}):
        return False
    if set(_tables_by_crawler(glue, names.database).get(crawler["Name"], [])) - {discovery_table(family)}:
        return False  # an earlier crawl split the family: crawl again, so the review reports it until it is fixed
    newest = newest_delivery(s3, config.bucket_name, f"{config.report_root}{CRAWLER_FOLDERS[family]}")
    # LastModified has whole seconds: a file of the crawl's own second may be newer than the crawl.
    return newest is None or newest + LAST_MODIFIED_RESOLUTION <= last["StartTime"]


def _log_lines(logs: Any, crawl: Dict[str, Any]) -> List[str]:
    """The crawl's own WARN/ERROR lines from its CloudWatch log stream (the crawler's name, in /aws-glue/crawlers)."""
    if logs is None or not crawl.get("LogGroup") or not crawl.get("LogStream"):
        return []
    start = int(crawl["StartTime"].timestamp() * 1000) if crawl.get("StartTime") else 0
    lines: List[str] = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(
                logGroupName=crawl["LogGroup"], logStreamNames=[crawl["LogStream"]], startTime=start):
            lines += [event["message"].strip() for event in page.get("events", [])
                      if any(marker in event.get("message", "") for marker in LOG_MARKERS)]
    except logs.exceptions.ResourceNotFoundException:
        return []  # no log stream yet: the crawl logged nothing
    return lines[:MAX_LOG_LINES]


def _new_columns(glue: Any, database: str, table: str) -> Optional[List[str]]:
    """Columns the newest version of a discovery table has and the one before did not (None: no earlier one)."""
    versions = glue.get_table_versions(DatabaseName=database, TableName=table, MaxResults=2).get("TableVersions", [])
    if len(versions) < 2:
        return None
    ordered = sorted(versions, key=lambda version: int(version.get("VersionId", "0")), reverse=True)
    newest, before = ({c["Name"] for c in v["Table"].get("StorageDescriptor", {}).get("Columns", [])}
                      for v in ordered[:2])
    return sorted(newest - before)


def _tables_by_crawler(glue: Any, database: str) -> Dict[str, List[str]]:
    """Crawler name → the tables of the database it wrote (Glue marks them with the UPDATED_BY_CRAWLER parameter)."""
    found: Dict[str, List[str]] = {}
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for table in page.get("TableList", []):
            crawler = (table.get("Parameters") or {}).get(UPDATED_BY)
            if crawler:
                found.setdefault(crawler, []).append(table["Name"])
    return found


def _split_problem(name: str, database: str, table_name: str, tables: List[str], record: Dict[str, Any],
                   where: str, log_text: str) -> str:
    counts = ", ".join(f"{key} {int(record.get(key, 0))}" for key in ("TablesCreated", "TablesUpdated",
                                                                       "TablesDeleted"))
    extra = [table for table in tables if table != table_name]
    count = max(len(tables), int(record.get("TablesCreated", 0)))
    return (f"{name}: the crawl SUCCEEDED but split one report family into {count} tables instead of "
            f"{database}.{table_name}: {', '.join(tables)} (GetCrawlerMetrics: {counts}; {where}). Glue makes one "
            "table of a folder only while its files' format, compression and schemas are alike, else a table per "
            "folder (https://docs.aws.amazon.com/glue/latest/dg/crawler-s3-folder-table-partition.html). Find the "
            "odd files in its log, then delete the extra tables (aws glue batch-delete-table --database-name "
            f"{database} --tables-to-delete {' '.join(extra)}) and rerun step 3.{log_text}")


def review(glue: Any, logs: Any, names: Names, finished: Dict[str, Dict[str, Any]],
           how: Dict[str, str]) -> Dict[str, Crawl]:
    """Read back what each finished crawl did; raise StepFailed naming every crawl that left no sound table, or
    several tables where its family should have one."""
    metrics = {item["CrawlerName"]: item for item in glue.get_crawler_metrics(
        CrawlerNameList=sorted(finished)).get("CrawlerMetricsList", [])}
    families = {name: family for family, name in names.crawlers.items()}
    written = _tables_by_crawler(glue, names.database)
    outcome: Dict[str, Crawl] = {}
    problems: List[str] = []
    for name, crawl in sorted(finished.items()):
        table_name = discovery_table(families[name])
        table = _table(glue, names.database, table_name)
        record = metrics.get(name, {})
        result = Crawl(name=name, how=how[name], table=table_name, created=int(record.get("TablesCreated", 0)),
                       updated=int(record.get("TablesUpdated", 0)))
        where = f"log group {crawl.get('LogGroup', '/aws-glue/crawlers')}, stream {crawl.get('LogStream', name)}"
        lines = _log_lines(logs, crawl)
        log_text = "".join(f"\n      {line}" for line in lines) or f"\n      (no WARN or ERROR lines in {where})"
        tables = sorted(set(written.get(name, [])) | ({table_name} if table is not None else set()))
        if any(other != table_name for other in tables) or result.created > 1:
            # Tables other than its own, or more than one created: the family was split (a table per folder).
            problems.append(_split_problem(name, names.database, table_name, tables, record, where, log_text))
        elif table is None:
            problems.append(f"{name}: the crawl SUCCEEDED but added nothing: no table {names.database}.{table_name} "
                            f"({where}). Check that report files exist under its S3 target and that its role may "
                            f"read them (and, under Lake Formation, step 2's grants).{log_text}")
        elif DEPRECATED in (table.get("Parameters") or {}):
            problems.append(f"{name}: the crawl SUCCEEDED but left {names.database}.{table_name} deprecated "
                            f"({DEPRECATED}): Glue could not merge what it found ({where}).{log_text}")
        else:
            result.columns = len(table.get("StorageDescriptor", {}).get("Columns", []))
            result.new_columns = _new_columns(glue, names.database, table_name) if result.updated else None
        outcome[name] = result
    if problems:
        raise StepFailed("crawl(s) need attention (the dashboard's data does not depend on them: the raw tables "
                         "project their partitions; fix this, or continue with ./deploy.sh --from 4):\n"
                         + "\n".join(f"  - {line}" for line in problems))
    return outcome


def run_crawlers(glue: Any, recorder: Any, names: Names, config: Config, s3: Any, logs: Any = None,
                 timeout: float = CRAWL_TIMEOUT, clock: Clock = DEFAULT_CLOCK) -> Dict[str, Crawl]:
    """Returns crawler name → Crawl once every crawl finished; raises on a failed or unsound crawl."""
    before: Dict[str, Optional[Any]] = {}
    how: Dict[str, str] = {}
    outcome: Dict[str, Crawl] = {}
    for family, name in names.crawlers.items():
        table = discovery_table(family)
        crawler = _crawler_or_none(glue, name)
        if crawler is None and recorder.dry_run:
            outcome[name] = Crawl(name, "would start once step 1 has created it", table)
            continue
        if crawler is None:
            raise _not_deployed(name)
        before[name] = _start_time(crawler)
        if _is_current(glue, s3, config, names, family, crawler):
            found = _table(glue, names.database, table) or {}
            outcome[name] = Crawl(name, "current", table, columns=len(
                found.get("StorageDescriptor", {}).get("Columns", [])))
            continue
        if crawler.get("State") == "READY":
            try:
                recorder.call(glue, "StartCrawler", Name=name)
                how[name] = "started"
            except glue.exceptions.CrawlerRunningException:
                how[name] = "was running"
        else:
            how[name] = "was running"
            before[name] = None  # its current crawl is the one to wait for
    if recorder.dry_run:
        return {**outcome, **{name: Crawl(name, "would start", "") for name in how}}
    if not how:
        return outcome

    finished: Dict[str, Dict[str, Any]] = {}

    def poll():
        states = []
        for name in how:
            if name in finished:
                continue
            crawler = _crawler(glue, name)
            started = _start_time(crawler)
            if crawler.get("State") == "READY" and started is not None and (before[name] is None
                                                                            or started > before[name]):
                finished[name] = crawler["LastCrawl"]
            else:
                states.append(f"{name} {crawler.get('State', '?')}")
        done = len(finished) == len(how)
        return done, ", ".join(states) or "all finished", None

    wait_until(poll, f"{len(how)} crawler(s)", timeout=timeout, interval=15, clock=clock,
               hint="The crawlers keep running in Glue; rerun step 3 to wait again (it does not start them twice).")
    failures = [f"{name}: {crawl.get('Status')}: {crawl.get('ErrorMessage') or 'no message'} "
                f"(log group {crawl.get('LogGroup', '/aws-glue/crawlers')}, stream {crawl.get('LogStream', name)})"
                for name, crawl in sorted(finished.items()) if crawl.get("Status") != "SUCCEEDED"]
    if failures:
        raise StepFailed("crawler(s) failed:\n" + "\n".join(f"  - {line}" for line in failures))
    return {**outcome, **review(glue, logs, names, finished, how)}
