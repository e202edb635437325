#!/usr/bin/env python3
"""Step 8: create quicksight analyses. Not built yet: it fails loudly instead of pretending (issue 5)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import not_built

STEP = 8
TITLE = "Create QuickSight analyses"

if __name__ == "__main__":
    sys.exit(not_built(STEP, TITLE, "issue 5"))
