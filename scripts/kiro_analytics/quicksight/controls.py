"""Parameters, the controls that set them, and the filters and actions they drive, derived for a definition.

``catalogue.expand`` calls these; ``catalogue/controls.json`` declares the filter controls (tier, client, team,
user) and the user-detail parameter once, so no sheet writes a control, a parameter or a filter by hand. The
QuickSight API rules each one follows are in the docstrings; ``bindings.py`` checks them on the result.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import InputError

ROOT = Path(__file__).resolve().parents[3] / "quicksight"
CONTROLS_FILE = ROOT / "catalogue" / "controls.json"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def label(key: str) -> str:
    return f"${{label:{key}}}"


def load_controls() -> List[Dict[str, str]]:
    data = read_json(CONTROLS_FILE)
    filters = data.get("filters") if isinstance(data, dict) else None
    if not isinstance(filters, list) or not all(
            isinstance(f, dict) and set(f) == {"parameter", "column", "title", "values"} for f in filters):
        raise InputError(f"{CONTROLS_FILE}: expected {{\"filters\": [{{\"parameter\", \"column\", \"title\", "
                         f"\"values\"}}, ...]}}")
    return filters


def load_detail() -> Dict[str, str]:
    detail = read_json(CONTROLS_FILE).get("detail")
    if not isinstance(detail, dict) or set(detail) != {"parameter", "column", "title", "action"}:
        raise InputError(f"{CONTROLS_FILE}: \"detail\" needs exactly parameter, column, title and action")
    return detail


def _parameter_filter(group_id: str, view: str, column: str, parameter: str,
                      scope: Mapping[str, Any]) -> Dict[str, Any]:
    return {"FilterGroupId": group_id, "CrossDataset": "SINGLE_DATASET", "Status": "ENABLED",
            "ScopeConfiguration": dict(scope),
            "Filters": [{"CategoryFilter": {
                "FilterId": f"{group_id}-filter",
                "Column": {"DataSetIdentifier": view, "ColumnName": column},
                "Configuration": {"CustomFilterConfiguration": {
                    "MatchOperator": "EQUALS", "ParameterName": parameter,
                    "SelectAllOptions": "FILTER_ALL_VALUES", "NullOption": "ALL_VALUES"}}}}]}


def _drop_down(control_id: str, title: str, parameter: str, kind: str, view: str, column: str) -> Dict[str, Any]:
    control: Dict[str, Any] = {"ParameterControlId": control_id, "Title": title,
                               "SourceParameterName": parameter, "Type": kind}
    if kind == "MULTI_SELECT":
        control["DisplayOptions"] = {"SelectAllOptions": {"Visibility": "VISIBLE"}}
    control["SelectableValues"] = {"LinkToDataSetColumn": {"DataSetIdentifier": view, "ColumnName": column}}
    return {"Dropdown": control}


def detail_sheet(sheets: List[Dict[str, Any]], detail_id: str, views: Sequence[str],
                 dataset_columns: Mapping[str, Sequence[str]], drills: Mapping[str, str]
                 ) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Wire the one-user sheet ``detail_id``: (parameter declaration, filter groups); adds its drop-down and the
    click actions in place.

    QuickSight API reference: a SINGLE_VALUED ``StringParameterDeclaration``; a ``VisualCustomAction`` (Trigger
    DATA_POINT_CLICK) whose ``ActionOperations`` are a ``NavigationOperation`` (LocalNavigationConfiguration
    TargetSheetId) and a ``SetParametersOperation`` (DestinationParameterName, Value.SourceField = the clicked
    field's FieldId). The filters are scoped to the detail sheet (SelectedSheets), so the other sheets keep showing
    everyone; unset (before any click) it shows everyone too, as "select all" does.
    """
    spec = load_detail()
    parameter, column = spec["parameter"], spec["column"]
    detail = next(sheet for sheet in sheets if sheet["SheetId"] == detail_id)
    on_sheet = {next(iter(v.values()))["VisualId"]: v for v in detail["Visuals"]}
    used = [view for view in views if column in dataset_columns.get(view, ())
            and any(f'"DataSetIdentifier": "{view}"' in json.dumps(v) for v in on_sheet.values())]
    if not used:
        raise InputError(f"detail sheet {detail_id}: no visual reads a dataset with column {column!r}")
    control_id = f"{detail_id}-{parameter.lower()}"
    detail["ParameterControls"].append(_drop_down(control_id, label(spec["title"]), parameter, "SINGLE_SELECT",
                                                  used[0], column))
    detail["Layouts"][0]["Configuration"]["GridLayout"]["Elements"].insert(2, {
        "ElementId": control_id, "ElementType": "PARAMETER_CONTROL",
        "ColumnIndex": 0, "ColumnSpan": 18, "RowIndex": 2, "RowSpan": 2})
    scope = {"SelectedSheets": {"SheetVisualScopingConfigurations": [{"SheetId": detail_id, "Scope": "ALL_VISUALS"}]}}
    groups = [_parameter_filter(f"detail-{parameter.lower()}-{view.replace('_', '-')}", view, column, parameter,
                                scope) for view in used]
    for sheet in sheets:
        if sheet is detail:
            continue
        for visual in sheet["Visuals"]:
            body = next(iter(visual.values()))
            drill = drills.get(body["VisualId"])
            if drill is None:
                continue
            field_id = next((f for f in _field_ids(body) if f.split(".")[-2] == drill), None)
            if field_id is None:
                raise InputError(f"visual {body['VisualId']}: drill column {drill!r} is not one of its fields")
            body["Actions"] = [{
                "CustomActionId": f"{body['VisualId']}-detail", "Name": label(spec["action"]),
                "Status": "ENABLED", "Trigger": "DATA_POINT_CLICK",
                "ActionOperations": [
                    {"SetParametersOperation": {"ParameterValueConfigurations": [
                        {"DestinationParameterName": parameter, "Value": {"SourceField": field_id}}]}},
                    {"NavigationOperation": {"LocalNavigationConfiguration": {"TargetSheetId": detail_id}}}]}]
    declaration = {"StringParameterDeclaration": {"ParameterValueType": "SINGLE_VALUED", "Name": parameter}}
    return declaration, groups


def _field_ids(body: Mapping[str, Any]) -> List[str]:
    text = json.dumps(body.get("ChartConfiguration", {}).get("FieldWells", {}))
    return re.findall(r'"FieldId": "([^"]+)"', text)


def filter_controls(views: Sequence[str], dataset_columns: Mapping[str, Sequence[str]],
                    sheet_views: Mapping[str, Sequence[str]], detail_id: Optional[str] = None
                    ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]], Dict[str, List[Dict[str, Any]]], List[str]]:
    """(parameter declarations, filter groups, drop-downs per sheet, views to declare for the drop-downs' values)
    for the filter controls of ``catalogue/controls.json``; ``sheet_views`` maps each sheet to the views its visuals
    read, one entry per visual.

    Every control is on every sheet (issue 13: tier, client, team and user everywhere), so one choice holds on every
    sheet. Its title says where it stops: plain when it filters every visual of the sheet, with
    ``control_some_visuals`` when some visual's dataset lacks the column, with ``control_no_visuals`` when none has
    it (the legacy report names no client, for one). Its choices come from the control's ``values`` view (every
    person seen in either report, each day: ``active_user_days``), declared when no visual reads it, so a user, team
    or tier that only one dataset has is still listed; quicksight/README.md names what no view lists.

    On the detail sheet ``detail_id`` the control on the detail column (User) gives way to the detail parameter:
    no drop-down there and its filters scoped to the other sheets, so "User: A" elsewhere never empties B's page.

    QuickSight API reference: a multi-valued ``StringParameterDeclaration`` (ParameterValueType MULTI_VALUED)
    holds the choice; a ``ParameterDropDownControl`` (Type MULTI_SELECT) sets it, its ``SelectableValues`` linked
    to a dataset column (LinkToDataSetColumn) so the list is the data's own values; a ``CategoryFilter`` with a
    ``CustomFilterConfiguration`` names the parameter (``ParameterName``, exclusive with ``CategoryValue``) and
    ``SelectAllOptions: FILTER_ALL_VALUES``, so "select all" (the unset default) keeps every row. A filter works on
    one dataset, so each dataset with the column gets its own filter on the one parameter (ParameterControls, not
    FilterControls: a filter control drives a single filter). NullOption ALL_VALUES: rows without a value (a user
    never seen in the credit report has no tier) stay visible under "all", so the default numbers are unchanged.
    """
    parameters, groups, extra = [], [], []
    controls: Dict[str, List[Dict[str, Any]]] = {sheet_id: [] for sheet_id in sheet_views}
    for spec in load_controls():
        parameter, column, source = spec["parameter"], spec["column"], spec["values"]
        if column not in dataset_columns.get(source, ()):
            raise InputError(f"{CONTROLS_FILE}: control {parameter}: values view {source!r} has no column {column!r}")
        if source not in views and source not in extra:
            extra.append(source)
        having = [view for view in views if column in dataset_columns.get(view, ())]
        parameters.append({"StringParameterDeclaration": {"ParameterValueType": "MULTI_VALUED", "Name": parameter}})
        on = list(sheet_views)
        scope: Dict[str, Any] = {"AllSheets": {}}
        if detail_id is not None and column == load_detail()["column"]:
            on = [sheet_id for sheet_id in sheet_views if sheet_id != detail_id]
            scope = {"SelectedSheets": {"SheetVisualScopingConfigurations": [
                {"SheetId": sheet_id, "Scope": "ALL_VISUALS"} for sheet_id in on]}}
        for view in having:
            groups.append(_parameter_filter(f"control-{parameter.lower()}-{view.replace('_', '-')}", view, column,
                                            parameter, scope))
        for sheet_id in on:
            reached = [view in having for view in sheet_views[sheet_id]]
            title = label(spec["title"])
            if not all(reached):
                title += " " + label("control_some_visuals" if any(reached) else "control_no_visuals")
            controls[sheet_id].append(_drop_down(f"{sheet_id}-{parameter.lower()}", title, parameter,
                                                 "MULTI_SELECT", source, column))
    return parameters, groups, controls, extra


def control_elements(controls: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Drop-downs share row 0 right of the two date pickers (columns 18-35), the last ones one column wider."""
    elements, column = [], 18
    for index, control in enumerate(controls):
        span = 18 // len(controls) + (1 if index >= len(controls) - 18 % len(controls) else 0)
        elements.append({"ElementId": control["Dropdown"]["ParameterControlId"], "ElementType": "PARAMETER_CONTROL",
                         "ColumnIndex": column, "ColumnSpan": span, "RowIndex": 0, "RowSpan": 2})
        column += span
    return elements


def date_controls(sheet_id: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    controls, elements = [], []
    for index, (suffix, parameter, key) in enumerate((("start", "StartDate", "control_start_date"),
                                                     ("end", "EndDate", "control_end_date"))):
        control_id = f"{sheet_id}-{suffix}"
        controls.append({"DateTimePicker": {"ParameterControlId": control_id, "Title": label(key),
                                            "SourceParameterName": parameter}})
        elements.append({"ElementId": control_id, "ElementType": "PARAMETER_CONTROL",
                         "ColumnIndex": 9 * index, "ColumnSpan": 9, "RowIndex": 0, "RowSpan": 2})
    return controls, elements
