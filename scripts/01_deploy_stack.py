#!/usr/bin/env python3
"""Step 1: deploy cloudformation stack. Not built yet: it fails loudly instead of pretending (issue 4)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import not_built

STEP = 1
TITLE = "Deploy CloudFormation stack"

if __name__ == "__main__":
    sys.exit(not_built(STEP, TITLE, "issue 4"))
