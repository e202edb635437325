"""./deploy.sh --verify, the local side: build the downloaded reports with the local engine and run the crosscheck
queries on DuckDB, translated from the same Athena SQL text Athena runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence

import duckdb

from ..athena import load_query
from ..config import Config
from . import engine
from .translate import expression_to_duckdb


def local_rows(data_dir: Path, out_dir: Path, config: Config,
               queries: Sequence[str]) -> Dict[str, List[Dict[str, Any]]]:
    built = engine.build(data_dir, out_dir, config)
    rows: Dict[str, List[Dict[str, Any]]] = {}
    with duckdb.connect(str(built.db_path), read_only=True) as con:
        for name in queries:
            cursor = con.execute(expression_to_duckdb(load_query(name)))
            columns = [column[0] for column in cursor.description]
            rows[name] = [dict(zip(columns, row)) for row in cursor.fetchall()]
    return rows
