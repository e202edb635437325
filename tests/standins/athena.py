"""What Athena does to the Glue catalog, which moto's Athena does not: DDL creates tables and views.

moto accepts any SQL and changes nothing. This stand-in applies CREATE EXTERNAL TABLE and CREATE OR REPLACE VIEW
the way Athena does (an EXTERNAL_TABLE / a VIRTUAL_VIEW with Presto view text) and refuses other DDL it does not
understand, so the steps' idempotency can be tested end to end. SELECTs can be answered per query with ``answer``.

It also refuses what Athena refuses, so a test cannot pass on SQL that would fail in an account: the query ends
FAILED with Athena's kind of StateChangeReason (which run_query and pyathena raise) when a view reads a table or
view the catalog lacks, when CREATE EXTERNAL TABLE without IF NOT EXISTS meets an existing table, and when a
SELECT has no responder (an unanswered SELECT is a test that forgot its data, not an empty result).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from typing import Callable, Dict, Iterator, List, Optional

from kiro_analytics.tables import parse_table_ddl
from kiro_analytics.views import view_body
from moto.athena.exceptions import QueryStillRunning
from moto.athena.models import AthenaBackend, QueryResults
from moto.athena.responses import AthenaResponse
from moto.glue.models import glue_backends

VIEW = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)\.(\w+)\s+AS\s+(.*?)\s*;?\s*$", re.I | re.S)
# VIEW up to the start of its body: what _missing_reference needs. VIEW's lazy body before `\s*;?\s*$` rescans each
# run of blanks to its end at every position, quadratic in the runs _blank_comments_and_strings makes (23 ms a view).
VIEW_HEAD = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)\.(\w+)\s+AS\s+", re.I)
TABLE = re.compile(r"^\s*CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(?:(\w+)\.)?(\w+)", re.I)
SELECT = re.compile(r"^\s*\(?\s*(SELECT|WITH)\b", re.I)
# Iceberg (Athena engine 3): CREATE TABLE without EXTERNAL, the partition columns among the declared ones, and
# TBLPROPERTIES ('table_type'='ICEBERG') (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-creating-tables.html);
# DELETE and INSERT INTO change rows of Iceberg tables only
# (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-updating-iceberg-table-data.html).
ICEBERG = re.compile(r"^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(?:(\w+)\.)?(\w+)\s*\((.*?)\n\)\s*"
                     r"PARTITIONED\s+BY\s*\(([^)]*)\)\s*LOCATION\s+'([^']+)'\s*TBLPROPERTIES\s*\((.*)\)\s*;?\s*$",
                     re.I | re.S)
DROP = re.compile(r"^\s*DROP\s+TABLE\s+(IF\s+EXISTS\s+)?(?:(\w+)\.)?(\w+)\s*;?\s*$", re.I)
DML = re.compile(r"^\s*(INSERT\s+INTO|DELETE\s+FROM)\s+(?:(\w+)\.)?(\w+)\b", re.I)
# Iceberg maintenance, Iceberg tables only: OPTIMIZE's WHERE may name partition columns only
# (https://docs.aws.amazon.com/athena/latest/ug/optimize-statement.html); VACUUM takes no WHERE
# (https://docs.aws.amazon.com/athena/latest/ug/vacuum-statement.html).
OPTIMIZE = re.compile(r"^\s*OPTIMIZE\s+(?:(\w+)\.)?(\w+)\s+REWRITE\s+DATA\s+USING\s+BIN_PACK"
                      r"(?:\s+WHERE\s+(.*?))?\s*;?\s*$", re.I | re.S)
VACUUM = re.compile(r"^\s*VACUUM\s+(?:(\w+)\.)?(\w+)\s*;?\s*$", re.I)
_COLUMN = re.compile(r"^\s*(\w+)\s+([a-z]+(?:<[a-z<>, ]+>)?)\s*,?\s*$", re.I)
_PROPERTY = re.compile(r"'([^']+)'\s*=\s*'([^']*)'")
# A qualified name: [awsdatacatalog.]schema.object, not the tail of a longer dotted name.
QUALIFIED = re.compile(r"(?<![\w.\"])(?:awsdatacatalog\.)?(\w+)\.(\w+)\b(?!\s*\.)", re.I)
_COMMENT_OR_STRING = re.compile(r"--[^\n]*|'(?:[^']|'')*'")
Answer = Callable[[str], Optional[List[Dict[str, object]]]]
_FAILED = [("QUEUED", "RUNNING"), ("RUNNING", "FAILED")]


def presto_view_text(body: str) -> str:
    payload = json.dumps({"originalSql": body, "catalog": "awsdatacatalog", "columns": []})
    return "/* Presto View: " + base64.b64encode(payload.encode()).decode() + " */"


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


def _blank_comments_and_strings(sql: str) -> str:
    """The SQL with comments and string literals blanked out, same length, so offsets still point into ``sql``."""
    return _COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), sql)


def _position(sql: str, offset: int) -> str:
    line = sql.count("\n", 0, offset) + 1
    return f"line {line}:{offset - (sql.rfind(chr(10), 0, offset) + 1) + 1}"


class AthenaCatalogStandIn:
    def __init__(self) -> None:
        self.sql: List[str] = []
        self.answers: List[Answer] = []
        self.failures: Dict[str, str] = {}  # execution id -> StateChangeReason
        # (database, table) -> partition columns of each Iceberg table (Glue does not list them for Iceberg).
        self.partitions: Dict[tuple, List[str]] = {}

    def answer(self, responder: Answer, first: bool = False) -> None:
        """Add a responder; ``first`` puts it before the others, e.g. to give one deliberately wrong answer."""
        if first:
            self.answers.insert(0, responder)
        else:
            self.answers.append(responder)

    def apply(self, backend: AthenaBackend, query: str, database: str) -> Optional[str]:
        """Apply DDL to the Glue catalog; the reason Athena would fail the query, or None when it succeeds."""
        glue = glue_backends[backend.account_id][backend.region_name]
        code = _strip_comments(query)
        table = TABLE.match(code)
        if table:
            if_not_exists, db, _ = table.groups()
            db = (db or database).lower()
            spec = parse_table_ddl(query)
            if spec.name in glue.get_database(db).tables:
                if if_not_exists:
                    return None
                return (f"FAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. "
                        f"AlreadyExistsException(message:Table already exists: {db}.{spec.name})")
            table_input = {
                "Name": spec.name, "TableType": "EXTERNAL_TABLE",
                # TBLPROPERTIES become table parameters, beside the ones Athena adds itself.
                "Parameters": {**dict(spec.table_parameters), "EXTERNAL": "TRUE", "transient_lastDdlTime": "0"},
                "PartitionKeys": [{"Name": n, "Type": t} for n, t in spec.partition_keys],
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": t} for n, t in spec.columns], "Location": spec.location,
                    "SerdeInfo": {"SerializationLibrary": spec.serde,
                                  "Parameters": dict(spec.serde_parameters, **{"serialization.format": "1"})}},
            }
            glue.create_table(db, spec.name, table_input)
            return None
        iceberg = ICEBERG.match(code)
        if iceberg:
            return self._create_iceberg(glue, iceberg, database, self.partitions)
        maintenance = OPTIMIZE.match(code) or VACUUM.match(code)
        if maintenance:
            return self._maintain(glue, maintenance, database)
        if re.match(r"^\s*(OPTIMIZE|VACUUM)\b", code, re.I):
            return f"line 1:1: mismatched input: {' '.join(code.split())[:80]!r}"
        drop = DROP.match(code)
        if drop:
            if_exists, db, name = drop.groups()
            db, name = (db or database).lower(), name.lower()
            if name not in glue.get_database(db).tables:
                return None if if_exists else f"TABLE_NOT_FOUND: Table 'awsdatacatalog.{db}.{name}' does not exist"
            glue.delete_table(db, name)
            return None
        dml = DML.match(code)
        if dml:
            _, db, name = dml.groups()
            db, name = (db or database).lower(), name.lower()
            if name not in glue.get_database(db).tables:
                return f"TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.{db}.{name}' does not exist"
            if glue.get_table(db, name).as_dict().get("Parameters", {}).get("table_type", "").upper() != "ICEBERG":
                return "NOT_SUPPORTED: Modifying Hive table rows is only supported for transactional tables"
            return self._missing_reference(glue, query, db)
        view = VIEW.match(code)
        if view:
            db, name, _ = view.groups()
            db, name = db.lower(), name.lower()
            missing = self._missing_reference(glue, query, db)
            if missing:
                return missing
            body = view_body(query)  # Athena keeps the text after AS as sent, comments included
            table_input = {"Name": name, "TableType": "VIRTUAL_VIEW", "ViewOriginalText": presto_view_text(body),
                           "ViewExpandedText": "/* Presto View */", "Parameters": {"presto_view": "true"},
                           "StorageDescriptor": {"Columns": []}}
            if name in glue.get_database(db).tables:
                glue.update_table(db, name, table_input)
            else:
                glue.create_table(db, name, table_input)
            return None
        if re.match(r"^\s*(CREATE|DROP|ALTER)\b", code, re.I):
            raise ValueError(f"stand-in does not understand this DDL: {code[:120]!r}")
        return None

    def _maintain(self, glue, match, database: str) -> Optional[str]:
        db, name = (match.group(1) or database).lower(), match.group(2).lower()
        if name not in glue.get_database(db).tables:
            return f"TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.{db}.{name}' does not exist"
        if glue.get_table(db, name).as_dict().get("Parameters", {}).get("table_type", "").upper() != "ICEBERG":
            return "NOT_SUPPORTED: OPTIMIZE and VACUUM are only supported for Iceberg tables"
        where = match.group(3) if match.re is OPTIMIZE else None
        # A table created before this stand-in started (another process) has unknown partitions: not checked.
        if where and (db, name) in self.partitions:
            code = _blank_comments_and_strings(where)
            named = {word.lower() for word in re.findall(r"\b([A-Za-z_]\w*)\b", code)}
            named -= {"and", "or", "not", "between", "in", "is", "null", "date", "timestamp", "true", "false"}
            others = sorted(named - set(self.partitions.get((db, name), [])))
            if others:
                return (f"INVALID_ARGUMENT: OPTIMIZE's WHERE may name partition columns only, not "
                        f"{', '.join(others)}")
        return None

    @staticmethod
    def _create_iceberg(glue, match, database: str, partitions: Dict[tuple, List[str]]) -> Optional[str]:
        if_not_exists, db, name, body, partitioned, location, properties = match.groups()
        db, name = (db or database).lower(), name.lower()
        columns = []
        for line in body.splitlines():
            if not line.strip() or line.strip().startswith("--"):
                continue
            column = _COLUMN.match(line)
            if not column:
                raise ValueError(f"stand-in cannot read this column definition: {line!r}")
            columns.append((column.group(1).lower(), column.group(2).lower()))
        params = dict(_PROPERTY.findall(properties))
        if params.get("table_type", "").upper() != "ICEBERG":
            return "INVALID_TABLE_PROPERTY: CREATE TABLE without EXTERNAL needs 'table_type'='ICEBERG'"
        names = {column for column, _ in columns}
        keys = [re.sub(r"^\w+\((\w+)\)$", r"\1", p.strip().lower()) for p in partitioned.split(",")]
        for part in keys:
            if part not in names:
                return f"COLUMN_NOT_FOUND: partition column {part} is not a column of {name}"
        if not location.startswith("s3://") or not location.endswith("/"):
            return f"INVALID_LOCATION: {location}"
        if name in glue.get_database(db).tables:
            return None if if_not_exists else f"TABLE_ALREADY_EXISTS: Table 'awsdatacatalog.{db}.{name}' already exists"
        partitions[(db, name)] = keys
        # Athena registers an Iceberg table in Glue with table_type ICEBERG and its metadata file's location.
        glue.create_table(db, name, {
            "Name": name, "TableType": "EXTERNAL_TABLE",
            "Parameters": {"table_type": "ICEBERG", "metadata_location": f"{location}metadata/00000-0.metadata.json"},
            "StorageDescriptor": {"Columns": [{"Name": n, "Type": k} for n, k in columns], "Location": location}})
        return None

    @staticmethod
    def _missing_reference(glue, query: str, database: str) -> Optional[str]:
        """Athena's TABLE_NOT_FOUND for the first schema.object the view reads that the catalog does not hold."""
        schemas = {name.lower() for name in glue.databases} | {database}
        code = _blank_comments_and_strings(query)
        view = VIEW_HEAD.match(code)
        for ref in QUALIFIED.finditer(code, view.end() if view else 0):  # the body, not the view's own name
            schema, name = ref.group(1).lower(), ref.group(2).lower()
            if schema not in schemas:
                continue  # an alias.column, not a catalog object
            if schema not in glue.databases or name not in glue.get_database(schema).tables:
                return (f"TABLE_NOT_FOUND: {_position(query, ref.start())}: "
                        f"Table 'awsdatacatalog.{schema}.{name}' does not exist")
        return None

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
    original_start = AthenaBackend.start_query_execution
    original_results = AthenaBackend.get_query_results
    original_describe = AthenaResponse.get_query_execution

    def start_query_execution(self, query, context, config, workgroup, execution_parameters):
        stand_in.sql.append(query)
        reason = stand_in.apply(self, query, (context or {}).get("Database", "default"))
        execution_id = original_start(self, query, context, config, workgroup, execution_parameters)
        if reason is None and SELECT.match(_strip_comments(query)):
            answer = stand_in.results(query)
            if answer is None:
                reason = f"stand-in has no answer for this SELECT: {' '.join(query.split())[:200]!r}"
            else:
                self.query_results[execution_id] = answer
        if reason is not None:
            # Runs through QUEUED and RUNNING like any query, then ends FAILED instead of SUCCEEDED.
            self.executions[execution_id]._transitions = list(_FAILED)
            stand_in.failures[execution_id] = reason
        return execution_id

    def get_query_results(self, exec_id):
        if exec_id in stand_in.failures:
            raise QueryStillRunning("FAILED")  # Athena's InvalidRequestException for a failed query
        return original_results(self, exec_id)

    def get_query_execution(self):
        body = json.loads(original_describe(self))
        execution = body["QueryExecution"]
        reason = stand_in.failures.get(execution["QueryExecutionId"])
        if reason is not None and execution["Status"]["State"] == "FAILED":
            execution["Status"]["StateChangeReason"] = reason
            execution["Status"]["AthenaError"] = {"ErrorCategory": 2, "Retryable": False, "ErrorMessage": reason}
        return json.dumps(body)

    AthenaBackend.start_query_execution = start_query_execution
    AthenaBackend.get_query_results = get_query_results
    AthenaResponse.get_query_execution = get_query_execution
    try:
        yield stand_in
    finally:
        AthenaBackend.start_query_execution = original_start
        AthenaBackend.get_query_results = original_results
        AthenaResponse.get_query_execution = original_describe
