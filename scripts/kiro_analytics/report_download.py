"""./deploy.sh --verify, the S3 side: copy the report files the raw tables read into a local folder laid out like
the bucket (what --local --data reads), optionally only the day folders of a date window. Read-only: GetObject and
ListObjectsV2, nothing in the bucket is written, moved or deleted.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Optional

from .config import Config
from .tables import parse_table_ddl

_DAY = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")


def _day_of(key: str) -> Optional[date]:
    match = _DAY.search(key)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def report_locations(tables: Iterable[Any]) -> list:
    """(bucket, key prefix) of every raw report table (not the name map or roster, which the sync writes)."""
    found = []
    for table in tables:
        if table.name.endswith("_raw"):
            bucket, _, prefix = parse_table_ddl(table.sql).location[len("s3://"):].partition("/")
            found.append((bucket, prefix))
    return found


def download_reports(s3: Any, config: Config, tables: Iterable[Any], target: Path,
                     low: Optional[date] = None, high: Optional[date] = None) -> int:
    """Files copied into ``target``/<key>; with a window, only the folders of days from ``low`` to ``high``
    (crosscheck.folder_window: the same folders Athena is asked to read)."""
    copied = 0
    for bucket, prefix in report_locations(tables):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                day = _day_of(key[len(prefix) - 1:])
                if (low and (day is None or day < low)) or (high and (day is None or day > high)):
                    continue
                path = target / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                copied += 1
    return copied
