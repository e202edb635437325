"""Step 3: start every crawler at once, wait for all of them, report each one's own error message.

A crawler that is already running (its schedule fired, or another deploy started it) is waited for, not an error.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .errors import StepFailed
from .names import Names
from .progress import DEFAULT_CLOCK, Clock, wait_until

CRAWL_TIMEOUT = 30 * 60


def _crawler(glue: Any, name: str) -> Dict[str, Any]:
    try:
        return glue.get_crawler(Name=name)["Crawler"]
    except glue.exceptions.EntityNotFoundException:
        raise StepFailed(f"crawler {name} does not exist: run step 1 (./deploy.sh --only 1) first") from None


def _start_time(crawler: Dict[str, Any]) -> Optional[Any]:
    return (crawler.get("LastCrawl") or {}).get("StartTime")


def run_crawlers(glue: Any, recorder: Any, names: Names, timeout: float = CRAWL_TIMEOUT,
                 clock: Clock = DEFAULT_CLOCK) -> Dict[str, str]:
    """Returns crawler name → 'started' | 'was running', once every crawl finished; raises on any failure."""
    before: Dict[str, Optional[Any]] = {}
    how: Dict[str, str] = {}
    for name in names.crawlers.values():
        crawler = _crawler(glue, name)
        before[name] = _start_time(crawler)
        if crawler.get("State") == "READY":
            try:
                recorder.call(glue, "StartCrawler", Name=name)
                how[name] = "started"
            except glue.exceptions.CrawlerRunningException:
                how[name] = "was running"
        else:
            how[name] = "was running"
            before[name] = None  # its current crawl is the one to wait for
    if recorder.dry_run:
        return {name: "would start" for name in how}

    finished: Dict[str, Dict[str, Any]] = {}

    def poll():
        states = []
        for name in how:
            if name in finished:
                continue
            crawler = _crawler(glue, name)
            started = _start_time(crawler)
            if crawler.get("State") == "READY" and started is not None and (before[name] is None
                                                                            or started > before[name]):
                finished[name] = crawler["LastCrawl"]
            else:
                states.append(f"{name} {crawler.get('State', '?')}")
        done = len(finished) == len(how)
        return done, ", ".join(states) or "all finished", None

    wait_until(poll, f"{len(how)} crawler(s)", timeout=timeout, interval=15, clock=clock,
               hint="The crawlers keep running in Glue; rerun step 3 to wait again (it does not start them twice).")
    failures = [f"{name}: {crawl.get('Status')}: {crawl.get('ErrorMessage') or 'no message'} "
                f"(log group {crawl.get('LogGroup', '/aws-glue/crawlers')}, stream {crawl.get('LogStream', name)})"
                for name, crawl in sorted(finished.items()) if crawl.get("Status") != "SUCCEEDED"]
    if failures:
        raise StepFailed("crawler(s) failed:\n" + "\n".join(f"  - {line}" for line in failures))
    return how
