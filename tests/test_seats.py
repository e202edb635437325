"""Idle-seat detection: the seats.* config, the seat roster the user sync writes, and the seat_utilisation view.

The view's expectations are computed here from the report files, the roster and the user map with plain Python
(local_expected.read_reports), never from the SQL.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Dict, List

import boto3
import duckdb
import pytest
from botocore.exceptions import ClientError
from conftest import VALID_CONFIG
from kiro_analytics import lambda_handler
from kiro_analytics.config import load_config, parse_config
from kiro_analytics.errors import ConfigError, InputError, StepFailed
from kiro_analytics.identity_sync import SyncSettings, sync_user_mapping
from kiro_analytics.names import Names
from kiro_analytics.seat_roster import ROSTER_HEADER, seat_roster_key
from kiro_analytics.sqlfiles import load_tables, sql_values
from kiro_analytics.stack import stack_parameters
from local_expected import ROOT, bare_id, read_reports, user_days
from moto import mock_aws
from test_identity_sync import STORE, CountingIdentityStore

# --- config -------------------------------------------------------------------------------------------------


def _config(seats: dict):
    data = {section: dict(values) for section, values in VALID_CONFIG.items()}
    data["seats"] = seats
    return parse_config(data)


def test_seats_defaults_mean_off():
    config = load_config(str(ROOT / "config.example.yaml"))
    assert (config.seat_groups, config.seat_default_tier, config.seat_grace_days, config.seat_idle_after_days) == (
        (), "PRO", 14, 30)


def test_seats_values_are_read():
    config = _config({"groups": [" kiro-devs ", "Kiro, Power users"], "default_tier": "POWER", "grace_days": 0,
                      "idle_after_days": 7})
    assert config.seat_groups == ("kiro-devs", "Kiro, Power users")
    assert (config.seat_default_tier, config.seat_grace_days, config.seat_idle_after_days) == ("POWER", 0, 7)


@pytest.mark.parametrize(("seats", "key"), [
    ({"groups": "kiro-devs"}, "seats.groups"),
    ({"groups": ["ok", ""]}, "seats.groups[1]"),
    ({"groups": ["ok", 3]}, "seats.groups[1]"),
    ({"groups": ["a", "a"]}, "seats.groups[1]"),
    ({"default_tier": "ENTERPRISE"}, "seats.default_tier"),
    ({"default_tier": "pro"}, "seats.default_tier"),
    ({"grace_days": -1}, "seats.grace_days"),
    ({"grace_days": 1.5}, "seats.grace_days"),
    ({"idle_after_days": 0}, "seats.idle_after_days"),
    ({"idle_after_days": "30"}, "seats.idle_after_days"),
    ({"idle_days": 30}, "seats.idle_days"),
])
def test_bad_seats_values_name_their_key(seats, key):
    with pytest.raises(ConfigError) as caught:
        _config(seats)
    assert any(problem.startswith(f"{key}:") for problem in caught.value.problems), caught.value.problems


def test_roster_has_its_own_folder_beside_the_mapping_and_reaches_sql_and_stack():
    config = _config({"groups": ["kiro-devs", "李, \"x\""]})
    assert seat_roster_key("user-mapping/user_mapping.csv") == "user-mapping-seat-roster/seat_roster.csv"
    assert seat_roster_key("a/b/map.csv") == "a/b-seat-roster/seat_roster.csv"
    values = sql_values(config)
    assert values["seat_roster_prefix"] == "user-mapping-seat-roster/"
    assert not values["seat_roster_prefix"].startswith(values["user_mapping_prefix"])
    roster = next(t for t in load_tables(config) if t.name == "seat_roster")
    assert "LOCATION 's3://kiro-reports-test/user-mapping-seat-roster/'" in roster.sql
    names = Names(config)
    parameters = stack_parameters(config, names, names.lambda_code_key("ab" * 32))
    assert parameters["SeatRosterKey"] == "user-mapping-seat-roster/seat_roster.csv"
    assert json.loads(parameters["SeatGroups"]) == ["kiro-devs", "李, \"x\""]
    environ = {"MAPPING_BUCKET": "b", "MAPPING_KEY": "m/map.csv", "IDENTITY_STORE_ID": STORE,
               "IDENTITY_REGION": "us-east-1", "DATABASE": "d", "WORKGROUP": "w",
               "SEAT_GROUPS": parameters["SeatGroups"], "SEAT_ROSTER_KEY": parameters["SeatRosterKey"]}
    settings = lambda_handler.settings_from_environment(environ)
    assert settings.seat_groups == ("kiro-devs", "李, \"x\"")
    assert settings.seat_roster_key == "user-mapping-seat-roster/seat_roster.csv"
    assert lambda_handler.settings_from_environment({**environ, "SEAT_GROUPS": "[]"}).seat_groups == ()
    with pytest.raises(InputError, match="SEAT_GROUPS"):
        lambda_handler.settings_from_environment({**environ, "SEAT_GROUPS": "kiro-devs"})


# --- the roster the sync writes ------------------------------------------------------------------------------

SETTINGS = SyncSettings(bucket="reports", mapping_key="user-mapping/user_mapping.csv", identity_store_id=STORE,
                        identity_region="us-east-1", database="kiro_analytics", workgroup="kiro-analytics",
                        account_id="123456789012", seat_groups=("kiro-devs", "kiro-power"))
ROSTER_KEY = "user-mapping-seat-roster/seat_roster.csv"
DAY1 = date(2026, 11, 1)


@pytest.fixture
def directory():
    """250 users; kiro-devs holds 120 of them, kiro-power 10 (5 also in kiro-devs); a third group holds no seat."""
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="reports")
        client = boto3.client("identitystore", region_name="us-east-1")
        users = [client.create_user(IdentityStoreId=STORE, UserName=f"u{i}", DisplayName=f"User {i}",
                                    Name={"GivenName": "G", "FamilyName": "F"})["UserId"] for i in range(250)]
        groups = {name: client.create_group(IdentityStoreId=STORE, DisplayName=name)["GroupId"]
                  for name in ("kiro-devs", "kiro-power", "no-seat")}
        members = {"kiro-devs": users[:120], "kiro-power": users[115:125], "no-seat": users[200:210]}
        for name, ids in members.items():
            for user_id in ids:
                client.create_group_membership(IdentityStoreId=STORE, GroupId=groups[name],
                                               MemberId={"UserId": user_id})
        yield {"users": users, "groups": groups, "members": members, "client": client}


def _sync(identitystore, settings=SETTINGS, today=DAY1, s3=None):
    return sync_user_mapping(None, identitystore, s3 or boto3.client("s3", region_name="us-east-1"), settings,
                             today=today)


def _roster() -> bytes:
    return boto3.client("s3", region_name="us-east-1").get_object(Bucket="reports", Key=ROSTER_KEY)["Body"].read()


def _rows(body: bytes) -> List[Dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def test_sync_writes_the_roster_of_the_seat_groups_with_bounded_calls(directory):
    counting = CountingIdentityStore()
    result = _sync(counting.client)
    # Same calls as the mapping alone: 250 users = 3 ListUsers pages, 1 ListGroups page, and membership pages of
    # 100 per group (120 + 10 + 10 members = 2 + 1 + 1): O(users/100 + groups), no call per seat holder.
    assert counting.calls == {"ListUsers": 3, "ListGroups": 1, "ListGroupMemberships": 4}
    body = _roster()
    assert body.startswith(b"userid,group,roster_date\r\n")
    rows = _rows(body)
    assert tuple(rows[0]) == ROSTER_HEADER
    expected = sorted((u, g, DAY1.isoformat()) for g in ("kiro-devs", "kiro-power")
                      for u in directory["members"][g])
    assert sorted((r["userid"], r["group"], r["roster_date"]) for r in rows) == expected
    assert len(rows) == 130 and result.roster_members == 125 and result.roster_changed
    assert result.roster_uri == f"s3://reports/{ROSTER_KEY}"
    mapping = boto3.client("s3", region_name="us-east-1").get_object(Bucket="reports", Key=SETTINGS.mapping_key)
    assert _rows(mapping["Body"].read()) == []  # dry run with an empty previous map: no ids, and no roster rows


def test_members_keep_their_earliest_roster_date(directory):
    client, users, groups = directory["client"], directory["users"], directory["groups"]
    _sync(boto3.client("identitystore", region_name="us-east-1"))
    first = _roster()
    again = _sync(boto3.client("identitystore", region_name="us-east-1"), today=DAY1 + timedelta(days=1))
    assert again.roster_changed is False and _roster() == first
    # A week later: a new member, one member moved from kiro-devs to kiro-power, one removed from every seat group.
    newcomer, mover, leaver = users[230], users[0], users[1]
    client.create_group_membership(IdentityStoreId=STORE, GroupId=groups["kiro-devs"], MemberId={"UserId": newcomer})
    pages = client.get_paginator("list_group_memberships").paginate(IdentityStoreId=STORE, GroupId=groups["kiro-devs"])
    for membership in (m for page in pages for m in page["GroupMemberships"]):
        if membership["MemberId"]["UserId"] in (mover, leaver):
            client.delete_group_membership(IdentityStoreId=STORE, MembershipId=membership["MembershipId"])
    client.create_group_membership(IdentityStoreId=STORE, GroupId=groups["kiro-power"], MemberId={"UserId": mover})
    later = DAY1 + timedelta(days=7)
    _sync(boto3.client("identitystore", region_name="us-east-1"), today=later)
    rows = {(r["userid"], r["group"]): r["roster_date"] for r in _rows(_roster())}
    assert rows[(newcomer, "kiro-devs")] == later.isoformat()
    assert rows[(mover, "kiro-power")] == DAY1.isoformat()  # still the same seat holder since day 1
    assert not any(user == leaver for user, _ in rows)
    assert rows[(users[5], "kiro-devs")] == DAY1.isoformat()


def test_a_failed_roster_write_leaves_the_old_roster_byte_for_byte(directory):
    _sync(boto3.client("identitystore", region_name="us-east-1"))
    before = _roster()
    directory["client"].create_group_membership(IdentityStoreId=STORE, GroupId=directory["groups"]["kiro-power"],
                                                MemberId={"UserId": directory["users"][240]})
    s3 = boto3.client("s3", region_name="us-east-1")

    def refuse_roster(params, **_):
        if params.get("Key") == ROSTER_KEY:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")
    s3.meta.events.register("provide-client-params.s3.PutObject", refuse_roster)
    with pytest.raises(ClientError):
        _sync(boto3.client("identitystore", region_name="us-east-1"), today=DAY1 + timedelta(days=3), s3=s3)
    assert _roster() == before


def test_a_missing_seat_group_keeps_the_roster_and_fails_loudly(directory):
    _sync(boto3.client("identitystore", region_name="us-east-1"))
    before = _roster()
    typo = replace(SETTINGS, seat_groups=("kiro-devs", "kiro-powr"))
    with pytest.raises(StepFailed, match="'kiro-powr' not found"):
        _sync(boto3.client("identitystore", region_name="us-east-1"), settings=typo, today=DAY1 + timedelta(days=2))
    assert _roster() == before


def test_a_foreign_roster_is_refused_before_any_write(directory):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket="reports", Key=ROSTER_KEY, Body=b"id,team\r\nx,y\r\n")
    with pytest.raises(StepFailed, match="seat roster has header"):
        _sync(boto3.client("identitystore", region_name="us-east-1"))
    assert _roster() == b"id,team\r\nx,y\r\n"
    assert "Contents" not in s3.list_objects_v2(Bucket="reports", Prefix="user-mapping/")


def test_no_seat_groups_means_no_roster(directory):
    result = _sync(boto3.client("identitystore", region_name="us-east-1"), settings=replace(SETTINGS, seat_groups=()))
    assert result.roster_uri == ""
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="reports", Prefix=ROSTER_KEY)
    assert "Contents" not in listed


# --- the seat_utilisation view, against an independent reading --------------------------------------------------

SAMPLE = {"users": 40, "days": 60, "end": date(2026, 11, 25)}


def _seat_config(grace: int, idle_after: int, tier: str):
    config = load_config(str(ROOT / "config.example.yaml"))
    return replace(config, seat_grace_days=grace, seat_idle_after_days=idle_after, seat_default_tier=tier)


@pytest.fixture(scope="module", params=[(14, 30, "PRO"), (5, 3, "POWER")], ids=["defaults", "short-windows"])
def seats(request):
    """The sample with a roster: the sample's own roster plus hand rows that hit every status and boundary."""
    from kiro_analytics.local import engine, sample_data

    grace, idle_after, tier = request.param
    tmp = Path(tempfile.mkdtemp(prefix="kiro-seats-"))
    try:
        manifest = sample_data.generate(tmp / "data", **SAMPLE)
        users_csv = sample_data.write_user_map(manifest, tmp / "users.csv")
        roster_csv = sample_data.write_seat_roster(manifest, tmp / "roster.csv")
        exp = read_reports(manifest.root / manifest.prefix / "AWSLogs" / manifest.account_id)
        days = user_days(exp)
        last_day = max(days)
        active = {user for users in days.values() for user in users}
        lapsed = sorted(u.userid for u in manifest.users
                        if u.userid in active and max(d for d, us in days.items() if u.userid in us)
                        < last_day - timedelta(days=idle_after + 2))
        busy = sorted(u.userid for u in manifest.users if u.userid in days[last_day])
        # With two or more lapsed people, the first is taken out of its groups and re-added yesterday.
        readded = lapsed[0] if len(lapsed) > 1 else None
        kept = [row for row in _read_roster(roster_csv) if row[0] != readded]
        extra = [
            ("new-inside-grace", "kiro-hand", last_day - timedelta(days=grace - 1)),   # NEW
            ("new-at-grace-boundary", "kiro-hand", last_day - timedelta(days=grace)),  # NEVER_ACTIVATED
            ("rostered-after-last-day", "kiro-hand", last_day + timedelta(days=2)),   # NEW
            (busy[0], "kiro-hand", last_day),                                          # ACTIVE from day one
        ]
        if readded:
            extra.append((f'"d-1234567890.{readded}"', "zz-readded", last_day - timedelta(days=1)))  # NEW again
        with open(roster_csv, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(ROSTER_HEADER)
            writer.writerows(kept + [[u, g, d.isoformat()] for u, g, d in extra])
        config = _seat_config(grace, idle_after, tier)
        result = engine.build(tmp / "data", tmp / "out", config, users_csv, roster_csv=roster_csv)
        con = duckdb.connect(str(result.db_path), read_only=True)
        rows = con.execute("SELECT * FROM seat_utilisation").fetchall()
        names = [c[0] for c in con.description]
        idle = con.execute("SELECT userid, status, idle_monthly_cost FROM idle_seats").fetchall()
        con.close()
        yield {"rows": {r[0]: dict(zip(names, r)) for r in rows}, "idle": idle, "exp": exp, "days": days,
               "last_day": last_day, "roster": roster_csv, "users_csv": users_csv, "config": config,
               "manifest": manifest, "lapsed": [u for u in lapsed if u != readded], "readded": readded,
               "busy": busy}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_roster(path: Path) -> List[List[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def _expected(s) -> Dict[str, dict]:
    config, last_day, days = s["config"], s["last_day"], s["days"]
    grace, idle_after = config.seat_grace_days, config.seat_idle_after_days
    prices = {tier.code: tier.price for tier in config.tiers}
    order = [tier.code for tier in sorted(config.tiers, key=lambda t: t.credits)]
    with open(s["users_csv"], encoding="utf-8", newline="") as handle:
        names = {row["userid"]: row["username"] for row in csv.DictReader(handle)}
    roster: Dict[str, dict] = {}
    with open(s["roster"], encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            user = bare_id(row["userid"])
            entry = roster.setdefault(user, {"groups": [], "dates": []})
            entry["groups"].append(row["group"])
            entry["dates"].append(date.fromisoformat(row["roster_date"]))
    tiers: Dict[str, list] = {}
    for (day, user, _), values in s["exp"].activity.items():
        if values["subscription_tier"]:
            code = values["subscription_tier"]
            tiers.setdefault(user, []).append((day, order.index(code) if code in order else -1, code))
    out = {}
    for user, entry in roster.items():
        seen = sorted(d for d, users in days.items() if user in users)
        since = min(entry["dates"])
        recent = [d for d in seen if (last_day - d).days < idle_after]
        if recent:
            status = "ACTIVE"
        elif (last_day - since).days < grace and (not seen or seen[-1] < since):
            status = "NEW"
        elif not seen:
            status = "NEVER_ACTIVATED"
        else:
            status = "LAPSED"
        tier = max(tiers[user])[2] if user in tiers else config.seat_default_tier
        idle = status in ("NEVER_ACTIVATED", "LAPSED")
        out[user] = {"username": names.get(user) or user, "seat_group": min(entry["groups"]),
                     "first_rostered": since, "first_active": seen[0] if seen else None,
                     "last_active": seen[-1] if seen else None, "active_days_30": len(recent), "status": status,
                     "tier": tier, "monthly_price": prices.get(tier),
                     "idle_monthly_cost": (prices.get(tier) or 0.0) if idle else 0.0, "idle_seat": int(idle)}
    return out


def test_seat_utilisation_matches_an_independent_reading(seats):
    want = _expected(seats)
    got = seats["rows"]
    assert set(got) == set(want)
    for user, expected in want.items():
        row = {key: got[user][key] for key in expected}
        assert row == expected, (user, row, expected)
    statuses = {row["status"] for row in want.values()}
    assert statuses == {"ACTIVE", "NEW", "NEVER_ACTIVATED", "LAPSED"}
    assert sorted((u, s, c) for u, s, c in seats["idle"]) == sorted(
        (u, w["status"], w["idle_monthly_cost"]) for u, w in want.items() if w["idle_seat"])


def test_every_status_and_the_grace_boundary(seats):
    rows, config = seats["rows"], seats["config"]
    assert rows["new-inside-grace"]["status"] == "NEW"
    assert rows["new-at-grace-boundary"]["status"] == "NEVER_ACTIVATED"
    assert rows["new-at-grace-boundary"]["idle_monthly_cost"] == config.tiers[[t.code for t in config.tiers].index(
        config.seat_default_tier)].price
    assert rows["new-at-grace-boundary"]["tier"] == config.seat_default_tier
    assert rows["rostered-after-last-day"]["status"] == "NEW"
    if seats["readded"]:  # re-added to a seat group yesterday after lapsing: a new grace period
        assert rows[seats["readded"]]["status"] == "NEW"
        assert rows[seats["readded"]]["first_rostered"] == seats["last_day"] - timedelta(days=1)
    in_roster = [user for user in seats["lapsed"] if user in rows]
    assert in_roster and all(rows[user]["status"] == "LAPSED" for user in in_roster)
    assert rows[seats["busy"][0]]["status"] == "ACTIVE" and rows[seats["busy"][0]]["idle_monthly_cost"] == 0
    # The sample's own roster: its never-active directory member is idle, and external users hold no listed seat.
    reported = {user for users in seats["days"].values() for user in users}
    never = [u.userid for u in seats["manifest"].users if u.userid not in reported and u.groups]
    assert never and all(rows[user]["status"] == "NEVER_ACTIVATED" for user in never)
    assert not set(seats["manifest"].external_user_ids) & set(rows)
    ungrouped = [u.userid for u in seats["manifest"].users if not u.groups]
    assert ungrouped and not set(ungrouped) & set(rows)


def test_the_local_cli_builds_the_sample_with_a_roster(tmp_path):
    from kiro_analytics.local.__main__ import main

    assert main(["--config", str(ROOT / "config.example.yaml"), "--out", str(tmp_path), "--users-count", "12",
                 "--days", "20"]) == 0
    con = duckdb.connect(str(tmp_path / "kiro_analytics.duckdb"), read_only=True)
    try:
        holders = con.execute("SELECT count(*) FROM seat_utilisation").fetchone()[0]
    finally:
        con.close()
    with open(tmp_path / "sample-seat-roster.csv", encoding="utf-8", newline="") as handle:
        assert holders == len({row["userid"] for row in csv.DictReader(handle)}) > 0


def test_a_roster_with_another_header_is_refused_locally(tmp_path):
    from kiro_analytics.local import engine, sample_data

    manifest = sample_data.generate(tmp_path / "data", users=3, days=3)
    bad = tmp_path / "roster.csv"
    bad.write_text("userid,team,since\r\nx,y,2026-01-01\r\n", encoding="utf-8")
    with pytest.raises(InputError, match="header must be userid,group,roster_date"):
        engine.build(manifest.root, tmp_path / "out", load_config(str(ROOT / "config.example.yaml")),
                     roster_csv=bad)
