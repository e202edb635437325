"""Benchmark the local build against the typed-read floor, and estimate a daily Athena refresh's scan.

    .venv/bin/python bench/local_build.py [--sizes 1000,5000,20000] [--days 365] [--threads 2]
                                          [--cache /tmp/kiro-bench] [--tree /path/to/other/checkout]

For each size: generate N users x D days of sample reports (kept under --cache and reused: the generator is
deterministic), then, each in a fresh child process (so one's memory is not counted in the other's):

* floor: a typed read of the same report files with DuckDB's CSV reader (header bound by name, typed columns)
  and one GROUP BY per day per report: the least any build must do;
* build: engine.build, every fact table and view.

CPU seconds (user + system of the child, DuckDB's threads included) are the figure compared: on a shared
machine they are steadier than wall time. Peak memory is the child's ru_maxrss (DuckDB allocates outside Python).
Printed: build / floor as a ratio, and the targets (issue 12): at 20k users within 4x the floor and under 2 GiB;
1k no slower than before (compare with --tree pointing at the previous checkout, e.g. /work/main).

The Athena estimate (only with this tree): the fact table written as Parquet (ZSTD, as the Iceberg table is), and
for each QuickSight dataset's view the fact columns DuckDB's plan scans (EXPLAIN of the view over plain views);
Athena reads those columns of every day (no dataset view filters on a day), so a daily SPICE refresh scans about
the sum over datasets of those columns' bytes. The target: at most 1.5x the fact table's bytes; and the largest
single dataset, scaled from --days to two years, under athena.bytes_scanned_cutoff.
"""

from __future__ import annotations

import argparse
import json
import re
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


def _child_build(tree: str, data: str, out: str, users_csv: str, threads: int) -> None:
    sys.path.insert(0, str(Path(tree) / "scripts"))
    import duckdb  # noqa: F401  (imported before timing, as a real run has it loaded)
    from kiro_analytics.config import load_config
    from kiro_analytics.local import engine

    config = load_config(str(Path(tree) / "config.example.yaml"))
    _pin_threads(engine, threads)
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = engine.build(Path(data), Path(out), config, Path(users_csv))
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": _cpu_seconds() - cpu,
                      "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rows": result.row_counts,
                      "users": result.users, "credits": result.total_credits}))


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


def _child_scan(data: str, users_csv: str, cutoff_days: int, days: int) -> None:
    """The Athena estimate (see the module docstring), from a build over plain views."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import duckdb
    from kiro_analytics.config import load_config
    from kiro_analytics.local import engine

    config = load_config(str(ROOT / "config.example.yaml"))
    with tempfile.TemporaryDirectory(prefix="kiro-bench-scan-") as tmp:
        result = engine.build(Path(data), Path(tmp), config, Path(users_csv), materialise=False)
        con = duckdb.connect(str(result.db_path), read_only=True)
        parquet = Path(tmp) / "facts.parquet"
        con.execute(f"COPY report_line_facts TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)")
        sizes: dict = {}
        for name, size in con.execute(
                f"SELECT path_in_schema, sum(total_compressed_size) FROM parquet_metadata('{parquet}') "
                "GROUP BY path_in_schema").fetchall():
            column = str(name).split(".")[0].split(",")[0].strip()
            sizes[column] = sizes.get(column, 0) + int(size)
        facts_bytes = sum(sizes.values())
        datasets = sorted(path.stem for path in (ROOT / "quicksight" / "datasets").glob("*.json"))
        scans = {}
        for view in datasets:
            plan = "\n".join(str(row[1]) for row in con.execute(f"EXPLAIN SELECT * FROM {view}").fetchall())
            columns = set()
            for block in re.findall(r"report_line_facts(.*?)(?:└|┌|$)", plan, flags=re.S):
                columns |= {word for word in re.findall(r"[a-z_]+", block) if word in sizes}
            scans[view] = sum(sizes[column] for column in columns)
        con.close()
    print(json.dumps({"facts_bytes": facts_bytes, "scans": scans, "days": days, "two_years": cutoff_days}))


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
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            _child_build(*rest, threads=args.threads)
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
        floor = _run("--threads", str(args.threads), "--child", "floor", str(folder / "data"))
        with tempfile.TemporaryDirectory(prefix="kiro-bench-") as tmp:
            build = _run("--threads", str(args.threads), "--child", "build", args.tree, str(folder / "data"),
                         str(Path(tmp) / "out"), str(folder / "users.csv"))
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
        print(f"views:  user_activity_daily {build['rows']['user_activity_daily']:,} rows, "
              f"model_usage_daily {build['rows']['model_usage_daily']:,}; {build['users']} users", flush=True)
        if args.scan:
            scan = _run("--child", "scan", str(folder / "data"), str(folder / "users.csv"), "730", str(args.days))
            total = sum(scan["scans"].values())
            top = max(scan["scans"].items(), key=lambda item: item[1])
            two_years = top[1] * 730 / args.days
            met = "MET" if total <= SCAN_RATIO_TARGET * scan["facts_bytes"] else "NOT MET"
            print(f"athena: fact table {scan['facts_bytes'] / 2**20:.1f} MiB (Parquet ZSTD); a daily refresh of "
                  f"{len(scan['scans'])} datasets scans ~{total / 2**20:.1f} MiB = "
                  f"{total / scan['facts_bytes']:.2f}x the facts (target <= {SCAN_RATIO_TARGET}x: {met})")
            print(f"        largest: {top[0]} {top[1] / 2**20:.1f} MiB; over 2 years ~{two_years / 2**30:.2f} GiB "
                  f"against the {cutoff / 2**30:.0f} GiB cap ({'under' if two_years < cutoff else 'OVER'})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
