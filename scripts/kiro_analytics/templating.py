"""The one strict `${name}` renderer for deployed text (SQL today).

Every placeholder must have a value, every value is checked for its kind before it reaches SQL,
and nothing that looks like a placeholder may survive rendering. Errors name the source file.
"""

from __future__ import annotations

import re
from typing import Dict, Mapping, Pattern

from .errors import InputError

# `$${name}` is an escaped, literal `${name}`: partition projection's storage.location.template names partition
# columns that way, and Athena, not this renderer, fills them in.
PLACEHOLDER_RE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
ESCAPED_RE = re.compile(r"\$\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# What each known placeholder may contain. Values are checked here, not trusted from callers, so a
# bucket name with a quote or a database name with a dot can never change the meaning of the SQL.
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
_BOOLEAN = r"(true|false)"
_TIER_ROW = rf"\('[A-Z][A-Z0-9_]*', {_NUMBER}, {_NUMBER}, [0-9]+, {_BOOLEAN}, {_BOOLEAN}\)"
VALUE_RULES: Dict[str, Pattern[str]] = {
    "database": re.compile(r"^[a-z_][a-z0-9_]*$"),
    "bucket": re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    # S3 key parts: no quotes, backslashes, whitespace or braces; empty or ending in '/'.
    "prefix": re.compile(r"^([^'\"\\\s{}$]+/)?$"),
    "user_mapping_prefix": re.compile(r"^[^'\"\\\s{}$]+/$"),
    "seat_roster_prefix": re.compile(r"^[^'\"\\\s{}$]+/$"),
    "seat_default_tier": re.compile(r"^[A-Z][A-Z0-9_]{0,31}$"),
    "seat_grace_days": re.compile(r"^[0-9]{1,5}$"),
    "seat_idle_after_days": re.compile(r"^[0-9]{1,5}$"),
    "account_id": re.compile(r"^[0-9]{12}$"),
    "region": re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$"),
    "overage_price_per_credit": re.compile(rf"^{_NUMBER}$"),
    # Partition projection: a comma list of region names, and the first day Athena projects (yyyy/MM/dd).
    "report_regions": re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9](,[a-z]{2}(-[a-z]+)+-[0-9])*$"),
    "first_report_day": re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$"),
    "plan_tier_rows": re.compile(rf"^{_TIER_ROW}(, {_TIER_ROW})*$"),
    "overage_reading": re.compile(r"^(daily|running_total)$"),
    # The fact tables' Iceberg data (sql/facts/): a folder of the stack's results bucket.
    "facts_location": re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^'\"\\\s{}$]+/$"),
    # A fact load's day range: day folders (yyyy/MM/dd) and the same days as dates.
    "first_day": re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$"),
    "last_day": re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$"),
    "first_date": re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    "last_date": re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
}


def check_values(values: Mapping[str, str], source: str = "placeholder values") -> None:
    """Raise InputError for a value with no rule or one that breaks its rule."""
    problems = []
    for name, value in values.items():
        rule = VALUE_RULES.get(name)
        if rule is None:
            problems.append(f"${{{name}}} is not a known placeholder")
        elif not isinstance(value, str) or not rule.match(value):
            problems.append(f"${{{name}}} = {value!r} is not allowed (expected {rule.pattern})")
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems))


def placeholders(text: str) -> set:
    """Names of the placeholders a text uses."""
    return set(PLACEHOLDER_RE.findall(text))


def render(text: str, values: Mapping[str, str], source: str = "<text>") -> str:
    """Replace every `${name}`; unknown names, bad values and leftovers raise InputError naming `source`."""
    check_values(values, source)
    missing = sorted(name for name in placeholders(text) if name not in values)
    if missing:
        raise InputError(f"{source}: no value for placeholder(s) {', '.join('${' + m + '}' for m in missing)}")
    rendered = PLACEHOLDER_RE.sub(lambda match: values[match.group(1)], text)
    leftover = re.search(r"\$\{[^}]*\}?", ESCAPED_RE.sub("", rendered))
    if leftover:
        raise InputError(f"{source}: malformed placeholder {leftover.group(0)!r} left after rendering")
    return ESCAPED_RE.sub(lambda match: "${" + match.group(1) + "}", rendered)
