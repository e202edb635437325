"""The weekly digest: a few Athena SELECTs over the views, a short plain-text message, one SNS publish.

Ships in the user-sync Lambda (same package, its own EventBridge rule), so it imports only the standard library and
this package's Lambda-safe modules. The queries (sql/queries/digest_*.sql) return counts and money only, so no user
id, name or e-mail ever reaches the function, let alone the message: personal data stays in the dashboard.
"Today" in every number is the data's last day; only the freshness warning looks at the calendar.

Fails closed: a failed query, an unreadable answer or a failed publish raises (the function's Errors alarm covers
it), and nothing half-built is ever sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Mapping, Optional, Tuple

from .athena import fetch_rows, load_query, start_query, wait_for_query
from .errors import InputError, StepFailed
from .progress import DEFAULT_CLOCK, Clock

log = logging.getLogger(__name__)

QUERIES: Tuple[str, ...] = ("digest_activity", "digest_forecast", "digest_seats", "digest_freshness")
SUBJECT_LIMIT = 99  # SNS: "less than 100 characters"
BODY_LIMIT = 4096  # bytes, UTF-8: a short e-mail, far below SNS's 256 KB
STALE_AFTER_DAYS = 3
CURRENCY = "USD"  # plans.* prices are list prices in USD (config.example.yaml)

Row = Mapping[str, Optional[str]]


@dataclass(frozen=True)
class DigestSettings:
    database: str
    workgroup: str
    topic_arn: str
    dashboard_url: str
    query_timeout: float = 300


@dataclass(frozen=True)
class DigestFacts:
    """Everything the message says; counts and money only."""

    last_day: date
    first_day: date
    active_users: int
    active_users_last_week: Optional[int]  # None when the reports do not cover the whole week before
    consumption: float  # plan + overage credits, as the dashboard's "Consumption" KPI
    consumption_last_week: Optional[float]
    overage_cost: float
    forecast_month: Optional[date]
    users_projected_over: int
    users_still_under: int
    projected_overage_cost: float
    overage_cost_to_date: float
    seats: int
    idle_seats: int
    never_activated: int
    idle_monthly_cost: float
    newest_report_day: Optional[date]


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


@dataclass(frozen=True)
class DigestResult:
    message: Message
    facts: DigestFacts
    message_id: str


# ---------------------------------------------------------------------------------------------------------------
# Reading the answers (Athena gives every value as text)
# ---------------------------------------------------------------------------------------------------------------

def _value(rows: Mapping[str, Row], query: str, column: str) -> Optional[str]:
    row = rows.get(query)
    if row is None:
        raise StepFailed(f"digest query {query} returned no row")
    if column not in row:
        raise StepFailed(f"digest query {query} returned no column {column}; redeploy the function with its queries")
    value = row[column]
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _number(rows: Mapping[str, Row], query: str, column: str) -> Optional[float]:
    text = _value(rows, query, column)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise StepFailed(f"digest query {query}: {column} = {text[:40]!r} is not a number") from None


def _count(rows: Mapping[str, Row], query: str, column: str) -> int:
    number = _number(rows, query, column)
    return round(number) if number is not None else 0


def _day(rows: Mapping[str, Row], query: str, column: str) -> Optional[date]:
    text = _value(rows, query, column)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StepFailed(f"digest query {query}: {column} = {text[:40]!r} is not a date") from None


def facts_from_rows(rows: Mapping[str, Row]) -> DigestFacts:
    """The first row of each digest query (by query name) → the facts; raises StepFailed on an unreadable answer."""
    last_day = _day(rows, "digest_activity", "last_day")
    first_day = _day(rows, "digest_activity", "first_day")
    if last_day is None or first_day is None:
        raise StepFailed("the reports hold no activity yet: nothing to digest (step 4 shows what Athena sees)")
    # Compare only with a week the reports cover in full; a partial week would read as a fall.
    comparable = first_day <= last_day - timedelta(days=13)
    return DigestFacts(
        last_day=last_day, first_day=first_day,
        active_users=_count(rows, "digest_activity", "active_users_this_week"),
        active_users_last_week=_count(rows, "digest_activity", "active_users_last_week") if comparable else None,
        consumption=_number(rows, "digest_activity", "consumption_this_week") or 0.0,
        consumption_last_week=(_number(rows, "digest_activity", "consumption_last_week") or 0.0)
        if comparable else None,
        overage_cost=_number(rows, "digest_activity", "overage_cost_this_week") or 0.0,
        forecast_month=_day(rows, "digest_forecast", "month"),
        users_projected_over=_count(rows, "digest_forecast", "users_projected_over"),
        users_still_under=_count(rows, "digest_forecast", "users_still_under"),
        projected_overage_cost=_number(rows, "digest_forecast", "projected_overage_cost") or 0.0,
        overage_cost_to_date=_number(rows, "digest_forecast", "overage_cost_to_date") or 0.0,
        seats=_count(rows, "digest_seats", "seats"),
        idle_seats=_count(rows, "digest_seats", "idle_seats"),
        never_activated=_count(rows, "digest_seats", "never_activated"),
        idle_monthly_cost=_number(rows, "digest_seats", "idle_monthly_cost") or 0.0,
        newest_report_day=_day(rows, "digest_freshness", "newest_report_day"),
    )


# ---------------------------------------------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------------------------------------------

def percent_change(now: float, before: Optional[float]) -> Optional[float]:
    if before is None or before == 0:
        return None
    return 100.0 * (now - before) / before


def _change(now: float, before: Optional[float]) -> str:
    change = percent_change(now, before)
    return "" if change is None else f"{change:+.1f}%"


def _money(value: float) -> str:
    return f"{CURRENCY} {value:,.2f}"


def _credits(value: float) -> str:
    return f"{value:,.1f}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def render(facts: DigestFacts, dashboard_url: str, today: date) -> Message:
    """The e-mail: subject < 100 characters, body <= 4 KB, counts and money only."""
    week = f"{(facts.last_day - timedelta(days=6)).isoformat()} to {facts.last_day.isoformat()}"
    users_change = _change(facts.active_users, facts.active_users_last_week)
    credits_change = _change(facts.consumption, facts.consumption_last_week)
    age = (today - facts.newest_report_day).days if facts.newest_report_day else None
    stale = age is None or age > STALE_AFTER_DAYS

    subject = (f"{'[STALE DATA] ' if stale else ''}Kiro weekly digest to {facts.last_day.isoformat()}: "
               f"{facts.active_users:,} active users{f' ({users_change})' if users_change else ''}, "
               f"{facts.users_projected_over:,} projected over plan")

    def versus(before: Optional[float], shown: str, change: str) -> str:
        if before is None:
            return f"(no full week before: the reports start on {facts.first_day.isoformat()})"
        return f"(week before: {shown}{', ' + change if change else ''})"

    lines = [
        f"Kiro usage in the 7 days {week} (the newest day in the reports), against the 7 days before.",
        "",
        f"Active users: {facts.active_users:,} "
        + versus(facts.active_users_last_week, f"{facts.active_users_last_week or 0:,}", users_change),
        f"Consumption (plan + overage credits): {_credits(facts.consumption)} "
        + versus(facts.consumption_last_week, _credits(facts.consumption_last_week or 0.0), credits_change),
        f"Overage cost: {_money(facts.overage_cost)}",
        "",
    ]
    if facts.forecast_month is not None:
        lines += [
            f"Forecast for {facts.forecast_month.strftime('%B %Y')} (each user's run rate so far):",
            f"  Users projected to use their whole allowance or more: {facts.users_projected_over:,} "
            f"({facts.users_still_under:,} of them not over it yet)",
            f"  Overage cost so far: {_money(facts.overage_cost_to_date)}; "
            f"projected by month end: {_money(facts.projected_overage_cost)}",
            "",
        ]
    if facts.seats > 0:
        lines += [
            f"Idle seats: {facts.idle_seats:,} of {facts.seats:,} ({facts.never_activated:,} never activated), "
            f"costing {_money(facts.idle_monthly_cost)} a month",
            "",
        ]
    if facts.newest_report_day is None:
        lines.append("Data freshness: WARNING: no report day found; check the Kiro export settings.")
    else:
        lines.append(f"Data freshness: newest report day {facts.newest_report_day.isoformat()} "
                     f"({age} day(s) before {today.isoformat()}).")
        if stale:
            lines.append(f"WARNING: no new reports for more than {STALE_AFTER_DAYS} days: check the Kiro export "
                         "settings, the report bucket and the crawlers.")
    lines += [
        "",
        f"Open the dashboard for who and why: {dashboard_url}" if dashboard_url else
        "Open the dashboard in QuickSight for who and why.",
        "",
        "This digest carries counts and money only; names stay in the dashboard.",
    ]
    body = "\n".join(lines)
    if len(body.encode("utf-8")) > BODY_LIMIT:
        body = body.encode("utf-8")[:BODY_LIMIT - 4].decode("utf-8", "ignore") + "\n..."
    return Message(subject=_clip(subject, SUBJECT_LIMIT), body=body)


# ---------------------------------------------------------------------------------------------------------------
# Running it
# ---------------------------------------------------------------------------------------------------------------

def query_rows(athena: Any, settings: DigestSettings, clock: Clock = DEFAULT_CLOCK) -> Dict[str, Row]:
    """Start every digest query at once, then read each one's first row (they are aggregates: one row each)."""
    started = {name: start_query(athena, load_query(name), settings.workgroup, settings.database)
               for name in QUERIES}
    rows: Dict[str, Row] = {}
    for name, query_id in started.items():
        wait_for_query(athena, query_id, f"the digest ({name})", settings.query_timeout, clock)
        found = fetch_rows(athena, query_id)
        if len(found) != 1:
            raise StepFailed(f"digest query {name} returned {len(found)} rows, expected 1 (query id {query_id})")
        rows[name] = found[0]
    return rows


def send_digest(athena: Any, sns: Any, settings: DigestSettings, today: Optional[date] = None,
                clock: Clock = DEFAULT_CLOCK) -> DigestResult:
    """Query, render, publish. ``today`` (UTC) only measures how old the newest report is."""
    if not settings.topic_arn:
        raise InputError("the digest has no topic: set lambda.alarm_email and digest.cron, then redeploy the stack")
    facts = facts_from_rows(query_rows(athena, settings, clock))
    message = render(facts, settings.dashboard_url, today or datetime.now(timezone.utc).date())
    try:
        answer = sns.publish(TopicArn=settings.topic_arn, Subject=message.subject, Message=message.body)
    except Exception as exc:
        raise StepFailed(f"publishing the digest to {settings.topic_arn} failed: {exc}") from exc
    log.info("digest for %s published to %s", facts.last_day, settings.topic_arn)
    return DigestResult(message=message, facts=facts, message_id=str(answer.get("MessageId", "")))
