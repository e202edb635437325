"""Crawl outcomes for moto's Glue: success or failure with the crawler's own ErrorMessage.

moto keeps a crawl RUNNING until its state transition fires and reports LastCrawl.Status as COMPLETED, which the
real service never returns (SUCCEEDED | CANCELLED | FAILED), and it has no ErrorMessage. This stand-in answers in
the real enum, validated against the service model, and lets a test decide how each crawler's crawl ends.
"""

from __future__ import annotations

import contextlib
from typing import Dict, Iterator, Optional

from botocore.session import get_session
from moto.glue.models import FakeCrawler
from moto.moto_api import state_manager

LAST_CRAWL_STATUS = get_session().get_service_model("glue").shape_for("LastCrawlStatus").enum


def register_partitions(crawler: FakeCrawler) -> None:
    """What a catalog-target crawl does: a partition for every <region>/YYYY/MM/DD/HH folder under each table.

    Partitions inherit the table's storage descriptor (the crawlers' InheritFromTable setting), with the folder
    as location. Read straight from moto's S3 backend: this runs inside the emulator, where no client may call out.
    """
    from moto.s3.models import s3_backends

    backend = crawler.backend
    for target in crawler.targets.get("CatalogTargets", []):
        for table_name in target.get("Tables", []):
            try:
                table = backend.get_table(target["DatabaseName"], table_name)
            except Exception:  # noqa: BLE001 - a missing table: the real crawl fails its target, nothing to add
                continue
            descriptor = table.get_version(str(table._current_version))["StorageDescriptor"]
            bucket_name, _, prefix = descriptor["Location"][len("s3://"):].partition("/")
            try:
                bucket = s3_backends[backend.account_id]["aws"].get_bucket(bucket_name)
            except Exception:  # noqa: BLE001 - no bucket, nothing to crawl (the real crawl would log it)
                continue
            folders = {tuple(key[len(prefix):].split("/")[:5]) for key in list(bucket.keys)
                       if key.startswith(prefix) and key.count("/") - prefix.count("/") >= 5}
            for values in sorted(folders):
                if str(list(values)) in table.partitions:
                    continue
                location = f"s3://{bucket_name}/{prefix}{'/'.join(values)}/"
                table.create_partition({"Values": list(values),
                                        "StorageDescriptor": dict(descriptor, Location=location)})


@contextlib.contextmanager
def crawls(failures: Optional[Dict[str, str]] = None, progression: str = "immediate") -> Iterator[None]:
    """Crawls finish at once (or per ``progression``); a crawler named in ``failures`` fails with that message."""
    failures = failures or {}
    original = FakeCrawler.as_dict

    def as_dict(self):
        data = original(self)
        last = data.get("LastCrawl")
        if last:
            status = {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED"}.get(last["Status"], last["Status"])
            if status == "SUCCEEDED" and self.name in failures:
                status = "FAILED"
                last["ErrorMessage"] = failures[self.name]
            if status not in LAST_CRAWL_STATUS and status != "RUNNING":
                raise AssertionError(f"stand-in produced LastCrawl.Status {status!r}, not in {LAST_CRAWL_STATUS}")
            if status == "RUNNING":
                del data["LastCrawl"]  # the real service shows a running crawl only in State
            else:
                last["Status"] = status
                if status == "SUCCEEDED":
                    register_partitions(self)
        return data

    state_manager.set_transition(model_name="glue::crawl", transition={"progression": progression, "times": 1,
                                                                        "seconds": 0})
    FakeCrawler.as_dict = as_dict
    try:
        yield
    finally:
        FakeCrawler.as_dict = original
        # Transitions outlive mock_aws blocks and server resets: always put the default back.
        state_manager.unset_transition(model_name="glue::crawl")


def set_progression(progression: str) -> None:
    state_manager.set_transition(model_name="glue::crawl", transition={"progression": progression, "times": 1,
                                                                        "seconds": 0})
