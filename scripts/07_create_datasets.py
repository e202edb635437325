#!/usr/bin/env python3
"""Step 7: create quicksight data source and datasets. Not built yet: it fails loudly instead of pretending (issue 5)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import not_built

STEP = 7
TITLE = "Create QuickSight data source and datasets"

if __name__ == "__main__":
    sys.exit(not_built(STEP, TITLE, "issue 5"))
