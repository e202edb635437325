"""Query DuckDB for what each visual of a parsed dashboard needs, pre-aggregated so the page can re-filter.

Every visual's rows are grouped by its dataset's date-filter column plus its dimensions, and each
measure is kept as additive parts (SUM -> sum, AVERAGE -> sum and count, DISTINCT_COUNT -> the
distinct ids), so the page can apply any date range and aggregate exactly what QuickSight would.
Queries are built as sqlglot expressions from the definition, with quoted identifiers that were
first checked against the view's real columns; no SQL text lives here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import duckdb
from sqlglot import exp

from kiro_analytics.errors import InputError

from .controls import CategoryFilter, Control
from .id_sets import IdPool
from .visual_specs import Field, SheetSpec, VisualSpec

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
YEAR_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
DATE_TYPES = ("DATE", "TIMESTAMP")
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")
# How each aggregation is split into parts that can be merged after filtering.
PARTS: Dict[str, Tuple[str, ...]] = {"SUM": ("sum",), "AVG": ("sum", "count"), "COUNT": ("count",),
                                     "MIN": ("min",), "MAX": ("max",), "DISTINCT_COUNT": ("ids",),
                                     "RATIO": ("sum", "sum")}
PART_SQL: Dict[str, Callable[[exp.Expression], exp.Expression]] = {
    "sum": lambda c: exp.Sum(this=c),
    "count": lambda c: exp.Count(this=c),
    "min": lambda c: exp.Min(this=c),
    "max": lambda c: exp.Max(this=c),
    "ids": lambda c: exp.ArrayAgg(this=exp.Distinct(expressions=[c])),
}
# Every shipped number is rounded to this many decimals (shorter page); a sum over n rows may drift n x 5e-7.
DECIMALS = 6


class StringTable:
    """One dictionary of every text value in the page: rows carry small integers instead of repeated names."""

    def __init__(self) -> None:
        self.values: List[str] = []
        self._index: Dict[str, int] = {}

    def code(self, value: str) -> int:
        if value not in self._index:
            self._index[value] = len(self.values)
            self.values.append(value)
        return self._index[value]


def build_payload(con: duckdb.DuckDBPyConnection, sheets: Sequence[SheetSpec]) -> Dict[str, Any]:
    """{"visuals": {id: ...}, "strings": [...], "idsets": ..., "controls": ..., "range": [first, last]}."""
    strings = StringTable()
    pool = IdPool()
    columns: Dict[str, Dict[str, str]] = {}
    visuals: Dict[str, Any] = {}
    dates: Dict[bool, List[str]] = {True: [], False: []}
    for sheet in sheets:
        for visual in sheet.visuals:
            if visual.dataset not in columns:
                columns[visual.dataset] = view_columns(con, visual.dataset, visual.visual_id)
            payload, seen = _visual_payload(con, visual, columns[visual.dataset], strings, pool)
            visuals[visual.visual_id] = payload
            dates[payload["dateGran"] == "DAY"].extend(seen)
    # Monthly rows are keyed by the 1st of the month; they must not stretch the range back to it.
    days = dates[True] or dates[False]
    controls = {sheet.sheet_id: [_control_payload(con, control, sheet, columns) for control in sheet.controls]
                for sheet in sheets}
    return {"visuals": visuals, "strings": strings.values, "idsets": pool.payload(), "controls": controls,
            "arrays": share_arrays(visuals), "range": [min(days), max(days)] if days else None}


def share_arrays(visuals: Dict[str, Any]) -> List[List[Any]]:
    """Replace each key column and part by an index into one list of distinct arrays, which is returned.

    Visuals of one dataset with the same row keys (date + the filtered tier and user columns, say) have the same
    key columns in the same order, and often the same measure: KPI, trend and table each carried a copy."""
    arrays: List[List[Any]] = []
    seen: Dict[str, int] = {}

    def index(values: List[Any]) -> int:
        text = json.dumps(values, separators=(",", ":"))
        if text not in seen:
            seen[text] = len(arrays)
            arrays.append(values)
        return seen[text]

    for visual in visuals.values():
        for column in visual["keys"]:
            column["v"] = index(column["v"])
        visual["parts"] = [index(part) for part in visual["parts"]]
    return arrays


def resolve_arrays(payload: Dict[str, Any]) -> Dict[str, Any]:
    """The inverse of share_arrays, in place (dashboard.js does the same when the page opens)."""
    arrays = payload.get("arrays", [])
    for visual in payload["visuals"].values():
        for column in visual["keys"]:
            column["v"] = arrays[column["v"]]
        visual["parts"] = [arrays[part] for part in visual["parts"]]
    return payload


def _control_payload(con: duckdb.DuckDBPyConnection, control: Control, sheet: SheetSpec,
                     columns: Dict[str, Dict[str, str]]) -> Dict[str, Any]:
    """A control and its choices: static Values, the linked column's values, else those of the filters it drives."""
    sources = [control.link] if control.link else [
        (visual.dataset, f.column) for visual in sheet.visuals for f in visual.category_filters
        if f.parameter == control.parameter and f.column in columns.get(visual.dataset, {})]
    choices = set(control.values)
    if not control.values:
        for view, column in dict.fromkeys(sources):
            known = columns.get(view) or view_columns(con, view, control.control_id)
            if column not in known:
                raise InputError(f"control {control.control_id}: column {column} is not in view {view}")
            query = exp.select(exp.column(column, quoted=True)).distinct().from_(
                exp.Table(this=exp.to_identifier(view, quoted=True)))
            choices.update(_text(row[0]) for row in con.execute(query.sql(dialect="duckdb")).fetchall()
                           if row[0] is not None)
    return {"id": control.control_id, "kind": control.kind, "param": control.parameter, "title": control.title,
            "multi": control.multi, "values": sorted(choices), "col": sources[0][1] if sources else ""}


def view_columns(con: duckdb.DuckDBPyConnection, view: str, visual_id: str) -> Dict[str, str]:
    """Column name -> DuckDB type of a view, or InputError naming the visual that wants it."""
    if not IDENTIFIER_RE.match(view):
        raise InputError(f"visual {visual_id}: dataset identifier {view!r} is not a plain view name")
    try:
        relation = con.table(view)
    except duckdb.Error as exc:
        raise InputError(f"visual {visual_id}: view {view} is not in the local database ({exc})") from None
    return {name: str(kind).upper() for name, kind in zip(relation.columns, relation.types)}


def _category_filters(visual: VisualSpec, columns: Dict[str, str]) -> List[CategoryFilter]:
    """The category filters that reach this visual's rows: its own dataset's, or cross-dataset ones it has."""
    found = []
    for category in visual.category_filters:
        same_dataset = category.dataset == visual.dataset
        if same_dataset and category.column not in columns:
            raise InputError(f"visual {visual.visual_id}: filter {category.filter_id} column {category.column} is "
                             f"not in view {visual.dataset}")
        if same_dataset or (category.all_datasets and category.column in columns):
            found.append(category)
    return found


def _date_filter(visual: VisualSpec, columns: Dict[str, str]) -> Optional[Tuple[str, str]]:
    for date_filter in visual.date_filters:
        same_dataset = date_filter.dataset == visual.dataset
        if (same_dataset or date_filter.all_datasets) and date_filter.column in columns:
            return date_filter.column, date_filter.granularity
        if same_dataset:
            raise InputError(f"visual {visual.visual_id}: date filter column {date_filter.column} is not in view "
                             f"{visual.dataset}")
    return None


def _visual_payload(con: duckdb.DuckDBPyConnection, visual: VisualSpec, columns: Dict[str, str],
                    strings: StringTable, pool: IdPool) -> Tuple[Dict[str, Any], List[str]]:
    for item in visual.dimensions + visual.measures:
        for name in _source_columns(item):
            if name not in columns:
                raise InputError(f"visual {visual.visual_id}: column {name} is not in view {visual.dataset} "
                                 f"(columns: {', '.join(columns)})")
    date_filter = _date_filter(visual, columns)
    filters = _category_filters(visual, columns)
    keys: List[str] = []
    # Filtered columns join the row key, so the page can drop rows by them without another query.
    for name in ([date_filter[0]] if date_filter else []) + [d.column for d in visual.dimensions] + \
            [f.column for f in filters]:
        if name not in keys:
            keys.append(name)
    date_columns = {name for name in keys if columns[name].startswith(DATE_TYPES)}
    date_columns.update(d.column for d in visual.dimensions if d.kind == "date")
    if date_filter:
        date_columns.add(date_filter[0])
    rows = con.execute(_query(visual, keys, columns).sql(dialect="duckdb")).fetchall()
    key_columns = []
    for position, name in enumerate(keys):
        kind = "d" if name in date_columns else ("n" if columns[name].startswith(NUMERIC_TYPES) else "s")
        key_columns.append({"t": kind, "v": [_key_value(row[position], kind, strings) for row in rows]})
    parts: List[List[Any]] = []
    measures = []
    position = len(keys)
    for measure in visual.measures:
        indexes = []
        for part in PARTS[measure.kind]:
            indexes.append(len(parts))
            parts.append([_part_value(row[position], part, strings, pool, measure.column) for row in rows])
            position += 1
        measures.append(_measure_payload(measure, indexes))
    seen: List[str] = []
    if date_filter:
        values = [strings.values[v] for v in key_columns[0]["v"] if v is not None]
        seen = [min(values), max(values)] if values else []
    payload = {
        "id": visual.visual_id, "kind": visual.kind, "title": visual.title, "subtitle": visual.subtitle,
        "raw": visual.raw, "span": visual.span, "opts": visual.options,
        "dims": [_dimension_payload(d, keys.index(d.column)) for d in visual.dimensions],
        "measures": measures, "sort": [list(s) for s in visual.sort], "limit": visual.limit,
        "other": visual.other, "top": visual.top,
        "date": 0 if date_filter else -1, "dateGran": date_filter[1] if date_filter else "",
        "keys": key_columns, "parts": parts,
        "filters": [{"id": f.filter_id, "key": keys.index(f.column), "param": f.parameter,
                     "values": list(f.values), "nulls": f.include_nulls} for f in filters],
        "actions": [{"id": a.action_id, "name": a.name, "target": a.target_sheet,
                     "set": [[name, [d.field_id for d in visual.dimensions].index(source)]
                             for name, source in a.set_parameters]} for a in visual.actions],
    }
    return payload, seen


def _query(visual: VisualSpec, keys: List[str], columns: Dict[str, str]) -> exp.Select:
    selected: List[exp.Expression] = []
    for name in keys:
        column = exp.column(name, quoted=True)
        if columns[name].startswith("TIMESTAMP"):
            column = exp.Cast(this=column, to=exp.DataType.build("DATE"))
        selected.append(column)
    for measure in visual.measures:
        # A ratio keeps SUM(numerator) and SUM(denominator) apart; the page divides after filtering.
        sources = measure.sources or (measure.column,) * len(PARTS[measure.kind])
        selected.extend(PART_SQL[part](exp.column(name, quoted=True))
                        for part, name in zip(PARTS[measure.kind], sources))
    query = exp.select(*selected).from_(exp.Table(this=exp.to_identifier(visual.dataset, quoted=True)))
    positions = [exp.Literal.number(i + 1) for i in range(len(keys))]
    if keys and not visual.raw:
        query = query.group_by(*positions)
    return query.order_by(*positions) if keys else query


def _source_columns(item: Field) -> Tuple[str, ...]:
    """The view columns a field reads: its own, or the two a calculated ratio sums."""
    return tuple(item.sources) or (item.column,)


def _dimension_payload(item: Field, key: int) -> Dict[str, Any]:
    return {"id": item.field_id, "col": item.column, "label": item.label or item.column, "role": item.role,
            "kind": item.kind,
            "gran": item.granularity, "key": key, "fmt": dict(item.number_format)}


def _measure_payload(item: Field, parts: List[int]) -> Dict[str, Any]:
    return {"id": item.field_id, "label": item.label or item.column, "named": bool(item.label), "agg": item.kind,
            "parts": parts,
            "fmt": dict(item.number_format), "hidden": item.hidden}


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        value = round(value, DECIMALS)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return value


def _text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _key_value(value: Any, kind: str, strings: StringTable) -> Any:
    if value is None:
        return None
    if kind == "n":
        return _number(value)
    text = _text(value)
    if kind == "d" and YEAR_MONTH_RE.match(text):
        text += "-01"
    return strings.code(text)


def _part_value(value: Any, part: str, strings: StringTable, pool: IdPool, column: str) -> Any:
    if part == "ids":
        return pool.add(column, (_text(v) for v in (value or []) if v is not None))
    if isinstance(value, (dt.date, dt.datetime, str)):
        return _text(value)
    return _number(value)
