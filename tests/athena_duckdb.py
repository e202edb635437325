"""Athena SELECTs answered by DuckDB: the same query text, translated by sqlglot, over a local build of the same
reports that were uploaded to the emulated bucket, so numbers read from "Athena" are computed, not canned."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import sqlglot
from kiro_analytics.local.translate import duckdb_rewrites
from sqlglot import exp


def reads_only(sql: str) -> bool:
    """A query (comments allowed) that only reads: SELECT, a UNION of them, or WITH … SELECT."""
    try:
        tree = sqlglot.parse_one(sql, read="athena")
    except sqlglot.errors.ParseError:
        return False
    return isinstance(tree, (exp.Select, exp.Union)) or (isinstance(tree, exp.Query) and tree.args.get("with"))


def duckdb_answers(db_path: Path, database: str, paths: Optional[Tuple[str, str]] = None
                   ) -> Callable[[str], Optional[List[Dict[str, Any]]]]:
    """``paths`` = (the local folder the build read, with a trailing /, the bucket's s3:// root): a file path in an
    answer (``source_path``) names the object, as Athena's "$path" does, not the local copy."""
    import duckdb

    def s3_path(value: Any) -> Any:
        if paths and isinstance(value, str) and value.startswith(paths[0]):
            return paths[1] + value[len(paths[0]):]
        return value

    def answer(sql: str):
        if not reads_only(sql):
            return None
        tree = sqlglot.parse_one(sql, read="athena")
        for table in tree.find_all(exp.Table):
            if table.db == database:
                table.set("db", None)
        # Written as the local engine writes it (Trino's zipped UNNEST and to_utf8 have no DuckDB spelling).
        tree = duckdb_rewrites(tree)
        with duckdb.connect(str(db_path), read_only=True) as con:
            cursor = con.execute(tree.sql(dialect="duckdb"))
            columns = [column[0] for column in cursor.description]
            return [{column: s3_path(value) for column, value in zip(columns, row)} for row in cursor.fetchall()]

    return answer
