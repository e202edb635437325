"""The page's data as one binary block: a JSON header, then every large array as typed columns (issue 12).

As JSON, each of the 20k-user dashboard's ~450k-row arrays was one decimal text per value ("12.345678,"), and each
distinct-count id set a base64 string inside the JSON, which gzip then compressed again (base64 hides the bytes'
structure from it). Here a numeric array becomes integers (the values times 10^scale, the smallest scale that
keeps every value exact; optionally as differences from the previous row, for sorted keys), zig-zagged so small
negatives stay small, 0 reserved for null, and written as byte planes (every row's low byte, then every row's next
byte, ...): a plane of a column whose values are small is nearly all zeros, which gzip all but removes. Id sets are
their raw bytes (id_sets.encode_bytes). ``pack`` writes the block, ``unpack`` reads it back (dashboard.js mirrors
it); arrays holding text, or numbers that cannot be written exactly, stay JSON.

Layout: 4-byte little-endian header length, the header (UTF-8 JSON: the payload with each packed array replaced
by {"c": [offset, rows, bytes per row], "s": scale, "d": 0|1} and each id set by [column, kind, offset, length]),
then the column and id-set bytes. Offsets count from the first byte after the header.
"""

from __future__ import annotations

import json
import struct
import zlib
from array import array
from typing import Any, Dict, List, Optional, Tuple

from . import id_sets

MAX_SCALE = 6           # dashboard_data.DECIMALS: every shipped number is rounded to 6 decimals
LIMIT = 2 ** 53         # integers above this are not exact in a JavaScript number


def pack(payload: Dict[str, Any]) -> bytes:
    """The payload (as dashboard_data.build_payload returns it, id sets as pooled (column, ids) tuples) as bytes."""
    blob = bytearray()
    header = dict(payload)
    header["arrays"] = [_pack_entry(entry, blob) for entry in payload.get("arrays", [])]
    pool = payload.get("idsets") or {"sizes": {}, "sets": []}
    sets = []
    for column, ids in pool["sets"]:
        kind, data = id_sets.encode_bytes(tuple(ids))
        sets.append([column, kind, len(blob), len(data)])
        blob.extend(data)
    header["idsets"] = {"sizes": pool["sizes"], "sets": sets}
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return struct.pack("<I", len(text)) + text + bytes(blob)


def unpack(data: bytes) -> Dict[str, Any]:
    """The inverse of pack: arrays as lists again (still shared and "like" entries), id sets as (column, ids)."""
    (size,) = struct.unpack_from("<I", data)
    header = json.loads(data[4:4 + size].decode("utf-8"))
    blob = memoryview(data)[4 + size:]
    header["arrays"] = [_unpack_entry(entry, blob) for entry in header.get("arrays", [])]
    header["idsets"]["sets"] = [(column, id_sets.decode_bytes(kind, bytes(blob[offset:offset + length])))
                                for column, kind, offset, length in header["idsets"]["sets"]]
    return header


def _pack_entry(entry: Any, blob: bytearray) -> Any:
    if isinstance(entry, dict):  # a near copy (dashboard_data._like): its positions and values are arrays too
        return {**entry, "at": _pack_values(entry["at"], blob), "v": _pack_values(entry["v"], blob)}
    return _pack_values(entry, blob)


def _unpack_entry(entry: Any, blob: memoryview) -> Any:
    if isinstance(entry, dict) and "like" in entry:
        return {**entry, "at": _unpack_values(entry["at"], blob), "v": _unpack_values(entry["v"], blob)}
    return _unpack_values(entry, blob)


def _pack_values(values: List[Any], blob: bytearray) -> Any:
    """``values`` as a column descriptor (its bytes appended to ``blob``), or the list itself when it stays JSON."""
    scale = _scale(values)
    if scale is None or len(values) < 16:
        return values
    factor = 10 ** scale
    integers = [None if v is None else round(v * factor) if scale else int(v) for v in values]
    best: Optional[Tuple[int, bytes, int, int]] = None
    for delta in (0, 1):
        codes = _codes(integers, delta)
        if codes is None:
            continue
        data, width = _planes(codes)
        # Whichever gzip shrinks more (zlib level 1 is a quick, good enough judge): differences win on sorted keys.
        size = len(zlib.compress(data, 1))
        if best is None or size < best[0]:
            best = (size, data, width, delta)
    if best is None:
        return values
    _, data, width, delta = best
    descriptor = {"c": [len(blob), len(values), width], "s": scale, "d": delta}
    blob.extend(data)
    return descriptor


def _scale(values: List[Any]) -> Optional[int]:
    """The smallest number of decimals that writes every value exactly as an integer / 10^scale, or None."""
    for scale in range(MAX_SCALE + 1):
        factor = 10 ** scale
        exact = True
        for value in values:
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            if isinstance(value, int) and not isinstance(value, bool):
                if abs(value) * factor >= LIMIT:
                    return None
                continue
            scaled = round(value * factor)
            # JavaScript reads it back as scaled / 10^scale: the same IEEE division Python's float does here.
            if abs(scaled) >= LIMIT or float(scaled) / float(factor) != value:
                exact = False
                break
        if exact:
            return scale
    return None


def _codes(integers: List[Optional[int]], delta: bool) -> Optional[List[int]]:
    """Zig-zag codes + 1 (0 = null) of the integers, or of their differences from the previous non-null one."""
    codes = []
    previous = 0
    for value in integers:
        if value is None:
            codes.append(0)
            continue
        step = value - previous if delta else value
        if delta:
            previous = value
        zig = step * 2 if step >= 0 else -step * 2 - 1
        if zig + 1 >= LIMIT:
            return None
        codes.append(zig + 1)
    return codes


def _planes(codes: List[int]) -> Tuple[bytes, int]:
    """The codes as byte planes: width = bytes of the largest; plane k holds byte k of every code."""
    width = max(1, (max(codes, default=0).bit_length() + 7) // 8)
    raw = array("Q", codes)
    if raw.itemsize != 8:  # pragma: no cover - every supported platform has 8-byte unsigned long long
        raise RuntimeError("array('Q') is not 8 bytes here")
    if struct.pack("=H", 1) != struct.pack("<H", 1):
        raw.byteswap()
    data = raw.tobytes()
    return b"".join(data[k::8] for k in range(width)), width


def _unpack_values(entry: Any, blob: memoryview) -> List[Any]:
    if not isinstance(entry, dict):
        return entry
    offset, rows, width = entry["c"]
    planes = [blob[offset + k * rows:offset + (k + 1) * rows] for k in range(width)]
    factor = 10 ** entry["s"]
    values: List[Any] = []
    previous = 0
    for row in range(rows):
        code = 0
        for k in range(width - 1, -1, -1):
            code = code * 256 + planes[k][row]
        if code == 0:
            values.append(None)
            continue
        zig = code - 1
        step = zig // 2 if zig % 2 == 0 else -(zig + 1) // 2
        value = previous + step if entry["d"] else step
        previous = value if entry["d"] else previous
        values.append(value if not entry["s"] else float(value) / float(factor))
    return values
