#!/usr/bin/env python3
"""Teardown: remove everything the deploy created, in reverse order. Never touches the report files."""

from __future__ import annotations

import sys

from kiro_analytics.cli import StepContext, base_parser, run_command
from kiro_analytics.errors import InputError
from kiro_analytics.sqlfiles import load_views
from kiro_analytics.teardown import Teardown, signed_in_as


def action(ctx: StepContext) -> str:
    caller = signed_in_as(ctx)  # credentials first: no question the account cannot act on
    if not ctx.dry_run and not ctx.args.yes:
        if not sys.stdin.isatty():
            raise InputError("no terminal to ask for confirmation; nothing was deleted. Rerun with --yes to delete "
                             "without asking (or --dry-run to list what would go)")
        try:
            answer = input(f"Delete the stack {ctx.names.stack}, its tables, views and QuickSight assets in "
                           f"{ctx.config.account_id}/{ctx.config.region} (as {caller})? Reports stay untouched. "
                           "Type 'yes': ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            raise InputError("cancelled; nothing was deleted")
    views = [view.name for view in load_views(ctx.config)]
    return Teardown(ctx, views).run().summary()


if __name__ == "__main__":
    parser = base_parser("Remove everything ./deploy.sh created (reports are never touched)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sys.exit(run_command("destroy", "./destroy.sh", action, parser=parser))
