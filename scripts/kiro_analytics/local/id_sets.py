"""The distinct ids a DISTINCT_COUNT keeps per row, shipped once and compactly.

A distinct count cannot be summed over days, so the page gets each row's set of ids and unions them after
filtering. At 20k users x 365 days those sets were most of dashboard.html (two visuals shipped the same
per-day lists, 9.9 MiB each). Here every counted column has a dictionary of dense integers, each distinct
set is stored once in a pool (visuals and rows refer to it by index), and each set is written as whichever
is shorter: a bitmap over the dictionary ("b") for dense days, or LEB128 gaps between sorted ids ("d") for
sparse ones, as raw bytes in the page's binary block (payload_codec; base64 strings inside the JSON hid the bytes
from gzip). `decode_bytes` reads either back (dashboard.js mirrors it); `encode`/`decode` are the same as text.
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
        """{"sizes": {column: dictionary size}, "sets": [[column, sorted ids], ...]} in pool order (payload_codec
        writes each set's bytes)."""
        return {"sizes": {column: len(codes) for column, codes in self.dictionaries.items()},
                "sets": [[column, list(ids)] for column, ids in self._order]}


def encode_bytes(ids: Tuple[int, ...]) -> Tuple[str, bytes]:
    """("b", bitmap) or ("d", LEB128 gaps from -1) of sorted ids, whichever is shorter; ("", b"") when empty."""
    if not ids:
        return "", b""
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
        return "b", bytes(bitmap)
    return "d", bytes(gaps)


def decode_bytes(kind: str, data: bytes) -> List[int]:
    if kind == "b":
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


def encode(ids: Tuple[int, ...]) -> str:
    """The text form of encode_bytes: its kind, then the bytes in base64 ("" when empty)."""
    kind, data = encode_bytes(ids)
    return kind + base64.b64encode(data).decode("ascii") if kind else ""


def decode(text: str) -> List[int]:
    if not text:
        return []
    return decode_bytes(text[0], base64.b64decode(text[1:]))
