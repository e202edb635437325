#!/usr/bin/env python3
"""Step 3: run glue crawlers. Not built yet: it fails loudly instead of pretending (issue 4)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import not_built

STEP = 3
TITLE = "Run Glue crawlers"

if __name__ == "__main__":
    sys.exit(not_built(STEP, TITLE, "issue 4"))
