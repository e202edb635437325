"""The QuickSight definitions in quicksight/: strict placeholders, the service model, cross-references, and the
dataset columns against the views the local engine really builds."""

from __future__ import annotations

import copy

import pytest
from kiro_analytics.errors import InputError
from kiro_analytics.quicksight import definitions, references
from kiro_analytics.request_validation import request_problems

ACCOUNT = "123456789012"


def _values(raw):
    return {key: f"arn:aws:quicksight:us-east-1:{ACCOUNT}:dataset/kiro-{key.split(':', 1)[1].replace('_', '-')}"
            for key in definitions.placeholders(raw) if key.startswith("dataset_arn:")}


@pytest.mark.parametrize("name", definitions.definition_names())
@pytest.mark.parametrize("language", definitions.LANGUAGES)
def test_every_definition_fills_and_passes_the_service_model(name, language):
    raw = definitions.load_raw(name)
    document = definitions.load_definition(name, language, _values(raw))
    assert "${" not in str(document)
    operation, id_key = ("CreateDashboard", "DashboardId") if name == "dashboard" else ("CreateAnalysis", "AnalysisId")
    params = {"AwsAccountId": ACCOUNT, id_key: f"kiro-{name}", "Name": document["Name"],
              "Definition": document["Definition"], "ValidationStrategy": {"Mode": "STRICT"}}
    assert request_problems("quicksight", operation, params) == []
    assert [kind for _, kind, _ in definitions.visuals(document)]  # every type supported, none empty


def test_all_definitions_pass_the_cross_reference_checker():
    assert references.check_all() == []


def test_dashboard_has_four_sheets_and_a_date_range_on_every_dated_dataset():
    body = definitions.load_raw("dashboard")["Definition"]
    assert [s["SheetId"] for s in body["Sheets"]] == ["overview", "user-behavior", "cost-analysis", "user-detail"]
    declared = [p["DateTimeParameterDeclaration"]["Name"] for p in body["ParameterDeclarations"]
                if "DateTimeParameterDeclaration" in p]
    assert declared == ["StartDate", "EndDate"]
    filtered = {g["Filters"][0]["TimeRangeFilter"]["Column"]["DataSetIdentifier"]: g for g in body["FilterGroups"]
                if "TimeRangeFilter" in g["Filters"][0]}
    for view in definitions.dataset_views(body):
        columns = references.dataset_columns(view)
        date_column = "activity_date" if "activity_date" in columns else "month"
        group = filtered[view]
        time_filter = group["Filters"][0]["TimeRangeFilter"]
        assert time_filter["Column"]["ColumnName"] == date_column
        assert time_filter["RangeMinimumValue"] == {"Parameter": "StartDate"}
        assert time_filter["RangeMaximumValue"] == {"Parameter": "EndDate"}
        assert group["ScopeConfiguration"] == {"AllSheets": {}}
    for sheet in body["Sheets"]:
        sources = sorted(c["DateTimePicker"]["SourceParameterName"] for c in sheet["ParameterControls"]
                         if "DateTimePicker" in c)
        assert sources == ["EndDate", "StartDate"]


def test_datasets_pass_the_service_model():
    for view in definitions.dataset_files():
        values = {f"dataset_name:{view}": f"kiro {view}", "database": "kiro_analytics",
                  "data_source_arn": f"arn:aws:quicksight:us-east-1:{ACCOUNT}:datasource/x"}
        data = definitions.load_dataset(view, "zh", values)
        params = {"AwsAccountId": ACCOUNT, "DataSetId": f"kiro-{view.replace('_', '-')}", **data}
        assert request_problems("quicksight", "CreateDataSet", params) == [], view
        assert references.check_dataset(view, data) == []


def test_labels_have_the_same_keys_and_every_label_is_used_and_defined():
    assert references.label_problems() == []
    zh, en = definitions.labels("zh"), definitions.labels("en")
    used = set()
    for raw in [*(definitions.load_raw(name) for name in definitions.definition_names()),
                *(definitions.load_raw_dataset(view) for view in definitions.dataset_files())]:
        used |= {key[6:] for key in definitions.placeholders(raw) if key.startswith("label:")}
    assert used <= set(zh), sorted(used - set(zh))
    # A label nothing uses is a translation nobody maintains: it drifts until someone wires it up wrongly.
    assert set(zh) <= used, sorted(set(zh) - used)
    assert zh["sheet_overview"] == "概览" and en["sheet_overview"] == "Overview"


def test_substitution_is_strict_and_names_the_json_path():
    raw = definitions.load_raw("dashboard")
    with pytest.raises(InputError) as missing:
        definitions.load_definition("dashboard", "zh", {})
    assert "$.Definition.DataSetIdentifierDeclarations[0].DataSetArn" in str(missing.value)
    assert "dashboard.json" in str(missing.value)
    broken = copy.deepcopy(raw)
    broken["Definition"]["Sheets"][0]["Name"] = "${label:no_such_label}"
    with pytest.raises(InputError, match=r"Sheets\[0\]\.Name: no label 'no_such_label'"):
        definitions.substitute(broken, "en", _values(raw), "x.json")
    broken["Definition"]["Sheets"][0]["Name"] = "${label:half"
    with pytest.raises(InputError, match="malformed placeholder"):
        definitions.substitute(broken, "en", _values(raw), "x.json")
    with pytest.raises(InputError, match="unknown dashboard language"):
        definitions.load_definition("dashboard", "fr", _values(raw))


def _first_visual(body, kind):
    for sheet in body["Sheets"]:
        for visual in sheet["Visuals"]:
            if kind in visual:
                return visual[kind]
    raise AssertionError(kind)


def _calculated(body):
    return body["CalculatedFields"][0]


def _ratio_kpi(body):
    for sheet in body["Sheets"]:
        for visual in sheet["Visuals"]:
            if visual.get("KPIVisual", {}).get("VisualId") == "ub-kpi-acceptance-rate":
                return visual["KPIVisual"]["ChartConfiguration"]["FieldWells"]["Values"][0]
    raise AssertionError("no acceptance-rate KPI")


def _drop_ratio_uses(body):
    for sheet in body["Sheets"]:
        sheet["Visuals"] = [v for v in sheet["Visuals"] if "inline_acceptance_ratio" not in str(v)]
        grid = sheet["Layouts"][0]["Configuration"]["GridLayout"]
        kept = {next(iter(v.values()))["VisualId"] for v in sheet["Visuals"]}
        grid["Elements"] = [e for e in grid["Elements"] if e["ElementType"] != "VISUAL" or e["ElementId"] in kept]


MUTATIONS = {
    "calculated field: mean instead of a ratio of sums": (
        lambda b: _calculated(b).update(Expression="avg({inline_acceptances})"), "is not supported"),
    "calculated field: guard on another column": (
        lambda b: _calculated(b).update(Expression="ifelse(sum({ai_code_lines}) = 0, NULL, "
                                                   "sum({inline_acceptances}) / sum({inline_suggestions}))"),
        "is not supported"),
    "calculated field: unknown column": (
        lambda b: _calculated(b).update(Expression="sum({inline_acceptances}) / sum({suggestions})"),
        "uses column 'suggestions'"),
    "calculated field: non-numeric column": (
        lambda b: _calculated(b).update(Expression="sum({inline_acceptances}) / sum({username})"),
        "sums user_behavior_detail.username of type STRING"),
    "calculated field: undeclared dataset": (
        lambda b: _calculated(b).update(DataSetIdentifier="tier_summary"), "not in DataSetIdentifierDeclarations"),
    "calculated field: name hides a column": (
        lambda b: _calculated(b).update(Name="ai_code_lines"), "hides the column"),
    "calculated field: aggregated again": (
        lambda b: _ratio_kpi(b)["NumericalMeasureField"].update(
            AggregationFunction={"SimpleNumericalAggregation": "SUM"}),
        "already aggregates"),
    "calculated field: unused": (_drop_ratio_uses, "is not used by any visual"),

    "undeclared dataset": (lambda b: b["DataSetIdentifierDeclarations"].pop(0), "not in DataSetIdentifierDeclarations"),
    "missing column": (lambda b: _first_visual(b, "KPIVisual")["ChartConfiguration"]["FieldWells"]["Values"][0]
                       ["CategoricalMeasureField"]["Column"].update(ColumnName="nope"), "does not have"),
    "date field on a string": (lambda b: _first_visual(b, "LineChartVisual")["ChartConfiguration"]["FieldWells"]
                               ["LineChartAggregatedFieldWells"]["Category"][0]["DateDimensionField"]["Column"]
                               .update(DataSetIdentifier="user_daily_detail", ColumnName="username"),
                               "of type STRING as DateDimensionField"),
    "sum of a string": (lambda b: _first_visual(b, "BarChartVisual")["ChartConfiguration"]["FieldWells"]
                        ["BarChartAggregatedFieldWells"]["Values"][0]["NumericalMeasureField"]["Column"]
                        .update(ColumnName="username"), "as NumericalMeasureField"),
    "duplicate visual id": (lambda b: b["Sheets"][1]["Visuals"][0]["KPIVisual"].update(
        VisualId=b["Sheets"][0]["Visuals"][0]["KPIVisual"]["VisualId"]), "VisualId"),
    "parameter name with underscore": (lambda b: b["ParameterDeclarations"][0]["DateTimeParameterDeclaration"]
                                       .update(Name="start_date"), "letters and digits only"),
    "empty sheet": (lambda b: b["Sheets"][2].update(Visuals=[]), "has no visuals"),
    "too many sheets": (lambda b: b["Sheets"].extend(copy.deepcopy(b["Sheets"][0]) for _ in range(18)), "at most 20"),
    "sort on a foreign field": (lambda b: _first_visual(b, "BarChartVisual")["ChartConfiguration"]["SortConfiguration"]
                                ["CategorySort"][0]["FieldSort"].update(FieldId="elsewhere"), "not in this visual"),
    "unsupported visual": (lambda b: b["Sheets"][0]["Visuals"].append({"GaugeChartVisual": {"VisualId": "g"}}),
                           "GaugeChartVisual"),
    "visual not in layout": (lambda b: b["Sheets"][0]["Layouts"][0]["Configuration"]["GridLayout"]["Elements"].pop(),
                             "not placed in the layout"),
}


def test_checker_accepts_the_supported_ratio_forms():
    assert references.parse_ratio("sum({a}) / sum({b})") == ("a", "b")
    assert references.parse_ratio(" IFELSE( SUM({a_1})=0 , null, sum( {b_2} ) / SUM({a_1}) ) ") == ("b_2", "a_1")
    assert references.parse_ratio("ifelse(sum({b}) = 0, NULL, sum({a}) / sum({b}))") == ("a", "b")
    for bad in ("sum({a}) / count({b})", "sum({a}) * sum({b})", "sum({a}) / sum({b}) + 1", "sum(a) / sum(b)",
                "ifelse(sum({b}) = 0, 0, sum({a}) / sum({b}))", ""):
        assert references.parse_ratio(bad) is None, bad
    body = definitions.load_raw("dashboard")["Definition"]
    assert [c["Name"] for c in body["CalculatedFields"]] == ["inline_acceptance_ratio"]
    assert "inline_acceptance_daily" not in definitions.dataset_views(body), "KPIs and trends use the ratio of sums"


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_checker_catches_each_broken_reference(mutation):
    change, expected = MUTATIONS[mutation]
    document = copy.deepcopy(definitions.load_raw("dashboard"))
    change(document["Definition"])
    problems = references.check_definition(document, references.all_dataset_columns(), "dashboard.json")
    assert any(expected in problem for problem in problems), problems


def test_dataset_table_key_must_not_hold_underscores():
    data = copy.deepcopy(definitions.load_raw_dataset("daily_summary"))
    data["PhysicalTableMap"] = {"daily_summary": data["PhysicalTableMap"]["view"]}
    assert any("letters, digits and hyphens" in p for p in references.check_dataset("daily_summary", data))


DUCKDB_TO_QUICKSIGHT = {"DATE": "DATETIME", "TIMESTAMP": "DATETIME", "BIGINT": "INTEGER", "INTEGER": "INTEGER",
                        "DOUBLE": "DECIMAL", "DECIMAL": "DECIMAL", "VARCHAR": "STRING", "BOOLEAN": "BOOLEAN"}


def test_dataset_columns_match_the_views_the_local_engine_builds():
    # No skip: if the local engine is missing this fails, because the dataset files would be unchecked.
    import duckdb
    from local_expected import sample_build

    build = sample_build()
    con = duckdb.connect(str(build.result.db_path), read_only=True)
    try:
        for view in definitions.dataset_files():
            actual = {name: DUCKDB_TO_QUICKSIGHT[kind.split("(")[0]]
                      for name, kind, *_ in con.execute(f"DESCRIBE {view}").fetchall()}
            assert references.dataset_columns(view) == actual, view
    finally:
        con.close()
