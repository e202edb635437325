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
import csv
import gzip
import json
import math
import random
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Sequence

from kiro_analytics.errors import InputError, KiroError

SAMPLE_MARKER = ".kiro-sample"
CLIENTS = ("KIRO_IDE", "KIRO_CLI", "PLUGIN")
IDENTITY_STORE_ID = "d-1234567890"
MAX_ROWS_PER_FILE = 1000

TIER_CREDITS = {"PRO": 1000, "PRO_PLUS": 2000, "PRO_MAX": 5000, "POWER": 10000}
# The spellings the docs use; a few exports use them instead of the codes.
DOC_TIER_SPELLING = {"PRO": "Pro", "PRO_PLUS": "ProPlus", "PRO_MAX": "ProMax", "POWER": "Power"}

# (model column stem, credits per message); the last one only exists from eras["new_model_from"].
MODELS = (
    ("auto", 0.21),
    ("claude_sonnet_4.5", 0.34),
    ("claude_haiku_4.5", 0.09),
    ("claude_opus_4.5", 0.58),
    ("claude_opus_4.6", 0.63),
)

LEGACY_METRICS_SORTED = sorted([
    "Chat_AICodeLines", "Chat_MessagesInteracted", "Chat_MessagesSent",
    "CodeFix_AcceptanceEventCount", "CodeFix_AcceptedLines", "CodeFix_GeneratedLines", "CodeFix_GenerationEventCount",
    "CodeReview_FailedEventCount", "CodeReview_FindingsCount", "CodeReview_SucceededEventCount",
    "Dev_AcceptanceEventCount", "Dev_AcceptedLines", "Dev_GeneratedLines", "Dev_GenerationEventCount",
    "DocGeneration_AcceptedFileUpdates", "DocGeneration_AcceptedFilesCreations",
    "DocGeneration_AcceptedLineAdditions", "DocGeneration_AcceptedLineUpdates", "DocGeneration_EventCount",
    "DocGeneration_RejectedFileCreations", "DocGeneration_RejectedFileUpdates",
    "DocGeneration_RejectedLineAdditions", "DocGeneration_RejectedLineUpdates",
    "InlineChat_AcceptanceEventCount", "InlineChat_AcceptedLineAdditions", "InlineChat_AcceptedLineDeletions",
    "InlineChat_DismissalEventCount", "InlineChat_DismissedLineAdditions", "InlineChat_DismissedLineDeletions",
    "InlineChat_RejectedLineAdditions", "InlineChat_RejectedLineDeletions", "InlineChat_RejectionEventCount",
    "InlineChat_TotalEventCount",
    "Inline_AICodeLines", "Inline_AcceptanceCount", "Inline_SuggestionsCount",
    "TestGeneration_AcceptedLines", "TestGeneration_AcceptedTests", "TestGeneration_EventCount",
    "TestGeneration_GeneratedLines", "TestGeneration_GeneratedTests",
    "Transformation_EventCount", "Transformation_LinesGenerated", "Transformation_LinesIngested",
])
# The family-grouped order one public project's files show (Inline_* before InlineChat_*).
LEGACY_METRICS_GROUPED = [
    "Inline_SuggestionsCount", "Inline_AcceptanceCount", "Inline_AICodeLines",
    "Chat_MessagesSent", "Chat_MessagesInteracted", "Chat_AICodeLines",
    "InlineChat_TotalEventCount", "InlineChat_AcceptanceEventCount", "InlineChat_RejectionEventCount",
    "InlineChat_DismissalEventCount", "InlineChat_AcceptedLineAdditions", "InlineChat_AcceptedLineDeletions",
    "InlineChat_RejectedLineAdditions", "InlineChat_RejectedLineDeletions", "InlineChat_DismissedLineAdditions",
    "InlineChat_DismissedLineDeletions",
    "Dev_GenerationEventCount", "Dev_AcceptanceEventCount", "Dev_GeneratedLines", "Dev_AcceptedLines",
    "CodeFix_GenerationEventCount", "CodeFix_AcceptanceEventCount", "CodeFix_GeneratedLines", "CodeFix_AcceptedLines",
    "CodeReview_SucceededEventCount", "CodeReview_FailedEventCount", "CodeReview_FindingsCount",
    "TestGeneration_EventCount", "TestGeneration_GeneratedTests", "TestGeneration_AcceptedTests",
    "TestGeneration_GeneratedLines", "TestGeneration_AcceptedLines",
    "DocGeneration_EventCount", "DocGeneration_AcceptedFilesCreations", "DocGeneration_RejectedFileCreations",
    "DocGeneration_AcceptedFileUpdates", "DocGeneration_RejectedFileUpdates", "DocGeneration_AcceptedLineAdditions",
    "DocGeneration_RejectedLineAdditions", "DocGeneration_AcceptedLineUpdates", "DocGeneration_RejectedLineUpdates",
    "Transformation_EventCount", "Transformation_LinesIngested", "Transformation_LinesGenerated",
]
assert len(LEGACY_METRICS_SORTED) == 44 and sorted(LEGACY_METRICS_GROUPED) == LEGACY_METRICS_SORTED

QUIRKS = (
    "quoted_userid", "prefixed_userid", "no_new_user_column", "no_email_column", "model_columns_reordered",
    "new_model_mid_range", "resent_export", "split_parts", "legacy_empty_fields", "legacy_mmddyyyy",
    "legacy_reordered_columns", "legacy_source_overlap", "tier_spelling", "overage_enabled_upper", "markers",
    "prompt_logs", "single_row_day", "tier_upgrade", "tier_downgrade", "overage", "new_user",
)

# era -> (real-world start, where to put it as a fraction of the range when the range starts later)
_ERA_ANCHORS = (
    ("kiro_legacy_from", date(2026, 1, 1), 0.05),
    ("qdev_until", date(2026, 1, 15), 0.075),
    ("user_report_from", date(2026, 2, 10), 0.10),
    ("new_model_from", date(2026, 9, 1), 0.15),
    ("email_from", date(2026, 4, 1), 0.25),
)

_FIRST = ("wei", "li", "ana", "sean", "priya", "john", "maria", "kenji", "fatima", "lucas", "olga", "david",
          "mei", "omar", "sara", "tom", "yuki", "carlos", "nina", "raj", "emma", "ivan", "lena", "hiro")
_LAST = ("zhang", "wang", "souza", "o'brien", "patel", "smith", "garcia", "tanaka", "khan", "silva", "petrova",
         "cohen", "chen", "haddad", "berg", "nguyen", "sato", "lopez", "ivanova", "kumar", "muller", "rossi")
_CJK_NAMES = ("张伟", "李娜", "王芳", "佐藤 健")
_GROUPS = ("platform", "data", "mobile", "web", "security", "ml")


@dataclass(frozen=True)
class SampleUser:
    """One Identity Center user; display_name is deliberately hostile for some users."""

    userid: str
    username: str
    display_name: str
    email: str
    groups: tuple


@dataclass
class SampleManifest:
    """What generate() wrote: the files, the users, and which files show which quirk (keys: QUIRKS)."""

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


@dataclass
class _Profile:
    user: SampleUser
    weight: float
    p_active: float
    join: date
    lapse: date | None            # first day without activity
    never_active: bool
    tiers: list[tuple[date, str]]    # (effective from, tier), ascending
    overage_cap: float | None     # None: overage off
    client_use: tuple[float, float, float]
    model_pref: tuple[float, ...]
    prefixed: bool

    def tier_on(self, d: date) -> str:
        tier = self.tiers[0][1]
        for since, t in self.tiers:
            if since <= d:
                tier = t
        return tier


def _eras(start: date, end: date) -> dict[str, date]:
    n = (end - start).days + 1
    return {name: max(real, start + timedelta(days=int(n * frac))) for name, real, frac in _ERA_ANCHORS}


def _make_users(rng: random.Random, count: int, start: date, end: date, eras: dict[str, date]) -> list[_Profile]:
    span = (end - start).days + 1
    ur_from = eras["user_report_from"]
    ur_span = max(1, (end - ur_from).days + 1)
    profiles: list[_Profile] = []
    taken: set = set()
    for i in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        if i == 2:
            first, last = "sean", "o'brien"
        base = "o'brien.sean" if i == 2 else f"{first}.{last}"
        username, k = base, 1
        while username in taken:
            k += 1
            username = f"{base}{k}"
        taken.add(username)
        display = _display_name(rng, i, first.title(), last.title())
        groups = tuple(sorted(rng.sample(_GROUPS, rng.choice((0, 1, 1, 1, 2, 2, 3)))))
        user = SampleUser(str(uuid.UUID(int=rng.getrandbits(128), version=4)), username, display,
                          f"{username}@example.com", groups)
        scripted = i < 4
        weight = (9.0, 14.0, 4.0, 5.0)[i] if scripted else min(rng.paretovariate(1.4), 40.0)
        join = start - timedelta(days=30) if scripted or rng.random() < 0.55 else start + timedelta(
            days=rng.randrange(span))
        if not scripted and join < start:
            join = start - timedelta(days=rng.randint(1, 200))
        lapse = None
        if not scripted and rng.random() < 0.1 and (end - max(join, start)).days > 14:
            lapse = max(join, start) + timedelta(days=rng.randint(7, (end - max(join, start)).days - 1))
        tier = _initial_tier(rng, weight)
        tiers = [(date.min, tier)]
        mid = ur_from + timedelta(days=ur_span // 2)
        if i == 0:  # the MAX(tier) trap: the latest tier POWER sorts below the earlier PRO_PLUS
            tiers = [(date.min, "PRO_PLUS"), (mid, "POWER")]
        elif i == 1:
            tiers = [(date.min, "PRO")]
        elif i == 2:
            tiers = [(date.min, "PRO"), (ur_from + timedelta(days=ur_span // 3), "PRO_PLUS")]
        elif i == 3:  # a downgrade takes effect at the start of the next month
            tiers = [(date.min, "PRO_PLUS"), (_next_month(mid), "PRO")]
        elif tier != "POWER" and rng.random() < 0.06:
            nxt = ("PRO", "PRO_PLUS", "PRO_MAX", "POWER")
            tiers.append((start + timedelta(days=rng.randrange(span)), nxt[nxt.index(tier) + 1]))
        if i == 1:
            cap: float | None = 2000.0
        elif not scripted and ((weight > 5 and rng.random() < 0.5) or rng.random() < 0.1):
            cap = rng.choice((500.0, 1000.0, 2000.0))
        else:
            cap = None
        if i < 2:
            client_use = (0.95, 0.7, 0.0)
        else:
            client_use = (0.92 if rng.random() < 0.85 else 0.1, 0.6 if rng.random() < 0.35 else 0.03,
                          0.65 if rng.random() < 0.25 else 0.0)
        profiles.append(_Profile(
            user=user, weight=weight, p_active=min(0.95, 0.45 + 0.06 * weight), join=join, lapse=lapse,
            never_active=not scripted and i > 6 and rng.random() < 0.04, tiers=tiers, overage_cap=cap,
            client_use=client_use, model_pref=tuple(0.05 + rng.random() ** 2 for _ in MODELS),
            prefixed=i % 10 == 4))
    return profiles


def _display_name(rng: random.Random, i: int, first: str, last: str) -> str:
    # The first users carry the names that break naive CSV, HTML and terminal handling.
    if i == 1:
        return f"{last}, {first}"
    if i == 2:
        return 'Sean "Bear" O\'Brien'
    if i == 3:
        return rng.choice(_CJK_NAMES)
    if i == 4:
        return f"{first} {last} 🚀"
    if i == 5:
        return f"{first}\t{last}"
    if i == 6:
        return f"{first} <{last}> & Co"
    return f"{first} {last}"


def _initial_tier(rng: random.Random, weight: float) -> str:
    r = rng.random()
    if weight > 8:
        return "POWER" if r < 0.4 else "PRO_PLUS" if r < 0.8 else "PRO_MAX"
    if weight > 3:
        return "PRO_PLUS" if r < 0.45 else "PRO_MAX" if r < 0.55 else "PRO"
    return "PRO" if r < 0.88 else "PRO_PLUS" if r < 0.97 else "PRO_MAX"


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


# One user's activity on one client on one day; `models` lines up with the models available that day.
@dataclass
class _Row:
    pidx: int
    conv: int
    credits: float
    overage: float
    total: int
    new_user: bool
    models: list[int]


class _Simulator:
    """Walks the days in order so monthly allowances, overage caps and first days come out right."""

    def __init__(self, rng: random.Random, profiles: list[_Profile], start: date, eras: dict[str, date],
                 single_row: tuple[date, str]) -> None:
        self.rng, self.profiles, self.start, self.eras, self.single_row = rng, profiles, start, eras, single_row
        self.month: dict[int, tuple[int, int]] = {}
        self.plan_used = [0.0] * len(profiles)
        self.over_used = [0.0] * len(profiles)
        self.blocked = [False] * len(profiles)

    def models_on(self, d: date) -> int:
        return len(MODELS) if d >= self.eras["new_model_from"] else len(MODELS) - 1

    def day(self, d: date) -> tuple[dict[str, list[_Row]], list[tuple[int, dict[str, int]]]]:
        rng = self.rng
        weekend = d.weekday() >= 5
        n_models = self.models_on(d)
        rows: dict[str, list[_Row]] = {c: [] for c in CLIENTS}
        legacy: list[tuple[int, dict[str, int]]] = []
        ym = (d.year, d.month)
        for i, p in enumerate(self.profiles):
            if p.never_active or d < p.join or (p.lapse is not None and d >= p.lapse):
                continue
            if self.month.get(i) != ym:
                self.month[i], self.plan_used[i], self.over_used[i], self.blocked[i] = ym, 0.0, 0.0, False
            first_day = d == p.join and d >= self.start
            if self.blocked[i] or (not first_day and rng.random() >= p.p_active * (0.15 if weekend else 1.0)):
                continue
            total = max(1, int(p.weight * 15 * rng.lognormvariate(0.0, 0.5) * (0.5 if weekend else 1.0)))
            used = [c for c, u in zip(CLIENTS, p.client_use) if rng.random() < u]
            if not used:
                used = [CLIENTS[max(range(3), key=lambda k: p.client_use[k])]]
            shares = [rng.random() + 0.2 for _ in used]
            legacy_msgs = 0
            for client, share in zip(used, shares):
                msgs = max(1, round(total * share / math.fsum(shares)))
                rows[client].append(self._row(i, p, d, msgs, n_models, first_day))
                if client != "KIRO_IDE":
                    legacy_msgs += msgs
            if legacy_msgs:
                legacy.append((i, _legacy_metrics(rng, legacy_msgs)))
        self._force_single_row(d, rows)
        return rows, legacy

    def _row(self, i: int, p: _Profile, d: date, msgs: int, n_models: int, first_day: bool) -> _Row:
        rng = self.rng
        pref = p.model_pref[:n_models]
        weight_sum = math.fsum(pref)  # fsum: sum() of floats changed in 3.12; bytes must not
        counts = [int(msgs * w / weight_sum * rng.uniform(0.6, 1.4)) for w in pref[:-1]]
        counts.append(max(0, msgs - sum(counts)))
        msgs = sum(counts)
        need = math.fsum(c * MODELS[k][1] for k, c in enumerate(counts)) * rng.uniform(0.8, 1.25)
        allowance = TIER_CREDITS[p.tier_on(d)]
        plan = min(need, max(0.0, allowance - self.plan_used[i]))
        rest, over = need - plan, 0.0
        if rest > 1e-9:
            room = (p.overage_cap or 0.0) - self.over_used[i]
            over = min(rest, max(0.0, room))
            if over < rest:  # out of credits with no overage room left: Kiro stops serving this user
                self.blocked[i] = True
        self.plan_used[i] += plan
        self.over_used[i] += over
        conv = max(1, min(msgs, round(msgs / rng.uniform(4.0, 12.0)))) if msgs else 0
        return _Row(i, conv, plan, over, msgs, first_day, counts)

    def _force_single_row(self, d: date, rows: dict[str, list[_Row]]) -> None:
        # Glue ignores the header of a one-row file; make sure one such file exists.
        if d != self.single_row[0]:
            return
        client = self.single_row[1]
        if rows[client]:
            del rows[client][1:]
            return
        for other in CLIENTS:
            if rows[other]:
                rows[client].append(rows[other].pop(0))
                return


def _legacy_metrics(rng: random.Random, msgs: int) -> dict[str, int]:
    m: dict[str, int] = {}
    sent = max(1, msgs // 3)
    m["Chat_MessagesSent"] = sent
    m["Chat_MessagesInteracted"] = rng.randint(0, sent)
    m["Chat_AICodeLines"] = int(sent * rng.uniform(0.0, 12.0))
    sugg = int(msgs * rng.uniform(0.3, 3.0))
    acc = int(sugg * rng.uniform(0.1, 0.4))
    m["Inline_SuggestionsCount"], m["Inline_AcceptanceCount"] = sugg, acc
    m["Inline_AICodeLines"] = int(acc * rng.uniform(1.0, 4.0))
    if rng.random() < 0.3:
        total = rng.randint(1, 8)
        a = rng.randint(0, total)
        r = rng.randint(0, total - a)
        x = total - a - r
        m.update(InlineChat_TotalEventCount=total, InlineChat_AcceptanceEventCount=a,
                 InlineChat_RejectionEventCount=r, InlineChat_DismissalEventCount=x,
                 InlineChat_AcceptedLineAdditions=a * rng.randint(1, 20),
                 InlineChat_AcceptedLineDeletions=a * rng.randint(0, 6),
                 InlineChat_RejectedLineAdditions=r * rng.randint(1, 20),
                 InlineChat_RejectedLineDeletions=r * rng.randint(0, 6),
                 InlineChat_DismissedLineAdditions=x * rng.randint(1, 10),
                 InlineChat_DismissedLineDeletions=x * rng.randint(0, 3))
    for fam, p in (("Dev", 0.25), ("CodeFix", 0.08)):
        if rng.random() < p:
            gen = rng.randint(1, 4)
            lines = gen * rng.randint(5, 120)
            m[f"{fam}_GenerationEventCount"], m[f"{fam}_AcceptanceEventCount"] = gen, rng.randint(0, gen)
            m[f"{fam}_GeneratedLines"] = lines
            m[f"{fam}_AcceptedLines"] = int(lines * rng.random()) if m[f"{fam}_AcceptanceEventCount"] else 0
    if rng.random() < 0.06:
        m.update(CodeReview_SucceededEventCount=rng.randint(1, 3), CodeReview_FailedEventCount=rng.randint(0, 1),
                 CodeReview_FindingsCount=rng.randint(0, 25))
    if rng.random() < 0.05:
        ev = rng.randint(1, 3)
        m.update(DocGeneration_EventCount=ev, DocGeneration_AcceptedFilesCreations=rng.randint(0, ev),
                 DocGeneration_RejectedFileCreations=rng.randint(0, 1),
                 DocGeneration_AcceptedFileUpdates=rng.randint(0, ev),
                 DocGeneration_RejectedFileUpdates=rng.randint(0, 1),
                 DocGeneration_AcceptedLineAdditions=rng.randint(0, 200),
                 DocGeneration_RejectedLineAdditions=rng.randint(0, 40),
                 DocGeneration_AcceptedLineUpdates=rng.randint(0, 60),
                 DocGeneration_RejectedLineUpdates=rng.randint(0, 20))
    if rng.random() < 0.05:
        tests, lines = rng.randint(1, 12), rng.randint(20, 400)
        m.update(TestGeneration_EventCount=rng.randint(1, 3), TestGeneration_GeneratedTests=tests,
                 TestGeneration_AcceptedTests=rng.randint(0, tests), TestGeneration_GeneratedLines=lines,
                 TestGeneration_AcceptedLines=int(lines * rng.random()))
    if rng.random() < 0.01:
        ingested = rng.randint(500, 20000)
        m.update(Transformation_EventCount=1, Transformation_LinesIngested=ingested,
                 Transformation_LinesGenerated=int(ingested * rng.uniform(0.1, 0.6)))
    return {k: v for k, v in m.items() if v}


class _Chance:
    """A per-file variant: rolled with probability p, and forced from `due` on until a file has shown it."""

    def __init__(self, rng: random.Random, p: float, due: date) -> None:
        self.rng, self.p, self.due, self.shown = rng, p, due, False

    def roll(self, d: date) -> bool:
        hit = self.rng.random() < self.p
        return hit or (not self.shown and d >= self.due)


_FIXED_HEADER = ("Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used,"
                 "Overage_Enabled,ProfileId,Subscription_Tier,Total_Messages")


class _Writer:
    """Turns simulated rows into files, picks each file's variant and records which quirk each file shows."""

    def __init__(self, base: Path, account: str, region: str, seed: int, profiles: list[_Profile],
                 eras: dict[str, date], end: date) -> None:
        self.logs = base / "AWSLogs" / account
        self.account, self.region, self.seed, self.profiles, self.eras = account, region, seed, profiles, eras
        self.profile_arn = f"arn:aws:codewhisperer:{region}:{account}:profile/KIROSAMPLE7Q2X"
        self.quirks: dict[str, list[Path]] = {q: [] for q in QUIRKS}
        self.report_files: list[Path] = []
        self.non_report_files: list[Path] = []
        self.lay = random.Random(f"{seed}:layout")
        ur_from = eras["user_report_from"]
        ur_span = max(1, (end - ur_from).days + 1)
        kl_from = max(eras["kiro_legacy_from"], eras["qdev_until"] + timedelta(days=1))
        kl_span = max(1, (end - kl_from).days + 1)

        def due(lo: date, span: int, frac: float) -> date:
            return lo + timedelta(days=int(span * frac))

        self.no_new_user = _Chance(self.lay, 0.06, due(ur_from, ur_span, 0.15))
        self.doc_tier = _Chance(self.lay, 0.05, due(ur_from, ur_span, 0.2))
        self.upper_true = _Chance(self.lay, 0.1, due(ur_from, ur_span, 0.3))
        self.resend = _Chance(self.lay, 0.02, due(ur_from, ur_span, 0.4))
        self.grouped = _Chance(self.lay, 0.1, due(eras["kiro_legacy_from"], kl_span, 0.3))
        self.legacy_resend = _Chance(self.lay, 0.01, due(kl_from, kl_span, 0.5))
        self.kl_from = kl_from
        self.orders: dict[tuple[int, int], list[str]] = {}
        self.seen_model_orders: set = set()
        self.last_tier: dict[int, str] = {}

    # -- user_report ---------------------------------------------------------------------------------------

    def user_report(self, d: date, client: str, rows: list[_Row], n_models: int) -> None:
        if not rows:
            return
        has_new_user = not self.no_new_user.roll(d)
        doc, lower = self.doc_tier.roll(d), self.lay.random() < 0.33
        upper, resend = self.upper_true.roll(d), self.resend.roll(d)
        has_email = d >= self.eras["email_from"]
        cols = [c for c in self._order(d) if (c == "New_User" and has_new_user) or (c == "User_Email" and has_email)
                or (c.endswith("_messages") and _model_index(c) < n_models)]
        header = ",".join((_FIXED_HEADER, *cols)) if cols else _FIXED_HEADER
        folder = self.logs / "KiroLogs" / "user_report" / self.region / d.strftime("%Y/%m/%d") / "00"
        ci = CLIENTS.index(client)
        stem = f"{client}_{self.account}_user_report_"
        fmt = _UrFormat(cols, d, client, doc, lower, upper, self.profile_arn, d.month % 2 == 1)
        if resend:
            old = _stale_rows(rows)
            old_paths, _ = self._write(folder, stem + _stamp(d, 1, 2, ci + 1), header, [self._ur(fmt, r) for r in old])
            stamp = _stamp(d, 2, 2, 10 + ci)
        else:
            stamp = _stamp(d, 1, 2, ci + 1)
        paths, chunk = self._write(folder, stem + stamp, header, [self._ur(fmt, r) for r in rows])
        if resend:
            self.resend.shown = True
            self.quirks["resent_export"] += old_paths + paths
            self._record_format(len(old), fmt, has_new_user, has_email, doc, old_paths)
        self._record_format(len(rows), fmt, has_new_user, has_email, doc, paths)
        self._record_rows(d, rows, fmt, has_new_user, upper, paths, chunk)

    def _order(self, d: date) -> list[str]:
        ym = (d.year, d.month)
        if ym not in self.orders:
            cols = ["New_User", "User_Email"] + [f"{m}_messages" for m, _ in MODELS]
            random.Random(f"{self.seed}:order:{ym[0]}-{ym[1]}").shuffle(cols)
            prev = self.orders.get((d.year - (d.month == 1), (d.month - 2) % 12 + 1))
            # Readers that bind by position must see the long-standing models move, not just the new one.
            base = {f"{m}_messages" for m, _ in MODELS[:-1]}
            if prev is not None and [c for c in prev if c in base] == [c for c in cols if c in base]:
                slots = [k for k, c in enumerate(cols) if c in base]
                for k, c in zip(slots, reversed([cols[k] for k in slots])):
                    cols[k] = c
            self.orders[ym] = cols
        return self.orders[ym]

    def _ur(self, f: _UrFormat, r: _Row) -> str:
        p = self.profiles[r.pidx]
        uid = p.user.userid
        if f.prefix_ok and p.prefixed:
            uid = f"{IDENTITY_STORE_ID}.{uid}"
        tier = p.tier_on(f.day)
        if f.doc:
            tier = tier.lower() if f.lower else DOC_TIER_SPELLING[tier]
        cap = p.overage_cap if p.overage_cap is not None else float(TIER_CREDITS[p.tier_on(f.day)])
        enabled = "false" if p.overage_cap is None else "TRUE" if f.upper else "true"
        line = (f'{f.iso},"{uid}",{f.client},{r.conv},{r.credits!r},{cap!r},{r.overage!r},{enabled},'
                f'"{self.profile_arn}",{tier},{r.total}')
        extra = []
        for kind, k in f.spec:
            extra.append(("true" if r.new_user else "false") if kind == 0 else p.user.email if kind == 1
                         else str(r.models[k]))
        return ",".join([line, *extra]) if extra else line

    def _record_format(self, n_rows: int, fmt: _UrFormat, has_new_user: bool, has_email: bool, doc: bool,
                       paths: list[Path]) -> None:
        q = self.quirks
        q["quoted_userid"] += paths
        if not has_new_user:
            self.no_new_user.shown = True
            q["no_new_user_column"] += paths
        if not has_email:
            q["no_email_column"] += paths
        models = tuple(c for c, _ in fmt.cols_kinds if c.endswith("_messages"))
        if models not in self.seen_model_orders:
            self.seen_model_orders.add(models)
            q["model_columns_reordered"].append(paths[0])
        if f"{MODELS[-1][0]}_messages" in models:
            q["new_model_mid_range"] += paths
        if len(paths) > 1:
            q["split_parts"] += paths
        if doc:
            self.doc_tier.shown = True
            q["tier_spelling"] += paths
        if n_rows == 1:
            q["single_row_day"] += paths

    def _record_rows(self, d: date, rows: list[_Row], fmt: _UrFormat, has_new_user: bool, upper: bool,
                     paths: list[Path], chunk: int) -> None:
        """Quirks in the data itself, recorded for the newest export only (a stale copy must not count)."""
        q = self.quirks
        hits: dict[str, set] = {k: set() for k in ("prefixed_userid", "overage_enabled_upper", "overage", "new_user",
                                                   "tier_upgrade", "tier_downgrade")}
        for n, r in enumerate(rows):
            p = self.profiles[r.pidx]
            part = n // chunk
            if fmt.prefix_ok and p.prefixed:
                hits["prefixed_userid"].add(part)
            if upper and p.overage_cap is not None:
                hits["overage_enabled_upper"].add(part)
            if r.overage > 0:
                hits["overage"].add(part)
            if has_new_user and r.new_user:
                hits["new_user"].add(part)
            tier, prev = p.tier_on(d), self.last_tier.get(r.pidx)
            self.last_tier[r.pidx] = tier
            if prev is not None and prev != tier:
                hits["tier_upgrade" if TIER_CREDITS[tier] > TIER_CREDITS[prev] else "tier_downgrade"].add(part)
        if hits["overage_enabled_upper"]:
            self.upper_true.shown = True
        for key, parts in hits.items():
            q[key] += [paths[k] for k in sorted(parts)]

    # -- by_user_analytic (legacy) ---------------------------------------------------------------------------

    def legacy_day(self, d: date, rows: list[tuple[int, dict[str, int]]]) -> None:
        if not rows:
            return
        grouped = self.grouped.roll(d)
        cols = LEGACY_METRICS_GROUPED if grouped else LEGACY_METRICS_SORTED
        header = ",".join(["UserId", "Date", *cols])
        sub = d.strftime("%Y/%m/%d")
        stem = f"{self.account}_by_user_analytic_"
        written: list[Path] = []
        if d <= self.eras["qdev_until"]:
            overlap = d >= self.eras["kiro_legacy_from"]
            # The Q Developer copy of an overlapping day is older and holds earlier numbers.
            qrows = [(i, _scaled(m) if n % 2 == 0 else m) for n, (i, m) in enumerate(rows)] if overlap else rows
            folder = self.logs / "QDeveloperLogs" / "by_user_analytic" / self.region / sub / "00"
            paths, _ = self._write(folder, stem + _stamp(d, 1, 1, 40) + "_report", header,
                                   _legacy_lines(self.profiles, d, qrows, cols, ""))
            self.quirks["legacy_empty_fields"] += paths
            written += paths
            if overlap:
                self.quirks["legacy_source_overlap"] += paths
        if d >= self.eras["kiro_legacy_from"]:
            folder = self.logs / "KiroLogs" / "by_user_analytic" / self.region / sub / "00"
            resend = self.legacy_resend.roll(d) and d >= self.kl_from
            if resend:
                old = [(i, _scaled(m) if n % 2 == 0 else m) for n, (i, m) in enumerate(rows)]
                old_paths, _ = self._write(folder, stem + _stamp(d, 1, 2, 5) + "_report", header,
                                           _legacy_lines(self.profiles, d, old, cols, "0"))
                paths, _ = self._write(folder, stem + _stamp(d, 3, 2, 5) + "_report", header,
                                       _legacy_lines(self.profiles, d, rows, cols, "0"))
                self.legacy_resend.shown = True
                self.quirks["resent_export"] += old_paths + paths
                written += old_paths
            else:
                paths, _ = self._write(folder, stem + _stamp(d, 1, 2, 5) + "_report", header,
                                       _legacy_lines(self.profiles, d, rows, cols, "0"))
            if d <= self.eras["qdev_until"]:
                self.quirks["legacy_source_overlap"] += paths
            written += paths
        self.quirks["legacy_mmddyyyy"] += written
        if any(self.profiles[i].prefixed for i, _ in rows):
            self.quirks["prefixed_userid"] += written
        if grouped:
            self.grouped.shown = True
            self.quirks["legacy_reordered_columns"] += written

    # -- things that are not reports -------------------------------------------------------------------------

    def prompt_logs(self, d: date, rows: dict[str, list[_Row]]) -> None:
        active = [r.pidx for c in CLIENTS for r in rows[c]][:3]
        if not active:
            return
        sub = d.strftime("%Y/%m/%d")
        for kind in ("GenerateAssistantResponse", "GenerateCompletions"):
            records = []
            for k, pidx in enumerate(active):
                ts = datetime(d.year, d.month, d.day, 9 + k, 17 + k, 5).isoformat() + "Z"
                request_id = str(uuid.UUID(int=self.lay.getrandbits(128), version=4))
                uid = self.profiles[pidx].user.userid
                if kind == "GenerateAssistantResponse":
                    records.append({"generateAssistantResponseEventRequest": {
                        "userId": uid, "timeStamp": ts, "chatTriggerType": "MANUAL",
                        "prompt": "Why does this CSV parser drop the last row?", "modelId": "claude-sonnet-4.5"},
                        "generateAssistantResponseEventResponse": {
                        "requestId": request_id, "assistantResponse": "The loop stops one row early; use <= here."}})
                else:
                    records.append({"generateCompletionsEventRequest": {
                        "userId": uid, "timeStamp": ts, "fileName": "src/report.py",
                        "leftContext": "def total(rows):\n    return ", "rightContext": ""},
                        "generateCompletionsEventResponse": {
                        "requestId": request_id, "completions": ["sum(r.amount for r in rows)"]}})
            body = json.dumps({"records": records}, sort_keys=True).encode("utf-8")
            folder = self.logs / "KiroLogs" / kind / self.region / sub / "00"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{self.account}_{kind}_{self.region}_{_stamp(d, 0, 12, 0)}_{request_id[:8]}.json.gz"
            path.write_bytes(gzip.compress(body, mtime=0))  # mtime=0 keeps the bytes reproducible
            self.non_report_files.append(path)
            self.quirks["prompt_logs"].append(path)

    def markers(self) -> None:
        folder = self.logs / "KiroLogs"
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            path = folder / str(uuid.UUID(int=self.lay.getrandbits(128), version=4))
            path.write_bytes(b"Permission check for Kiro log delivery.\n")
            self.non_report_files.append(path)
            self.quirks["markers"].append(path)

    def _write(self, folder: Path, stem: str, header: str, lines: list[str]) -> tuple[list[Path], int]:
        folder.mkdir(parents=True, exist_ok=True)
        if len(lines) <= MAX_ROWS_PER_FILE:
            chunk, paths = max(1, len(lines)), [folder / f"{stem}.csv"]
        else:
            parts = math.ceil(len(lines) / MAX_ROWS_PER_FILE)
            chunk = math.ceil(len(lines) / parts)
            paths = [folder / f"{stem}_part_{k + 1}.csv" for k in range(parts)]
        for k, path in enumerate(paths):
            body = "\n".join([header, *lines[k * chunk:(k + 1) * chunk]]) + "\n"
            path.write_bytes(body.encode("utf-8"))
        self.report_files += paths
        return paths, chunk


@dataclass
class _UrFormat:
    cols: list[str]
    day: date
    client: str
    doc: bool
    lower: bool
    upper: bool
    profile_arn: str
    prefix_ok: bool

    def __post_init__(self) -> None:
        self.iso = self.day.isoformat()
        self.cols_kinds = [(c, 0 if c == "New_User" else 1 if c == "User_Email" else 2) for c in self.cols]
        self.spec = [(kind, _model_index(c) if kind == 2 else 0) for c, kind in self.cols_kinds]


def _model_index(col: str) -> int:
    stem = col[: -len("_messages")]
    return next(k for k, (m, _) in enumerate(MODELS) if m == stem)


def _stamp(d: date, plus_days: int, hour: int, minute: int) -> str:
    return (datetime(d.year, d.month, d.day, hour, minute) + timedelta(days=plus_days)).strftime("%Y%m%d%H%M")


def _stale_rows(rows: list[_Row]) -> list[_Row]:
    """The first export of a re-sent day: every other row has lower numbers and the last row had not arrived."""
    kept = rows[:-1] if len(rows) > 2 else rows
    out = []
    for n, r in enumerate(kept):
        if n % 2 == 0:
            models = [int(c * 0.6) for c in r.models]
            total = sum(models)
            r = _Row(r.pidx, min(r.conv, total), r.credits * 0.6, r.overage * 0.6, total, r.new_user, models)
        out.append(r)
    return out


def _scaled(metrics: dict[str, int]) -> dict[str, int]:
    return {k: int(v * 0.7) for k, v in metrics.items() if int(v * 0.7)}


def _legacy_lines(profiles: list[_Profile], d: date, rows: Sequence[tuple[int, dict[str, int]]],
                  cols: Sequence[str], zero: str) -> list[str]:
    mdy = d.strftime("%m-%d-%Y")
    lines = []
    for i, metrics in rows:
        p = profiles[i]
        uid = f"{IDENTITY_STORE_ID}.{p.user.userid}" if p.prefixed else p.user.userid
        vals = [str(metrics[c]) if c in metrics else zero for c in cols]
        lines.append(",".join([uid, mdy, *vals]))
    return lines


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
    eras = _eras(start, end)
    rng = random.Random(seed)
    profiles = _make_users(rng, users, start, end, eras)
    writer = _Writer(root / norm_prefix if norm_prefix else root, account_id, region, seed, profiles, eras, end)
    sim = _Simulator(rng, profiles, start, eras, (_single_row_day(eras, end), "PLUGIN"))
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
                          end=end, users=[p.user for p in profiles], report_files=sorted(writer.report_files),
                          non_report_files=sorted(writer.non_report_files), quirks=quirks, eras=eras)


def write_user_map(manifest: SampleManifest, path: Path) -> Path:
    """The id -> name map the user-name sync would produce: userid,username,user_name,email,groups.

    `username` is the display name (what dashboards show); `user_name` is the Identity Center login.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(("userid", "username", "user_name", "email", "groups"))
        for u in manifest.users:
            writer.writerow((u.userid, u.display_name, u.username, u.email, ";".join(u.groups)))
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
    print(f"wrote {len(manifest.report_files)} report files for {len(manifest.users)} users, "
          f"{manifest.start}..{manifest.end}, to {manifest.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
