"""Render the QuickSight dashboard definition as one self-contained `dashboard.html` over the local DuckDB.

The second renderer of `quicksight/dashboard.json` (the first is the QuickSight deploy): same sheets,
visuals, titles and numbers. The page has no network access at all (inline CSS, JS and SVG, and a
Content-Security-Policy that forbids fetching anything); the date-range control re-aggregates rows
that were pre-grouped by date, so every sheet follows it like QuickSight's StartDate/EndDate.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import duckdb

from kiro_analytics.errors import InputError
from kiro_analytics.quicksight import definitions

from .dashboard_data import build_payload
from .visual_specs import SUPPORTED_VISUALS, SheetSpec, parse_dashboard

ASSETS = Path(__file__).resolve().parent / "assets"
OUTPUT_NAME = "dashboard.html"
_MARKER_RE = re.compile(r"@@(LANG|TITLE|CSS|BODY|DATA|JS)@@")
# JSON inside <script> must not be able to close the element or open a comment, whatever the data holds.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}

__all__ = ["SUPPORTED_VISUALS", "local_values", "render", "render_definition", "render_document"]


def render(db_path: Path, out_dir: Path, config: Any, generated_at: Optional[datetime] = None) -> Path:
    """Write `<out_dir>/dashboard.html` from `quicksight/dashboard.json` in the configured language."""
    return render_definition(db_path, Path(out_dir) / OUTPUT_NAME, config, generated_at)


def render_definition(db_path: Path, out_path: Path, config: Any, generated_at: Optional[datetime] = None) -> Path:
    """Write `quicksight/dashboard.json` in the configured language to ``out_path`` (any name: the CLI stages it)."""
    document = definitions.load_definition(definitions.DASHBOARD, config.language, local_values())
    return render_document(document, Path(db_path), Path(out_path), config.language, generated_at)


def local_values() -> Dict[str, str]:
    """Fill the definition's non-label placeholders (dataset ARNs) with `local:<key>`: nothing here calls AWS."""
    raw = definitions.load_raw(definitions.DASHBOARD)
    keys = [key for key in definitions.placeholders(raw) if not key.startswith("label:")]
    return {key: "local:" + key.split(":", 1)[-1] for key in keys}


def render_document(document: Mapping[str, Any], db_path: Path, out_path: Path, language: str,
                    generated_at: Optional[datetime] = None) -> Path:
    """Render a filled dashboard document ({"Name", "Definition"}) against a DuckDB file; returns the path."""
    ui = _ui_strings(language)
    name, sheets = parse_dashboard(document)
    if not Path(db_path).is_file():
        raise InputError(f"{db_path}: local database not found; build it first")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        data = build_payload(con, sheets)
    finally:
        con.close()
    stamp = (generated_at or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    definition = document.get("Definition", document)
    payload: Dict[str, Any] = {
        "lang": language, "ui": ui, "weekStart": definition.get("Options", {}).get("WeekStart", "SUNDAY"),
        "generatedAt": stamp, **data,
    }
    pieces = {
        "LANG": "zh-CN" if language == "zh" else "en",
        "TITLE": html.escape(name),
        "CSS": (ASSETS / "dashboard.css").read_text(encoding="utf-8"),
        "BODY": _body(name, sheets, ui, stamp, data.get("range")),
        "DATA": _script_json(payload),
        "JS": (ASSETS / "dashboard.js").read_text(encoding="utf-8"),
    }
    template = (ASSETS / "dashboard.html").read_text(encoding="utf-8")
    # One pass over the template only, so a marker-like string inside the data is never replaced.
    page = _MARKER_RE.sub(lambda match: pieces[match.group(1)], template)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(page, encoding="utf-8")
    return out_path


def _ui_strings(language: str) -> Dict[str, str]:
    table = json.loads((ASSETS / "ui_strings.json").read_text(encoding="utf-8"))
    if language not in table:
        raise InputError(f"no local dashboard strings for language {language!r}; expected one of {sorted(table)}")
    return dict(table[language])


def _script_json(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda match: _SCRIPT_ESCAPES[match.group(0)], text)


def _attrs(**values: Any) -> str:
    return "".join(f' {key.rstrip("_").replace("_", "-")}="{html.escape(str(value), quote=True)}"'
                   for key, value in values.items())


def _body(name: str, sheets: List[SheetSpec], ui: Mapping[str, str], stamp: str, data_range: Any) -> str:
    e = html.escape
    titles = {}
    for sheet in sheets:
        titles.update({key: value for key, value in sheet.control_titles.items() if value})
    range_text = f"{data_range[0]} – {data_range[1]}" if data_range else "–"
    lines = [
        '<header class="top"><div>',
        f"<h1>{e(name)}</h1>",
        f'<p class="meta"><span id="generated">{e(ui["generated"])}: {e(stamp)}</span> · '
        f'<span id="data-range">{e(ui["dataRange"])}: {e(range_text)}</span></p>',
        '</div><div class="controls">',
        f'<label>{e(titles.get("StartDate", ui["start"]))}<input type="date" id="start-date"></label>',
        f'<label>{e(titles.get("EndDate", ui["end"]))}<input type="date" id="end-date"></label>',
        f'<button type="button" id="reset-dates">{e(ui["reset"])}</button>',
        "</div></header>",
        '<nav id="tabs" role="tablist">',
    ]
    for number, sheet in enumerate(sheets, start=1):
        lines.append(f'<button type="button" role="tab"{_attrs(data_sheet=number)}>{e(sheet.name)}</button>')
    lines.append(f'</nav><noscript><p>{e(ui["noScript"])}</p></noscript><main>')
    for number, sheet in enumerate(sheets, start=1):
        lines.append(f'<section class="sheet"{_attrs(id=f"sheet-{number}", data_sheet_id=sheet.sheet_id)}>'
                     '<div class="grid">')
        for visual in sheet.visuals:
            lines.append(
                f'<div{_attrs(class_=f"visual kind-{visual.kind}", id=f"visual-{visual.visual_id}")}'
                f'{_attrs(data_visual_id=visual.visual_id, data_type=visual.qs_type)}'
                f' style="grid-column: span {max(1, min(36, int(visual.span)))}">'
                f"<h2>{e(visual.title)}</h2>"
                + (f'<p class="subtitle">{e(visual.subtitle)}</p>' if visual.subtitle else "")
                + '<div class="body"></div></div>')
        lines.append("</div></section>")
    lines.append(f'</main><footer>{e(ui["footer"])}</footer>')
    return "\n".join(lines)
