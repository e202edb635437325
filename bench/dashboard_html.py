"""Benchmark the local pages: dashboard.html and analysis-*.html size, and each sheet's draw time in Chromium.

    .venv/bin/python bench/dashboard_html.py [--users 1000] [--days 365] [--db build/local/kiro_analytics.duckdb]

Without --db it generates N users x D days of sample reports and builds them first (slow at 20k users: keep
the database with --keep DIR and pass it as --db next time). Each page is opened in headless Chromium
(tests/chromium_cdp.py); "load" is navigation to the first sheet drawn, data decoding included; a sheet's
draw time is from the tab switch to the next frame after every visual of it is drawn (layout included).
Issue 12's targets: each page under 8 MiB and each sheet under 1 s at 20k users x 365 days. Figures only:
no test asserts a timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

CHROMIUM = Path("/usr/bin/chromium")
SWITCH = """new Promise(function (done) {
  var started = performance.now();
  window.addEventListener('hashchange', function measured() {
    window.removeEventListener('hashchange', measured);
    requestAnimationFrame(function () { setTimeout(function () { done(performance.now() - started); }, 0); });
  });
  location.hash = 'sheet=%d';
})"""


def _build(users: int, days: int, keep: Path) -> Path:
    from kiro_analytics.config import load_config
    from kiro_analytics.local import engine, sample_data

    started = time.perf_counter()
    manifest = sample_data.generate(keep / "data", users=users, days=days, end=date(2026, 11, 25))
    users_csv = sample_data.write_user_map(manifest, keep / "users.csv")
    result = engine.build(keep / "data", keep / "out", load_config(str(ROOT / "config.example.yaml")),
                          users_csv=users_csv)
    print(f"sample: {users} users x {days} days generated and built in {time.perf_counter() - started:.0f} s")
    return result.db_path


def _measure(pages: dict, repeats: int) -> None:
    from chromium_cdp import Browser

    with Browser(CHROMIUM) as browser:
        for path in pages.values():
            load = []
            for _ in range(repeats):
                browser.send("Page.navigate", {"url": "about:blank"})
                browser.open(path.as_uri())
                load.append(int(browser.evaluate("document.body.getAttribute('data-ready-ms')")))
            sheets = browser.evaluate("document.querySelectorAll('section.sheet').length")
            errors = browser.evaluate("document.getElementById('errors').textContent")
            times = []
            for number in range(1, sheets + 1):
                runs = []
                for _ in range(repeats):
                    browser.evaluate(SWITCH % (number % sheets + 1))  # from another sheet (or the same, if only one)
                    if sheets == 1:
                        browser.evaluate("location.hash = ''")
                    runs.append(browser.evaluate(SWITCH % number))
                times.append(statistics.median(runs))
            size = path.stat().st_size / 2**20
            drawn = ", ".join(f"sheet {n} {t:.0f} ms" for n, t in enumerate(times, start=1))
            print(f"{path.name:36s} {size:6.2f} MiB   load {statistics.median(load):5.0f} ms   {drawn}"
                  + (f"   ERRORS: {errors.strip()}" if errors.strip() else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--db", type=Path, help="an existing local build to render (skips generating)")
    parser.add_argument("--keep", type=Path, help="folder for the generated sample and build (default: temporary)")
    parser.add_argument("--repeats", type=int, default=3, help="median of this many draws (default 3)")
    parser.add_argument("--pages", nargs="+", help="definitions to render (default: the dashboard and every analysis)")
    parser.add_argument("--out", type=Path, help="keep the rendered pages in this folder (default: temporary)")
    args = parser.parse_args()

    from kiro_analytics.config import load_config
    from kiro_analytics.local import html_dashboard

    with tempfile.TemporaryDirectory(prefix="kiro-bench-html-") as tmp:
        db = args.db or _build(args.users, args.days, args.keep or Path(tmp))
        config = load_config(str(ROOT / "config.example.yaml"))
        started = time.perf_counter()
        targets = {name: (args.out or Path(tmp) / "pages") / file for name, file in html_dashboard.page_names().items()
                   if not args.pages or name in args.pages}
        pages = html_dashboard.render_all(db, targets, config)
        print(f"rendered {len(pages)} pages from {db} in {time.perf_counter() - started:.1f} s")
        _measure(pages, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
