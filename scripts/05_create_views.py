#!/usr/bin/env python3
"""Step 5: create or replace the Athena views of sql/views in dependency order; unchanged views are skipped."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 5
TITLE = "Create Athena views"


def action(ctx: StepContext) -> str:
    from kiro_analytics.views import deploy

    return deploy(ctx)


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
