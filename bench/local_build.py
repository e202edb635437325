"""Benchmark the local build against the typed-read floor, and estimate a daily Athena refresh's scan.

    .venv/bin/python bench/local_build.py [--sizes 1000,5000,20000] [--days 365] [--threads 2]
                                          [--cache /tmp/kiro-bench] [--tree /path/to/other/checkout]
                                          [--scan | --scan-only] [--profile]

For each size: generate N users x D days of sample reports (kept under --cache and reused: the generator is
deterministic), then, each in a fresh child process (so one's memory is not counted in the other's):

* floor: a typed read of the same report files with DuckDB's CSV reader (header bound by name, typed columns)
  and one GROUP BY per day per report: the least any build must do;
* build: engine.build, every fact table and view.

CPU seconds (user + system of the child, DuckDB's threads included) are the figure compared: on a shared
machine they are steadier than wall time. Peak memory is the child's ru_maxrss (DuckDB allocates outside Python).
With --profile the build also prints its CPU-s per object (each raw table, fact table and view is built by one
statement, one after the other), largest first: what to cut next.
Printed: build / floor as a ratio, and the targets (issue 12): at 20k users within 4x the floor and under 2 GiB;
1k no slower than before (compare with --tree pointing at the previous checkout, e.g. /work/main).

The Athena estimate (--scan, or --scan-only without the floor and the build; this tree only): what one day's SPICE
refreshes of the QuickSight datasets read, as quicksight/refresh.json schedules them (incremental with a lookback
window, or full), modelled by bench/refresh_scan.py: the fact table as Parquet ZSTD, one file per day
folder; each fact scan of DuckDB's plan of the dataset's view, its columns, and every day folder unless the scan
carries the incremental window's date predicate. Printed: the daily refresh as a ratio to the fact table's bytes
(target <= 1.5x), the weekly full-refresh day and the week's average, the same at two years of history, and the
largest single query (a full refresh, scaled to two years) against athena.bytes_scanned_cutoff.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR_RATIO_TARGET = 4.0
RSS_TARGET_MIB = 2048
SCAN_RATIO_TARGET = 1.5


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pin_threads(engine, threads: int) -> None:  # type: ignore[no-untyped-def]
    # DuckDB sizes its thread pool from the machine; pin it to the target's core count.
    original = engine.duckdb.connect

    def connect(path, config=None, **kwargs):  # type: ignore[no-untyped-def]
        settings = dict(config or {})
        settings["threads"] = threads
        return original(path, config=settings, **kwargs)

    engine.duckdb.connect = connect


# The engine's steps timed by --profile: each creates one object (a raw table, the fact table, a view).
_PROFILED = ("_load_reports", "_load_fact", "_create_view")


def _time_steps(engine, steps: list) -> None:  # type: ignore[no-untyped-def]
    """Wrap the engine's per-object steps so each appends (CPU-s, wall s, object name) to ``steps``: where the
    build's CPU goes, statement by statement (the objects are built one at a time, so the figures add up)."""
    for name in _PROFILED:
        original = getattr(engine, name)

        def timed(con, obj, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            cpu, started = _cpu_seconds(), time.perf_counter()
            try:
                return _original(con, obj, *args, **kwargs)
            finally:
                steps.append((_cpu_seconds() - cpu, time.perf_counter() - started, obj.name))

        setattr(engine, name, timed)


def _child_build(tree: str, data: str, out: str, users_csv: str, threads: int, profile: bool = False) -> None:
    sys.path.insert(0, str(Path(tree) / "scripts"))
    import duckdb  # noqa: F401  (imported before timing, as a real run has it loaded)
    from kiro_analytics.config import load_config
    from kiro_analytics.local import engine

    config = load_config(str(Path(tree) / "config.example.yaml"))
    _pin_threads(engine, threads)
    steps: list = []
    if profile:
        _time_steps(engine, steps)
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = engine.build(Path(data), Path(out), config, Path(users_csv))
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": _cpu_seconds() - cpu,
                      "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rows": result.row_counts,
                      "users": result.users, "credits": result.total_credits,
                      "steps": sorted(steps, reverse=True)}))


_TEXT_COLUMNS = {"date", "userid", "client_type", "profileid", "subscription_tier", "user_email", "overage_enabled",
                 "new_user"}


def _child_floor(data: str, threads: int) -> None:
    """Files grouped by header line (read in Python, outside the timing), then one typed read_csv per header, with
    the columns given (no sniffing), and one GROUP BY per day summing every number."""
    import duckdb

    by_header: dict = {}
    for path in sorted(Path(data).rglob("*.csv")):
        if "user_report" not in path.parts and "by_user_analytic" not in path.parts:
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline().strip().lstrip("\ufeff")
        if header and header[0].isalpha():
            by_header.setdefault(header, []).append(str(path))
    con = duckdb.connect(config={"threads": threads, "memory_limit": "1GB"})
    cpu, started = _cpu_seconds(), time.perf_counter()
    lines = 0
    for header, files in by_header.items():
        names = [name.strip() for name in header.split(",")]
        columns = {name: "VARCHAR" if name.lower() in _TEXT_COLUMNS else "DOUBLE" for name in names}
        relation = con.read_csv(files, header=True, columns=columns, auto_detect=False, ignore_errors=True)
        sums = ", ".join(f'sum("{name}")' for name, kind in columns.items() if kind == "DOUBLE")
        date_column = next(name for name in names if name.lower() == "date")
        lines += sum(row[1] for row in relation.aggregate(f'"{date_column}", count(*), {sums}').fetchall())
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": _cpu_seconds() - cpu, "lines": lines,
                      "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def _aggregate_loads(con, config, first, last) -> dict:
    """Each aggregate's load SELECT (sql/facts/<name>.load.sql) for first .. last, as DuckDB runs it."""
    import sqlglot
    from kiro_analytics.facts import aggregate_names
    from kiro_analytics.local.translate import fact_to_duckdb
    from kiro_analytics.sqlfiles import fact_statements, load_facts

    facts = {fact.name: fact for fact in load_facts(config)}
    loads = {}
    for name in aggregate_names():
        insert = fact_to_duckdb(fact_statements(facts[name], config, first, last)["load"], name, config.database)
        loads[name] = sqlglot.parse_one(insert, read="duckdb").expression.sql(dialect="duckdb")
    return loads


def _child_scan(data: str, users_csv: str, cutoff_days: int, days: int) -> None:
    """The Athena estimate (bench/refresh_scan.py says how it is modelled), from a build over plain
    views, for the refresh quicksight/refresh.json chooses."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import duckdb
    from kiro_analytics.config import load_config
    from kiro_analytics.facts import month_end, month_start
    from kiro_analytics.local import engine
    from kiro_analytics.quicksight import refresh
    from refresh_scan import estimate as scan_estimate

    config = load_config(str(ROOT / "config.example.yaml"))
    plan = refresh.load_plan()
    raw = sum(path.stat().st_size for path in Path(data).rglob("*") if path.is_file())
    with tempfile.TemporaryDirectory(prefix="kiro-bench-scan-") as tmp:
        result = engine.build(Path(data), Path(tmp), config, Path(users_csv), materialise=False)
        con = duckdb.connect(str(result.db_path), read_only=True)
        datasets = sorted(path.stem for path in (ROOT / "quicksight" / "datasets").glob("*.json"))
        last = con.execute("SELECT max(activity_date) FROM report_line_facts").fetchone()[0]
        first = con.execute("SELECT min(activity_date) FROM report_line_facts").fetchone()[0]
        estimate = scan_estimate(con, Path(tmp) / "facts", datasets, plan.incremental, plan.lookback_days(),
                                 _aggregate_loads(con, config, month_start(last), month_end(last)), raw // days,
                                 _aggregate_loads(con, config, month_start(first), month_end(last)))
        con.close()
    print(json.dumps({**estimate, "incremental": sorted(plan.incremental), "days": days, "two_years": cutoff_days,
                      "lookback_days": plan.lookback_days(), "full_refresh_day": plan.full_refresh_day}))


def _print_scan(scan: dict, cutoff: int) -> None:
    """The Athena figures: a daily refresh with the facts job's upkeep, the weekly full-refresh day, the week's
    average, the aggregates' sizes, the largest query."""
    facts, days, years = scan["facts_bytes"], scan["days"], scan["two_years"]
    incremental = set(scan["incremental"])
    refreshes = sum(scan["daily"].values())
    upkeep = sum(scan["upkeep"].values())
    daily = refreshes + upkeep
    weekly = daily + sum(scan["full"][view] for view in incremental)  # that day's full refreshes come on top
    average = (6 * daily + weekly) / 7
    met = "MET" if daily <= SCAN_RATIO_TARGET * facts else "NOT MET"
    mib = 2**20
    aggregates = ", ".join(f"{name} {size / mib:.2f} MiB" for name, size in scan["aggregates_bytes"].items())
    print(f"athena: fact table {facts / mib:.1f} MiB (Parquet ZSTD, one file per day folder); aggregates {aggregates}; "
          f"{len(scan['full'])} datasets, {len(incremental)} refreshed incrementally ({scan['lookback_days']:g}-day "
          "lookback)")
    print(f"        daily ~{daily / mib:.1f} MiB = {daily / facts:.2f}x the facts (target <= {SCAN_RATIO_TARGET}x: "
          f"{met}): SPICE refreshes {refreshes / facts:.2f}x + facts job upkeep {upkeep / facts:.2f}x; "
          f"{scan['full_refresh_day'].lower()} (+ full refreshes) {weekly / facts:.2f}x; a week's average "
          f"{average / facts:.2f}x; all full: {sum(scan['full'].values()) / facts:.2f}x")
    print("        upkeep: " + ", ".join(f"{part} {size / mib:.2f} MiB" + (" (every day folder)" if part in
                                          scan["upkeep_every_day"] else "") for part, size in scan["upkeep"].items()))
    # Over two years a full refresh reads twice the days; an incremental one the same window; the upkeep's parts
    # that read every day folder twice the days (the rest is one day or one month).
    scale = years / days
    two_daily = (sum(scan["daily"][v] * (1 if v in incremental else scale) for v in scan["daily"])
                 + upkeep + (scale - 1) * sum(scan["upkeep"][part] for part in scan["upkeep_every_day"]))
    print(f"        at {years} days: daily ~{two_daily / (facts * scale):.2f}x the facts")
    print("        heaviest daily: " + ", ".join(
        f"{view} {scan['daily'][view] / facts:.2f}x" for view, _ in
        sorted(scan["daily"].items(), key=lambda item: -item[1])[:6]))
    queries = {f"{view} (full refresh)": size for view, size in scan["full"].items()}
    queries.update({f"{name} reload of every month (step 5)": size for name, size in scan["rebuild"].items()})
    top = max(queries.items(), key=lambda item: item[1])
    largest = top[1] * scale
    print(f"        largest single query: {top[0]} {top[1] / mib:.1f} MiB; over {years} days "
          f"~{largest / 2**30:.2f} GiB against the {cutoff / 2**30:.0f} GiB cap "
          f"({'under' if largest < cutoff else 'OVER'})", flush=True)


def _sample(cache: Path, users: int, days: int) -> Path:
    """The sample folder for this size, generated once (the generator is deterministic)."""
    folder = cache / f"u{users}-d{days}"
    if not (folder / "users.csv").is_file():
        sys.path.insert(0, str(ROOT / "scripts"))
        from kiro_analytics.local import sample_data

        started = time.perf_counter()
        manifest = sample_data.generate(folder / "data", users=users, days=days, end=date(2026, 11, 25))
        sample_data.write_user_map(manifest, folder / "users.csv")
        print(f"  generated {users} users x {days} days in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def _run(*args: str) -> dict:
    child = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000", help="comma-separated user counts (e.g. 1000,5000,20000)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "kiro-bench"))
    parser.add_argument("--tree", default=str(ROOT), help="the checkout whose engine builds (default: this one)")
    parser.add_argument("--scan", action="store_true", help="also estimate the Athena daily refresh scan")
    parser.add_argument("--scan-only", action="store_true", help="the Athena estimate alone (no floor, no build)")
    parser.add_argument("--profile", action="store_true",
                        help="also print the build's CPU-s per object (raw table, fact table, view), largest first")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            _child_build(*rest, threads=args.threads, profile=args.profile)
        elif kind == "floor":
            _child_floor(*rest, threads=args.threads)
        else:
            _child_scan(rest[0], rest[1], int(rest[2]), int(rest[3]))
        return 0
    sys.path.insert(0, str(ROOT / "scripts"))
    from kiro_analytics.config import load_config

    cutoff = load_config(str(ROOT / "config.example.yaml")).bytes_scanned_cutoff
    for users in [int(size) for size in args.sizes.split(",")]:
        folder = _sample(Path(args.cache), users, args.days)
        files = [path for path in (folder / "data").rglob("*.csv")]
        size = sum(path.stat().st_size for path in files)
        print(f"sample: {users} users x {args.days} days, {len(files)} report files, {size / 2**20:.1f} MiB")
        if args.scan_only:
            _print_scan(_run("--child", "scan", str(folder / "data"), str(folder / "users.csv"), "730",
                             str(args.days)), cutoff)
            continue
        floor = _run("--threads", str(args.threads), "--child", "floor", str(folder / "data"))
        with tempfile.TemporaryDirectory(prefix="kiro-bench-") as tmp:
            build = _run("--threads", str(args.threads), *(["--profile"] if args.profile else []), "--child",
                         "build", args.tree, str(folder / "data"), str(Path(tmp) / "out"), str(folder / "users.csv"))
        raw = sum(build["rows"][t] for t in ("user_report_raw", "kiro_by_user_analytic_raw",
                                             "qdev_by_user_analytic_raw"))
        ratio = build["cpu"] / floor["cpu"]
        rss = build["peak_kib"] / 2**10
        print(f"floor:  {floor['cpu']:.1f} CPU-s ({floor['seconds']:.1f} s), {floor['lines']:,} data lines read typed, "
              f"peak RSS {floor['peak_kib'] / 2**10:.0f} MiB")
        print(f"build:  {build['cpu']:.1f} CPU-s ({build['seconds']:.1f} s on {args.threads} threads), "
              f"{raw:,} raw lines, peak RSS {rss:.0f} MiB  [{Path(args.tree).name}]")
        verdict = "" if users < 20000 else (
            f"  target <= {FLOOR_RATIO_TARGET:.0f}x and < {RSS_TARGET_MIB} MiB: "
            + ("MET" if ratio <= FLOOR_RATIO_TARGET and rss < RSS_TARGET_MIB else "NOT MET"))
        print(f"ratio:  build = {ratio:.1f}x the floor{verdict}")
        if args.profile:
            top = build["steps"][:8]
            print("steps:  " + ", ".join(f"{name} {cpu:.1f}" for cpu, _, name in top)
                  + f"; the other {len(build['steps']) - len(top)} {sum(s[0] for s in build['steps'][8:]):.1f} CPU-s")
        print(f"views:  user_activity_daily {build['rows']['user_activity_daily']:,} rows, "
              f"model_usage_daily {build['rows']['model_usage_daily']:,}; {build['users']} users", flush=True)
        if args.scan:
            _print_scan(_run("--child", "scan", str(folder / "data"), str(folder / "users.csv"), "730",
                             str(args.days)), cutoff)
    return 0


if __name__ == "__main__":
    sys.exit(main())
