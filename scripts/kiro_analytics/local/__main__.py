"""Local mode: build the Athena views in DuckDB from a folder of reports (or generated sample data).

    python -m kiro_analytics.local [--config FILE] [--data DIR] [--out DIR] [--users FILE] [--roster FILE]
                                   [--users-count N] [--days N]

Without --data the sample also gets a seat roster listing the members of every sample group (the sample's
directory has its own groups; seats.groups names the real directory's, for the user-name sync).

The database, dashboard.html and the analysis-<name>.html pages of one build are replaced together or not at
all (local/publish.py); Ctrl-C at any point exits 130 with "interrupted" and leaves the previous set as it was.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence

from ..errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, InputError, KiroError

if TYPE_CHECKING:  # config imports yaml: loaded inside main, where Ctrl-C is handled
    from ..config import Config

DEFAULT_OUT = Path("build/local")
SAMPLE_SEED = 7
REPO_ROOT = Path(__file__).resolve().parents[3]


def _config_path(given: Optional[Path]) -> Path:
    """--config, else config.yaml here, else the repository's config.yaml, else its config.example.yaml."""
    if given is not None:
        return given
    for candidate in (Path("config.yaml"), REPO_ROOT / "config.yaml", REPO_ROOT / "config.example.yaml"):
        if candidate.is_file():
            return candidate
    raise InputError(f"no config.yaml here or in {REPO_ROOT}: pass --config FILE "
                     f"(start from {REPO_ROOT / 'config.example.yaml'})")


def _writable(out: Path) -> None:
    """Fail before any work when --out cannot take the build (read-only, a file, no permission)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise InputError(f"{out}: cannot write the build there ({exc.strerror or exc}); choose another --out") from None


def _sample(config: "Config", out: Path, users: int, days: int) -> "tuple[Path, Path, Path]":
    from . import sample_data

    end = (datetime.now(timezone.utc) - timedelta(days=1)).date()
    manifest = sample_data.generate(out / "sample-data", users=users, days=days, seed=SAMPLE_SEED, end=end,
                                    account_id=config.account_id, region=config.region, prefix=config.prefix)
    users_csv = sample_data.write_user_map(manifest, out / "sample-user-map.csv")
    roster_csv = sample_data.write_seat_roster(manifest, out / "sample-seat-roster.csv")
    return manifest.root, users_csv, roster_csv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kiro_analytics.local",
                                     description="Build the Kiro analytics views locally in DuckDB.")
    parser.add_argument("--config", type=Path,
                        help="config file (default: config.yaml here or in the repository, else config.example.yaml)")
    parser.add_argument("--data", type=Path, help="folder holding <prefix>AWSLogs/ (default: generate sample data)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--users", type=Path, help="user map CSV (userid,username,...); default: none, or the sample's")
    parser.add_argument("--roster", type=Path,
                        help="seat roster CSV (userid,group,roster_date, as the user sync writes it); "
                             "default: none, or the sample's")
    parser.add_argument("--users-count", type=int, default=60, help="sample users (without --data; default 60)")
    parser.add_argument("--days", type=int, default=120, help="sample days ending yesterday UTC (default 120)")
    return parser


def _progress(text: str) -> None:
    print(f"{text} ...", file=sys.stderr, flush=True)


def _build(args: argparse.Namespace) -> List[str]:
    """Build, render and publish; the lines to print. Every piece is staged until the last step."""
    from ..config import load_config
    from .engine import DB_NAME, build, staged_path
    from .html_dashboard import OUTPUT_NAME, page_names, render_all
    from .publish import discard, publish

    config = load_config(str(_config_path(args.config)))
    _writable(args.out)
    lines: List[str] = []
    data, users_csv, roster_csv = args.data, args.users, args.roster
    if data is None:
        _progress(f"generating sample data ({args.users_count} users x {args.days} days)")
        data, sample_users, sample_roster = _sample(config, args.out, args.users_count, args.days)
        users_csv = users_csv or sample_users
        roster_csv = roster_csv or sample_roster
        lines.append(f"sample data: {args.users_count} users x {args.days} days in {data}")
    result = build(data, args.out, config, users_csv, roster_csv=roster_csv, stage=True, progress=_progress)
    targets = {name: args.out / file_name for name, file_name in page_names().items()}
    staged = {name: staged_path(target) for name, target in targets.items()}
    try:
        _progress(f"rendering {OUTPUT_NAME} and {len(targets) - 1} analysis pages")
        render_all(result.db_path, staged, config)
        # The database and every page of one build replace the previous ones together, or none of them does.
        db, dashboard, *_pages = publish([(result.db_path, args.out / DB_NAME),
                                          *((staged[name], targets[name]) for name in targets)])
    except BaseException:
        discard([result.db_path, *staged.values()])
        raise
    lines += [f"note: {note}" for note in result.notes]
    lines.append(f"DuckDB: {db}")
    lines.append(f"users: {result.users}; active {result.first_date} .. {result.last_date}; "
                 f"consumption: {result.total_consumption:,.2f} credits (plan {result.total_credits:,.2f} + overage "
                 f"{result.total_overage:,.2f}); messages: {result.total_messages:,}")
    if result.ledger is not None:
        prefix = "warning: ingest ledger" if result.ledger.rows_rejected else "ingest ledger"
        lines.append(f"{prefix}: {result.ledger.summary()} (table ingest_ledger; README: "
                     "\"What if my numbers look wrong\")")
    lines.append(f"dashboard: {dashboard}")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        for line in _build(args):
            stream = sys.stderr if line.startswith(("note:", "warning:")) else sys.stdout
            print(line, file=stream)
    except KiroError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RuntimeError as exc:
        from .engine import interrupted

        if not interrupted(exc):
            raise
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # a disk that filled up or a folder that vanished mid-build: no traceback
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before main's own handler was in place (imports, argument parsing)
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
