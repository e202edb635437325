#!/usr/bin/env python3
"""Step 5: create or replace the Athena views of sql/views in dependency order; unchanged views are skipped."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 5
TITLE = "Create Athena views"


def action(ctx: StepContext) -> str:
    from kiro_analytics.lakeformation import grant_missing
    from kiro_analytics.sqlfiles import load_views
    from kiro_analytics.views import apply_views, pyathena_executor

    config, clients = ctx.config, ctx.clients
    execute = None if ctx.dry_run else pyathena_executor(clients.session, config.region, config.workgroup,
                                                         config.database)
    result = apply_views(clients.client("glue"), clients.client("athena"), ctx.recorder, load_views(config),
                         config.database, config.workgroup, execute)
    # Views exist only from here on, so their Lake Formation SELECT grants (when LF governs) follow them here.
    grants = grant_missing(clients.client("lakeformation"), clients.client("sts"), clients.client("glue"),
                           ctx.recorder, config, ctx.names)
    counts = {state: sum(1 for s in result.values() if s == state) for state in sorted(set(result.values()))}
    grant_note = f"; Lake Formation: {len(grants.granted)} grant(s) added" if grants.in_charge else ""
    return f"{len(result)} view(s): " + ", ".join(f"{n} {state}" for state, n in counts.items()) + grant_note


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
