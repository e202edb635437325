#!/usr/bin/env python3
"""Step 5: create athena views. Not built yet: it fails loudly instead of pretending (issue 4)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import not_built

STEP = 5
TITLE = "Create Athena views"

if __name__ == "__main__":
    sys.exit(not_built(STEP, TITLE, "issue 4"))
