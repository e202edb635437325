"""Build the same tables and views as Athena, in one DuckDB file, from a folder laid out like the bucket.

Raw tables get exactly the columns the Athena DDL declares (one `line` per CSV line, the partition
columns, and `$path`), loaded from the objects Athena would read under each table's LOCATION mapped onto the
folder (local/report_files.py: any name but hidden ones, gzip by suffix, bytes that are not UTF-8 replaced);
partition values come from the folders the way the DDL's partition projection template lays them out.
Views are the SAME sql/views files, translated by local/translate.py. Nothing here holds SQL text:
tables are created through DuckDB's relational API, and the ledger totals come from sql/queries/.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import duckdb
from duckdb import ColumnExpression, ConstantExpression, FunctionExpression

from ..athena import load_query
from ..config import Config
from ..errors import InputError
from ..ingest_ledger import REJECTED_FILES_QUERY, TOTALS_QUERY, LedgerTotals, totals_from
from ..names import SEAT_ROSTER_TABLE, USER_MAPPING_TABLE
from ..seat_roster import ROSTER_HEADER
from ..sqlfiles import (
    SqlObject,
    build_order,
    fact_load_reads,
    fact_statements,
    load_facts,
    load_tables,
    load_views,
    split_at_facts,
)
from .projection import projection_rules, refused
from .publish import publish
from .report_files import ReadPlan, plan_reads, remove_scratch
from .translate import (
    expression_to_duckdb,
    fact_to_duckdb,
    partition_layout,
    table_columns,
    table_location,
    table_serde_properties,
    to_duckdb,
)

log = logging.getLogger(__name__)

DB_NAME = "kiro_analytics.duckdb"
STAGED_SUFFIX = ".building"
PATH_COLUMN = "$path"
ACCOUNT_FOLDER = re.compile(r"^[0-9]{12}$")
STAGED_REPORTS = ".staged-reports"
# A table's partitions are the first folders below its LOCATION (region/YYYY/MM/DD); files may sit deeper (00/).
_NEVER_IN_DATA = "\x01"
# The config key that fills each projected column's TBLPROPERTIES (sqlfiles.sql_values), named beside a file it skips.
_SETTING = {"region": " (s3.report_regions)", "day": " (s3.first_report_day)"}
# DuckDB spills to disk beyond this (its temp folder beside the database) instead of growing with the input: the
# build's peak stays near it at any number of users (bench/local_build.py measures it).
MEMORY_LIMIT = "1GB"
# The raw lines are stored ZSTD-compressed: DuckDB's own choice for them (DICT_FSST) costs twice the CPU to write
# (5k users: 1.7 against 1.3 CPU-s for user_report_raw) for a larger file (55 against 42 MiB); the parse reads them
# twice either way (+0.04 CPU-s a read). Only the raw tables: the facts and views keep DuckDB's choice.
RAW_COMPRESSION = "zstd"
# Every day folder: locally the facts are loaded in one pass over all the files read.
ALL_DAYS = (date(1900, 1, 1), date(9999, 12, 31))


@dataclass(frozen=True)
class BuildResult:
    db_path: Path
    row_counts: Dict[str, int]
    users: int
    first_date: Optional[date]
    last_date: Optional[date]
    total_credits: float  # plan credits (Credits_Used), all days
    total_messages: int
    total_overage: float  # overage credits as the cost model reads them (plans.overage_reading)
    total_consumption: float  # plan + overage credits: the dashboard's consumption KPI over the whole data
    report_files: Dict[str, int] = field(default_factory=dict)
    ledger: Optional[LedgerTotals] = None
    notes: List[str] = field(default_factory=list)  # what the build chose or skipped, for the user to read


def _report_base(data_dir: Path, config: Config) -> Path:
    """The local folder standing for s3://<bucket>/: the data folder itself, holding <prefix>AWSLogs/."""
    if (data_dir / config.prefix / "AWSLogs").is_dir():
        return data_dir
    found = sorted(str(path.parent.relative_to(data_dir)) for depth in ("", "*/", "*/*/", "*/*/*/")
                   for path in data_dir.glob(depth + "AWSLogs") if path.is_dir())
    hint = (f"; found AWSLogs/ under {', '.join(f'{data_dir}/{f}' for f in found)}: set s3.prefix to the part "
            "before AWSLogs/ (e.g. " + ", ".join(repr("" if f == "." else f + "/") for f in found) + ")"
            if found else "")
    raise InputError(f"{data_dir}: no {config.prefix}AWSLogs/ folder{hint}; point --data at the folder that holds "
                     f"{config.prefix}AWSLogs/{config.account_id}/ (s3.prefix and aws.account_id come from config)")


def _accounts(base: Path, config: Config) -> Tuple[List[str], List[str]]:
    """The account folders to read, and a note on the choice: aws.account_id's folder when it is there (as Athena's
    LOCATION reads only that one), else every account folder present, said out loud, never an empty build."""
    logs = base / config.prefix / "AWSLogs"
    present = sorted(path.name for path in logs.iterdir() if path.is_dir() and ACCOUNT_FOLDER.match(path.name))
    if config.account_id in present:
        others = [account for account in present if account != config.account_id]
        return [config.account_id], ([f"{logs} also holds account folder(s) {', '.join(others)}: not read, as the AWS "
                                      f"deploy reads only aws.account_id {config.account_id}"] if others else [])
    if not present:
        raise InputError(f"{logs}: no account folder (AWSLogs/<12-digit account id>/KiroLogs/...); point --data at "
                         f"the folder that holds {config.prefix}AWSLogs/")
    return present, [f"{logs} has no folder for aws.account_id {config.account_id}; reading the account folder(s) "
                     f"there instead: {', '.join(present)} (set aws.account_id in the config to the one to deploy)"]


def _local_folder(base: Path, table: SqlObject, config: Config, account: Optional[str] = None) -> Path:
    location = table_location(table)
    bucket_root = f"s3://{config.bucket_name}/"
    if not location.startswith(bucket_root):
        raise InputError(f"{table.path}: LOCATION {location} is not inside s3://{config.bucket_name}/")
    if account is not None:
        location = location.replace(f"/AWSLogs/{config.account_id}/", f"/AWSLogs/{account}/", 1)
    return base / location[len(bucket_root):]


def _partition_files(folder: Path, depth: int) -> List[Path]:
    """Files at least `depth` folders below the table location: Athena reads every file under a partition's
    folder, subfolders included (which of them it reads, whatever their name, is report_files.athena_reads)."""
    if not folder.is_dir():
        return []
    pattern = "/".join(["*"] * depth + ["**", "*"])
    return sorted(path for path in folder.glob(pattern) if path.is_file())


def _create_empty(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str]) -> None:
    # A zero-row relation with the right VARCHAR columns, so an absent source still gives a table.
    values = con.values([""] * len(columns)) if columns else None
    if values is None:
        raise InputError(f"{name}: table has no columns")
    exprs = [ConstantExpression("").alias(column) for column in columns]
    values.select(*exprs).limit(0).create(name)


def _source_path(plan: ReadPlan, base: Path, scratch: Path) -> duckdb.Expression:
    """`$path` of a raw row: the file read, or for a staged copy (report_files) the original it stands for."""
    filename = ColumnExpression("filename")
    if not plan.staged:
        return filename
    return FunctionExpression("replace", filename, ConstantExpression(str(scratch)), ConstantExpression(str(base)))


def _partition_columns(folder: Path, layout: List[Tuple[str, int]], path: duckdb.Expression) -> List[object]:
    """One expression per partition column: its folders of ``path`` below ``folder``, joined by '/' (the projected
    value). Every account's folder has the same depth, so one folder stands for all."""
    parts = FunctionExpression("string_split", path, ConstantExpression("/"))
    start = len(str(folder).rstrip("/").split("/")) + 1  # 1-based index of the first folder below the location
    exprs = []
    for name, width in layout:
        folders = FunctionExpression("list_slice", parts, ConstantExpression(start),
                                     ConstantExpression(start + width - 1))
        exprs.append(FunctionExpression("array_to_string", folders, ConstantExpression("/")).alias(name))
        start += width
    return exprs


def _load_raw(con: duckdb.DuckDBPyConnection, table: SqlObject, plan: ReadPlan, base: Path, scratch: Path,
              folder: Path) -> None:
    columns, partitions = table_columns(table)
    if columns != ["line"]:
        raise InputError(f"{table.path}: the local engine reads raw report tables with one `line` column, "
                         f"found {columns}")
    all_columns = columns + partitions + [PATH_COLUMN]
    if not plan.paths:
        _create_empty(con, table.name, all_columns)
        return
    # Every path given here is plain UTF-8 text (report_files decompressed and decoded what was not).
    relation = con.read_csv([str(path) for path in plan.paths], header=False, sep=_NEVER_IN_DATA, quotechar="",
                            escapechar="", columns={"line": "VARCHAR"}, filename=True, auto_detect=False,
                            compression="none",
                            # Like Hadoop's line reader, accept \n, \r\n and a mix of both; the blank
                            # lines this yields for \r\n are dropped by the views, as Athena's would be.
                            strict_mode=False)
    source = _source_path(plan, base, scratch)
    exprs = [ColumnExpression("line").alias("line"), *_partition_columns(folder, partition_layout(table), source)]
    exprs.append(source.alias(PATH_COLUMN))
    con.execute(f"SET force_compression = '{RAW_COMPRESSION}'")
    try:
        relation.select(*exprs).create(table.name)
        # The rows still in memory are compressed when written: now, under the same setting.
        con.execute("CHECKPOINT")
    finally:
        con.execute("RESET force_compression")


def _read_serde_csv(path: Path, table: SqlObject, what: str) -> List[List[str]]:
    """Every line of a CSV, read with the SerDe settings the Athena table declares, so a value reads here as it
    does in Athena (the escape character above all)."""
    serde = table_serde_properties(table)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle, delimiter=serde.get("separatorChar", ","),
                                   quotechar=serde.get("quoteChar", '"'),
                                   escapechar=serde.get("escapeChar", "\\"), doublequote=True))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc}") from None


def _scratch_file(scratch: Path, table_name: str) -> Path:
    return scratch / f".{table_name}.building.csv"


def _create_from_rows(con: duckdb.DuckDBPyConnection, table: SqlObject, columns: Sequence[str],
                      rows: List[List[str]], scratch: Path) -> int:
    """The table with exactly ``columns``, all VARCHAR, from rows already in that column order."""
    if not rows:
        _create_empty(con, table.name, columns)
        return 0
    # Rewritten in plain CSV with exactly the table's columns, so DuckDB's reader needs no guessing.
    normalised = _scratch_file(scratch, table.name)
    with open(normalised, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows((row + [""] * len(columns))[:len(columns)] for row in rows)
    relation = con.read_csv(str(normalised), header=True, sep=",", quotechar='"', escapechar='"',
                            columns={column: "VARCHAR" for column in columns}, auto_detect=False,
                            na_values=[_NEVER_IN_DATA])
    relation.select(*[ColumnExpression(column).alias(column) for column in columns]).create(table.name)
    return len(rows)


def _load_mapping(con: duckdb.DuckDBPyConnection, table: SqlObject, users_csv: Optional[Path],
                  scratch: Path) -> int:
    """user_mapping from a CSV with a header naming at least userid and username, bound by name."""
    columns, _ = table_columns(table)
    lines = _read_serde_csv(users_csv, table, "user map") if users_csv is not None else []
    header = [name.strip().lower() for name in (lines[0] if lines else [])]
    rows = [line for line in lines[1:] if line]
    if rows and not {"userid", "username"} <= set(header):
        raise InputError(f"{users_csv}: the header must name userid and username (found {', '.join(header)})")
    by_name = [dict(zip(header, row)) for row in rows]
    return _create_from_rows(con, table, columns, [[row.get(column, "") for column in columns] for row in by_name],
                             scratch)


def _load_roster(con: duckdb.DuckDBPyConnection, table: SqlObject, roster_csv: Optional[Path],
                 scratch: Path) -> int:
    """seat_roster from the sync's seat_roster.csv, read by position after its header, as Athena's table reads it."""
    columns, _ = table_columns(table)
    lines = _read_serde_csv(roster_csv, table, "seat roster") if roster_csv is not None else []
    header = tuple(name.strip().lower() for name in (lines[0] if lines else []))
    if roster_csv is not None and header != ROSTER_HEADER:
        raise InputError(f"{roster_csv}: the seat roster's header must be {','.join(ROSTER_HEADER)} "
                         f"(found {','.join(header) or 'nothing'})")
    return _create_from_rows(con, table, columns, [line for line in lines[1:] if line], scratch)


def _reraise_interrupt(exc: BaseException) -> None:
    if interrupted(exc):
        raise KeyboardInterrupt from None


def interrupted(exc: BaseException) -> bool:
    """True for DuckDB's answer to Ctrl-C during a query: RuntimeError('Query interrupted') after a SIGINT, or
    duckdb.InterruptException after interrupt(); neither is a KeyboardInterrupt."""
    return isinstance(exc, getattr(duckdb, "InterruptException", ())) or (
        isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower())


def build(data_dir: Path, out_dir: Path, config: Config, users_csv: Optional[Path] = None,
          materialise: bool = True, roster_csv: Optional[Path] = None, stage: bool = False,
          progress: Callable[[str], None] = log.info, today: Optional[date] = None) -> BuildResult:
    """Build <out_dir>/kiro_analytics.duckdb (replacing it) holding every table and view of sql/.

    ``roster_csv`` is a seat_roster.csv as the user sync writes it (userid,group,roster_date); without it the
    seat_roster table is empty, and so are seat_utilisation and idle_seats.

    With materialise (the default) each view's query is stored as a table of the same name (see
    translate.to_duckdb); materialise=False keeps them as DuckDB views, for comparing the two.

    With stage=True the database is left at <out_dir>/kiro_analytics.duckdb.building (result.db_path) for the caller
    to publish together with what it renders from it (local/publish.py); the old database stays until then.
    ``progress`` hears what the build is doing before each long part. ``today`` (default: the UTC date) is NOW of
    the tables' projected day range: files of later days are not read, as Athena would not read them.
    """
    data_dir, out_dir = Path(data_dir).absolute(), Path(out_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: data folder not found")
    if users_csv is not None and not Path(users_csv).is_file():
        raise InputError(f"{users_csv}: user map file not found")
    if roster_csv is not None and not Path(roster_csv).is_file():
        raise InputError(f"{roster_csv}: seat roster file not found")
    tables = load_tables(config)
    views = load_views(config)
    base = _report_base(data_dir, config)
    accounts, notes = _accounts(base, config)
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / DB_NAME
    # Build beside the target and swap at the end: a failed build never leaves half a database.
    work_path = staged_path(db_path)
    for stale in (work_path, Path(str(work_path) + ".wal")):
        if stale.exists():
            stale.unlink()
    scratch = out_dir.absolute() / STAGED_REPORTS
    remove_scratch(scratch)
    report_files: Dict[str, int] = {}
    skipped: Dict[str, int] = {}  # files partition projection does not read, by reason
    con = duckdb.connect(str(work_path), config={"preserve_insertion_order": False, "memory_limit": MEMORY_LIMIT})
    try:
        progress(f"reading the report files under {base} ({', '.join(accounts)})")
        for table in tables:
            if table.name == USER_MAPPING_TABLE:
                report_files[table.name] = _load_mapping(con, table, users_csv, out_dir)
            elif table.name == SEAT_ROSTER_TABLE:
                rostered = _load_roster(con, table, roster_csv, out_dir)
                if roster_csv is not None:  # the roster is optional: no entry when none was given
                    report_files[table.name] = rostered
            else:
                report_files[table.name] = _load_reports(con, table, base, config, accounts, scratch, notes,
                                                         today or datetime.now(timezone.utc).date(), skipped)
        _require_reports(tables, report_files, base, config, accounts, skipped)
        facts = load_facts(config)
        fact_names = {fact.name for fact in facts}
        before, _ = split_at_facts(views, facts)
        # What a line fact's load reads (report_lines, the parse) stays a view: it is read once, by the load.
        parse_views = {name for fact in facts for name in fact_load_reads(fact, views)} & {v.name for v in before}
        progress(f"building {len(views)} views")
        # Views, the line facts, the views over them, the aggregates (sql/facts/), the views over those.
        for item in build_order(views, facts):
            if item.name in fact_names:
                _load_fact(con, item, config)
            else:
                _create_view(con, item, config, materialise and item.name not in parse_views,
                             inline_ctes=item.name in parse_views)
        # The parse view is not counted: counting it would parse every line again (report_line_facts has its rows).
        counts, headline = _summarise(con, [t.name for t in tables] + [f.name for f in facts]
                                      + [v.name for v in views if v.name not in parse_views])
        ledger = _ledger(con)
    except BaseException as exc:
        con.close()
        work_path.unlink(missing_ok=True)
        if interrupted(exc):
            raise KeyboardInterrupt from None
        raise
    finally:
        remove_scratch(scratch)
        for name in (USER_MAPPING_TABLE, SEAT_ROSTER_TABLE):
            _scratch_file(out_dir, name).unlink(missing_ok=True)
    con.close()
    if not stage:
        publish([(work_path, db_path)])
    return BuildResult(db_path=work_path if stage else db_path, row_counts=counts, report_files=report_files,
                       ledger=ledger, notes=notes, **headline)


def _projected(table: SqlObject, folders: List[Path], depth: int, today: date,
               skipped: Dict[str, int]) -> List[Path]:
    """The files under ``folders`` that partition projection reads (local/projection.py); the others counted in
    ``skipped`` by the reason Athena would not read them."""
    rules = projection_rules(table, today)
    layout = partition_layout(table)
    kept: List[Path] = []
    for folder in folders:
        for path in _partition_files(folder, depth):
            parts, values, start = path.relative_to(folder).parts, {}, 0
            for name, width in layout:
                values[name] = "/".join(parts[start:start + width])
                start += width
            reason = refused(rules, values)
            if reason is None:
                kept.append(path)
            else:
                skipped[reason] = skipped.get(reason, 0) + 1
    return kept


def _not_projected_note(table: SqlObject, skipped: Dict[str, int]) -> str:
    reasons = "; ".join(f"{count} file(s): {reason}{_SETTING.get(reason.split(' ', 1)[0], '')}"
                        for reason, count in sorted(skipped.items()))
    return f"{table.name}: not read, as Athena's partition projection would not read them either: {reasons}"


def _create_view(con: duckdb.DuckDBPyConnection, view: SqlObject, config: Config, materialise: bool,
                 inline_ctes: bool = False) -> None:
    try:
        con.execute(to_duckdb(view, config.database, materialise, inline_ctes))
    except duckdb.Error as exc:
        _reraise_interrupt(exc)
        raise InputError(f"{view.path}: DuckDB rejected the translated view: {exc}") from None


def _load_fact(con: duckdb.DuckDBPyConnection, fact: SqlObject, config: Config) -> None:
    """The fact table from its own CREATE and load files (sql/facts/), over every day folder read."""
    statements = fact_statements(fact, config, *ALL_DAYS)
    for source, sql in ((fact.path, fact.sql), (fact.path.with_name(f"{fact.name}.load.sql"), statements["load"])):
        try:
            con.execute(fact_to_duckdb(sql, str(source), config.database))
        except duckdb.Error as exc:
            _reraise_interrupt(exc)
            raise InputError(f"{source}: DuckDB rejected the translated statement: {exc}") from None


def _load_reports(con: duckdb.DuckDBPyConnection, table: SqlObject, base: Path, config: Config,
                  accounts: List[str], scratch: Path, notes: List[str], today: date,
                  skipped: Dict[str, int]) -> int:
    """One raw report table from the files Athena would read for it, in every chosen account; files read."""
    depth = sum(width for _, width in partition_layout(table))
    folders = [_local_folder(base, table, config, account) for account in accounts]
    mine: Dict[str, int] = {}
    files = _projected(table, folders, depth, today, mine)
    if mine:
        notes.append(_not_projected_note(table, mine))
        for reason, count in mine.items():
            skipped[reason] = skipped.get(reason, 0) + count
    plan = plan_reads(files, base, scratch)
    notes.extend(plan.notes)
    log.info("%s: %d files", table.name, plan.files_read)
    try:
        _load_raw(con, table, plan, base, scratch, folders[0])
    except duckdb.Error as exc:
        _reraise_interrupt(exc)
        raise InputError(f"{table.path}: could not read its report files: {exc}") from None
    return plan.files_read


def _require_reports(tables: List[SqlObject], report_files: Dict[str, int], base: Path, config: Config,
                     accounts: List[str], skipped: Dict[str, int]) -> None:
    """No report file at all is an error naming where it looked, never an empty database and dashboard; when files
    were there but outside what the tables project, it says why each was not read."""
    raw = [table for table in tables if table.name not in (USER_MAPPING_TABLE, SEAT_ROSTER_TABLE)]
    if not any(report_files.get(table.name) for table in raw):
        looked = ", ".join(str(_local_folder(base, table, config, account)) for table in raw for account in accounts)
        if skipped:
            reasons = "; ".join(f"{count} file(s): {reason}{_SETTING.get(reason.split(' ', 1)[0], '')}"
                                for reason, count in sorted(skipped.items()))
            raise InputError(f"no report file is in a partition the tables project, so Athena would read none "
                             f"either; looked in {looked}. Not read: {reasons}. Set s3.report_regions and "
                             "s3.first_report_day to cover the reports (the deploy's tables read the same)")
        raise InputError(f"no report files found; looked in {looked} (the day folders below each, "
                         "<region>/YYYY/MM/DD/00/, hold the files Kiro writes)")


def staged_path(path: Path) -> Path:
    """Where a build writes ``path`` before publishing it."""
    return path.with_name(path.name + STAGED_SUFFIX)


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> List[Dict[str, object]]:
    cursor = con.execute(expression_to_duckdb(load_query(query)))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _ledger(con: duckdb.DuckDBPyConnection) -> Optional[LedgerTotals]:
    """The ledger totals, from the same query files step 4 sends to Athena."""
    try:
        return totals_from(_rows(con, TOTALS_QUERY), _rows(con, REJECTED_FILES_QUERY))
    except duckdb.Error as exc:
        _reraise_interrupt(exc)
        raise InputError(f"sql/queries/{TOTALS_QUERY}.sql: DuckDB could not run it: {exc}") from None


def _summarise(con: duckdb.DuckDBPyConnection, names: List[str]) -> Tuple[Dict[str, int], dict]:
    counts: Dict[str, int] = {}
    for name in names:
        try:
            counts[name] = int(con.table(name).aggregate("count(*)").fetchall()[0][0])
        except duckdb.Error as exc:
            _reraise_interrupt(exc)
            raise InputError(f"{name}: DuckDB could not evaluate it: {exc}") from None
    # user_summary sums the cost model's days (user_credit_daily), as daily_summary does for the dashboard's KPIs.
    rows = con.table("user_summary").select(
        ColumnExpression("first_active_date"), ColumnExpression("last_active_date"),
        ColumnExpression("credits_used"), ColumnExpression("total_messages"),
        ColumnExpression("overage_credits_used"), ColumnExpression("consumption_credits")).fetchall()
    firsts = [row[0] for row in rows if row[0] is not None]
    lasts = [row[1] for row in rows if row[1] is not None]
    headline = {
        "users": len(rows),
        "first_date": min(firsts) if firsts else None,
        "last_date": max(lasts) if lasts else None,
        "total_credits": float(sum(row[2] or 0 for row in rows)),
        "total_messages": int(sum(row[3] or 0 for row in rows)),
        "total_overage": float(sum(row[4] or 0 for row in rows)),
        "total_consumption": float(sum(row[5] or 0 for row in rows)),
    }
    return counts, headline
