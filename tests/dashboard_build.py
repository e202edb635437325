"""The small local build the dashboard test modules render: sample reports, one hostile name, DuckDB."""

from __future__ import annotations

import atexit
import csv
import shutil
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Tuple

from conftest import ROOT
from kiro_analytics.config import Config, load_config
from kiro_analytics.local import engine, sample_data


def build_with_name(tmp: Path, hostile_name: str) -> Tuple[Config, Any]:
    """30 users x 40 days ending 2026-11-25; the first user in the name map is renamed to ``hostile_name``."""
    manifest = sample_data.generate(tmp / "data", users=30, days=40, seed=7, end=date(2026, 11, 25))
    users_csv = sample_data.write_user_map(manifest, tmp / "users.csv")
    with open(users_csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["username"] = hostile_name
    with open(users_csv, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    config = load_config(str(ROOT / "config.example.yaml"))
    return config, engine.build(tmp / "data", tmp / "out", config, users_csv=users_csv)


@lru_cache(maxsize=None)
def shared_build(hostile_name: str) -> Tuple[Config, Any]:
    """`build_with_name` made once per test process for each name and shared by the modules that render it
    (test_html_dashboard, test_browser, test_browser_controls): they only read its database (read-only
    connections) and render their pages into their own folders."""
    tmp = Path(tempfile.mkdtemp(prefix="kiro-dashboard-"))
    atexit.register(shutil.rmtree, tmp, True)
    return build_with_name(tmp, hostile_name)
