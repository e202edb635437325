"""Read a QuickSight dashboard definition into plain specs the local HTML renderer can draw.

This is the local half of "one definition, two renderers": the same `quicksight/dashboard.json`
QuickSight receives is interpreted here, field well by field well. Anything this renderer cannot
draw faithfully (a visual type, a field kind, an aggregation, a filter) raises InputError naming
the visual or filter, rather than drawing something that silently differs from QuickSight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from kiro_analytics.errors import InputError
from kiro_analytics.quicksight.references import SUPPORTED_EXPRESSIONS, parse_ratio

from .controls import (
    CategoryFilter,
    ClickAction,
    Control,
    Parameter,
    parse_actions,
    parse_category_filter,
    parse_controls,
    parse_parameters,
)

# QuickSight visual type -> (short kind used by the JS renderer, field-wells key or None for KPI).
SUPPORTED_VISUALS: Dict[str, Tuple[str, Optional[str]]] = {
    "KPIVisual": ("kpi", None),
    "LineChartVisual": ("line", "LineChartAggregatedFieldWells"),
    "BarChartVisual": ("bar", "BarChartAggregatedFieldWells"),
    "PieChartVisual": ("pie", "PieChartAggregatedFieldWells"),
    "TableVisual": ("table", "TableAggregatedFieldWells"),
}
# QuickSight's SimpleNumericalAggregation names -> the mergeable aggregations the page computes.
NUMERIC_AGGREGATIONS = {"SUM": "SUM", "AVERAGE": "AVG", "MIN": "MIN", "MAX": "MAX", "COUNT": "COUNT",
                        "DISTINCT_COUNT": "DISTINCT_COUNT"}
CATEGORICAL_AGGREGATIONS = {"COUNT": "COUNT", "DISTINCT_COUNT": "DISTINCT_COUNT"}
DATE_AGGREGATIONS = {"COUNT": "COUNT", "DISTINCT_COUNT": "DISTINCT_COUNT", "MIN": "MIN", "MAX": "MAX"}
GRANULARITIES = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")
FILTER_KINDS = ("TimeRangeFilter", "TopBottomFilter", "CategoryFilter")
_TAG_RE = re.compile(r"<[^>]+>")
# (DataSetIdentifier, Name) -> Expression of the definition's CalculatedFields.
Calculated = Mapping[Tuple[str, str], str]


@dataclass(frozen=True)
class Field:
    field_id: str
    column: str
    dataset: str
    role: str                       # category | color | group | trend | value | raw
    kind: str                       # dimension: cat | date | num ; measure: the aggregation
    granularity: str = ""
    label: str = ""
    number_format: Mapping[str, Any] = field(default_factory=dict)
    hidden: bool = False
    sources: Tuple[str, ...] = ()   # RATIO: (numerator column, denominator column) of the calculated field


@dataclass(frozen=True)
class DateFilter:
    dataset: str
    column: str
    granularity: str
    all_datasets: bool


@dataclass
class VisualSpec:
    visual_id: str
    qs_type: str
    kind: str
    title: str
    subtitle: str
    dataset: str
    dimensions: List[Field]
    measures: List[Field]
    raw: bool = False
    sort: List[Tuple[str, str]] = field(default_factory=list)       # (field id, ASC|DESC)
    limit: Optional[int] = None
    other: bool = False
    top: Optional[Dict[str, Any]] = None                               # TopBottomFilter
    date_filters: List[DateFilter] = field(default_factory=list)
    options: Dict[str, Any] = field(default_factory=dict)
    span: int = 36
    category_filters: List[CategoryFilter] = field(default_factory=list)
    actions: List[ClickAction] = field(default_factory=list)
    action_bodies: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class SheetSpec:
    sheet_id: str
    name: str
    visuals: List[VisualSpec]
    control_titles: Dict[str, str]
    controls: List[Control] = field(default_factory=list)


def parse_dashboard(document: Mapping[str, Any]) -> Tuple[str, List[SheetSpec]]:
    """(dashboard name, sheets) from a dashboard document or a bare DashboardVersionDefinition."""
    name, sheets, _parameters = parse_definition(document)
    return name, sheets


def parse_definition(document: Mapping[str, Any]) -> Tuple[str, List[SheetSpec], Dict[str, Parameter]]:
    """(name, sheets, string parameters) of a dashboard or analysis document, controls and actions resolved."""
    definition = document.get("Definition", document)
    name = str(document.get("Name", ""))
    calculated = {(str(item.get("DataSetIdentifier", "")), str(item.get("Name", ""))): str(item.get("Expression", ""))
                  for item in definition.get("CalculatedFields", [])}
    parameters = parse_parameters(definition)
    sheets = [_sheet(sheet, calculated, parameters) for sheet in definition.get("Sheets", [])]
    if not sheets:
        raise InputError("dashboard definition has no Sheets")
    sheet_ids = [sheet.sheet_id for sheet in sheets]
    for sheet in sheets:
        for visual in sheet.visuals:
            dims = [d.field_id for d in visual.dimensions]
            visual.actions = parse_actions(visual.action_bodies, visual.visual_id, dims, parameters, sheet_ids)
    by_id = {visual.visual_id: (sheet.sheet_id, visual) for sheet in sheets for visual in sheet.visuals}
    for group in definition.get("FilterGroups", []):
        _apply_filter_group(group, sheets, by_id, parameters)
    return name, sheets, parameters


def plain_text(label: Optional[Mapping[str, Any]]) -> str:
    """Visible text of a QuickSight Title/Subtitle (PlainText, or RichText with its tags removed)."""
    if not label or label.get("Visibility") == "HIDDEN":
        return ""
    text = label.get("FormatText", {})
    if "PlainText" in text:
        return str(text["PlainText"])
    return _TAG_RE.sub("", str(text.get("RichText", ""))).strip()


def _sheet(sheet: Mapping[str, Any], calculated: Calculated, parameters: Mapping[str, Parameter]) -> SheetSpec:
    spans = _layout_spans(sheet)
    visuals = []
    for entry in sheet.get("Visuals", []):
        spec = _visual(entry, calculated)
        spec.span = spans.get(spec.visual_id, 36 if spec.kind != "kpi" else 9)
        visuals.append(spec)
    order = _layout_order(sheet)
    visuals.sort(key=lambda v: order.get(v.visual_id, (1 << 30, 0)))
    titles: Dict[str, str] = {}
    for control in sheet.get("ParameterControls", []):
        for body in control.values():
            if isinstance(body, Mapping) and body.get("SourceParameterName"):
                titles[str(body["SourceParameterName"])] = str(body.get("Title", ""))
    return SheetSpec(str(sheet.get("SheetId", "")), str(sheet.get("Name", "")), visuals, titles,
                     parse_controls(sheet, parameters))


def _grid_elements(sheet: Mapping[str, Any]) -> List[Mapping[str, Any]]:
    elements: List[Mapping[str, Any]] = []
    for layout in sheet.get("Layouts", []):
        grid = layout.get("Configuration", {}).get("GridLayout", {})
        elements.extend(grid.get("Elements", []))
    return elements


def _layout_spans(sheet: Mapping[str, Any]) -> Dict[str, int]:
    return {str(e["ElementId"]): int(e.get("ColumnSpan", 36)) for e in _grid_elements(sheet) if "ElementId" in e}


def _layout_order(sheet: Mapping[str, Any]) -> Dict[str, Tuple[int, int]]:
    order = {}
    for position, element in enumerate(_grid_elements(sheet)):
        row = element.get("RowIndex")
        order[str(element.get("ElementId"))] = (int(row), int(element.get("ColumnIndex", 0))) if row is not None \
            else (position, 0)
    return order


def _visual(entry: Mapping[str, Any], calculated: Calculated) -> VisualSpec:
    if len(entry) != 1:
        raise InputError(f"a visual entry must hold exactly one visual type, got {sorted(entry)}")
    qs_type, body = next(iter(entry.items()))
    visual_id = str(body.get("VisualId", "?"))
    if qs_type not in SUPPORTED_VISUALS:
        raise InputError(f"visual {visual_id}: type {qs_type} is not supported by the local HTML renderer "
                         f"(supported: {', '.join(sorted(SUPPORTED_VISUALS))})")
    kind, wells_key = SUPPORTED_VISUALS[qs_type]
    config = body.get("ChartConfiguration", {})
    labels = _custom_labels(config)
    wells = config.get("FieldWells", {})
    raw = False
    if kind == "kpi":
        if wells.get("TargetValues"):
            raise InputError(f"visual {visual_id}: KPI TargetValues are not supported locally")
        roles = {"Values": "value", "TrendGroups": "trend"}
    elif kind == "table" and "TableUnaggregatedFieldWells" in wells:
        wells, raw, roles = wells["TableUnaggregatedFieldWells"], True, {"Values": "raw"}
    else:
        roles = {"Category": "category", "Colors": "color", "GroupBy": "group", "Values": "value"}
        wells = wells.get(wells_key or "", {})
        if not wells:
            raise InputError(f"visual {visual_id}: {qs_type} needs FieldWells.{wells_key}")
        if wells.get("SmallMultiples"):
            raise InputError(f"visual {visual_id}: SmallMultiples are not supported locally")
    dims: List[Field] = []
    measures: List[Field] = []
    for well, role in roles.items():
        for item in wells.get(well, []):
            parsed = _field(visual_id, item, role, labels, calculated)
            (measures if role == "value" else dims).append(parsed)
    everything = dims + measures
    if not everything:
        raise InputError(f"visual {visual_id}: no fields in its field wells")
    datasets = {f.dataset for f in everything}
    if len(datasets) != 1:
        raise InputError(f"visual {visual_id}: fields come from several datasets {sorted(datasets)}")
    if not raw and not measures:
        raise InputError(f"visual {visual_id}: no Values (measures) to draw")
    spec = VisualSpec(visual_id, qs_type, kind, plain_text(body.get("Title")), plain_text(body.get("Subtitle")),
                      datasets.pop(), dims, measures, raw=raw)
    _sorting(spec, config.get("SortConfiguration", {}), everything)
    spec.options = {
        "orientation": config.get("Orientation", "HORIZONTAL"),
        "arrangement": config.get("BarsArrangement", "CLUSTERED"),
        "donut": bool(config.get("DonutOptions", {}).get("ArcOptions", {}).get("ArcThickness")),
        "pageSize": int(config.get("SortConfiguration", {}).get("PaginationConfiguration", {}).get("PageSize", 0)),
    }
    spec.action_bodies = {"Actions": body.get("Actions", [])}
    return spec


def _custom_labels(config: Mapping[str, Any]) -> Dict[str, str]:
    """FieldId -> label from every place QuickSight lets a definition name a field."""
    labels: Dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            apply_to = node.get("ApplyTo")
            field_id = node.get("FieldId") or (apply_to.get("FieldId") if isinstance(apply_to, Mapping) else None)
            text = node.get("CustomLabel") or node.get("Label")
            if field_id and isinstance(text, str) and text:
                labels.setdefault(str(field_id), text)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in config.items() if k != "FieldWells"})
    return labels


def _field(visual_id: str, item: Mapping[str, Any], role: str, labels: Mapping[str, str],
           calculated: Calculated) -> Field:
    if role == "raw":
        body, field_kind = item, "RawField"
    else:
        if len(item) != 1:
            raise InputError(f"visual {visual_id}: a field must hold one field type, got {sorted(item)}")
        field_kind, body = next(iter(item.items()))
    field_id = str(body.get("FieldId", ""))
    column = body.get("Column", {})
    if not field_id or not column.get("ColumnName") or not column.get("DataSetIdentifier"):
        raise InputError(f"visual {visual_id}: {field_kind} {field_id or '?'} needs FieldId and Column "
                         "(only dataset columns are supported locally, not calculated fields)")
    common = {"field_id": field_id, "column": str(column["ColumnName"]),
              "dataset": str(column["DataSetIdentifier"]), "role": role, "label": labels.get(field_id, "")}
    fmt = _number_format(body.get("FormatConfiguration", {}))
    expression = calculated.get((common["dataset"], common["column"]))
    if expression is not None:
        return _calculated_field(visual_id, field_kind, body, role, expression, fmt, common)
    if role == "raw":
        return Field(kind="", number_format=fmt, **common)
    if role != "value":
        kinds = {"CategoricalDimensionField": "cat", "DateDimensionField": "date", "NumericalDimensionField": "num"}
        if field_kind not in kinds:
            raise InputError(f"visual {visual_id}: {field_kind} {field_id} cannot be a dimension")
        granularity = str(body.get("DateGranularity", "DAY")) if field_kind == "DateDimensionField" else ""
        if granularity and granularity not in GRANULARITIES:
            raise InputError(f"visual {visual_id}: date granularity {granularity} of {field_id} is not supported")
        return Field(kind=kinds[field_kind], granularity=granularity, **common)
    aggregation = _aggregation(visual_id, field_kind, field_id, body.get("AggregationFunction"))
    return Field(kind=aggregation, number_format=fmt, **common)


def _calculated_field(visual_id: str, field_kind: str, body: Mapping[str, Any], role: str, expression: str,
                      fmt: Dict[str, Any], common: Dict[str, Any]) -> Field:
    """A measure on a calculated field: only the ratio of two sums, re-divided after every date filter."""
    name = common["column"]
    if role != "value" or field_kind != "NumericalMeasureField" or body.get("AggregationFunction"):
        raise InputError(f"visual {visual_id}: calculated field {name} can only be a NumericalMeasureField value "
                         "without AggregationFunction")
    ratio = parse_ratio(expression)
    if ratio is None:
        raise InputError(f"visual {visual_id}: calculated field {name} expression {expression!r} is not supported "
                         f"locally (supported: {SUPPORTED_EXPRESSIONS})")
    return Field(kind="RATIO", number_format=fmt, sources=ratio, **common)


def _aggregation(visual_id: str, field_kind: str, field_id: str, function: Any) -> str:
    if field_kind == "NumericalMeasureField":
        name = (function or {}).get("SimpleNumericalAggregation", "SUM") if isinstance(function, Mapping) \
            else str(function or "SUM")
        table = NUMERIC_AGGREGATIONS
    elif field_kind == "CategoricalMeasureField":
        name, table = str(function or "COUNT"), CATEGORICAL_AGGREGATIONS
    elif field_kind == "DateMeasureField":
        name, table = str(function or "COUNT"), DATE_AGGREGATIONS
    else:
        raise InputError(f"visual {visual_id}: measure {field_kind} {field_id} is not supported locally")
    if name not in table:
        raise InputError(f"visual {visual_id}: aggregation {name} of {field_id} is not supported locally "
                         f"(supported: {', '.join(table)})")
    return table[name]


def _number_format(config: Mapping[str, Any]) -> Dict[str, Any]:
    """A small subset of QuickSight's NumericFormatConfiguration: kind, decimals, prefix, suffix."""
    inner = config.get("FormatConfiguration", config) if isinstance(config, Mapping) else {}
    inner = inner.get("NumericFormatConfiguration", inner)
    for key, kind in (("CurrencyDisplayFormatConfiguration", "currency"),
                      ("PercentageDisplayFormatConfiguration", "percent"),
                      ("NumberDisplayFormatConfiguration", "number")):
        body = inner.get(key)
        if isinstance(body, Mapping):
            fmt: Dict[str, Any] = {"kind": kind}
            decimals = body.get("DecimalPlacesConfiguration", {}).get("DecimalPlaces")
            if decimals is not None:
                fmt["decimals"] = int(decimals)
            for src, dst in (("Prefix", "prefix"), ("Suffix", "suffix"), ("Symbol", "symbol")):
                if body.get(src):
                    fmt[dst] = str(body[src])
            return fmt
    return {}


def _sorting(spec: VisualSpec, sort: Mapping[str, Any], fields: List[Field]) -> None:
    by_column = {f.column: f.field_id for f in fields}
    for key in ("CategorySort", "RowSort", "TrendGroupSort"):
        for option in sort.get(key, []):
            if "FieldSort" in option:
                ref, direction = option["FieldSort"].get("FieldId"), option["FieldSort"].get("Direction", "ASC")
            elif "ColumnSort" in option:
                ref = by_column.get(option["ColumnSort"].get("SortBy", {}).get("ColumnName", ""))
                direction = option["ColumnSort"].get("Direction", "ASC")
            else:
                ref = None
            if ref not in {f.field_id for f in fields}:
                raise InputError(f"visual {spec.visual_id}: {key} refers to a field not in the visual: {option}")
            spec.sort.append((str(ref), str(direction)))
    for key in ("CategoryItemsLimit", "CategoryItemsLimitConfiguration"):
        limit = sort.get(key)
        if limit and limit.get("ItemsLimit"):
            spec.limit = int(limit["ItemsLimit"])
            spec.other = limit.get("OtherCategories", "INCLUDE") == "INCLUDE"


def _scoped_visuals(group: Mapping[str, Any], sheets: List[SheetSpec]) -> List[VisualSpec]:
    scope = group.get("ScopeConfiguration", {})
    if "AllSheets" in scope:
        return [v for sheet in sheets for v in sheet.visuals]
    chosen: List[VisualSpec] = []
    for entry in scope.get("SelectedSheets", {}).get("SheetVisualScopingConfigurations", []):
        wanted = set(entry.get("VisualIds", []))
        for sheet in sheets:
            if sheet.sheet_id == entry.get("SheetId"):
                everything = entry.get("Scope", "ALL_VISUALS") == "ALL_VISUALS"
                chosen.extend(v for v in sheet.visuals if everything or v.visual_id in wanted)
    return chosen


def _apply_filter_group(group: Mapping[str, Any], sheets: List[SheetSpec], by_id: Mapping[str, Any],
                        parameters: Mapping[str, Parameter]) -> None:
    if group.get("Status", "ENABLED") != "ENABLED":
        return
    group_id = group.get("FilterGroupId", "?")
    all_datasets = group.get("CrossDataset") == "ALL_DATASETS"
    visuals = _scoped_visuals(group, sheets)
    for entry in group.get("Filters", []):
        kind, body = next(iter(entry.items()))
        if kind not in FILTER_KINDS:
            raise InputError(f"filter group {group_id}: {kind} {body.get('FilterId', '?')} is not supported by "
                             f"the local HTML renderer (supported: {', '.join(FILTER_KINDS)})")
        column = body.get("Column", {})
        if kind == "TimeRangeFilter":
            date_filter = DateFilter(str(column.get("DataSetIdentifier", "")), str(column.get("ColumnName", "")),
                                     str(body.get("TimeGranularity", "DAY")), all_datasets)
            for visual in visuals:
                visual.date_filters.append(date_filter)
        elif kind == "CategoryFilter":
            category = parse_category_filter(body, group_id, all_datasets, parameters)
            for visual in visuals:
                visual.category_filters.append(category)
        else:
            for visual in visuals:
                _top_bottom(visual, body, group_id)


def _top_bottom(visual: VisualSpec, body: Mapping[str, Any], group_id: str) -> None:
    column = body.get("Column", {}).get("ColumnName")
    if column is None or body.get("Column", {}).get("DataSetIdentifier") != visual.dataset:
        return
    dims = [f for f in visual.dimensions if f.column == column]
    sorts = body.get("AggregationSortConfigurations", [])
    if not dims or len(sorts) != 1:
        raise InputError(f"filter group {group_id}: TopBottomFilter {body.get('FilterId', '?')} needs a dimension "
                         f"on {column} and one AggregationSortConfiguration in visual {visual.visual_id}")
    sort = sorts[0]
    function = sort.get("AggregationFunction", {})
    kind = "NumericalMeasureField" if "NumericalAggregationFunction" in function else "CategoricalMeasureField"
    aggregation = function.get("NumericalAggregationFunction") or function.get("CategoricalAggregationFunction")
    measure = Field(field_id=f"__top_{body.get('FilterId', 'f')}", column=str(sort.get("Column", {}).get("ColumnName")),
                    dataset=visual.dataset, role="value", hidden=True,
                    kind=_aggregation(visual.visual_id, kind, "TopBottomFilter", aggregation))
    visual.measures.append(measure)
    visual.top = {"field": dims[0].field_id, "measure": measure.field_id, "limit": int(body.get("Limit", 10)),
                  "direction": sort.get("SortDirection", "DESC")}
