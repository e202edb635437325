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
