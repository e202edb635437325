"""Function parity: every function the views call, run through the sqlglot Athena -> DuckDB
translation, must give the result Trino (Athena engine 3) documents. Expected values are written
from the Trino documentation, never computed by DuckDB. A view that calls a function without a
case here fails test_every_view_function_has_a_parity_case."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from kiro_analytics.config import load_config
from kiro_analytics.local.translate import SUPPORTED_FUNCTIONS, expression_to_duckdb, functions_used, parse_athena
from kiro_analytics.sqlfiles import load_views
from local_expected import ROOT

# The patterns and the bound report_lines.sql and ingest_ledger.sql use, as written there.
NAMES_RE = r"^[a-z][a-z0-9_.]*(,[a-z][a-z0-9_.]*)*$"
DECIMAL_RE = r"[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?"
LARGEST_DOUBLE = "1.7976931348623157E308"
# report_lines: a line is a header when its names (trimmed, lower-cased) include date and userid.
NORMALISED = r"regexp_replace(regexp_replace(lower(x), '[ \t\r]*,[ \t\r]*', ','), '^[ \t\r]+|[ \t\r]+$', '')"
IS_HEADER = f"contains(split({NORMALISED}, ','), 'date') AND contains(split({NORMALISED}, ','), 'userid')"

# (function name as translate.py names it, Athena query, Trino result)
CASES = [
    ("ARRAY_POSITION", "SELECT array_position(ARRAY['date', 'userid'], 'userid')", 2),
    # Trino returns 0 for a missing element (DuckDB NULL): the views always wrap it in NULLIF(..., 0).
    ("ARRAY_POSITION", "SELECT NULLIF(array_position(ARRAY['date'], 'new_user'), 0)", None),
    ("ARRAY_SIZE", "SELECT cardinality(ARRAY['a', 'b', 'c'])", 3),
    # report_lines: a header naming a column twice is an unknown layout (only the size is read).
    ("ARRAY_DISTINCT", "SELECT cardinality(array_distinct(split('date,userid,date', ',')))", 2),
    ("ARRAY_DISTINCT", "SELECT cardinality(array_distinct(split('date,userid', ',')))", 2),
    # ingest_ledger: header drift compares the sorted names, so a mere reordering is no drift, a rename is.
    ("ARRAY_SORT", "SELECT array_sort(split('userid,date,auto_messages', ','))", ["auto_messages", "date", "userid"]),
    ("ARRAY_SORT", "SELECT array_sort(split('date,userid', ',')) <> array_sort(split('userid,date', ','))", False),
    ("ARRAY_SORT", "SELECT array_sort(split('date,claude_sonnet_4_messages', ',')) <> "
                   "array_sort(split('claude-sonnet-4_messages,date', ','))", True),
    ("ARG_MAX", "SELECT max_by(x, y) FROM (VALUES ('PRO', 1), ('POWER', 4), ('PRO_PLUS', 2)) AS t (x, y)", "POWER"),
    ("CASE", "SELECT CASE 'PROPLUS' WHEN 'PRO' THEN 'a' WHEN 'PROPLUS' THEN 'b' ELSE 'c' END", "b"),
    ("CHR", "SELECT chr(65)", "A"),
    ("CHR", "SELECT length(replace('x' || chr(65279) || 'y', chr(65279), ''))", 2),
    ("COALESCE", "SELECT COALESCE(TRY_CAST(NULL AS BIGINT), 0)", 0),
    # report_lines: the legacy metrics' cells in one string for one pattern test; a NULL (absent column) is skipped.
    ("CONCAT_WS", "SELECT concat_ws(',', '1', NULL, '', '22')", "1,,22"),
    ("CONCAT_WS", "SELECT concat_ws(',', TRY_CAST(NULL AS varchar), NULL)", ""),
    ("COUNT", "SELECT count(DISTINCT x) FROM (VALUES 1, 1, 2, NULL) AS t (x)", 2),
    ("COUNT", "SELECT count(*) FROM (VALUES 1, NULL) AS t (x)", 2),
    # report_lines: from_utf8(to_utf8(line)) keeps valid text as it is (Trino replaces invalid bytes by U+FFFD).
    ("DECODE", "SELECT from_utf8(to_utf8('Kiro, é 中'))", "Kiro, é 中"),
    ("ENCODE", "SELECT length(from_utf8(to_utf8('é')))", 1),
    ("DATE_ADD", "SELECT TRY_CAST(date_add('day', 29, DATE '2026-02-10') AS DATE)", date(2026, 3, 11)),
    ("DATE_ADD", "SELECT TRY_CAST(date_add('month', 1, DATE '2026-12-01') AS DATE)", date(2027, 1, 1)),
    # monthly_credit_forecast: days in a month and days elapsed; Trino returns BIGINT whole days for DATEs.
    ("DATEDIFF", "SELECT date_diff('day', DATE '2028-02-01', TRY_CAST(date_add('month', 1, DATE '2028-02-01') "
                 "AS DATE))", 29),
    ("DATEDIFF", "SELECT date_diff('day', DATE '2026-11-01', DATE '2026-11-25') + 1", 25),
    # seat_utilisation: a roster date after the data's last day gives a negative count (still inside the grace).
    ("DATEDIFF", "SELECT date_diff('day', DATE '2026-11-27', DATE '2026-11-25')", -2),
    # report_freshness: distinct header arrays (Trino compares arrays element-wise).
    ("COUNT", "SELECT count(DISTINCT h) FROM (VALUES (split('date,userid', ',')), (split('date,userid', ',')), "
              "(split('date,userid,user_email', ','))) AS t (h)", 2),
    # user_groups: splitting an empty groups field gives one '' element in Trino, which the view drops.
    ("UNNEST", "SELECT count(*) FROM (VALUES '', 'web;ml') AS t (g) CROSS JOIN UNNEST(split(g, ';')) AS u (v)", 3),
    ("ELEMENT_AT", "SELECT element_at(ARRAY['a', 'b'], 2)", "b"),
    ("ELEMENT_AT", "SELECT element_at(ARRAY['a', 'b'], 5)", None),  # past the end: NULL (not an error)
    ("ELEMENT_AT", "SELECT element_at(ARRAY['a', 'b'], NULLIF(0, 0))", None),
    ("GENERATE_SERIES", "SELECT sum(k) FROM (VALUES 1) AS t (x) CROSS JOIN UNNEST(sequence(0, 29)) AS s (k)", 435),
    ("UNNEST", "SELECT count(*) FROM (VALUES (ARRAY['a', 'b']), (ARRAY['c'])) AS t (a) CROSS JOIN UNNEST(a) AS u (v)",
     3),
    # active_users_daily: an array of dates (one NULL) zipped with an array of numbers, in order.
    ("ARRAY", "SELECT element_at(ARRAY[DATE '2026-02-10', NULL, DATE '2026-03-01'], 3)", date(2026, 3, 1)),
    ("ARRAY", "SELECT sum(t.s) FROM (VALUES DATE '2026-02-10') AS v (d) CROSS JOIN UNNEST(ARRAY[v.d, NULL, v.d], "
              "ARRAY[1, -1, 5]) AS t (x, s) WHERE t.x IS NOT NULL", 6),
    # model_usage_daily: two arrays zipped; Trino pads the shorter with NULL and a NULL or empty array adds no row
    # (https://trino.io/docs/current/sql/select.html#unnest).
    ("UNNEST", "SELECT count(*) FROM (VALUES (ARRAY['a', 'b', 'c'], ARRAY[10, 20])) AS v (a, b) "
               "CROSS JOIN UNNEST(v.a, v.b) AS t (x, y)", 3),
    ("UNNEST", "SELECT count(*) FROM (VALUES (ARRAY['a', 'b', 'c'], ARRAY[10, 20])) AS v (a, b) "
               "CROSS JOIN UNNEST(v.a, v.b) AS t (x, y) WHERE t.y IS NULL AND t.x = 'c'", 1),
    ("UNNEST", "SELECT sum(t.y) FROM (VALUES (ARRAY['a', 'b'], ARRAY[10, 20]), (ARRAY['c'], ARRAY[5])) AS v (a, b) "
               "CROSS JOIN UNNEST(v.a, v.b) AS t (x, y) WHERE t.x <> 'a'", 25),
    ("UNNEST", "SELECT count(*) FROM (VALUES (TRY_CAST(NULL AS ARRAY(varchar)), ARRAY[5]), (ARRAY[], ARRAY[])) "
               "AS v (a, b) CROSS JOIN UNNEST(v.a, v.b) AS t (x, y)", 1),
    # The same from a named relation (model_message_facts.load.sql, active_users_daily), which DuckDB reads as the
    # relation's rows with the unnest() calls in their SELECT list (translate._unnest_in_subquery), not a LATERAL.
    ("UNNEST", "WITH v (k, a, b) AS (VALUES (1, ARRAY['a', 'b', 'c'], ARRAY[10, 20]), (2, ARRAY['d'], ARRAY[5, 6])) "
               "SELECT sum(v.k * 100 + COALESCE(t.y, 1)) FROM v CROSS JOIN UNNEST(v.a, v.b) AS t (x, y) "
               "WHERE t.x IS NULL OR t.x <> 'a'", 100 + 20 + 100 + 1 + 200 + 5 + 200 + 6),
    ("UNNEST", "WITH v (k, a, b) AS (VALUES (1, TRY_CAST(NULL AS ARRAY(varchar)), ARRAY[5]), (2, ARRAY[], ARRAY[]), "
               "(3, TRY_CAST(NULL AS ARRAY(varchar)), TRY_CAST(NULL AS ARRAY(bigint)))) "
               "SELECT count(*) FROM v AS f CROSS JOIN UNNEST(f.a, f.b) AS t (x, y) WHERE f.k > 0", 1),
    ("GREATEST", "SELECT greatest(3.5e0 - 5, 0)", 0.0),
    ("GREATEST", "SELECT greatest(TRY_CAST(NULL AS DOUBLE), 0)", None),  # Trino: NULL if any argument is NULL
    ("LENGTH", "SELECT length('claude_opus_4.6_messages')", 24),
    # ingest_ledger: header drift compares a file's header with the previous export's.
    ("LAG", "SELECT p FROM (SELECT v, lag(v) OVER (PARTITION BY g ORDER BY k) AS p FROM (VALUES ('x', 1, 'a'), "
            "('x', 2, 'b'), ('y', 3, 'c')) AS t (g, k, v)) AS r WHERE v = 'b'", "a"),
    ("LAG", "SELECT p FROM (SELECT v, lag(v) OVER (PARTITION BY g ORDER BY k) AS p FROM (VALUES ('x', 1, 'a'), "
            "('y', 3, 'c')) AS t (g, k, v)) AS r WHERE v = 'c'", None),
    ("LOWER", "SELECT lower('Date,UserId')", "date,userid"),
    ("UPPER", "SELECT upper('Pro Plus')", "PRO PLUS"),
    ("MAX", "SELECT max(x) FROM (VALUES '202605020105', '202605020205') AS t (x)", "202605020205"),
    ("MIN", "SELECT min(x) FROM (VALUES DATE '2026-05-02', DATE '2026-05-01') AS t (x)", date(2026, 5, 1)),
    ("SUM", "SELECT sum(x) FROM (VALUES 1.5e0, 2.25e0, NULL) AS t (x)", 3.75),
    ("NULLIF", "SELECT NULLIF('', '')", None),
    ("PAD", "SELECT lpad('5', 2, '0')", "05"),
    ("PAD", "SELECT lpad('2026', 2, '0')", "20"),  # Trino truncates to the length
    ("REGEXP_EXTRACT", "SELECT regexp_extract('/x/KIRO_IDE_123456789012_user_report_202605020205_part_1.csv', "
                       "'[^/]*$')", "KIRO_IDE_123456789012_user_report_202605020205_part_1.csv"),
    ("REGEXP_EXTRACT", "SELECT regexp_extract('KIRO_IDE_123456789012_user_report_202605020205_part_1.csv', "
                       "'.*([0-9]{12})', 1)", "202605020205"),
    ("REGEXP_EXTRACT", "SELECT regexp_extract('123456789012_by_user_analytic_202605020300_report.csv', "
                       "'.*([0-9]{12})', 1)", "202605020300"),
    # No match: Trino NULL, DuckDB ''; the views wrap it in NULLIF(..., '').
    ("REGEXP_EXTRACT", "SELECT NULLIF(regexp_extract('report.csv', '.*([0-9]{12})', 1), '')", None),
    ("REGEXP_REPLACE", "SELECT regexp_replace('d-1234567890.3c1d-aa', '^d-[0-9A-Za-z]+[.]', '')", "3c1d-aa"),
    ("REGEXP_REPLACE", "SELECT regexp_replace('a.b.c', '[.]', '')", "abc"),  # Trino replaces every match
    # Trino's documented example, then the patterns report_lines uses: a header line is names only; a number is
    # digits (whole) or a decimal; a date is ISO or MM-DD-YYYY. Trino searches anywhere, so ^...$ anchors them.
    ("REGEXP_LIKE", "SELECT regexp_like('1a 2b 14m', '\\d+b')", True),
    ("CONTAINS", f"SELECT {IS_HEADER} FROM (VALUES ' Date , USERID ,claude_opus_4.6_messages\r') AS t (x)", True),
    ("CONTAINS", f"SELECT {IS_HEADER} FROM (VALUES 'UserId,Date,Chat_AICodeLines') AS t (x)", True),
    ("CONTAINS", f"SELECT {IS_HEADER} FROM (VALUES 'Total,Summary') AS t (x)", False),  # words, not a header
    ("CONTAINS", f"SELECT {IS_HEADER} FROM (VALUES 'Date,User_Id,Credits_Used') AS t (x)", False),
    ("CONTAINS", f"SELECT {IS_HEADER} FROM (VALUES '2026-05-01,aaaa-bbbb,KIRO_IDE') AS t (x)", False),
    # ingest_ledger: a name outside the form Kiro writes is header drift.
    ("REGEXP_LIKE", f"SELECT regexp_like('date,userid,claude_opus_4.6_messages', '{NAMES_RE}')", True),
    ("REGEXP_LIKE", f"SELECT regexp_like('date,userid,claude-sonnet-4_messages', '{NAMES_RE}')", False),
    ("REGEXP_LIKE", f"SELECT regexp_like('date,userid,', '{NAMES_RE}')", False),
    ("REGEXP_LIKE", "SELECT regexp_like('1.5', '^[0-9,]*$')", False),
    ("REGEXP_LIKE", "SELECT regexp_like('12,,0', '^[0-9,]*$')", True),
    ("REGEXP_LIKE", "SELECT regexp_like('1,1234567890,0', '[0-9]{10}')", True),   # a legacy metric too long
    ("REGEXP_LIKE", "SELECT regexp_like('123456789,123456789', '[0-9]{10}')", False),
    ("REGEXP_LIKE", f"SELECT regexp_like('1.2E-4', '^{DECIMAL_RE}$')", True),
    ("REGEXP_LIKE", f"SELECT regexp_like('0x10', '^{DECIMAL_RE}$')", False),
    # No sign: credits, caps and counts are never negative; NaN and Infinity are not decimals.
    ("REGEXP_LIKE", f"SELECT regexp_like('-1.0', '^{DECIMAL_RE}$')", False),
    ("REGEXP_LIKE", f"SELECT regexp_like('NaN', '^{DECIMAL_RE}$')", False),
    ("REGEXP_LIKE", f"SELECT regexp_like('Infinity', '^{DECIMAL_RE}$')", False),
    ("REGEXP_LIKE", f"SELECT regexp_like('1e999', '^{DECIMAL_RE}$')", True),  # the bound below refuses it
    ("REGEXP_LIKE", "SELECT regexp_like('05-01-2026', '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')", False),
    ("REGEXP_LIKE", "SELECT regexp_like('5-1-2026', '^[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}$')", True),
    ("REGEXP_LIKE", "SELECT regexp_like(' \t', '^[ \\t\\r]*$')", True),
    ("REPLACE", "SELECT replace('\"3c1d\"', '\"', '')", "3c1d"),
    ("ROW_NUMBER", "SELECT v FROM (SELECT v, g, row_number() OVER (PARTITION BY g ORDER BY v DESC) AS rn "
                   "FROM (VALUES (1, 'a'), (1, 'b'), (2, 'c')) AS t (g, v)) AS r WHERE rn = 1 AND g = 1", "b"),
    ("SPLIT", "SELECT cardinality(split('a,,b,', ','))", 4),
    ("SPLIT", "SELECT element_at(split('a,,b', ','), 2)", ""),
    ("SPLIT_PART", "SELECT split_part('05-01-2026', '-', 3)", "2026"),
    ("STR_POSITION", "SELECT strpos('high', 'ig')", 2),
    ("STR_POSITION", "SELECT strpos('2026-05-01,x', chr(65533))", 0),
    ("SUBSTRING", "SELECT substr('auto_messages', 1, 4)", "auto"),
    ("SUBSTRING", "SELECT substr('auto_messages', 5)", "_messages"),
    ("TIMESTAMP_TRUNC", "SELECT TRY_CAST(date_trunc('month', d) AS DATE) FROM (VALUES DATE '2026-05-17') AS t (d)",
     date(2026, 5, 1)),
    ("TRIM", "SELECT trim('  PRO ')", "PRO"),
    ("TRY_CAST", "SELECT TRY_CAST('' AS BIGINT)", None),
    ("TRY_CAST", "SELECT TRY_CAST('12' AS BIGINT)", 12),
    ("TRY_CAST", "SELECT TRY_CAST('0.125' AS DOUBLE)", 0.125),
    # report_lines: a decimal beyond the largest double is out: Trino's cast of '1e999' gives Infinity (Java's
    # Double.parseDouble) and so does DuckDB's; were either to give NULL, the COALESCE still says false.
    ("TRY_CAST", f"SELECT COALESCE(TRY_CAST('1e999' AS DOUBLE) <= {LARGEST_DOUBLE}, false)", False),
    ("TRY_CAST", f"SELECT COALESCE(TRY_CAST('1.7976931348623159E308' AS DOUBLE) <= {LARGEST_DOUBLE}, false)", False),
    ("TRY_CAST", f"SELECT COALESCE(TRY_CAST('{LARGEST_DOUBLE}' AS DOUBLE) <= {LARGEST_DOUBLE}, false)", True),
    ("TRY_CAST", f"SELECT COALESCE(TRY_CAST('1.0e2' AS DOUBLE) <= {LARGEST_DOUBLE}, false)", True),
    # A whole number must fit a BIGINT: 20 digits is NULL in both, so the line is rejected, never read as 0.
    ("TRY_CAST", "SELECT COALESCE(TRY_CAST('99999999999999999999' AS BIGINT) >= 0, false)", False),
    ("TRY_CAST", "SELECT COALESCE(TRY_CAST('9223372036854775807' AS BIGINT) >= 0, false)", True),
    ("TRY_CAST", "SELECT TRY_CAST('2026-05-01' AS DATE)", date(2026, 5, 1)),
    ("TRY_CAST", "SELECT TRY_CAST('01-20-05' AS DATE)", None),
    ("TRY_CAST", "SELECT TRY_CAST('true' AS VARCHAR)", "true"),
    ("CONTAINS", "SELECT contains(ARRAY['date', 'new_user'], 'new_user')", True),
    ("CONTAINS", "SELECT contains(ARRAY['date'], 'user_email')", False),
    # Trino's documented examples (functions/array.html#filter, #transform), then report_lines' model columns.
    ("FILTER", "SELECT filter(ARRAY[5, -6, NULL, 7], x -> x > 0)", [5, 7]),
    ("FILTER", "SELECT filter(ARRAY['date', 'auto_messages', 'total_messages'], n -> length(n) > 9 "
               "AND substr(n, length(n) - 8) = '_messages' AND n <> 'total_messages')", ["auto_messages"]),
    ("FILTER", "SELECT cardinality(filter(ARRAY['date'], n -> n = 'x'))", 0),
    ("TRANSFORM", "SELECT transform(ARRAY[5, 6], x -> x + 1)", [6, 7]),
    ("TRANSFORM", "SELECT transform(ARRAY[2, 3], p -> COALESCE(TRY_CAST(trim(element_at(split('a, 4 ,x', ','), p)) "
                  "AS BIGINT), 0))", [4, 0]),
    ("||", "SELECT '2026' || '-' || '05'", "2026-05"),
    ("||", "SELECT '2026' || TRY_CAST(NULL AS VARCHAR)", None),  # Trino: NULL if either side is NULL
]


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.mark.parametrize("name, athena, trino", CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)])
def test_translation_matches_trino(con, name, athena, trino):
    assert name in functions_used(parse_athena(athena, "case")) or name in ("CASE",), (name, athena)
    got = con.execute(expression_to_duckdb(athena)).fetchall()
    assert len(got) == 1 and len(got[0]) == 1, got
    value = got[0][0]
    if isinstance(trino, float):
        assert value == pytest.approx(trino)
    else:
        assert value == trino and type(value) is type(trino), (athena, expression_to_duckdb(athena), value)


def test_legacy_date_expression():
    """The MM-DD-YYYY reading in user_behavior_daily.sql, ISO accepted as a fallback."""
    expression = ("COALESCE(TRY_CAST(split_part(c, '-', 3) || '-' || lpad(split_part(c, '-', 1), 2, '0') || '-' "
                  "|| lpad(split_part(c, '-', 2), 2, '0') AS DATE), TRY_CAST(c AS DATE))")
    sql = f"SELECT c, {expression} FROM (VALUES '05-01-2026', '5-1-2026', '2026-05-01', '', 'x') AS t (c)"
    got = dict(duckdb.connect().execute(expression_to_duckdb(sql)).fetchall())
    assert got == {"05-01-2026": date(2026, 5, 1), "5-1-2026": date(2026, 5, 1), "2026-05-01": date(2026, 5, 1),
                   "": None, "x": None}


def _view_functions():
    config = load_config(str(ROOT / "config.example.yaml"))
    used = {}
    for view in load_views(config):
        for name in functions_used(parse_athena(view.sql, str(view.path))):
            used.setdefault(name, view.name)
    return used


def test_every_view_function_has_a_parity_case():
    covered = {name for name, _, _ in CASES}
    missing = {name: view for name, view in _view_functions().items() if name not in covered}
    assert not missing, f"functions used by views without a parity case: {missing}"


def test_supported_list_is_exactly_what_is_tested():
    covered = {name for name, _, _ in CASES}
    assert set(SUPPORTED_FUNCTIONS) <= covered, set(SUPPORTED_FUNCTIONS) - covered
    assert set(_view_functions()) <= set(SUPPORTED_FUNCTIONS)


def test_patterns_checked_here_are_the_ones_report_lines_uses():
    text = (ROOT / "sql" / "views" / "report_lines.sql").read_text(encoding="utf-8")
    assert text.count(DECIMAL_RE) == 4 and "-?[0-9]" not in text
    assert text.count(f"<= {LARGEST_DOUBLE}") == 4  # Credits_Used, Overage_Cap, Overage_Credits_Used, Usage_Limit
    assert NORMALISED.replace("lower(x)", "lower(clean_line)") in text
    assert "contains(split(names, ','), 'date') AND contains(split(names, ','), 'userid') AS is_header" in text
    ledger = (ROOT / "sql" / "views" / "ingest_ledger.sql").read_text(encoding="utf-8")
    assert f"'{NAMES_RE}'" in ledger and "array_sort(split(header, ','))" in ledger
