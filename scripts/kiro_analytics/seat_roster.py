"""The seat roster: who holds a Kiro seat (members of the configured Identity Center groups), and since when.

Written by the user sync from the group memberships it already reads; each member keeps the earliest roster_date
ever recorded for them, so "rostered N days ago" survives re-runs. Ships in the Lambda zip.
"""

from __future__ import annotations

import posixpath
from datetime import date
from typing import Dict, Iterable, List, Set, Tuple

from .errors import StepFailed
from .user_csv import normalise_user_id, read_rows, render_rows

ROSTER_HEADER: Tuple[str, ...] = ("userid", "group", "roster_date")
ROSTER_FILE = "seat_roster.csv"


def seat_roster_key(mapping_key: str) -> str:
    """The roster's key: its own folder beside the mapping's (``user-mapping-seat-roster/seat_roster.csv``).

    Athena reads every object under a table's LOCATION, subfolders included, so a roster inside the mapping folder
    would be read as mapping rows; a sibling folder named after the mapping's keeps two stacks' rosters apart.
    """
    return f"{posixpath.dirname(mapping_key.strip('/'))}-seat-roster/{ROSTER_FILE}"


def parse_roster(body: bytes) -> Dict[str, date]:
    """Earliest roster_date per user id of a roster CSV; another header or a bad date is refused, not guessed at."""
    earliest: Dict[str, date] = {}
    for row in read_rows(body, ROSTER_HEADER, "seat roster"):
        user_id = normalise_user_id(row["userid"])
        if not user_id:
            continue
        try:
            day = date.fromisoformat(row["roster_date"].strip())
        except ValueError:
            raise StepFailed(f"the existing seat roster has roster_date {row['roster_date']!r} for {user_id}, "
                             "expected YYYY-MM-DD; fix or move it aside (it is not overwritten)") from None
        earliest[user_id] = min(day, earliest.get(user_id, day))
    return earliest


def build_roster(memberships: Dict[str, List[str]], seat_groups: Iterable[str], previous: Dict[str, date],
                 today: date) -> List[Dict[str, str]]:
    """One row per (member, seat group); a member's roster_date is the earliest recorded for them, else today."""
    wanted = set(seat_groups)
    rows: List[Dict[str, str]] = []
    for user_id in sorted(memberships):
        groups = sorted(set(memberships[user_id]) & wanted)
        since = min(previous.get(user_id, today), today).isoformat()
        rows.extend({"userid": user_id, "group": group, "roster_date": since} for group in groups)
    return rows


def render_roster(rows: Iterable[Dict[str, str]]) -> bytes:
    """Same CSV dialect as the mapping, sorted by user and group: an unchanged roster gives equal bytes."""
    return render_rows(ROSTER_HEADER, rows, lambda row: (row["userid"], row["group"]))


def require_groups(seat_groups: Iterable[str], group_names: Set[str], identity_store_id: str) -> None:
    """A misspelt or renamed group would empty its part of the roster and lose its members' first-seen dates."""
    missing = [group for group in seat_groups if group not in group_names]
    if missing:
        raise StepFailed(f"seats.groups {', '.join(repr(g) for g in missing)} not found among the "
                         f"{len(group_names)} Identity Center group(s) of {identity_store_id} (display "
                         "names, exact spelling); the user mapping was written, the seat roster was kept as it was")
