"""The simulated people behind the sample reports: ids, names, tiers, when they work and how much.

Everything here is drawn from one `random.Random` in a fixed order, so the same seed always gives the
same people and the same activity; anything that changes the order of draws changes every file.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

CLIENTS = ("KIRO_IDE", "KIRO_CLI", "PLUGIN")
IDENTITY_STORE_ID = "d-1234567890"

TIER_CREDITS = {"PRO": 1000, "PRO_PLUS": 2000, "PRO_MAX": 5000, "POWER": 10000}

# (model column stem, credits per message); the last one only exists from eras["new_model_from"].
MODELS = (
    ("auto", 0.21),
    ("claude_sonnet_4.5", 0.34),
    ("claude_haiku_4.5", 0.09),
    ("claude_opus_4.5", 0.58),
    ("claude_opus_4.6", 0.63),
)

_ERA_ANCHORS = (
    ("kiro_legacy_from", date(2026, 1, 1), 0.05),
    ("qdev_until", date(2026, 1, 15), 0.075),
    ("user_report_from", date(2026, 2, 10), 0.10),
    ("new_model_from", date(2026, 9, 1), 0.15),
    ("email_from", date(2026, 4, 1), 0.25),
    # Real headers carry Usage_Limit (the month's credit limit) from about 2026-09, right after User_Email.
    ("usage_limit_from", date(2026, 9, 1), 0.3),
)

_FIRST = ("wei", "li", "ana", "sean", "priya", "john", "maria", "kenji", "fatima", "lucas", "olga", "david",
          "mei", "omar", "sara", "tom", "yuki", "carlos", "nina", "raj", "emma", "ivan", "lena", "hiro")
_LAST = ("zhang", "wang", "souza", "o'brien", "patel", "smith", "garcia", "tanaka", "khan", "silva", "petrova",
         "cohen", "chen", "haddad", "berg", "nguyen", "sato", "lopez", "ivanova", "kumar", "muller", "rossi")
_CJK_NAMES = ("张伟", "李娜", "王芳", "佐藤 健")
_GROUPS = ("platform", "data", "mobile", "web", "security", "ml")


@dataclass(frozen=True)
class SampleUser:
    """One person; display_name is deliberately hostile for some users."""

    userid: str
    username: str
    display_name: str
    email: str
    groups: tuple


@dataclass
class Profile:
    """How one person uses Kiro: how much, how often, from when to when, on which tier and clients."""

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
    # Signs in through an external IdP or Builder ID: in the reports, not in the Identity Store.
    external: bool = False

    def tier_on(self, d: date) -> str:
        tier = self.tiers[0][1]
        for since, t in self.tiers:
            if since <= d:
                tier = t
        return tier


def era_starts(start: date, end: date) -> dict[str, date]:
    n = (end - start).days + 1
    return {name: max(real, start + timedelta(days=int(n * frac))) for name, real, frac in _ERA_ANCHORS}


def make_profiles(rng: random.Random, count: int, start: date, end: date, eras: dict[str, date]) -> list[Profile]:
    span = (end - start).days + 1
    ur_from = eras["user_report_from"]
    ur_span = max(1, (end - ur_from).days + 1)
    profiles: list[Profile] = []
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
        # User 3 is heavy enough that, after the downgrade to PRO, it runs out of credits with overage off.
        weight = (9.0, 14.0, 4.0, 11.0)[i] if scripted else min(rng.paretovariate(1.4), 40.0)
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
        never_active = not scripted and i > 6 and rng.random() < 0.04
        profiles.append(Profile(
            user=user, weight=weight, p_active=min(0.95, 0.45 + 0.06 * weight), join=join, lapse=lapse,
            never_active=never_active, tiers=tiers, overage_cap=cap,
            client_use=client_use, model_pref=tuple(0.05 + rng.random() ** 2 for _ in MODELS),
            prefixed=i % 10 == 4, external=_external(i, never_active)))
    return profiles


def _external(i: int, never_active: bool) -> bool:
    # About one person in forty, none of the scripted ones; decided without a draw so nobody else changes.
    return i % 40 == 7 and not never_active


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
class Row:
    pidx: int
    conv: int
    credits: float
    overage: float
    total: int
    new_user: bool
    models: list[int]


class Simulator:
    """Walks the days in order so monthly allowances, overage caps and first days come out right."""

    def __init__(self, rng: random.Random, profiles: list[Profile], start: date, eras: dict[str, date],
                 single_row: tuple[date, str]) -> None:
        self.rng, self.profiles, self.start, self.eras, self.single_row = rng, profiles, start, eras, single_row
        self.month: dict[int, tuple[int, int]] = {}
        self.plan_used = [0.0] * len(profiles)
        self.over_used = [0.0] * len(profiles)
        self.blocked = [False] * len(profiles)

    def models_on(self, d: date) -> int:
        return len(MODELS) if d >= self.eras["new_model_from"] else len(MODELS) - 1

    def day(self, d: date) -> tuple[dict[str, list[Row]], list[tuple[int, dict[str, int]]]]:
        rng = self.rng
        weekend = d.weekday() >= 5
        n_models = self.models_on(d)
        rows: dict[str, list[Row]] = {c: [] for c in CLIENTS}
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

    def _row(self, i: int, p: Profile, d: date, msgs: int, n_models: int, first_day: bool) -> Row:
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
        return Row(i, conv, plan, over, msgs, first_day, counts)

    def _force_single_row(self, d: date, rows: dict[str, list[Row]]) -> None:
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

