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
import re
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


# The compressed block is embedded in the page as text of 7-bit characters (issue 12): base64 spends 8 bits of the
# page on every 6 bits of data (30.0 MiB of the 20k dashboard for 22.5 MiB of gzip); here 8 bits carry 7. The data's
# bits, most significant first, are cut into septets, each written as the ASCII character of that code, except the
# four an HTML parser or a newline translation would change or that could end the <script> element (NUL, LF, CR,
# "<"): such a septet and the one after it are written as one character U+0100 + (which of the four << 7 | next),
# two bytes of UTF-8 for 14 bits. The text starts with the data's length in bytes and ":".
ESCAPED = (0x00, 0x0A, 0x0D, 0x3C)
_ESCAPE_RE = re.compile(b"[\x00\n\r<]")
_ESCAPE_BASE = 0x100


def _or(left: bytes, right: bytes) -> bytes:
    return (int.from_bytes(left, "little") | int.from_bytes(right, "little")).to_bytes(len(left), "little")


def _table(function: Any) -> bytes:
    return bytes(function(value) & 0xFF for value in range(256))


def to_text(data: bytes) -> str:
    """``data`` as septet text (see above); from_text reads it back, dashboard.js's decodeText too."""
    padded = bytes(data) + bytes(-len(data) % 7)
    column = [padded[j::7] for j in range(7)]
    septets = bytearray(len(padded) // 7 * 8)
    septets[0::8] = column[0].translate(_table(lambda x: x >> 1))
    for k in range(1, 7):
        high = column[k - 1].translate(_table(lambda x, k=k: (x & ((1 << k) - 1)) << (7 - k)))
        septets[k::8] = _or(high, column[k].translate(_table(lambda x, k=k: x >> (k + 1))))
    septets[7::8] = column[6].translate(_table(lambda x: x & 0x7F))
    stream = bytes(septets[:(len(data) * 8 + 6) // 7])
    pieces: List[str] = [f"{len(data)}:"]
    position = 0
    while True:
        match = _ESCAPE_RE.search(stream, position)
        if match is None:
            pieces.append(stream[position:].decode("ascii"))
            break
        at = match.start()
        pieces.append(stream[position:at].decode("ascii"))
        following = stream[at + 1] if at + 1 < len(stream) else 0
        pieces.append(chr(_ESCAPE_BASE + (ESCAPED.index(stream[at]) << 7 | following)))
        position = at + 2
    return "".join(pieces)


_UNESCAPE = {_ESCAPE_BASE + (which << 7 | following): chr(value) + chr(following)
             for which, value in enumerate(ESCAPED) for following in range(128)}


def from_text(text: str) -> bytes:
    """The inverse of to_text."""
    length_text, _, body = text.partition(":")
    length = int(length_text)
    stream = body.translate(_UNESCAPE).encode("latin-1")
    stream += bytes(-len(stream) % 8)
    group = [stream[k::8] for k in range(8)]
    data = bytearray(len(stream) // 8 * 7)
    for j in range(7):
        high = group[j].translate(_table(lambda x, j=j: x << (j + 1)))
        data[j::7] = _or(high, group[j + 1].translate(_table(lambda x, j=j: x >> (6 - j))))
    return bytes(data[:length])
