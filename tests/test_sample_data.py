"""The sample generator: every quirk of real Kiro exports is present, read back from the files themselves.

Guards against a sample that is too tidy: a dashboard that passes on tidy data double-counts, drops
columns or misreads ids on real exports.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from kiro_analytics.errors import InputError
from kiro_analytics.local import sample_data as sd

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UR_NAME = re.compile(r"^(KIRO_IDE|KIRO_CLI|PLUGIN)_(\d{12})_user_report_(\d{12})(_part_\d+)?\.csv$")
LEGACY_NAME = re.compile(r"^(\d{12})_by_user_analytic_(\d{12})_report(_part_\d+)?\.csv$")
TIER_CODES = {"PRO", "PRO_PLUS", "PRO_MAX", "POWER"}
DOC_TIERS = {"Pro": "PRO", "ProPlus": "PRO_PLUS", "ProMax": "PRO_MAX", "Power": "POWER",
             "pro": "PRO", "pro_plus": "PRO_PLUS", "pro_max": "PRO_MAX", "power": "POWER"}


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> sd.SampleManifest:
    return sd.generate(tmp_path_factory.mktemp("sample") / "bucket")


def read_csv(path: Path) -> Tuple[List[str], List[Dict[str, str]]]:
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, row)) for row in reader]


def folder_day(path: Path) -> date:
    y, m, d = path.parts[-5:-2]
    return date(int(y), int(m), int(d))


def user_reports(m: sd.SampleManifest) -> List[Path]:
    return [p for p in m.report_files if "user_report" in p.parts]


def legacy_reports(m: sd.SampleManifest) -> List[Path]:
    return [p for p in m.report_files if "by_user_analytic" in p.parts]


def newest_user_reports(m: sd.SampleManifest) -> List[Path]:
    """What a correct reader keeps: per folder and client, only the files of the newest export."""
    groups: Dict[Tuple[Path, str], Dict[str, List[Path]]] = defaultdict(lambda: defaultdict(list))
    for p in user_reports(m):
        client, _, stamp, _ = UR_NAME.match(p.name).groups()
        groups[(p.parent, client)][stamp].append(p)
    return sorted(f for stamps in groups.values() for f in stamps[max(stamps)])


def everyone(m: sd.SampleManifest) -> List[sd.SampleUser]:
    """The people in the reports: the Identity Store's users and those who sign in from outside it."""
    return [*m.users, *m.external_users]


def bare(uid: str) -> str:
    return uid.split(".", 1)[1] if uid.startswith(sd.IDENTITY_STORE_ID + ".") else uid


def canonical_tier(t: str) -> str:
    return t if t in TIER_CODES else DOC_TIERS[t]


# -- layout -------------------------------------------------------------------------------------------------

def test_layout_matches_the_bucket(sample: sd.SampleManifest) -> None:
    base = sample.root / "AWSLogs" / sample.account_id
    assert (sample.root / sd.SAMPLE_MARKER).is_file()
    assert sample.start == date(2026, 7, 29) and sample.end == date(2026, 11, 25)
    assert not set(sample.report_files) & set(sample.non_report_files)
    on_disk = {p for p in sample.root.rglob("*") if p.is_file() and p.name != sd.SAMPLE_MARKER}
    assert on_disk == set(sample.report_files) | set(sample.non_report_files)
    for p in sample.report_files:
        rel = p.relative_to(base).parts
        assert rel[0] in ("KiroLogs", "QDeveloperLogs") and rel[2] == sample.region and rel[-2] == "00", p
        assert UR_NAME.match(p.name) or LEGACY_NAME.match(p.name), p.name
        raw = p.read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n")
        assert raw.split(b"\n", 1)[0].startswith((b"Date,UserId,", b"UserId,Date,"))
    # user_report only from its era on; the days before have legacy files only
    ur_days = {folder_day(p) for p in user_reports(sample)}
    assert min(ur_days) == sample.eras["user_report_from"] > sample.start
    assert {folder_day(p) for p in legacy_reports(sample)} >= {sample.start, sample.end}
    # one file per day x client, stamped the next day around 02:00 UTC
    for p in newest_user_reports(sample):
        stamp = datetime.strptime(UR_NAME.match(p.name).group(3), "%Y%m%d%H%M")
        assert (stamp.date() - folder_day(p)).days in (1, 2) and stamp.hour == 2


def test_a_long_range_uses_the_real_era_dates(tmp_path: Path) -> None:
    m = sd.generate(tmp_path / "year", users=15, days=365)
    assert m.eras == {"kiro_legacy_from": date(2026, 1, 1), "qdev_until": date(2026, 1, 15),
                      "user_report_from": date(2026, 2, 10), "new_model_from": date(2026, 9, 1),
                      "email_from": date(2026, 4, 1), "usage_limit_from": date(2026, 9, 1)}
    assert min(folder_day(p) for p in user_reports(m)) == date(2026, 2, 10)
    qdev = [folder_day(p) for p in legacy_reports(m) if "QDeveloperLogs" in p.parts]
    kiro = [folder_day(p) for p in legacy_reports(m) if "KiroLogs" in p.parts]
    assert min(qdev) == m.start and max(qdev) == date(2026, 1, 15) and min(kiro) == date(2026, 1, 1)
    for p in user_reports(m):
        assert ("User_Email" in read_csv(p)[0]) == (folder_day(p) >= date(2026, 4, 1))
        assert ("Usage_Limit" in read_csv(p)[0]) == (folder_day(p) >= date(2026, 9, 1))


def test_every_quirk_is_recorded_in_the_default_sample(sample: sd.SampleManifest) -> None:
    assert set(sample.quirks) == set(sd.QUIRKS)
    missing = [k for k, v in sample.quirks.items() if not v and k != "split_parts"]
    assert missing == []
    assert sample.quirks["split_parts"] == []  # only above 1,000 users a day


# -- user_report quirks --------------------------------------------------------------------------------------

def test_quoted_userid_and_profile_arn(sample: sd.SampleManifest) -> None:
    ids = {u.userid for u in everyone(sample)}
    for p in sample.quirks["quoted_userid"][:20]:
        for line in p.read_text(encoding="utf-8").splitlines()[1:]:
            fields = line.split(",")
            assert fields[1].startswith('"') and fields[1].endswith('"'), line
            assert bare(fields[1].strip('"')) in ids
            assert fields[8].startswith('"arn:aws:codewhisperer:us-east-1:123456789012:profile/')


def test_prefixed_userid_in_user_report_and_legacy(sample: sd.SampleManifest) -> None:
    ids = {u.userid for u in everyone(sample)}
    kinds = set()
    for p in sample.quirks["prefixed_userid"]:
        _, rows = read_csv(p)
        prefixed = [r["UserId"] for r in rows if r["UserId"].startswith("d-1234567890.")]
        assert prefixed, p
        for uid in prefixed:
            assert UUID_RE.match(bare(uid)) and bare(uid) in ids
        kinds.add("user_report" if "user_report" in p.parts else "legacy")
    assert kinds == {"user_report", "legacy"}
    # the same person appears both bare and prefixed: counting raw ids would count them twice
    raw_ids = set()
    for p in user_reports(sample):
        raw_ids |= {r["UserId"] for r in read_csv(p)[1]}
    assert any(bare(u) in raw_ids and u != bare(u) for u in raw_ids)


def test_some_files_lack_new_user(sample: sd.SampleManifest) -> None:
    lacking = set(sample.quirks["no_new_user_column"])
    assert lacking
    for p in user_reports(sample):
        assert ("New_User" in read_csv(p)[0]) == (p not in lacking), p


def test_email_column_only_from_its_era(sample: sd.SampleManifest) -> None:
    emails = {u.userid: u.email for u in everyone(sample)}
    email_from = sample.eras["email_from"]
    before = after = 0
    for p in user_reports(sample):
        header, rows = read_csv(p)
        if folder_day(p) < email_from:
            assert "User_Email" not in header and p in sample.quirks["no_email_column"]
            before += 1
        else:
            assert "User_Email" in header
            after += 1
            assert all(r["User_Email"] == emails[bare(r["UserId"])] for r in rows)
    assert before and after


def test_fixed_columns_then_drifting_columns(sample: sd.SampleManifest) -> None:
    fixed = sd.FIXED_HEADER.split(",")
    model_orders = set()
    for p in user_reports(sample):
        header = read_csv(p)[0]
        assert header[:11] == fixed
        assert set(header[11:]) <= {"New_User", "User_Email", "Usage_Limit"} | {f"{m}_messages" for m, _ in sd.MODELS}
        if "Usage_Limit" in header and "User_Email" in header:  # real headers: Usage_Limit right after User_Email
            assert header.index("Usage_Limit") == header.index("User_Email") + 1, p
        model_orders.add(tuple(c for c in header[11:] if c.endswith("_messages")))
        # New_User / User_Email sit among the model columns, not always at the end
    base = {f"{m}_messages" for m, _ in sd.MODELS[:-1]}
    assert len({tuple(c for c in o if c in base) for o in model_orders}) >= 2, "model columns never moved"
    assert len(sample.quirks["model_columns_reordered"]) >= 2
    positions = {read_csv(p)[0].index("New_User") for p in user_reports(sample) if "New_User" in read_csv(p)[0]}
    assert len(positions) >= 2


def test_new_model_column_appears_mid_range(sample: sd.SampleManifest) -> None:
    col = "claude_opus_4.6_messages"
    with_col = set(sample.quirks["new_model_mid_range"])
    assert with_col
    for p in user_reports(sample):
        has = col in read_csv(p)[0]
        assert has == (folder_day(p) >= date(2026, 9, 1)) == (p in with_col), p


def test_totals_are_consistent(sample: sd.SampleManifest) -> None:
    many_decimals = 0
    for p in newest_user_reports(sample):
        header, rows = read_csv(p)
        models = [c for c in header if c.endswith("_messages") and c != "Total_Messages"]
        for r in rows:
            total = int(r["Total_Messages"])
            assert total == sum(int(r[c]) for c in models) >= 1
            assert 1 <= int(r["Chat_Conversations"]) <= total
            assert r["Date"] == folder_day(p).isoformat()
            assert r["Client_Type"] == UR_NAME.match(p.name).group(1)
            many_decimals += len(r["Credits_Used"].split(".")[1]) >= 8
    assert many_decimals > 100


def test_resent_exports_newest_differs(sample: sd.SampleManifest) -> None:
    files = sample.quirks["resent_export"]
    by_group: Dict[Tuple[Path, str], List[Path]] = defaultdict(list)
    for p in files:
        m = UR_NAME.match(p.name)
        by_group[(p.parent, m.group(1) if m else "legacy")].append(p)
    assert any(k[1] == "legacy" for k in by_group) and any(k[1] != "legacy" for k in by_group)
    for (_folder, client), pair in by_group.items():
        assert len(pair) == 2, pair
        old, new = sorted(pair, key=lambda p: (UR_NAME.match(p.name) or LEGACY_NAME.match(p.name)).group(
            3 if client != "legacy" else 2))
        assert old.parent == new.parent
        key = "Client_Type" if client != "legacy" else "Date"
        old_rows = {(r["UserId"], r[key]): r for r in read_csv(old)[1]}
        new_rows = {(r["UserId"], r[key]): r for r in read_csv(new)[1]}
        assert set(old_rows) <= set(new_rows)
        changed = [k for k in old_rows if old_rows[k] != new_rows[k]]
        assert changed, f"re-sent {new} carries the same numbers as {old}"
        assert old not in newest_user_reports(sample)


def test_tier_spellings(sample: sd.SampleManifest) -> None:
    doc_files = set(sample.quirks["tier_spelling"])
    seen_doc, seen_codes = set(), set()
    for p in user_reports(sample):
        tiers = {r["Subscription_Tier"] for r in read_csv(p)[1]}
        if p in doc_files:
            assert tiers <= set(DOC_TIERS), tiers
            seen_doc |= tiers
        else:
            assert tiers <= TIER_CODES, tiers
            seen_codes |= tiers
    assert seen_doc & {"Pro", "ProPlus", "ProMax", "Power", "pro_plus"}
    assert {"PRO", "PRO_PLUS", "POWER"} <= seen_codes


def test_overage_enabled_upper_case(sample: sd.SampleManifest) -> None:
    values = set()
    for p in user_reports(sample):
        values |= {r["Overage_Enabled"] for r in read_csv(p)[1]}
    assert values == {"true", "false", "TRUE"}
    for p in sample.quirks["overage_enabled_upper"]:
        assert "TRUE" in {r["Overage_Enabled"] for r in read_csv(p)[1]}


def test_single_row_file(sample: sd.SampleManifest) -> None:
    assert sample.quirks["single_row_day"]
    for p in sample.quirks["single_row_day"]:
        lines = p.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2 and lines[0].startswith("Date,UserId,")


def _newest_rows(sample: sd.SampleManifest) -> List[Dict[str, str]]:
    rows = []
    for p in newest_user_reports(sample):
        rows += read_csv(p)[1]
    return rows


def test_tier_upgrade_max_trap(sample: sd.SampleManifest) -> None:
    history: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for r in _newest_rows(sample):
        history[bare(r["UserId"])].append((r["Date"], canonical_tier(r["Subscription_Tier"])))
    trapped = upgraded = downgraded = 0
    for events in history.values():
        events.sort()
        tiers = [t for _, t in events]
        latest = tiers[-1]
        if latest == "POWER" and "PRO_PLUS" in tiers:
            trapped += max(tiers) == "PRO_PLUS"  # MAX(tier) picks the old tier
        rank = [sd.TIER_CREDITS[t] for t in tiers]
        upgraded += any(b > a for a, b in zip(rank, rank[1:]))
        downgraded += any(b < a for a, b in zip(rank, rank[1:]))
    assert trapped >= 1 and upgraded >= 2 and downgraded >= 1
    assert sample.quirks["tier_upgrade"] and sample.quirks["tier_downgrade"]


def test_credits_capped_at_allowance_rest_is_overage(sample: sd.SampleManifest) -> None:
    plan: Dict[Tuple[str, str], float] = defaultdict(float)
    allowance: Dict[Tuple[str, str], int] = defaultdict(int)
    overage_rows = []
    for r in sorted(_newest_rows(sample), key=lambda r: r["Date"]):
        key = (bare(r["UserId"]), r["Date"][:7])
        plan[key] += float(r["Credits_Used"])
        allowance[key] = max(allowance[key], sd.TIER_CREDITS[canonical_tier(r["Subscription_Tier"])])
        if float(r["Overage_Credits_Used"]) > 0:
            assert r["Overage_Enabled"] in ("true", "TRUE")
            overage_rows.append((key, plan[key]))
    for key, used in plan.items():
        assert used <= allowance[key] + 1e-6, key
    assert overage_rows, "nobody went over their plan"
    # Overage only starts once the month's plan credits are used up. A month that began before user_report
    # existed used credits that no user_report shows, so only whole months are checked.
    first_whole = sample.eras["user_report_from"].replace(day=1).isoformat()[:7]
    whole = [key for key, _ in overage_rows if key[1] > first_whole]
    assert whole and all(plan[key] >= allowance[key] - 1e-6 for key in whole)


def test_usage_limit_is_the_tier_allowance_from_its_era(sample: sd.SampleManifest) -> None:
    since = sample.eras["usage_limit_from"]
    with_limit = set(sample.quirks["usage_limit_column"])
    assert with_limit and len(with_limit) < len(user_reports(sample)), "some files with, some without Usage_Limit"
    for p in user_reports(sample):
        header, rows = read_csv(p)
        assert ("Usage_Limit" in header) == (folder_day(p) >= since) == (p in with_limit), p
        for r in rows if "Usage_Limit" in header else ():
            assert float(r["Usage_Limit"]) == sd.TIER_CREDITS[canonical_tier(r["Subscription_Tier"])]


def test_someone_runs_out_of_credits_with_overage_off(sample: sd.SampleManifest) -> None:
    """The cost model must tell a user stopped at the allowance (who needed more) from one who fitted in it."""
    plan: Dict[Tuple[str, str], float] = defaultdict(float)
    tiers: Dict[Tuple[str, str], str] = {}
    enabled: Dict[Tuple[str, str], bool] = defaultdict(bool)
    for r in sorted(_newest_rows(sample), key=lambda r: r["Date"]):
        key = (bare(r["UserId"]), r["Date"][:7])
        plan[key] += float(r["Credits_Used"])
        tiers[key] = canonical_tier(r["Subscription_Tier"])
        enabled[key] |= r["Overage_Enabled"].lower() == "true"
    stopped = [key for key, used in plan.items()
               if not enabled[key] and used >= sd.TIER_CREDITS[tiers[key]] - 0.01]
    assert stopped, "nobody with overage off used their whole allowance"


def test_new_user_true_only_on_first_day(sample: sd.SampleManifest) -> None:
    first_seen: Dict[str, str] = {}
    for p in sorted(newest_user_reports(sample), key=folder_day):
        for r in read_csv(p)[1]:
            first_seen.setdefault(bare(r["UserId"]), r["Date"])
    new_days = set()
    for p in sample.quirks["new_user"]:
        for r in read_csv(p)[1]:
            if r["New_User"] == "true":
                assert first_seen[bare(r["UserId"])] == r["Date"]
                new_days.add((bare(r["UserId"]), r["Date"]))
    assert len(new_days) >= 5


def test_activity_looks_real(sample: sd.SampleManifest) -> None:
    dau: Dict[str, set] = defaultdict(set)
    per_user: Dict[str, int] = defaultdict(int)
    for r in _newest_rows(sample):
        dau[r["Date"]].add(bare(r["UserId"]))
        per_user[bare(r["UserId"])] += int(r["Total_Messages"])
    weekday = [len(v) for d, v in dau.items() if date.fromisoformat(d).weekday() < 5]
    weekend = [len(v) for d, v in dau.items() if date.fromisoformat(d).weekday() >= 5]
    assert sum(weekday) / len(weekday) > 3 * sum(weekend) / len(weekend)
    totals = sorted(per_user.values(), reverse=True)
    assert sum(totals[: len(totals) // 10]) > 0.3 * sum(totals)  # a few heavy users
    active = set(per_user)
    assert len(active) < len(everyone(sample))  # some seats never used


# -- legacy quirks -------------------------------------------------------------------------------------------

def test_legacy_columns_and_orders(sample: sd.SampleManifest) -> None:
    grouped = set(sample.quirks["legacy_reordered_columns"])
    assert grouped
    for p in legacy_reports(sample):
        header = read_csv(p)[0]
        assert header[:2] == ["UserId", "Date"] and len(header) == 46
        metrics = header[2:]
        assert sorted(metrics) == sd.LEGACY_METRICS_SORTED
        assert (metrics == sd.LEGACY_METRICS_SORTED) == (p not in grouped), p
    assert sd.LEGACY_METRICS_SORTED.index("InlineChat_TotalEventCount") < sd.LEGACY_METRICS_SORTED.index(
        "Inline_AICodeLines")


def test_legacy_dates_are_mm_dd_yyyy(sample: sd.SampleManifest) -> None:
    assert set(sample.quirks["legacy_mmddyyyy"]) == set(legacy_reports(sample))
    for p in legacy_reports(sample):
        for r in read_csv(p)[1]:
            assert re.fullmatch(r"\d\d-\d\d-\d{4}", r["Date"])
            assert datetime.strptime(r["Date"], "%m-%d-%Y").date() == folder_day(p)


def test_legacy_empty_fields_only_in_q_developer_files(sample: sd.SampleManifest) -> None:
    qdev = set(sample.quirks["legacy_empty_fields"])
    assert qdev and all("QDeveloperLogs" in p.parts for p in qdev)
    for p in legacy_reports(sample):
        values = [v for r in read_csv(p)[1] for k, v in r.items() if k not in ("UserId", "Date")]
        assert ("" in values) == (p in qdev), p
        assert "0" not in values or p not in qdev
        assert ",," in p.read_text(encoding="utf-8") or p not in qdev


def test_legacy_metrics_are_plausible(sample: sd.SampleManifest) -> None:
    def n(r: Dict[str, str], k: str) -> int:
        return int(r[k] or 0)

    rows = [r for p in legacy_reports(sample) for r in read_csv(p)[1]]
    assert len(rows) > 200
    for r in rows:
        assert n(r, "Inline_AcceptanceCount") <= n(r, "Inline_SuggestionsCount")
        assert n(r, "Chat_MessagesInteracted") <= n(r, "Chat_MessagesSent")
        assert n(r, "Dev_AcceptedLines") <= n(r, "Dev_GeneratedLines")
        assert n(r, "TestGeneration_AcceptedTests") <= n(r, "TestGeneration_GeneratedTests")
        assert n(r, "InlineChat_TotalEventCount") == sum(n(r, f"InlineChat_{k}EventCount")
                                                        for k in ("Acceptance", "Rejection", "Dismissal"))
    assert any(n(r, "Chat_AICodeLines") for r in rows) and any(n(r, "Transformation_EventCount") for r in rows)


def test_legacy_sources_overlap_and_kiro_copy_is_newer(sample: sd.SampleManifest) -> None:
    by_day: Dict[date, Dict[str, Path]] = defaultdict(dict)
    for p in sample.quirks["legacy_source_overlap"]:
        by_day[folder_day(p)]["QDeveloperLogs" if "QDeveloperLogs" in p.parts else "KiroLogs"] = p
    assert len(by_day) >= 2
    differs = False
    for pair in by_day.values():
        q, k = pair["QDeveloperLogs"], pair["KiroLogs"]
        assert LEGACY_NAME.match(q.name).group(2) < LEGACY_NAME.match(k.name).group(2)
        q_rows = {r["UserId"]: r for r in read_csv(q)[1]}
        k_rows = {r["UserId"]: r for r in read_csv(k)[1]}
        assert set(q_rows) == set(k_rows)
        differs |= any(int(q_rows[u]["Chat_MessagesSent"] or 0) != int(k_rows[u]["Chat_MessagesSent"])
                       for u in q_rows)
    assert differs


# -- things that are not reports -----------------------------------------------------------------------------

def test_markers_are_not_reports(sample: sd.SampleManifest) -> None:
    kiro_logs = sample.root / "AWSLogs" / sample.account_id / "KiroLogs"
    assert len(sample.quirks["markers"]) == 2
    for p in sample.quirks["markers"]:
        assert p.parent == kiro_logs and p.suffix == "" and UUID_RE.match(p.name)
        assert p in sample.non_report_files and p not in sample.report_files
        assert p.read_text(encoding="utf-8").strip()


def test_prompt_logs_are_gzipped_json(sample: sd.SampleManifest) -> None:
    kinds = set()
    for p in sample.quirks["prompt_logs"]:
        assert p.name.endswith(".json.gz") and p in sample.non_report_files
        kinds.add(p.relative_to(sample.root / "AWSLogs" / sample.account_id / "KiroLogs").parts[0])
        raw = p.read_bytes()
        assert raw[4:8] == b"\0\0\0\0"  # no timestamp in the gzip header, or the bytes change per run
        doc = json.loads(gzip.decompress(raw))
        assert doc["records"]
    assert kinds == {"GenerateAssistantResponse", "GenerateCompletions"}


# -- options, safety and determinism -------------------------------------------------------------------------

def test_split_parts_above_1000_users(tmp_path: Path) -> None:
    m = sd.generate(tmp_path / "big", users=2500, days=2)
    parts = m.quirks["split_parts"]
    assert parts
    groups: Dict[str, List[Path]] = defaultdict(list)
    for p in parts:
        assert "_part_" in p.name
        groups[str(p.parent / re.sub(r"_part_\d+\.csv$", "", p.name))].append(p)
    for files in groups.values():
        assert len(files) >= 2
        headers, counts, ids = set(), [], []
        for p in files:
            header, rows = read_csv(p)
            headers.add(tuple(header))
            counts.append(len(rows))
            ids += [r["UserId"] for r in rows]
        assert len(headers) == 1 and max(counts) <= 1000 and max(counts) - min(counts) <= 1
        assert sum(counts) > 1000 and len(ids) == len(set(ids))


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    a = sd.generate(tmp_path / "a", users=40, days=45, seed=3)
    b = sd.generate(tmp_path / "b", users=40, days=45, seed=3)
    rel_a = sorted(p.relative_to(a.root) for p in a.root.rglob("*") if p.is_file())
    rel_b = sorted(p.relative_to(b.root) for p in b.root.rglob("*") if p.is_file())
    assert rel_a == rel_b and len(rel_a) > 50
    assert all((a.root / r).read_bytes() == (b.root / r).read_bytes() for r in rel_a)
    c = sd.generate(tmp_path / "c", users=40, days=45, seed=4)
    assert [u.userid for u in c.users] != [u.userid for u in a.users]


def test_regenerate_clears_a_previous_sample(tmp_path: Path) -> None:
    out = tmp_path / "s"
    sd.generate(out, users=5, days=10)
    stray = out / "AWSLogs" / "stray.txt"
    stray.write_text("x")
    m = sd.generate(out, users=5, days=10)
    assert not stray.exists() and m.report_files


def test_refuses_a_folder_that_is_not_a_sample(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    keep = out / "thesis.txt"
    keep.write_text("do not delete")
    with pytest.raises(InputError, match="refusing"):
        sd.generate(out, users=5, days=10)
    assert keep.read_text() == "do not delete" and sorted(out.iterdir()) == [keep]
    with pytest.raises(InputError):
        sd.generate(keep, users=5, days=10)
    with pytest.raises(InputError):
        sd.generate(tmp_path / "x", users=0)


def test_prefix_option(tmp_path: Path) -> None:
    m = sd.generate(tmp_path / "p", users=5, days=20, prefix="kiro/")
    assert m.prefix == "kiro/"
    assert all(p.relative_to(m.root).parts[:3] == ("kiro", "AWSLogs", "123456789012") for p in m.report_files)
    nested = sd.generate(tmp_path / "q", users=5, days=20, prefix="/a/b")
    assert nested.prefix == "a/b/" and (nested.root / "a" / "b" / "AWSLogs").is_dir()
    with pytest.raises(InputError):
        sd.generate(tmp_path / "r", users=5, days=20, prefix="../escape/")


def test_user_map_round_trip(sample: sd.SampleManifest, tmp_path: Path) -> None:
    path = sd.write_user_map(sample, tmp_path / "map" / "user_mapping.csv")
    raw = path.read_bytes()
    # The sync's format: CRLF line ends, rows sorted by user id.
    assert raw.startswith(b"userid,username,user_name,email,groups\r\n") and raw.count(b"\n") == raw.count(b"\r\n")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(sample.users)
    assert [row["userid"] for row in rows] == sorted(u.userid for u in sample.users)
    for row, u in zip(rows, sorted(sample.users, key=lambda u: u.userid)):
        assert row == {"userid": u.userid, "username": u.display_name, "user_name": u.username,
                       "email": u.email, "groups": ";".join(u.groups)}
        assert UUID_RE.match(u.userid)
    names = [u.display_name for u in sample.users]
    for needle in (",", '"', "\t", "🚀", "<", "&"):
        assert any(needle in n for n in names), needle
    assert any(re.search(r"[\u4e00-\u9fff]", n) for n in names)
    assert any("'" in u.username for u in sample.users)
    assert any(not u.groups for u in sample.users) and any(len(u.groups) > 1 for u in sample.users)
    assert len({u.userid for u in sample.users}) == len({u.username for u in sample.users}) == len(sample.users)


def test_external_idp_users_are_in_the_reports_but_not_in_the_user_map(sample: sd.SampleManifest,
                                                                       tmp_path: Path) -> None:
    external = set(sample.external_user_ids)
    assert 1 <= len(external) <= 2 and all(UUID_RE.match(u) for u in external)
    assert not external & {u.userid for u in sample.users}
    files = sample.quirks["external_idp_user"]
    assert {"user_report", "by_user_analytic"} <= {part for p in files for part in p.parts}
    seen = set()
    for p in sample.report_files:
        ids = {bare(r["UserId"].strip('"')) for r in read_csv(p)[1]}
        if ids & external:
            seen |= ids & external
            assert p in files or p in sample.quirks["resent_export"], p  # a stale copy is not recorded
        else:
            assert p not in files, p
    assert seen == external
    with open(sd.write_user_map(sample, tmp_path / "users.csv"), encoding="utf-8", newline="") as fh:
        mapped = {row["userid"] for row in csv.DictReader(fh)}
    assert mapped == {u.userid for u in sample.users} and not mapped & external


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    assert sd.main(["--out", str(out), "--users", "6", "--days", "15", "--prefix", "kiro/",
                    "--user-map", str(tmp_path / "map.csv")]) == 0
    assert "report files" in capsys.readouterr().out
    assert (out / "kiro" / "AWSLogs").is_dir() and (tmp_path / "map.csv").is_file()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "f").write_text("x")
    assert sd.main(["--out", str(tmp_path / "busy")]) == 2
    assert "refusing" in capsys.readouterr().err
