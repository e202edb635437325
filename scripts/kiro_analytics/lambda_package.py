"""Build the user-sync Lambda zip from this package, byte for byte reproducible.

Only the modules the sync and the weekly digest need go in (no yaml, pyathena, duckdb or sqlglot on that path;
the Lambda runtime provides boto3). Fixed timestamps and sorted entries make the zip's sha256 depend on the code
alone, so the S3 key (which carries it) changes exactly when the code does, and CloudFormation updates the function.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent.parent
MODULES: Tuple[str, ...] = ("__init__.py", "athena.py", "aws.py", "digest.py", "errors.py", "facts.py",
                            "identity_sync.py", "lambda_handler.py", "progress.py", "seat_roster.py", "templating.py",
                            "user_csv.py")
QUERIES: Tuple[str, ...] = ("digest_activity.sql", "digest_forecast.sql", "digest_freshness.sql", "digest_seats.sql",
                            "distinct_user_ids.sql", "fact_files.sql")
HANDLER = "kiro_analytics.lambda_handler.handler"
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class LambdaPackage:
    body: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.body)


def _entries() -> Tuple[Tuple[str, Path], ...]:
    files = [(f"kiro_analytics/{name}", PACKAGE_DIR / name) for name in MODULES]
    files += [(f"sql/queries/{name}", ROOT / "sql" / "queries" / name) for name in QUERIES]
    # The fact tables' delete and load statements, which the daily facts refresh renders (facts.fact_statement).
    files += [(f"sql/facts/{path.name}", path) for path in sorted((ROOT / "sql" / "facts").glob("*.sql"))]
    return tuple(sorted(files))


def build_package() -> LambdaPackage:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, path in _entries():
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            # Normalise line endings so a checkout with CRLF gives the same digest.
            archive.writestr(info, path.read_bytes().replace(b"\r\n", b"\n"))
    body = buffer.getvalue()
    return LambdaPackage(body=body, sha256=hashlib.sha256(body).hexdigest())
