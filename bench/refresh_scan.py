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

A measuring tool beside local_build.py (its SQL is DuckDB's own, parquet_metadata and EXPLAIN, so it lives here, not in
sql/); it runs on DuckDB only and never imports boto3.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Set, Tuple

Scan = Tuple[Set[str], str]  # (columns read, the scan's filter text)


def partition_sizes(con: Any, folder: Path) -> Tuple[Dict[str, Dict[str, int]], Dict[str, str]]:
    """Compressed bytes per (day folder, column) of the facts written as Parquet under ``folder``, and the newest
    activity_date of each day folder (the upper bound Iceberg keeps for its files; absent when it has none)."""
    con.execute(f"COPY (SELECT * FROM report_line_facts) TO '{folder}' "
                "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (source_day))")
    sizes: Dict[str, Dict[str, int]] = {}
    for name, column, size in con.execute(
            f"SELECT file_name, path_in_schema, sum(total_compressed_size) FROM parquet_metadata('{folder}/*/*') "
            "GROUP BY ALL").fetchall():
        match = re.search(r"source_day=([0-9-]+)", str(name))
        day = match.group(1) if match else ""
        # A list column's bytes are under "<column>, list, element".
        column = str(column).split(".")[0].split(",")[0].strip()
        by_column = sizes.setdefault(day, {})
        by_column[column] = by_column.get(column, 0) + int(size)
    newest = {str(day): str(high) for day, high in con.execute(
        "SELECT source_day, max(activity_date) FROM report_line_facts GROUP BY source_day").fetchall()
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
        if str(info.get("Table", "")).endswith(".report_line_facts"):
            projections = info.get("Projections", [])
            filters = info.get("Filters", "")
            filters = " ".join(filters) if isinstance(filters, list) else str(filters)
            columns = set(projections if isinstance(projections, list) else [projections])
            columns |= set(re.findall(r"[a-z_]+", re.sub(r"'[^']*'", "", filters)))  # not the literals
            scans.append((columns, filters))
    return scans


def window_start(con: Any, lookback_days: float) -> str:
    """The first day a refresh the morning after the newest report day asks for: the last N days."""
    last = con.execute("SELECT max(activity_date) FROM report_line_facts").fetchone()[0]
    return (last - timedelta(days=max(int(lookback_days), 1) - 1)).isoformat()


def is_pruned(scan: Scan, since: str) -> bool:
    return f"'{since}'::DATE" in scan[1]


def scan_bytes(scans: Iterable[Scan], sizes: Mapping[str, Mapping[str, int]], newest: Mapping[str, str],
               since: str) -> int:
    """Bytes read by these scans: their columns of every partition, or of the window's partitions only for a scan
    that carries the window's predicate."""
    total = 0
    for scan in scans:
        pruned = is_pruned(scan, since)
        for day, by_column in sizes.items():
            if pruned and not (day in newest and newest[day] >= since):
                continue
            total += sum(by_column.get(column, 0) for column in scan[0])
    return total


def estimate(con: Any, folder: Path, views: Iterable[str], incremental: Mapping[str, str],
             lookback_days: float) -> Dict[str, Any]:
    """Per dataset view: the bytes of a full refresh and of its daily refresh (incremental when it is named in
    ``incremental``, with its date column), and the fact table's bytes."""
    sizes, newest = partition_sizes(con, folder)
    since = window_start(con, lookback_days)
    full: Dict[str, int] = {}
    daily: Dict[str, int] = {}
    unpruned: Dict[str, List[str]] = {}
    for view in views:
        full[view] = scan_bytes(plan_scans(con, f"SELECT * FROM {view}"), sizes, newest, since)
        column = incremental.get(view)
        if column is None:
            daily[view] = full[view]
            continue
        scans = plan_scans(con, f"SELECT * FROM {view} WHERE {column} >= DATE '{since}'")
        daily[view] = scan_bytes(scans, sizes, newest, since)
        unpruned[view] = sorted({c for scan in scans if not is_pruned(scan, since) for c in scan[0]})
    return {"facts_bytes": sum(sum(by_column.values()) for by_column in sizes.values()), "full": full,
            "daily": daily, "unpruned_columns": unpruned, "since": since}
