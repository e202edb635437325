#!/usr/bin/env python3
"""Step 3: run the Glue crawlers (all at once) so the tables know every day partition; waits for them."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 3
TITLE = "Run Glue crawlers"


def action(ctx: StepContext) -> str:
    from kiro_analytics.crawlers import run_crawlers

    result = run_crawlers(ctx.clients.client("glue"), ctx.recorder, ctx.names, s3=ctx.clients.client("s3"))
    if all(how == "current" for how in result.values()):
        return "unchanged: every crawler's partitions are current for the last week"
    return "; ".join(f"{name} partitions current" if how == "current"
                     else f"{name} {how}" + ("" if ctx.dry_run else ", succeeded")
                     for name, how in sorted(result.items()))


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
