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
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

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
# A visual gets its own pre-grouped rows for the unfiltered page when they are at most this share of the shared ones.
PRE_SHARE = 4
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
    every = [v for sheet in sheets for v in sheet.visuals]
    known: Dict[Tuple[str, str, str], bool] = {}
    on_ids = {v.visual_id: id_filter_columns(con, v, columns[v.dataset], known) for v in every}
    shared = shared_keys(every, columns, on_ids)
    attributes = IdAttributes()
    cache: Dict[Any, Any] = {}
    # Visuals alone on their dataset's shared key share no array with another, so columns per value cost nothing.
    groups: Dict[Any, int] = {}
    for visual in every:
        group = (visual.dataset, tuple(shared.get(visual.visual_id, ())))
        groups[group] = groups.get(group, 0) + 1
    for visual in every:
        alone = groups[(visual.dataset, tuple(shared.get(visual.visual_id, ())))] == 1
        payload, seen = _visual_payload(con, visual, columns[visual.dataset], strings, pool,
                                        shared.get(visual.visual_id), on_ids[visual.visual_id], attributes, cache,
                                        alone)
        visuals[visual.visual_id] = payload
        dates[payload["dateGran"] == "DAY"].extend(seen)
    # Monthly rows are keyed by the 1st of the month; they must not stretch the range back to it.
    days = dates[True] or dates[False]
    controls = {sheet.sheet_id: [_control_payload(con, control, sheet, columns) for control in sheet.controls]
                for sheet in sheets}
    return {"visuals": visuals, "strings": strings.values, "idsets": pool.payload(), "controls": controls,
            "idattrs": attributes.payload(con, pool, strings),
            "arrays": share_arrays(visuals), "range": [min(days), max(days)] if days else None}


def id_filter_columns(con: duckdb.DuckDBPyConnection, visual: VisualSpec, columns: Dict[str, str],
                      known: Optional[Dict[Tuple[str, str, str], bool]] = None) -> List[str]:
    """Filter columns of a distinct-count visual applied to its counted ids instead of its rows.

    When every measure is DISTINCT_COUNT(c) and a filtered column f has one value per c in the view (username per
    userid), keeping the rows whose f is chosen and counting their c is the same as counting the c whose f is
    chosen. So f leaves the row key: rows per day (and dimension) with one id set each, filtered on the page by a
    mask over c's dictionary. At 20k users the sets of rows keyed by user were 6 MiB of the dashboard (issue 12)."""
    measures = visual.measures
    if visual.raw or not measures or any(m.kind != "DISTINCT_COUNT" or m.sources for m in measures) or \
            len({m.column for m in measures}) != 1:
        return []
    counted, dims = measures[0].column, {d.column for d in visual.dimensions}
    moved = []
    for category in _category_filters(visual, columns):
        name = category.column
        if name in dims or name == counted or name in moved:
            continue
        if _functional(con, visual.dataset, counted, name, {} if known is None else known):
            moved.append(name)
    return moved


def _functional(con: duckdb.DuckDBPyConnection, view: str, counted: str, name: str,
                known: Dict[Tuple[str, str, str], bool]) -> bool:
    """Whether ``name`` has a single value (or is always NULL) for each non-NULL ``counted`` in ``view``."""
    key = (view, counted, name)
    if key not in known:
        c, f = exp.column(counted, quoted=True), exp.column(name, quoted=True)
        both = exp.Count(this=exp.Distinct(expressions=[f]))
        some_null = exp.GT(this=exp.Sum(this=exp.Cast(this=exp.Is(this=f, expression=exp.Null()),
                                                       to=exp.DataType.build("INTEGER"))),
                           expression=exp.Literal.number(0))
        query = exp.select(c).from_(exp.Table(this=exp.to_identifier(view, quoted=True))).where(
            exp.Not(this=exp.Is(this=c, expression=exp.Null()))).group_by(c).having(
            exp.or_(exp.GT(this=both, expression=exp.Literal.number(1)),
                    exp.and_(exp.GT(this=both, expression=exp.Literal.number(0)), some_null))).limit(1)
        known[key] = not con.execute(query.sql(dialect="duckdb")).fetchall()
    return known[key]


class IdAttributes:
    """(view, counted column, filtered column) triples whose values the page needs per counted id."""

    def __init__(self) -> None:
        self.wanted: List[Tuple[str, str, str]] = []

    def want(self, view: str, counted: str, name: str) -> str:
        if (view, counted, name) not in self.wanted:
            self.wanted.append((view, counted, name))
        return "|".join((view, counted, name))

    def payload(self, con: duckdb.DuckDBPyConnection, pool: IdPool, strings: StringTable) -> Dict[str, Any]:
        """{"view|counted|column": [string code of the column's value (or null) per dictionary id]}."""
        found: Dict[str, Any] = {}
        for view, counted, name in self.wanted:
            codes = pool.dictionaries.get(counted, {})
            values: List[Optional[int]] = [None] * len(codes)
            c, f = exp.column(counted, quoted=True), exp.column(name, quoted=True)
            query = exp.select(c, f).distinct().from_(exp.Table(this=exp.to_identifier(view, quoted=True))).where(
                exp.Not(this=exp.Is(this=c, expression=exp.Null())))
            for value, attribute in con.execute(query.sql(dialect="duckdb")).fetchall():
                code = codes.get(_text(value))
                if code is not None and attribute is not None:
                    values[code] = strings.code(_text(attribute))
            found["|".join((view, counted, name))] = values
        return found


def _row_key(visual: VisualSpec, columns: Dict[str, str],
             on_ids: Sequence[str] = ()) -> Tuple[Optional[Tuple[str, str]], List[str]]:
    """The date filter and the columns a visual's rows are grouped by: date first, its dimensions, filtered columns
    (except those applied to its counted ids)."""
    date_filter = _date_filter(visual, columns)
    keys: List[str] = []
    for name in ([date_filter[0]] if date_filter else []) + [d.column for d in visual.dimensions] + \
            [f.column for f in _category_filters(visual, columns) if f.column not in on_ids]:
        if name not in keys:
            keys.append(name)
    return date_filter, keys


def shared_keys(visuals: Sequence[VisualSpec], columns: Dict[str, Dict[str, str]],
                on_ids: Optional[Dict[str, List[str]]] = None) -> Dict[str, List[str]]:
    """Visual id -> the row key of every grouped visual of its dataset (and date filter) together.

    With the control columns (tier, user, ...) in every row key, each visual's rows were nearly the view's own
    rows, in an order of its own: KPI, trend and top-N table each shipped their copy of the same sums (issue 12:
    26 MiB at 20k users). Grouped by one key per dataset, visuals of a dataset get identical key columns, and a
    measure two of them show becomes one array (share_arrays); each visual still re-groups by its dimensions."""
    union: Dict[Tuple[str, Any], List[str]] = {}
    chosen: Dict[str, Tuple[str, Any]] = {}
    for visual in visuals:
        if visual.raw:
            continue
        moved = (on_ids or {}).get(visual.visual_id, [])
        date_filter, keys = _row_key(visual, columns[visual.dataset], moved)
        group = (visual.dataset, date_filter, tuple(moved))
        merged = union.setdefault(group, [])
        # A column the view lacks is left to its own visual, whose payload names it (InputError), not a KeyError here.
        merged.extend(name for name in keys if name not in merged and name in columns[visual.dataset])
        chosen[visual.visual_id] = group
    return {visual_id: union[group] for visual_id, group in chosen.items()}


def share_arrays(visuals: Dict[str, Any]) -> List[List[Any]]:
    """Replace each key column and part by an index into one list of distinct arrays, which is returned.

    Visuals of one dataset with the same row keys (date + the filtered tier and user columns, say) have the same
    key columns in the same order, and often the same measure: KPI, trend and table each carried a copy."""
    arrays: List[Any] = []
    seen: Dict[str, int] = {}
    by_length: Dict[int, List[int]] = {}

    def index(values: List[Any]) -> int:
        text = json.dumps(values, separators=(",", ":"))
        if text not in seen:
            seen[text] = len(arrays)
            arrays.append(_like(values, arrays, by_length.setdefault(len(values), [])))
            by_length[len(values)].append(seen[text])
        return seen[text]

    for visual in visuals.values():
        for rows in [visual] + ([visual["pre"]] if visual.get("pre") else []):
            for column in rows["keys"]:
                column["v"] = index(column["v"])
            rows["parts"] = [index(part) for part in rows["parts"]]
    return arrays


# A measure equal to an earlier one but at this share of rows is shipped as its differences (consumption credits
# are credits used plus the rare overage: 2 MiB of the 20k dashboard twice).
NEAR_COPY = 0.125


def _like(values: List[Any], arrays: List[Any], candidates: List[int]) -> Any:
    """``values``, or {"like": i, "at": [gaps], "v": [...]}: array i with the values at those rows replaced."""
    for candidate in candidates:
        other = arrays[candidate]
        if not isinstance(other, list):
            continue
        limit = int(len(values) * NEAR_COPY)
        at: List[int] = []
        for row, (mine, theirs) in enumerate(zip(values, other)):
            if mine != theirs or type(mine) is not type(theirs):
                at.append(row)
                if len(at) > limit:
                    break
        if len(at) <= limit:
            gaps = [row - previous for row, previous in zip(at, [-1, *at[:-1]])]
            return {"like": candidate, "at": gaps, "v": [values[row] for row in at]}
    return values


def _unlike(entry: Any, arrays: List[Any]) -> List[Any]:
    if isinstance(entry, list):
        return entry
    values = list(arrays[entry["like"]])
    row = -1
    for gap, value in zip(entry["at"], entry["v"]):
        row += gap
        values[row] = value
    return values


def resolve_arrays(payload: Dict[str, Any]) -> Dict[str, Any]:
    """The inverse of share_arrays, in place (dashboard.js does the same when the page opens)."""
    arrays = payload.get("arrays", [])
    for position, entry in enumerate(arrays):
        arrays[position] = _unlike(entry, arrays)
    for visual in payload["visuals"].values():
        for rows in [visual] + ([visual["pre"]] if visual.get("pre") else []):
            for column in rows["keys"]:
                column["v"] = arrays[column["v"]]
            rows["parts"] = [arrays[part] for part in rows["parts"]]
        unwiden(visual)
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
                    strings: StringTable, pool: IdPool,
                    shared: Optional[List[str]] = None, on_ids: Sequence[str] = (),
                    attributes: Optional[IdAttributes] = None,
                    cache: Optional[Dict[Any, Any]] = None, alone: bool = False) -> Tuple[Dict[str, Any], List[str]]:
    for item in visual.dimensions + visual.measures:
        for name in _source_columns(item):
            if name not in columns:
                raise InputError(f"visual {visual.visual_id}: column {name} is not in view {visual.dataset} "
                                 f"(columns: {', '.join(columns)})")
    filters = _category_filters(visual, columns)
    # Filtered columns join the row key, so the page can drop rows by them without another query.
    date_filter, keys = _row_key(visual, columns, on_ids)
    attributes = attributes or IdAttributes()
    if shared is not None:
        keys = list(shared)
    date_columns = {name for name in keys if columns[name].startswith(DATE_TYPES)}
    date_columns.update(d.column for d in visual.dimensions if d.kind == "date")
    if date_filter:
        date_columns.add(date_filter[0])
    grouped = _Grouped(con, visual, columns, date_columns, strings, pool, cache)
    count, key_columns, parts, measures = grouped.rows(keys)
    pre = None
    own = ([date_filter[0]] if date_filter else []) + [d.column for d in visual.dimensions if d.column not in
                                                        (date_filter or ("",))[:1]]
    own = list(dict.fromkeys(own))
    # Every control at "all" (how a page opens): the rows grouped by the visual's own key alone, when that is far
    # fewer (a KPI over 289 days, not 443k user-days at 20k users), so the first draw is quick. A distinct count's
    # pre-grouped rows carry the union of their ids: the admin overview's team summary (users, credits, messages
    # per team) drew 1.07M day x team x user rows and their id sets, 9.8 s at 20k users, for its first draw.
    # Fixed-list filters have none (a fixed filter is never off).
    if len(own) < len(keys) and all(f.parameter for f in filters) and not visual.raw:
        pre_count, pre_keys, pre_parts, _ = grouped.rows(own, count // PRE_SHARE)
        if pre_count * PRE_SHARE <= count:
            pre = {"keys": pre_keys, "parts": pre_parts, "dims": [own.index(d.column) for d in visual.dimensions]}
    seen: List[str] = []
    if date_filter:
        values = [strings.values[v] for v in key_columns[0]["v"] if v is not None]
        seen = [min(values), max(values)] if values else []
    wide = None
    if alone and not visual.raw and len(visual.dimensions) == 1 and \
            all(m.kind in ("SUM", "COUNT") for m in visual.measures):
        wide, key_columns, parts = _widen(keys.index(visual.dimensions[0].column), key_columns, parts, strings)
    payload = {
        "id": visual.visual_id, "kind": visual.kind, "title": visual.title, "subtitle": visual.subtitle,
        "raw": visual.raw, "span": visual.span, "opts": visual.options,
        "dims": [_dimension_payload(d, keys.index(d.column)) for d in visual.dimensions],
        "measures": measures, "sort": [list(s) for s in visual.sort], "limit": visual.limit,
        "other": visual.other, "top": visual.top,
        "date": 0 if date_filter else -1, "dateGran": date_filter[1] if date_filter else "",
        "keys": key_columns, "parts": parts, "pre": pre, "wide": wide,
        # "key" is the row key column filtered; -1 with "ids": the counted ids' values of the column, filtered.
        "filters": [{"id": f.filter_id, "key": keys.index(f.column) if f.column in keys else -1,
                     "ids": attributes.want(visual.dataset, visual.measures[0].column, f.column)
                     if f.column in on_ids and f.column not in keys else "",
                     "param": f.parameter, "values": list(f.values), "nulls": f.include_nulls} for f in filters],
        "actions": [{"id": a.action_id, "name": a.name, "target": a.target_sheet,
                     "set": [[name, [d.field_id for d in visual.dimensions].index(source)]
                             for name, source in a.set_parameters]} for a in visual.actions],
    }
    return payload, seen


# A visual's one dimension with at most this many values (the model mix's models) may be shipped as columns, when
# the visual has at least this many rows (smaller ones, the admin overview's client and team mixes, are often equal
# to another visual's pre-grouped rows, and then shipped once: widened, that page grew by 1 % at 1k users).
WIDE_VALUES = 8
WIDE_ROWS = 100_000


def _widen(pivot: int, key_columns: List[Dict[str, Any]], parts: List[List[Any]], strings: StringTable
           ) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]], List[List[Any]]]:
    """Rows keyed by (the other keys, pivot value) as one row per other keys with a part column per pivot value.

    The model mix (day x model x tier x client x team x name: 8.4 M rows at 20k users, most of the dashboard) then
    writes each day, tier, client, team and name once for the ~4 models used that day, not once per model: 13 % less
    of it packed at 5k users. Only when no part is null (a null cell means the row is absent; dashboard.js's
    unwiden and resolve_arrays rebuild the rows) and the rows at least halve, for a visual alone on its dataset's
    shared key (the feature adoption's model mix shares its key columns with another visual: widened, that page
    grew by half). ({"key", "values"}, keys, parts) or (None, the input) unchanged."""
    column = key_columns[pivot]["v"] if key_columns else []
    values = sorted({v for v in column if v is not None}, key=lambda v: strings.values[v]) \
        if key_columns and key_columns[pivot]["t"] != "n" else []
    if len(key_columns) < 2 or not values or len(values) > WIDE_VALUES or len(column) < WIDE_ROWS or None in column or \
            any(v is None for part in parts for v in part):
        return None, key_columns, parts
    slot = {value: position for position, value in enumerate(values)}
    others = [c["v"] for position, c in enumerate(key_columns) if position != pivot]
    rows: Dict[Tuple[Any, ...], int] = {}
    for row, rest in enumerate(zip(*others)):
        rows.setdefault(rest, row)
    if len(rows) * 2 > len(column):
        return None, key_columns, parts

    kinds = [c["t"] for position, c in enumerate(key_columns) if position != pivot]

    def text(value: Any, kind: str) -> Any:
        if value is None:
            return (1, 0 if kind == "n" else "")
        return (0, value if kind == "n" else strings.values[value])

    # The other keys in reverse key order (the user's days one run, as _query orders rows), the date last.
    order = sorted(rows, key=lambda rest: [text(v, kind) for v, kind in zip(reversed(rest), reversed(kinds))])
    index = {rest: position for position, rest in enumerate(order)}
    cells: List[List[Any]] = [[None] * len(order) for _ in range(len(parts) * len(values))]
    for row, rest in enumerate(zip(*others)):
        at, j = index[rest], slot[column[row]]
        for p, part in enumerate(parts):
            cells[p * len(values) + j][at] = part[row]
    widened = []
    rest_columns = list(zip(*order)) if order else [()] * len(others)
    k = 0
    for position, c in enumerate(key_columns):
        if position == pivot:
            widened.append({"t": c["t"], "v": []})
        else:
            widened.append({"t": c["t"], "v": list(rest_columns[k])})
            k += 1
    return {"key": pivot, "values": values}, widened, cells


def unwiden(visual: Dict[str, Any]) -> None:
    """The inverse of _widen on a resolved visual, in place (dashboard.js's unwiden does the same)."""
    wide = visual.get("wide")
    if not wide:
        return
    pivot, values = wide["key"], wide["values"]
    keys = [column["v"] for column in visual["keys"]]
    count = len(visual["parts"]) // len(values)
    rows = len(next(column for position, column in enumerate(keys) if position != pivot))
    long_keys: List[List[Any]] = [[] for _ in keys]
    long_parts: List[List[Any]] = [[] for _ in range(count)]
    for row in range(rows):
        for j, value in enumerate(values):
            if visual["parts"][j][row] is None:
                continue
            for position, column in enumerate(keys):
                long_keys[position].append(value if position == pivot else column[row])
            for p in range(count):
                long_parts[p].append(visual["parts"][p * len(values) + j][row])
    for column, found in zip(visual["keys"], long_keys):
        column["v"] = found
    visual["parts"] = long_parts
    visual["wide"] = None


class _Grouped:
    """A visual's grouped rows by a key, as key columns and parts; an identical query (the same view, key and parts:
    the KPIs a sheet repeats from another, "from" in the sheet files) is run and converted once per page, and each
    visual gets its own copies of the lists' holders (share_arrays replaces their values by indexes)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, visual: VisualSpec, columns: Dict[str, str],
                 date_columns: Set[str], strings: StringTable, pool: IdPool, cache: Optional[Dict[Any, Any]]) -> None:
        self.con, self.visual, self.columns, self.date_columns = con, visual, columns, date_columns
        self.strings, self.pool, self.cache = strings, pool, {} if cache is None else cache

    def rows(self, keys: List[str], most: Optional[int] = None) -> Tuple[int, List[Dict[str, Any]], List[List[Any]],
                                                                      List[Dict[str, Any]]]:
        """(row count, key columns, parts, measures); with ``most``, more rows than that are counted, not converted
        (their codes and id sets would reach the page's tables unused)."""
        visual = self.visual
        sql = _query(visual, keys, self.columns).sql(dialect="duckdb")
        shape = (sql, tuple(name in self.date_columns for name in keys), tuple(m.column for m in visual.measures),
                 tuple(m.kind for m in visual.measures))
        known = self.cache.get(shape)
        if known is None or (known[1] is None and (most is None or known[0] <= most)):
            rows = self.con.execute(sql).fetchall()
            if most is not None and len(rows) > most:
                known = (len(rows), None, None)
            else:
                key_columns, parts, _ = _columns(visual, keys, rows, self.columns, self.date_columns, self.strings,
                                                 self.pool)
                known = (len(rows), key_columns, parts)
            self.cache[shape] = known
        count, key_columns, parts = known
        if key_columns is None or parts is None:
            return count, [], [], []
        measures = []
        position = 0
        for measure in visual.measures:
            measures.append(_measure_payload(measure, list(range(position, position + len(PARTS[measure.kind])))))
            position += len(PARTS[measure.kind])
        return count, [dict(column) for column in key_columns], list(parts), measures


def _columns(visual: VisualSpec, keys: List[str], rows: List[Tuple[Any, ...]], columns: Dict[str, str],
             date_columns: Set[str], strings: StringTable,
             pool: IdPool) -> Tuple[List[Dict[str, Any]], List[List[Any]], List[Dict[str, Any]]]:
    """Key columns, measure parts and measure descriptions of query rows (keys first, then each measure's parts)."""
    key_columns = []
    values = list(zip(*rows)) if rows else [()] * (len(keys) + sum(len(PARTS[m.kind]) for m in visual.measures))
    for position, name in enumerate(keys):
        kind = "d" if name in date_columns else ("n" if columns[name].startswith(NUMERIC_TYPES) else "s")
        key_columns.append({"t": kind, "v": _key_values(values[position], kind, strings)})
    parts: List[List[Any]] = []
    measures = []
    position = len(keys)
    for measure in visual.measures:
        indexes = []
        for part in PARTS[measure.kind]:
            indexes.append(len(parts))
            if part == "ids":
                parts.append([_part_value(value, part, strings, pool, measure.column) for value in values[position]])
            else:
                parts.append(_part_values(values[position], strings, pool))
            position += 1
        measures.append(_measure_payload(measure, indexes))
    return key_columns, parts, measures


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
        # Grouped rows in reverse key order: filtered columns (user, team, tier) first, the date last. Each user's
        # days are then one run, so the user and team columns are runs of one code and the date column small steps,
        # which the packed columns (payload_codec) shrink to almost nothing: 2.9 MiB less of the model mix at 20k.
        # The page regroups and sorts every visual itself; a raw table keeps the key order.
        positions = positions[::-1]
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


def _key_values(values: Sequence[Any], kind: str, strings: StringTable) -> List[Any]:
    """_key_value of each value of one key column, each distinct value converted once (a key column holds a few
    hundred dates and names over 1.6 M rows at 20k users: the conversion was most of the dashboard's render)."""
    memo: Dict[Any, Any] = {}
    found = []
    for value in values:
        if value in memo:
            found.append(memo[value])
        else:
            found.append(memo.setdefault(value, _key_value(value, kind, strings)))
    return found


def _part_values(values: Sequence[Any], strings: StringTable, pool: IdPool) -> List[Any]:
    """_part_value of each value of a summed (not an id set) part: ints and floats, nearly every value, without the
    general dispatch."""
    found = []
    for value in values:
        kind = type(value)
        if kind is int or value is None:
            found.append(value)
        elif kind is float:
            found.append(_number(value))
        else:
            found.append(_part_value(value, "sum", strings, pool, ""))
    return found


def _part_value(value: Any, part: str, strings: StringTable, pool: IdPool, column: str) -> Any:
    if part == "ids":
        return pool.add(column, (_text(v) for v in (value or []) if v is not None))
    if isinstance(value, (dt.date, dt.datetime, str)):
        return _text(value)
    return _number(value)
