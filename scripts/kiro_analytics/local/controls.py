"""Parameters, sheet controls, parameter-bound filters and click actions of a QuickSight definition, for the page.

What QuickSight does with them (QuickSight API reference: ParameterDeclaration, ParameterControl,
CategoryFilter / CustomFilterConfiguration, VisualCustomAction):
- a string parameter holds one value (SINGLE_VALUED) or a list (MULTI_VALUED); a Dropdown or List control
  sets it, its choices from SelectableValues (static Values, or LinkToDataSetColumn: the column's values);
- a CategoryFilter whose CustomFilterConfiguration names a ParameterName keeps the rows whose column equals
  (MatchOperator EQUALS) one of the parameter's values; with no value set, SelectAllOptions FILTER_ALL_VALUES
  keeps every row; FilterListConfiguration is the same with fixed CategoryValues;
- a filter applies to the visuals its group scopes, of its own dataset (CrossDataset SINGLE_DATASET) or of
  every dataset with a column of that name (ALL_DATASETS);
- a VisualCustomAction on DATA_POINT_CLICK runs its operations: SetParametersOperation sets a parameter from
  the clicked field (SourceField), NavigationOperation opens another sheet.
Anything else raises InputError naming it, so the page never ignores a control QuickSight would honour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from kiro_analytics.errors import InputError

CONTROL_KINDS = {"Dropdown": "dropdown", "List": "list"}
DATE_CONTROL = "DateTimePicker"
MATCH_OPERATORS = ("EQUALS",)
DATE_PARAMETERS = ("StartDate", "EndDate")


@dataclass(frozen=True)
class Parameter:
    name: str
    multi: bool
    defaults: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Control:
    control_id: str
    kind: str                                   # dropdown | list
    parameter: str
    title: str
    multi: bool
    values: Tuple[str, ...] = ()                # static choices
    link: Optional[Tuple[str, str]] = None      # (dataset, column) whose values are the choices


@dataclass(frozen=True)
class CategoryFilter:
    filter_id: str
    dataset: str
    column: str
    all_datasets: bool
    parameter: str = ""                         # bound parameter, or ""
    values: Tuple[str, ...] = ()                # fixed values (FilterListConfiguration)
    include_nulls: bool = False


@dataclass(frozen=True)
class ClickAction:
    action_id: str
    name: str
    target_sheet: str = ""
    set_parameters: Tuple[Tuple[str, str], ...] = ()   # (parameter, source field id)


@dataclass
class Interactivity:
    parameters: Dict[str, Parameter] = field(default_factory=dict)
    controls: Dict[str, List[Control]] = field(default_factory=dict)   # sheet id -> its controls


def parse_parameters(definition: Mapping[str, Any]) -> Dict[str, Parameter]:
    found: Dict[str, Parameter] = {}
    for entry in definition.get("ParameterDeclarations", []):
        (kind, body), = entry.items()
        name = str(body.get("Name", ""))
        if kind == "DateTimeParameterDeclaration":
            if name not in DATE_PARAMETERS:
                raise InputError(f"parameter {name}: only the date range ({', '.join(DATE_PARAMETERS)}) is supported "
                                 "as a date parameter locally")
            continue
        if kind != "StringParameterDeclaration":
            raise InputError(f"parameter {name}: {kind} is not supported by the local HTML renderer "
                             "(supported: StringParameterDeclaration, the StartDate/EndDate dates)")
        defaults = body.get("DefaultValues", {})
        if defaults.get("DynamicValue"):
            raise InputError(f"parameter {name}: DynamicValue defaults (per-user values) are not supported locally")
        found[name] = Parameter(name, body.get("ParameterValueType") == "MULTI_VALUED",
                                tuple(str(v) for v in defaults.get("StaticValues", [])))
    return found


def parse_controls(sheet: Mapping[str, Any], parameters: Mapping[str, Parameter]) -> List[Control]:
    controls: List[Control] = []
    sheet_id = sheet.get("SheetId", "?")
    if sheet.get("FilterControls"):
        raise InputError(f"sheet {sheet_id}: FilterControls are not supported by the local HTML renderer; bind the "
                         "filter to a parameter and give the sheet a ParameterControl instead")
    for entry in sheet.get("ParameterControls", []):
        (kind, body), = entry.items()
        control_id = str(body.get("ParameterControlId", "?"))
        if kind == DATE_CONTROL:
            continue  # the page's date range inputs
        if kind not in CONTROL_KINDS:
            raise InputError(f"sheet {sheet_id}: control {control_id} is a {kind}, not supported locally "
                             f"(supported: {DATE_CONTROL}, {', '.join(CONTROL_KINDS)})")
        name = str(body.get("SourceParameterName", ""))
        if name not in parameters:
            raise InputError(f"sheet {sheet_id}: control {control_id} sets parameter {name!r}, which is not a "
                             "declared string parameter")
        if body.get("CascadingControlConfiguration"):
            raise InputError(f"sheet {sheet_id}: control {control_id}: cascading controls are not supported locally")
        selectable = body.get("SelectableValues", {})
        link = selectable.get("LinkToDataSetColumn")
        multi = body.get("Type", "MULTI_SELECT") == "MULTI_SELECT"
        if multi and not parameters[name].multi:
            raise InputError(f"sheet {sheet_id}: control {control_id} is MULTI_SELECT but parameter {name} is "
                             "SINGLE_VALUED")
        controls.append(Control(control_id, CONTROL_KINDS[kind], name, str(body.get("Title", name)), multi,
                                tuple(str(v) for v in selectable.get("Values", [])),
                                (str(link["DataSetIdentifier"]), str(link["ColumnName"])) if link else None))
    return controls


def parse_category_filter(body: Mapping[str, Any], group_id: str, all_datasets: bool,
                          parameters: Mapping[str, Parameter]) -> CategoryFilter:
    filter_id = str(body.get("FilterId", "?"))
    column = body.get("Column", {})
    configuration = body.get("Configuration", {})
    if len(configuration) != 1:
        raise InputError(f"filter group {group_id}: CategoryFilter {filter_id} needs one Configuration")
    (kind, config), = configuration.items()
    operator = config.get("MatchOperator", "EQUALS")
    if operator not in MATCH_OPERATORS:
        raise InputError(f"filter group {group_id}: CategoryFilter {filter_id} MatchOperator {operator} is not "
                         f"supported locally (supported: {', '.join(MATCH_OPERATORS)})")
    common = {"filter_id": filter_id, "dataset": str(column.get("DataSetIdentifier", "")),
              "column": str(column.get("ColumnName", "")), "all_datasets": all_datasets,
              "include_nulls": config.get("NullOption", "NON_NULLS_ONLY") == "ALL_VALUES"}
    if kind == "CustomFilterConfiguration" and config.get("ParameterName"):
        name = str(config["ParameterName"])
        if name not in parameters:
            raise InputError(f"filter group {group_id}: CategoryFilter {filter_id} is bound to parameter {name!r}, "
                             "which is not a declared string parameter")
        return CategoryFilter(parameter=name, **common)
    if kind == "FilterListConfiguration" and config.get("SelectAllOptions") != "FILTER_ALL_VALUES":
        return CategoryFilter(values=tuple(str(v) for v in config.get("CategoryValues", [])), **common)
    if kind == "FilterListConfiguration":
        return CategoryFilter(**common)  # every value: filters nothing
    raise InputError(f"filter group {group_id}: CategoryFilter {filter_id} {kind} without a ParameterName is not "
                     "supported locally")


def parse_actions(body: Mapping[str, Any], visual_id: str, field_ids: List[str],
                  parameters: Mapping[str, Parameter], sheet_ids: List[str]) -> List[ClickAction]:
    actions: List[ClickAction] = []
    for action in body.get("Actions", []):
        action_id = str(action.get("CustomActionId", "?"))
        if action.get("Status", "ENABLED") != "ENABLED":
            continue
        if action.get("Trigger") not in ("DATA_POINT_CLICK", "DATA_POINT_MENU"):
            raise InputError(f"visual {visual_id}: action {action_id} trigger {action.get('Trigger')} not supported")
        target, sets = "", []
        for operation in action.get("ActionOperations", []):
            (kind, config), = operation.items()
            if kind == "NavigationOperation":
                target = str(config.get("LocalNavigationConfiguration", {}).get("TargetSheetId", ""))
                if target not in sheet_ids:
                    raise InputError(f"visual {visual_id}: action {action_id} navigates to sheet {target!r}, "
                                     f"which is not in the definition ({', '.join(sheet_ids)})")
            elif kind == "SetParametersOperation":
                for item in config.get("ParameterValueConfigurations", []):
                    name, value = str(item.get("DestinationParameterName", "")), item.get("Value", {})
                    source = value.get("SourceField")
                    if name not in parameters or not source:
                        raise InputError(f"visual {visual_id}: action {action_id} must set a declared string "
                                         f"parameter from a SourceField (got {name!r}: {sorted(value)})")
                    if source not in field_ids:
                        raise InputError(f"visual {visual_id}: action {action_id} reads field {source}, which is "
                                         "not a dimension of the visual")
                    sets.append((name, str(source)))
            else:
                raise InputError(f"visual {visual_id}: action {action_id}: {kind} is not supported locally "
                                 "(supported: NavigationOperation, SetParametersOperation)")
        actions.append(ClickAction(action_id, str(action.get("Name", "")), target, tuple(sets)))
    return actions
