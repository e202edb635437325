"""What Athena does to the Glue catalog, which moto's Athena does not: DDL creates tables and views.

moto accepts any SQL and changes nothing. This stand-in applies CREATE EXTERNAL TABLE and CREATE OR REPLACE VIEW
the way Athena does (an EXTERNAL_TABLE / a VIRTUAL_VIEW with Presto view text) and refuses other DDL it does not
understand, so the steps' idempotency can be tested end to end. SELECTs can be answered per query with ``answer``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from typing import Callable, Dict, Iterator, List, Optional

from kiro_analytics.tables import parse_table_ddl
from kiro_analytics.views import view_body
from moto.athena.models import AthenaBackend, QueryResults
from moto.glue.models import glue_backends

VIEW = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)\.(\w+)\s+AS\s+(.*?)\s*;?\s*$", re.I | re.S)
TABLE = re.compile(r"^\s*CREATE\s+EXTERNAL\s+TABLE", re.I)
Answer = Callable[[str], Optional[List[Dict[str, object]]]]


def presto_view_text(body: str) -> str:
    payload = json.dumps({"originalSql": body, "catalog": "awsdatacatalog", "columns": []})
    return "/* Presto View: " + base64.b64encode(payload.encode()).decode() + " */"


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


class AthenaCatalogStandIn:
    def __init__(self) -> None:
        self.sql: List[str] = []
        self.answers: List[Answer] = []

    def answer(self, responder: Answer) -> None:
        self.answers.append(responder)

    def apply(self, backend: AthenaBackend, query: str, database: str) -> None:
        glue = glue_backends[backend.account_id][backend.region_name]
        code = _strip_comments(query)
        if TABLE.match(code):
            spec = parse_table_ddl(query)
            table_input = {
                "Name": spec.name, "TableType": "EXTERNAL_TABLE", "Parameters": {"EXTERNAL": "TRUE"},
                "PartitionKeys": [{"Name": n, "Type": t} for n, t in spec.partition_keys],
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": t} for n, t in spec.columns], "Location": spec.location,
                    "SerdeInfo": {"SerializationLibrary": spec.serde,
                                  "Parameters": dict(spec.serde_parameters, **{"serialization.format": "1"})}},
            }
            if spec.name not in glue.get_database(database).tables:  # IF NOT EXISTS
                glue.create_table(database, spec.name, table_input)
            return
        view = VIEW.match(code)
        if view:
            db, name, _ = view.groups()
            body = view_body(query)  # Athena keeps the text after AS as sent, comments included
            table_input = {"Name": name, "TableType": "VIRTUAL_VIEW", "ViewOriginalText": presto_view_text(body),
                           "ViewExpandedText": "/* Presto View */", "Parameters": {"presto_view": "true"},
                           "StorageDescriptor": {"Columns": []}}
            if name in glue.get_database(db).tables:
                glue.update_table(db, name, table_input)
            else:
                glue.create_table(db, name, table_input)
            return
        if re.match(r"^\s*(CREATE|DROP|ALTER)\b", code, re.I):
            raise ValueError(f"stand-in does not understand this DDL: {code[:120]!r}")

    def results(self, query: str) -> Optional[QueryResults]:
        for responder in self.answers:
            rows = responder(query)
            if rows is not None:
                columns = list(rows[0]) if rows else []
                table = [{"Data": [{"VarCharValue": c} for c in columns]}]
                table += [{"Data": [{"VarCharValue": None if row[c] is None else str(row[c])} for c in columns]}
                          for row in rows]
                return QueryResults(rows=table, column_info=[{"Name": c, "Type": "varchar"} for c in columns])
        return None


@contextlib.contextmanager
def athena_catalog() -> Iterator[AthenaCatalogStandIn]:
    stand_in = AthenaCatalogStandIn()
    original = AthenaBackend.start_query_execution

    def start_query_execution(self, query, context, config, workgroup, execution_parameters):
        stand_in.sql.append(query)
        stand_in.apply(self, query, (context or {}).get("Database", "default"))
        execution_id = original(self, query, context, config, workgroup, execution_parameters)
        answer = stand_in.results(query)
        if answer is not None:
            self.query_results[execution_id] = answer
        return execution_id

    AthenaBackend.start_query_execution = start_query_execution
    try:
        yield stand_in
    finally:
        AthenaBackend.start_query_execution = original
