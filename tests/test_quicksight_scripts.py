"""Scripts 07-09 as deploy.sh runs them (subprocesses), against the QuickSight stand-in served over HTTP."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import ROOT
from standins.quicksight import QuickSightStandIn
from standins.server import ModelServer

SCRIPTS = ("07_create_datasets.py", "08_create_analyses.py", "09_publish_dashboard.py")


@pytest.fixture
def served():
    standin = QuickSightStandIn()
    server = ModelServer("quicksight", standin.handle)
    url = server.start()
    try:
        yield standin, url
    finally:
        server.stop()


def _run(python_exe, config_file, url, *flags):
    env = {**os.environ, "AWS_ENDPOINT_URL_QUICKSIGHT": url, "PYTHONPATH": str(ROOT / "scripts")}
    return [subprocess.run([python_exe, str(ROOT / "scripts" / script), "--config", str(config_file), *flags],
                           env=env, capture_output=True, text=True, timeout=120) for script in SCRIPTS]


def test_scripts_deploy_publish_and_rerun_unchanged(served, python_exe, config_file, tmp_path):
    standin, url = served
    runs = _run(python_exe, config_file, url, "--out", str(tmp_path), "-q")
    assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
    assert runs[2].stdout.strip() == ("step 9 ok: kiro-analytics-dashboard created: version 1 published; "
                                      "https://us-east-1.quicksight.aws.amazon.com/sn/dashboards/kiro-analytics-dashboard")
    count = len(standin.calls)
    again = _run(python_exe, config_file, url, "--out", str(tmp_path), "-q")
    assert [r.returncode for r in again] == [0, 0, 0]
    assert [op for op, _ in standin.calls[count:] if not op.startswith(("Describe", "List"))] == []
    assert "unchanged (version 1 published)" in again[2].stdout


def test_scripts_dry_run_write_requests_only(served, python_exe, config_file, tmp_path):
    standin, url = served
    runs = _run(python_exe, config_file, url, "--dry-run", "--out", str(tmp_path), "-q")
    assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
    assert all(op.startswith(("Describe", "List")) for op, _ in standin.calls)
    requests = sorted((tmp_path / "requests").glob("*.json"))
    last = json.loads(requests[-1].read_text(encoding="utf-8"))
    assert last == {"service": "quicksight", "operation": "UpdateDashboardPublishedVersion",
                    "params": {"AwsAccountId": "123456789012", "DashboardId": "kiro-analytics-dashboard",
                               "VersionNumber": 1}}
    assert runs[2].stdout.startswith("[dry-run] step 9 ok:")
