"""./deploy.sh --verify with a date window: a crosscheck query that Athena answers from the window's folders only.

A filter on a view's activity_date cannot reach the raw tables' partition column: report_lines decides which line
of a key is used (row_number over every export of it) before any such filter, so Trino may not push it below, and
Athena would read every projected day. So the query carries the views it reads as WITH clauses (the same
sql/views text step 5 deploys, in dependency order), and each SELECT over a raw table gets
`day BETWEEN first AND last` on its partition column: partition projection then lists only those days' folders
(https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html). These are exactly the folders the local
side downloads, so both engines read the same files. A fact table (sql/facts/) the views read is inlined the same
way, as the SELECT of its load (report_lines over the raw tables: with_fact_loads): so with a window Athena parses
the window's raw lines again, as a load of those days would, and the comparison is Trino's parse against DuckDB's
on the same files, whatever the stored facts hold. Without a window the query reads the deployed views (and the
stored facts) as is.

Uses sqlglot, so it lives with the local engine; scripts/crosscheck.py (which uses both sides) calls it.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Dict, List, Optional, Sequence

from sqlglot import exp

from ..config import Config
from ..errors import InputError
from ..facts import LINE_FACTS, month_end, month_start
from ..sqlfiles import SqlObject, build_order, fact_load_reads, fact_statements
from .translate import parse_athena, partition_layout, table_properties

DAY_COLUMN = "day"
_DAY_FORMATS = {"yyyy/MM/dd": "%Y/%m/%d"}  # Joda pattern of projection.day.format -> strftime


def _day_format(table: SqlObject) -> str:
    pattern = table_properties(table).get(f"projection.{DAY_COLUMN}.format", "")
    if pattern not in _DAY_FORMATS:
        raise InputError(f"{table.path}: projection.{DAY_COLUMN}.format {pattern!r} is not one --verify can filter "
                         f"on ({', '.join(_DAY_FORMATS)})")
    return _DAY_FORMATS[pattern]


def _day_filter(table: exp.Table, formats: Dict[str, str], low: Optional[date],
                high: Optional[date]) -> exp.Expression:
    column = exp.column(DAY_COLUMN, table=table.alias_or_name if table.alias else None, quoted=True)
    pattern = formats[table.name]
    if low and high:
        return exp.Between(this=column, low=exp.Literal.string(low.strftime(pattern)),
                           high=exp.Literal.string(high.strftime(pattern)))
    if low:
        return exp.GTE(this=column, expression=exp.Literal.string(low.strftime(pattern)))
    return exp.LTE(this=column, expression=exp.Literal.string(high.strftime(pattern)))  # type: ignore[union-attr]


# An open end of the window: every day folder on that side.
_OPEN_DAYS = (date(1900, 1, 1), date(9999, 12, 31))


def with_fact_loads(views: List[SqlObject], facts: List[SqlObject], config: Config, low: Optional[date],
                    high: Optional[date]) -> List[SqlObject]:
    """``views`` (load_views order) with each fact table as a view of its load's SELECT for the window's day
    folders (an aggregate's: the window's whole months), placed after the views it reads and before those that read
    it (sqlfiles.build_order), so windowed_query inlines it too."""
    first, last = low or _OPEN_DAYS[0], high or _OPEN_DAYS[1]
    loads = {fact.name: dataclasses.replace(
        fact, kind="view", reads=frozenset(fact_load_reads(fact, views)),
        sql=fact_statements(fact, config, *((first, last) if fact.name in LINE_FACTS else
                                            (month_start(first), month_end(last))))["load"]) for fact in facts}
    return [loads.get(item.name, item) for item in build_order(views, facts)]


def _needed(query: exp.Expression, views: Dict[str, SqlObject]) -> List[str]:
    """The views the query reads, directly or through other views (unordered)."""
    pending = [table.name for table in query.find_all(exp.Table) if table.name in views and not table.db]
    found: List[str] = []
    while pending:
        name = pending.pop()
        if name not in found:
            found.append(name)
            pending.extend(view for view in views[name].reads if view in views)
    return found


def windowed_query(sql: str, views: Sequence[SqlObject], tables: Sequence[SqlObject], database: str,
                   low: Optional[date], high: Optional[date]) -> str:
    """Athena SQL of ``sql`` (a query on the session database) with the views it reads inlined and every raw
    table it reaches filtered to the day folders from ``low`` to ``high`` (either may be open)."""
    if low is None and high is None:
        return sql
    by_name = {view.name: view for view in views}
    formats = {table.name: _day_format(table) for table in tables
               if DAY_COLUMN in [name for name, _ in partition_layout(table)]}
    query = parse_athena(sql, "crosscheck query")
    needed = set(_needed(query, by_name))
    ctes = []
    for view in views:  # load_views order: every view after those it reads, as WITH needs
        if view.name not in needed:
            continue
        # A view's CREATE VIEW ... AS <select>, or a fact load's INSERT INTO ... <select>: the SELECT either way.
        body = parse_athena(view.sql, str(view.path)).expression
        inner = {cte.alias for cte in body.find_all(exp.CTE)}
        if inner & set(by_name):
            raise InputError(f"{view.path}: a WITH name is also a view ({', '.join(sorted(inner & set(by_name)))}); "
                             "--verify cannot inline it")
        for table in list(body.find_all(exp.Table)):
            if table.db != database:
                continue
            if table.name in by_name:
                table.set("db", None)  # the WITH clause of that name, not the deployed view
            elif table.name in formats:
                select = table.find_ancestor(exp.Select)
                source = select.args.get("from_") if select is not None else None
                if select is None or select.args.get("joins") or source is None or source.this is not table:
                    raise InputError(f"{view.path}: {table.name} is read other than alone in a FROM; "
                                     "--verify cannot filter its partitions")
                select.where(_day_filter(table, formats, low, high), copy=False)
        ctes.append(exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(view.name))))
    existing = query.args.get("with_")
    if existing is not None:
        ctes.extend(existing.expressions)
    query.set("with_", exp.With(expressions=ctes))
    return query.sql(dialect="athena", comments=False)  # the views' comments are in sql/views
