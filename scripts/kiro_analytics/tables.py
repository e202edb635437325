"""Create the tables of sql/tables/*.sql through Athena, changing only what differs from the Glue catalog.

The intent of each DDL file (columns, partition keys, location, SerDe and its properties, TBLPROPERTIES such as
partition projection) is compared with the existing Glue table. Unchanged → no call. Changed → the table is
dropped in Glue and created again. All tables are EXTERNAL, so dropping removes metadata only: report data is never
touched, and projected partitions need no re-registering. Step 5 then replaces the views that read a recreated
table (views.apply_views).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .athena import Call, run_query
from .errors import InputError
from .progress import DEFAULT_CLOCK, Clock

LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
_NAME = re.compile(r"CREATE\s+EXTERNAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:`?\w+`?\.)?`?(\w+)`?\s*\(", re.I)
_PARTITIONED = re.compile(r"PARTITIONED\s+BY\s*\(", re.I)
_LOCATION = re.compile(r"LOCATION\s+'([^']*)'", re.I)
_SERDE = re.compile(r"ROW\s+FORMAT\s+SERDE\s+'([^']*)'", re.I)
_SERDE_PROPS = re.compile(r"WITH\s+SERDEPROPERTIES\s*\(", re.I)
_FIELD_DELIM = re.compile(r"FIELDS\s+TERMINATED\s+BY\s+'((?:[^'\\]|\\.)*)'", re.I)
_TBLPROPERTIES = re.compile(r"TBLPROPERTIES\s*\(", re.I)
_PAIR = re.compile(r"'((?:[^'\\]|\\.)*)'\s*=\s*'((?:[^'\\]|\\.)*)'")


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: Tuple[Tuple[str, str], ...]
    partition_keys: Tuple[Tuple[str, str], ...]
    location: str
    serde: str
    serde_parameters: Tuple[Tuple[str, str], ...]
    table_parameters: Tuple[Tuple[str, str], ...] = ()

    def differences(self, other: "TableSpec") -> List[str]:
        """What ``other`` (the catalog) lacks of this intent; SerDe parameters the DDL does not set are ignored."""
        found = []
        for label in ("columns", "partition_keys", "location", "serde"):
            mine, theirs = getattr(self, label), getattr(other, label)
            if mine != theirs:
                found.append(f"{label}: {theirs!r} → {mine!r}")
        for label, mine, theirs in (("SerDe", self.serde_parameters, other.serde_parameters),
                                    ("TBLPROPERTIES", self.table_parameters, other.table_parameters)):
            current = dict(theirs)  # Athena adds its own keys (EXTERNAL, transient_lastDdlTime): only ours count
            found += [f"{label} {key}: {current.get(key)!r} → {value!r}" for key, value in mine
                      if current.get(key) != value]
        return found


def _unescape(text: str) -> str:
    """Hive string literal escapes as Athena stores them: \\uXXXX and backslash-escaped characters."""
    return re.sub(r"\\u([0-9a-fA-F]{4})|\\(.)",
                  lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), text)


def _parenthesised(text: str, start: int) -> str:
    """The text inside the parenthesis that opens just before ``start``."""
    depth, index = 1, start
    while depth and index < len(text):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        index += 1
    return text[start:index - 1]


def _columns(body: str) -> Tuple[Tuple[str, str], ...]:
    found = []
    for item in (part.strip() for part in body.split(",")):
        if item:
            name, kind = item.split(None, 1)
            found.append((name.strip("`").lower(), kind.strip().lower()))
    return tuple(found)


def _norm_location(location: str) -> str:
    return location.rstrip("/") + "/"


def parse_table_ddl(sql: str) -> TableSpec:
    """Read the intent of a rendered CREATE EXTERNAL TABLE statement."""
    code = re.sub(r"--[^\n]*", "", sql)
    name = _NAME.search(code)
    location = _LOCATION.search(code)
    if not name or not location:
        raise InputError(f"not a CREATE EXTERNAL TABLE … LOCATION '…' statement: {sql[:80]!r}")
    columns = _columns(_parenthesised(code, name.end()))
    partitioned = _PARTITIONED.search(code)
    partitions = _columns(_parenthesised(code, partitioned.end())) if partitioned else ()
    serde = _SERDE.search(code)
    parameters: Dict[str, str] = {}
    props = _SERDE_PROPS.search(code)
    if props:
        parameters.update((_unescape(k), _unescape(v)) for k, v in _PAIR.findall(_parenthesised(code, props.end())))
    delimiter = _FIELD_DELIM.search(code)
    if delimiter:
        parameters["field.delim"] = _unescape(delimiter.group(1))
    properties = _TBLPROPERTIES.search(code)
    table_parameters = dict((_unescape(k), _unescape(v)) for k, v in _PAIR.findall(
        _parenthesised(code, properties.end()))) if properties else {}
    return TableSpec(name=name.group(1).lower(), columns=columns, partition_keys=partitions,
                     location=_norm_location(location.group(1)), serde=serde.group(1) if serde else LAZY_SIMPLE,
                     serde_parameters=tuple(sorted(parameters.items())),
                     table_parameters=tuple(sorted(table_parameters.items())))


def catalog_table_spec(table: Dict[str, Any]) -> TableSpec:
    """The same shape from a Glue GetTable ``Table``."""
    storage = table.get("StorageDescriptor", {})
    serde = storage.get("SerdeInfo", {})
    return TableSpec(
        name=table["Name"].lower(),
        columns=tuple((c["Name"].lower(), c["Type"].lower()) for c in storage.get("Columns", [])),
        partition_keys=tuple((c["Name"].lower(), c["Type"].lower()) for c in table.get("PartitionKeys", [])),
        location=_norm_location(storage.get("Location", "")),
        serde=serde.get("SerializationLibrary", ""),
        serde_parameters=tuple(sorted((serde.get("Parameters") or {}).items())),
        table_parameters=tuple(sorted((table.get("Parameters") or {}).items())),
    )


def current_table(glue: Any, database: str, name: str) -> Optional[Dict[str, Any]]:
    try:
        return glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None


def ensure_tables(glue: Any, athena: Any, call: Call, tables: List[Any], database: str, workgroup: str,
                  clock: Clock = DEFAULT_CLOCK) -> Dict[str, str]:
    """Create missing tables and recreate changed ones; returns name → created | replaced (…) | unchanged."""
    outcome: Dict[str, str] = {}
    for table in tables:
        wanted = parse_table_ddl(table.sql)
        existing = current_table(glue, database, table.name)
        if existing is not None:
            changes = wanted.differences(catalog_table_spec(existing))
            if not changes:
                outcome[table.name] = "unchanged"
                continue
            call(glue, "DeleteTable", DatabaseName=database, Name=table.name)
            outcome[table.name] = "replaced (" + "; ".join(changes) + ")"
        else:
            outcome[table.name] = "created"
        run_query(athena, table.sql, workgroup, database, f"table {table.name}", clock=clock, call=call)
    return outcome
