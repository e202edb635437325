"""Expand the visual catalogue and the sheet lists in ``quicksight/`` into QuickSight definitions.

Each visual is described once, compactly, in ``quicksight/catalogue/visuals.json``; the dashboard and each
analysis (``quicksight/sheets/<name>.json``) only list, per sheet, which visuals sit where. Everything QuickSight
needs beyond that follows rules, so it is derived here instead of being written (and drifting) by hand:

- field ids are ``<VisualId>.<column>.<n>``, ``n`` counting the visual's fields from 1 across its wells in order;
- axis and column labels are ``${label:col_<column>}`` unless the entry's ``labels`` names another key;
- every dataset with an ``activity_date`` column gets a DAY ``TimeRangeFilter`` on it, one with ``month`` a MONTH
  one, bound to the ``StartDate``/``EndDate`` parameters on all sheets; a dataset with neither is not filtered;
- every sheet gets the two date pickers; a calculated field is declared where a visual uses it;
- each filter control of ``catalogue/controls.json`` (tier, client, team, user) becomes a multi-valued string
  parameter, a drop-down on every sheet, and one parameter-bound ``CategoryFilter`` per declared dataset that has
  the column (``filter_controls``); a definition none of whose datasets has the column gets no such control;
- a sheet marked ``"detail": true`` is the one-user sheet (``detail_sheet``): a single-valued parameter
  (``DetailUser``) with its drop-down there and filters on that sheet only; every visual of the other sheets whose
  entry says ``"drill": "<column>"`` gets a click action that sets the parameter from that field and opens it.

The output is the same ``{"Name", "Definition"}`` document the definition files held before, placeholders
unfilled; ``definitions.load_raw`` returns it and both renderers read only that. quicksight/README.md documents
the format. Errors name the file and the entry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import InputError

ROOT = Path(__file__).resolve().parents[3] / "quicksight"
VISUALS_FILE = ROOT / "catalogue" / "visuals.json"
CONTROLS_FILE = ROOT / "catalogue" / "controls.json"
SHEETS_DIR = ROOT / "sheets"

# Catalogue "type" → QuickSight visual member, and the field wells each type has, in field-numbering order.
WELLS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...]]] = {
    "KPIVisual": ("", (("values", "Values"),)),
    "LineChartVisual": ("LineChartAggregatedFieldWells",
                        (("category", "Category"), ("values", "Values"), ("colors", "Colors"))),
    "BarChartVisual": ("BarChartAggregatedFieldWells", (("category", "Category"), ("values", "Values"))),
    "PieChartVisual": ("PieChartAggregatedFieldWells", (("category", "Category"), ("values", "Values"))),
    "TableVisual": ("TableAggregatedFieldWells", (("group_by", "GroupBy"), ("values", "Values"))),
}
ENTRY_KEYS = {"type", "dataset", "title", "subtitle", "category", "values", "colors", "group_by", "sort", "limit",
              "orientation", "arrangement", "labels", "drill"}
NUMERIC_AGGREGATIONS = ("SUM", "MAX", "MIN", "AVERAGE")
CATEGORICAL_AGGREGATIONS = ("DISTINCT_COUNT", "COUNT")
DATE_GRANULARITIES = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")
FIELD_RE = re.compile(r"^(?:(?P<agg>[A-Z_]+) )?(?P<column>[a-z][a-z0-9_]*)(?: %(?P<pct>\d))?$")
PAGE_SIZE = 50
# Dataset column → (granularity) of the date-range filter; the first column a dataset has wins.
DATE_COLUMNS: Tuple[Tuple[str, str], ...] = (("activity_date", "DAY"), ("month", "MONTH"))
PARAMETERS = [
    {"DateTimeParameterDeclaration": {"Name": "StartDate", "TimeGranularity": "DAY", "DefaultValues": {
        "RollingDate": {"Expression": "addDateTime(-90, 'DD', truncDate('DD', now()))"}}}},
    {"DateTimeParameterDeclaration": {"Name": "EndDate", "TimeGranularity": "DAY", "DefaultValues": {
        "RollingDate": {"Expression": "truncDate('DD', now())"}}}},
]
ANALYSIS_DEFAULTS = {"DefaultNewSheetConfiguration": {
    "InteractiveLayoutConfiguration": {"Grid": {"CanvasSizeOptions": {"ScreenCanvasSizeOptions": {
        "ResizeOption": "RESPONSIVE"}}}},
    "SheetContentType": "INTERACTIVE"}}


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def sheets_path(name: str) -> Path:
    return SHEETS_DIR / f"{name}.json"


def load_catalogue() -> Dict[str, Any]:
    data = read_json(VISUALS_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("visuals"), dict):
        raise InputError(f"{VISUALS_FILE}: expected an object with a \"visuals\" object")
    return data


def label(key: str) -> str:
    return f"${{label:{key}}}"


def _text(key: str) -> Dict[str, Any]:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": label(key)}}


class _Visual:
    """One catalogue entry expanded under a visual id (the entry's own id, or the id of a placed copy)."""

    def __init__(self, visual_id: str, entry: Mapping[str, Any], where: str, calculated: Mapping[str, Any]):
        self.id, self.entry, self.where = visual_id, entry, where
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        self.kind = entry.get("type")
        if self.kind not in WELLS:
            raise InputError(f"{where}: type {self.kind!r} is not one of {', '.join(WELLS)}")
        self.dataset = entry.get("dataset")
        if not isinstance(self.dataset, str):
            raise InputError(f"{where}: dataset must be a view name")
        self.calculated = calculated
        self.count = 0  # fields so far: the <n> of the next field id
        self.by_column: Dict[str, List[str]] = {}
        self.used_calculated: List[str] = []

    def column(self, name: str) -> Dict[str, str]:
        return {"DataSetIdentifier": self.dataset, "ColumnName": name}

    def field(self, well: str, spec: Any) -> Dict[str, Any]:
        match = FIELD_RE.match(spec) if isinstance(spec, str) else None
        if not match:
            raise InputError(f"{self.where}: field {spec!r} is not '[AGGREGATION ]column[ %digits]'")
        agg, column, pct = match.group("agg"), match.group("column"), match.group("pct")
        self.count += 1
        field_id = f"{self.id}.{column}.{self.count}"
        self.by_column.setdefault(column, []).append(field_id)
        ref = {"FieldId": field_id, "Column": self.column(column)}
        if well != "values":
            if pct is not None:
                raise InputError(f"{self.where}: field {spec!r}: a dimension has no percentage format")
            if agg is None:
                return {"CategoricalDimensionField": ref}
            if agg not in DATE_GRANULARITIES:
                raise InputError(f"{self.where}: field {spec!r}: {agg} is not a date granularity")
            return {"DateDimensionField": {**ref, "DateGranularity": agg}}
        if agg in CATEGORICAL_AGGREGATIONS:
            if pct is not None:
                raise InputError(f"{self.where}: field {spec!r}: a count has no percentage format")
            return {"CategoricalMeasureField": {**ref, "AggregationFunction": agg}}
        measure: Dict[str, Any] = dict(ref)
        if agg is None:
            # Only a calculated field goes unaggregated: its expression already aggregates (README: ratios).
            if column not in self.calculated:
                raise InputError(f"{self.where}: field {spec!r} needs an aggregation (it is no calculated field)")
            if column not in self.used_calculated:
                self.used_calculated.append(column)
        elif agg in NUMERIC_AGGREGATIONS:
            measure["AggregationFunction"] = {"SimpleNumericalAggregation": agg}
        else:
            raise InputError(f"{self.where}: field {spec!r}: unknown aggregation {agg}")
        if pct is not None:
            measure["FormatConfiguration"] = {"FormatConfiguration": {"PercentageDisplayFormatConfiguration": {
                "DecimalPlacesConfiguration": {"DecimalPlaces": int(pct)}}}}
        return {"NumericalMeasureField": measure}

    def field_id(self, column: str, purpose: str) -> str:
        ids = self.by_column.get(column, [])
        if len(ids) != 1:
            raise InputError(f"{self.where}: {purpose} names column {column!r}, which is "
                             f"{'not a field' if not ids else 'in several fields'} of this visual")
        return ids[0]

    def label_for(self, field: Mapping[str, Any]) -> str:
        body = next(iter(field.values()))
        column = body["Column"]["ColumnName"]
        return label(self.entry.get("labels", {}).get(column, f"col_{column}"))

    def axis(self, fields: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
        options = []
        for field in fields:
            body = next(iter(field.values()))
            options.append({"CustomLabel": self.label_for(field),
                            "ApplyTo": {"FieldId": body["FieldId"], "Column": body["Column"]}})
        return {"AxisLabelOptions": options}

    def sorts(self) -> List[Dict[str, Any]]:
        result = []
        for spec in self.entry.get("sort", []):
            column, _, direction = str(spec).partition(" ")
            if direction not in ("ASC", "DESC"):
                raise InputError(f"{self.where}: sort {spec!r} is not 'column ASC|DESC'")
            result.append({"FieldSort": {"FieldId": self.field_id(column, "sort"), "Direction": direction}})
        return result

    def expand(self) -> Dict[str, Any]:
        wells_member, wells = WELLS[self.kind]
        filled: Dict[str, List[Dict[str, Any]]] = {}
        for key, member in wells:
            specs = self.entry.get(key, [])
            if not isinstance(specs, list):
                raise InputError(f"{self.where}: {key} must be a list of fields")
            if specs:
                filled[member] = [self.field(key, spec) for spec in specs]
        for key in ("category", "values", "colors", "group_by"):
            if key in self.entry and key not in dict(wells):
                raise InputError(f"{self.where}: a {self.kind} has no {key} well")
        if not filled.get("Values"):
            raise InputError(f"{self.where}: no values")
        field_wells = {wells_member: filled} if wells_member else filled
        chart: Dict[str, Any] = {"FieldWells": field_wells}
        category = filled.get("Category", [])
        values = filled.get("Values", [])
        sort = self.sorts()
        if self.kind == "LineChartVisual":
            chart.update(Type="LINE", XAxisLabelOptions=self.axis(category),
                         PrimaryYAxisLabelOptions=self.axis(values), SortConfiguration={"CategorySort": sort})
        elif self.kind in ("BarChartVisual", "PieChartVisual"):
            chart.update(CategoryLabelOptions=self.axis(category), ValueLabelOptions=self.axis(values))
            sort_config: Dict[str, Any] = {"CategorySort": sort}
            if "limit" in self.entry:
                sort_config["CategoryItemsLimit"] = {"ItemsLimit": self.entry["limit"], "OtherCategories": "EXCLUDE"}
            chart["SortConfiguration"] = sort_config
            if self.kind == "BarChartVisual":
                chart.update(Orientation=self.entry.get("orientation", "VERTICAL"),
                             BarsArrangement=self.entry.get("arrangement", "CLUSTERED"))
        elif self.kind == "TableVisual":
            fields = [*filled.get("GroupBy", []), *values]
            chart["FieldOptions"] = {"SelectedFieldOptions": [
                {"FieldId": next(iter(f.values()))["FieldId"], "CustomLabel": self.label_for(f)} for f in fields]}
            chart["SortConfiguration"] = {"RowSort": sort,
                                          "PaginationConfiguration": {"PageSize": PAGE_SIZE, "PageNumber": 1}}
        for key in ("limit", "orientation", "arrangement"):
            if key in self.entry and not (self.kind == "BarChartVisual" or (key == "limit" and
                                                                              self.kind == "PieChartVisual")):
                raise InputError(f"{self.where}: {key} applies to bar charts only")
        if self.kind == "KPIVisual" and sort:
            raise InputError(f"{self.where}: a KPI has no sort")
        body: Dict[str, Any] = {"VisualId": self.id, "Title": _text(self._key("title"))}
        if "subtitle" in self.entry:
            body["Subtitle"] = _text(self._key("subtitle"))
        body["ChartConfiguration"] = chart
        return {self.kind: body}

    def _key(self, name: str) -> str:
        value = self.entry.get(name)
        if not isinstance(value, str) or not value:
            raise InputError(f"{self.where}: {name} must be a label key")
        return value


def expand_visual(visual_id: str, entry: Mapping[str, Any], where: str,
                  calculated: Mapping[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """A catalogue entry as a QuickSight visual under ``visual_id``, and the calculated fields it uses."""
    visual = _Visual(visual_id, entry, where, calculated)
    return visual.expand(), visual.used_calculated


def date_filter(view: str, columns: Sequence[str]) -> Optional[Dict[str, Any]]:
    """The date-range filter group for a dataset with these columns, or None (no date column: not filtered)."""
    for column, granularity in DATE_COLUMNS:
        if column in columns:
            group_id = f"date-range-{view.replace('_', '-')}"
            return {"FilterGroupId": group_id, "CrossDataset": "SINGLE_DATASET", "Status": "ENABLED",
                    "ScopeConfiguration": {"AllSheets": {}},
                    "Filters": [{"TimeRangeFilter": {
                        "FilterId": f"{group_id}-filter",
                        "Column": {"DataSetIdentifier": view, "ColumnName": column},
                        "IncludeMinimum": True, "IncludeMaximum": True, "NullOption": "NON_NULLS_ONLY",
                        "TimeGranularity": granularity,
                        "RangeMinimumValue": {"Parameter": "StartDate"},
                        "RangeMaximumValue": {"Parameter": "EndDate"}}}]}
    return None


def load_controls() -> List[Dict[str, str]]:
    data = read_json(CONTROLS_FILE)
    filters = data.get("filters") if isinstance(data, dict) else None
    if not isinstance(filters, list) or not all(
            isinstance(f, dict) and set(f) == {"parameter", "column", "title"} for f in filters):
        raise InputError(f"{CONTROLS_FILE}: expected {{\"filters\": [{{\"parameter\", \"column\", \"title\"}}, ...]}}")
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
    control: Dict[str, Any] = {"ParameterControlId": control_id, "Title": label(title),
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
    detail["ParameterControls"].append(_drop_down(control_id, spec["title"], parameter, "SINGLE_SELECT",
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
                    sheet_ids: Sequence[str]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]],
                                                       Dict[str, List[Dict[str, Any]]]]:
    """(parameter declarations, filter groups, drop-downs per sheet) for the controls that apply to ``views``.

    QuickSight API reference: a multi-valued ``StringParameterDeclaration`` (ParameterValueType MULTI_VALUED)
    holds the choice; a ``ParameterDropDownControl`` (Type MULTI_SELECT) sets it, its ``SelectableValues`` linked
    to a dataset column (LinkToDataSetColumn) so the list is the data's own values; a ``CategoryFilter`` with a
    ``CustomFilterConfiguration`` names the parameter (``ParameterName``, exclusive with ``CategoryValue``) and
    ``SelectAllOptions: FILTER_ALL_VALUES``, so "select all" (the unset default) keeps every row. A filter works on
    one dataset, so each dataset with the column gets its own filter on the one parameter (ParameterControls, not
    FilterControls: a filter control drives a single filter). NullOption ALL_VALUES: rows without a value (a user
    never seen in the credit report has no tier) stay visible under "all", so the default numbers are unchanged.
    """
    parameters, groups = [], []
    controls: Dict[str, List[Dict[str, Any]]] = {sheet_id: [] for sheet_id in sheet_ids}
    for spec in load_controls():
        parameter, column = spec["parameter"], spec["column"]
        having = [view for view in views if column in dataset_columns.get(view, ())]
        if not having:
            continue
        parameters.append({"StringParameterDeclaration": {"ParameterValueType": "MULTI_VALUED", "Name": parameter}})
        for view in having:
            groups.append(_parameter_filter(f"control-{parameter.lower()}-{view.replace('_', '-')}", view, column,
                                            parameter, {"AllSheets": {}}))
        for sheet_id in sheet_ids:
            controls[sheet_id].append(_drop_down(f"{sheet_id}-{parameter.lower()}", spec["title"], parameter,
                                                 "MULTI_SELECT", having[0], column))
    return parameters, groups, controls


def _control_elements(controls: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Drop-downs share row 0 right of the two date pickers (columns 18-35), the last ones one column wider."""
    elements, column = [], 18
    for index, control in enumerate(controls):
        span = 18 // len(controls) + (1 if index >= len(controls) - 18 % len(controls) else 0)
        elements.append({"ElementId": control["Dropdown"]["ParameterControlId"], "ElementType": "PARAMETER_CONTROL",
                         "ColumnIndex": column, "ColumnSpan": span, "RowIndex": 0, "RowSpan": 2})
        column += span
    return elements


def _date_controls(sheet_id: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    controls, elements = [], []
    for index, (suffix, parameter, key) in enumerate((("start", "StartDate", "control_start_date"),
                                                     ("end", "EndDate", "control_end_date"))):
        control_id = f"{sheet_id}-{suffix}"
        controls.append({"DateTimePicker": {"ParameterControlId": control_id, "Title": label(key),
                                            "SourceParameterName": parameter}})
        elements.append({"ElementId": control_id, "ElementType": "PARAMETER_CONTROL",
                         "ColumnIndex": 9 * index, "ColumnSpan": 9, "RowIndex": 0, "RowSpan": 2})
    return controls, elements


def expand(name: str, dataset_columns: Mapping[str, Sequence[str]]) -> Dict[str, Any]:
    """The definition ``name`` (dashboard or analysis) as {"Name", "Definition"}, placeholders unfilled."""
    path = sheets_path(name)
    spec = read_json(path)
    if not isinstance(spec, dict) or set(spec) != {"name", "datasets", "sheets"}:
        raise InputError(f"{path}: expected an object with exactly the keys name, datasets and sheets")
    catalogue = load_catalogue()
    entries, calculated = catalogue["visuals"], catalogue.get("calculated_fields", {})
    sheets, used_views, used_calculated = [], [], []
    drills: Dict[str, str] = {}
    detail_ids = [sheet.get("id") for sheet in spec["sheets"] if isinstance(sheet, dict) and sheet.get("detail")]
    if len(detail_ids) > 1:
        raise InputError(f"{path}: at most one detail sheet, found {detail_ids}")
    for index, sheet in enumerate(spec["sheets"]):
        where = f"{path}: sheets[{index}]"
        if not isinstance(sheet, dict) or not {"id", "name", "visuals"} <= set(sheet) <= {"id", "name", "visuals",
                                                                                           "detail"}:
            raise InputError(f"{where}: expected an object with the keys id, name, visuals (and detail)")
        controls, elements = _date_controls(sheet["id"])
        visuals = []
        for place in sheet["visuals"]:
            visual_id, source = place.get("id"), place.get("from", place.get("id"))
            if source not in entries:
                raise InputError(f"{where}: visual {source!r} is not in {VISUALS_FILE.name}")
            entry = entries[source]
            visual, uses = expand_visual(visual_id, entry, f"{VISUALS_FILE.name}: {source}", calculated)
            visuals.append(visual)
            if "drill" in entry:
                drills[visual_id] = entry["drill"]
            if entry["dataset"] not in used_views:
                used_views.append(entry["dataset"])
            used_calculated.extend(name for name in uses if name not in used_calculated)
            column, span, row, row_span = place["at"]
            elements.append({"ElementId": visual_id, "ElementType": "VISUAL", "ColumnIndex": column,
                             "ColumnSpan": span, "RowIndex": row, "RowSpan": row_span})
        sheets.append({"SheetId": sheet["id"], "Name": label(sheet["name"]), "Title": label(sheet["name"]),
                       "ContentType": "INTERACTIVE", "ParameterControls": controls, "Visuals": visuals,
                       "Layouts": [{"Configuration": {"GridLayout": {"Elements": elements}}}]})
    views = spec["datasets"]
    if sorted(views) != sorted(used_views):
        missing, unused = sorted(set(used_views) - set(views)), sorted(set(views) - set(used_views))
        raise InputError(f"{path}: datasets must list exactly the views its visuals read: "
                         f"missing {missing}, unused {unused}")
    parameters, control_groups, drop_downs = filter_controls(views, dataset_columns, [s["SheetId"] for s in sheets])
    for sheet in sheets:
        sheet["ParameterControls"].extend(drop_downs[sheet["SheetId"]])
        grid = sheet["Layouts"][0]["Configuration"]["GridLayout"]["Elements"]
        grid[2:2] = _control_elements(drop_downs[sheet["SheetId"]])
    body: Dict[str, Any] = {
        "DataSetIdentifierDeclarations": [{"Identifier": view, "DataSetArn": f"${{dataset_arn:{view}}}"}
                                          for view in views],
        "ParameterDeclarations": [*json.loads(json.dumps(PARAMETERS)), *parameters],
    }
    detail_groups: List[Dict[str, Any]] = []
    if detail_ids:
        declaration, detail_groups = detail_sheet(sheets, detail_ids[0], views, dataset_columns, drills)
        body["ParameterDeclarations"].append(declaration)
    ordered_calculated = [name for name in calculated if name in used_calculated]
    if ordered_calculated:
        body["CalculatedFields"] = [{"DataSetIdentifier": calculated[n]["dataset"], "Name": n,
                                     "Expression": calculated[n]["expression"]} for n in ordered_calculated]
    body["Sheets"] = sheets
    groups = [date_filter(view, dataset_columns.get(view, ())) for view in views]
    body["FilterGroups"] = [*(group for group in groups if group), *control_groups, *detail_groups]
    body["AnalysisDefaults"] = json.loads(json.dumps(ANALYSIS_DEFAULTS))
    return {"Name": label(spec["name"]), "Definition": body}
