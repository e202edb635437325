"""Translate the Athena (Trino) SQL in sql/ to DuckDB with sqlglot, refusing what would not mean the same.

There is one copy of the SQL: the files in sql/. This module parses them as Athena, checks that
every function they call is one whose DuckDB translation has a parity test (tests/test_sql_parity.py),
drops the `<database>.` qualifier so views are queryable by plain name, and writes DuckDB.
"""

from __future__ import annotations

import re
from typing import Dict, List, Set, Tuple

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from ..errors import InputError
from ..sqlfiles import SqlObject

# Functions (sqlglot's names after reading Athena) whose DuckDB translation keeps Trino semantics
# for the way the views use them. Each has parity cases in tests/test_sql_parity.py; a view that
# calls anything else is refused rather than silently computed differently.
SUPPORTED_FUNCTIONS: Dict[str, str] = {
    "ARRAY": "ARRAY[a, b] literal: DuckDB's [a, b], the same elements in the same order (NULLs kept)",
    "ARRAY_POSITION": "0 (Trino) vs NULL (DuckDB) when absent: views wrap it in NULLIF(..., 0)",
    "ARRAY_SIZE": "cardinality()",
    "ARG_MAX": "max_by(); views give it a non-NULL key",
    "ARRAY_SORT": "list_sort(): ascending; header names are never NULL (Trino puts NULLs last, DuckDB's default too), "
                  "and two sorted arrays compare element-wise in both",
    "ARRAY_DISTINCT": "list_distinct(): only its size is used (DuckDB drops NULLs and order; header names are "
                      "never NULL)",
    "CASE": "",
    "CHR": "",
    "COALESCE": "",
    "CONCAT_WS": "concat_ws(sep, a, b, ...): the arguments joined by sep, a NULL one skipped (no separator for it), "
                 "in both",
    "COUNT": "",
    "DATE_ADD": "DuckDB returns TIMESTAMP: views wrap it in TRY_CAST(... AS DATE)",
    "DECODE": "from_utf8(): Trino replaces bytes that are not UTF-8 by U+FFFD; DuckDB text is UTF-8 already (the "
              "engine decodes files with the same replacement), so from_utf8(to_utf8(x)) is written x there",
    "DATEDIFF": "date_diff('day', DATE, DATE): whole days between two dates (BIGINT) in both",
    "ENCODE": "to_utf8(): only inside from_utf8(), see DECODE, or length(): length(to_utf8(x)) is x's bytes, written "
              "strlen(x) (DuckDB's length() takes no BLOB)",
    "ELEMENT_AT": "array element_at(): NULL index or index past the end gives NULL in both",
    "GENERATE_SERIES": "sequence()",
    "GREATEST": "sqlglot keeps Trino's NULL-if-any-NULL rule",
    "LAG": "NULL before the first row of its partition, in both",
    "LENGTH": "",
    "LOWER": "",
    "MAX": "",
    "MIN": "",
    "NULLIF": "",
    "PAD": "lpad()",
    "REGEXP_EXTRACT": "'' (DuckDB) vs NULL (Trino) on no match: views wrap it in NULLIF(..., '')",
    "REGEXP_LIKE": "regexp_matches(): both search anywhere in the text; views anchor with ^...$ and use only classes, "
                   "groups, alternation, ? * + {m,n} and \\t \\r, which Trino (Joni) and DuckDB (RE2) read alike",
    "REGEXP_REPLACE": "sqlglot adds DuckDB's 'g' flag to replace every match, as Trino does",
    "REPLACE": "",
    "ROW_NUMBER": "",
    "SPLIT": "",
    "SPLIT_PART": "past the last field: NULL (Trino) vs '' (DuckDB); views only cast the result with TRY_CAST",
    "STR_POSITION": "strpos(): 1-based, 0 when absent, in both",
    "SUBSTRING": "substr() with positive start",
    "SUM": "",
    "TIMESTAMP_TRUNC": "date_trunc(): DuckDB returns TIMESTAMP: views wrap it in TRY_CAST(... AS DATE)",
    "TRIM": "one-argument trim() of spaces",
    "TRY_CAST": "",
    "UNNEST": "CROSS JOIN UNNEST of one array, or of several zipped (written for DuckDB as a LATERAL select of one "
              "unnest() per array: both pad the shorter arrays with NULL, and an empty or NULL array adds no rows)",
    "UPPER": "",
    "CONTAINS": "contains(array, element)",
    "FILTER": "filter(array, x -> ...): list_filter(array, lambda x: ...), order kept, in both",
    "TRANSFORM": "transform(array, x -> ...): list_transform(array, lambda x: ...), same length and order, in both",
    "||": "NULL if either side is NULL, in both",
}

# sqlglot node classes that are not exp.Func but behave like calls the parity tests must cover.
_CALL_LIKE = {exp.Bracket: "ELEMENT_AT", exp.DPipe: "||"}
_RENAMED = {"ARRAY_CONTAINS": "CONTAINS"}


def parse_athena(sql: str, source: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena", error_level=ErrorLevel.RAISE) if s is not None]
    except SqlglotError as exc:
        raise InputError(f"{source}: cannot parse as Athena SQL: {exc}") from None
    if len(statements) != 1:
        raise InputError(f"{source}: expected exactly one statement, found {len(statements)}")
    return statements[0]


def function_name(node: exp.Expression) -> str:
    for cls, name in _CALL_LIKE.items():
        if isinstance(node, cls):
            return name
    name = node.name.upper() if isinstance(node, exp.Anonymous) else node.sql_name()
    return _RENAMED.get(name, name)


def functions_used(tree: exp.Expression) -> Set[str]:
    """Every function-like call in a parsed statement, by the names SUPPORTED_FUNCTIONS uses."""
    found = set()
    for node in tree.find_all(exp.Func, *_CALL_LIKE):
        # AND/OR are operators, and WHEN branches are If nodes inside a Case: neither is a call.
        if isinstance(node, exp.Connector) or (isinstance(node, exp.If) and isinstance(node.parent, exp.Case)):
            continue
        found.add(function_name(node))
    # exp.Cast is a Func too; bare CASTs are banned in views (tests/test_sql_rules.py) and the
    # internal casts sqlglot wraps around literals are not calls the SQL makes.
    return found - {"CAST"}


def _unqualify(tree: exp.Expression, database: str) -> exp.Expression:
    for table in tree.find_all(exp.Table):
        if table.args.get("db") is not None and table.db == database:
            table.set("db", None)
    return tree


def utf8_calls(tree: exp.Expression) -> exp.Expression:
    """DuckDB text is UTF-8 already (the engine decodes every file, bytes that are not UTF-8 replaced by U+FFFD as
    Trino's from_utf8 does), so from_utf8(to_utf8(x)) is x, without a copy of every line; length(to_utf8(x)), the
    bytes of x in Trino, is strlen(x) (DuckDB's length() takes no BLOB)."""
    for node in list(tree.find_all(exp.Decode, exp.Length)):
        inner = node.this
        if not isinstance(inner, exp.Encode):
            continue
        if isinstance(node, exp.Decode):
            node.replace(inner.this.copy())
        else:
            node.replace(exp.Anonymous(this="strlen", expressions=[inner.this.copy()]))
    return tree


def duckdb_rewrites(tree: exp.Expression) -> exp.Expression:
    """Every rewrite a Trino query needs before sqlglot writes it for DuckDB (zipped UNNEST, the UTF-8 calls): one
    place, so the local engine and the tests' Athena stand-in answer the same SQL the same way."""
    return utf8_calls(zip_unnests(tree))


def zip_unnests(tree: exp.Expression) -> exp.Expression:
    """Trino's CROSS JOIN UNNEST(a, b) AS t (x, y) zips the arrays: as many rows as the longest, the others padded
    with NULL (https://trino.io/docs/current/sql/select.html#unnest). DuckDB has no multi-array UNNEST in FROM, but
    unnest() calls in one SELECT list zip the same way (https://duckdb.org/docs/sql/query_syntax/unnest), so it is
    written as CROSS JOIN LATERAL (SELECT unnest(a) AS x, unnest(b) AS y) AS t. Unnesting each array there, rather
    than a sequence of positions with element_at, keeps DuckDB from copying the arrays onto every row it yields."""
    for unnest in list(tree.find_all(exp.Unnest)):
        arrays = unnest.expressions
        alias = unnest.args.get("alias")
        if len(arrays) < 2 or not isinstance(unnest.parent, exp.Join) or alias is None:
            continue
        columns = alias.columns
        if len(columns) != len(arrays) or unnest.args.get("offset"):
            raise InputError(f"UNNEST of {len(arrays)} arrays needs one column name per array and no ORDINALITY")
        if _unnest_in_subquery(unnest, arrays, columns, alias.name):
            continue
        select = exp.select(*[exp.alias_(exp.Explode(this=array.copy()), column.copy())
                              for array, column in zip(arrays, columns)])
        unnest.replace(exp.Lateral(this=exp.Subquery(this=select),
                                   alias=exp.TableAlias(this=alias.this.copy())))
    return tree


def _unnest_in_subquery(unnest: exp.Unnest, arrays: List[exp.Expression], columns: List[exp.Expression],
                        name: str) -> bool:
    """SELECT ... FROM t AS f CROSS JOIN UNNEST(f.a, f.b) AS c (x, y) [WHERE ...], the UNNEST its only join, written
    as SELECT ... FROM (SELECT *, unnest(f.a) AS x, unnest(f.b) AS y FROM t AS f) AS f [WHERE ...] with c.x read as
    f.x: the same rows (unnest() calls in one SELECT list zip, padding with NULL; a row whose arrays are all empty or
    NULL yields none), at a third of the LATERAL's cost in DuckDB (which joins the arrays back to their rows). A name
    of t equal to x or y would be ambiguous, an error rather than a wrong value. False (untouched) in any other
    shape."""
    join, select = unnest.parent, unnest.parent.parent
    source = (select.args.get("from_") or select.args.get("from")) if isinstance(select, exp.Select) else None
    if (source is None or not isinstance(source.this, exp.Table) or select.args.get("joins") != [join]
            or join.args.get("on") or (join.args.get("kind") or "CROSS").upper() != "CROSS"):
        return False
    table = source.this
    base = table.alias_or_name
    inner = exp.select(exp.Star(), *[exp.alias_(exp.Explode(this=array.copy()), column.copy())
                                     for array, column in zip(arrays, columns)]).from_(table.copy())
    for column in select.find_all(exp.Column):
        if column.table == name:
            column.set("table", exp.to_identifier(base))
    select.set("joins", None)
    source.set("this", exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(base))))
    return True


def to_duckdb(view: SqlObject, database: str, materialise: bool = False, inline_ctes: bool = False) -> str:
    """DuckDB text of one rendered view; InputError naming the file if it cannot be translated faithfully.

    materialise=True writes CREATE OR REPLACE TABLE ... AS with the same query: the local database
    is a snapshot that never changes after the build, so the result is the same rows, computed once
    instead of once per reader (views on views would recompute the whole chain for every query).

    inline_ctes=True writes every WITH query NOT MATERIALIZED: each reference is evaluated where it is read, as
    Trino does (it inlines WITH queries). For the parse view that matters: its `lines` feed both the per-file header
    aggregate and the per-line join, and DuckDB holding every line until the aggregate is done spills past
    memory_limit (20k users: a third of the build); inlined, it reads the raw tables twice instead.
    """
    tree = parse_athena(view.sql, str(view.path))
    if not isinstance(tree, exp.Create) or str(tree.args.get("kind", "")).upper() != "VIEW":
        raise InputError(f"{view.path}: expected CREATE OR REPLACE VIEW")
    unknown = sorted(functions_used(tree) - set(SUPPORTED_FUNCTIONS))
    if unknown:
        raise InputError(f"{view.path}: uses {', '.join(unknown)}, which has no verified DuckDB translation "
                         "(add a parity case in tests/test_sql_parity.py and list it in "
                         "kiro_analytics/local/translate.py)")
    tree = duckdb_rewrites(_unqualify(tree, database))
    if inline_ctes:
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", False)
    if materialise and not pass_through(tree):
        tree.set("kind", "TABLE")
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise InputError(f"{view.path}: sqlglot cannot translate to DuckDB faithfully: {exc}") from None


def pass_through(tree: exp.Expression) -> bool:
    """True for a view that only picks columns and rows of one relation (no join, grouping, window, DISTINCT or
    CTE): a table of its rows would copy what its reader already holds, so it stays a view even when materialising
    (its readers scan the materialised relation below it)."""
    query = tree.expression if isinstance(tree, exp.Create) else tree
    if not isinstance(query, exp.Select) or query.args.get("with") or query.args.get("joins"):
        return False
    if query.args.get("group") or query.args.get("distinct") or query.args.get("having"):
        return False
    source = query.args.get("from_") or query.args.get("from")
    if source is None or not isinstance(source.this, exp.Table):
        return False
    return not any(query.find_all(exp.Window, exp.AggFunc, exp.Subquery, exp.Unnest))


def fact_to_duckdb(sql: str, source: str, database: str) -> str:
    """DuckDB text of a fact table's CREATE TABLE (Iceberg), INSERT INTO or DELETE (sql/facts/).

    The CREATE keeps its columns and types and drops what only Athena means (PARTITIONED BY, LOCATION, the Iceberg
    TBLPROPERTIES): locally the facts are a plain table, loaded by the same INSERT ... SELECT."""
    tree = parse_athena(sql, source)
    if isinstance(tree, exp.Create):
        if str(tree.args.get("kind", "")).upper() != "TABLE":
            raise InputError(f"{source}: expected CREATE TABLE")
        tree.set("properties", None)
    elif not isinstance(tree, (exp.Insert, exp.Delete)):
        raise InputError(f"{source}: expected CREATE TABLE, INSERT INTO or DELETE FROM")
    unknown = sorted(functions_used(tree) - set(SUPPORTED_FUNCTIONS))
    if unknown:
        raise InputError(f"{source}: uses {', '.join(unknown)}, which has no verified DuckDB translation")
    tree = duckdb_rewrites(_unqualify(tree, database))
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise InputError(f"{source}: sqlglot cannot translate to DuckDB faithfully: {exc}") from None


def expression_to_duckdb(athena_sql: str) -> str:
    """Translate one Athena expression or query (used by the parity tests)."""
    tree = duckdb_rewrites(parse_athena(athena_sql, "expression"))
    return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)


def table_columns(table: SqlObject) -> Tuple[List[str], List[str]]:
    """(data columns, partition columns) of a CREATE EXTERNAL TABLE, read from the DDL itself."""
    tree = parse_athena(table.sql, str(table.path))
    schema = tree.this if isinstance(tree, exp.Create) else None
    if not isinstance(schema, exp.Schema):
        raise InputError(f"{table.path}: expected CREATE EXTERNAL TABLE with a column list")
    columns = [col.name for col in schema.expressions if isinstance(col, exp.ColumnDef)]
    partitions: List[str] = []
    for prop in tree.find_all(exp.PartitionedByProperty):
        partitions = [col.name for col in prop.this.expressions if isinstance(col, exp.ColumnDef)]
    return columns, partitions


def table_serde_properties(table: SqlObject) -> Dict[str, str]:
    """WITH SERDEPROPERTIES of a table's DDL, string escapes resolved ('\\u0001' is the character U+0001)."""
    tree = parse_athena(table.sql, str(table.path))
    return {prop.this.name: prop.args["value"].name
            for props in tree.find_all(exp.SerdeProperties) for prop in props.expressions}


def table_location(table: SqlObject) -> str:
    """The LOCATION of a table's DDL (an s3:// URL)."""
    tree = parse_athena(table.sql, str(table.path))
    for prop in tree.find_all(exp.LocationProperty):
        return prop.this.name
    raise InputError(f"{table.path}: no LOCATION")


def table_properties(table: SqlObject) -> Dict[str, str]:
    """TBLPROPERTIES of a table's DDL (not its SERDEPROPERTIES)."""
    tree = parse_athena(table.sql, str(table.path))
    return {prop.this.name: prop.args["value"].name for prop in tree.find_all(exp.Property)
            if type(prop) is exp.Property and isinstance(prop.this, exp.Literal)
            and prop.find_ancestor(exp.SerdeProperties) is None}


def partition_layout(table: SqlObject) -> List[Tuple[str, int]]:
    """(partition column, how many folders it spans) in folder order below the table's LOCATION.

    With partition projection the order and widths come from storage.location.template, as Athena reads them (a
    date column formatted yyyy/MM/dd spans three folders); without it, each PARTITIONED BY column is one folder.
    """
    _, partitions = table_columns(table)
    properties = table_properties(table)
    template = properties.get("storage.location.template")
    if not template:
        return [(name, 1) for name in partitions]
    location = table_location(table)
    if not template.startswith(location):
        raise InputError(f"{table.path}: storage.location.template {template} is not under LOCATION {location}")
    layout: List[Tuple[str, int]] = []
    for segment in template[len(location):].strip("/").split("/"):
        match = re.fullmatch(r"\$\{(\w+)\}", segment)
        if match is None or match.group(1) not in partitions:
            raise InputError(f"{table.path}: storage.location.template folder {segment!r} is not one partition "
                             "column; the local engine reads templates of whole-folder columns only")
        name = match.group(1)
        is_date = properties.get(f"projection.{name}.type", "").strip().lower() == "date"
        layout.append((name, properties.get(f"projection.{name}.format", "").count("/") + 1 if is_date else 1))
    if sorted(name for name, _ in layout) != sorted(partitions):
        raise InputError(f"{table.path}: storage.location.template names {[n for n, _ in layout]}, "
                         f"PARTITIONED BY has {partitions}")
    return layout
