"""Local mode: build the Athena views in DuckDB from a folder of reports (or generated sample data).

    python -m kiro_analytics.local [--config FILE] [--data DIR] [--out DIR] [--users FILE] [--roster FILE]
                                   [--users-count N] [--days N]

Without --data the sample also gets a seat roster listing the members of every sample group (the sample's
directory has its own groups; seats.groups names the real directory's, for the user-name sync).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional, Sequence

from ..config import Config, load_config
from ..errors import EXIT_INTERRUPTED, EXIT_OK, KiroError

DEFAULT_OUT = Path("build/local")
SAMPLE_SEED = 7


def _config_path(given: Optional[Path]) -> Path:
    if given is not None:
        return given
    return Path("config.yaml") if Path("config.yaml").is_file() else Path("config.example.yaml")


def _sample(config: Config, out: Path, users: int, days: int) -> "tuple[Path, Path, Path]":
    from . import sample_data

    end = (datetime.now(timezone.utc) - timedelta(days=1)).date()
    manifest = sample_data.generate(out / "sample-data", users=users, days=days, seed=SAMPLE_SEED, end=end,
                                    account_id=config.account_id, region=config.region, prefix=config.prefix)
    users_csv = sample_data.write_user_map(manifest, out / "sample-user-map.csv")
    roster_csv = sample_data.write_seat_roster(manifest, out / "sample-seat-roster.csv")
    return manifest.root, users_csv, roster_csv


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiro_analytics.local",
                                     description="Build the Kiro analytics views locally in DuckDB.")
    parser.add_argument("--config", type=Path, help="config file (default: config.yaml, else config.example.yaml)")
    parser.add_argument("--data", type=Path, help="folder holding <prefix>AWSLogs/ (default: generate sample data)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--users", type=Path, help="user map CSV (userid,username,...); default: none, or the sample's")
    parser.add_argument("--roster", type=Path,
                        help="seat roster CSV (userid,group,roster_date, as the user sync writes it); "
                             "default: none, or the sample's")
    parser.add_argument("--users-count", type=int, default=60, help="sample users (without --data; default 60)")
    parser.add_argument("--days", type=int, default=120, help="sample days ending yesterday UTC (default 120)")
    args = parser.parse_args(argv)
    try:
        from .engine import build
        from .html_dashboard import render

        config = load_config(str(_config_path(args.config)))
        data, users_csv, roster_csv = args.data, args.users, args.roster
        if data is None:
            data, sample_users, sample_roster = _sample(config, args.out, args.users_count, args.days)
            users_csv = users_csv or sample_users
            roster_csv = roster_csv or sample_roster
            print(f"sample data: {args.users_count} users x {args.days} days in {data}")
        result = build(data, args.out, config, users_csv, roster_csv=roster_csv)
        print(f"DuckDB: {result.db_path}")
        print(f"users: {result.users}; active {result.first_date} .. {result.last_date}; "
              f"credits: {result.total_credits:,.1f}; messages: {result.total_messages:,}")
        print(f"dashboard: {render(result.db_path, args.out, config)}")
    except KiroError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
