"""bench/local_build.py --profile: the build's CPU per object comes from timing every object the engine creates."""

from __future__ import annotations

import sys
from pathlib import Path

from kiro_analytics.config import load_config
from kiro_analytics.local import engine, sample_data
from kiro_analytics.sqlfiles import load_facts, load_views
from local_expected import ROOT, SAMPLE_DAYS, SAMPLE_END, SAMPLE_USERS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import local_build  # noqa: E402  (the benchmark, not part of the package)


def test_the_profile_times_each_raw_table_fact_table_and_view_once(tmp_path, monkeypatch):
    manifest = sample_data.generate(tmp_path / "data", users=SAMPLE_USERS, days=SAMPLE_DAYS, end=SAMPLE_END)
    users = sample_data.write_user_map(manifest, tmp_path / "users.csv")
    config = load_config(str(ROOT / "config.example.yaml"))
    for name in local_build._PROFILED:  # the wrappers replace module attributes: undone after the test
        monkeypatch.setattr(engine, name, getattr(engine, name))
    steps: list = []
    local_build._time_steps(engine, steps)
    engine.build(tmp_path / "data", tmp_path / "out", config, users)
    names = [name for _, _, name in steps]
    expected = ({"user_report_raw", "kiro_by_user_analytic_raw", "qdev_by_user_analytic_raw"}
                | {fact.name for fact in load_facts(config)} | {view.name for view in load_views(config)})
    assert sorted(names) == sorted(expected)  # each once: nothing missed, nothing timed twice
    assert all(cpu >= 0 and wall >= 0 for cpu, wall, _ in steps)
