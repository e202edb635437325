"""dashboard.html in a real browser: headless Debian Chromium renders every visual, with no script error.

Guards against what string checks cannot see: JavaScript that throws, a chart that never draws, a
KPI the page computes differently from DuckDB, a date range the page ignores. The screenshots of every
sheet and analysis page come from test_browser_controls.py. Set KIRO_SKIP_BROWSER=1 to skip
explicitly; a missing Chromium otherwise fails the test (apt-get install chromium).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import duckdb
import pytest
from dashboard_build import shared_build
from kiro_analytics.local import dashboard_data, html_dashboard
from kiro_analytics.quicksight import definitions

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
TRICKY = '<img src=x onerror="alert(1)"> & 张伟 😀'
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--window-size=1400,1800",
         "--virtual-time-budget=10000"]


def chromium() -> Path:
    if os.environ.get("KIRO_SKIP_BROWSER") == "1":
        pytest.skip("KIRO_SKIP_BROWSER=1")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install it (apt-get install chromium) or set KIRO_SKIP_BROWSER=1")
    return CHROMIUM


def run_chromium(url: str, *extra: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="kiro-chromium-")
    try:
        return subprocess.run([str(chromium()), *FLAGS, f"--user-data-dir={profile}", *extra, url],
                              capture_output=True, text=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class VisualScan(HTMLParser):
    """Per visual container: its attributes and which tags appear inside it; plus the errors box."""

    def __init__(self) -> None:
        super().__init__()
        self.visuals: Dict[str, Dict[str, Any]] = {}
        self.errors = ""
        self._stack: List[Optional[str]] = []
        self._in_errors = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        owner = self._stack[-1] if self._stack else None
        if tag == "div" and "data-visual-id" in values:
            owner = values["data-visual-id"]
            self.visuals[owner] = {"attrs": values, "tags": set(), "text": []}
        elif owner is not None:
            self.visuals[owner]["tags"].add(tag)
            if "class" in values:
                self.visuals[owner]["tags"].add("." + values["class"])
            if "data-value" in values:
                self.visuals[owner]["value"] = values["data-value"]
        self._in_errors = tag == "pre" and values.get("id") == "errors"
        if tag not in VOID:
            self._stack.append(owner)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._stack:
            self._stack.pop()
        self._in_errors = False

    def handle_data(self, data: str) -> None:
        if self._in_errors:
            self.errors += data
        owner = self._stack[-1] if self._stack else None
        if owner is not None:
            self.visuals[owner]["text"].append(data)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    chromium()
    tmp = tmp_path_factory.mktemp("browser")
    config, result = shared_build(TRICKY)
    paths = {config.language: html_dashboard.render(result.db_path, tmp / "out", config)}
    other = "en" if config.language == "zh" else "zh"
    document = definitions.load_definition("dashboard", other, html_dashboard.local_values())
    paths[other] = html_dashboard.render_document(document, result.db_path, tmp / other / "dashboard.html", other)
    return {"db": result.db_path, "paths": paths, "language": config.language, "document": document}


def sheets(document: Dict[str, Any]) -> List[Dict[str, Any]]:
    return document["Definition"]["Sheets"]


# Every scan this process made, by page file (its size and time too: a page written again is scanned again) and
# fragment: the pages are static and Chromium's run of one is deterministic (virtual time), so a second test that
# needs the same sheet of the same page reads the first run's DOM instead of starting Chromium again
# (test_limits_… scans one sheet per bar or table, and the sheets test_every_visual_… scanned).
_SCANS: Dict[Tuple[str, int, int], VisualScan] = {}


def scan(path: Path, fragment: str) -> VisualScan:
    stat = path.stat()
    key = (path.as_uri() + fragment, stat.st_size, stat.st_mtime_ns)
    if key not in _SCANS:
        _SCANS[key] = _scan(key[0])
    return _SCANS[key]


def _scan(url: str) -> VisualScan:
    done = run_chromium(url, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Uncaught" not in done.stderr, [line for line in done.stderr.splitlines() if "Uncaught" in line]
    parsed = VisualScan()
    parsed.feed(done.stdout)
    assert 'data-ready="1"' in done.stdout, "the page script did not finish"
    return parsed


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_visual_of_every_sheet_renders(page: Dict[str, Any], language: str) -> None:
    for number, sheet in enumerate(sheets(page["document"]), start=1):
        result = scan(page["paths"][language], f"#sheet={number}")
        assert result.errors.strip() == "", f"sheet {number}: {result.errors}"
        for entry in sheet["Visuals"]:
            (kind, body), = entry.items()
            visual = result.visuals[body["VisualId"]]
            assert visual["attrs"].get("data-rendered") == "1", f"sheet {number}: {body['VisualId']} did not render"
            assert int(visual["attrs"]["data-rows"]) > 0, body["VisualId"]
            expected = {"KPIVisual": ".kpi-value", "TableVisual": "table"}.get(kind, "svg")
            assert expected in visual["tags"], f"{body['VisualId']}: no {expected} inside"
        others = [v for sid, v in result.visuals.items()
                  if sid not in {next(iter(e.values()))["VisualId"] for e in sheet["Visuals"]}]
        assert all("data-rendered" not in v["attrs"] for v in others), "only the chosen sheet is drawn"


def kpi_values(document: Dict[str, Any]) -> Dict[str, tuple]:
    found = {}
    for _sheet, kind, body in definitions.visuals(document):
        if kind == "KPIVisual":
            (field,) = body["ChartConfiguration"]["FieldWells"]["Values"][0].values()
            found[body["VisualId"]] = (field["Column"]["DataSetIdentifier"], field["Column"]["ColumnName"])
    return found


def test_kpis_in_the_browser_equal_duckdb_for_a_date_range(page: Dict[str, Any]) -> None:
    start, end = "2026-11-01", "2026-11-20"
    con = duckdb.connect(str(page["db"]), read_only=True)
    try:
        result = scan(page["paths"][page["language"]], f"#sheet=1&start={start}&end={end}")
        checked = 0
        for visual_id, (view, column) in kpi_values(page["document"]).items():
            if visual_id not in result.visuals or "value" not in result.visuals[visual_id]:
                continue
            rows = con.table(view).select("activity_date", column).fetchall()
            inside = [value for day, value in rows if value is not None and start <= day.isoformat() <= end]
            shown = float(result.visuals[visual_id]["value"])
            if column == "userid":
                assert shown == len(set(inside)), visual_id
            else:
                # Each pre-grouped row carries dashboard_data.DECIMALS decimals; the view's rows bound their number.
                assert shown == pytest.approx(sum(inside), rel=1e-9, abs=len(inside) * 0.5e-6), visual_id
            checked += 1
        first_sheet = sheets(page["document"])[0]["Visuals"]
        assert checked == sum("KPIVisual" in entry for entry in first_sheet) > 0, "every overview KPI is checked"
        # The acceptance rate is a calculated field: SUM(acceptances) / SUM(suggestions) over the range, not a
        # mean of daily rates. The page must divide the two sums after filtering, exactly like DuckDB here.
        number = next(n for n, s in enumerate(sheets(page["document"]), start=1) if s["SheetId"] == "user-behavior")
        behaviour = scan(page["paths"][page["language"]], f"#sheet={number}&start={start}&end={end}")
        (ratio,), = con.execute("SELECT SUM(inline_acceptances) / SUM(inline_suggestions) FROM user_behavior_detail "
                                "WHERE activity_date BETWEEN ? AND ?", [start, end]).fetchall()
        (mean,), = con.execute("SELECT AVG(acceptance_rate) FROM inline_acceptance_daily "
                               "WHERE activity_date BETWEEN ? AND ?", [start, end]).fetchall()
        shown = float(behaviour.visuals["ub-kpi-acceptance-rate"]["value"])
        assert shown == pytest.approx(ratio, rel=1e-9) and 0 < ratio < 1
        assert abs(shown - mean) > 1e-6, "the sample must tell a ratio of sums from a mean of rates"
        whole = scan(page["paths"][page["language"]], f"#sheet={number}")
        assert float(whole.visuals["ub-kpi-acceptance-rate"]["value"]) != pytest.approx(shown, rel=1e-9), \
            "the date range must change the ratio"
    finally:
        con.close()


def test_hostile_name_is_shown_as_text(page: Dict[str, Any]) -> None:
    number = next(n for n, s in enumerate(sheets(page["document"]), start=1)
                  if any("TableVisual" in e for e in s["Visuals"]))
    done = run_chromium(page["paths"][page["language"]].as_uri() + f"#sheet={number}", "--dump-dom")
    assert "&lt;img src=x onerror=\"alert(1)\"&gt; &amp; 张伟 😀" in done.stdout
    assert not re.search(r"<img\b", done.stdout)


def test_limits_and_groups_in_the_browser_match_duckdb(page: Dict[str, Any]) -> None:
    """Top-N bars keep N; the monthly table has one row per (month, user, tier, advice) of the view, the ingest
    ledger's one per (day, report, client)."""
    con = duckdb.connect(str(page["db"]), read_only=True)
    try:
        where = {vid: n for n, s in enumerate(sheets(page["document"]), start=1)
                 for vid in (next(iter(e.values()))["VisualId"] for e in s["Visuals"])}
        for visual_id, body in ((vid, b) for _s, kind, b in definitions.visuals(page["document"])
                                for vid in [b["VisualId"]] if kind in ("BarChartVisual", "TableVisual")):
            config = body["ChartConfiguration"]
            shown = scan(page["paths"]["en"], f"#sheet={where[visual_id]}").visuals[visual_id]
            wells = next(iter(config["FieldWells"].values()))
            fields = [next(iter(f.values())) for f in wells.get("Category", []) + wells.get("GroupBy", [])]
            view = fields[0]["Column"]["DataSetIdentifier"]
            columns = [f["Column"]["ColumnName"] for f in fields]
            # A date dimension groups by its granularity: a month is YYYY-MM, a day the whole date.
            widths = [7 if f.get("DateGranularity") == "MONTH" else None for f in fields]
            groups = {tuple(str(v)[:width] if isinstance(v, date) and width else v for v, width in zip(row, widths))
                      for row in con.table(view).select(*columns).fetchall()}
            limit = config.get("SortConfiguration", {}).get("CategoryItemsLimit", {}).get("ItemsLimit")
            assert int(shown["attrs"]["data-rows"]) == min(len(groups), limit or len(groups)), visual_id
    finally:
        con.close()


def _column(view: str, name: str) -> Dict[str, str]:
    return {"DataSetIdentifier": view, "ColumnName": name}


def _measure(fid: str, view: str, name: str, agg: str) -> Dict[str, Any]:
    return {"NumericalMeasureField": {"FieldId": fid, "Column": _column(view, name),
                                      "AggregationFunction": {"SimpleNumericalAggregation": agg}}}


def _dim(fid: str, view: str, name: str, granularity: str = "") -> Dict[str, Any]:
    if granularity:
        return {"DateDimensionField": {"FieldId": fid, "Column": _column(view, name), "DateGranularity": granularity}}
    return {"CategoricalDimensionField": {"FieldId": fid, "Column": _column(view, name)}}


def test_field_well_features_beyond_the_shipped_dashboard(page: Dict[str, Any], tmp_path: Path) -> None:
    """WEEK grain, AVERAGE, Colors, stacked bars, Other, TopBottomFilter, unaggregated tables: drawn and counted."""
    v = "user_daily_detail"
    visuals = [
        {"KPIVisual": {"VisualId": "k-avg", "ChartConfiguration": {"FieldWells": {
            "Values": [_measure("k.c", v, "credits_used", "AVERAGE")]}}}},
        {"BarChartVisual": {"VisualId": "b-other", "ChartConfiguration": {"FieldWells": {
            "BarChartAggregatedFieldWells": {"Category": [_dim("b.u", v, "username")],
                                             "Values": [_measure("b.c", v, "credits_used", "SUM")]}},
            "SortConfiguration": {"CategoryItemsLimit": {"ItemsLimit": 5, "OtherCategories": "INCLUDE"}}}}},
        {"BarChartVisual": {"VisualId": "b-top", "ChartConfiguration": {"FieldWells": {
            "BarChartAggregatedFieldWells": {"Category": [_dim("t.u", v, "username")],
                                             "Colors": [_dim("t.t", v, "subscription_tier")],
                                             "Values": [_measure("t.c", v, "credits_used", "SUM")]}},
            "BarsArrangement": "STACKED", "Orientation": "VERTICAL"}}},
        {"LineChartVisual": {"VisualId": "l-week", "ChartConfiguration": {"FieldWells": {
            "LineChartAggregatedFieldWells": {"Category": [_dim("l.d", v, "activity_date", "WEEK")],
                                              "Colors": [_dim("l.t", v, "subscription_tier")],
                                              "Values": [_measure("l.c", v, "credits_used", "AVERAGE")]}}}}},
        {"TableVisual": {"VisualId": "t-raw", "ChartConfiguration": {"FieldWells": {"TableUnaggregatedFieldWells": {
            "Values": [{"FieldId": f"r.{c}", "Column": _column(v, c)}
                       for c in ("activity_date", "username", "credits_used")]}}}}},
    ]
    top = {"FilterGroupId": "top3", "CrossDataset": "SINGLE_DATASET", "ScopeConfiguration": {"SelectedSheets": {
        "SheetVisualScopingConfigurations": [{"SheetId": "s", "Scope": "SELECTED_VISUALS", "VisualIds": ["b-top"]}]}},
        "Filters": [{"TopBottomFilter": {"FilterId": "top3-users", "Column": _column(v, "username"), "Limit": 3,
                                         "AggregationSortConfigurations": [{
                                             "Column": _column(v, "credits_used"), "SortDirection": "DESC",
                                             "AggregationFunction": {"NumericalAggregationFunction": {
                                                 "SimpleNumericalAggregation": "SUM"}}}]}}]}
    document = {"Name": "fixture", "Definition": {"Sheets": [{"SheetId": "s", "Name": "S", "Visuals": visuals}],
                                                  "FilterGroups": [top]}}
    out = html_dashboard.render_document(document, page["db"], tmp_path / "fixture.html", "en")
    shown = scan(out, "#sheet=1")
    assert shown.errors.strip() == ""
    con = duckdb.connect(str(page["db"]), read_only=True)
    try:
        rows = con.table(v).select("activity_date", "username", "subscription_tier", "credits_used").fetchall()
    finally:
        con.close()
    credits = [r[3] for r in rows if r[3] is not None]
    # Rows are pre-grouped by the key of every visual of the dataset, each sum shipped with DECIMALS: the mean of
    # them can drift by half a unit of the last decimal, no more.
    assert float(shown.visuals["k-avg"]["value"]) == pytest.approx(sum(credits) / len(credits), rel=1e-9,
                                                                   abs=0.5 * 10 ** -dashboard_data.DECIMALS)
    users = {r[1] for r in rows}
    assert shown.visuals["b-other"]["attrs"]["data-rows"] == str(min(6, len(users)))
    assert "Other" in "".join(shown.visuals["b-other"]["text"])
    assert shown.visuals["b-top"]["attrs"]["data-rows"] == "3"
    weeks = {(r[0] - timedelta(days=(r[0].weekday() + 1) % 7)) for r in rows}  # QuickSight weeks start on Sunday
    assert shown.visuals["l-week"]["attrs"]["data-rows"] == str(len(weeks))
    assert shown.visuals["t-raw"]["attrs"]["data-rows"] == str(len(rows))
