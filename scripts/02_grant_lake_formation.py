#!/usr/bin/env python3
"""Step 2: grant Lake Formation permissions when Lake Formation governs the catalog; skip cleanly when it does not."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 2
TITLE = "Grant Lake Formation permissions"


def action(ctx: StepContext) -> str:
    from kiro_analytics.lakeformation import grant_missing

    clients = ctx.clients
    result = grant_missing(clients.client("lakeformation"), clients.client("sts"), clients.client("glue"),
                           ctx.recorder, ctx.config, ctx.names, clients.client("iam"))
    for line in result.granted:
        print(f"    granted {line}")
    return result.summary()


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
