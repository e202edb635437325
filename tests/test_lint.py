"""Linters run inside the test command: ruff on all Python, shellcheck on all bash."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List

from conftest import ROOT

BIN = ROOT / ".venv" / "bin"


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is missing from .venv: run ./tests/run.sh, which installs requirements-dev.txt"
    return str(path)


def bash_files() -> List[Path]:
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in tracked:
        path = ROOT / name
        if path.is_file() and (name.endswith(".sh") or path.read_bytes()[:40].startswith(b"#!/usr/bin/env bash")):
            found.append(path)
    return found


def test_ruff_is_clean() -> None:
    result = subprocess.run([tool("ruff"), "check", "--no-cache", "scripts", "tests", "bench"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_is_clean() -> None:
    files = bash_files()
    assert {"deploy.sh", "run"} <= {path.name for path in files}
    result = subprocess.run([tool("shellcheck"), "--severity=style", *map(str, files)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
