"""Cross-reference checks the service model cannot express, over a QuickSight definition.

botocore (plus request_validation) checks shapes, enums, lengths and patterns. QuickSight also rejects, or worse
renders as broken visuals, definitions whose parts do not refer to each other correctly. This module checks those,
collecting every problem with its JSON path: declared dataset identifiers, columns present in their dataset with a
type that fits how they are used, unique ids, references to fields, parameters, sheets and layout elements, the
visual types both renderers support, and the service limits; ``bindings`` adds the parameters, their controls,
the filters bound to them and the click actions. No boto3 here: the local renderer may use it too.

Calculated fields are supported in exactly one form, the ratio of two sums over whatever the visual groups by
(``sum({a}) / sum({b})``, optionally guarded as ``ifelse(sum({b}) = 0, NULL, sum({a}) / sum({b}))``): a view
column cannot hold a ratio over a user-chosen date range, and the local renderer can reproduce this form exactly.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from ..errors import InputError
from . import bindings, definitions

MAX_SHEETS = 20
MAX_VISUALS_PER_SHEET = 75
GRID_COLUMNS = 36
PARAMETER_RE = re.compile(r"^[A-Za-z0-9]+$")
TABLE_KEY_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
NUMERIC = ("INTEGER", "DECIMAL")
# How a field kind may use a column of each dataset type.
FIELD_TYPES: Dict[str, Tuple[str, ...]] = {
    "NumericalMeasureField": NUMERIC,
    "NumericalDimensionField": NUMERIC,
    "DateDimensionField": ("DATETIME",),
    "DateMeasureField": ("DATETIME",),
    "CategoricalDimensionField": ("STRING", "BOOLEAN", "BIT", "INTEGER"),
    "CategoricalMeasureField": ("STRING", "BOOLEAN", "BIT", "INTEGER", "DECIMAL", "DATETIME"),
}
FIELD_KINDS = tuple(FIELD_TYPES)
# CalculatedField.Name is a ColumnName in the service model: 1 to 128 characters.
CALCULATED_NAME_MAX = 128
_SUM = r"sum\(\s*\{(?P<%s>[A-Za-z_][A-Za-z0-9_]*)\}\s*\)"
_RATIO = rf"{_SUM % 'num'}\s*/\s*{_SUM % 'den'}"
RATIO_RE = re.compile(rf"^\s*{_RATIO}\s*$", re.I)
GUARDED_RATIO_RE = re.compile(
    rf"^\s*ifelse\(\s*{_SUM % 'guard'}\s*=\s*0\s*,\s*NULL\s*,\s*{_RATIO}\s*\)\s*$", re.I)
SUPPORTED_EXPRESSIONS = "sum({a}) / sum({b}) or ifelse(sum({b}) = 0, NULL, sum({a}) / sum({b}))"

Columns = Mapping[str, Mapping[str, str]]


def parse_ratio(expression: str) -> Optional[Tuple[str, str]]:
    """(numerator column, denominator column) of a supported calculated-field expression, else None."""
    match = RATIO_RE.match(expression or "")
    if match:
        return match.group("num"), match.group("den")
    match = GUARDED_RATIO_RE.match(expression or "")
    if match and match.group("guard") == match.group("den"):
        return match.group("num"), match.group("den")
    return None


def dataset_columns(view: str) -> Dict[str, str]:
    """Column name → QuickSight type, from the dataset file's RelationalTable InputColumns."""
    data = definitions.load_raw_dataset(view)
    columns: Dict[str, str] = {}
    for table in data["PhysicalTableMap"].values():
        for column in table.get("RelationalTable", {}).get("InputColumns", []):
            columns[column["Name"]] = column["Type"]
    return columns


def all_dataset_columns() -> Dict[str, Dict[str, str]]:
    return {view: dataset_columns(view) for view in definitions.dataset_files()}


def _walk(node: Any, path: str) -> Iterator[Tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")


def check_dataset(view: str, data: Mapping[str, Any]) -> List[str]:
    """A dataset file: table-map keys, a RelationalTable on this view, unique non-empty columns."""
    problems: List[str] = []
    where = f"datasets/{view}.json"
    tables = data.get("PhysicalTableMap") or {}
    if len(tables) != 1:
        problems.append(f"{where}: PhysicalTableMap must hold exactly one table (the view), found {len(tables)}")
    for key, table in tables.items():
        if not TABLE_KEY_RE.match(key):
            problems.append(f"{where}: PhysicalTableMap key {key!r} must be letters, digits and hyphens, at most 64")
        relational = table.get("RelationalTable")
        if relational is None:
            problems.append(f"{where}: {key} must be a RelationalTable on the view (the SQL lives in sql/views/)")
            continue
        if relational.get("Name") != view:
            problems.append(f"{where}: RelationalTable.Name is {relational.get('Name')!r}, expected the view {view!r}")
        names = [column.get("Name") for column in relational.get("InputColumns", [])]
        if not names:
            problems.append(f"{where}: InputColumns is empty")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problems.append(f"{where}: duplicate InputColumns {', '.join(duplicates)}")
    for key in data.get("LogicalTableMap") or {}:
        if not TABLE_KEY_RE.match(key):
            problems.append(f"{where}: LogicalTableMap key {key!r} must be letters, digits and hyphens, at most 64")
    return problems


def check_definition(document: Mapping[str, Any], columns: Columns, source: str = "definition") -> List[str]:
    """Every cross-reference problem in a {"Name", "Definition"} document (placeholders filled or not)."""
    body = document.get("Definition", document)
    problems: List[str] = []
    declared = [item.get("Identifier") for item in body.get("DataSetIdentifierDeclarations", [])]
    _unique(problems, source, "DataSetIdentifier",
            [(f"$.DataSetIdentifierDeclarations[{i}]", d) for i, d in enumerate(declared)])
    if not declared:
        problems.append(f"{source}: DataSetIdentifierDeclarations is empty")
    for name in declared:
        if name not in columns:
            problems.append(f"{source}: dataset {name!r} is declared but has no quicksight/datasets/{name}.json")
    parameters = _parameters(body, source, problems)
    calculated = _calculated_fields(body, declared, columns, source, problems)
    used = _check_columns(body, declared, columns, calculated, source, problems)
    for key, path in calculated.items():
        if key not in used:
            problems.append(f"{source}: {path} calculated field {key[1]!r} is not used by any visual")
    sheets = body.get("Sheets", [])
    if not sheets:
        problems.append(f"{source}: Sheets is empty")
    if len(sheets) > MAX_SHEETS:
        problems.append(f"{source}: {len(sheets)} sheets, at most {MAX_SHEETS} allowed")
    ids: Dict[str, List[Tuple[str, str]]] = {"SheetId": [], "VisualId": [], "FieldId": [], "ParameterControlId": [],
                                             "FilterGroupId": [], "FilterId": []}
    for index, sheet in enumerate(sheets):
        _check_sheet(sheet, f"$.Sheets[{index}]", parameters, source, problems, ids)
    sheet_ids = {sheet.get("SheetId") for sheet in sheets}
    for index, group in enumerate(body.get("FilterGroups", [])):
        path = f"$.FilterGroups[{index}]"
        ids["FilterGroupId"].append((path, group.get("FilterGroupId")))
        for f_index, item in enumerate(group.get("Filters", [])):
            (_, content), = item.items()
            ids["FilterId"].append((f"{path}.Filters[{f_index}]", content.get("FilterId")))
        scope = group.get("ScopeConfiguration", {}).get("SelectedSheets", {})
        for s_index, target in enumerate(scope.get("SheetVisualScopingConfigurations", [])):
            if target.get("SheetId") not in sheet_ids:
                problems.append(f"{source}: {path} scopes unknown sheet {target.get('SheetId')!r} (#{s_index})")
    for kind, found in ids.items():
        _unique(problems, source, kind, found)
    problems.extend(bindings.check(body, declared, columns, source))
    return problems


def _parameters(body: Mapping[str, Any], source: str, problems: List[str]) -> Dict[str, str]:
    parameters: Dict[str, str] = {}
    for index, item in enumerate(body.get("ParameterDeclarations", [])):
        (kind, content), = item.items()
        name = content.get("Name", "")
        if not PARAMETER_RE.match(name):
            problems.append(f"{source}: $.ParameterDeclarations[{index}] name {name!r}: letters and digits only")
        if name in parameters:
            problems.append(f"{source}: parameter {name!r} declared twice")
        parameters[name] = kind
    for path, node in _walk(body, "$"):
        if not isinstance(node, dict):
            continue
        for key in ("SourceParameterName", "Parameter"):
            name = node.get(key)
            if isinstance(name, str) and name not in parameters:
                problems.append(f"{source}: {path}.{key} names undeclared parameter {name!r}")
    return parameters


Calculated = Dict[Tuple[str, str], str]


def _calculated_fields(body: Mapping[str, Any], declared: List[str], columns: Columns, source: str,
                       problems: List[str]) -> Calculated:
    """(dataset, name) -> JSON path of every calculated field, after checking its name and expression."""
    found: Calculated = {}
    for index, item in enumerate(body.get("CalculatedFields", [])):
        path = f"$.CalculatedFields[{index}]"
        dataset, name, expression = item.get("DataSetIdentifier"), item.get("Name") or "", item.get("Expression")
        if dataset not in declared:
            problems.append(f"{source}: {path} uses dataset {dataset!r}, not in DataSetIdentifierDeclarations")
            continue
        if not 1 <= len(name) <= CALCULATED_NAME_MAX:
            problems.append(f"{source}: {path} name must be 1 to {CALCULATED_NAME_MAX} characters")
        known = columns.get(dataset, {})
        if name in known:
            problems.append(f"{source}: {path} name {name!r} hides the column {dataset}.{name}")
        if (dataset, name) in found:
            problems.append(f"{source}: {path} calculated field {name!r} repeats {found[(dataset, name)]}")
        found[(dataset, name)] = path
        ratio = parse_ratio(str(expression or ""))
        if ratio is None:
            problems.append(f"{source}: {path} expression {expression!r} is not supported; use "
                            f"{SUPPORTED_EXPRESSIONS} (both renderers compute exactly that)")
            continue
        for column in ratio:
            if dataset not in columns:
                break  # reported once as a declared dataset without a file
            if column not in known:
                problems.append(f"{source}: {path} uses column {column!r}, which dataset {dataset!r} does not have")
            elif known[column] not in NUMERIC:
                problems.append(f"{source}: {path} sums {dataset}.{column} of type {known[column]} "
                                f"(needs {' or '.join(NUMERIC)})")
    return found


def _check_columns(body: Mapping[str, Any], declared: List[str], columns: Columns, calculated: Calculated,
                   source: str, problems: List[str]) -> Set[Tuple[str, str]]:
    """Check every field's column; return the calculated fields (dataset, name) that a field uses."""
    used: Set[Tuple[str, str]] = set()
    for path, node in _walk(body, "$"):
        if not isinstance(node, dict):
            continue
        for kind in (*FIELD_KINDS, "TimeRangeFilter"):
            field = node.get(kind)
            if isinstance(field, dict) and isinstance(field.get("Column"), dict):
                column = field["Column"]
                key = (column.get("DataSetIdentifier"), column.get("ColumnName"))
                if key in calculated:
                    used.add(key)
                    _check_calculated_use(field, kind, f"{path}.{kind}", source, problems)
                else:
                    _check_column(field, kind, f"{path}.{kind}", declared, columns, source, problems)
    return used


def _check_calculated_use(field: Mapping[str, Any], kind: str, path: str, source: str, problems: List[str]) -> None:
    # The ratio already aggregates; QuickSight evaluates it per group and rejects a second aggregation on top.
    name = field["Column"].get("ColumnName")
    if kind != "NumericalMeasureField":
        problems.append(f"{source}: {path} uses calculated field {name!r} as {kind} (only NumericalMeasureField)")
    elif field.get("AggregationFunction"):
        problems.append(f"{source}: {path} aggregates calculated field {name!r}, which already aggregates "
                        "(leave AggregationFunction out)")


def _check_column(field: Mapping[str, Any], kind: str, path: str, declared: List[str], columns: Columns,
                  source: str, problems: List[str]) -> None:
    column = field["Column"]
    dataset, name = column.get("DataSetIdentifier"), column.get("ColumnName")
    if dataset not in declared:
        problems.append(f"{source}: {path} uses dataset {dataset!r}, not in DataSetIdentifierDeclarations")
        return
    known = columns.get(dataset)
    if known is None:
        return  # reported once as a declared dataset without a file
    if name not in known:
        problems.append(f"{source}: {path} uses column {name!r}, which dataset {dataset!r} does not have")
        return
    allowed = ("DATETIME",) if kind == "TimeRangeFilter" else FIELD_TYPES[kind]
    if known[name] not in allowed:
        problems.append(f"{source}: {path} uses {dataset}.{name} of type {known[name]} as {kind} "
                        f"(needs {' or '.join(allowed)})")
    aggregation = field.get("AggregationFunction")
    if kind == "NumericalMeasureField" and not aggregation:
        problems.append(f"{source}: {path} has no AggregationFunction (a measure must say how it adds up)")


def _check_sheet(sheet: Mapping[str, Any], path: str, parameters: Mapping[str, str], source: str,
                 problems: List[str], ids: Dict[str, List[Tuple[str, str]]]) -> None:
    ids["SheetId"].append((path, sheet.get("SheetId")))
    visuals = sheet.get("Visuals", [])
    if not visuals:
        problems.append(f"{source}: {path} ({sheet.get('SheetId')}) has no visuals")
    if len(visuals) > MAX_VISUALS_PER_SHEET:
        problems.append(f"{source}: {path} has {len(visuals)} visuals, at most {MAX_VISUALS_PER_SHEET} allowed")
    elements: Dict[str, str] = {}
    for index, visual in enumerate(visuals):
        v_path = f"{path}.Visuals[{index}]"
        if len(visual) != 1:
            problems.append(f"{source}: {v_path} must hold exactly one visual type")
            continue
        (kind, content), = visual.items()
        if kind not in definitions.SUPPORTED_VISUALS:
            problems.append(f"{source}: {v_path} is a {kind}; supported: {', '.join(definitions.SUPPORTED_VISUALS)}")
            continue
        visual_id = content.get("VisualId")
        ids["VisualId"].append((v_path, visual_id))
        elements[visual_id] = "VISUAL"
        _check_fields(content, kind, v_path, source, problems, ids)
    for index, control in enumerate(sheet.get("ParameterControls", [])):
        (_, content), = control.items()
        ids["ParameterControlId"].append((f"{path}.ParameterControls[{index}]", content.get("ParameterControlId")))
        elements[content.get("ParameterControlId")] = "PARAMETER_CONTROL"
    _check_layout(sheet, path, elements, source, problems)


def _check_fields(content: Mapping[str, Any], kind: str, path: str, source: str, problems: List[str],
                  ids: Dict[str, List[Tuple[str, str]]]) -> None:
    wells = content.get("ChartConfiguration", {}).get("FieldWells", {})
    fields: List[str] = []
    measures = 0
    for f_path, node in _walk(wells, f"{path}.ChartConfiguration.FieldWells"):
        if isinstance(node, dict):
            for field_kind in FIELD_KINDS:
                if isinstance(node.get(field_kind), dict):
                    fields.append(node[field_kind].get("FieldId"))
                    ids["FieldId"].append((f_path, node[field_kind].get("FieldId")))
                    measures += field_kind.endswith("MeasureField")
    if not measures and kind != "TableVisual":
        problems.append(f"{source}: {path} ({kind}) has no measure in its field wells")
    if not fields:
        problems.append(f"{source}: {path} ({kind}) has no fields")
    config = {key: value for key, value in content.get("ChartConfiguration", {}).items() if key != "FieldWells"}
    for r_path, node in _walk(config, f"{path}.ChartConfiguration"):
        if isinstance(node, dict) and isinstance(node.get("FieldId"), str) and node["FieldId"] not in fields:
            problems.append(f"{source}: {r_path} refers to field {node['FieldId']!r}, not in this visual's field wells")


def _check_layout(sheet: Mapping[str, Any], path: str, elements: Mapping[str, str], source: str,
                  problems: List[str]) -> None:
    layouts = sheet.get("Layouts")
    if not layouts:
        return  # QuickSight lays the sheet out itself
    grid = layouts[0].get("Configuration", {}).get("GridLayout")
    if grid is None:
        return
    placed: Dict[str, str] = {}
    cells: Dict[Tuple[int, int], str] = {}
    for index, element in enumerate(grid.get("Elements", [])):
        e_path = f"{path}.Layouts[0].Configuration.GridLayout.Elements[{index}]"
        element_id = element.get("ElementId")
        if elements.get(element_id) != element.get("ElementType"):
            problems.append(f"{source}: {e_path} places {element.get('ElementType')} {element_id!r}, "
                            "which this sheet does not define")
        placed[element_id] = element.get("ElementType")
        column, width = element.get("ColumnIndex", 0), element.get("ColumnSpan", 1)
        if column + width > GRID_COLUMNS:
            problems.append(f"{source}: {e_path} ({element_id}) ends at column {column + width} > {GRID_COLUMNS}")
        for row in range(element.get("RowIndex", 0), element.get("RowIndex", 0) + element.get("RowSpan", 1)):
            for col in range(column, column + width):
                other = cells.get((row, col))
                if other is not None and other != element_id:
                    problems.append(f"{source}: {e_path} ({element_id}) overlaps {other}")
                    break
                cells[(row, col)] = element_id
            else:
                continue
            break
    for element_id in elements:
        if element_id not in placed:
            problems.append(f"{source}: {path} element {element_id!r} is not placed in the layout")


def _unique(problems: List[str], source: str, kind: str, found: List[Tuple[str, Optional[str]]]) -> None:
    seen: Dict[Optional[str], str] = {}
    for path, value in found:
        if value in seen:
            problems.append(f"{source}: {kind} {value!r} at {path} repeats {seen[value]}")
        else:
            seen[value] = path


def label_problems() -> List[str]:
    """Both label files have the same keys (a key missing in one language shows up only in that language)."""
    zh, en = definitions.labels("zh"), definitions.labels("en")
    return [f"labels/{lang}.json: missing key {key!r}" for lang, other, own in (("en", zh, en), ("zh", en, zh))
            for key in sorted(set(other) - set(own))]


def check_all(columns: Optional[Columns] = None) -> List[str]:
    """Every problem across every definition, dataset and label file."""
    columns = columns if columns is not None else all_dataset_columns()
    problems = label_problems()
    for view in definitions.dataset_files():
        problems.extend(check_dataset(view, definitions.load_raw_dataset(view)))
    for name in definitions.definition_names():
        problems.extend(check_definition(definitions.load_raw(name), columns, str(definitions.definition_path(name))))
    return problems


def require_valid(document: Mapping[str, Any], source: str) -> None:
    """Raise one InputError listing every cross-reference problem; nothing is sent when one exists."""
    problems = check_definition(document, all_dataset_columns(), source)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems[:40])
        raise InputError(f"{source}: {len(problems)} cross-reference problem(s):\n{listing}")
