"""Turning simulated activity into report files laid out like the S3 bucket, one quirk at a time.

`ReportWriter` picks each file's variant (columns that come, go and move, re-sent exports, split
parts, tier spellings, legacy layouts), writes the bytes and records which file shows which quirk.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Sequence

from kiro_analytics.local.sample_people import CLIENTS, IDENTITY_STORE_ID, MODELS, TIER_CREDITS, Profile, Row

MAX_ROWS_PER_FILE = 1000
# The spellings the docs use; a few exports use them instead of the codes.
DOC_TIER_SPELLING = {"PRO": "Pro", "PRO_PLUS": "ProPlus", "PRO_MAX": "ProMax", "POWER": "Power"}

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
    "prompt_logs", "single_row_day", "tier_upgrade", "tier_downgrade", "overage", "new_user", "external_idp_user",
    "usage_limit_column",
)



class _Chance:
    """A per-file variant: rolled with probability p, and forced from `due` on until a file has shown it."""

    def __init__(self, rng: random.Random, p: float, due: date) -> None:
        self.rng, self.p, self.due, self.shown = rng, p, due, False

    def roll(self, d: date) -> bool:
        hit = self.rng.random() < self.p
        return hit or (not self.shown and d >= self.due)


FIXED_HEADER = ("Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Overage_Cap,Overage_Credits_Used,"
                 "Overage_Enabled,ProfileId,Subscription_Tier,Total_Messages")


class ReportWriter:
    """Turns simulated rows into files, picks each file's variant and records which quirk each file shows."""

    def __init__(self, base: Path, account: str, region: str, seed: int, profiles: list[Profile],
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

    def user_report(self, d: date, client: str, rows: list[Row], n_models: int) -> None:
        if not rows:
            return
        has_new_user = not self.no_new_user.roll(d)
        doc, lower = self.doc_tier.roll(d), self.lay.random() < 0.33
        upper, resend = self.upper_true.roll(d), self.resend.roll(d)
        has_email = d >= self.eras["email_from"]
        has_limit = d >= self.eras["usage_limit_from"]
        cols = [c for c in self._order(d) if (c == "New_User" and has_new_user) or (c == "User_Email" and has_email)
                or (c == "Usage_Limit" and has_limit) or (c.endswith("_messages") and _model_index(c) < n_models)]
        header = ",".join((FIXED_HEADER, *cols)) if cols else FIXED_HEADER
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
            # Usage_Limit follows User_Email wherever that lands (inserted after the shuffle, so the orders of the
            # other columns are the ones earlier samples had).
            cols.insert(cols.index("User_Email") + 1, "Usage_Limit")
            prev = self.orders.get((d.year - (d.month == 1), (d.month - 2) % 12 + 1))
            # Readers that bind by position must see the long-standing models move, not just the new one.
            base = {f"{m}_messages" for m, _ in MODELS[:-1]}
            if prev is not None and [c for c in prev if c in base] == [c for c in cols if c in base]:
                slots = [k for k, c in enumerate(cols) if c in base]
                for k, c in zip(slots, reversed([cols[k] for k in slots])):
                    cols[k] = c
            self.orders[ym] = cols
        return self.orders[ym]

    def _ur(self, f: _UrFormat, r: Row) -> str:
        p = self.profiles[r.pidx]
        uid = p.user.userid
        if f.prefix_ok and p.prefixed:
            uid = f"{IDENTITY_STORE_ID}.{uid}"
        tier = p.tier_on(f.day)
        limit = float(TIER_CREDITS[tier])
        if f.doc:
            tier = tier.lower() if f.lower else DOC_TIER_SPELLING[tier]
        cap = p.overage_cap if p.overage_cap is not None else float(TIER_CREDITS[p.tier_on(f.day)])
        enabled = "false" if p.overage_cap is None else "TRUE" if f.upper else "true"
        line = (f'{f.iso},"{uid}",{f.client},{r.conv},{r.credits!r},{cap!r},{r.overage!r},{enabled},'
                f'"{self.profile_arn}",{tier},{r.total}')
        extra = []
        for kind, k in f.spec:
            extra.append(("true" if r.new_user else "false") if kind == 0 else p.user.email if kind == 1
                         else repr(limit) if kind == 3 else str(r.models[k]))
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
        if "Usage_Limit" in fmt.cols:
            q["usage_limit_column"] += paths
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

    def _record_rows(self, d: date, rows: list[Row], fmt: _UrFormat, has_new_user: bool, upper: bool,
                     paths: list[Path], chunk: int) -> None:
        """Quirks in the data itself, recorded for the newest export only (a stale copy must not count)."""
        q = self.quirks
        hits: dict[str, set] = {k: set() for k in ("prefixed_userid", "overage_enabled_upper", "overage", "new_user",
                                                   "tier_upgrade", "tier_downgrade", "external_idp_user")}
        for n, r in enumerate(rows):
            p = self.profiles[r.pidx]
            part = n // chunk
            if fmt.prefix_ok and p.prefixed:
                hits["prefixed_userid"].add(part)
            if p.external:
                hits["external_idp_user"].add(part)
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
        if any(self.profiles[i].external for i, _ in rows):
            self.quirks["external_idp_user"] += written
        if grouped:
            self.grouped.shown = True
            self.quirks["legacy_reordered_columns"] += written

    # -- things that are not reports -------------------------------------------------------------------------

    def prompt_logs(self, d: date, rows: dict[str, list[Row]]) -> None:
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
        self.cols_kinds = [(c, 0 if c == "New_User" else 1 if c == "User_Email" else 3 if c == "Usage_Limit" else 2)
                           for c in self.cols]
        self.spec = [(kind, _model_index(c) if kind == 2 else 0) for c, kind in self.cols_kinds]


def _model_index(col: str) -> int:
    stem = col[: -len("_messages")]
    return next(k for k, (m, _) in enumerate(MODELS) if m == stem)


def _stamp(d: date, plus_days: int, hour: int, minute: int) -> str:
    return (datetime(d.year, d.month, d.day, hour, minute) + timedelta(days=plus_days)).strftime("%Y%m%d%H%M")


def _stale_rows(rows: list[Row]) -> list[Row]:
    """The first export of a re-sent day: every other row has lower numbers and the last row had not arrived."""
    kept = rows[:-1] if len(rows) > 2 else rows
    out = []
    for n, r in enumerate(kept):
        if n % 2 == 0:
            models = [int(c * 0.6) for c in r.models]
            total = sum(models)
            r = Row(r.pidx, min(r.conv, total), r.credits * 0.6, r.overage * 0.6, total, r.new_user, models)
        out.append(r)
    return out


def _scaled(metrics: dict[str, int]) -> dict[str, int]:
    scaled = {k: int(v * 0.7) for k, v in metrics.items() if int(v * 0.7)}
    # Rounding each part down separately must not break "total = acceptances + rejections + dismissals".
    parts = sum(scaled.get(f"InlineChat_{k}EventCount", 0) for k in ("Acceptance", "Rejection", "Dismissal"))
    scaled.pop("InlineChat_TotalEventCount", None)
    if parts:
        scaled["InlineChat_TotalEventCount"] = parts
    return scaled


def _legacy_lines(profiles: list[Profile], d: date, rows: Sequence[tuple[int, dict[str, int]]],
                  cols: Sequence[str], zero: str) -> list[str]:
    mdy = d.strftime("%m-%d-%Y")
    lines = []
    for i, metrics in rows:
        p = profiles[i]
        uid = f"{IDENTITY_STORE_ID}.{p.user.userid}" if p.prefixed else p.user.userid
        vals = [str(metrics[c]) if c in metrics else zero for c in cols]
        lines.append(",".join([uid, mdy, *vals]))
    return lines

