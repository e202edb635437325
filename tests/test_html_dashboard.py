"""The local dashboard.html: same sheets and visuals as quicksight/dashboard.json, same numbers as DuckDB.

Guards against: a visual silently dropped or drawn from the wrong column, KPI totals that drift from
the view (double counts, a lost AVG weight, DISTINCT_COUNT summed per day), a page that fetches
something from the network, and user names breaking out of the markup.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import duckdb
import pytest
from dashboard_build import shared_build
from kiro_analytics.errors import InputError
from kiro_analytics.local import dashboard_data, html_dashboard, id_sets, payload_codec
from kiro_analytics.quicksight import definitions

ROOT = Path(__file__).resolve().parent.parent
TRICKY = '<script>alert("x&y")</script> O\'Brien 张伟 😀'
STAMP = datetime(2026, 11, 26, 8, 30, tzinfo=timezone.utc)


def payload_of(page: str) -> Dict[str, Any]:
    return html_dashboard.read_payload(page)


def dashboard_visuals(document: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"sheet": sheet_id, "type": kind, **body} for sheet_id, kind, body in definitions.visuals(document)]


def rounding(rows: int) -> float:
    """Most a sum over ``rows`` pre-grouped rows can drift: each part is shipped with dashboard_data.DECIMALS."""
    return max(1e-9, rows * 0.5 * 10 ** -dashboard_data.DECIMALS)


def id_set(payload: Dict[str, Any], index: int) -> set:
    """The ids of one pooled DISTINCT_COUNT set: (counted column, dictionary code) pairs."""
    column, encoded = payload["idsets"]["sets"][index]
    return {(column, code) for code in id_sets.decode(encoded)}


def kpi_from_payload(visual: Dict[str, Any], payload: Dict[str, Any]) -> float:
    """What the page shows for a KPI over the whole range, recomputed from the embedded parts."""
    measure = visual["measures"][0]
    parts = [visual["parts"][i] for i in measure["parts"]]
    if measure["agg"] == "DISTINCT_COUNT":
        return len(set().union(*(id_set(payload, index) for index in parts[0])))
    if measure["agg"] in ("AVG", "RATIO"):
        return sum(v or 0 for v in parts[0]) / sum(v or 0 for v in parts[1])
    return sum(v for v in parts[0] if v is not None)


def calculated_fields(document: Dict[str, Any]) -> Dict[tuple, str]:
    return {(c["DataSetIdentifier"], c["Name"]): c["Expression"]
            for c in document["Definition"].get("CalculatedFields", [])}


def duckdb_ratio(con: duckdb.DuckDBPyConnection, view: str, expression: str, where: str = "") -> float:
    """SUM(a) / SUM(b) straight from the view: the number QuickSight's calculated field shows."""
    numerator, denominator = re.findall(r"sum\(\{(\w+)\}\)", expression)[-2:]
    (value,), = con.execute(f'SELECT SUM("{numerator}") / SUM("{denominator}") FROM "{view}" {where}').fetchall()
    return value


def duckdb_aggregate(con: duckdb.DuckDBPyConnection, view: str, column: str, agg: str) -> float:
    values = [row[0] for row in con.table(view).select(column).fetchall() if row[0] is not None]
    if agg == "DISTINCT_COUNT":
        return len(set(values))
    if agg == "AVG":
        return sum(values) / len(values)
    return {"SUM": sum, "MIN": min, "MAX": max, "COUNT": len}[agg](values)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """30 users x 40 days of sample reports, one user renamed to a hostile name, built and rendered (zh)."""
    tmp = tmp_path_factory.mktemp("html_dashboard")
    config, result = shared_build(TRICKY)
    path = html_dashboard.render(result.db_path, tmp / "out", config, generated_at=STAMP)
    document = definitions.load_definition("dashboard", config.language, html_dashboard.local_values())
    return {"tmp": tmp, "db": result.db_path, "result": result, "config": config, "path": path,
            "page": path.read_text(encoding="utf-8"), "document": document}


def test_writes_dashboard_html_in_out_dir(built: Dict[str, Any]) -> None:
    assert built["path"] == built["tmp"] / "out" / "dashboard.html"
    assert built["path"].stat().st_size < 1_000_000
    assert "2026-11-26 08:30 UTC" in built["page"]


def test_page_is_self_contained(built: Dict[str, Any]) -> None:
    page = built["page"]
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<link\b|<iframe\b|@import|url\(\s*['\"]?(https?:)?//", page, re.I)
    assert not re.search(r"\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon", page)
    # The page forbids any fetch at all, so a later edit that adds one fails loudly in the browser.
    assert "default-src 'none'" in page
    assert page.count("<script") == 2  # the JSON data and the inline renderer, nothing with src=


def test_every_visual_of_the_definition_is_on_the_page(built: Dict[str, Any]) -> None:
    page, payload = built["page"], payload_of(built["page"])
    visuals = dashboard_visuals(built["document"])
    assert len(visuals) >= 20
    for visual in visuals:
        vid = visual["VisualId"]
        assert f'id="visual-{vid}"' in page and f'data-visual-id="{vid}"' in page, vid
        assert payload["visuals"][vid]["title"] == visual["Title"]["FormatText"]["PlainText"]
        assert payload["visuals"][vid]["keys"] or payload["visuals"][vid]["parts"], f"{vid} embedded no rows"
    sheets = built["document"]["Definition"]["Sheets"]
    assert page.count('<section class="sheet"') == len(sheets) == 4  # the user-detail sheet is the fourth
    for number, sheet in enumerate(sheets, start=1):
        assert f'id="sheet-{number}" data-sheet-id="{sheet["SheetId"]}"' in page
        assert f">{sheet['Name']}</button>" in page


def test_kpi_numbers_equal_a_direct_duckdb_query(built: Dict[str, Any]) -> None:
    payload = payload_of(built["page"])
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        checked = 0
        for visual in dashboard_visuals(built["document"]):
            if visual["type"] != "KPIVisual":
                continue
            embedded = payload["visuals"][visual["VisualId"]]
            (_kind, field), = visual["ChartConfiguration"]["FieldWells"]["Values"][0].items()
            view, column = field["Column"]["DataSetIdentifier"], field["Column"]["ColumnName"]
            agg = embedded["measures"][0]["agg"]
            assert None not in embedded["keys"][0]["v"], "a row without a date would vanish under any filter"
            expression = calculated_fields(built["document"]).get((view, column))
            if expression:
                assert agg == "RATIO", visual["VisualId"]
                expected = duckdb_ratio(con, view, expression)
                assert 0 < expected < 1, "the sample should give a real acceptance rate"
            else:
                expected = duckdb_aggregate(con, view, column, agg)
            assert kpi_from_payload(embedded, payload) == pytest.approx(expected, rel=1e-9,
                                                                         abs=rounding(len(embedded["parts"][0]))), \
                visual["VisualId"]
            checked += 1
        assert checked >= 8
    finally:
        con.close()


def test_credit_kpi_matches_the_engine_total(built: Dict[str, Any]) -> None:
    payload = payload_of(built["page"])
    credits = [v for v in payload["visuals"].values()
               if v["kind"] == "kpi" and v["measures"][0]["id"].split(".")[1] == "credits_used"]
    assert credits, "no KPI over credits_used"
    value = kpi_from_payload(credits[0], payload)
    assert value == pytest.approx(built["result"].total_credits, rel=1e-9, abs=rounding(len(credits[0]["parts"][0])))
    assert value > 1000
    # The build's summary line (consumption = plan + overage) and the KPIs that carry those labels agree.
    result = built["result"]
    consumption = kpi_from_payload(payload["visuals"]["ca-kpi-total-credits"], payload)
    overage = kpi_from_payload(payload["visuals"]["ov-kpi-overage"], payload)
    rows = len(payload["visuals"]["ca-kpi-total-credits"]["parts"][0])
    assert consumption == pytest.approx(result.total_consumption, rel=1e-9, abs=rounding(rows))
    rows = len(payload["visuals"]["ov-kpi-overage"]["parts"][0])
    assert overage == pytest.approx(result.total_overage, rel=1e-9, abs=rounding(rows)) and overage > 0
    assert result.total_consumption == pytest.approx(result.total_credits + result.total_overage, rel=1e-12)


def test_hostile_names_stay_text(built: Dict[str, Any]) -> None:
    page, payload = built["page"], payload_of(built["page"])
    assert TRICKY in payload["strings"]
    assert "<script>alert" not in page and "O'Brien" not in page, "the data is only compressed 7-bit text"
    # Every text value goes through textContent in the renderer, never innerHTML.
    script = (html_dashboard.ASSETS / "dashboard.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script


def test_titles_from_the_definition_are_escaped(built: Dict[str, Any]) -> None:
    document = copy.deepcopy(built["document"])
    visual = document["Definition"]["Sheets"][0]["Visuals"][0]
    (body,) = visual.values()
    body["Title"]["FormatText"]["PlainText"] = 'a <b>"&\' 标题'
    out = html_dashboard.render_document(document, built["db"], built["tmp"] / "t" / "d.html", "en")
    page = out.read_text(encoding="utf-8")
    assert "<h2>a &lt;b&gt;&quot;&amp;&#x27; 标题</h2>" in page
    assert "<b>" not in page


def test_unsupported_visual_type_is_an_input_error(built: Dict[str, Any]) -> None:
    document = copy.deepcopy(built["document"])
    document["Definition"]["Sheets"][1]["Visuals"].append({"HeatMapVisual": {"VisualId": "hm-1"}})
    with pytest.raises(InputError, match=r"hm-1.*HeatMapVisual"):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "x.html", "zh")
    assert not (built["tmp"] / "x.html").exists()


def test_unknown_column_is_an_input_error_naming_the_visual(built: Dict[str, Any]) -> None:
    document = copy.deepcopy(built["document"])
    (body,) = document["Definition"]["Sheets"][0]["Visuals"][4].values()
    wells = body["ChartConfiguration"]["FieldWells"]["LineChartAggregatedFieldWells"]
    (field,) = wells["Values"][0].values()
    field["Column"]["ColumnName"] = "credits_used; DROP TABLE x"
    with pytest.raises(InputError, match=rf"{body['VisualId']}: column credits_used; DROP TABLE x is not in view"):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "y.html", "zh")


def test_an_unknown_dimension_of_a_later_visual_is_named_not_a_key_error(built: Dict[str, Any]) -> None:
    """Visuals of a dataset share one row key: a dimension the view lacks must still be reported by its own visual."""
    document = copy.deepcopy(built["document"])
    (body,) = document["Definition"]["Sheets"][0]["Visuals"][4].values()
    wells = body["ChartConfiguration"]["FieldWells"]["LineChartAggregatedFieldWells"]
    (field,) = wells["Category"][0].values()
    field["Column"]["ColumnName"] = "no_such_day"
    with pytest.raises(InputError, match=rf"{body['VisualId']}: column no_such_day is not in view"):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "z.html", "zh")


def test_unsupported_filter_and_aggregation_are_input_errors(built: Dict[str, Any]) -> None:
    document = copy.deepcopy(built["document"])
    document["Definition"]["FilterGroups"].append({
        "FilterGroupId": "fg-cat", "CrossDataset": "SINGLE_DATASET", "ScopeConfiguration": {"AllSheets": {}},
        "Filters": [{"CategoryFilter": {"FilterId": "tier-only", "Column": {
            "DataSetIdentifier": "daily_summary", "ColumnName": "activity_date"}}}]})
    with pytest.raises(InputError, match=r"fg-cat.*CategoryFilter"):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "z.html", "zh")
    document = copy.deepcopy(built["document"])
    (body,) = document["Definition"]["Sheets"][0]["Visuals"][1].values()
    (field,) = body["ChartConfiguration"]["FieldWells"]["Values"][0].values()
    field["AggregationFunction"] = {"SimpleNumericalAggregation": "MEDIAN"}
    with pytest.raises(InputError, match=rf"{body['VisualId']}: aggregation MEDIAN"):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "z.html", "zh")


def test_unsupported_calculated_field_is_an_input_error_naming_the_visual(built: Dict[str, Any]) -> None:
    document = copy.deepcopy(built["document"])
    (field,) = document["Definition"]["CalculatedFields"]
    field["Expression"] = "avg({inline_acceptances}) / sum({inline_suggestions})"
    with pytest.raises(InputError, match=r"visual ub-kpi-acceptance-rate: calculated field inline_acceptance_ratio "
                                         r"expression .*avg.* is not supported"):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "calc.html", "zh")
    field["Expression"] = "sum({inline_acceptances}) / sum({no_such_column})"
    with pytest.raises(InputError, match=r"ub-kpi-acceptance-rate: column no_such_column is not in view"):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "calc.html", "zh")


def test_acceptance_rate_is_a_ratio_of_sums_not_a_mean_of_rates(built: Dict[str, Any]) -> None:
    """The embedded parts are per-day sums of acceptances and suggestions; the daily trend divides per day."""
    payload = payload_of(built["page"])
    strings = payload["strings"]
    trend = payload["visuals"]["ub-acceptance-trend"]
    measure = trend["measures"][0]
    assert measure["agg"] == "RATIO" and measure["fmt"]["kind"] == "percent"
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        rows = con.execute("SELECT activity_date, SUM(inline_acceptances), SUM(inline_suggestions), "
                           "AVG(inline_acceptances / NULLIF(inline_suggestions, 0)) FROM user_behavior_detail "
                           "GROUP BY 1").fetchall()
    finally:
        con.close()
    want = {day.isoformat(): (accepted, suggested) for day, accepted, suggested, _ in rows}
    parts = [trend["parts"][i] for i in measure["parts"]]
    # The controls' columns (tier, team, user) join the row key, so a day has a row per such group: summed per day.
    assert [f["param"] for f in trend["filters"]] == ["Tier", "Team", "User"]
    got: Dict[str, Any] = {}
    for n, key in enumerate(trend["keys"][0]["v"]):
        accepted, suggested = got.get(strings[key], (0, 0))
        got[strings[key]] = (accepted + parts[0][n], suggested + parts[1][n])
    assert got == want
    # The old measure (mean of per-user daily rates) differs on the sample, so the test can tell them apart.
    assert any(abs(a / s - mean) > 1e-6 for _, a, s, mean in rows if s)


def test_feature_users_are_distinct_people_over_a_range(built: Dict[str, Any]) -> None:
    """The feature-adoption analysis renders locally too; its users per feature are DISTINCT_COUNT(userid)."""
    document = definitions.load_definition("feature-adoption", "en", {
        key: "local:" + key.split(":", 1)[-1]
        for key in definitions.placeholders(definitions.load_raw("feature-adoption")) if not key.startswith("label:")})
    out = html_dashboard.render_document(document, built["db"], built["tmp"] / "fa" / "dashboard.html", "en")
    payload = payload_of(out.read_text(encoding="utf-8"))
    strings, bar = payload["strings"], payload["visuals"]["fa-feature-users"]
    (measure,) = bar["measures"]
    assert measure["agg"] == "DISTINCT_COUNT" and bar["date"] == 0
    start, end = "2026-11-01", "2026-11-20"
    shown: Dict[str, set] = {}
    ids = bar["parts"][measure["parts"][0]]
    for n, (day, feature) in enumerate(zip(bar["keys"][0]["v"], bar["keys"][1]["v"])):
        if start <= strings[day] <= end:
            shown.setdefault(strings[feature], set()).update(id_set(payload, ids[n]))
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        want = dict(con.execute("SELECT feature, COUNT(DISTINCT userid) FROM feature_usage_daily "
                                "WHERE activity_date BETWEEN ? AND ? GROUP BY feature", [start, end]).fetchall())
    finally:
        con.close()
    assert {feature: len(users) for feature, users in shown.items()} == want
    assert max(want.values()) > 1


def test_date_filter_and_grain_follow_the_definition(built: Dict[str, Any]) -> None:
    payload = payload_of(built["page"])
    strings = payload["strings"]
    monthly = payload["visuals"]["ca-user-credits"]
    assert monthly["dateGran"] == "MONTH" and monthly["date"] == 0
    assert all(strings[v].endswith("-01") for v in monthly["keys"][0]["v"])
    trend = payload["visuals"]["ov-credit-trend"]
    assert trend["dateGran"] == "DAY"
    # One row per day and value of each control's column (the row key), days in order: the page sums a day's rows
    # that the controls keep.
    assert [f["param"] for f in trend["filters"]] == ["Tier", "Team", "User"]
    rows = list(zip(*(key["v"] for key in trend["keys"])))
    # Rows in reverse key order (dashboard_data._query): each control-value combination's days are one run, in day
    # order, so the packed user and date columns are runs and small steps.
    runs: Dict[tuple, List[str]] = {}
    previous = None
    for day, *rest in rows:
        assert tuple(rest) == previous or tuple(rest) not in runs, f"{rest}: its days are not one run"
        runs.setdefault(tuple(rest), []).append(strings[day])
        previous = tuple(rest)
    assert all(days == sorted(days) for days in runs.values()), "each run's days are in day order"
    assert len(rows) == len(set(rows)), "a daily trend is grouped once per day and control value"
    assert len(trend["keys"]) == 1 + len(trend["filters"])
    assert payload["range"][1] == "2026-11-25"
    top = payload["visuals"]["ov-top-users"]
    assert top["limit"] == 10 and top["other"] is False and top["sort"][0][1] == "DESC"


def test_every_value_a_control_filters_on_is_in_its_drop_down(built: Dict[str, Any]) -> None:
    """A drop-down lists its controls.json ``values`` view, not the first dataset with the column: a user seen only
    in the legacy report, the UNKNOWN tier of a legacy-only day, the ALL client of the legacy files are choices."""
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        def values(view: str, column: str, where: str = "") -> set:
            return {r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {view} {where}").fetchall()} - {None}

        checked = 0
        for name in definitions.definition_names():
            body = definitions.load_raw(name)["Definition"]
            links = {c["Dropdown"]["SourceParameterName"]: c["Dropdown"]["SelectableValues"]["LinkToDataSetColumn"]
                     for sheet in body["Sheets"] for c in sheet["ParameterControls"] if "Dropdown" in c}
            for group in body["FilterGroups"]:
                if not group["FilterGroupId"].startswith("control-"):
                    continue
                category = group["Filters"][0]["CategoryFilter"]
                view, column = category["Column"]["DataSetIdentifier"], category["Column"]["ColumnName"]
                link = links[category["Configuration"]["CustomFilterConfiguration"]["ParameterName"]]
                listed = values(link["DataSetIdentifier"], link["ColumnName"])
                # Documented exceptions (quicksight/README.md, controls): a configured tier nobody holds, a seat
                # holder never seen in the reports; a group is listed within each person's groups ("a + b").
                where = {"tier_summary": "WHERE users > 0", "idle_seats": "WHERE last_active IS NOT NULL",
                         "seat_utilisation": "WHERE last_active IS NOT NULL"}.get(view, "")
                wanted = values(view, column, where)
                if view in ("team_daily", "team_user_daily"):
                    listed = {part for label in listed for part in label.split(" + ")}
                assert wanted <= listed, f"{name}: {view}.{column} values missing from the drop-down: {wanted - listed}"
                checked += 1
        assert checked > 20
        # What the old link (the first dataset with the column) missed on this sample: the UNKNOWN tier of days
        # only the legacy report has, the legacy files' ALL client.
        assert "UNKNOWN" in values("active_user_days", "subscription_tier") - values("user_daily_detail",
                                                                                      "subscription_tier")
        assert "ALL" in values("ingest_ledger", "client_type") - values("model_usage_detail", "client_type")
    finally:
        con.close()


def test_no_code_label_reads_like_a_controls_all_option() -> None:
    """Client code ALL labelled "All" sat in the Client drop-down next to its "All" (no filter) option."""
    codes = json.loads(html_dashboard.CODES.read_text(encoding="utf-8"))
    ui = json.loads((html_dashboard.ASSETS / "ui_strings.json").read_text(encoding="utf-8"))
    for language in ("zh", "en"):
        labels = codes[language]
        assert ui[language]["all"] not in labels.values(), language
        assert labels["ALL"] == {"zh": "全部客户端（ALL）", "en": "All clients (ALL)"}[language]
        assert {"FINAL", "PROVISIONAL"} <= set(labels), "advice_status codes"


def test_english_labels(built: Dict[str, Any]) -> None:
    document = definitions.load_definition("dashboard", "en", html_dashboard.local_values())
    out = html_dashboard.render_document(document, built["db"], built["tmp"] / "en" / "dashboard.html", "en")
    page = out.read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    for sheet in document["Definition"]["Sheets"]:
        assert f">{sheet['Name']}</button>" in page
    assert "Start date" in page and "概览" not in page


def test_missing_database_is_an_input_error(built: Dict[str, Any]) -> None:
    with pytest.raises(InputError, match="not found"):
        html_dashboard.render(built["tmp"] / "nope.duckdb", built["tmp"] / "nope", built["config"])


def test_both_renderers_support_the_same_visual_types() -> None:
    assert set(html_dashboard.SUPPORTED_VISUALS) == set(definitions.SUPPORTED_VISUALS)


@pytest.mark.parametrize("ids, kind", [
    ((), ""), ((0,), "b"), ((5,), "b"), ((0, 1, 2, 3, 4, 5, 6, 7, 8), "b"), ((3, 200, 70000), "d"),
    (tuple(range(0, 4000, 3)), "b"),        # 1,334 ids: a 500-byte bitmap beats 1,334 one-byte gaps
    (tuple(range(0, 40000, 50)), "d"),      # 800 ids over 40,000: 800 gap bytes beat a 5,000-byte bitmap
    (tuple(range(100, 1100)), "b")])
def test_id_sets_round_trip_in_the_shorter_encoding(ids: tuple, kind: str) -> None:
    encoded = id_sets.encode(ids)
    assert id_sets.decode(encoded) == list(ids)
    assert encoded[:1] == kind


def test_identical_id_sets_are_shipped_once() -> None:
    pool = id_sets.IdPool()
    first = pool.add("userid", ["u2", "u1"])
    assert pool.add("userid", ["u1", "u2", "u1"]) == first != pool.add("userid", ["u1"])
    assert pool.add("username", ["u1", "u2"]) != first, "another column has its own dictionary"
    payload = pool.payload()
    assert payload["sizes"] == {"userid": 2, "username": 2} and len(payload["sets"]) == 3


def _fixture() -> Dict[str, Any]:
    return json.loads((ROOT / "tests" / "fixtures" / "controls_dashboard.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("where, change, message", [
    (("Sheets", 0, "FilterControls"), [{"Dropdown": {"FilterControlId": "f", "Title": "T", "SourceFilterId": "x"}}],
     "FilterControls are not supported"),
    (("Sheets", 0, "ParameterControls", 2), {"Slider": {"ParameterControlId": "s", "Title": "S",
                                                        "SourceParameterName": "Tier"}}, "Slider, not supported"),
    (("Sheets", 0, "ParameterControls", 2, "Dropdown", "SourceParameterName"), "Nope", "parameter 'Nope'"),
    (("Sheets", 0, "ParameterControls", 3, "Dropdown", "Type"), "MULTI_SELECT", "parameter Client is SINGLE_VALUED"),
    (("FilterGroups", 2, "Filters", 0, "CategoryFilter", "Configuration", "CustomFilterConfiguration",
      "MatchOperator"), "CONTAINS", "MatchOperator CONTAINS"),
    (("FilterGroups", 2, "Filters", 0, "CategoryFilter", "Configuration", "CustomFilterConfiguration",
      "ParameterName"), "Nope", "bound to parameter 'Nope'"),
    (("Sheets", 0, "Visuals", 3, "TableVisual", "Actions", 0, "ActionOperations", 1, "NavigationOperation",
      "LocalNavigationConfiguration", "TargetSheetId"), "nowhere", "navigates to sheet 'nowhere'"),
    (("Sheets", 0, "Visuals", 3, "TableVisual", "Actions", 0, "ActionOperations", 0), {"URLOperation": {
        "URLTemplate": "https://example.com", "URLTarget": "NEW_TAB"}}, "URLOperation is not supported"),
    (("Sheets", 0, "Visuals", 3, "TableVisual", "Actions", 0, "ActionOperations", 0, "SetParametersOperation",
      "ParameterValueConfigurations", 0, "Value", "SourceField"), "fx-users.consumption_credits",
     "not a dimension of the visual"),
])
def test_controls_filters_and_actions_the_page_cannot_honour_are_refused(built: Dict[str, Any], where: tuple,
                                                                        change: Any, message: str) -> None:
    document = _fixture()
    node: Any = document["Definition"]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = change
    with pytest.raises(InputError, match=re.escape(message)):
        html_dashboard.render_document(document, built["db"], built["tmp"] / "refused.html", "en")


def test_controls_reach_the_page_with_their_choices_and_filters(built: Dict[str, Any]) -> None:
    out = html_dashboard.render_document(_fixture(), built["db"], built["tmp"] / "controls.html", "en")
    payload = payload_of(out.read_text(encoding="utf-8"))
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        tiers = sorted(t for (t,) in con.execute("SELECT DISTINCT subscription_tier FROM user_daily_detail").fetchall())
    finally:
        con.close()
    tier, client = payload["controls"]["main"]
    assert (tier["param"], tier["multi"], tier["values"]) == ("Tier", True, tiers)
    assert (client["param"], client["multi"], client["values"]) == ("Client", False, ["KIRO_CLI", "KIRO_IDE", "PLUGIN"])
    assert payload["params"]["DetailUser"] == {"multi": False, "defaults": []}
    visuals = payload["visuals"]
    # The tier filter reaches user_daily_detail visuals of the main sheet only; the user filter the detail sheet's.
    assert [f["param"] for f in visuals["fx-credits"]["filters"]] == ["Tier"]
    assert [f["param"] for f in visuals["fx-messages"]["filters"]] == ["Client"]
    assert [f["param"] for f in visuals["fx-detail-credits"]["filters"]] == ["DetailUser"]
    assert visuals["fx-users"]["actions"] == [{"id": "open-user", "name": "Open the user's detail", "target": "detail",
                                               "set": [["DetailUser", 0]]}]


def test_a_near_copy_of_a_measure_is_shipped_as_its_differences() -> None:
    """Consumption credits equal credits used except on overage days: shipped as 2 differences, read back exact."""
    used = [1.5, 2.0, 3.25, 0, 7, 1.5, 2.0, 3.25, 0, 7, 1.5, 2.0, 3.25, 0, 7, 9]
    consumed = list(used)
    consumed[0], consumed[13] = 4.5, None
    visuals = {"a": {"keys": [], "parts": [used]}, "b": {"keys": [], "parts": [consumed, list(used)]}}
    arrays = dashboard_data.share_arrays(visuals)
    assert visuals["b"]["parts"] == [1, 0] and len(arrays) == 2
    assert arrays[1] == {"like": 0, "at": [1, 13], "v": [4.5, None]}  # rows 0 and 13, as gaps from -1
    resolved = dashboard_data.resolve_arrays({"arrays": arrays, "visuals": visuals})["visuals"]
    assert resolved["b"]["parts"] == [consumed, used] and resolved["a"]["parts"] == [used]
    mostly_different = [v + 1 for v in used[:-2]] + used[-2:]
    assert dashboard_data.share_arrays({"c": {"keys": [], "parts": [used, mostly_different]}})[1] == mostly_different


@pytest.mark.parametrize("values, packed", [
    ([0.1, 2.25, None, -3.5, 12.345678] * 4, True),         # 6 decimals, nulls and negatives: exact integers / 10^6
    (list(range(1000, 1040)), True),                        # sorted codes: written as differences
    ([2**53 + 2] * 20, False),                              # not exact in a JavaScript number: stays JSON
    (["2026-11-01"] * 20, False),                           # text stays JSON
    ([1.0000001234] * 20, False),                           # more decimals than dashboard_data.DECIMALS: stays JSON
    ([1, 2, 3], False)])                                    # short arrays stay JSON
def test_packed_columns_read_back_exactly(values: list, packed: bool) -> None:
    """A value the page reads (integer / 10^scale, the IEEE division JavaScript does too) equals the one shipped."""
    pool = {"sizes": {"userid": 300}, "sets": [["userid", [3, 200, 299]], ["userid", list(range(0, 300, 2))]]}
    near = {"like": 0, "at": list(range(1, 41)), "v": [float(v) for v in range(40)]}
    payload = {"visuals": {}, "arrays": [values, near], "idsets": pool}
    data = payload_codec.pack(payload)
    header = json.loads(data[4:4 + int.from_bytes(data[:4], "little")])
    assert isinstance(header["arrays"][0], dict) == packed
    back = payload_codec.unpack(data)
    assert back["arrays"][0] == values and all(type(a) is type(b) for a, b in zip(back["arrays"][0], values))
    assert back["arrays"][1] == near
    assert back["idsets"]["sets"] == [("userid", [3, 200, 299]), ("userid", list(range(0, 300, 2)))]
    assert [kind for _, kind, _, _ in header["idsets"]["sets"]] == ["d", "b"]


@pytest.mark.parametrize("data", [
    b"", b"\x00", b"<", bytes(range(256)), b"\x00" * 50, b"\xff" * 50, b"<\n\r\x00" * 20,
    bytes(7 * 9), int("0111100" * 8, 2).to_bytes(7, "big"),          # eight septets 60 ("<") in a row
    bytes([0x01]), bytes([0x3C << 1])])                                  # an escaped septet last, with no next
def test_page_text_of_the_data_reads_back_and_cannot_break_the_script_element(data: bytes) -> None:
    """The 7-bit text (payload_codec.to_text) holds no "<" (which could close the <script>), NUL, CR or LF (which
    the HTML parser or a newline translation would change), costs 8/7 of the bytes (base64: 4/3), reads back."""
    text = payload_codec.to_text(data)
    assert not set(text) & {"<", "\x00", "\r", "\n"}
    assert payload_codec.from_text(text) == data
    assert len(text.encode("utf-8")) <= len(str(len(data))) + 1 + (len(data) * 8 + 6) // 7 + 1
    assert all(ord(c) < 0x80 or 0x100 <= ord(c) < 0x300 for c in text)


def test_an_identical_grouped_query_runs_once_per_page(built: Dict[str, Any]) -> None:
    """The KPIs and trends a sheet repeats from another ("from") are the same query over the same key: run and
    converted once per page (render time at 20k users), not once per visual."""
    _, sheets, _ = html_dashboard.parse_definition(built["document"])
    con = duckdb.connect(str(built["db"]), read_only=True)
    ran: List[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(con, name)

        def execute(self, sql: str, *args: Any) -> Any:
            ran.append(sql)
            return con.execute(sql, *args)

    def grouped() -> List[str]:
        return [sql for sql in ran if "GROUP BY" in sql and "HAVING" not in sql]

    try:
        dashboard_data.build_payload(Counting(), sheets)  # type: ignore[arg-type]
        once = grouped()
        ran.clear()
        for visual in [v for sheet in sheets for v in sheet.visuals]:  # each visual on its own, as before the cache
            columns = dashboard_data.view_columns(con, visual.dataset, visual.visual_id)
            dashboard_data._visual_payload(Counting(), visual, columns, dashboard_data.StringTable(),  # type: ignore
                                           dashboard_data.IdPool())
        each = grouped()
    finally:
        con.close()
    assert len(once) == len(set(once)), "a grouped query ran twice"
    assert len(once) < len(each), "the dashboard repeats no query: the cache is not exercised"


def test_a_dimension_of_few_values_is_shipped_as_columns_and_read_back_as_rows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """dashboard_data._widen (the model mix: a part column per model, null where the row is absent) and unwiden
    give back the same rows (as a multiset: the page regroups them); a null part or a key that would not halve the
    rows keeps the rows as they are."""
    strings = dashboard_data.StringTable()
    day = [strings.code(f"2026-11-0{d}") for d in (1, 1, 2, 2, 2, 3)]
    model = [strings.code(m) for m in ("b", "a", "a", "b", "c", "a")]
    user = [strings.code("u")] * 6
    keys = [{"t": "d", "v": day}, {"t": "s", "v": model}, {"t": "s", "v": user}]
    parts = [[1, 2, 3, 4, 5, 6], [0.5, 0, 1.25, 2, 3, 4]]
    assert dashboard_data._widen(1, keys, parts, strings)[0] is None, "fewer rows than WIDE_ROWS"
    monkeypatch.setattr(dashboard_data, "WIDE_ROWS", 0)
    wide, widened, cells = dashboard_data._widen(1, keys, parts, strings)
    assert wide == {"key": 1, "values": [strings.code("a"), strings.code("b"), strings.code("c")]}
    assert len(widened[0]["v"]) == 3 and widened[1]["v"] == [] and len(cells) == 6
    visual = {"keys": copy.deepcopy(widened), "parts": cells, "wide": wide}
    dashboard_data.unwiden(visual)
    rows = sorted(zip(*[c["v"] for c in visual["keys"]], *visual["parts"]))
    assert rows == sorted(zip(day, model, user, *parts)) and visual["wide"] is None
    assert dashboard_data._widen(1, keys, [[1, None, 3, 4, 5, 6]], strings)[0] is None
    assert dashboard_data._widen(2, keys, parts, strings)[0] is None   # one user: the (day, model) rows stay 6


def test_summed_parts_are_rounded_like_every_number_of_the_page() -> None:
    """The fast path for summed parts (dashboard_data._part_values) keeps _part_value's rule: floats rounded to the
    page's decimals, whole ones shipped as ints, ints and NULLs as they are, anything else through _part_value."""
    from decimal import Decimal

    strings, pool = dashboard_data.StringTable(), dashboard_data.IdPool()
    values = [3, None, 0.1234567, 2.0, -0.0000004, Decimal("1.5"), 1e300]
    general = [dashboard_data._part_value(v, "sum", strings, pool, "") for v in values]
    assert dashboard_data._part_values(values, strings, pool) == general == [3, None, 0.123457, 2, 0, 1.5, 1e300]
    assert [type(v) for v in dashboard_data._part_values([2.0, 7], strings, pool)] == [int, int]
