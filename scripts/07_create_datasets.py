#!/usr/bin/env python3
"""Step 7: the Athena data source and one SPICE dataset per view (daily refresh; refreshed now when changed)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_step

STEP = 7
TITLE = "Create QuickSight data source and datasets"


def action(context: StepContext) -> str:
    from kiro_analytics.quicksight import datasets

    return datasets.deploy(context)


if __name__ == "__main__":
    sys.exit(run_step(STEP, TITLE, action))
