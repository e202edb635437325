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


def feature_usage(exp: Expected) -> Dict[Tuple[date, str, str], Tuple[int, int]]:
    """(day, user, feature) -> (events, lines), only where the user used the feature (FAMILIES, from the files)."""
    usage = {}
    for (day, user), metrics in exp.behavior.items():
        for feature, (events, lines) in FAMILIES.items():
            e, n = sum(metrics[k] for k in events), sum(metrics[k] for k in lines)
            if e > 0 or n > 0:
                usage[(day, user, feature)] = (e, n)
    return usage


@dataclass(frozen=True)
class SampleBuild:
    manifest: object
    result: object
    config: object
    expected: Expected
    names: Dict[str, str]
    user_map: Optional[Path] = None

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
    return SampleBuild(manifest, result, config, expected, names, users_csv)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_day(day: date, days: int = 1) -> date:
    return day + timedelta(days=days)


# --- Insight views (monthly_credit_forecast, team_daily, report_freshness), read from the files ---

def days_in_month(month: date) -> int:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - month).days


def forecast(exp: Expected, allowance: Dict[str, float], tier_order: List[str],
             overage_price: float) -> Dict[Tuple[date, str], dict]:
    """(month, user) -> the forecast row: "today" is the last activity day in the credit report."""
    last_day = max(day for day, _, _ in exp.activity)
    months: Dict[Tuple[date, str], list] = defaultdict(lambda: [0.0, []])
    for (day, user, _), row in exp.activity.items():
        acc = months[(month_of(day), user)]
        acc[0] += row["credits_used"] + row["overage_credits_used"]
        if row["subscription_tier"]:
            rank = tier_order.index(row["subscription_tier"]) if row["subscription_tier"] in tier_order else -1
            acc[1].append((day, rank, row["subscription_tier"]))
    out = {}
    for (month, user), (used, tiers) in months.items():
        tier = max(tiers)[2] if tiers else None
        length = days_in_month(month)
        elapsed = (last_day - month).days + 1 if month == month_of(last_day) else length
        projected = used * length / elapsed
        plan = allowance.get(tier or "")
        over = max(projected - plan, 0.0) if plan is not None else 0.0
        out[(month, user)] = {
            "subscription_tier": tier, "credits_to_date": used, "days_elapsed": elapsed, "days_in_month": length,
            "projected_credits": projected, "monthly_credits": plan,
            "projected_utilisation_pct": 100 * projected / plan if plan else None,
            "projected_overage_credits": over, "projected_overage_cost": over * overage_price,
            "at_risk": plan is not None and projected >= plan and used < plan,
            "near_cap": plan is not None and projected >= 0.8 * plan,
        }
    return out


def read_groups(user_map: Path) -> Dict[str, List[str]]:
    """Bare user id -> its Identity Center groups from the name map CSV ([] when it lists none)."""
    groups: Dict[str, set] = defaultdict(set)
    with open(user_map, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            user = bare_id(row["userid"])
            if user:
                groups[user].update(g.strip() for g in (row.get("groups") or "").split(";") if g.strip())
    return {user: sorted(names) for user, names in groups.items()}


def team_days(exp: Expected, groups: Dict[str, List[str]]) -> Dict[Tuple[date, str], dict]:
    """(day, team) -> users (set), credits, overage, messages; a user in two groups counts in both."""
    usage: Dict[Tuple[date, str], List[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for (day, user, _), row in exp.activity.items():
        acc = usage[(day, user)]
        acc[0] += row["credits_used"]
        acc[1] += row["overage_credits_used"]
        acc[2] += row["total_messages"]
    out: Dict[Tuple[date, str], dict] = defaultdict(lambda: {"users": set(), "credits": 0.0, "overage": 0.0,
                                                             "messages": 0})
    for day, users in user_days(exp).items():
        for user in users:
            teams = (groups[user] or ["(no group)"]) if user in groups else ["(unknown)"]
            credits, overage, messages = usage.get((day, user), [0.0, 0.0, 0])
            for team in teams:
                acc = out[(day, team)]
                acc["users"].add(user)
                acc["credits"] += credits
                acc["overage"] += overage
                acc["messages"] += messages
    return dict(out)


def freshness(account_root: Path) -> Dict[Tuple[date, str, str], dict]:
    """(day, source, client) -> files, exports, newest_export, resent, rows, header_variants, over every file."""
    acc: Dict[Tuple[date, str, str], dict] = defaultdict(lambda: {"files": set(), "stamps": set(), "rows": 0,
                                                                   "headers": set()})
    sources = (("user_report", "KiroLogs/user_report"), ("kiro_by_user_analytic", "KiroLogs/by_user_analytic"),
               ("qdev_by_user_analytic", "QDeveloperLogs/by_user_analytic"))
    for source, folder in sources:
        for path in _files(account_root, folder):
            header, rows = _rows(path)
            for row in rows:
                cell = dict(zip(header, (value.strip() for value in row)))
                if source == "user_report":
                    key = (date.fromisoformat(cell["date"]), source, cell["client_type"].upper())
                else:
                    key = (datetime.strptime(cell["date"], "%m-%d-%Y").date(), source, "ALL")
                entry = acc[key]
                entry["files"].add(str(path))
                entry["stamps"].add(stamp_of(path))
                entry["rows"] += 1
                entry["headers"].add(tuple(header))
    return {key: {"files": len(e["files"]), "exports": len(e["stamps"]), "newest_export": max(e["stamps"]),
                  "resent": len(e["stamps"]) > 1, "rows": e["rows"], "header_variants": len(e["headers"])}
            for key, e in acc.items()}
