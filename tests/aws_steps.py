"""Helpers shared by the AWS step tests: load a numbered script's module and build its StepContext in-process."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from kiro_analytics.aws import Clients
from kiro_analytics.cli import StepContext
from kiro_analytics.names import Names
from kiro_analytics.plan import Recorder

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def script(number: int) -> ModuleType:
    path = next(SCRIPTS.glob(f"{number:02d}_*.py"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def context(config, step: int, out_dir: Path, dry_run: bool = False) -> StepContext:
    clients = Clients(config)
    recorder = Recorder(dry_run=dry_run, out_dir=out_dir, step=step)
    if dry_run:
        clients.register("before-call", recorder.guard)
    return StepContext(step=step, config=config, names=Names(config), clients=clients, recorder=recorder,
                       dry_run=dry_run, out_dir=out_dir)
