"""The distinct ids a DISTINCT_COUNT keeps per row, shipped once and compactly.

A distinct count cannot be summed over days, so the page gets each row's set of ids and unions them after
filtering. At 20k users x 365 days those sets were most of dashboard.html (two visuals shipped the same
per-day lists, 9.9 MiB each). Here every counted column has a dictionary of dense integers, each distinct
set is stored once in a pool (visuals and rows refer to it by index), and each set is written as whichever
is shorter: a bitmap over the dictionary ("b" + base64) for dense days, or LEB128 gaps between sorted ids
("d" + base64) for sparse ones. `decode` reads either back (the tests use it; dashboard.js mirrors it).
"""

from __future__ import annotations

import base64
from typing import Dict, Iterable, List, Tuple


class IdPool:
    def __init__(self) -> None:
        self.dictionaries: Dict[str, Dict[str, int]] = {}
        self._sets: Dict[Tuple[str, Tuple[int, ...]], int] = {}
        self._order: List[Tuple[str, Tuple[int, ...]]] = []

    def add(self, column: str, values: Iterable[str]) -> int:
        """Pool index of the set of ``values`` (text ids of ``column``)."""
        codes = self.dictionaries.setdefault(column, {})
        key = (column, tuple(sorted({codes.setdefault(v, len(codes)) for v in values})))
        if key not in self._sets:
            self._sets[key] = len(self._order)
            self._order.append(key)
        return self._sets[key]

    def payload(self) -> Dict[str, object]:
        """{"sizes": {column: dictionary size}, "sets": [[column, encoded], ...]} in pool order."""
        return {"sizes": {column: len(codes) for column, codes in self.dictionaries.items()},
                "sets": [[column, encode(ids)] for column, ids in self._order]}


def encode(ids: Tuple[int, ...]) -> str:
    if not ids:
        return ""
    bitmap = bytearray((ids[-1] >> 3) + 1)
    for value in ids:
        bitmap[value >> 3] |= 1 << (value & 7)
    gaps = bytearray()
    previous = -1
    for value in ids:
        gap = value - previous
        previous = value
        while gap >= 0x80:
            gaps.append((gap & 0x7F) | 0x80)
            gap >>= 7
        gaps.append(gap)
    if len(bitmap) <= len(gaps):
        return "b" + base64.b64encode(bytes(bitmap)).decode("ascii")
    return "d" + base64.b64encode(bytes(gaps)).decode("ascii")


def decode(text: str) -> List[int]:
    if not text:
        return []
    data = base64.b64decode(text[1:])
    if text[0] == "b":
        return [index * 8 + bit for index, byte in enumerate(data) for bit in range(8) if byte >> bit & 1]
    ids, value, shift, previous = [], 0, 0, -1
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            previous += value
            ids.append(previous)
            value, shift = 0, 0
    return ids
