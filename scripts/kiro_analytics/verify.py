"""Step 4: row counts per raw table, first and last day present, freshness, and what exists when nothing was found.

A wrong s3.prefix is the most common first-deploy mistake, so "no rows" always names the exact S3 location that
was read and lists what exists near it (the prefix, AWSLogs/ and the bucket root). The tables project their
partitions, so the other ways to read nothing are region folders outside s3.report_regions and days before
s3.first_report_day; "no rows" names both, with the region folders that do exist. No crawler is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Optional, Tuple

from .athena import load_query, run_query
from .config import Config
from .digest import STALE_AFTER_DAYS
from .errors import StepFailed
from .ingest_ledger import LEDGER_VIEW, REJECTED_FILES_QUERY, TOTALS_QUERY, LedgerTotals, totals_from
from .names import RAW_TABLES
from .progress import DEFAULT_CLOCK, Clock
from .report_location import children, describe_nearby


@dataclass(frozen=True)
class TableCount:
    table: str
    rows: int
    first_day: str
    last_day: str
    location: str


@dataclass
class Verification:
    counts: List[TableCount]
    warnings: List[str]
    ledger: Optional[LedgerTotals] = None
    ledger_note: str = ""  # why there are no ledger totals (the view not created yet, or unreadable)

    def summary(self) -> str:
        parts = [f"{c.table} {c.rows} rows ({c.first_day} … {c.last_day})" if c.rows else f"{c.table} empty"
                 for c in self.counts]
        return "; ".join(parts) + (f"; {len(self.warnings)} warning(s)" if self.warnings else "")


def _location(glue: Any, database: str, table: str) -> str:
    try:
        return glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"].get("Location", "?")
    except glue.exceptions.EntityNotFoundException:
        raise StepFailed(f"table {database}.{table} does not exist: run step 1 first") from None


def _regions(s3: Any, location: str) -> List[str]:
    bucket, _, prefix = location[len("s3://"):].partition("/")
    return children(s3, bucket, prefix.rstrip("/") + "/")


def _day(text: Optional[str]) -> Optional[date]:
    try:
        year, month, day = (int(part) for part in (text or "").split("-"))
        return date(year, month, day)
    except ValueError:
        return None


def verify(athena: Any, glue: Any, s3: Any, config: Config, today: date, clock: Clock = DEFAULT_CLOCK) -> Verification:
    rows = {row["table_name"]: row for row in run_query(
        athena, load_query("table_day_counts"), config.workgroup, config.database, "row counts", clock=clock)}
    counts = []
    for table in RAW_TABLES:
        row = rows.get(table) or {}
        counts.append(TableCount(table=table, rows=int(row.get("row_count") or 0), first_day=row.get("first_day") or "",
                                 last_day=row.get("last_day") or "", location=_location(glue, config.database, table)))
    if not any(count.rows for count in counts):
        looked = "\n".join(f"  - {c.table}: {c.location} (region folders there: "
                           f"{', '.join(_regions(s3, c.location)) or 'none'})" for c in counts)
        regions = ",".join(config.report_regions or (config.region,))
        raise StepFailed(
            f"no report rows found. The tables project regions {regions} (s3.report_regions) and days "
            f"{config.first_report_day} to today (s3.first_report_day). Looked at:\n{looked}\nWhat exists nearby: "
            f"{describe_nearby(s3, config.bucket_name, config.prefix)}\nIf the folders above show the reports under "
            f"another prefix, set s3.prefix to the part before AWSLogs/; if they show other region folders, list them "
            f"in s3.report_regions; then run ./deploy.sh --from 1. If Kiro's report delivery was enabled less than a "
            f"day ago, wait for the first delivery (about 02:00 UTC), then continue with ./deploy.sh --from 4.")
    warnings: List[str] = []
    newest = max((d for d in (_day(c.last_day) for c in counts if c.rows) if d), default=None)
    if newest is not None and (today - newest).days > STALE_AFTER_DAYS:
        warnings.append(f"newest report day is {newest.isoformat()}, {(today - newest).days} days ago: is Kiro still "
                        f"delivering to s3://{config.bucket_name}/{config.report_root}?")
    user_report = next(c for c in counts if c.table == "user_report_raw")
    if not user_report.rows:
        warnings.append(f"user_report_raw is empty ({user_report.location}): credit and tier figures will be blank")
    ledger, note = ledger_totals(athena, glue, config, clock)
    if ledger is not None and ledger.rows_rejected:
        warnings.append(f"{ledger.rows_rejected:,} report lines were rejected: see the ingest ledger below and "
                        "README \"What if my numbers look wrong\"")
    return Verification(counts=counts, warnings=warnings, ledger=ledger, ledger_note=note)


def ledger_totals(athena: Any, glue: Any, config: Config, clock: Clock = DEFAULT_CLOCK
                  ) -> Tuple[Optional[LedgerTotals], str]:
    """The ingest ledger's totals, or (None, why not). Step 5 creates the view, so a first deploy has none yet."""
    try:
        glue.get_table(DatabaseName=config.database, Name=LEDGER_VIEW)
    except glue.exceptions.EntityNotFoundException:
        return None, (f"the {LEDGER_VIEW} view is created by step 5; its totals print here from the next run of "
                      "step 4 (./deploy.sh --only 4)")
    try:
        totals = run_query(athena, load_query(TOTALS_QUERY), config.workgroup, config.database, "ingest ledger totals",
                           clock=clock)
        rejected = run_query(athena, load_query(REJECTED_FILES_QUERY), config.workgroup, config.database,
                             "ingest ledger rejections", clock=clock)
    except StepFailed as exc:  # a view left by an older version: step 5 replaces it
        return None, f"could not read {LEDGER_VIEW} ({exc}); run step 5, then ./deploy.sh --only 4"
    return totals_from(totals, rejected), ""


def counts_by_table(result: Verification) -> Dict[str, int]:
    return {count.table: count.rows for count in result.counts}
