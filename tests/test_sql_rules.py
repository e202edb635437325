"""Rules every SQL file in sql/ keeps, checked on the parsed Athena SQL."""

from __future__ import annotations

import pytest
from kiro_analytics.config import load_config
from kiro_analytics.local.translate import parse_athena
from kiro_analytics.sqlfiles import load_tables, load_views
from local_expected import ROOT
from sqlglot import exp

CONFIG = load_config(str(ROOT / "config.example.yaml"))
VIEWS = load_views(CONFIG)
RAW_TEXT = {view.name: view.path.read_text(encoding="utf-8") for view in VIEWS}


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_no_order_by_or_limit_in_views(view):
    tree = parse_athena(view.sql, str(view.path))
    assert not list(tree.find_all(exp.Limit)), f"{view.path}: LIMIT in a view"
    # ORDER BY is allowed only inside window functions (row_number() OVER (... ORDER BY ...)).
    for order in tree.find_all(exp.Order):
        assert isinstance(order.parent, exp.Window), f"{view.path}: ORDER BY outside a window"


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_only_try_cast(view):
    tree = parse_athena(view.sql, str(view.path))
    bare = [node.sql("athena") for node in tree.find_all(exp.Cast) if not isinstance(node, exp.TryCast)]
    assert not bare, f"{view.path}: bare CAST {bare}; use TRY_CAST (a bad value must not fail the query)"


def _numbers(sql: str):
    tree = parse_athena(sql, "view")
    return {float(node.this) for node in tree.find_all(exp.Literal) if not node.is_string}


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_no_price_or_allowance_in_sql_text(view):
    """Prices and allowances come from config through placeholders, never from the SQL text.
    0, 1 and 100 (percent) are structural, so a configured value equal to them cannot be told apart."""
    configured = {CONFIG.overage_price_per_credit} | {t.credits for t in CONFIG.tiers} | {t.price for t in CONFIG.tiers}
    text = RAW_TEXT[view.name].replace("${plan_tier_rows}", "('X', 0, 0, 1, true, true)")
    text = text.replace("${overage_price_per_credit}", "0").replace("${database}", "db")
    found = (_numbers(text) & configured) - {0.0, 1.0, 100.0}
    assert not found, f"{view.path}: literal {sorted(found)} equals a configured price or allowance"


def test_rendered_plan_view_carries_config_values():
    plan = next(v for v in VIEWS if v.name == "plan_tiers")
    assert "('PRO', 1000, 20, 2, true, true)" in plan.sql and "('POWER', 10000, 200, 5, true, true)" in plan.sql
    assert "('FREE', 50, 0, 1, false, false)" in plan.sql
    assert "TRY_CAST(0.04 AS DOUBLE)" in plan.sql


def test_tables_are_external_with_placeholders_only():
    for table in load_tables(CONFIG):
        assert table.sql.count("CREATE EXTERNAL TABLE IF NOT EXISTS kiro_analytics.") == 1
        assert "s3://my-kiro-reports/" in table.sql
