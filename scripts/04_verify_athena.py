#!/usr/bin/env python3
"""Step 4: check that Athena sees report rows: counts, first and last day, freshness; says where it looked."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from kiro_analytics.cli import StepContext, run_step

STEP = 4
TITLE = "Verify Athena data"


def action(ctx: StepContext) -> str:
    from kiro_analytics.verify import verify

    if ctx.dry_run:
        return "dry run: nothing to verify (the checks only read)"
    clients = ctx.clients
    result = verify(clients.client("athena"), clients.client("glue"), clients.client("s3"), ctx.config,
                    datetime.now(timezone.utc).date())
    for warning in result.warnings:
        print(f"    warning: {warning}")
    print(f"    ingest ledger: {result.ledger.summary() if result.ledger else result.ledger_note}")
    return result.summary()


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
