"""Filter controls and the user drill-down in the QuickSight definitions: what the loader derives, and the strict
checker (references + bindings) catching each broken parameter, control, filter and action."""

from __future__ import annotations

import copy
import json

import pytest
from kiro_analytics.quicksight import definitions, references

MULTI = {"Tier": "subscription_tier", "Client": "client_type", "Team": "team", "User": "username"}
# The view each drop-down lists its choices from (catalogue/controls.json).
VALUES = {"Tier": "active_user_days", "Client": "ingest_ledger", "Team": "active_user_days", "User": "active_user_days"}


def _body(name="dashboard"):
    return copy.deepcopy(definitions.load_raw(name))["Definition"]


def _columns(view):
    return references.dataset_columns(view)


@pytest.mark.parametrize("name", definitions.definition_names())
def test_each_control_filters_every_dataset_with_its_column_on_every_sheet(name):
    body = _body(name)
    views = definitions.dataset_views(body)
    declared = {next(iter(p.values()))["Name"]: next(iter(p.values())) for p in body["ParameterDeclarations"]}
    groups = [g for g in body["FilterGroups"] if g["FilterGroupId"].startswith("control-")]
    for parameter, column in MULTI.items():
        # A visual's dataset, not a values view declared for the drop-downs only, is what a filter is for.
        read = json.dumps([sheet["Visuals"] for sheet in body["Sheets"]])
        having = [view for view in views if column in _columns(view) and f'"DataSetIdentifier": "{view}"' in read]
        assert declared[parameter]["ParameterValueType"] == "MULTI_VALUED"  # offered everywhere (issue 13)
        bound = [g for g in groups if g["Filters"][0]["CategoryFilter"]["Configuration"]
                 ["CustomFilterConfiguration"]["ParameterName"] == parameter]
        assert sorted(g["Filters"][0]["CategoryFilter"]["Column"]["DataSetIdentifier"] for g in bound) == sorted(having)
        # On the user-detail sheet the detail parameter replaces the User control (column username).
        sheets = [s for s in body["Sheets"] if not (parameter == "User" and s["SheetId"] == "user-detail")]
        scope = {"AllSheets": {}} if len(sheets) == len(body["Sheets"]) else {"SelectedSheets": {
            "SheetVisualScopingConfigurations": [{"SheetId": s["SheetId"], "Scope": "ALL_VISUALS"} for s in sheets]}}
        for group in bound:
            assert group["ScopeConfiguration"] == scope
            config = group["Filters"][0]["CategoryFilter"]["Configuration"]["CustomFilterConfiguration"]
            assert config == {"MatchOperator": "EQUALS", "ParameterName": parameter,
                              "SelectAllOptions": "FILTER_ALL_VALUES", "NullOption": "ALL_VALUES"}
        for sheet in body["Sheets"]:
            if sheet not in sheets:
                assert f'"SourceParameterName": "{parameter}"' not in json.dumps(sheet["ParameterControls"])
                continue
            drop_downs = [c["Dropdown"] for c in sheet["ParameterControls"]
                          if c.get("Dropdown", {}).get("SourceParameterName") == parameter]
            assert len(drop_downs) == 1, (sheet["SheetId"], parameter)
            assert drop_downs[0]["Type"] == "MULTI_SELECT"
            assert drop_downs[0]["SelectableValues"]["LinkToDataSetColumn"] == {
                "DataSetIdentifier": VALUES[parameter], "ColumnName": column}
            # The title says whether the choice filters every, some or none of the sheet's visuals.
            reached = [any(f'"DataSetIdentifier": "{view}"' in json.dumps(visual) for view in having)
                       for visual in sheet["Visuals"]]
            suffix = "" if all(reached) else (" ${label:control_some_visuals}" if any(reached)
                                              else " ${label:control_no_visuals}")
            assert drop_downs[0]["Title"] == f"${{label:control_{parameter.lower()}}}{suffix}", \
                (sheet["SheetId"], parameter)


def test_which_controls_each_definition_offers():
    offered = {name: sorted(next(iter(p.values()))["Name"] for p in _body(name)["ParameterDeclarations"]
                            if "StringParameterDeclaration" in p)
               for name in definitions.definition_names()}
    # Issue 13: tier, client, team and user on every sheet of the dashboard and of each analysis.
    assert offered == {
        "dashboard": ["Client", "DetailUser", "Team", "Tier", "User"],
        "admin-overview": ["Client", "Team", "Tier", "User"],
        "cost-optimization": ["Client", "Team", "Tier", "User"],
        "feature-adoption": ["Client", "Team", "Tier", "User"],
        "user-behavior": ["Client", "Team", "Tier", "User"],
    }
    for name in definitions.definition_names():
        for sheet in _body(name)["Sheets"]:
            shown = sorted(c["Dropdown"]["SourceParameterName"] for c in sheet["ParameterControls"] if "Dropdown" in c)
            assert shown == (["Client", "DetailUser", "Team", "Tier"] if sheet["SheetId"] == "user-detail"
                             else ["Client", "Team", "Tier", "User"]), (name, sheet["SheetId"])


def test_where_a_control_filters_nothing_or_part_its_title_says_so():
    titles = {(s["SheetId"], c["Dropdown"]["SourceParameterName"]): c["Dropdown"]["Title"]
              for s in _body("dashboard")["Sheets"] for c in s["ParameterControls"] if "Dropdown" in c}
    # The behaviour sheet: the legacy report names no client; its tier is the day's credit-report tier.
    assert titles[("user-behavior", "Client")] == "${label:control_client} ${label:control_no_visuals}"
    assert titles[("user-behavior", "Tier")] == "${label:control_tier}"
    # The overview's ingest ledger is per file, no user: every control stops short of it.
    assert titles[("overview", "Tier")] == "${label:control_tier} ${label:control_some_visuals}"
    assert titles[("cost-analysis", "Team")] == "${label:control_team}"


def _problems(body):
    return references.check_definition({"Name": "x", "Definition": body}, references.all_dataset_columns(), "x")


def test_a_control_that_filters_nothing_must_say_so():
    body = _body("user-behavior")
    assert not [p for p in _problems(body) if "'Client'" in p]
    for sheet in body["Sheets"]:
        for control in sheet["ParameterControls"]:
            if control.get("Dropdown", {}).get("SourceParameterName") == "Client":
                control["Dropdown"]["Title"] = "${label:control_client}"
    assert any("parameter 'Client' is read by no filter" in p for p in _problems(body))


def _visual(body, visual_id):
    for sheet in body["Sheets"]:
        for visual in sheet["Visuals"]:
            content = next(iter(visual.values()))
            if content["VisualId"] == visual_id:
                return content
    raise AssertionError(visual_id)


def test_a_click_on_a_user_opens_the_detail_sheet_for_that_user():
    body = _body()
    for visual_id, field_id in (("ov-top-users", "ov-top-users.username.1"),
                                ("ub-top-code-users", "ub-top-code-users.username.1"),
                                ("ca-user-credits", "ca-user-credits.username.2")):
        (action,) = _visual(body, visual_id)["Actions"]
        assert action["Trigger"] == "DATA_POINT_CLICK" and action["Status"] == "ENABLED"
        operations = {next(iter(op)): next(iter(op.values())) for op in action["ActionOperations"]}
        assert operations["NavigationOperation"] == {"LocalNavigationConfiguration": {"TargetSheetId": "user-detail"}}
        assert operations["SetParametersOperation"]["ParameterValueConfigurations"] == [
            {"DestinationParameterName": "DetailUser", "Value": {"SourceField": field_id}}]
    detail_user = [p for p in body["ParameterDeclarations"] if "DetailUser" in json.dumps(p)]
    assert detail_user == [{"StringParameterDeclaration": {"ParameterValueType": "SINGLE_VALUED",
                                                           "Name": "DetailUser"}}]
    # Only the three user visuals open it; analyses (no detail sheet) keep their copies without actions.
    assert sum("Actions" in next(iter(v.values())) for s in body["Sheets"] for v in s["Visuals"]) == 3
    for name in definitions.definition_names():
        if name != "dashboard":
            assert '"Actions"' not in json.dumps(_body(name)), name


def test_every_visual_of_the_detail_sheet_shows_only_the_chosen_user():
    body = _body()
    detail = next(s for s in body["Sheets"] if s["SheetId"] == "user-detail")
    filtered = {}
    for group in body["FilterGroups"]:
        if group["FilterGroupId"].startswith("detail-"):
            assert group["ScopeConfiguration"] == {"SelectedSheets": {"SheetVisualScopingConfigurations": [
                {"SheetId": "user-detail", "Scope": "ALL_VISUALS"}]}}
            category = group["Filters"][0]["CategoryFilter"]
            assert category["Configuration"]["CustomFilterConfiguration"]["ParameterName"] == "DetailUser"
            filtered[category["Column"]["DataSetIdentifier"]] = category["Column"]["ColumnName"]
    read = {col["DataSetIdentifier"] for visual in detail["Visuals"]
            for col in _column_refs(visual)}
    assert read and set(filtered) == read and set(filtered.values()) == {"username"}
    drop_down = [c["Dropdown"] for c in detail["ParameterControls"] if "Dropdown" in c
                 and c["Dropdown"]["SourceParameterName"] == "DetailUser"]
    assert len(drop_down) == 1 and drop_down[0]["Type"] == "SINGLE_SELECT"


def _column_refs(node):
    if isinstance(node, dict):
        if "DataSetIdentifier" in node and "ColumnName" in node:
            yield node
        for value in node.values():
            yield from _column_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _column_refs(value)


def _group(body, group_id):
    return next(g for g in body["FilterGroups"] if g["FilterGroupId"] == group_id)


def _custom(body, group_id):
    return _group(body, group_id)["Filters"][0]["CategoryFilter"]["Configuration"]["CustomFilterConfiguration"]


def _drop_down(body, sheet=0, parameter="Tier"):
    return next(c["Dropdown"] for c in body["Sheets"][sheet]["ParameterControls"]
                if c.get("Dropdown", {}).get("SourceParameterName") == parameter)


def _action(body, visual_id="ov-top-users"):
    return _visual(body, visual_id)["Actions"][0]


def _operation(body, kind, visual_id="ov-top-users"):
    return next(op[kind] for op in _action(body, visual_id)["ActionOperations"] if kind in op)


def _drop_tier_controls(body):
    for sheet in body["Sheets"]:
        sheet["ParameterControls"] = [c for c in sheet["ParameterControls"]
                                      if c.get("Dropdown", {}).get("SourceParameterName") != "Tier"]
        grid = sheet["Layouts"][0]["Configuration"]["GridLayout"]
        grid["Elements"] = [e for e in grid["Elements"] if not e["ElementId"].endswith("-tier")]


MUTATIONS = {
    "multi-valued parameter, single-select drop-down": (
        lambda b: _drop_down(b).update(Type="SINGLE_SELECT"), "needs MULTI_SELECT"),
    "single-valued parameter, multi-select drop-down": (
        lambda b: _drop_down(b, 3, "DetailUser").update(Type="MULTI_SELECT"), "needs SINGLE_SELECT"),
    "drop-down on a date parameter": (
        lambda b: _drop_down(b).update(SourceParameterName="StartDate"), "Dropdown on DateTimeParameterDeclaration"),
    "drop-down values from an undeclared dataset": (
        lambda b: _drop_down(b)["SelectableValues"]["LinkToDataSetColumn"].update(DataSetIdentifier="tier_summary"),
        "not in DataSetIdentifierDeclarations"),
    "drop-down values from a numeric column": (
        lambda b: _drop_down(b)["SelectableValues"]["LinkToDataSetColumn"].update(ColumnName="credits_used"),
        "not a STRING column"),
    "filter without select-all": (
        lambda b: _custom(b, "control-tier-user-daily-detail").pop("SelectAllOptions"), "'select all' default"),
    "filter on an undeclared parameter": (
        lambda b: _custom(b, "control-tier-user-daily-detail").update(ParameterName="Tiers"), "undeclared parameter"),
    "filter on a numeric column": (
        lambda b: _group(b, "control-tier-user-daily-detail")["Filters"][0]["CategoryFilter"]["Column"]
        .update(ColumnName="credits_used"), "needs a STRING column"),
    "filter with a value and a parameter": (
        lambda b: _custom(b, "control-tier-user-daily-detail").update(CategoryValue="PRO"), "mutually exclusive"),
    "filter matching a parameter by substring": (
        lambda b: _custom(b, "control-tier-user-daily-detail").update(MatchOperator="CONTAINS"), "EQUALS"),
    "parameter no filter reads": (
        lambda b: b.update(FilterGroups=[g for g in b["FilterGroups"] if not g["FilterGroupId"].startswith(
            "control-tier-")]), "'Tier' is read by no filter"),
    "parameter nothing sets": (_drop_tier_controls, "'Tier' has no control or action"),
    "action to an unknown sheet": (
        lambda b: _operation(b, "NavigationOperation")["LocalNavigationConfiguration"].update(TargetSheetId="nope"),
        "unknown sheet 'nope'"),
    "action to its own sheet": (
        lambda b: _operation(b, "NavigationOperation")["LocalNavigationConfiguration"].update(
            TargetSheetId="overview"), "its own sheet"),
    "action taking a field of another visual": (
        lambda b: _operation(b, "SetParametersOperation")["ParameterValueConfigurations"][0]["Value"].update(
            SourceField="ub-top-code-users.username.1"), "not a field of this visual"),
    "action setting a string parameter from a number": (
        lambda b: _operation(b, "SetParametersOperation")["ParameterValueConfigurations"][0]["Value"].update(
            SourceField="ov-top-users.consumption_credits.2"), "from a DECIMAL field"),
    "action setting an undeclared parameter": (
        lambda b: _operation(b, "SetParametersOperation")["ParameterValueConfigurations"][0].update(
            DestinationParameterName="Someone"), "sets undeclared parameter"),
    "action with an unknown trigger": (lambda b: _action(b).update(Trigger="HOVER"), "trigger 'HOVER'"),
    "detail filter scoped to an unknown sheet": (
        lambda b: _group(b, "detail-detailuser-user-daily-detail")["ScopeConfiguration"]["SelectedSheets"]
        ["SheetVisualScopingConfigurations"][0].update(SheetId="user-details"), "scopes unknown sheet"),
    "control not placed on the grid": (
        lambda b: b["Sheets"][0]["Layouts"][0]["Configuration"]["GridLayout"]["Elements"].pop(2),
        "'overview-tier' is not placed"),
}


def test_the_real_definitions_have_no_binding_problems():
    for name in definitions.definition_names():
        assert references.check_definition(definitions.load_raw(name), references.all_dataset_columns(), name) == []


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_checker_catches_each_broken_binding(mutation):
    change, expected = MUTATIONS[mutation]
    document = copy.deepcopy(definitions.load_raw("dashboard"))
    change(document["Definition"])
    problems = references.check_definition(document, references.all_dataset_columns(), "dashboard")
    assert any(expected in problem for problem in problems), problems
