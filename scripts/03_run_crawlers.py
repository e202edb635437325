#!/usr/bin/env python3
"""Step 3: run the Glue crawlers (all at once) so the tables know every day partition; waits for them."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 3
TITLE = "Run Glue crawlers"


def action(ctx: StepContext) -> str:
    from kiro_analytics.crawlers import run_crawlers

    result = run_crawlers(ctx.clients.client("glue"), ctx.recorder, ctx.names)
    return "; ".join(f"{name} {how}, succeeded" if not ctx.dry_run else f"{name} {how}"
                     for name, how in sorted(result.items()))


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
