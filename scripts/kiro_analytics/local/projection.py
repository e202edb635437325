"""Which partition folders Athena's partition projection reads, mirrored for the local engine.

With projection enabled Athena does not list a table's folders: it computes the partitions from the table's
TBLPROPERTIES and reads only their folders (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html).
An enum column projects exactly its comma-separated projection.<col>.values; a date column every value from the
start of projection.<col>.range to its end (NOW: the time of the query), one projection.<col>.interval of
projection.<col>.interval.unit apart, written in projection.<col>.format
(https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html). So a report file in a region
folder outside s3.report_regions, on a day before s3.first_report_day or after today, or in a day folder spelled
otherwise (2026/2/10 for 2026/02/10) is not read by Athena, and not here either. What the local engine cannot mirror
faithfully (other date formats, units, relative range ends) is refused with the file named, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Dict, List, Optional, Tuple

from ..errors import InputError
from ..sqlfiles import SqlObject
from .translate import table_columns, table_properties

# Java DateTimeFormatter patterns the local engine reads, as strftime; the raw tables use yyyy/MM/dd.
DATE_FORMATS = {"yyyy/MM/dd": "%Y/%m/%d", "yyyy-MM-dd": "%Y-%m-%d", "yyyyMMdd": "%Y%m%d"}


@dataclass(frozen=True)
class Rule:
    """What one projected partition column accepts: enum values, or days from ``start`` to ``end`` every ``step``."""

    column: str
    values: Tuple[str, ...] = ()
    start: Optional[date] = None
    end: Optional[date] = None
    step: int = 1
    pattern: str = ""

    def refuses(self, value: str) -> Optional[str]:
        """Why Athena would not project ``value`` (None: it would)."""
        if self.pattern == "":
            return None if value in self.values else f"{self.column} {value} is not in {','.join(self.values)}"
        try:
            day = datetime.strptime(value, self.pattern).date()
        except ValueError:
            day = None
        if day is None or day.strftime(self.pattern) != value:  # strptime accepts 2026/2/10; Athena's value does not
            return f"{self.column} folder {value} is not a {self.column} in the projected format"
        assert self.start is not None and self.end is not None
        if day < self.start:
            return f"{self.column} {value} is before the projected range, which starts {self.start:%Y-%m-%d}"
        if day > self.end:
            return f"{self.column} {value} is after the projected range, which ends today ({self.end:%Y-%m-%d})"
        if (day - self.start).days % self.step:
            return f"{self.column} {value} is not one of every {self.step} days from {self.start:%Y-%m-%d}"
        return None


def _date_rule(table: SqlObject, column: str, properties: Dict[str, str], today: date) -> Rule:
    def prop(name: str) -> str:
        return properties.get(f"projection.{column}.{name}", "").strip()

    pattern = DATE_FORMATS.get(prop("format"))
    unit = prop("interval.unit").upper() or "DAYS"
    ends = [part.strip() for part in prop("range").split(",")]
    interval = prop("interval") or "1"
    if pattern is None or unit != "DAYS" or len(ends) != 2 or not interval.isdigit() or int(interval) < 1:
        raise InputError(f"{table.path}: projection of {column} (format {prop('format')!r}, interval "
                         f"{prop('interval')!r} {unit}, range {prop('range')!r}) is not one the local engine mirrors; "
                         f"it reads formats {', '.join(DATE_FORMATS)} with a DAYS interval")

    def end(text: str) -> date:
        if text.upper() == "NOW":
            return today
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            raise InputError(f"{table.path}: projection.{column}.range end {text!r} is neither NOW nor a date in "
                             f"{prop('format')}") from None

    return Rule(column, start=end(ends[0]), end=end(ends[1]), step=int(interval), pattern=pattern)


def projection_rules(table: SqlObject, today: date) -> Optional[List[Rule]]:
    """One Rule per partition column when the table projects its partitions; None when it does not."""
    properties = table_properties(table)
    if properties.get("projection.enabled", "").strip().lower() != "true":
        return None
    rules = []
    for column in table_columns(table)[1]:
        kind = properties.get(f"projection.{column}.type", "").strip().lower()
        if kind == "enum":
            values = tuple(v.strip() for v in properties.get(f"projection.{column}.values", "").split(","))
            rules.append(Rule(column, values=tuple(v for v in values if v)))
        elif kind == "date":
            rules.append(_date_rule(table, column, properties, today))
        else:
            raise InputError(f"{table.path}: projection.{column}.type {kind or '(missing)'!r}: the local engine "
                             "mirrors enum and date projections only")
    return rules


def refused(rules: Optional[List[Rule]], values: Dict[str, str]) -> Optional[str]:
    """Why Athena would not read a folder with these partition values (None: it reads it)."""
    for rule in rules or ():
        reason = rule.refuses(values.get(rule.column, ""))
        if reason:
            return reason
    return None

