"""Cross-reference checks for parameters, the controls that set them, the filters and actions that read them.

``references.check_definition`` calls ``check``; like it, this collects every problem with its JSON path. The
botocore model accepts a drop-down bound to a parameter nobody filters on, a multi-select on a single-valued
parameter, a filter on a column of the wrong type, or an action that navigates to a sheet that does not exist;
QuickSight then shows a control that does nothing, rejects the definition, or breaks the click. The rules, from the
QuickSight API reference (Amazon QuickSight API Reference, data types):

- ``StringParameterDeclaration``: ParameterValueType MULTI_VALUED | SINGLE_VALUED; Name ``^[a-zA-Z0-9]+$``.
- ``ParameterDropDownControl``: SourceParameterName names a declared parameter; Type MULTI_SELECT | SINGLE_SELECT
  (we require MULTI_SELECT exactly for a MULTI_VALUED parameter); ``SelectableValues.LinkToDataSetColumn`` is a
  ColumnIdentifier, so its dataset must be declared and have the column.
- ``ParameterDateTimePickerControl`` sets a DateTime parameter.
- ``CustomFilterConfiguration``: ``ParameterName`` is "mutually exclusive to CategoryValue"; ``SelectAllOptions``
  FILTER_ALL_VALUES "select all of the values" (we require it on a filter bound to a multi-valued parameter, so
  the drop-down's "select all", its unset default, keeps every row).
- ``VisualCustomAction``: Trigger DATA_POINT_CLICK | DATA_POINT_MENU; ``NavigationOperation``
  ``LocalNavigationConfiguration.TargetSheetId`` a sheet of this definition; ``SetParametersOperation``
  ``DestinationParameterName`` a declared parameter and ``Value.SourceField`` a FieldId of the same visual.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping, Sequence, Tuple

Columns = Mapping[str, Mapping[str, str]]
CONTROL_PARAMETER_KINDS = {
    "DateTimePicker": ("DateTimeParameterDeclaration",),
    "Dropdown": ("StringParameterDeclaration", "IntegerParameterDeclaration", "DecimalParameterDeclaration"),
    "List": ("StringParameterDeclaration", "IntegerParameterDeclaration", "DecimalParameterDeclaration"),
    "TextField": ("StringParameterDeclaration", "IntegerParameterDeclaration", "DecimalParameterDeclaration"),
    "TextArea": ("StringParameterDeclaration",),
    "Slider": ("IntegerParameterDeclaration", "DecimalParameterDeclaration"),
}
TRIGGERS = ("DATA_POINT_CLICK", "DATA_POINT_MENU")
# Operators that compare a column with each value of a (possibly multi-valued) parameter.
PARAMETER_OPERATORS = ("EQUALS", "DOES_NOT_EQUAL")


def _parameters(body: Mapping[str, Any]) -> Dict[str, Tuple[str, str]]:
    """name -> (declaration kind, value type: MULTI_VALUED / SINGLE_VALUED)."""
    found = {}
    for item in body.get("ParameterDeclarations", []):
        (kind, content), = item.items()
        found[content.get("Name")] = (kind, content.get("ParameterValueType", "SINGLE_VALUED"))
    return found


def _visuals(body: Mapping[str, Any]) -> Iterator[Tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    for s_index, sheet in enumerate(body.get("Sheets", [])):
        for v_index, visual in enumerate(sheet.get("Visuals", [])):
            if len(visual) == 1:
                (_, content), = visual.items()
                yield f"$.Sheets[{s_index}].Visuals[{v_index}]", str(sheet.get("SheetId")), sheet, content


def check(body: Mapping[str, Any], declared: Sequence[str], columns: Columns, source: str) -> List[str]:
    """Every parameter, control, parameter-bound filter and custom-action problem in a definition body."""
    problems: List[str] = []
    parameters = _parameters(body)
    set_by: Dict[str, List[str]] = {name: [] for name in parameters}   # parameter -> controls / actions
    read_by: Dict[str, List[str]] = {name: [] for name in parameters}  # parameter -> filters
    _check_controls(body, parameters, declared, columns, source, problems, set_by)
    _check_filters(body, parameters, columns, source, problems, read_by)
    _check_actions(body, parameters, columns, source, problems, set_by)
    for name, (kind, _) in parameters.items():
        if not set_by.get(name):
            problems.append(f"{source}: parameter {name!r} has no control or action that sets it")
        if kind != "DateTimeParameterDeclaration" and not read_by.get(name) and \
                not _says_it_filters_nothing(body, name):
            problems.append(f"{source}: parameter {name!r} is read by no filter, so its control changes nothing")
    return problems


def _column_type(columns: Columns, column: Mapping[str, Any]) -> str:
    return columns.get(str(column.get("DataSetIdentifier")), {}).get(str(column.get("ColumnName")), "")


def _check_controls(body: Mapping[str, Any], parameters: Mapping[str, Tuple[str, str]], declared: Sequence[str],
                    columns: Columns, source: str, problems: List[str], set_by: Dict[str, List[str]]) -> None:
    for s_index, sheet in enumerate(body.get("Sheets", [])):
        for c_index, control in enumerate(sheet.get("ParameterControls", [])):
            path = f"$.Sheets[{s_index}].ParameterControls[{c_index}]"
            (kind, content), = control.items()
            name = content.get("SourceParameterName")
            if name not in parameters:
                continue  # references.check_definition reports the undeclared parameter
            set_by[name].append(path)
            declaration, value_type = parameters[name]
            if declaration not in CONTROL_PARAMETER_KINDS.get(kind, ()):
                problems.append(f"{source}: {path} is a {kind} on {declaration} {name!r}")
            if kind in ("Dropdown", "List"):
                wanted = "MULTI_SELECT" if value_type == "MULTI_VALUED" else "SINGLE_SELECT"
                if content.get("Type", "MULTI_SELECT") != wanted:
                    problems.append(f"{source}: {path} is {content.get('Type', 'MULTI_SELECT')} on {value_type} "
                                    f"parameter {name!r} (needs {wanted})")
            link = content.get("SelectableValues", {}).get("LinkToDataSetColumn")
            if link is not None:
                if link.get("DataSetIdentifier") not in declared:
                    problems.append(f"{source}: {path}.SelectableValues lists dataset "
                                    f"{link.get('DataSetIdentifier')!r}, not in DataSetIdentifierDeclarations")
                elif _column_type(columns, link) != "STRING" and declaration == "StringParameterDeclaration":
                    problems.append(f"{source}: {path}.SelectableValues lists {link.get('DataSetIdentifier')}."
                                    f"{link.get('ColumnName')}, not a STRING column of that dataset")


# The title suffix a drop-down carries on a sheet none of whose visuals it filters (controls.filter_controls).
NO_VISUALS_KEY = "control_no_visuals"


def _no_visuals_suffixes() -> Tuple[str, ...]:
    """The suffix as written (placeholder) and as deployed (each language's text): the stand-in checks the latter."""
    from .definitions import LANGUAGES, labels  # definitions imports the catalogue, which imports nothing here

    return (f"${{label:{NO_VISUALS_KEY}}}", *(labels(language)[NO_VISUALS_KEY] for language in LANGUAGES))


def _says_it_filters_nothing(body: Mapping[str, Any], name: str) -> bool:
    """Every control of parameter ``name`` says in its title that it filters no visual there (a Client drop-down
    where no dataset has a client): offered so each sheet has the same controls, honest about doing nothing."""
    titles = [next(iter(c.values())).get("Title", "") for sheet in body.get("Sheets", [])
              for c in sheet.get("ParameterControls", []) if next(iter(c.values())).get("SourceParameterName") == name]
    suffixes = _no_visuals_suffixes()
    return bool(titles) and all(title.endswith(suffixes) for title in titles)


def _check_filters(body: Mapping[str, Any], parameters: Mapping[str, Tuple[str, str]], columns: Columns,
                   source: str, problems: List[str], read_by: Dict[str, List[str]]) -> None:
    for g_index, group in enumerate(body.get("FilterGroups", [])):
        for f_index, item in enumerate(group.get("Filters", [])):
            path = f"$.FilterGroups[{g_index}].Filters[{f_index}]"
            (kind, content), = item.items()
            if kind == "TimeRangeFilter":
                for key in ("RangeMinimumValue", "RangeMaximumValue"):
                    name = content.get(key, {}).get("Parameter")
                    if name in read_by:
                        read_by[name].append(path)
                continue
            if kind != "CategoryFilter":
                continue
            custom = content.get("Configuration", {}).get("CustomFilterConfiguration")
            if not custom or "ParameterName" not in custom:
                continue
            name = custom["ParameterName"]
            if name not in parameters:
                problems.append(f"{source}: {path} is bound to undeclared parameter {name!r}")
                continue
            read_by[name].append(path)
            declaration, value_type = parameters[name]
            column = content.get("Column", {})
            if declaration != "StringParameterDeclaration" or _column_type(columns, column) != "STRING":
                problems.append(f"{source}: {path} compares {column.get('DataSetIdentifier')}."
                                f"{column.get('ColumnName')} ({_column_type(columns, column) or 'no such column'}) "
                                f"with {declaration} {name!r}; a category filter needs a STRING column and parameter")
            if "CategoryValue" in custom:
                problems.append(f"{source}: {path} has both ParameterName and CategoryValue (mutually exclusive)")
            if custom.get("MatchOperator") not in PARAMETER_OPERATORS:
                problems.append(f"{source}: {path} matches parameter {name!r} with {custom.get('MatchOperator')}; "
                                f"use {' or '.join(PARAMETER_OPERATORS)}")
            if value_type == "MULTI_VALUED" and custom.get("SelectAllOptions") != "FILTER_ALL_VALUES":
                problems.append(f"{source}: {path} is bound to multi-valued {name!r} without SelectAllOptions "
                                "FILTER_ALL_VALUES: its 'select all' default would not keep every row")


def _check_actions(body: Mapping[str, Any], parameters: Mapping[str, Tuple[str, str]], columns: Columns,
                   source: str, problems: List[str], set_by: Dict[str, List[str]]) -> None:
    sheet_ids = [str(sheet.get("SheetId")) for sheet in body.get("Sheets", [])]
    for path, sheet_id, _, content in _visuals(body):
        fields = _fields(content)
        action_ids: List[str] = []
        for a_index, action in enumerate(content.get("Actions", [])):
            a_path = f"{path}.Actions[{a_index}]"
            if action.get("CustomActionId") in action_ids:
                problems.append(f"{source}: {a_path} repeats CustomActionId {action.get('CustomActionId')!r}")
            action_ids.append(action.get("CustomActionId"))
            if action.get("Trigger") not in TRIGGERS:
                problems.append(f"{source}: {a_path} trigger {action.get('Trigger')!r} is not one of {TRIGGERS}")
            for o_index, operation in enumerate(action.get("ActionOperations", [])):
                o_path = f"{a_path}.ActionOperations[{o_index}]"
                target = operation.get("NavigationOperation", {}).get("LocalNavigationConfiguration", {})
                if target:
                    target_id = target.get("TargetSheetId")
                    if target_id not in sheet_ids:
                        problems.append(f"{source}: {o_path} navigates to unknown sheet {target_id!r}")
                    elif target_id == sheet_id:
                        problems.append(f"{source}: {o_path} navigates to its own sheet {sheet_id!r}")
                configs = operation.get("SetParametersOperation", {}).get("ParameterValueConfigurations", [])
                for p_index, config in enumerate(configs):
                    _check_set_parameter(config, f"{o_path}.ParameterValueConfigurations[{p_index}]", fields,
                                         parameters, columns, source, problems, set_by)


def _check_set_parameter(config: Mapping[str, Any], path: str, fields: Mapping[str, Mapping[str, Any]],
                         parameters: Mapping[str, Tuple[str, str]], columns: Columns, source: str,
                         problems: List[str], set_by: Dict[str, List[str]]) -> None:
    name = config.get("DestinationParameterName")
    if name not in parameters:
        problems.append(f"{source}: {path} sets undeclared parameter {name!r}")
        return
    set_by[name].append(path)
    source_field = config.get("Value", {}).get("SourceField")
    if source_field is None:
        return
    if source_field not in fields:
        problems.append(f"{source}: {path} takes SourceField {source_field!r}, not a field of this visual")
        return
    column_type = _column_type(columns, fields[source_field].get("Column", {}))
    if parameters[name][0] == "StringParameterDeclaration" and column_type != "STRING":
        problems.append(f"{source}: {path} sets string parameter {name!r} from a {column_type or '?'} field")


def _fields(content: Mapping[str, Any]) -> Dict[str, Mapping[str, Any]]:
    """FieldId -> field body, for every field in the visual's wells."""
    found: Dict[str, Mapping[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("FieldId"), str) and isinstance(node.get("Column"), dict):
                found[node["FieldId"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(content.get("ChartConfiguration", {}).get("FieldWells", {}))
    return found
