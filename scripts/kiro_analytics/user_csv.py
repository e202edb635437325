"""The CSV files the user sync writes (the name map and the seat roster): one dialect, one cleaning rule.

Athena reads them with OpenCSVSerde (sql/tables/user_mapping.sql, seat_roster.sql), which reads one line per record
and uses U+0001 as its escape character, so what is written here must never contain either. Ships in the Lambda zip:
standard library only.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from .errors import StepFailed

_STORE_PREFIX = re.compile(r"^d-[0-9a-f]{10}\.", re.IGNORECASE)
# A quoted field cannot span lines for OpenCSVSerde, so line breaks inside a name become spaces (U+2028/2029 too:
# some readers treat them as line ends).
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
# Every other control character but tab is dropped: U+0001 is the tables' escapeChar and must never occur in data.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]+")


def normalise_user_id(value: str) -> str:
    """Reports quote ids and sometimes prefix the identity store id (d-xxxxxxxxxx.<id>): keep the bare id."""
    return _STORE_PREFIX.sub("", value.strip().strip('"').strip()).lower()


def clean_field(value: Optional[str]) -> str:
    return _LINE_BREAKS.sub(" ", _CONTROL.sub("", value or "")).strip()


def render_rows(header: Sequence[str], rows: Iterable[Dict[str, str]],
                order: Callable[[Dict[str, str]], object]) -> bytes:
    """RFC 4180 CSV (CRLF, doubled quotes), UTF-8, no BOM, in a fixed order: unchanged input gives equal bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in sorted(rows, key=order):
        writer.writerow([clean_field(row.get(key)) for key in header])
    return buffer.getvalue().encode("utf-8")


def read_rows(body: bytes, header: Sequence[str], what: str) -> List[Dict[str, str]]:
    """Rows of a previous file; another header is refused rather than guessed at, and the file is left alone."""
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    if tuple(reader.fieldnames or ()) != tuple(header):
        raise StepFailed(f"the existing {what} has header {reader.fieldnames}, expected {list(header)}; "
                         "move it aside (it is not overwritten) and run the sync again")
    return [{key: row.get(key) or "" for key in header} for row in reader]
