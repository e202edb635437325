"""Benchmark the local build: generate N users x D days of sample reports, then build DuckDB.

    .venv/bin/python bench/local_build.py [--users 1000] [--days 365] [--threads 2]

Generation and the build are timed separately. Peak memory is the process's ru_maxrss (DuckDB
allocates outside Python, so tracemalloc would miss it); the build runs in a fresh child process
so the generator's memory is not counted. Target: build < 15 s and < 1 GiB on 2 cores.
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
sys.path.insert(0, str(ROOT / "scripts"))


def _child_build(data: str, out: str, users_csv: str, threads: int) -> None:
    import duckdb  # noqa: F401  (imported before timing, as a real run has it loaded)
    from kiro_analytics.config import load_config
    from kiro_analytics.local import engine

    config = load_config(str(ROOT / "config.example.yaml"))
    # DuckDB sizes its thread pool from the machine; pin it to the target's core count.
    original = engine.duckdb.connect

    def connect(path, config=None, **kwargs):  # type: ignore[no-untyped-def]
        settings = dict(config or {})
        settings["threads"] = threads
        return original(path, config=settings, **kwargs)

    engine.duckdb.connect = connect
    started = time.perf_counter()
    result = engine.build(Path(data), Path(out), config, Path(users_csv))
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_kib": peak_kib, "rows": result.row_counts,
                      "users": result.users, "credits": result.total_credits}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_build(*args.child, threads=args.threads)
        return 0

    from kiro_analytics.local import sample_data

    with tempfile.TemporaryDirectory(prefix="kiro-bench-") as tmp:
        started = time.perf_counter()
        manifest = sample_data.generate(Path(tmp) / "data", users=args.users, days=args.days, end=date(2026, 11, 25))
        users_csv = sample_data.write_user_map(manifest, Path(tmp) / "users.csv")
        generate_seconds = time.perf_counter() - started
        size = sum(path.stat().st_size for path in manifest.report_files)
        child = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--child",
                                str(Path(tmp) / "data"), str(Path(tmp) / "out"), str(users_csv)],
                               capture_output=True, text=True, check=False)
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return child.returncode
        build = json.loads(child.stdout.strip().splitlines()[-1])
    raw_rows = sum(build["rows"][t] for t in ("user_report_raw", "kiro_by_user_analytic_raw",
                                              "qdev_by_user_analytic_raw"))
    print(f"sample: {args.users} users x {args.days} days, {len(manifest.report_files)} report files, "
          f"{size / 2**20:.1f} MiB, generated in {generate_seconds:.1f} s")
    print(f"build:  {build['seconds']:.1f} s on {args.threads} threads, {raw_rows:,} raw lines "
          f"({raw_rows / build['seconds']:,.0f} lines/s), peak RSS {build['peak_kib'] / 2**10:.0f} MiB")
    print(f"views:  user_activity_daily {build['rows']['user_activity_daily']:,} rows, "
          f"user_behavior_daily {build['rows']['user_behavior_daily']:,}, "
          f"model_usage_daily {build['rows']['model_usage_daily']:,}; {build['users']} users")
    return 0


if __name__ == "__main__":
    sys.exit(main())
