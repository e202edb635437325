#!/usr/bin/env python3
"""./deploy.sh --verify: the same per-day aggregates from Athena (the deployed views) and from DuckDB (a local build
of the same report files), compared day by day and column by column.

The one entry point that uses both the AWS side (boto3) and the local engine (DuckDB); the comparison itself is
kiro_analytics.crosscheck, which imports neither.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

from kiro_analytics.athena import load_query, run_query
from kiro_analytics.cli import StepContext, base_parser, run_command
from kiro_analytics.crosscheck import QUERIES, compare, days_compared, folder_window, report
from kiro_analytics.errors import InputError, StepFailed
from kiro_analytics.local.aggregates import local_rows
from kiro_analytics.local.window_query import windowed_query, with_fact_loads
from kiro_analytics.report_download import download_reports
from kiro_analytics.sqlfiles import load_facts, load_tables, load_views


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{flag}: {text!r} is not a date YYYY-MM-DD") from None


def action(ctx: StepContext) -> str:
    args, config = ctx.args, ctx.config
    since = _day(args.since, "--since") if args.since else None
    until = _day(args.until, "--until") if args.until else None
    low, high = folder_window(since, until)
    with tempfile.TemporaryDirectory(prefix="kiro-verify-") as scratch:
        data = Path(scratch) / "reports"
        copied = download_reports(ctx.clients.client("s3"), config, load_tables(config), data, low, high)
        print(f"    downloaded {copied} report file(s) from s3://{config.bucket_name}/{config.report_root}")
        if not copied:
            raise StepFailed("no report files to compare: check s3.prefix, or widen --since/--until")
        local = local_rows(data, Path(scratch) / "duckdb", config, QUERIES)
    differences, days = [], set()
    views, tables = with_fact_loads(load_views(config), load_facts(config), config, low, high), load_tables(config)
    for name in QUERIES:
        # With a window, Athena reads only the day folders the local side downloaded (window_query says why).
        sql = windowed_query(load_query(name), views, tables, config.database, low, high)
        athena = run_query(ctx.clients.client("athena"), sql, config.workgroup, config.database, name)
        differences += compare(name, athena, local[name], since, until)
        days |= days_compared(name, athena, since, until)
    if differences:
        raise StepFailed(f"Athena and the local engine differ in {len(differences)} value(s):\n{report(differences)}")
    return (f"Athena and DuckDB agree on {len(days)} day(s): rows, users, credits, overage, messages, "
            "messages per model, the legacy report's metrics, the ingest ledger's lines")


def build_parser():
    parser = base_parser("Compare the deployed Athena views with a local DuckDB build of the same reports")
    parser.add_argument("--since", default="", help="first activity day to compare (YYYY-MM-DD)")
    parser.add_argument("--until", default="", help="last activity day to compare (YYYY-MM-DD)")
    return parser


if __name__ == "__main__":
    sys.exit(run_command("verify", "./deploy.sh --verify", action, parser=build_parser()))
