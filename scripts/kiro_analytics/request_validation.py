"""Check an AWS request against the botocore service model before it is sent (or recorded).

botocore's own validator catches unknown members, wrong types and missing required members. It does not check
enums, string lengths, list sizes, numeric ranges or name patterns, which the service rejects; this walker adds
those from the same model. Every problem is collected with its path, then reported once.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

from .errors import InputError


@lru_cache(maxsize=None)
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def enum_values(service: str, shape: str) -> Tuple[str, ...]:
    """The values the service model allows for an enum shape (e.g. quicksight's DayOfWeek)."""
    return tuple(_service_model(service).shape_for(shape).enum)


@lru_cache(maxsize=None)
def _pattern(pattern: str) -> Optional["re.Pattern[str]"]:
    # Service patterns are Java regexes applied to the whole value (String.matches), hence fullmatch below;
    # the few Python cannot compile are skipped rather than guessed at.
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def operation_model(service: str, operation: str) -> OperationModel:
    """Accepts the API name (CreateDashboard) or the boto3 method name (create_dashboard)."""
    model = _service_model(service)
    if operation not in model.operation_names:
        camel = "".join(part.title() for part in operation.split("_"))
        matches = [name for name in model.operation_names if name.lower() == camel.lower()]
        if not matches:
            raise KeyError(f"{service} has no operation {operation}")
        operation = matches[0]
    return model.operation_model(operation)


def _walk(shape: Shape, value: Any, path: str, problems: List[str]) -> None:
    meta = shape.metadata
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _walk(member, value[name], f"{path}.{name}", problems)
        if meta.get("union") and len(value) != 1:
            problems.append(f"{path}: exactly one member must be set, found {sorted(value)}")
    elif shape.type_name == "list" and isinstance(value, list):
        _check_size(meta, len(value), path, "items", problems)
        for index, item in enumerate(value):
            _walk(shape.member, item, f"{path}[{index}]", problems)
    elif shape.type_name == "map" and isinstance(value, dict):
        _check_size(meta, len(value), path, "entries", problems)
        for key, item in value.items():
            _walk(shape.key, key, f"{path} key {key!r}", problems)
            _walk(shape.value, item, f"{path}[{key!r}]", problems)
    elif shape.type_name == "string" and isinstance(value, str):
        enum = shape.enum
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} is not one of {', '.join(enum)}")
        _check_size(meta, len(value), path, "characters", problems)
        pattern = meta.get("pattern")
        compiled = _pattern(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            problems.append(f"{path}: {value!r} does not match the pattern {pattern}")
    elif shape.type_name in ("integer", "long", "double", "float") and isinstance(value, (int, float)):
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} is below the minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} is above the maximum {meta['max']}")


def _check_size(meta: Dict[str, Any], size: int, path: str, unit: str, problems: List[str]) -> None:
    if "min" in meta and size < meta["min"]:
        problems.append(f"{path}: {size} {unit}, at least {meta['min']} required")
    if "max" in meta and size > meta["max"]:
        problems.append(f"{path}: {size} {unit}, at most {meta['max']} allowed")


def request_problems(service: str, operation: str, params: Dict[str, Any]) -> List[str]:
    """Every way ``params`` breaks the service model: botocore's report plus enums, lengths and patterns."""
    op = operation_model(service, operation)
    problems: List[str] = []
    if op.input_shape is None:
        return problems if not params else [f"{op.name} takes no parameters"]
    report = ParamValidator().validate(params, op.input_shape)
    if report.has_errors():
        # One error per line, no header line (the "Parameter validation failed:" header is the exception's).
        problems.extend(line.strip() for line in report.generate_report().splitlines() if line.strip())
    _walk(op.input_shape, params, op.name, problems)
    return problems


def validate_request(service: str, operation: str, params: Dict[str, Any]) -> None:
    """Raise InputError listing every problem; nothing is sent when a request is invalid."""
    problems = request_problems(service, operation, params)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise InputError(f"{service} {operation_model(service, operation).name} request is invalid:\n{listing}{more}")
