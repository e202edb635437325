"""The Athena estimate behind quicksight/refresh.json (bench/refresh_scan.py, local_build.py --scan): the date
predicate of an incremental SPICE refresh must reach the fact table, or the refresh reads every day anyway."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from kiro_analytics.config import load_config
from kiro_analytics.local import engine, sample_data
from kiro_analytics.quicksight import refresh
from local_expected import ROOT, SAMPLE_DAYS, SAMPLE_END, SAMPLE_USERS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import refresh_scan  # noqa: E402  (a measuring tool beside the benchmark, not part of the package)

# What a view may read of every day on an incremental refresh, and why: new_vs_returning_daily each user's first
# day (from the small aggregate user_active_days, no longer the fact lines), report_freshness each file's header.
# Everything else a dataset refreshed incrementally reads must be of the window's days only (model_usage_detail no
# longer reads the most model columns of every line: its cells are rows of model_message_facts).
EVERY_DAY = {
    "new_vs_returning_daily": ["user_active_days.activity_date", "user_active_days.userid"],
    "report_freshness": ["header_text", "line_status", "source_path"],
}


def test_scan_bytes_reads_the_windows_partitions_only_for_a_scan_that_carries_its_predicate():
    sizes = {"2026-11-01": {"userid": 10, "credits_used": 5}, "2026-11-02": {"userid": 20, "credits_used": 1},
             "2026-11-03": {"header_text": 7}}
    newest = {"2026-11-01": "2026-11-01", "2026-11-02": "2026-11-02"}  # 11-03 holds header lines only
    pruned = ({"userid"}, "activity_date>='2026-11-02'::DATE")
    every = ({"userid", "credits_used"}, "line_status='valid'")
    assert refresh_scan.scan_bytes([pruned], sizes, newest, "2026-11-02") == 20
    assert refresh_scan.scan_bytes([every], sizes, newest, "2026-11-02") == 36
    assert refresh_scan.scan_bytes([pruned, every], sizes, newest, "2026-11-02") == 56


def _build(tmp_path_factory, **overrides):
    tmp = tmp_path_factory.mktemp("scan")
    manifest = sample_data.generate(tmp / "data", users=SAMPLE_USERS, days=SAMPLE_DAYS, end=SAMPLE_END)
    users = sample_data.write_user_map(manifest, tmp / "users.csv")
    config = load_config(str(ROOT / "config.example.yaml"))
    if overrides:
        from dataclasses import replace

        config = replace(config, **overrides)
    result = engine.build(tmp / "data", tmp / "out", config, users, materialise=False)
    return duckdb.connect(str(result.db_path), read_only=True), tmp


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    con, tmp = _build(tmp_path_factory)
    yield con, tmp
    con.close()


def test_every_incremental_dataset_reads_the_window_only(plain):
    con, tmp = plain
    plan = refresh.load_plan()
    estimate = refresh_scan.estimate(con, tmp / "facts", sorted(plan.incremental), plan.incremental,
                                     plan.lookback_days())
    assert estimate["unpruned_columns"] == {view: EVERY_DAY.get(view, []) for view in plan.incremental}
    # 7 of 60 days: every incremental refresh reads well under a full one.
    for view in plan.incremental:
        assert estimate["daily"][view] < 0.5 * estimate["full"][view], view


def test_the_datasets_refreshed_in_full_read_the_aggregates_not_the_fact_lines(plain):
    """Issue 12: a full refresh of a dataset whose rows depend on every day reads the small tables the facts job
    keeps (sql/facts/: per user-month, per user-day, per file-month), never the line facts."""
    con, _tmp = plain
    plan = refresh.load_plan()
    datasets = sorted(path.stem for path in (ROOT / "quicksight" / "datasets").glob("*.json"))
    full = [name for name in datasets if name not in plan.incremental]
    assert full == ["active_users_daily", "credit_forecast_watchlist", "idle_seats", "ingest_ledger",
                    "monthly_credit_forecast", "monthly_user_credits", "seat_utilisation", "tier_summary"]
    for view in full:
        tables = {scan.table for scan in refresh_scan.plan_scans(con, f"SELECT * FROM {view}")}
        assert tables and not tables & {"report_line_facts", "model_message_facts"}, (view, tables)


def test_under_the_running_total_reading_the_daily_cost_views_read_every_day(tmp_path_factory):
    """The documented cost of plans.overage_reading: running_total: a day's overage needs the previous active day
    of its month, so the window's predicate stops at user_credit_daily's window (still correct, not cheaper)."""
    con, _tmp = _build(tmp_path_factory, overage_reading="running_total")
    try:
        since = refresh_scan.window_start(con, 7)
        scans = refresh_scan.plan_scans(con, f"SELECT * FROM user_daily_detail WHERE activity_date >= DATE '{since}'")
        assert scans and not any(refresh_scan.is_pruned(scan, since) for scan in scans)
    finally:
        con.close()
