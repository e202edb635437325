"""Build the same tables and views as Athena, in one DuckDB file, from a folder laid out like the bucket.

Raw tables get exactly the columns the Athena DDL declares (one `line` per CSV line, the partition
columns, and `$path`), loaded from every *.csv under each table's LOCATION mapped onto the folder; partition
values come from the folders the way the DDL's partition projection template lays them out.
Views are the SAME sql/views files, translated by local/translate.py. Nothing here holds SQL text:
tables are created through DuckDB's relational API.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import duckdb
from duckdb import ColumnExpression, ConstantExpression, FunctionExpression

from ..config import Config
from ..errors import InputError
from ..names import SEAT_ROSTER_TABLE, USER_MAPPING_TABLE
from ..seat_roster import ROSTER_HEADER
from ..sqlfiles import SqlObject, load_tables, load_views
from .translate import partition_layout, table_columns, table_location, table_serde_properties, to_duckdb

log = logging.getLogger(__name__)

DB_NAME = "kiro_analytics.duckdb"
PATH_COLUMN = "$path"
# A table's partitions are the first folders below its LOCATION (region/YYYY/MM/DD); files may sit deeper (00/).
_NEVER_IN_DATA = "\x01"


@dataclass(frozen=True)
class BuildResult:
    db_path: Path
    row_counts: Dict[str, int]
    users: int
    first_date: Optional[date]
    last_date: Optional[date]
    total_credits: float
    total_messages: int
    report_files: Dict[str, int] = field(default_factory=dict)


def _report_base(data_dir: Path, config: Config) -> Path:
    """The local folder standing for s3://<bucket>/: the data folder itself, holding <prefix>AWSLogs/."""
    if (data_dir / config.prefix / "AWSLogs").is_dir():
        return data_dir
    raise InputError(f"{data_dir}: no {config.prefix}AWSLogs/ folder; point --data at the folder that holds "
                     f"{config.prefix}AWSLogs/{config.account_id}/ (s3.prefix and aws.account_id come from config)")


def _local_folder(base: Path, table: SqlObject, config: Config) -> Path:
    location = table_location(table)
    bucket_root = f"s3://{config.bucket_name}/"
    if not location.startswith(bucket_root):
        raise InputError(f"{table.path}: LOCATION {location} is not inside s3://{config.bucket_name}/")
    return base / location[len(bucket_root):]


def _partition_files(folder: Path, depth: int) -> List[Path]:
    """*.csv files at least `depth` folders below the table location: Athena reads every file under a partition's
    folder, subfolders included."""
    if not folder.is_dir():
        return []
    pattern = "/".join(["*"] * depth + ["**", "*.csv"])
    return sorted(path for path in folder.glob(pattern) if path.is_file())


def _create_empty(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str]) -> None:
    # A zero-row relation with the right VARCHAR columns, so an absent source still gives a table.
    values = con.values([""] * len(columns)) if columns else None
    if values is None:
        raise InputError(f"{name}: table has no columns")
    exprs = [ConstantExpression("").alias(column) for column in columns]
    values.select(*exprs).limit(0).create(name)


def _partition_columns(folder: Path, layout: List[Tuple[str, int]]) -> List[object]:
    """One expression per partition column: its folders below ``folder``, joined by '/' (the projected value)."""
    parts = FunctionExpression("string_split", ColumnExpression("filename"), ConstantExpression("/"))
    start = len(str(folder).rstrip("/").split("/")) + 1  # 1-based index of the first folder below the location
    exprs = []
    for name, width in layout:
        folders = FunctionExpression("list_slice", parts, ConstantExpression(start),
                                     ConstantExpression(start + width - 1))
        exprs.append(FunctionExpression("array_to_string", folders, ConstantExpression("/")).alias(name))
        start += width
    return exprs


def _load_raw(con: duckdb.DuckDBPyConnection, table: SqlObject, files: List[Path], folder: Path) -> None:
    columns, partitions = table_columns(table)
    if columns != ["line"]:
        raise InputError(f"{table.path}: the local engine reads raw report tables with one `line` column, "
                         f"found {columns}")
    all_columns = columns + partitions + [PATH_COLUMN]
    if not files:
        _create_empty(con, table.name, all_columns)
        return
    relation = con.read_csv([str(path) for path in files], header=False, sep=_NEVER_IN_DATA, quotechar="",
                            escapechar="", columns={"line": "VARCHAR"}, filename=True, auto_detect=False,
                            # Like Hadoop's line reader, accept \n, \r\n and a mix of both; the blank
                            # lines this yields for \r\n are dropped by the views, as Athena's would be.
                            strict_mode=False)
    layout = partition_layout(table)
    exprs = [ColumnExpression("line").alias("line"), *_partition_columns(folder, layout)]
    exprs.append(ColumnExpression("filename").alias(PATH_COLUMN))
    relation.select(*exprs).create(table.name)


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


def build(data_dir: Path, out_dir: Path, config: Config, users_csv: Optional[Path] = None,
          materialise: bool = True, roster_csv: Optional[Path] = None) -> BuildResult:
    """Build <out_dir>/kiro_analytics.duckdb (replacing it) holding every table and view of sql/.

    ``roster_csv`` is a seat_roster.csv as the user sync writes it (userid,group,roster_date); without it the
    seat_roster table is empty, and so are seat_utilisation and idle_seats.

    With materialise (the default) each view's query is stored as a table of the same name (see
    translate.to_duckdb); materialise=False keeps them as DuckDB views, for comparing the two.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: data folder not found")
    if users_csv is not None and not Path(users_csv).is_file():
        raise InputError(f"{users_csv}: user map file not found")
    if roster_csv is not None and not Path(roster_csv).is_file():
        raise InputError(f"{roster_csv}: seat roster file not found")
    tables = load_tables(config)
    views = load_views(config)
    base = _report_base(data_dir, config)
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / DB_NAME
    # Build beside the target and swap at the end: a failed build never leaves half a database.
    work_path = out_dir / (DB_NAME + ".building")
    for stale in (work_path, Path(str(work_path) + ".wal")):
        if stale.exists():
            stale.unlink()
    report_files: Dict[str, int] = {}
    con = duckdb.connect(str(work_path), config={"preserve_insertion_order": False})
    try:
        for table in tables:
            if table.name == USER_MAPPING_TABLE:
                report_files[table.name] = _load_mapping(con, table, users_csv, out_dir)
                continue
            if table.name == SEAT_ROSTER_TABLE:
                rostered = _load_roster(con, table, roster_csv, out_dir)
                if roster_csv is not None:  # the roster is optional: no entry when none was given
                    report_files[table.name] = rostered
                continue
            folder = _local_folder(base, table, config)
            files = _partition_files(folder, sum(width for _, width in partition_layout(table)))
            report_files[table.name] = len(files)
            log.info("%s: %d files", table.name, len(files))
            try:
                _load_raw(con, table, files, folder)
            except duckdb.Error as exc:
                raise InputError(f"{table.path}: could not read its report files: {exc}") from None
        for view in views:
            try:
                con.execute(to_duckdb(view, config.database, materialise))
            except duckdb.Error as exc:
                raise InputError(f"{view.path}: DuckDB rejected the translated view: {exc}") from None
        counts, headline = _summarise(con, [t.name for t in tables] + [v.name for v in views])
    except BaseException:
        con.close()
        work_path.unlink(missing_ok=True)
        raise
    finally:
        for name in (USER_MAPPING_TABLE, SEAT_ROSTER_TABLE):
            _scratch_file(out_dir, name).unlink(missing_ok=True)
    con.close()
    os.replace(work_path, db_path)
    return BuildResult(db_path=db_path, row_counts=counts, report_files=report_files, **headline)


def _summarise(con: duckdb.DuckDBPyConnection, names: List[str]) -> Tuple[Dict[str, int], dict]:
    counts: Dict[str, int] = {}
    for name in names:
        try:
            counts[name] = int(con.table(name).aggregate("count(*)").fetchall()[0][0])
        except duckdb.Error as exc:
            raise InputError(f"{name}: DuckDB could not evaluate it: {exc}") from None
    rows = con.table("user_summary").select(
        ColumnExpression("first_active_date"), ColumnExpression("last_active_date"),
        ColumnExpression("credits_used"), ColumnExpression("total_messages")).fetchall()
    firsts = [row[0] for row in rows if row[0] is not None]
    lasts = [row[1] for row in rows if row[1] is not None]
    headline = {
        "users": len(rows),
        "first_date": min(firsts) if firsts else None,
        "last_date": max(lasts) if lasts else None,
        "total_credits": float(sum(row[2] or 0 for row in rows)),
        "total_messages": int(sum(row[3] or 0 for row in rows)),
    }
    return counts, headline
