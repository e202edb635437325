"""The shared entry point of the numbered scripts: flags, config, clients, one action, one result line.

This is the only layer (with deploy.sh) that talks to the user and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

from .config import Config, load_config
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, KiroError, error_code, error_message
from .names import Names


@dataclass
class StepContext:
    step: int
    config: Config
    names: Names
    clients: "object"  # kiro_analytics.aws.Clients (imported lazily so config errors need no boto3)
    recorder: "object"  # kiro_analytics.plan.Recorder
    dry_run: bool
    out_dir: Path
    args: Optional[argparse.Namespace] = None


Action = Callable[[StepContext], str]


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default="config.yaml", help="config file (default: config.yaml)")
    parser.add_argument("--dry-run", action="store_true",
                        help="change nothing; write every mutating request to <out>/requests/")
    parser.add_argument("--out", default="build", help="folder for dry-run requests and artifacts (default: build)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the result line")
    return parser


def setup_logging(quiet: bool = False) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="    %(message)s", stream=sys.stdout)
    # botocore and urllib3 chatter would drown the progress lines.
    for noisy in ("botocore", "boto3", "urllib3", "pyathena"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def describe_error(exc: BaseException) -> str:
    """One readable line for AWS and local errors; the service's own message is kept verbatim."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
    except ImportError:  # pragma: no cover - boto3 is a hard dependency of the AWS path
        return str(exc)
    if isinstance(exc, ClientError):
        return f"AWS {exc.operation_name} failed: {error_code(exc) or 'Error'}: {error_message(exc)}"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found: set aws.profile in the config, or AWS_PROFILE / AWS_ACCESS_KEY_ID"
    if isinstance(exc, NoRegionError):
        return "no AWS region: set aws.region in the config"
    if isinstance(exc, BotoCoreError):
        return f"AWS client error: {exc}"
    return str(exc)


def run_step(number: int, title: str, action: Action, argv: Optional[List[str]] = None) -> int:
    """Entry point of numbered script ``number``: a failure says how to resume the deploy there (deploy.sh passes
    its own resume command, e.g. with --only, in KIRO_RESUME_COMMAND)."""
    resume = os.environ.get("KIRO_RESUME_COMMAND") or f"./deploy.sh --from {number}"
    return run_command(f"step {number} ({title})", resume, action, argv,
                       number=number, description=f"Step {number}: {title}")


def run_command(label: str, resume: str, action: Action, argv: Optional[List[str]] = None, number: int = 0,
                description: str = "", parser: Optional[argparse.ArgumentParser] = None) -> int:
    """Flags, config, clients, the action, one result line; every failure becomes one line and an exit code."""
    parser = parser or base_parser(description or label)
    args = parser.parse_args(argv)
    setup_logging(args.quiet)
    try:
        config = load_config(args.config)
        from .aws import Clients
        from .plan import Recorder

        clients = Clients(config)
        recorder = Recorder(dry_run=args.dry_run, out_dir=Path(args.out), step=number)
        if args.dry_run:
            clients.register("before-call", recorder.guard)
        context = StepContext(step=number, config=config, names=Names(config), clients=clients,
                              recorder=recorder, dry_run=args.dry_run, out_dir=Path(args.out), args=args)
        result = action(context)
    except KeyboardInterrupt:
        print(f"{label} interrupted; resume with {resume}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KiroError as exc:
        print(f"error: {label}: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # every AWS failure becomes one readable line, not a traceback
        if type(exc).__module__.startswith(("botocore", "boto3", "pyathena")):
            print(f"error: {label}: {describe_error(exc)}", file=sys.stderr)
            return EXIT_FAILED
        raise
    prefix = "[dry-run] " if args.dry_run else ""
    print(f"{prefix}{label.split(' (')[0]} ok: {result}")
    return EXIT_OK


__all__ = ["StepContext", "describe_error", "run_command", "run_step", "setup_logging"]
