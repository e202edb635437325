"""Deterministic sample Kiro reports, laid out like the S3 bucket, with every quirk real exports show.

The local dashboard and most tests run on this data, so it reproduces the traps that made other
projects count wrong: quoted and prefixed user ids, columns that come, go and move, re-sent exports,
split files, legacy files with MM-DD-YYYY dates and empty zeros, tier spellings, marker objects and
prompt logs next to the reports. The same arguments always give the same bytes.

Real-world era dates (legacy only until 2026-02-10, e-mails from 2026-04-01, ...) are used when the
range covers them; when the range starts later, each era is moved to a point early in the range so
that a short sample still shows every quirk. `SampleManifest.eras` says where each era starts.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Optional, Sequence

from kiro_analytics.errors import InputError, KiroError
from kiro_analytics.identity_sync import render_mapping
from kiro_analytics.local.sample_files import (
    DOC_TIER_SPELLING,
    FIXED_HEADER,
    LEGACY_METRICS_GROUPED,
    LEGACY_METRICS_SORTED,
    MAX_ROWS_PER_FILE,
    QUIRKS,
    ReportWriter,
)
from kiro_analytics.local.sample_people import (
    CLIENTS,
    IDENTITY_STORE_ID,
    MODELS,
    TIER_CREDITS,
    SampleUser,
    Simulator,
    era_starts,
    make_profiles,
)
from kiro_analytics.seat_roster import render_roster

__all__ = [
    "CLIENTS", "DOC_TIER_SPELLING", "FIXED_HEADER", "IDENTITY_STORE_ID", "LEGACY_METRICS_GROUPED",
    "LEGACY_METRICS_SORTED", "MAX_ROWS_PER_FILE", "MODELS", "QUIRKS", "SAMPLE_MARKER", "TIER_CREDITS",
    "SampleManifest", "SampleUser", "generate", "main", "write_seat_roster", "write_user_map",
]

SAMPLE_MARKER = ".kiro-sample"


@dataclass
class SampleManifest:
    """What generate() wrote: the files, the people, and which files show which quirk (keys: QUIRKS).

    `users` are the people in the Identity Store (what write_user_map writes); `external_users` sign in
    through an external IdP or Builder ID, appear in the reports, and have no name but their id.
    """

    root: Path
    account_id: str
    region: str
    prefix: str
    start: date
    end: date
    users: list[SampleUser]
    report_files: list[Path]
    non_report_files: list[Path]
    quirks: dict[str, list[Path]]
    eras: dict[str, date] = field(default_factory=dict)
    external_users: list[SampleUser] = field(default_factory=list)
    # Directory user id -> the day they started with Kiro (before `start` for people already using it).
    joined: dict[str, date] = field(default_factory=dict)

    @property
    def external_user_ids(self) -> list[str]:
        return [u.userid for u in self.external_users]



def _prepare(root: Path) -> None:
    if root.exists():
        if not root.is_dir():
            raise InputError(f"{root} exists and is not a folder")
        entries = sorted(root.iterdir())
        if entries and not (root / SAMPLE_MARKER).is_file():
            raise InputError(f"{root} is not empty and holds no {SAMPLE_MARKER} marker; "
                             "refusing to write sample data over it (choose an empty or new folder)")
        for entry in entries:
            # rmtree never follows a symlink, so nothing outside root can be removed.
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    root.mkdir(parents=True, exist_ok=True)
    (root / SAMPLE_MARKER).write_bytes(b"Generated Kiro sample data; regenerating clears this folder.\n")


def _normalise_prefix(prefix: str) -> str:
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    if any(part in ("", ".", "..") for part in stripped.split("/")):
        raise InputError(f"prefix {prefix!r} must be S3 key segments like 'kiro/' (no empty, '.' or '..' parts)")
    return stripped + "/"


def _single_row_day(eras: dict[str, date], end: date) -> date:
    lo = eras["user_report_from"] + timedelta(days=max(0, (end - eras["user_report_from"]).days // 4))
    d = lo
    while d <= end:
        if d.weekday() >= 5:
            return d
        d += timedelta(days=1)
    return lo


def generate(out_dir: Path, users: int = 60, days: int = 120, seed: int = 7, end: date = date(2026, 11, 25),
             account_id: str = "123456789012", region: str = "us-east-1", prefix: str = "") -> SampleManifest:
    """Write a deterministic sample bucket into out_dir and describe it; the same arguments give the same bytes."""
    problems = []
    if users < 1:
        problems.append(f"users must be at least 1 (got {users})")
    if days < 1:
        problems.append(f"days must be at least 1 (got {days})")
    if not (len(account_id) == 12 and account_id.isdigit()):
        problems.append(f"account_id must be 12 digits (got {account_id!r})")
    if not region or not all(ch.isalnum() or ch == "-" for ch in region):
        problems.append(f"region {region!r} is not a region name")
    if problems:
        raise InputError("; ".join(problems))
    norm_prefix = _normalise_prefix(prefix)
    root = Path(out_dir)
    _prepare(root)
    start = end - timedelta(days=days - 1)
    eras = era_starts(start, end)
    rng = random.Random(seed)
    profiles = make_profiles(rng, users, start, end, eras)
    writer = ReportWriter(root / norm_prefix if norm_prefix else root, account_id, region, seed, profiles, eras, end)
    sim = Simulator(rng, profiles, start, eras, (_single_row_day(eras, end), "PLUGIN"))
    d = start
    while d <= end:
        rows, legacy = sim.day(d)
        if d >= eras["user_report_from"]:
            for client in CLIENTS:
                writer.user_report(d, client, rows[client], sim.models_on(d))
        writer.legacy_day(d, legacy)
        if (end - d).days < 3:
            writer.prompt_logs(d, rows)
        d += timedelta(days=1)
    writer.markers()
    quirks = {k: sorted(set(v)) for k, v in writer.quirks.items()}
    return SampleManifest(root=root, account_id=account_id, region=region, prefix=norm_prefix, start=start,
                          end=end, users=[p.user for p in profiles if not p.external],
                          report_files=sorted(writer.report_files), non_report_files=sorted(writer.non_report_files),
                          quirks=quirks, eras=eras, external_users=[p.user for p in profiles if p.external],
                          joined={p.user.userid: p.join for p in profiles if not p.external})


def write_user_map(manifest: SampleManifest, path: Path) -> Path:
    """The id -> name map the user-name sync would produce: userid,username,user_name,email,groups.

    `username` is the display name (what dashboards show); `user_name` is the Identity Center login.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The sync's own writer, so the local build reads exactly the bytes the deployed sync would write.
    path.write_bytes(render_mapping({"userid": u.userid, "username": u.display_name, "user_name": u.username,
                                     "email": u.email, "groups": ";".join(u.groups)} for u in manifest.users))
    return path


ROSTER_LEAD_DAYS = 7  # the seat is assigned a week before the person starts with Kiro


def write_seat_roster(manifest: SampleManifest, path: Path, groups: Optional[Sequence[str]] = None) -> Path:
    """The seat roster the user-name sync would write (userid,group,roster_date) for the seat groups `groups`.

    Every directory member of those groups (default: every group in the sample) is listed, rostered a week before
    they joined, or at the sample's start for people who joined long before it. That includes people who never
    appear in the reports (never activated) and people who stopped (lapsed); users in no seat group are not seat
    holders, and external users (not in the directory) are never listed.
    """
    path = Path(path)
    wanted = set(groups) if groups is not None else {g for u in manifest.users for g in u.groups}
    rows = []
    for user in manifest.users:
        joined = manifest.joined.get(user.userid, manifest.start)
        since = max(joined - timedelta(days=ROSTER_LEAD_DAYS), manifest.start - timedelta(days=ROSTER_LEAD_DAYS))
        rows.extend({"userid": user.userid, "group": group, "roster_date": since.isoformat()}
                    for group in sorted(set(user.groups) & wanted))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_roster(rows))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiro_analytics.local.sample_data",
                                     description="Write deterministic sample Kiro reports laid out like the S3 bucket.")
    parser.add_argument("--out", required=True, type=Path, help="folder to write (created; must be empty or a sample)")
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 25), help="last day, YYYY-MM-DD")
    parser.add_argument("--prefix", default="", help="S3 key part before AWSLogs/, e.g. kiro/")
    parser.add_argument("--user-map", type=Path, help="also write the user map CSV here")
    args = parser.parse_args(argv)
    try:
        manifest = generate(args.out, users=args.users, days=args.days, seed=args.seed, end=args.end,
                            prefix=args.prefix)
        if args.user_map:
            write_user_map(manifest, args.user_map)
    except KiroError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    people = len(manifest.users) + len(manifest.external_users)
    print(f"wrote {len(manifest.report_files)} report files for {people} users "
          f"({len(manifest.external_users)} outside the Identity Store), {manifest.start}..{manifest.end}, "
          f"to {manifest.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
