#!/usr/bin/env python3
"""Step 8: the four QuickSight analyses, created or updated from quicksight/sheets/ (unchanged ones skipped)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 8
TITLE = "Create QuickSight analyses"


def action(context: StepContext) -> str:
    from kiro_analytics.quicksight import analyses

    return analyses.deploy(context)


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
