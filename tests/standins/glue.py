"""Crawl outcomes for moto's Glue: success or failure with the crawler's own ErrorMessage, and what a discovery
crawl leaves behind.

moto keeps a crawl RUNNING until its state transition fires and reports LastCrawl.Status as COMPLETED, which the
real service never returns (SUCCEEDED | CANCELLED | FAILED), and it has no ErrorMessage, no GetCrawlerMetrics and
no crawl that writes tables. This stand-in answers in the real enum, validated against the service model, and
does what a crawler with S3 targets does to the catalog: for each target path with CSV files, a table named
TablePrefix + the path's last folder, columns from the files' header lines (in first-seen order, lower case, as
Glue names them), one partition key per folder level below the path. A test can make a crawl fail, or leave its
table deprecated the way a real crawl does when it cannot merge what it found (the DEPRECATED_BY_CRAWLER table
parameter and a WARN line in the crawler's CloudWatch log stream, while the crawl still says SUCCEEDED:
https://github.com/aws-solutions-library-samples/cloud-intelligence-dashboards-data-collection/issues/463).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from botocore.session import get_session
from moto.core.responses import ActionResult
from moto.glue.models import FakeCrawler
from moto.glue.responses import GlueResponse
from moto.moto_api import state_manager

_GLUE = get_session().get_service_model("glue")
LAST_CRAWL_STATUS = _GLUE.shape_for("LastCrawlStatus").enum
METRIC_MEMBERS = set(_GLUE.shape_for("CrawlerMetrics").members)
DEPRECATED = "DEPRECATED_BY_CRAWLER"


class CrawlRecord:
    """What the stand-in's crawls did, per crawler: the metrics GetCrawlerMetrics reports for the last crawl."""

    def __init__(self) -> None:
        self.metrics: Dict[str, Dict[str, Any]] = {}
        self.applied: Dict[str, str] = {}  # crawler name -> the crawl id whose effect is in the catalog


def _csv_headers(bucket: Any, prefix: str) -> Tuple[List[str], int]:
    """Header columns of every *.csv under the prefix, in first-seen order, and the deepest folder level."""
    columns: List[str] = []
    depth = 0
    for key in sorted(bucket.keys):
        if not key.startswith(prefix) or not key.lower().endswith(".csv"):
            continue
        depth = max(depth, key[len(prefix):].count("/"))
        first = bucket.keys[key].value.split(b"\n", 1)[0].decode("utf-8-sig").strip()
        for column in first.replace('"', "").split(","):
            if column.strip() and column.strip().lower() not in columns:
                columns.append(column.strip().lower())
    return columns, depth


def _table_roots(bucket: Any, prefix: str, split: bool) -> List[str]:
    """The folders a crawl makes tables of: the target itself, or (a split crawl) every folder holding CSV files."""
    if not split:
        return [prefix]
    return sorted({key.rsplit("/", 1)[0] + "/" for key in bucket.keys
                   if key.startswith(prefix) and key.lower().endswith(".csv")})


def _table_name(crawler: FakeCrawler, root: str, taken: List[str]) -> str:
    """TablePrefix + the folder's name, and a hash suffix when that name is taken, as Glue names split tables."""
    name = (crawler.table_prefix or "") + root.rstrip("/").split("/")[-1].replace("-", "_").lower()
    return f"{name}_{hashlib.md5(root.encode()).hexdigest()[:8]}" if name in taken else name


def discover(crawler: FakeCrawler, split: bool = False) -> Tuple[int, int]:
    """Create or update the crawler's tables from its S3 targets; (tables created, tables updated). ``split``: the
    files' schemas were too unlike for one table, so each folder of files became a table of its own."""
    from moto.s3.models import s3_backends

    backend = crawler.backend
    created = updated = 0
    named: List[str] = []
    for target in crawler.targets.get("S3Targets", []):
        bucket_name, _, prefix = target["Path"][len("s3://"):].partition("/")
        try:
            bucket = s3_backends[backend.account_id]["aws"].get_bucket(bucket_name)
        except Exception:  # noqa: BLE001 - no bucket: the real crawl logs it and adds nothing
            continue
        for root in _table_roots(bucket, prefix, split):
            columns, depth = _csv_headers(bucket, root)
            if not columns:
                continue
            name = _table_name(crawler, root, named)
            named.append(name)
            table_input = {
                "Name": name, "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "csv", "delimiter": ",", "compressionType": "none",
                               "UPDATED_BY_CRAWLER": crawler.name},
                "PartitionKeys": [{"Name": f"partition_{level}", "Type": "string"} for level in range(depth)],
                "StorageDescriptor": {"Columns": [{"Name": column, "Type": "string"} for column in columns],
                                      "Location": f"s3://{bucket_name}/{root}"},
            }
            database = backend.get_database(crawler.database_name)
            if name in database.tables:
                current = database.tables[name].get_version(str(database.tables[name]._current_version))
                if current["StorageDescriptor"]["Columns"] != table_input["StorageDescriptor"]["Columns"]:
                    backend.update_table(crawler.database_name, name, table_input)
                    updated += 1
            else:
                backend.create_table(crawler.database_name, name, table_input)
                created += 1
    return created, updated


def deprecate(crawler: FakeCrawler, message: str) -> None:
    """What Glue does when it cannot reconcile a table: mark it deprecated, log a WARN, report SUCCEEDED."""
    from moto.logs.models import logs_backends

    backend = crawler.backend
    database = backend.get_database(crawler.database_name)
    for name, table in list(database.tables.items()):
        current = table.get_version(str(table._current_version))
        if current.get("Parameters", {}).get("UPDATED_BY_CRAWLER") == crawler.name:
            backend.update_table(crawler.database_name, name, dict(current, Parameters=dict(
                current.get("Parameters", {}), **{DEPRECATED: str(int(time.time() * 1000))})))
    logs = logs_backends[backend.account_id][backend.region_name]
    group, stream = crawler.crawls[-1].log_group, crawler.crawls[-1].log_stream
    if group not in logs.groups:
        logs.create_log_group(group, {})
    if stream not in logs.groups[group].streams:
        logs.create_log_stream(group, stream)
    logs.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000),
                                         "message": f"[{crawler.crawls[-1].crawl_id}] WARN : {message}"}])


def get_crawler_metrics(self: GlueResponse) -> ActionResult:
    # _get_param, not the parsed `parameters` dict: moto 5.2.6 removed that attribute from GlueResponse.
    names = self._get_param("CrawlerNameList") or [c.name for c in self.glue_backend.get_crawlers()]
    metrics = []
    for name in names:
        self.glue_backend.get_crawler(name)  # EntityNotFoundException for an unknown crawler, as the service
        entry = {"CrawlerName": name, "TablesCreated": 0, "TablesUpdated": 0, "TablesDeleted": 0,
                 "StillEstimating": False, "TimeLeftSeconds": 0.0, **RECORD.metrics.get(name, {})}
        assert set(entry) <= METRIC_MEMBERS, set(entry) - METRIC_MEMBERS
        metrics.append(entry)
    return ActionResult({"CrawlerMetricsList": metrics})


RECORD = CrawlRecord()


@contextlib.contextmanager
def crawls(failures: Optional[Dict[str, str]] = None, progression: str = "immediate",
           deprecations: Optional[Dict[str, str]] = None, splits: Tuple[str, ...] = ()) -> Iterator[CrawlRecord]:
    """Crawls finish at once (or per ``progression``); a crawler named in ``failures`` fails with that message, one
    in ``deprecations`` succeeds but leaves its table deprecated with that WARN line in its log, one in ``splits``
    succeeds but makes a table of each folder of files, as Glue does when their schemas are not alike
    (https://docs.aws.amazon.com/glue/latest/dg/crawler-s3-folder-table-partition.html)."""
    failures = failures or {}
    deprecations = deprecations or {}
    original = FakeCrawler.as_dict
    RECORD.metrics.clear()
    RECORD.applied.clear()

    def as_dict(self):
        data = original(self)
        last = data.get("LastCrawl")
        if last:
            status = {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED"}.get(last["Status"], last["Status"])
            if status == "SUCCEEDED" and self.name in failures:
                status = "FAILED"
                last["ErrorMessage"] = failures[self.name]
            if status not in LAST_CRAWL_STATUS and status != "RUNNING":
                raise AssertionError(f"stand-in produced LastCrawl.Status {status!r}, not in {LAST_CRAWL_STATUS}")
            if status == "RUNNING":
                del data["LastCrawl"]  # the real service shows a running crawl only in State
            else:
                last["Status"] = status
                crawl_id = self.crawls[-1].crawl_id
                if status == "SUCCEEDED" and RECORD.applied.get(self.name) != crawl_id:
                    RECORD.applied[self.name] = crawl_id
                    created, updated = discover(self, split=self.name in splits)
                    RECORD.metrics[self.name] = {"TablesCreated": created, "TablesUpdated": updated,
                                                 "TablesDeleted": 0, "LastRuntimeSeconds": 1.0,
                                                 "MedianRuntimeSeconds": 1.0}
                    if self.name in deprecations:
                        deprecate(self, deprecations[self.name])
        return data

    state_manager.set_transition(model_name="glue::crawl", transition={"progression": progression, "times": 1,
                                                                        "seconds": 0})
    FakeCrawler.as_dict = as_dict
    GlueResponse.get_crawler_metrics = get_crawler_metrics  # type: ignore[attr-defined]
    try:
        yield RECORD
    finally:
        FakeCrawler.as_dict = original
        del GlueResponse.get_crawler_metrics  # type: ignore[attr-defined]
        # Transitions outlive mock_aws blocks and server resets: always put the default back.
        state_manager.unset_transition(model_name="glue::crawl")


def set_progression(progression: str) -> None:
    state_manager.set_transition(model_name="glue::crawl", transition={"progression": progression, "times": 1,
                                                                        "seconds": 0})
