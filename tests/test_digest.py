"""The weekly digest: its numbers are the queries' answers, no personal data, SNS limits, routing, opt-in, real SQL."""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Dict, List

import boto3
import duckdb
import pytest
import sqlglot
from conftest import ROOT, write_config
from kiro_analytics import lambda_handler
from kiro_analytics.athena import load_query
from kiro_analytics.config import load_config
from kiro_analytics.digest import (
    BODY_LIMIT,
    QUERIES,
    SUBJECT_LIMIT,
    DigestFacts,
    DigestSettings,
    facts_from_rows,
    render,
    send_digest,
)
from kiro_analytics.errors import ConfigError, InputError, StepFailed
from kiro_analytics.lambda_package import QUERIES as PACKAGED_QUERIES
from kiro_analytics.local.translate import SUPPORTED_FUNCTIONS, functions_used
from kiro_analytics.names import Names
from kiro_analytics.stack import stack_parameters
from moto import mock_aws
from moto.moto_api import state_manager
from moto.sns.models import sns_backends
from sqlglot import exp
from standins.athena import athena_catalog
from test_iam_coverage import Template

REGION, ACCOUNT = "us-east-1", "123456789012"
TOPIC = "kiro-analytics-alarms"
URL = "https://us-east-1.quicksight.aws.amazon.com/sn/dashboards/kiro-analytics-dashboard"
TODAY = date(2026, 11, 26)
# Distinctive values, so each one found in the message can only have come from its own answer.
ANSWERS: Dict[str, Dict[str, object]] = {
    "digest_activity": {"first_day": "2026-09-01", "last_day": "2026-11-24", "active_users_this_week": 37,
                        "active_users_last_week": 32, "consumption_this_week": 12345.6,
                        "consumption_last_week": 9876.5, "overage_cost_this_week": 61.78},
    "digest_forecast": {"month": "2026-11-01", "users_projected_over": 4, "users_still_under": 3,
                        "projected_overage_cost": 123.45, "overage_cost_to_date": 98.76},
    "digest_seats": {"seats": 41, "idle_seats": 6, "never_activated": 2, "idle_monthly_cost": 140},
    "digest_freshness": {"newest_report_day": "2026-11-24"},
}
PERSONAL = ("Zoë Example", "zoe@example.com", "a1b2c3d4-0000-4000-8000-000000000001")


def _settings(topic_arn: str = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}") -> DigestSettings:
    return DigestSettings(database="kiro_analytics", workgroup="kiro-analytics", topic_arn=topic_arn,
                          dashboard_url=URL)


@pytest.fixture
def aws():
    """moto Athena answering each digest query (by its exact text), and the digest's topic."""
    with mock_aws():
        boto3.client("athena", region_name=REGION).create_work_group(
            Name="kiro-analytics", Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/athena/"}})
        boto3.client("sns", region_name=REGION).create_topic(Name=TOPIC)
        state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
        try:
            with athena_catalog() as athena:
                yield athena
        finally:
            state_manager.unset_transition(model_name="athena::execution")


def _answer(athena, answers: Dict[str, Dict[str, object]]) -> None:
    by_text = {load_query(name): row for name, row in answers.items()}
    athena.answers.clear()  # the newest answers only (the stand-in asks its responders in order)
    athena.answer(lambda sql: [by_text[sql]] if sql in by_text else None)


def _sent() -> List[tuple]:
    topic = sns_backends[ACCOUNT][REGION].topics[f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"]
    return [(subject, message) for _id, message, subject, *_ in topic.sent_notifications]


def _run(athena, answers=ANSWERS, today=TODAY):
    _answer(athena, answers)
    return send_digest(boto3.client("athena", region_name=REGION), boto3.client("sns", region_name=REGION),
                       _settings(), today=today)


# ---------------------------------------------------------------------------------------------------------------
# The message says what the queries answered, and nothing personal
# ---------------------------------------------------------------------------------------------------------------

def test_message_numbers_are_the_answers(aws):
    result = _run(aws)
    [(subject, body)] = _sent()
    assert (subject, body) == (result.message.subject, result.message.body)
    assert subject == "Kiro weekly digest to 2026-11-24: 37 active users (+15.6%), 4 projected over plan"
    assert "Kiro usage in the 7 days 2026-11-18 to 2026-11-24" in body
    assert "Active users: 37 (week before: 32, +15.6%)" in body            # 37 / 32 - 1
    assert "Consumption (plan + overage credits): 12,345.6 (week before: 9,876.5, +25.0%)" in body  # 12345.6/9876.5-1
    assert "Overage cost: USD 61.78" in body
    assert "Forecast for November 2026" in body
    assert "whole allowance or more: 4 (3 of them not over it yet)" in body
    assert "Overage cost so far: USD 98.76; projected by month end: USD 123.45" in body
    assert "Idle seats: 6 of 41 (2 never activated), costing USD 140.00 a month" in body
    assert "newest report day 2026-11-24 (2 day(s) before 2026-11-26)" in body and "WARNING" not in body
    assert f"Open the dashboard for who and why: {URL}" in body
    assert result.facts.active_users == 37 and result.facts.projected_overage_cost == pytest.approx(123.45)
    assert result.message_id


def test_no_comparison_without_a_full_week_before_and_no_seat_section_without_a_roster(aws):
    answers = dict(ANSWERS, digest_activity=dict(ANSWERS["digest_activity"], first_day="2026-11-15"),
                   digest_seats={"seats": 0, "idle_seats": 0, "never_activated": 0, "idle_monthly_cost": 0})
    body = _run(aws, answers).message.body
    assert "Active users: 37 (no full week before: the reports start on 2026-11-15)" in body
    assert "%" not in body and "Idle seats" not in body


def test_stale_data_is_flagged_in_subject_and_body(aws):
    result = _run(aws, today=date(2026, 11, 28))  # 4 days after the newest report day
    assert result.message.subject.startswith("[STALE DATA] ")
    assert "(4 day(s) before 2026-11-28)" in result.message.body
    assert "WARNING: no new reports for more than 3 days" in result.message.body
    assert "WARNING" not in _run(aws, today=date(2026, 11, 27)).message.body  # 3 days: still fresh


def test_no_name_or_email_reaches_the_message_even_if_an_answer_carried_them(aws):
    """Even a query changed to return people (here: extra columns) cannot put them in the message."""
    leaky = {name: dict(row, userid=PERSONAL[2], username=PERSONAL[0], email=PERSONAL[1])
             for name, row in ANSWERS.items()}
    result = _run(aws, leaky)
    text = result.message.subject + result.message.body
    assert not [value for value in PERSONAL if value in text]
    assert "37 active users" in result.message.subject


@pytest.mark.parametrize("name", QUERIES)
def test_digest_queries_output_no_person_columns(name):
    tree = sqlglot.parse_one(load_query(name), read="athena")
    outputs = {select.alias_or_name.lower() for select in tree.selects}
    assert outputs and not outputs & {"userid", "user_id", "username", "user_name", "email", "display_name"}
    # The people columns the views carry appear only inside aggregates (count(w.userid)), never bare in the output.
    for column in tree.find_all(exp.Column):
        if column.name.lower() in ("username", "email", "user_name"):
            raise AssertionError(f"{name} reads {column.name}")


def test_subject_and_body_stay_within_limits():
    facts = facts_from_rows({name: {k: str(v) for k, v in row.items()} for name, row in ANSWERS.items()})
    huge = replace(facts, active_users=10**15, users_projected_over=10**15, projected_overage_cost=1e18,
                   active_users_last_week=1)
    message = render(huge, "https://example.com/" + "x" * 6000, TODAY)
    assert len(message.subject) <= SUBJECT_LIMIT < 100 and "\n" not in message.subject
    assert len(message.body.encode("utf-8")) <= BODY_LIMIT
    normal = render(facts, URL, TODAY)
    assert len(normal.subject) < 100 and len(normal.body.encode("utf-8")) < 1500


def test_fails_closed(aws):
    # A query that returns nothing usable: no message goes out.
    with pytest.raises(StepFailed, match="digest query digest_activity returned no column active_users_this_week"):
        _run(aws, dict(ANSWERS, digest_activity={"first_day": "2026-09-01", "last_day": "2026-11-24"}))
    with pytest.raises(StepFailed, match="no activity yet"):
        _run(aws, dict(ANSWERS, digest_activity=dict(ANSWERS["digest_activity"], first_day=None, last_day=None)))
    with pytest.raises(StepFailed, match="consumption_this_week = 'lots' is not a number"):
        _run(aws, dict(ANSWERS, digest_activity=dict(ANSWERS["digest_activity"], consumption_this_week="lots")))
    assert _sent() == []
    # A topic that does not exist (deleted by hand): the publish error is named.
    _answer(aws, ANSWERS)
    with pytest.raises(StepFailed, match=r"publishing the digest to .*:gone failed"):
        send_digest(boto3.client("athena", region_name=REGION), boto3.client("sns", region_name=REGION),
                    _settings(f"arn:aws:sns:{REGION}:{ACCOUNT}:gone"), today=TODAY)


def test_a_failed_query_fails_the_digest(aws):
    from moto.athena.models import athena_backends

    _answer(aws, ANSWERS)
    backend = athena_backends[ACCOUNT][REGION]
    original = backend.get_query_execution

    def failed(query_id):
        execution = original(query_id)
        execution.status = "FAILED"
        return execution
    backend.get_query_execution = failed
    try:
        with pytest.raises(StepFailed, match=r"Athena query for the digest \(digest_activity\) failed"):
            send_digest(boto3.client("athena", region_name=REGION), boto3.client("sns", region_name=REGION),
                        _settings(), today=TODAY)
    finally:
        backend.get_query_execution = original
    assert _sent() == []


# ---------------------------------------------------------------------------------------------------------------
# The handler routes by action
# ---------------------------------------------------------------------------------------------------------------

def test_handler_routes_by_action(monkeypatch):
    calls: List[str] = []
    monkeypatch.setattr(lambda_handler, "sync_user_mapping", lambda *a, **k: calls.append("sync") or _FakeSync())
    monkeypatch.setattr(lambda_handler, "make_clients",
                        lambda settings, role="": {"athena": 0, "identitystore": 0, "s3": 0})
    monkeypatch.setattr(lambda_handler, "make_digest_clients", lambda: {"athena": 0, "sns": 0})
    monkeypatch.setattr(lambda_handler, "send_digest",
                        lambda athena, sns, settings: calls.append(f"digest:{settings.topic_arn}") or _FakeDigest())
    for key, value in {"MAPPING_BUCKET": "b", "MAPPING_KEY": "m/m.csv", "IDENTITY_STORE_ID": "d-1234567890",
                       "IDENTITY_REGION": REGION, "DATABASE": "db", "WORKGROUP": "wg", "TOPIC_ARN": "arn:t",
                       "DASHBOARD_URL": URL}.items():
        monkeypatch.setenv(key, value)
    assert lambda_handler.handler({"action": "digest"}, None)["subject"] == "s"
    lambda_handler.handler({}, None)                   # the daily schedule's event: no action
    lambda_handler.handler({"action": "sync"}, None)
    lambda_handler.handler(None, None)
    assert calls == ["digest:arn:t", "sync", "sync", "sync"]
    with pytest.raises(InputError, match="unknown action 'report'"):
        lambda_handler.handler({"action": "report"}, None)
    monkeypatch.setenv("TOPIC_ARN", "")
    with pytest.raises(InputError, match="the digest is off"):
        lambda_handler.handler({"action": "digest"}, None)
    assert calls == ["digest:arn:t", "sync", "sync", "sync"]


class _FakeSync:
    uri, users_written, changed, from_directory, kept_previous, id_only, groups = "s3://b/m", 0, False, 0, 0, 0, 0
    identity_calls: Dict[str, int] = {}
    roster_uri, roster_members, roster_changed, conflict = "", 0, False, False

    def summary(self) -> str:
        return "fake"


class _FakeDigest:
    message_id = "id"
    message = type("M", (), {"subject": "s"})()
    facts = type("F", (), {"last_day": date(2026, 1, 1)})()


# ---------------------------------------------------------------------------------------------------------------
# Config and template: opt-in
# ---------------------------------------------------------------------------------------------------------------

def _template(tmp_path, overrides) -> Template:
    config = load_config(str(write_config(tmp_path / "config.yaml", overrides)))
    names = Names(config)
    return Template(stack_parameters(config, names, names.lambda_code_key("ab" * 32)), REGION, ACCOUNT)


def test_digest_is_on_only_with_a_cron_and_an_alarm_email(tmp_path):
    email = {"lambda": {"alarm_email": "admins@example.com"}}
    on = _template(tmp_path, email)
    assert on.parameters["DigestCron"] == "cron(0 6 ? * MON *)" and on.condition("HasDigest")
    assert all(on.exists(r) for r in ("DigestSchedule", "DigestSchedulePermission", "DigestPublishPolicy"))
    rule = on.resolve(on.resource("DigestSchedule")["Properties"])
    assert rule["Name"] == "kiro-analytics-weekly-digest-schedule"
    assert rule["ScheduleExpression"] == "cron(0 6 ? * MON *)"
    env = on.resolve(on.resource("SyncFunction")["Properties"])["Environment"]["Variables"]
    assert env["TOPIC_ARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:kiro-analytics-alarms" and env["DASHBOARD_URL"] == URL
    for overrides in ({**email, "digest": {"cron": ""}}, {}):  # cron empty, or no e-mail to send it to
        off = _template(tmp_path, overrides)
        assert not off.condition("HasDigest")
        assert not any(off.exists(r) for r in ("DigestSchedule", "DigestSchedulePermission", "DigestPublishPolicy"))
        assert off.resolve(off.resource("SyncFunction")["Properties"])["Environment"]["Variables"]["TOPIC_ARN"] == ""
        assert off.exists("SyncSchedule")  # the daily sync is untouched


def test_digest_cron_is_validated_by_key(tmp_path):
    assert load_config(str(ROOT / "config.example.yaml")).digest_cron == "cron(0 6 ? * MON *)"
    assert load_config(str(write_config(tmp_path / "a.yaml", {"digest": {"cron": ""}}))).digest_cron == ""
    custom = load_config(str(write_config(tmp_path / "b.yaml", {"digest": {"cron": "cron(30 7 ? * FRI *)"}})))
    assert custom.digest_cron == "cron(30 7 ? * FRI *)"
    with pytest.raises(ConfigError, match=r"digest\.cron: 'cron\(0 6 \* \* MON \*\)' is not an AWS cron"):
        load_config(str(write_config(tmp_path / "c.yaml", {"digest": {"cron": "cron(0 6 * * MON *)"}})))
    with pytest.raises(ConfigError, match=r"digest\.weekday: unknown key"):
        load_config(str(write_config(tmp_path / "d.yaml", {"digest": {"weekday": "MON"}})))


# ---------------------------------------------------------------------------------------------------------------
# The SQL: files exist, only SELECT, ship in the zip, and run on the local DuckDB build of the sample
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", QUERIES)
def test_query_files_exist_and_only_select(name):
    path = ROOT / "sql" / "queries" / f"{name}.sql"
    assert path.is_file() and f"{name}.sql" in PACKAGED_QUERIES
    tree = sqlglot.parse_one(load_query(name), read="athena")
    assert isinstance(tree, exp.Select), f"{path}: not a single SELECT"
    assert not list(tree.find_all(exp.Create, exp.Insert, exp.Delete, exp.Drop, exp.Update))
    assert not [t for t in tree.find_all(exp.Table) if t.db], f"{path}: qualified table (queries use the session db)"
    unknown = functions_used(tree) - set(SUPPORTED_FUNCTIONS)
    assert not unknown, f"{path}: {unknown} have no verified DuckDB translation"


@pytest.fixture(scope="module")
def sample_build():
    """The generated sample with its user map and seat roster, built into DuckDB like --local does."""
    from kiro_analytics.local import engine, sample_data

    tmp = Path(tempfile.mkdtemp(prefix="kiro-digest-"))
    try:
        manifest = sample_data.generate(tmp / "data", users=24, days=45, end=date(2026, 11, 25))
        users_csv = sample_data.write_user_map(manifest, tmp / "users.csv")
        roster_csv = sample_data.write_seat_roster(manifest, tmp / "roster.csv")
        config = load_config(str(ROOT / "config.example.yaml"))
        result = engine.build(manifest.root, tmp / "out", config, users_csv, roster_csv=roster_csv)
        yield result.db_path, users_csv, manifest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _duckdb_rows(db_path: Path) -> Dict[str, Dict[str, object]]:
    rows = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        for name in QUERIES:
            cursor = con.execute(sqlglot.transpile(load_query(name), read="athena", write="duckdb")[0])
            columns = [column[0] for column in cursor.description]
            found = cursor.fetchall()
            assert len(found) == 1, f"{name}: {len(found)} rows"
            rows[name] = dict(zip(columns, found[0]))
    return rows


def test_digest_queries_run_on_the_sample_and_match_the_views(sample_build):
    db_path, users_csv, _manifest = sample_build
    rows = _duckdb_rows(db_path)
    assert set(rows["digest_activity"]) == {"first_day", "last_day", "active_users_this_week",
                                            "active_users_last_week", "consumption_this_week",
                                            "consumption_last_week", "overage_cost_this_week"}
    assert set(rows["digest_forecast"]) == {"month", "users_projected_over", "users_still_under",
                                            "projected_overage_cost", "overage_cost_to_date"}
    assert set(rows["digest_seats"]) == {"seats", "idle_seats", "never_activated", "idle_monthly_cost"}
    assert set(rows["digest_freshness"]) == {"newest_report_day"}
    # Independent readings of the same build, in Python over the views' rows.
    with duckdb.connect(str(db_path), read_only=True) as con:
        days = con.execute("SELECT activity_date, userid FROM user_days").fetchall()
        # Consumption and overage from the raw rows, priced with config: the digest must say what the views say.
        credits = con.execute("SELECT activity_date, credits_used + overage_credits_used, overage_credits_used "
                              "FROM user_activity_daily").fetchall()
        billed = con.execute("SELECT month, overage_credits_used FROM monthly_user_credits").fetchall()
        watch = con.execute("SELECT at_risk, projected_overage_cost FROM credit_forecast_watchlist").fetchall()
        latest_month = con.execute("SELECT max(month) FROM monthly_credit_forecast").fetchone()[0]
        seats = con.execute("SELECT status, idle_seat, idle_monthly_cost FROM seat_utilisation").fetchall()
        newest = con.execute("SELECT max(activity_date) FROM report_freshness").fetchone()[0]
    last = max(day for day, _ in days)

    def window(lo: int, hi: int):
        return {user for day, user in days if lo <= (last - day).days <= hi}
    activity = rows["digest_activity"]
    assert activity["last_day"] == last == date(2026, 11, 25) and activity["first_day"] == min(d for d, _ in days)
    assert activity["active_users_this_week"] == len(window(0, 6)) > 0
    assert activity["active_users_last_week"] == len(window(7, 13)) > 0
    price = load_config(str(ROOT / "config.example.yaml")).overage_price_per_credit
    assert activity["consumption_this_week"] == pytest.approx(
        sum(c for d, c, _ in credits if 0 <= (last - d).days <= 6))
    assert activity["consumption_last_week"] == pytest.approx(
        sum(c for d, c, _ in credits if 7 <= (last - d).days <= 13))
    assert activity["overage_cost_this_week"] == pytest.approx(
        price * sum(o for d, _, o in credits if 0 <= (last - d).days <= 6))
    forecast = rows["digest_forecast"]
    assert forecast["month"] == latest_month == date(2026, 11, 1)
    assert forecast["users_projected_over"] == len(watch) > 0  # the sample has heavy users
    assert forecast["users_still_under"] == sum(1 for at_risk, _ in watch if at_risk)
    assert forecast["projected_overage_cost"] == pytest.approx(sum(cost or 0 for _, cost in watch))
    assert forecast["overage_cost_to_date"] == pytest.approx(price * sum(o for m, o in billed if m == latest_month))
    assert forecast["overage_cost_to_date"] > 0, "the sample's heavy user has overage this month"
    assert rows["digest_seats"]["seats"] == len(seats) > 0
    assert rows["digest_seats"]["idle_seats"] == sum(idle for _, idle, _ in seats)
    assert rows["digest_seats"]["never_activated"] == sum(1 for s, _, _ in seats if s == "NEVER_ACTIVATED")
    assert rows["digest_seats"]["idle_monthly_cost"] == pytest.approx(sum(cost for _, _, cost in seats))
    assert rows["digest_freshness"]["newest_report_day"] == newest

    # The same answers as Athena would give them (text), through the digest: no person in the message.
    as_text = {name: {k: None if v is None else str(v) for k, v in row.items()} for name, row in rows.items()}
    message = render(facts_from_rows(as_text), URL, date(2026, 11, 26))
    assert f"Active users: {len(window(0, 6))} (week before: {len(window(7, 13))}" in message.body
    with open(users_csv, encoding="utf-8", newline="") as handle:
        people = list(csv.DictReader(handle))
    assert people and watch
    personal = {value for person in people for key in ("userid", "username", "user_name", "email")
                for value in [person[key]] if len(value) > 3}
    text = message.subject + "\n" + message.body
    assert not [value for value in personal if value in text]


def test_digest_facts_type_is_counts_and_money_only():
    """A guard for later edits: every field of what the message is built from is a number or a date."""
    for name, kind in DigestFacts.__annotations__.items():
        assert any(word in str(kind) for word in ("int", "float", "date")), f"DigestFacts.{name}: {kind}"


def test_sample_week_before_is_covered(sample_build):
    # 45 days of sample: the comparison is made (first_day <= last_day - 13).
    rows = _duckdb_rows(sample_build[0])
    facts = facts_from_rows({n: {k: None if v is None else str(v) for k, v in r.items()} for n, r in rows.items()})
    assert facts.active_users_last_week is not None and facts.first_day <= facts.last_day - timedelta(days=13)
