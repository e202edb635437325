"""The ingest ledger's totals as one readable line (step 4 and the local build print it).

The numbers come from sql/queries/ledger_totals.sql and ledger_rejected_files.sql, run by Athena or DuckDB over the
ingest_ledger view, so both engines print the same account of every line. Imports nothing but the standard library:
the AWS path and the local engine both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

LEDGER_VIEW = "ingest_ledger"
TOTALS_QUERY = "ledger_totals"
REJECTED_FILES_QUERY = "ledger_rejected_files"
# ingest_ledger column -> the reject_reason report_lines.sql writes (a test checks both lists against the SQL).
REASONS: Dict[str, str] = {
    "rejected_no_header": "no header",
    "rejected_header_layout": "unknown header layout",
    "rejected_missing_column": "missing required column",
    "rejected_not_utf8": "not UTF-8",
    "rejected_truncated": "truncated line",
    "rejected_extra_fields": "extra fields (a comma in a field)",
    "rejected_bad_date": "bad date",
    "rejected_no_user_id": "no user id",
    "rejected_bad_number": "bad number",
}


def _int(value: Any) -> int:
    # Athena answers text, DuckDB numbers; an empty ledger sums to NULL in neither (the query COALESCEs).
    return int(value) if value not in (None, "") else 0


def _reasons(row: Mapping[str, Any]) -> List[Tuple[str, int]]:
    return [(reason, _int(row.get(column))) for column, reason in REASONS.items() if _int(row.get(column))]


@dataclass(frozen=True)
class LedgerTotals:
    files: int
    lines_read: int
    rows_used: int
    rows_superseded: int
    rows_rejected: int
    files_with_rejections: int
    files_with_header_drift: int
    by_reason: List[Tuple[str, int]] = field(default_factory=list)
    worst_files: List[Tuple[str, int, List[Tuple[str, int]]]] = field(default_factory=list)

    @classmethod
    def from_rows(cls, totals: Mapping[str, Any], rejected_files: Sequence[Mapping[str, Any]] = ()) -> "LedgerTotals":
        return cls(files=_int(totals.get("files")), lines_read=_int(totals.get("lines_read")),
                   rows_used=_int(totals.get("rows_used")), rows_superseded=_int(totals.get("rows_superseded")),
                   rows_rejected=_int(totals.get("rows_rejected")),
                   files_with_rejections=_int(totals.get("files_with_rejections")),
                   files_with_header_drift=_int(totals.get("files_with_header_drift")),
                   by_reason=_reasons(totals),
                   worst_files=[(str(row.get("source_path")), _int(row.get("rows_rejected")), _reasons(row))
                                for row in rejected_files])

    @property
    def balanced(self) -> bool:
        """Every line accounted for: read = used + superseded + rejected."""
        return self.lines_read == self.rows_used + self.rows_superseded + self.rows_rejected

    def summary(self) -> str:
        text = (f"read {self.files:,} files, {self.lines_read:,} lines: {self.rows_used:,} used, "
                f"{self.rows_superseded:,} superseded by re-sent exports, ")
        if not self.rows_rejected:
            text += "0 rejected"
        else:
            reasons = ", ".join(f"{count:,} {reason}" for reason, count in self.by_reason)
            files = "; ".join(f"{path}: {count:,} ({', '.join(r for r, _ in parts)})"
                              for path, count, parts in self.worst_files)
            more = self.files_with_rejections - len(self.worst_files)
            text += (f"rejected {self.rows_rejected:,} lines in {self.files_with_rejections:,} files ({reasons}): "
                     f"{files}" + (f"; and {more:,} more files" if more > 0 else ""))
        if self.files_with_header_drift:
            text += f"; header changed in {self.files_with_header_drift:,} files"
        return text


def totals_from(rows: Sequence[Mapping[str, Any]], rejected: Sequence[Mapping[str, Any]]) -> Optional[LedgerTotals]:
    """LedgerTotals from the two queries' answers (None when the totals query gave no row)."""
    return LedgerTotals.from_rows(rows[0], rejected) if rows else None
