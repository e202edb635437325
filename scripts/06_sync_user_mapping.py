#!/usr/bin/env python3
"""Step 6: write the user id → name map from Identity Center (the same code the scheduled Lambda runs), then run
the deployed function once, as its schedule will.

Run it by hand any time: .venv/bin/python scripts/06_sync_user_mapping.py
"""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 6
TITLE = "Sync user-name map"


def action(ctx: StepContext) -> str:
    from kiro_analytics.deployed_sync import invoke_deployed_sync
    from kiro_analytics.identity_sync import settings_from_config, sync_user_mapping

    # Under --dry-run the report query (an Athena write of results) is skipped; the previous map's ids are used.
    athena = None if ctx.dry_run else ctx.clients.client("athena")
    result = sync_user_mapping(athena, ctx.clients.identitystore(), ctx.clients.client("s3"),
                               settings_from_config(ctx.config), call=ctx.recorder.call)
    calls = ", ".join(f"{op} x{count}" for op, count in sorted(result.identity_calls.items()))
    print(f"    Identity Store calls: {calls or 'none'}")
    deployed = invoke_deployed_sync(ctx.clients.sync_invoker(), ctx.recorder, ctx.names)
    return f"{result.summary()}; {deployed.summary()}"


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
