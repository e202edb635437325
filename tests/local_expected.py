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


def _float_or_none(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


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
            "usage_limit": _float_or_none(cell["usage_limit"]) if "usage_limit" in header else None,
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


TOLERANCE = 0.01  # Kiro meters credits to 0.01 (sql/README.md, Plans)


def _month_end(month: date) -> date:
    return month + timedelta(days=days_in_month(month) - 1)


def credit_days(exp: Expected, tier_rank: Dict[str, int], reading: str = "daily") -> Dict[Tuple[date, str], dict]:
    """(day, user) -> the day's plan credits, overage (as `reading` says), Usage_Limit, tier, overage on/off."""
    rows: Dict[Tuple[date, str], list] = defaultdict(list)
    for (day, user, _), row in exp.activity.items():
        rows[(day, user)].append(row)
    days = {}
    for key, found in rows.items():
        named = [r["subscription_tier"] for r in found if r["subscription_tier"]]
        overage = [r["overage_credits_used"] for r in found]
        nonzero = [value for value in overage if value != 0]
        limits = [r["usage_limit"] for r in found if r.get("usage_limit") is not None]
        days[key] = {
            "clients_equal": len(nonzero) >= 2 and min(nonzero) == max(nonzero),
            "clients_differ": len(nonzero) >= 2 and min(nonzero) < max(nonzero),
            "credits": sum(r["credits_used"] for r in found),
            "reported": max(overage) if reading == "running_total" else sum(overage),
            "tier": max(named, key=lambda t: tier_rank.get(t, 0)) if named else None,
            "limit": max(limits) if limits else None,
            "enabled": any(r["overage_enabled"] for r in found),
        }
    previous: Dict[Tuple[date, str], float] = {}
    for (day, user) in sorted(days, key=lambda k: (k[1], k[0])):
        entry = days[(day, user)]
        month_key = (month_of(day), user)
        before = previous.get(month_key)
        entry["rose"] = before is not None and before > 0 and entry["reported"] > before
        if reading == "running_total":
            entry["overage"] = entry["reported"] - (before or 0.0)
            entry["decreased"] = before is not None and entry["reported"] < before
        else:
            entry["overage"], entry["decreased"] = entry["reported"], False
        previous[month_key] = entry["reported"]
    return days


def cost_model(exp: Expected, config) -> Dict[Tuple[date, str], dict]:
    """(month, user) -> the cost model of sql/README.md (Plans), computed here from the files and config alone."""
    plans = {t.code: t for t in config.tiers}
    rank = {t.code: n for n, t in enumerate(sorted(config.tiers, key=lambda t: t.credits), start=1)}
    price = config.overage_price_per_credit
    days = credit_days(exp, rank, config.overage_reading)
    first_day, last_day = min(d for d, _ in days), max(d for d, _ in days)
    months: Dict[Tuple[date, str], list] = defaultdict(list)
    for (day, user), entry in days.items():
        months[(month_of(day), user)].append((day, entry))
    out = {}
    for (month, user), found in months.items():
        found.sort(key=lambda item: item[0])
        tiers = [e["tier"] for _, e in found if e["tier"]]
        limits = [e["limit"] for _, e in found if e["limit"] is not None]
        tier = tiers[-1] if tiers else None
        plan = plans.get(tier or "")
        allowance = limits[-1] if limits else (plan.credits if plan else None)
        credits = sum(e["credits"] for _, e in found)
        overage = sum(e["overage"] for _, e in found)
        consumption = credits + overage
        enabled = found[-1][1]["enabled"]
        end = _month_end(month)
        covers_start = first_day <= month
        to_date = month <= last_day < end
        covered = ((min(end, last_day) - max(month, first_day)).days + 1)
        remaining = (end - last_day).days if to_date else 0
        implied = max(consumption - allowance, 0.0) if allowance is not None else None
        so_far = consumption
        if not covers_start and overage > 0 and allowance is not None and allowance + overage > consumption:
            so_far = allowance + overage
        projected = so_far + (consumption / covered * remaining if remaining else 0.0)
        difference = overage - implied if implied is not None else None
        overage_days = sum(1 for _, e in found if e["reported"] > 0)
        rising = sum(1 for _, e in found if e["rose"])
        running = config.overage_reading == "running_total"
        if running and any(e["decreased"] for _, e in found):
            check = "RUNNING_TOTAL_DECREASED"
        elif running and any(e["clients_differ"] for _, e in found):
            check = "CLIENTS_DISAGREE"
        elif not running and (any(e["clients_equal"] for _, e in found)
                              or (overage_days >= 4 and rising == overage_days - 1)):
            check = "LOOKS_LIKE_RUNNING_TOTAL"
        elif allowance is None:
            check = "NO_ALLOWANCE"
        elif abs(difference) <= TOLERANCE:
            check = "OK"
        elif difference > 0:
            check = "DATA_STARTS_MID_MONTH" if not covers_start else "REPORTED_ABOVE_IMPLIED"
        else:
            check = "REPORTED_BELOW_IMPLIED"
        row = {
            "subscription_tier": tier, "tier_priced": plan is not None,
            "period_status": "MONTH_TO_DATE" if to_date else "PARTIAL_START" if not covers_start else "COMPLETE",
            "advice_status": "PROVISIONAL" if to_date or not covers_start else "FINAL",
            "credits_used": credits, "overage_credits_used": overage, "consumption_credits": consumption,
            "credits_to_date": so_far, "projected_credits": projected, "allowance": allowance,
            "allowance_source": "REPORT" if limits else "PLAN" if plan else None,
            "implied_overage_credits": implied, "overage_difference": difference, "overage_check": check,
            "overage_enabled": enabled, "overage_cost": overage * price,
            "monthly_price": plan.price if plan else None,
            "month_cost": plan.price + overage * price if plan else None,
            "utilisation_pct": 100 * so_far / allowance if allowance else None,
            "days_in_month": days_in_month(month), "days_remaining": remaining, "month_to_date": to_date,
        }
        row.update(_advice(row, config, rank))
        row.update(_projection(row, month, last_day, price))
        out[(month, user)] = row
    return out


def _advice(row: dict, config, rank: Dict[str, int]) -> dict:
    """The cheapest tier covering the month at its projected consumption; KEEP within half a cent."""
    tier, allowance, used = row["subscription_tier"], row["allowance"], row["projected_credits"]
    price = config.overage_price_per_credit
    capped = not row["overage_enabled"] and allowance is not None and used >= allowance - TOLERANCE
    options = []
    for plan in config.tiers:
        advisable = plan.code != "FREE" or config.advise_free
        if not advisable and plan.code != tier:
            continue
        own = allowance if plan.code == tier else plan.credits
        with_overage = row["overage_enabled"] and plan.overage
        over = max(used - own, 0.0) if with_overage else 0.0
        if with_overage:
            covers = True
        elif capped:
            covers = own > used + TOLERANCE
        else:
            covers = own >= used
        options.append({"tier": plan.code, "cost": plan.price + over * price, "covers": covers, "allowance": own})
    current = next((o for o in options if o["tier"] == tier), None)
    if not row["tier_priced"]:
        return {"recommendation": "NO_PRICE", "recommended_tier": None, "recommended_tier_cost": None,
                "current_tier_cost": None, "advice_saving": None}
    covering = [o for o in options if o["covers"]]
    if covering:
        cheapest = min(o["cost"] for o in covering)
        near = [o for o in covering if o["cost"] <= cheapest + 0.005]
        chosen = next((o for o in near if o["tier"] == tier), None) or max(near, key=lambda o: rank[o["tier"]])
    else:
        chosen = max(options, key=lambda o: (o["allowance"], o["tier"] == tier, rank[o["tier"]]))
    direction = "KEEP" if chosen["tier"] == tier else "UPGRADE" if rank[chosen["tier"]] > rank[tier] else "DOWNGRADE"
    return {"recommendation": direction, "recommended_tier": chosen["tier"], "recommended_tier_cost": chosen["cost"],
            "current_tier_cost": current["cost"], "advice_saving": current["cost"] - chosen["cost"]}


def _projection(row: dict, month: date, last_day: date, price: float) -> dict:
    allowance, projected, so_far = row["allowance"], row["projected_credits"], row["credits_to_date"]
    extra = max(projected - max(so_far, allowance), 0.0) if allowance is not None and row["overage_enabled"] else 0.0
    projected_overage = row["overage_credits_used"] + extra
    return {
        "days_elapsed": (last_day - month).days + 1 if row["month_to_date"] else row["days_in_month"],
        "projected_overage_credits": projected_overage, "projected_overage_cost": projected_overage * price,
        "at_risk": allowance is not None and projected >= allowance and so_far < allowance,
        "near_cap": allowance is not None and projected >= 0.8 * allowance,
    }


FORECAST_COLUMNS = ("subscription_tier", "period_status", "credits_to_date", "days_elapsed", "days_in_month",
                    "projected_credits", "projected_overage_credits", "projected_overage_cost", "at_risk", "near_cap")


def forecast(exp: Expected, config) -> Dict[Tuple[date, str], dict]:
    """(month, user) -> the forecast row (monthly_credit_forecast): the cost model's projection."""
    out = {}
    for key, row in cost_model(exp, config).items():
        entry = {column: row[column] for column in FORECAST_COLUMNS}
        entry["monthly_credits"] = row["allowance"]
        allowance = row["allowance"]
        entry["projected_utilisation_pct"] = 100 * row["projected_credits"] / allowance if allowance else None
        out[key] = entry
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
