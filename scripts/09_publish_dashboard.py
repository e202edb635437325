#!/usr/bin/env python3
"""Step 9: the dashboard: create or update, wait for the new version, publish it, grant access."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 9
TITLE = "Publish QuickSight dashboard"


def action(context: StepContext) -> str:
    from kiro_analytics.quicksight import dashboard

    return dashboard.deploy(context)


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
