#!/usr/bin/env python3
"""Step 1: upload the user-sync code, create or update the CloudFormation stack, create the Athena tables.

Idempotent: an unchanged stack is "unchanged"; tables are recreated only when their DDL differs from Glue.
"""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 1
TITLE = "Deploy CloudFormation stack"


def action(ctx: StepContext) -> str:
    from kiro_analytics.sqlfiles import load_tables
    from kiro_analytics.stack import deploy

    result = deploy(ctx.clients, ctx.recorder, ctx.config, ctx.names, load_tables(ctx.config))
    for key, value in sorted(result.outputs.items()):
        print(f"    {key}: {value}")
    for table, state in sorted(result.tables.items()):
        print(f"    table {table}: {state}")
    return result.summary()


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
