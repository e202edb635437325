"""Render the QuickSight dashboard and analyses as self-contained HTML pages over the local DuckDB.

The second renderer of `quicksight/dashboard.json` and `quicksight/analyses/*.json` (the first is the
QuickSight deploy): same sheets, visuals, titles, controls and numbers; `dashboard.html` and one
`analysis-<name>.html` per analysis, each linking to the others in its header. A page has no network
access at all (inline CSS, JS and SVG, and a Content-Security-Policy that forbids fetching anything); the
date-range and parameter controls re-aggregate rows that were pre-grouped by date and by every filtered
column, so every sheet follows them like QuickSight's StartDate/EndDate and parameter-bound filters.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import duckdb

from kiro_analytics.errors import InputError
from kiro_analytics.quicksight import definitions

from . import id_sets, payload_codec
from .dashboard_data import build_payload, resolve_arrays
from .visual_specs import SUPPORTED_VISUALS, SheetSpec, parse_definition

ASSETS = Path(__file__).resolve().parent / "assets"
OUTPUT_NAME = "dashboard.html"
CODES = definitions.ROOT / "labels" / "codes.json"
_MARKER_RE = re.compile(r"@@(LANG|TITLE|CSS|BODY|DATA|JS)@@")
_DATA_RE = re.compile(r'<script type="application/octet-stream" id="dashboard-data"[^>]*>([^<]*)</script>')

__all__ = ["OUTPUT_NAME", "SUPPORTED_VISUALS", "local_values", "page_names", "read_payload", "render", "render_all",
           "render_definition", "render_document"]
# (file name, title) of every page, for the links in each page's header.
Links = Sequence[Tuple[str, str]]


def page_names() -> Dict[str, str]:
    """Definition name -> the page it renders to: dashboard.html, analysis-<name>.html."""
    return {name: OUTPUT_NAME if name == definitions.DASHBOARD else f"analysis-{name}.html"
            for name in definitions.definition_names()}


def render(db_path: Path, out_dir: Path, config: Any, generated_at: Optional[datetime] = None) -> Path:
    """Write `<out_dir>/dashboard.html` from `quicksight/dashboard.json` in the configured language."""
    return render_definition(db_path, Path(out_dir) / OUTPUT_NAME, config, generated_at)


def render_all(db_path: Path, targets: Mapping[str, Path], config: Any,
               generated_at: Optional[datetime] = None) -> Dict[str, Path]:
    """Render every definition (name -> where to write it; the CLI passes staged names), linked together."""
    stamp = generated_at or datetime.now(timezone.utc)
    documents = {name: definitions.load_definition(name, config.language, local_values(name)) for name in targets}
    files = page_names()
    links = [(files[name], str(document.get("Name", name))) for name, document in documents.items()]
    return {name: render_document(document, Path(db_path), Path(targets[name]), config.language, stamp,
                                  links=links, current=files[name])
            for name, document in documents.items()}


def render_definition(db_path: Path, out_path: Path, config: Any, generated_at: Optional[datetime] = None,
                      name: str = definitions.DASHBOARD) -> Path:
    """Write one definition in the configured language to ``out_path`` (any name: the CLI stages it)."""
    document = definitions.load_definition(name, config.language, local_values(name))
    return render_document(document, Path(db_path), Path(out_path), config.language, generated_at)


def local_values(name: str = definitions.DASHBOARD) -> Dict[str, str]:
    """Fill the definition's non-label placeholders (dataset ARNs) with `local:<key>`: nothing here calls AWS."""
    raw = definitions.load_raw(name)
    keys = [key for key in definitions.placeholders(raw) if not key.startswith("label:")]
    return {key: "local:" + key.split(":", 1)[-1] for key in keys}


def render_document(document: Mapping[str, Any], db_path: Path, out_path: Path, language: str,
                    generated_at: Optional[datetime] = None, links: Links = (), current: str = "") -> Path:
    """Render a filled dashboard or analysis document ({"Name", "Definition"}) against a DuckDB file."""
    ui = _ui_strings(language)
    name, sheets, parameters = parse_definition(document)
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
        "generatedAt": stamp, "codes": _codes(language),
        "params": {p.name: {"multi": p.multi, "defaults": list(p.defaults)} for p in parameters.values()},
        **data,
    }
    pieces = {
        "LANG": "zh-CN" if language == "zh" else "en",
        "TITLE": html.escape(name),
        "CSS": (ASSETS / "dashboard.css").read_text(encoding="utf-8"),
        "BODY": _body(name, sheets, ui, stamp, data.get("range"), links, current),
        "DATA": _script_data(payload),
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


def _codes(language: str) -> Dict[str, Any]:
    """Labels of the codes the views write (UPGRADE, PRO_PLUS, MONTH_TO_DATE, ...) and the columns that hold them."""
    table = json.loads(CODES.read_text(encoding="utf-8"))
    if language not in table:
        raise InputError(f"{CODES}: no code labels for language {language!r}")
    return {"labels": table[language], "columns": table["columns"]}


def _script_data(payload: Mapping[str, Any]) -> str:
    """The payload packed (payload_codec: a JSON header and typed columns), gzip-compressed, as 7-bit text
    (payload_codec.to_text: 8/7 of the gzip bytes where base64 took 4/3): it holds no "<", so nothing in it can close
    the <script> element whatever the data holds, and no NUL or CR that the HTML parser would change."""
    return payload_codec.to_text(gzip.compress(payload_codec.pack(dict(payload)), compresslevel=9, mtime=0))


def read_payload(page: str) -> Dict[str, Any]:
    """The data embedded in a rendered page, every array resolved to its values and each id set as its text form
    (id_sets.encode), as tests and benchmarks read it."""
    match = _DATA_RE.search(page)
    if not match:
        raise InputError("no embedded dashboard data in the page")
    payload = payload_codec.unpack(gzip.decompress(payload_codec.from_text(match.group(1))))
    payload["idsets"]["sets"] = [[column, id_sets.encode(tuple(ids))] for column, ids in payload["idsets"]["sets"]]
    return resolve_arrays(payload)


def _attrs(**values: Any) -> str:
    return "".join(f' {key.rstrip("_").replace("_", "-")}="{html.escape(str(value), quote=True)}"'
                   for key, value in values.items())


def _body(name: str, sheets: List[SheetSpec], ui: Mapping[str, str], stamp: str, data_range: Any,
          links: Links, current: str) -> str:
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
        _page_links(links, current, ui),
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


def _page_links(links: Links, current: str, ui: Mapping[str, str]) -> str:
    if len(links) < 2:
        return ""
    items = [f'<a{_attrs(href=href, aria_current="page" if href == current else "false")}>{html.escape(title)}</a>'
             for href, title in links]
    return f'<nav class="pages"{_attrs(aria_label=ui["pages"])}>{"".join(items)}</nav>'

