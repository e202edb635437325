"""./deploy.sh --verify: do Athena (Trino) and the local engine (DuckDB) agree on the customer's own reports?

The same queries (sql/queries/crosscheck_*.sql) run in Athena over the deployed views and in DuckDB over a local
build of the same report files; this module compares their rows per day and names every day and column that
differs. It imports neither boto3 nor the local engine: scripts/crosscheck.py wires the two sides together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

QUERIES: Tuple[str, ...] = ("crosscheck_daily", "crosscheck_models", "crosscheck_legacy", "crosscheck_ledger")
# Per query: the columns that identify a row, and the measured columns compared (None: every other column the rows
# carry, so the legacy report's 44 metrics are spelt once, in its query).
KEYS: Dict[str, Tuple[str, ...]] = {"crosscheck_daily": ("activity_date",),
                                    "crosscheck_models": ("activity_date", "model"),
                                    "crosscheck_legacy": ("activity_date",),
                                    "crosscheck_ledger": ("activity_date", "source")}
MEASURES: Dict[str, Optional[Tuple[str, ...]]] = {
    "crosscheck_daily": ("row_count", "users", "credits", "overage", "messages"),
    "crosscheck_models": ("messages",),
    "crosscheck_legacy": None,
    "crosscheck_ledger": ("files", "lines_read", "rows_used", "rows_superseded", "rows_rejected"),
}
# How a difference names its query, before the key and the column: "legacy chat_aicodelines",
# "ledger user_report rows_used" (the credit report's own columns go bare, as before).
PREFIX: Dict[str, str] = {"crosscheck_legacy": "legacy", "crosscheck_ledger": "ledger"}
# Credits are doubles summed in a different order by each engine: equal within a millionth of a credit.
TOLERANCE = 1e-6
# A re-sent export of a day lands in a later day's folder: a window downloads this many days either side.
WINDOW_MARGIN_DAYS = 3


def folder_window(since: Optional[date], until: Optional[date]) -> Tuple[Optional[date], Optional[date]]:
    """The day folders a window reads, on both sides: its days and WINDOW_MARGIN_DAYS either side (open ends stay
    open)."""
    margin = timedelta(days=WINDOW_MARGIN_DAYS)
    return (since - margin if since else None, until + margin if until else None)


@dataclass(frozen=True)
class Difference:
    day: str
    column: str
    athena: Optional[float]
    local: Optional[float]

    def line(self) -> str:
        def shown(value: Optional[float]) -> str:
            return "missing" if value is None else (f"{value:.6f}".rstrip("0").rstrip(".") if value % 1 else
                                                    str(int(value)))
        return f"{self.day} {self.column}: Athena {shown(self.athena)}, local {shown(self.local)}"


def _day(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value or "")[:10]


def _number(value: Any) -> Optional[float]:
    if value is None or value == "":
        return None
    return float(value)


def measures(query: str, *row_sets: Sequence[Mapping[str, Any]]) -> Tuple[str, ...]:
    """The compared columns: the query's list, or every non-key column of the rows in the order first seen."""
    listed = MEASURES[query]
    if listed is not None:
        return listed
    found: Dict[str, None] = {}
    for rows in row_sets:
        for row in rows:
            found.update((column, None) for column in row if column not in KEYS[query])
    return tuple(found)


def keyed(query: str, rows: Iterable[Mapping[str, Any]],
          columns: Optional[Sequence[str]] = None) -> Dict[Tuple[str, ...], Dict[str, Optional[float]]]:
    """Rows of either engine (Athena's strings or DuckDB's values) as {(day, model…): {measure: number}}."""
    rows = list(rows)
    columns = measures(query, rows) if columns is None else columns
    found: Dict[Tuple[str, ...], Dict[str, Optional[float]]] = {}
    for row in rows:
        key = tuple(_day(row[column]) if column == "activity_date" else str(row[column] or "")
                    for column in KEYS[query])
        # A measure the row does not have at all is left out (not read as NULL): compare reports it as a difference.
        found[key] = {measure: _number(row[measure]) for measure in columns if measure in row}
    return found


def _in_window(day: str, since: Optional[date], until: Optional[date]) -> bool:
    return (since is None or day >= since.isoformat()) and (until is None or day <= until.isoformat())


def _same(left: Optional[float], right: Optional[float]) -> bool:
    if left is None or right is None:
        return left is right or (left or 0) == (right or 0) == 0  # an absent sum and a zero one agree
    return abs(left - right) <= TOLERANCE * max(1.0, abs(left), abs(right))


def compare(query: str, athena_rows: Sequence[Mapping[str, Any]], local_rows: Sequence[Mapping[str, Any]],
            since: Optional[date] = None, until: Optional[date] = None) -> List[Difference]:
    """Every (day, column) where the engines disagree, in day order; a row only one side has counts as missing."""
    columns = measures(query, local_rows, athena_rows)
    athena, local = keyed(query, athena_rows, columns), keyed(query, local_rows, columns)
    differences: List[Difference] = []
    for key in sorted(set(athena) | set(local)):
        if not _in_window(key[0], since, until):
            continue
        label = " ".join(part for part in (PREFIX.get(query, ""), *key[1:]) if part)
        for measure in columns:
            mine, theirs = athena.get(key), local.get(key)
            left, right = (mine or {}).get(measure), (theirs or {}).get(measure)
            # A row or a measure one side lacks is a difference; only a NULL sum beside a zero one agrees.
            if mine is None or theirs is None or measure not in mine or measure not in theirs \
                    or not _same(left, right):
                column = f"{label} {measure}" if label else measure
                differences.append(Difference(key[0], column, left, right))
    return differences


def days_compared(query: str, rows: Sequence[Mapping[str, Any]], since: Optional[date],
                  until: Optional[date]) -> Set[str]:
    """The days of the window the rows cover (a day one report has and the other lacks counts once)."""
    return {key[0] for key in keyed(query, rows) if _in_window(key[0], since, until)}


def report(differences: Sequence[Difference], limit: int = 50) -> str:
    lines = [f"  - {difference.line()}" for difference in differences[:limit]]
    if len(differences) > limit:
        lines.append(f"  … and {len(differences) - limit} more")
    return "\n".join(lines)
