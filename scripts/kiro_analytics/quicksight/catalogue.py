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
  parameter, a drop-down on every sheet listing its ``values`` view's column (declared if no visual reads it), and
  one parameter-bound ``CategoryFilter`` per declared dataset that has the column (``filter_controls``); the
  drop-down's title says when it filters only some or none of the sheet's visuals;
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
from . import controls as sheet_controls
from .controls import label, read_json

ROOT = Path(__file__).resolve().parents[3] / "quicksight"
VISUALS_FILE = ROOT / "catalogue" / "visuals.json"
SHEETS_DIR = ROOT / "sheets"

# Catalogue "type" → QuickSight visual member, and the field wells each type has, in field-numbering order.
WELLS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...]]] = {
    "KPIVisual": ("", (("values", "Values"),)),
    "LineChartVisual": ("LineChartAggregatedFieldWells",
                        (("category", "Category"), ("values", "Values"), ("colors", "Colors"))),
    "BarChartVisual": ("BarChartAggregatedFieldWells",
                       (("category", "Category"), ("values", "Values"), ("colors", "Colors"))),
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


def sheets_path(name: str) -> Path:
    return SHEETS_DIR / f"{name}.json"


def load_catalogue() -> Dict[str, Any]:
    data = read_json(VISUALS_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("visuals"), dict):
        raise InputError(f"{VISUALS_FILE}: expected an object with a \"visuals\" object")
    return data


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


def _place(place: Any, where: str) -> Tuple[str, str, List[int]]:
    """(visual id, catalogue entry it shows, [column, span, row, row span]) of one placed visual."""
    if not isinstance(place, dict) or not {"id", "at"} <= set(place) <= {"id", "from", "at"}:
        raise InputError(f"{where}: a placed visual is {{\"id\", \"at\"}} (and \"from\"), not {place!r}")
    at = place["at"]
    if not (isinstance(at, list) and len(at) == 4 and all(isinstance(n, int) and n >= 0 for n in at)):
        raise InputError(f"{where}: {place['id']}: \"at\" is [column, column span, row, row span], not {at!r}")
    return place["id"], place.get("from", place["id"]), at


class _Uses:
    """What the placed visuals of one definition read: views and calculated fields in order, drill columns."""

    def __init__(self) -> None:
        self.views: List[str] = []
        self.calculated: List[str] = []
        self.drills: Dict[str, str] = {}
        self.sheet_views: Dict[str, List[str]] = {}  # sheet id -> the view of each of its visuals


def _sheet(sheet: Any, where: str, entries: Mapping[str, Any], calculated: Mapping[str, Any],
           uses: _Uses) -> Dict[str, Any]:
    if not isinstance(sheet, dict) or not {"id", "name", "visuals"} <= set(sheet) <= {"id", "name", "visuals",
                                                                                       "detail"}:
        raise InputError(f"{where}: expected an object with the keys id, name, visuals (and detail)")
    pickers, elements = sheet_controls.date_controls(sheet["id"])
    visuals = []
    for place in sheet["visuals"]:
        visual_id, source, (column, span, row, row_span) = _place(place, where)
        if source not in entries:
            raise InputError(f"{where}: visual {source!r} is not in {VISUALS_FILE.name}")
        entry = entries[source]
        visual, used = expand_visual(visual_id, entry, f"{VISUALS_FILE.name}: {source}", calculated)
        visuals.append(visual)
        if "drill" in entry:
            uses.drills[visual_id] = entry["drill"]
        uses.sheet_views.setdefault(sheet["id"], []).append(entry["dataset"])
        if entry["dataset"] not in uses.views:
            uses.views.append(entry["dataset"])
        uses.calculated.extend(name for name in used if name not in uses.calculated)
        elements.append({"ElementId": visual_id, "ElementType": "VISUAL", "ColumnIndex": column,
                         "ColumnSpan": span, "RowIndex": row, "RowSpan": row_span})
    return {"SheetId": sheet["id"], "Name": label(sheet["name"]), "Title": label(sheet["name"]),
            "ContentType": "INTERACTIVE", "ParameterControls": pickers, "Visuals": visuals,
            "Layouts": [{"Configuration": {"GridLayout": {"Elements": elements}}}]}


def expand(name: str, dataset_columns: Mapping[str, Sequence[str]]) -> Dict[str, Any]:
    """The definition ``name`` (dashboard or analysis) as {"Name", "Definition"}, placeholders unfilled."""
    path = sheets_path(name)
    spec = read_json(path)
    if not isinstance(spec, dict) or set(spec) != {"name", "datasets", "sheets"}:
        raise InputError(f"{path}: expected an object with exactly the keys name, datasets and sheets")
    catalogue = load_catalogue()
    entries, calculated = catalogue["visuals"], catalogue.get("calculated_fields", {})
    detail_ids = [sheet.get("id") for sheet in spec["sheets"] if isinstance(sheet, dict) and sheet.get("detail")]
    if len(detail_ids) > 1:
        raise InputError(f"{path}: at most one detail sheet, found {detail_ids}")
    uses = _Uses()
    sheets = [_sheet(sheet, f"{path}: sheets[{index}]", entries, calculated, uses)
              for index, sheet in enumerate(spec["sheets"])]
    used_views, used_calculated, drills = uses.views, uses.calculated, uses.drills
    views = spec["datasets"]
    if sorted(views) != sorted(used_views):
        missing, unused = sorted(set(used_views) - set(views)), sorted(set(views) - set(used_views))
        raise InputError(f"{path}: datasets must list exactly the views its visuals read: "
                         f"missing {missing}, unused {unused}")
    parameters, control_groups, drop_downs, value_views = sheet_controls.filter_controls(
        views, dataset_columns, uses.sheet_views, detail_ids[0] if detail_ids else None)
    for sheet in sheets:
        sheet["ParameterControls"].extend(drop_downs[sheet["SheetId"]])
        grid = sheet["Layouts"][0]["Configuration"]["GridLayout"]["Elements"]
        grid[2:2] = sheet_controls.control_elements(drop_downs[sheet["SheetId"]])
    body: Dict[str, Any] = {
        "DataSetIdentifierDeclarations": [{"Identifier": view, "DataSetArn": f"${{dataset_arn:{view}}}"}
                                          for view in [*views, *value_views]],
        "ParameterDeclarations": [*json.loads(json.dumps(PARAMETERS)), *parameters],
    }
    detail_groups: List[Dict[str, Any]] = []
    if detail_ids:
        declaration, detail_groups = sheet_controls.detail_sheet(sheets, detail_ids[0], views, dataset_columns, drills)
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
