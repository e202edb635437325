#!/usr/bin/env python3
"""Step 9: publish quicksight dashboard. Not built yet: it fails loudly instead of pretending (issue 5)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import not_built

STEP = 9
TITLE = "Publish QuickSight dashboard"

if __name__ == "__main__":
    sys.exit(not_built(STEP, TITLE, "issue 5"))
