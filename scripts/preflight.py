#!/usr/bin/env python3
"""Preflight: read-only checks that a deploy can work (./deploy.sh --check, and before every deploy)."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, run_command
from kiro_analytics.errors import StepFailed
from kiro_analytics.preflight import FAIL, WARN, run_checks


def action(ctx: StepContext) -> str:
    checks = run_checks(ctx.config, ctx.clients.fail_fast_clients())
    for check in checks:
        print(f"  {check.status:<4}  {check.name:<15} {check.message}")
        if check.fix and check.status != "OK":
            print(f"        {'':<15} fix: {check.fix}")
    failed = [check.name for check in checks if check.status == FAIL]
    if failed:
        raise StepFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}; fix them and run ./deploy.sh --check")
    warnings = sum(check.status == WARN for check in checks)
    return f"{len(checks)} checks passed" + (f" ({warnings} warning(s))" if warnings else "")


if __name__ == "__main__":
    sys.exit(run_command("preflight", "./deploy.sh --check", action))
