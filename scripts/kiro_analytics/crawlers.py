"""Step 3: start every crawler at once, wait for all of them, report each one's own error message.

A crawler that is already running (its schedule fired, or another deploy started it) is waited for, not an error.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional

from .errors import StepFailed
from .names import CRAWLER_TABLES, Names
from .progress import DEFAULT_CLOCK, Clock, wait_until
from .report_location import children as _children

CRAWL_TIMEOUT = 30 * 60
RECENT_DAYS = 7  # Kiro can deliver a day or two late; a week covers it without listing a year of folders


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


def _recent_day_folders(s3: Any, location: str, today: date, days: int) -> List[List[str]]:
    """Partition values [region, YYYY, MM, DD, HH] of the day folders of the last ``days`` days under a table."""
    bucket, _, prefix = location[len("s3://"):].partition("/")
    prefix = prefix.rstrip("/") + "/"
    found: List[List[str]] = []
    for region in _children(s3, bucket, prefix):
        for offset in range(days + 1):
            day = today - timedelta(days=offset)
            day_prefix = f"{prefix}{region}/{day:%Y/%m/%d}/"
            found.extend([region, f"{day:%Y}", f"{day:%m}", f"{day:%d}", hour]
                         for hour in _children(s3, bucket, day_prefix))
    return found


def missing_partitions(glue: Any, s3: Any, database: str, tables: Iterable[str], today: date,
                       days: int = RECENT_DAYS) -> List[str]:
    """Recent day folders in S3 that a table has no partition for yet: what a crawl would add."""
    missing: List[str] = []
    for table in tables:
        location = glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"]["Location"]
        folders = _recent_day_folders(s3, location, today, days)
        for start in range(0, len(folders), 100):  # BatchGetPartition takes at most 100 values per call
            chunk = folders[start:start + 100]
            answer = glue.batch_get_partition(DatabaseName=database, TableName=table,
                                              PartitionsToGet=[{"Values": values} for values in chunk])
            have = {tuple(partition["Values"]) for partition in answer.get("Partitions", [])}
            missing.extend(f"{table}/{'/'.join(values)}" for values in chunk if tuple(values) not in have)
    return missing


def run_crawlers(glue: Any, recorder: Any, names: Names, timeout: float = CRAWL_TIMEOUT,
                 clock: Clock = DEFAULT_CLOCK, s3: Any = None, today: Optional[date] = None) -> Dict[str, str]:
    """Returns crawler name → 'started' | 'was running' | 'current', once every crawl finished; raises on failure.

    With ``s3``, a crawler that has succeeded before and whose tables already have a partition for every day
    folder of the last week is not started: a rerun of the deploy then changes nothing, and the daily schedule
    still catches late arrivals. A crawler that never succeeded always crawls, so older data gets registered.
    """
    before: Dict[str, Optional[Any]] = {}
    how: Dict[str, str] = {}
    current: Dict[str, str] = {}
    for family, name in names.crawlers.items():
        crawler = _crawler_or_none(glue, name)
        if crawler is None and recorder.dry_run:
            current[name] = "would start once step 1 has created it"
            continue
        if crawler is None:
            raise _not_deployed(name)
        before[name] = _start_time(crawler)
        crawled_before = (crawler.get("LastCrawl") or {}).get("Status") == "SUCCEEDED"
        if s3 is not None and crawler.get("State") == "READY" and crawled_before and not missing_partitions(
                glue, s3, names.database, CRAWLER_TABLES[family], today or datetime.now(timezone.utc).date()):
            current[name] = "current"
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
        return {**current, **{name: "would start" for name in how}}
    if not how:
        return current

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
    return {**current, **how}
