"""Which report objects Athena reads, and how it reads their bytes, mirrored for the local engine.

Athena's rules decide, not ours (sources in tests/README.md, "What the local engine mirrors"):

* Every object under a table's partition folders is read, whatever its name: `.csv`, `.CSV`, `.txt`, no
  extension ("Athena reads all data stored in the Amazon S3 folder that you specify",
  https://docs.aws.amazon.com/athena/latest/ug/tables-location-format.html), except names starting with `_` or
  `.`, which Athena treats as hidden
  (https://docs.aws.amazon.com/athena/latest/ug/troubleshooting-athena.html, "Athena cannot read hidden files").
* Text files are decompressed by their name's suffix (Hadoop's CompressionCodecFactory picks "the codec for the
  given file based on its filename suffix",
  https://hadoop.apache.org/docs/stable/api/org/apache/hadoop/io/compress/CompressionCodecFactory.html): `.gz`
  and `.bz2` are read here; the other formats Athena reads for text (LZ4, LZO, Snappy, ZSTD,
  https://docs.aws.amazon.com/athena/latest/ug/compression-support-hive.html) are skipped with a note, since
  Kiro writes none of them.
* Bytes that are not UTF-8 reach the SQL as U+FFFD, where report_lines rejects the line ('not UTF-8'): in
  Athena its from_utf8(to_utf8(line)) replaces them ("Invalid UTF-8 sequences are replaced with the Unicode
  replacement character U+FFFD", https://trino.io/docs/current/functions/string.html#from_utf8); here the file
  is decoded with the same replacement, and the first such line is named in a note.

DuckDB then reads plain UTF-8 text only: a file that needed decompressing or decoding is staged as a copy whose
path mirrors the original under a scratch folder, and the raw table's `$path` names the original.
"""

from __future__ import annotations

import bz2
import gzip
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from ..errors import InputError

DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress}
UNREADABLE_HERE = (".lz4", ".lzo", ".snappy", ".zst", ".zstd", ".deflate")


@dataclass
class ReadPlan:
    """The files DuckDB reads: originals, and staged copies standing for an original (see module doc)."""

    originals: List[Path] = field(default_factory=list)
    staged: List[Tuple[Path, Path]] = field(default_factory=list)  # (copy DuckDB reads, original it stands for)
    notes: List[str] = field(default_factory=list)

    @property
    def paths(self) -> List[Path]:
        return self.originals + [copy for copy, _ in self.staged]

    @property
    def files_read(self) -> int:
        return len(self.originals) + len(self.staged)


def athena_reads(path: Path) -> bool:
    """True for an object Athena reads as table data: a non-empty file whose name is not hidden."""
    return not path.name.startswith(("_", ".")) and path.is_file() and path.stat().st_size > 0


def _suffix(path: Path) -> str:
    # Hadoop matches the suffix as written: report.csv.GZ is not a gzip file to Athena, and is not one here.
    return "." + path.name.rsplit(".", 1)[-1] if "." in path.name else ""


def _first_bad_line(data: bytes) -> Tuple[int, int, int]:
    """(line number, column, byte) of the first byte sequence that is not UTF-8."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return number, exc.start + 1, line[exc.start]
    return 0, 0, 0


def _decoded(path: Path) -> Tuple[Optional[bytes], Optional[str]]:
    """(UTF-8 bytes to stage, note) for a file DuckDB cannot read as it is; (None, None) when it can."""
    raw = path.read_bytes()
    suffix = _suffix(path)
    data = raw
    if suffix in DECOMPRESS:
        try:
            data = DECOMPRESS[suffix](raw)
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise InputError(f"{path}: cannot decompress it as {suffix[1:]} ({exc}); Athena's queries would fail on "
                             "it too: replace it with a good copy of the export") from None
    try:
        data.decode("utf-8")
        return (None, None) if data is raw else (data, None)
    except UnicodeDecodeError:
        line, column, byte = _first_bad_line(data)
        note = (f"{path}: line {line} is not UTF-8 (byte 0x{byte:02x} at column {column}); lines with such bytes "
                "are rejected as 'not UTF-8' in the ingest ledger")
        return data.decode("utf-8", errors="replace").encode("utf-8"), note


def plan_reads(files: List[Path], base: Path, scratch: Path) -> ReadPlan:
    """Sort ``files`` (all under ``base``) into originals DuckDB reads directly and staged copies under ``scratch``."""
    plan = ReadPlan()
    for path in files:
        if not athena_reads(path):
            continue
        if _suffix(path) in UNREADABLE_HERE:
            plan.notes.append(f"{path}: compressed as {_suffix(path)[1:]}, which Athena reads but the local engine "
                              "does not; skipped (decompress a copy into another folder to read it locally)")
            continue
        data, note = _decoded(path)
        if note:
            plan.notes.append(note)
        if data is None:
            plan.originals.append(path)
            continue
        copy = scratch / path.relative_to(base)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(data)
        plan.staged.append((copy, path))
    return plan


def remove_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
