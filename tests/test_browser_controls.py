"""The local pages driven as a person would, in headless Chromium (DevTools protocol, tests/chromium_cdp.py).

Dates picked in the page's date inputs, a table header clicked, the CSV export downloaded, a dropdown
changed, a table row and a bar clicked to open a user's detail sheet: after each, what the page shows is
compared with DuckDB queried here, row by row. The controls and the drill-down are drawn from a fixture
definition (tests/fixtures/controls_dashboard.json, valid per the QuickSight model) written against the
QuickSight schema: ParameterDeclarations, Dropdown ParameterControls, CategoryFilters bound to parameters,
VisualCustomActions with SetParametersOperation + NavigationOperation. Screenshots of every dashboard sheet
and every analysis page, in zh and en, go to build/screenshots/.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import duckdb
import pytest
from chromium_cdp import Browser
from dashboard_build import shared_build
from kiro_analytics.local import dashboard_data, html_dashboard, payload_codec
from kiro_analytics.quicksight import definitions
from kiro_analytics.request_validation import request_problems

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "controls_dashboard.json"
TRICKY = '<img src=x onerror="alert(1)"> & 张伟 😀'
KPI_VALUES = ("Array.from(document.querySelectorAll('section:not([hidden]) .visual.kind-kpi')).map(function (v) {"
              " var k = v.querySelector('.kpi-value'); return [v.getAttribute('data-visual-id'),"
              " k ? k.getAttribute('data-value') : null]; })")


def table_rows(visual_id: str) -> str:
    return (f"Array.from(document.querySelectorAll('#visual-{visual_id} tbody tr')).map(function (tr) {{"
            " return Array.from(tr.children).map(function (td) { return td.textContent; }); })")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    from test_browser import chromium

    chromium()
    tmp = tmp_path_factory.mktemp("browser-controls")
    config, result = shared_build(TRICKY)
    pages: Dict[str, Dict[str, Path]] = {}
    for language in ("zh", "en"):
        targets = {name: tmp / language / file for name, file in html_dashboard.page_names().items()}
        # The English pages ship every visual that can be as columns per value (dashboard_data._widen), as the 20k
        # model mix is; the Chinese ones only those as large (none here): both ways are drawn and compared.
        wide_rows = dashboard_data.WIDE_ROWS
        dashboard_data.WIDE_ROWS = 0 if language == "en" else wide_rows
        try:
            pages[language] = html_dashboard.render_all(result.db_path, targets, _with_language(config, language))
        finally:
            dashboard_data.WIDE_ROWS = wide_rows
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    controls = html_dashboard.render_document(fixture, result.db_path, tmp / "controls.html", "en")
    browser = Browser(CHROMIUM)
    try:
        yield {"db": result.db_path, "pages": pages, "controls": controls, "fixture": fixture, "browser": browser,
               "tmp": tmp}
    finally:
        browser.close()


def _with_language(config: Any, language: str) -> Any:
    import dataclasses

    return dataclasses.replace(config, language=language) if config.language != language else config


def query(site: Dict[str, Any], sql: str, params: Sequence[Any] = ()) -> List[Tuple[Any, ...]]:
    con = duckdb.connect(str(site["db"]), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def no_errors(browser: Browser) -> None:
    assert browser.evaluate("document.getElementById('errors').textContent").strip() == ""


def kpis(browser: Browser) -> Dict[str, float]:
    return {vid: float(value) for vid, value in browser.evaluate(KPI_VALUES) if value not in (None, "")}


def test_the_fixture_is_a_valid_quicksight_definition() -> None:
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    params = {"AwsAccountId": "123456789012", "DashboardId": "kiro-controls-fixture", "Name": document["Name"],
              "Definition": document["Definition"], "ValidationStrategy": {"Mode": "STRICT"}}
    assert request_problems("quicksight", "CreateDashboard", params) == []


# ---- dates picked in the page ------------------------------------------------------------------------------
def overview_kpis(site: Dict[str, Any]) -> Dict[str, Tuple[str, str]]:
    document = definitions.load_definition("dashboard", "en", html_dashboard.local_values())
    found = {}
    for sheet, kind, body in definitions.visuals(document):
        if kind == "KPIVisual" and sheet == "overview":
            (field,) = body["ChartConfiguration"]["FieldWells"]["Values"][0].values()
            found[body["VisualId"]] = (field["Column"]["DataSetIdentifier"], field["Column"]["ColumnName"])
    return found


def expected_kpi(site: Dict[str, Any], view: str, column: str, start: str, end: str) -> float:
    aggregate = f'COUNT(DISTINCT "{column}")' if column == "userid" else f'SUM("{column}")'
    (value,), = query(site, f'SELECT {aggregate} FROM "{view}" WHERE activity_date BETWEEN ? AND ?', [start, end])
    return float(value or 0)


def test_dates_picked_in_the_date_inputs_change_every_overview_kpi(site: Dict[str, Any]) -> None:
    browser = site["browser"]
    browser.open(site["pages"]["en"]["dashboard"].as_uri())
    whole = kpis(browser)
    start, end = "2026-11-03", "2026-11-16"
    browser.set_value("#start-date", start)
    browser.set_value("#end-date", end)
    no_errors(browser)
    shown = kpis(browser)
    wanted = overview_kpis(site)
    assert set(wanted) <= set(shown), "every overview KPI shows a number"
    for visual_id, (view, column) in wanted.items():
        (rows,), = query(site, f'SELECT COUNT(*) FROM "{view}"')  # bounds the drift of 6-decimal parts
        assert shown[visual_id] == pytest.approx(expected_kpi(site, view, column, start, end), rel=1e-9,
                                                 abs=rows * 0.5e-6), visual_id
    assert all(shown[v] != whole[v] for v in wanted), "a two-week range must change every KPI of the sheet"
    # The daily trend draws one point per day of the picked range that has data, no more.
    days = query(site, "SELECT COUNT(DISTINCT activity_date) FROM daily_summary WHERE activity_date BETWEEN ? AND ?",
                 [start, end])[0][0]
    assert browser.evaluate("document.getElementById('visual-ov-credit-trend').getAttribute('data-rows')") == str(days)
    browser.click("#reset-dates")
    assert kpis(browser) == whole


# ---- a table sorted by a click, checked row by row; its CSV export -----------------------------------------
def table_fields(document: Dict[str, Any], visual_id: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    for _sheet, _kind, body in definitions.visuals(document):
        if body["VisualId"] == visual_id:
            wells = body["ChartConfiguration"]["FieldWells"]["TableAggregatedFieldWells"]
            dims = [next(iter(f.values())) for f in wells["GroupBy"]]
            values = [next(iter(f.values())) for f in wells["Values"]]
            return dims, values
    raise AssertionError(visual_id)


def expected_table(site: Dict[str, Any], visual_id: str) -> Tuple[List[str], List[Tuple[Any, ...]]]:
    """The cost table straight from DuckDB: its GroupBy columns (months as the 1st) and aggregated Values."""
    document = definitions.load_definition("dashboard", "en", html_dashboard.local_values())
    dims, values = table_fields(document, visual_id)
    view = dims[0]["Column"]["DataSetIdentifier"]
    selected = []
    for field in dims:
        name = f'"{field["Column"]["ColumnName"]}"'
        selected.append(f"strftime(date_trunc('month', {name}), '%Y-%m-%d')"
                        if field.get("DateGranularity") == "MONTH" else f"CAST({name} AS VARCHAR)")
    for field in values:
        function = field.get("AggregationFunction", {})
        aggregate = function.get("SimpleNumericalAggregation", "SUM") if isinstance(function, dict) else function
        selected.append(f'{ {"SUM": "SUM", "MAX": "MAX", "MIN": "MIN", "AVERAGE": "AVG"}[aggregate] }'
                        f'("{field["Column"]["ColumnName"]}")')
    group = ", ".join(str(n) for n in range(1, len(dims) + 1))
    rows = query(site, f'SELECT {", ".join(selected)} FROM "{view}" GROUP BY {group}')
    return [f["FieldId"] for f in dims + values], rows


def tie_groups(rows: List[Tuple[Any, ...]], key: int) -> List[List[Tuple[Any, ...]]]:
    groups: List[List[Tuple[Any, ...]]] = []
    for row in rows:
        if groups and _same(groups[-1][0][key], row[key]):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return a == b


def _normal(row: Sequence[Any]) -> Tuple[Any, ...]:
    return tuple(round(float(v), 4) if isinstance(v, (int, float)) and not isinstance(v, bool) else
                 ("" if v is None else str(v)) for v in row)


def download_csv(site: Dict[str, Any], visual_id: str, folder: Path) -> List[List[str]]:
    browser = site["browser"]
    folder.mkdir(parents=True, exist_ok=True)
    browser.download_to(folder)
    browser.click(f"#visual-{visual_id} .table-foot .csv")
    target = folder / f"{visual_id}.csv"
    deadline = time.monotonic() + 30
    while not target.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.is_file(), f"the CSV export of {visual_id} was not downloaded"
    text = target.read_text(encoding="utf-8")
    assert text.startswith("\ufeff"), "the BOM that makes spreadsheets read UTF-8"
    return list(csv.reader(io.StringIO(text[1:])))


def test_a_clicked_sort_orders_the_whole_cost_table_row_by_row(site: Dict[str, Any]) -> None:
    browser = site["browser"]
    number = next(n for n, s in enumerate(definitions.load_raw("dashboard")["Definition"]["Sheets"], start=1)
                  if s["SheetId"] == "cost-analysis")
    browser.open(site["pages"]["en"]["dashboard"].as_uri() + f"#sheet={number}")
    fields, rows = expected_table(site, "ca-user-credits")
    column = next(i for i, f in enumerate(fields) if ".consumption_credits." in f)
    browser.click(f'#visual-ca-user-credits th[data-col="{column}"]')  # a numeric column sorts descending first
    no_errors(browser)
    header_cell = f"document.querySelector('#visual-ca-user-credits th[data-col=\"{column}\"]')"
    assert browser.evaluate(header_cell + ".getAttribute('aria-sort')") == "descending"
    exported = download_csv(site, "ca-user-credits", site["tmp"] / "downloads-sort")
    header, body = exported[0], exported[1:]
    assert len(header) == len(fields) and len(body) == len(rows), "the export holds every row, not one page"
    got = [tuple(_cell(v) for v in row) for row in body]
    want = sorted((tuple(r) for r in rows), key=lambda r: -(r[column] or 0))
    # Row by row: the sort column in the same order, and rows tied on it the same rows (their order is free).
    got_groups, want_groups = tie_groups(got, column), tie_groups(want, column)
    assert [len(g) for g in got_groups] == [len(g) for g in want_groups]
    for mine, theirs in zip(got_groups, want_groups):
        assert _same(mine[0][column], theirs[0][column])
        assert sorted(map(_normal, mine)) == sorted(map(_normal, theirs))
    # What the page shows is the export's first page.
    shown = browser.evaluate(table_rows("ca-user-credits"))
    assert len(shown) == min(page_size(site, "ca-user-credits"), len(body))
    assert [r[1] for r in shown] == [r[1] for r in body[:len(shown)]], "usernames in the page's order"


def test_pages_of_a_table_follow_its_sort(site: Dict[str, Any]) -> None:
    """fx-users: PageSize 10 over 30 users. Page 2 is rows 11-20 of the whole sorted table; a header click
    re-sorts every row (not only the page shown) and goes back to page 1."""
    browser = site["browser"]
    browser.open(site["controls"].as_uri())
    want = query(site, "SELECT username, SUM(consumption_credits) FROM user_daily_detail GROUP BY username, "
                       "subscription_tier ORDER BY 2 DESC")
    assert len(want) > 20
    assert [r[0] for r in browser.evaluate(table_rows("fx-users"))] == [u for u, _ in want[:10]]
    browser.click("#visual-fx-users .page-next")
    page = browser.evaluate(table_rows("fx-users"))
    assert [r[0] for r in page] == [u for u, _ in want[10:20]]
    assert [float(r[2].replace(",", "")) for r in page] == pytest.approx([round(c, 2) for _, c in want[10:20]],
                                                                         abs=0.006)
    assert browser.evaluate("document.getElementById('visual-fx-users').getAttribute('data-page')") == "2"
    browser.click('#visual-fx-users th[data-col="0"]')  # a text column sorts ascending first
    by_name = sorted(want, key=lambda r: r[0])
    page = browser.evaluate(table_rows("fx-users"))
    assert browser.evaluate("document.getElementById('visual-fx-users').getAttribute('data-page')") == "1"
    assert [r[0] for r in page] == [u for u, _ in by_name[:10]]
    assert len(browser.evaluate("document.querySelectorAll('#visual-fx-users tbody tr')")) == 10, "one page in the DOM"


def page_size(site: Dict[str, Any], visual_id: str) -> int:
    document = definitions.load_definition("dashboard", "en", html_dashboard.local_values())
    body = next(b for _s, _k, b in definitions.visuals(document) if b["VisualId"] == visual_id)
    return int(body["ChartConfiguration"]["SortConfiguration"].get("PaginationConfiguration", {}).get("PageSize", 50))


def _cell(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def test_cost_table_fits_1400_px_and_shows_code_labels(site: Dict[str, Any]) -> None:
    browser = site["browser"]
    codes = json.loads(html_dashboard.CODES.read_text(encoding="utf-8"))
    for language in ("en", "zh"):
        browser.open(site["pages"][language]["dashboard"].as_uri() + "#sheet=3")
        wide = browser.evaluate("(function () { var w = document.querySelector('#visual-ca-user-credits .table-wrap');"
                                " return [w.scrollWidth, w.clientWidth, window.innerWidth]; })()")
        assert wide[2] == 1400 and wide[0] <= wide[1], f"{language}: the cost table scrolls sideways: {wide}"
        cells = {c for row in browser.evaluate(table_rows("ca-user-credits")) for c in row}
        raw = {"KEEP", "UPGRADE", "DOWNGRADE", "PRO_PLUS", "PRO_MAX", "MONTH_TO_DATE", "COMPLETE", "PROVISIONAL",
               "FINAL"}
        assert not cells & raw, f"{language}: codes shown raw: {sorted(cells & raw)}"
        labels = codes[language]
        assert cells & {labels[c] for c in ("KEEP", "UPGRADE", "DOWNGRADE")}, language


def test_count_axes_have_whole_number_ticks(site: Dict[str, Any]) -> None:
    """One user's active days count 0 or 1 people: an axis 0, 0.2, 0.4 ... 1 would be wrong."""
    browser = site["browser"]
    browser.open(site["controls"].as_uri())
    browser.click("#visual-fx-users tbody tr:nth-child(1)")
    browser.wait_for("location.hash === '#sheet=2' && !document.getElementById('sheet-2').hidden")
    ticks = browser.evaluate("Array.from(document.querySelector('#visual-fx-detail-active svg.chart > g.axis')"
                             ".querySelectorAll('text')).map(function (t) { return t.textContent; })")
    assert ticks == ["0", "1"], ticks


# ---- parameter controls and the drill-down, from the fixture definition -------------------------------------
def test_each_control_filters_its_visuals_like_duckdb(site: Dict[str, Any]) -> None:
    browser = site["browser"]
    browser.open(site["controls"].as_uri())
    no_errors(browser)
    everything = kpis(browser)
    tiers = [t for (t,) in query(site, "SELECT DISTINCT subscription_tier FROM user_daily_detail ORDER BY 1")]
    options = browser.evaluate("Array.from(document.querySelector('select[data-param=Tier]').options)"
                               ".map(function (o) { return o.value; })")
    assert options == tiers, "a control linked to a column offers that column's values"
    chosen = tiers[:2]
    browser.select("select[data-param=Tier]", chosen)
    marks = ", ".join("?" * len(chosen))
    (credits, users), = query(site, f"SELECT SUM(credits_used), COUNT(DISTINCT userid) FROM user_daily_detail "
                                    f"WHERE subscription_tier IN ({marks})", chosen)
    shown = kpis(browser)
    assert shown["fx-credits"] == pytest.approx(credits, rel=1e-9, abs=1e-4)
    assert shown["fx-active"] == users < everything["fx-active"]
    assert shown["fx-messages"] == everything["fx-messages"], "the tier filter is on another dataset"
    # The table under the same filter, row by row (user, tier, consumption), in the definition's order.
    want = query(site, f"SELECT username, subscription_tier, SUM(consumption_credits) FROM user_daily_detail "
                       f"WHERE subscription_tier IN ({marks}) GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10", chosen)
    got = browser.evaluate(table_rows("fx-users"))
    labels = json.loads(html_dashboard.CODES.read_text(encoding="utf-8"))["en"]
    assert [(r[0], r[1]) for r in got] == [(u, labels.get(t, t)) for u, t, _ in want]
    assert [float(r[2].replace(",", "")) for r in got] == pytest.approx([round(c, 2) for *_, c in want], abs=0.006)
    browser.select("select[data-param=Client]", ["KIRO_IDE"])
    (messages,), = query(site, "SELECT SUM(messages) FROM model_usage_detail WHERE client_type = 'KIRO_IDE'")
    assert kpis(browser)["fx-messages"] == messages < everything["fx-messages"]
    browser.click('select[data-param=Tier] ~ button.clear')
    assert kpis(browser)["fx-credits"] == pytest.approx(everything["fx-credits"], rel=1e-12)


def test_tier_team_and_user_filter_the_behaviour_sheet_of_the_dashboard_like_duckdb(site: Dict[str, Any]) -> None:
    """The real dashboard (not the fixture): the legacy behaviour rows carry the day's credit-report tier (UNKNOWN
    without one) and the user's team label, so the sheet's Tier and Team drop-downs filter it; its Client
    drop-down says it filters nothing there."""
    browser = site["browser"]
    browser.open(site["pages"]["en"]["dashboard"].as_uri() + "#sheet=2")
    start, end = "2026-11-03", "2026-11-16"
    browser.set_value("#start-date", start)
    browser.set_value("#end-date", end)
    no_errors(browser)
    whole = kpis(browser)
    window = "activity_date BETWEEN ? AND ?"
    options = browser.evaluate("Array.from(document.querySelector('#sheet-2 select[data-param=Tier]').options)"
                               ".map(function (o) { return o.value; }).filter(Boolean)")
    assert "UNKNOWN" in options, "a legacy-only day's tier is a choice"
    (tier, lines), = query(site, f"SELECT subscription_tier, SUM(ai_code_lines) FROM user_behavior_detail WHERE "
                                 f"{window} AND subscription_tier <> 'UNKNOWN' GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
                           [start, end])
    browser.select("#sheet-2 select[data-param=Tier]", [tier])
    shown = kpis(browser)
    assert shown["ub-kpi-ai-lines"] == lines < whole["ub-kpi-ai-lines"], tier
    (team, team_lines), = query(site, f"SELECT team, SUM(ai_code_lines) FROM user_behavior_detail WHERE {window} "
                                      f"AND subscription_tier = ? GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
                                [start, end, tier])
    browser.select("#sheet-2 select[data-param=Team]", [team])
    (chats,), = query(site, f"SELECT SUM(chat_messages_sent) FROM user_behavior_detail WHERE {window} AND "
                            f"subscription_tier = ? AND team = ?", [start, end, tier, team])
    shown = kpis(browser)
    assert shown["ub-kpi-ai-lines"] == team_lines and shown["ub-kpi-chat"] == chats, (tier, team)
    title = browser.evaluate("document.querySelector('#sheet-2 select[data-param=Client]').parentNode.textContent")
    assert "(no visual of this sheet)" in title
    for param in ("Tier", "Team"):
        browser.click(f"#sheet-2 select[data-param={param}] ~ button.clear")
    assert kpis(browser) == whole


def test_the_user_control_filters_distinct_users_through_their_ids_like_duckdb(site: Dict[str, Any]) -> None:
    """Distinct-user visuals ship rows per day with id sets, the User filter applied to the ids (username has one value
    per userid): KPI, per-tier pie and daily trend must still be DuckDB's numbers for the chosen people and dates."""
    page = site["pages"]["en"]["dashboard"]
    filters = html_dashboard.read_payload(page.read_text(encoding="utf-8"))["visuals"]["ov-active-trend"]["filters"]
    assert [f["key"] for f in filters if f["param"] == "User"] == [-1], "the user filter is on the ids, not the rows"
    # Two people with few active days, so the trend has days without them (drawn as no point, as QuickSight does).
    users = [u for (u,) in query(site, "SELECT username FROM active_user_days GROUP BY 1 "
                                       "ORDER BY COUNT(DISTINCT activity_date), 1 LIMIT 2")]
    start, end = "2026-09-01", "2026-11-25"
    browser = site["browser"]
    browser.open(page.as_uri())
    browser.set_value("#start-date", start)
    browser.set_value("#end-date", end)
    browser.select("select[data-param=User]", users)
    no_errors(browser)
    where = "username IN (?, ?) AND activity_date BETWEEN ? AND ?"
    (active, days), = query(site, f"SELECT COUNT(DISTINCT userid), COUNT(DISTINCT activity_date) FROM active_user_days "
                                  f"WHERE {where}", [*users, start, end])
    (credits,), = query(site, f"SELECT SUM(credits_used) FROM user_daily_detail WHERE {where}", [*users, start, end])
    shown = kpis(browser)
    assert 0 < shown["ov-kpi-active-users"] == active
    assert shown["ov-kpi-credits"] == pytest.approx(credits, rel=1e-9, abs=1e-4)
    assert browser.evaluate("document.getElementById('visual-ov-active-trend').getAttribute('data-rows')") == str(days)
    tiers = query(site, f"SELECT subscription_tier, COUNT(DISTINCT userid) FROM user_daily_detail WHERE {where} "
                        f"GROUP BY 1", [*users, start, end])
    pie = browser.evaluate("document.getElementById('visual-ov-tier-mix').getAttribute('data-rows')")
    assert pie == str(len(tiers))
    labels = json.loads(html_dashboard.CODES.read_text(encoding="utf-8"))["en"]
    slices = browser.evaluate("Array.from(document.querySelectorAll('#visual-ov-tier-mix .pie-legend li span'))"
                              ".map(function (s) { return s.textContent; })")
    total = sum(n for _, n in tiers)  # a person who changed tier counts in both slices, as in QuickSight
    assert sorted(slices) == sorted(f"{labels.get(t, t)}: {n} ({100 * n / total:.1f}%)" for t, n in tiers)


def test_the_model_mix_shipped_as_columns_per_model_draws_duckdbs_sums(site: Dict[str, Any]) -> None:
    """The user detail sheet's model mix is shipped with a column per model (dashboard_data._widen: a null cell is a
    row that is absent); the page rebuilds the rows, so its slices are DuckDB's messages per model for a date range,
    a client and a team."""
    page = site["pages"]["en"]["dashboard"]
    assert html_dashboard.read_payload(page.read_text(encoding="utf-8"))["visuals"]["ud-models"]["wide"] is None, \
        "read_payload rebuilds the rows"
    assert '"wide":{"key":1' in payload_header(page), "the model mix is shipped as columns per model"
    start, end = "2026-10-01", "2026-11-20"
    (team,), = query(site, "SELECT team FROM model_usage_detail WHERE team IS NOT NULL AND activity_date BETWEEN ? "
                           "AND ? GROUP BY 1 ORDER BY SUM(messages) DESC, 1 LIMIT 1", [start, end])
    browser = site["browser"]
    browser.open(page.as_uri() + "#sheet=4")
    browser.set_value("#start-date", start)
    browser.set_value("#end-date", end)
    for param, value in (("Client", "KIRO_IDE"), ("Team", team)):
        browser.select(f"#sheet-4 select[data-param={param}]", [value])
    no_errors(browser)
    want = query(site, "SELECT model, SUM(messages) FROM model_usage_detail WHERE activity_date BETWEEN ? AND ? AND "
                       "client_type = 'KIRO_IDE' AND team = ? GROUP BY 1 HAVING SUM(messages) > 0", [start, end, team])
    assert len(want) > 1
    slices = browser.evaluate("Array.from(document.querySelectorAll('#visual-ud-models .pie-legend li span'))"
                              ".map(function (s) { return s.textContent; })")
    labels = json.loads(html_dashboard.CODES.read_text(encoding="utf-8"))["en"]
    got = {text.rsplit(" (", 1)[0].rsplit(": ", 1)[0]: int(text.rsplit(" (", 1)[0].rsplit(": ", 1)[1].replace(",", ""))
           for text in slices}
    assert got == {labels.get(model, model): messages for model, messages in want}


def payload_header(page: Path) -> str:
    """The JSON header of a page's packed data, as the page holds it (before any array is read back)."""
    text = page.read_text(encoding="utf-8")
    data = re.search(r'id="dashboard-data"[^>]*>([^<]*)<', text).group(1)  # type: ignore[union-attr]
    packed = gzip.decompress(payload_codec.from_text(data))
    return packed[4:4 + int.from_bytes(packed[:4], "little")].decode("utf-8")


def test_clicking_a_user_opens_the_detail_sheet_with_that_user(site: Dict[str, Any]) -> None:
    browser = site["browser"]
    browser.open(site["controls"].as_uri())
    for selector, pick in (("#visual-fx-users tbody tr:nth-child(3)", "row"),
                           ("#visual-fx-top svg.chart .bars rect:nth-of-type(2)", "bar")):
        browser.evaluate("location.hash = 'sheet=1'")
        browser.wait_for("!document.getElementById('sheet-1').hidden")
        if pick == "row":
            user = browser.evaluate(f"document.querySelector('{selector}').children[0].textContent")
        else:
            want = query(site, "SELECT username FROM user_daily_detail GROUP BY 1 ORDER BY SUM(credits_used) DESC "
                               "LIMIT 2")
            user = want[1][0]
        browser.click(selector)
        browser.wait_for("location.hash === '#sheet=2' && !document.getElementById('sheet-2').hidden")
        no_errors(browser)
        (credits,), = query(site, "SELECT SUM(credits_used) FROM user_daily_detail WHERE username = ?", [user])
        assert kpis(browser)["fx-detail-credits"] == pytest.approx(credits, rel=1e-9, abs=1e-4), (pick, user)
        days = query(site, "SELECT strftime(activity_date, '%Y-%m-%d'), SUM(credits_used), SUM(total_messages) "
                           "FROM user_daily_detail WHERE username = ? GROUP BY 1 ORDER BY 1", [user])
        got = browser.evaluate(table_rows("fx-detail-days"))
        total = int(browser.evaluate("document.getElementById('visual-fx-detail-days').getAttribute('data-rows')"))
        assert total == len(days) > 1, (pick, user)
        assert [r[0] for r in got] == [d for d, _, _ in days[:len(got)]]
        assert [float(r[1].replace(",", "")) for r in got] == pytest.approx([round(c, 2) for _, c, _ in
                                                                            days[:len(got)]], abs=0.006)
        assert [int(r[2].replace(",", "")) for r in got] == [m for *_, m in days[:len(got)]]


# ---- every page, every sheet, both languages ---------------------------------------------------------------
def test_every_sheet_and_analysis_page_draws_and_is_screenshotted(site: Dict[str, Any]) -> None:
    browser = site["browser"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    files = html_dashboard.page_names()
    written = []
    assert sorted(site["pages"]) == ["en", "zh"], "screenshots in both languages (issue 13)"
    for language, pages in site["pages"].items():
        suffix = "" if language == "zh" else f"-{language}"
        for name, path in pages.items():
            document = definitions.load_definition(name, language, html_dashboard.local_values(name))
            sheets = document["Definition"]["Sheets"]
            for number, sheet in enumerate(sheets, start=1):
                browser.send("Page.navigate", {"url": "about:blank"})
                browser.open(path.as_uri() + f"#sheet={number}")
                no_errors(browser)
                ids = [next(iter(v.values()))["VisualId"] for v in sheet["Visuals"]]
                drawn = browser.evaluate("Array.from(document.querySelectorAll('section:not([hidden]) .visual'))"
                                         ".filter(function (v) { return v.getAttribute('data-rendered') === '1'; })"
                                         ".map(function (v) { return v.getAttribute('data-visual-id'); })")
                assert drawn == [i for i in drawn if i in ids] and set(drawn) == set(ids), (language, name, number)
                links = browser.evaluate("Array.from(document.querySelectorAll('nav.pages a'))"
                                         ".map(function (a) { return a.getAttribute('href'); })")
                assert links == list(files.values()), "every page links to every page"
                stem = f"sheet-{number}" if name == definitions.DASHBOARD else (
                    f"analysis-{name}" + (f"-sheet-{number}" if len(sheets) > 1 else ""))
                target = browser.screenshot(SCREENSHOTS / f"{stem}{suffix}.png")
                assert target.stat().st_size > 20_000
                written.append(target.name)
    # Every sheet of the dashboard and every analysis page, once per language, none overwriting another.
    expected = sum(len(definitions.load_raw(name)["Definition"]["Sheets"]) for name in files)
    assert len(written) == len(set(written)) == 2 * expected and sorted(pages) == sorted(files)

