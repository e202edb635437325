"""The shape of the codebase: thin scripts, dependencies pointing one way, no SQL hidden in Python."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator, Set

import pytest
from conftest import ROOT

PACKAGE = ROOT / "scripts" / "kiro_analytics"
LOCAL_ONLY = {"duckdb", "sqlglot"}


def modules(folder: Path) -> Iterator[Path]:
    yield from sorted(folder.rglob("*.py"))


def imported(path: Path) -> Set[str]:
    names: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" if base.endswith(".") is False else base + alias.name
                         for alias in node.names)
    return names


def test_local_engine_never_imports_boto3() -> None:
    for path in modules(PACKAGE / "local"):
        bad = {name for name in imported(path) if name.split(".")[0] in ("boto3", "botocore", "pyathena")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_aws_path_never_imports_the_local_engine() -> None:
    for path in modules(PACKAGE):
        if "local" in path.relative_to(PACKAGE).parts:
            continue
        for name in imported(path):
            assert name.split(".")[0] not in LOCAL_ONLY, f"{path.relative_to(ROOT)} imports {name}"
            assert ".local" not in name and not name.startswith("kiro_analytics.local"), (
                f"{path.relative_to(ROOT)} imports the local engine ({name})")


@pytest.mark.parametrize("script", sorted((ROOT / "scripts").glob("0[1-9]_*.py")), ids=lambda p: p.name)
def test_numbered_scripts_are_thin_adapters(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 60, "a numbered script parses flags and calls the package; move logic there"
    names = imported(script)
    assert not {name for name in names if name.split(".")[0] in ("boto3", "botocore", "pyathena", "duckdb")}
    assert "run_step(" in text


SQL_IN_STRING = re.compile(r"^\s*(SELECT|CREATE|INSERT|DROP|ALTER|WITH)\b.*\b(FROM|TABLE|VIEW|AS)\b", re.I | re.S)


def docstrings(tree: ast.AST) -> Set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_sql_text_in_python() -> None:
    for path in modules(ROOT / "scripts"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 20
            # Regular expressions that recognise DDL (they contain \s) are parsing, not SQL text.
            if is_text and "\\s" not in node.value:
                assert not SQL_IN_STRING.match(node.value), (
                    f"{path.relative_to(ROOT)}:{node.lineno} holds SQL; put it in sql/")


def test_no_grab_bag_modules() -> None:
    for path in modules(ROOT / "scripts"):
        assert path.stem not in ("utils", "common", "helpers", "misc"), path


# The one entry point that may use both sides: ./deploy.sh --verify compares Athena with the local engine.
BOTH_SIDES = {"crosscheck.py"}
AWS_SIDE = {"boto3", "botocore", "pyathena"}


def _uses_local(names: Set[str]) -> bool:
    return any(name.startswith(("kiro_analytics.local", ".local")) or name.split(".")[0] in LOCAL_ONLY
               for name in names)


def _uses_aws(names: Set[str]) -> bool:
    aws_modules = ("kiro_analytics.aws", "kiro_analytics.athena", "kiro_analytics.report_download",
                   "kiro_analytics.cli")
    return any(name.split(".")[0] in AWS_SIDE or name.startswith(aws_modules) for name in names)


def test_only_the_verify_entry_point_uses_both_the_aws_side_and_the_local_engine() -> None:
    both = {path.name for path in sorted((ROOT / "scripts").glob("*.py"))
            if _uses_local(imported(path)) and _uses_aws(imported(path))}
    assert both == BOTH_SIDES
    # ...and the comparison it runs lives in a module that imports neither side.
    comparison = imported(PACKAGE / "crosscheck.py")
    assert not _uses_local(comparison) and not {n for n in comparison if n.split(".")[0] in AWS_SIDE}
    assert not any(name.startswith((".aws", ".athena", ".report_download")) for name in comparison)
