"""What a SPICE refresh of each dataset would make Athena read, estimated on a local build (local_build.py --scan).

The model, each part of which is a documented rule rather than a measurement of Athena:

* Bytes: the fact table written as Parquet (ZSTD), one file per day folder, as the Iceberg table partitioned by
  source_day holds it; Athena bills the compressed bytes of the columns a query reads, per table scan
  (https://docs.aws.amazon.com/athena/latest/ug/columnar-storage.html, https://aws.amazon.com/athena/pricing/).
* Scans and columns: every scan of report_line_facts in DuckDB's plan of ``SELECT * FROM <view>`` (the views are
  the same SQL Athena runs), with the columns it projects or filters on. Trino plans each reference to a view
  as a scan of its own, so DuckDB's plan, which may share a common subexpression, is a lower bound.
* Days: a full refresh reads every partition. An incremental refresh asks for ``<date column> >= <window start>``
  (quicksight/refresh.json); when DuckDB's plan carries that predicate down to a fact scan, only the partitions
  whose newest activity_date reaches the window are read (Iceberg keeps each data file's column bounds in its
  manifests and skips the files that cannot match, https://iceberg.apache.org/spec/#scan-planning); a scan that
  does not carry it (a view that needs every day, e.g. first-seen dates) reads every partition.

* Aggregates (sql/facts/user_month_facts, user_active_days): written the same way, partitioned by month as their
  Iceberg tables are; a view's scans of them are counted like the fact scans (their columns, every month unless a
  date predicate reaches the scan).
* Upkeep (what the daily facts job adds to a day's bill): the fact_files query (three columns of every day folder),
  one new day folder's raw files read by the load, that folder's facts deleted and rewritten by OPTIMIZE (and its
  model cells: loaded from its line facts, deleted and rewritten; sql/facts/model_message_facts), and for
  the month it reports on each aggregate's load (its plan's scans, pruned by the date bound that reaches them, as a
  refresh's) and its month partition deleted and rewritten.

A measuring tool beside local_build.py (its SQL is DuckDB's own, parquet_metadata and EXPLAIN, so it lives here, not in
sql/); it runs on DuckDB only and never imports boto3.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Set, Tuple


class Scan(NamedTuple):
    columns: Set[str]  # the columns read
    filters: str  # the scan's filter text
    table: str = "report_line_facts"


# Each fact table: its partition column and the date column whose bounds Iceberg keeps per data file (the newest
# value of a partition decides whether a date predicate skips it).
TABLES = {"report_line_facts": ("source_day", "activity_date"), "model_message_facts": ("source_day", "activity_date"),
          "source_file_facts": ("month", "first_activity_date"), "user_active_days": ("month", "activity_date"),
          "user_month_facts": ("month", "last_active")}
Sizes = Dict[str, Dict[str, int]]
# The line facts' columns model_message_facts.load.sql reads of the days it loads.
MODEL_LOAD_COLUMNS = {"source_day", "source_path", "region", "activity_date", "userid", "client_type", "family",
                      "line_status", "model_names", "model_messages"}


def partition_sizes(con: Any, folder: Path, table: str = "report_line_facts") -> Tuple[Sizes, Dict[str, str]]:
    """Compressed bytes per (partition, column) of ``table`` written as Parquet under ``folder``/``table``, and the
    newest value of its date column in each partition (the upper bound Iceberg keeps for its files; absent when it
    has none)."""
    partition, dated = TABLES[table]
    target = folder / table
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * FROM {table}) TO '{target}' "
                f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({partition}))")
    sizes: Sizes = {}
    for name, column, size in con.execute(
            f"SELECT file_name, path_in_schema, sum(total_compressed_size) FROM parquet_metadata('{target}/*/*') "
            "GROUP BY ALL").fetchall():
        match = re.search(rf"{partition}=([0-9-]+)", str(name))
        day = match.group(1) if match else ""
        # A list column's bytes are under "<column>, list, element".
        column = str(column).split(".")[0].split(",")[0].strip()
        by_column = sizes.setdefault(day, {})
        by_column[column] = by_column.get(column, 0) + int(size)
    newest = {str(day): str(high) for day, high in con.execute(
        f"SELECT {partition}, max({dated}) FROM {table} GROUP BY {partition}").fetchall()
        if high is not None}
    return sizes, newest


def plan_scans(con: Any, query: str) -> List[Scan]:
    """The fact-table scans of DuckDB's plan of ``query``."""
    plan = json.loads(con.execute(f"EXPLAIN (FORMAT JSON) {query}").fetchall()[0][1])
    nodes, scans = list(plan), []
    while nodes:
        node = nodes.pop()
        nodes += node.get("children", [])
        info = node.get("extra_info", {})
        table = str(info.get("Table", "")).rsplit(".", 1)[-1]
        if table in TABLES:
            projections = info.get("Projections", [])
            filters = info.get("Filters", "")
            filters = " ".join(filters) if isinstance(filters, list) else str(filters)
            columns = set(projections if isinstance(projections, list) else [projections])
            columns |= set(re.findall(r"[a-z_]+", re.sub(r"'[^']*'", "", filters)))  # not the literals
            scans.append(Scan(columns, filters, table))
    return scans


def window_start(con: Any, lookback_days: float) -> str:
    """The first day a refresh the morning after the newest report day asks for: the last N days."""
    last = con.execute("SELECT max(activity_date) FROM report_line_facts").fetchone()[0]
    return (last - timedelta(days=max(int(lookback_days), 1) - 1)).isoformat()


def is_pruned(scan: Scan, since: str) -> bool:
    return f"'{since}'::DATE" in scan[1]


def lower_bound(scan: Scan, since: str) -> Optional[str]:
    """The first date a scan's date predicate lets through: the window's start when it carries that, else a
    ``>=`` bound on a date column (an aggregate's load for a month), else None (every partition)."""
    if is_pruned(scan, since):
        return since
    found = re.findall(r"(?:activity_date|month)\s*>=\s*'([0-9-]+)'::DATE", scan[1])
    return max(found) if found else None


def scan_bytes(scans: Iterable[Scan], sizes: Mapping[str, Mapping[str, int]], newest: Mapping[str, str],
               since: str) -> int:
    """Bytes read by these scans of one table: their columns of every partition, or of the partitions a date
    bound reaches only, for a scan that carries one (the window's predicate, or an aggregate load's month)."""
    total = 0
    for scan in scans:
        bound = lower_bound(scan, since)
        for day, by_column in sizes.items():
            if bound is not None and not (day in newest and newest[day] >= bound):
                continue
            total += sum(by_column.get(column, 0) for column in scan[0])
    return total


Tables = Mapping[str, Tuple[Mapping[str, Mapping[str, int]], Mapping[str, str]]]


def query_bytes(scans: Iterable[Scan], tables: Tables, since: str) -> int:
    """Bytes read by a query's scans, each against its own table."""
    return sum(scan_bytes([scan], *tables[scan.table], since) for scan in scans)


def _table_bytes(sizes: Mapping[str, Mapping[str, int]], partitions: Optional[Set[str]] = None,
                 columns: Optional[Set[str]] = None) -> int:
    return sum(size for part, by_column in sizes.items() if partitions is None or part in partitions
               for column, size in by_column.items() if columns is None or column in columns)


def upkeep(con: Any, tables: Tables, aggregate_loads: Mapping[str, str],
           raw_day_bytes: int) -> Tuple[Dict[str, int], List[str]]:
    """What the daily facts job reads for one new day folder (the newest), by part (see the module's text), and
    the parts that read every day folder (they grow with the history). ``aggregate_loads``: each aggregate's load
    SELECT (DuckDB text) for the newest day's month."""
    facts, _ = tables["report_line_facts"]
    day = max(facts)
    month = day[:8] + "01"
    parts = {"fact_files query": _table_bytes(facts, columns={"source_day", "source_path", "activity_date"}),
             "raw files of the day (the load)": raw_day_bytes,
             "the day's facts (delete + optimize)": 2 * _table_bytes(facts, {day}),
             # The model cells' load reads the day's line facts (their keys and model arrays), then the same upkeep.
             "the day's model cells (load + delete + optimize)": _table_bytes(facts, {day}, MODEL_LOAD_COLUMNS)
             + 2 * _table_bytes(tables["model_message_facts"][0], {day})}
    every_day = ["fact_files query"]
    for name, query in aggregate_loads.items():
        scans = plan_scans(con, query)
        parts[f"{name} load"] = query_bytes(scans, tables, month)
        if any(scan.table == "report_line_facts" and lower_bound(scan, month) is None for scan in scans):
            every_day.append(f"{name} load")  # no date bound reaches a fact scan: it reads every day folder
        parts[f"{name} month (delete + optimize)"] = 2 * _table_bytes(tables[name][0], {month})
    return parts, every_day


def estimate(con: Any, folder: Path, views: Iterable[str], incremental: Mapping[str, str],
             lookback_days: float, aggregate_loads: Optional[Mapping[str, str]] = None,
             raw_day_bytes: int = 0, aggregate_rebuilds: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Per dataset view: the bytes of a full refresh and of its daily refresh (incremental when it is named in
    ``incremental``, with its date column); the fact table's bytes, the aggregates', the daily upkeep
    (``aggregate_loads``: each aggregate's load for the newest month) and each aggregate's reload of every month
    (``aggregate_rebuilds``, what step 5 sends: a single query, held to the per-query cap)."""
    tables = {name: partition_sizes(con, folder, name) for name in TABLES}
    since = window_start(con, lookback_days)
    full: Dict[str, int] = {}
    daily: Dict[str, int] = {}
    unpruned: Dict[str, List[str]] = {}
    for view in views:
        full[view] = query_bytes(plan_scans(con, f"SELECT * FROM {view}"), tables, since)
        column = incremental.get(view)
        if column is None:
            daily[view] = full[view]
            continue
        scans = plan_scans(con, f"SELECT * FROM {view} WHERE {column} >= DATE '{since}'")
        daily[view] = query_bytes(scans, tables, since)
        # A fact column by its name; an aggregate's as <table>.<column>.
        unpruned[view] = sorted({c if scan.table == "report_line_facts" else f"{scan.table}.{c}"
                                 for scan in scans if not is_pruned(scan, since) for c in scan[0]})
    parts, every_day = upkeep(con, tables, dict(aggregate_loads), raw_day_bytes) if aggregate_loads else ({}, [])
    return {"facts_bytes": _table_bytes(tables["report_line_facts"][0]), "full": full, "daily": daily,
            "aggregates_bytes": {name: _table_bytes(tables[name][0]) for name in TABLES if name != "report_line_facts"},
            "upkeep": parts, "upkeep_every_day": every_day,
            "rebuild": {name: query_bytes(plan_scans(con, query), tables, "9999-12-31")
                        for name, query in (aggregate_rebuilds or {}).items()},
            "unpruned_columns": unpruned, "since": since}
