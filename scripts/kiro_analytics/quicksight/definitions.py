"""Load the QuickSight definitions in ``quicksight/`` and fill their placeholders, strictly.

The JSON files are the single source of truth for both renderers: the QuickSight deploy (steps 7-9) and the local
HTML dashboard. The dashboard and the analyses are expanded from the visual catalogue (``catalogue.py``); the
datasets and labels are read as written. This module therefore imports no boto3. Placeholders:

- ``${label:<key>}``   a visible string, from ``quicksight/labels/<language>.json``;
- ``${<name>}`` / ``${<kind>:<key>}`` anything else (``${dataset_arn:daily_summary}``, ``${database}``), from the
  ``values`` mapping, keyed by the text between the braces.

An unknown key, a malformed placeholder or a ``${`` left over is an InputError naming the file and the JSON path,
so a typo in a definition fails before any request is built.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ..errors import InputError
from ..names import ANALYSES
from . import catalogue

ROOT = Path(__file__).resolve().parents[3] / "quicksight"
LANGUAGES: Tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
DASHBOARD = "dashboard"

# Both renderers keep this table; a visual type outside it is an error, never silently skipped.
SUPPORTED_VISUALS: Tuple[str, ...] = ("KPIVisual", "LineChartVisual", "BarChartVisual", "PieChartVisual", "TableVisual")

PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z0-9_.-]+)?)\}")


def definition_names() -> Tuple[str, ...]:
    """Every asset with a definition file: the dashboard and the analyses."""
    return (DASHBOARD, *ANALYSES)


def definition_path(name: str) -> Path:
    """The sheet list the definition is expanded from (errors in an expanded definition name this file)."""
    if name == DASHBOARD or name in ANALYSES:
        return catalogue.sheets_path(name)
    raise InputError(f"unknown QuickSight definition {name!r}; known: {', '.join(definition_names())}")


def dataset_path(view: str) -> Path:
    return ROOT / "datasets" / f"{view}.json"


def dataset_files() -> Tuple[str, ...]:
    """Views that have a dataset definition file."""
    return tuple(sorted(path.stem for path in (ROOT / "datasets").glob("*.json")))


_read_json = catalogue.read_json


def load_raw(name: str) -> Dict[str, Any]:
    """The expanded definition: {"Name": ..., "Definition": ...} with placeholders unfilled (a fresh copy)."""
    definition_path(name)  # an unknown name is an error naming the known ones
    columns = {view: dataset_column_names(view) for view in dataset_files()}
    return catalogue.expand(name, columns)


def dataset_column_names(view: str) -> Tuple[str, ...]:
    """The column names a dataset file declares (its first physical table's InputColumns)."""
    tables = load_raw_dataset(view)["PhysicalTableMap"].values()
    for table in tables:
        return tuple(column["Name"] for column in table.get("RelationalTable", {}).get("InputColumns", []))
    return ()


def load_raw_dataset(view: str) -> Dict[str, Any]:
    """A dataset file: CreateDataSet parameters without AwsAccountId/DataSetId, placeholders unfilled."""
    path = dataset_path(view)
    data = _read_json(path)
    if not isinstance(data, dict) or "PhysicalTableMap" not in data:
        raise InputError(f"{path}: expected an object with PhysicalTableMap")
    return data


@lru_cache(maxsize=None)
def labels(language: str) -> Dict[str, str]:
    if language not in LANGUAGES:
        raise InputError(f"unknown dashboard language {language!r}; expected one of {', '.join(LANGUAGES)}")
    path = ROOT / "labels" / f"{language}.json"
    data = _read_json(path)
    if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
        raise InputError(f"{path}: expected an object of label key → non-empty text")
    return dict(data)


def substitute(data: Any, language: str, values: Mapping[str, str], source: str) -> Any:
    """Return a copy of ``data`` with every placeholder filled; collect every problem, then raise once."""
    texts = labels(language)
    problems: List[str] = []

    def fill(text: str, path: str) -> str:
        def one(match: "re.Match[str]") -> str:
            key = match.group(1)
            if key.startswith("label:"):
                label = texts.get(key[len("label:"):])
                if label is None:
                    problems.append(f"{path}: no label {key[6:]!r} in labels/{language}.json")
                    return match.group(0)
                return label
            if key not in values:
                problems.append(f"{path}: no value for placeholder ${{{key}}}")
                return match.group(0)
            return str(values[key])

        result = PLACEHOLDER_RE.sub(one, text)
        leftover = PLACEHOLDER_RE.sub("", text)
        if "${" in leftover:
            problems.append(f"{path}: malformed placeholder in {text!r}")
        return result

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {key: walk(value, f"{path}.{key}") for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, f"{path}[{index}]") for index, item in enumerate(node)]
        if isinstance(node, str):
            return fill(node, path)
        return node

    filled = walk(data, "$")
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems[:30])
        more = f"\n  … and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise InputError(f"{source}: {len(problems)} placeholder problem(s):\n{listing}{more}")
    return filled


def load_definition(name: str, language: str = DEFAULT_LANGUAGE,
                    values: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The dashboard or an analysis with labels and values filled: {"Name": ..., "Definition": ...}."""
    return substitute(load_raw(name), language, values or {}, str(definition_path(name)))


def load_dataset(view: str, language: str = DEFAULT_LANGUAGE,
                 values: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    return substitute(load_raw_dataset(view), language, values or {}, str(dataset_path(view)))


def placeholders(data: Any) -> List[str]:
    """Every placeholder key in ``data`` (labels included), in order of first use."""
    found: List[str] = []
    for text in _strings(data):
        for key in PLACEHOLDER_RE.findall(text):
            if key not in found:
                found.append(key)
    return found


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def dataset_views(definition: Mapping[str, Any]) -> List[str]:
    """View names a definition declares (DataSetIdentifier = view name), in declaration order."""
    body = definition.get("Definition", definition)
    return [item["Identifier"] for item in body.get("DataSetIdentifierDeclarations", [])]



def visuals(definition: Mapping[str, Any]) -> Iterator[Tuple[str, str, Dict[str, Any]]]:
    """(sheet id, visual type, visual body) for every visual; an unsupported type raises InputError."""
    body = definition.get("Definition", definition)
    for sheet in body.get("Sheets", []):
        for visual in sheet.get("Visuals", []):
            (kind, content), = visual.items()
            if kind not in SUPPORTED_VISUALS:
                raise InputError(f"sheet {sheet.get('SheetId')}: visual type {kind} is not supported "
                                 f"(supported: {', '.join(SUPPORTED_VISUALS)})")
            yield sheet["SheetId"], kind, content
