"""Where the reports are in S3, and what is there instead when they are not where the config says.

A wrong s3.prefix is the most common first-deploy mistake, so "nothing found" always shows what exists nearby.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, List, Optional, Tuple

DAY_PART = re.compile(r"^\d{2,4}$")


def children(s3: Any, bucket: str, prefix: str) -> List[str]:
    """Immediate 'folders' under a prefix (names without the prefix and slash)."""
    found: List[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        found.extend(item["Prefix"][len(prefix):].rstrip("/") for item in page.get("CommonPrefixes", []))
    return found


def _newest_day_folder(s3: Any, bucket: str, region_prefix: str) -> Optional[Tuple[date, str]]:
    """The newest YYYY/MM/DD under one region's folder and its prefix, walking only the newest branch of each level."""
    path, parts = region_prefix, []
    for _ in range(3):  # YYYY, MM, DD
        options = sorted(child for child in children(s3, bucket, path) if DAY_PART.match(child))
        if not options:
            return None
        parts.append(options[-1])
        path += options[-1] + "/"
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])), path
    except ValueError:
        return None


def newest_report_day(s3: Any, bucket: str, family_prefix: str) -> Optional[date]:
    """Newest <region>/YYYY/MM/DD under a report family prefix."""
    days = [found[0] for region in children(s3, bucket, family_prefix)
            for found in [_newest_day_folder(s3, bucket, f"{family_prefix}{region}/")] if found]
    return max(days, default=None)


def newest_delivery(s3: Any, bucket: str, family_prefix: str) -> Optional[datetime]:
    """When the newest file of the newest day folder (any region) was written: what a crawl must have seen."""
    newest: Optional[datetime] = None
    for region in children(s3, bucket, family_prefix):
        found = _newest_day_folder(s3, bucket, f"{family_prefix}{region}/")
        if found is None:
            continue
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=found[1]):
            for item in page.get("Contents", []):
                newest = item["LastModified"] if newest is None or item["LastModified"] > newest else newest
    return newest


def describe_nearby(s3: Any, bucket: str, prefix: str) -> str:
    """A one-line account of what exists at the configured prefix, under AWSLogs/ and at the bucket root."""
    notes = []
    for label, path in (("under the prefix", prefix), ("under AWSLogs/", f"{prefix}AWSLogs/"),
                        ("at the bucket root", "")):
        if label == "at the bucket root" and not prefix:
            continue
        found = children(s3, bucket, path)
        shown = ", ".join(f"{child}/" for child in found[:8]) + (" …" if len(found) > 8 else "")
        notes.append(f"{label} s3://{bucket}/{path}: {shown or 'nothing'}")
        if path.endswith("AWSLogs/") and found:
            kiro = [child for child in found if child.isdigit()]
            for account in kiro[:3]:
                notes.append(f"s3://{bucket}/{path}{account}/: "
                             + (", ".join(f"{c}/" for c in children(s3, bucket, f"{path}{account}/")) or "nothing"))
    return "; ".join(notes)
