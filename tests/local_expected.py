"""An independent reference reading of the Kiro report files (csv module, plain Python), and one
shared local build of the sample, for the tests of the local engine.

Nothing here runs or reads the SQL: the expected numbers come from the files and the rules in
kiro-reports.md, so a view that computes the wrong thing disagrees with this module.
"""

from __future__ import annotations

import atexit
import csv
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_USERS, SAMPLE_DAYS, SAMPLE_END = 40, 60, date(2026, 11, 25)

TIER_SPELLINGS = {"PRO": "PRO", "PROPLUS": "PRO_PLUS", "PRO_PLUS": "PRO_PLUS", "PROMAX": "PRO_MAX",
                  "PRO_MAX": "PRO_MAX", "POWER": "POWER"}
FAMILIES = {  # feature -> (event metrics, line metrics), as documented in sql/README.md
    "Chat": (["chat_messagessent"], ["chat_aicodelines"]),
    "CodeFix": (["codefix_generationeventcount"], ["codefix_acceptedlines"]),
    "CodeReview": (["codereview_succeededeventcount", "codereview_failedeventcount"], []),
    "Dev": (["dev_generationeventcount"], ["dev_acceptedlines"]),
    "DocGeneration": (["docgeneration_eventcount"],
                      ["docgeneration_acceptedlineadditions", "docgeneration_acceptedlineupdates"]),
    "InlineChat": (["inlinechat_totaleventcount"], ["inlinechat_acceptedlineadditions"]),
    "Inline": (["inline_suggestionscount"], ["inline_aicodelines"]),
    "TestGeneration": (["testgeneration_eventcount"], ["testgeneration_acceptedlines"]),
    "Transformation": (["transformation_eventcount"], ["transformation_linesgenerated"]),
}
AI_CODE_LINES = ["chat_aicodelines", "inline_aicodelines", "inlinechat_acceptedlineadditions",
                 "codefix_acceptedlines", "dev_acceptedlines", "docgeneration_acceptedlineadditions",
                 "testgeneration_acceptedlines"]
CODE_GENERATION_LINES = ["dev_generatedlines", "codefix_generatedlines", "testgeneration_generatedlines",
                         "transformation_linesgenerated"]


def bare_id(raw: str) -> str:
    value = raw.strip().strip('"')
    return value.split(".", 1)[1] if re.match(r"^d-[0-9A-Za-z]+\.", value) else value


def stamp_of(path: Path) -> str:
    runs = re.findall(r"(?=(\d{12}))", path.name)
    return runs[-1] if runs else "000000000000"


def tier_of(raw: str) -> Optional[str]:
    squeezed = raw.strip().upper().replace(" ", "").replace("-", "")
    return TIER_SPELLINGS.get(squeezed, raw.strip().upper() or None)


def _rows(path: Path) -> Tuple[List[str], List[List[str]]]:
    with open(path, encoding="utf-8", newline="") as handle:
        lines = [row for row in csv.reader(handle) if row]
    return [name.strip().lower() for name in lines[0]], lines[1:]


def _files(base: Path, folder: str) -> List[Path]:
    root = base / folder
    return sorted(root.glob("*/*/*/*/*/*.csv")) if root.is_dir() else []


@dataclass
class Expected:
    activity: Dict[Tuple[date, str, str], dict] = field(default_factory=dict)
    models: Dict[Tuple[date, str, str, str], int] = field(default_factory=dict)
    behavior: Dict[Tuple[date, str], Dict[str, int]] = field(default_factory=dict)


def read_reports(account_root: Path) -> Expected:
    """account_root = <data>/<prefix>AWSLogs/<account>. Newest export per key wins."""
    out = Expected()
    chosen: Dict[tuple, tuple] = {}
    for path in _files(account_root, "KiroLogs/user_report"):
        header, rows = _rows(path)
        rank = (stamp_of(path), str(path))
        for row in rows:
            cell = dict(zip(header, (value.strip() for value in row)))
            day = date.fromisoformat(cell["date"])
            key = (day, bare_id(cell["userid"]), cell["client_type"].upper())
            if key in chosen and chosen[key][0] >= rank:
                continue
            chosen[key] = (rank, header, cell)
    for key, (_, header, cell) in chosen.items():
        out.activity[key] = {
            "subscription_tier": tier_of(cell.get("subscription_tier", "")),
            "chat_conversations": int(cell["chat_conversations"] or 0),
            "credits_used": float(cell["credits_used"] or 0),
            "overage_cap": float(cell["overage_cap"] or 0),
            "overage_credits_used": float(cell["overage_credits_used"] or 0),
            "overage_enabled": cell["overage_enabled"].lower() == "true",
            "total_messages": int(cell["total_messages"] or 0),
            "new_user": (cell["new_user"].lower() == "true") if "new_user" in header else None,
            "user_email": (cell["user_email"] or None) if "user_email" in header else None,
        }
        for name in header:
            if name.endswith("_messages") and name != "total_messages" and int(cell[name] or 0) > 0:
                model_key = (*key, name[: -len("_messages")])
                out.models[model_key] = out.models.get(model_key, 0) + int(cell[name])
    legacy: Dict[tuple, tuple] = {}
    for source_rank, folder in ((1, "KiroLogs/by_user_analytic"), (2, "QDeveloperLogs/by_user_analytic")):
        for path in _files(account_root, folder):
            header, rows = _rows(path)
            rank = (stamp_of(path), -source_rank, str(path))
            for row in rows:
                cell = dict(zip(header, (value.strip() for value in row)))
                day = datetime.strptime(cell["date"], "%m-%d-%Y").date()
                key = (day, bare_id(cell["userid"]))
                if key in legacy and legacy[key][0] >= rank:
                    continue
                metrics = {name: int(value or 0) for name, value in cell.items() if name not in ("userid", "date")}
                legacy[key] = (rank, metrics)
    out.behavior = {key: metrics for key, (_, metrics) in legacy.items()}
    return out


def user_days(exp: Expected) -> Dict[date, set]:
    days: Dict[date, set] = defaultdict(set)
    for day, user, _ in exp.activity:
        days[day].add(user)
    for day, user in exp.behavior:
        days[day].add(user)
    return days


@dataclass(frozen=True)
class SampleBuild:
    manifest: object
    result: object
    config: object
    expected: Expected
    names: Dict[str, str]

    def query(self, sql: str) -> List[tuple]:
        import duckdb

        con = duckdb.connect(str(self.result.db_path), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def columns(self, view: str) -> List[Tuple[str, str]]:
        return [(row[0], row[1]) for row in self.query(f"DESCRIBE {view}")]


@lru_cache(maxsize=None)
def sample_build() -> SampleBuild:
    """Generate the sample once per test session and build it once; every test reads the same DB."""
    from kiro_analytics.config import load_config
    from kiro_analytics.local import engine, sample_data

    tmp = Path(tempfile.mkdtemp(prefix="kiro-local-"))
    atexit.register(shutil.rmtree, tmp, True)
    manifest = sample_data.generate(tmp / "data", users=SAMPLE_USERS, days=SAMPLE_DAYS, end=SAMPLE_END)
    users_csv = sample_data.write_user_map(manifest, tmp / "users.csv")
    config = load_config(str(ROOT / "config.example.yaml"))
    result = engine.build(tmp / "data", tmp / "out", config, users_csv)
    expected = read_reports(manifest.root / manifest.prefix / "AWSLogs" / manifest.account_id)
    names = {user.userid: user.display_name for user in manifest.users}
    return SampleBuild(manifest, result, config, expected, names)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_day(day: date, days: int = 1) -> date:
    return day + timedelta(days=days)
