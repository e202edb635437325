#!/usr/bin/env python3
"""Step 3: run the discovery crawlers (all at once), wait, and read back what each crawl did (metrics, table, log).

Reading does not depend on them (the raw tables project their partitions); a crawl that leaves its table deprecated
or adds nothing fails this step with the crawler's own log lines.
"""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 3
TITLE = "Run Glue crawlers"


def action(ctx: StepContext) -> str:
    from kiro_analytics.crawlers import run_crawlers

    clients = ctx.clients
    result = run_crawlers(clients.client("glue"), ctx.recorder, ctx.names, ctx.config, clients.client("s3"),
                          clients.client("logs"))
    if all(crawl.how == "current" for crawl in result.values()):
        return "unchanged: every crawler crawled after the newest report file; " + "; ".join(
            crawl.summary() for _, crawl in sorted(result.items()))
    return "; ".join(crawl.summary() for _, crawl in sorted(result.items()))


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
