"""sqlfiles: view order derived from the SQL text, strict placeholders, errors that name files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from kiro_analytics.config import load_config
from kiro_analytics.errors import InputError
from kiro_analytics.sqlfiles import load_tables, load_views, sql_values
from kiro_analytics.templating import render
from local_expected import ROOT

CONFIG = load_config(str(ROOT / "config.example.yaml"))


def _sql_dir(tmp_path: Path, views: dict) -> Path:
    (tmp_path / "tables").mkdir()
    (tmp_path / "views").mkdir()
    (tmp_path / "tables" / "t.sql").write_text(
        "CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.t (line string) LOCATION 's3://${bucket}/x/'")
    for name, body in views.items():
        (tmp_path / "views" / f"{name}.sql").write_text(f"CREATE OR REPLACE VIEW ${{database}}.{name} AS {body}")
    return tmp_path


def test_real_views_come_after_what_they_read():
    order = [view.name for view in load_views(CONFIG)]
    assert set(order) >= {"user_activity_daily", "model_usage_daily", "user_behavior_daily", "user_summary",
                          "daily_summary", "tier_summary", "monthly_user_credits", "feature_adoption_daily",
                          "inline_acceptance_daily", "active_users_daily", "new_vs_returning_daily",
                          "user_daily_detail", "user_behavior_detail", "model_usage_detail", "client_mix_daily"}
    for earlier, later in [("user_report_lines", "user_report_latest"), ("user_report_latest", "user_activity_daily"),
                           ("user_activity_daily", "user_summary"), ("plan_tiers", "monthly_user_credits"),
                           ("user_names", "user_summary"), ("plan_tiers", "tier_summary"),
                           ("user_behavior_detail", "daily_summary"), ("user_days", "daily_summary")]:
        assert order.index(earlier) < order.index(later), (earlier, later)


def test_the_build_order_loads_each_aggregate_between_what_it_reads_and_what_reads_it():
    from kiro_analytics.sqlfiles import build_order, load_facts

    views, facts = load_views(CONFIG), load_facts(CONFIG)
    order = [item.name for item in build_order(views, facts)]
    assert sorted(order) == sorted([v.name for v in views] + [f.name for f in facts])
    for earlier, later in [("report_lines", "report_line_facts"), ("report_line_facts", "report_line_status"),
                           ("user_credit_daily", "user_month_facts"), ("user_month_facts", "user_month_usage"),
                           ("user_month_facts", "tier_summary"), ("user_days", "user_active_days"),
                           ("user_active_days", "active_users_daily"), ("user_active_days", "seat_utilisation")]:
        assert order.index(earlier) < order.index(later), (earlier, later)


def test_a_fact_whose_load_reads_a_view_over_itself_is_refused(tmp_path):
    import dataclasses

    from kiro_analytics.sqlfiles import build_order, load_facts

    views, facts = load_views(CONFIG), load_facts(CONFIG)
    # user_month_usage reads user_month_facts: a load of user_month_facts that read it could never run.
    fact = next(f for f in facts if f.name == "user_month_facts")
    looped = tmp_path / "facts"
    looped.mkdir()
    (looped / "user_month_facts.load.sql").write_text(
        "INSERT INTO ${database}.user_month_facts (month) SELECT month FROM ${database}.user_month_usage\n")
    bad = dataclasses.replace(fact, path=looped / "user_month_facts.sql")
    with pytest.raises(InputError, match=r"user_month_facts\.sql: reads user_month_usage, which cannot be built"):
        build_order(views, [f if f.name != fact.name else bad for f in facts])


def test_order_is_derived_not_alphabetical(tmp_path):
    sql_dir = _sql_dir(tmp_path, {"a_top": "SELECT * FROM ${database}.z_base", "z_base": "SELECT * FROM ${database}.t"})
    assert [v.name for v in load_views(CONFIG, sql_dir)] == ["z_base", "a_top"]


def test_reads_come_from_the_code_not_comments_or_strings(tmp_path):
    sql_dir = _sql_dir(tmp_path, {"a_top": "SELECT 'z_base' AS note, x.* FROM z_base x -- not from t\n",
                                  "z_base": "SELECT * FROM ${database}.t /* unlike a_top */"})
    assert {v.name: set(v.reads) for v in load_views(CONFIG, sql_dir)} == {"z_base": {"t"}, "a_top": {"z_base"}}


def test_cycle_names_both_files(tmp_path):
    sql_dir = _sql_dir(tmp_path, {"v1": "SELECT * FROM ${database}.v2", "v2": "SELECT * FROM ${database}.v1"})
    with pytest.raises(InputError, match=r"v1\.sql and .*v2\.sql depend on each other"):
        load_views(CONFIG, sql_dir)


def test_missing_object_names_the_reader_and_the_missing_file(tmp_path):
    sql_dir = _sql_dir(tmp_path, {"v1": "SELECT * FROM ${database}.nowhere"})
    with pytest.raises(InputError, match=r"v1\.sql: reads nowhere.*nowhere\.sql does not exist"):
        load_views(CONFIG, sql_dir)


def test_file_must_create_the_object_it_is_named_for(tmp_path):
    sql_dir = _sql_dir(tmp_path, {"v1": "SELECT 1"})
    (sql_dir / "views" / "v1.sql").write_text("CREATE OR REPLACE VIEW ${database}.other AS SELECT 1")
    with pytest.raises(InputError, match=r"v1\.sql: expected"):
        load_views(CONFIG, sql_dir)


def test_render_replaces_known_placeholders():
    assert render("SELECT * FROM ${database}.t", {"database": "kiro"}, "f.sql") == "SELECT * FROM kiro.t"


@pytest.mark.parametrize("text, values, message", [
    ("SELECT ${nope}", {"database": "kiro"}, r"f\.sql: no value for placeholder\(s\) \$\{nope\}"),
    ("SELECT 1", {"mystery": "x"}, r"f\.sql: .*mystery.* not a known placeholder"),
    ("SELECT ${database}", {"database": "kiro;drop"}, r"f\.sql: .*database.*not allowed"),
    ("LOCATION 's3://${bucket}/'", {"bucket": "b'x"}, r"f\.sql: .*bucket.*not allowed"),
    ("LOCATION '${prefix}'", {"prefix": "it's/"}, r"f\.sql: .*prefix.*not allowed"),
    ("SELECT ${database", {"database": "kiro"}, r"f\.sql: malformed placeholder"),
    ("SELECT ${1x}", {"database": "kiro"}, r"f\.sql: malformed placeholder"),
])
def test_render_is_strict(text, values, message):
    with pytest.raises(InputError, match=message):
        render(text, values, "f.sql")


def test_sql_values_from_config():
    values = sql_values(CONFIG)
    assert values["user_mapping_prefix"] == "user-mapping/"
    # (tier, credits, price, rank, overage_available, advisable): FREE cannot buy overage and is not advised.
    assert values["plan_tier_rows"] == ("('FREE', 50, 0, 1, false, false), ('PRO', 1000, 20, 2, true, true), "
                                        "('PRO_PLUS', 2000, 40, 3, true, true), ('PRO_MAX', 5000, 100, 4, true, true), "
                                        "('POWER', 10000, 200, 5, true, true)")
    assert values["overage_price_per_credit"] == "0.04" and values["overage_reading"] == "daily"
    advised = sql_values(replace(CONFIG, advise_free=True, overage_reading="running_total"))
    assert advised["plan_tier_rows"].startswith("('FREE', 50, 0, 1, false, true), ")
    assert advised["overage_reading"] == "running_total"
    table = next(t for t in load_tables(CONFIG) if t.name == "user_mapping")
    assert "LOCATION 's3://my-kiro-reports/user-mapping/'" in table.sql


def test_mapping_key_without_folder_is_refused():
    with pytest.raises(InputError, match="must be inside a folder"):
        sql_values(replace(CONFIG, user_mapping_key="map.csv"))
