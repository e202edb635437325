"""deploy.sh as a driver: step selection, flags passed through, failure and resume, summary.

The real scripts are swapped for recorders in a copy of the tree, so these tests check the driver alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from conftest import ROOT

RECORDER = """\
import os, sys
name = os.path.basename(sys.argv[0])
number = int(name[:2]) if name[:2].isdigit() else 0
with open(os.environ["STEP_LOG"], "a") as log:
    log.write(f"{number} {' '.join(sys.argv[1:])}\\n")
with open(os.environ["STEP_LOG"] + ".resume", "a") as log:
    log.write(f"{number} {os.environ.get('KIRO_RESUME_COMMAND', '')}\\n")
sys.exit(int(os.environ.get("FAIL_CODE", "1")) if os.environ.get("FAIL_STEP") == str(number) else 0)
"""


def step_scripts() -> List[Path]:
    return sorted((ROOT / "scripts").glob("0[1-9]_*.py"))


@pytest.fixture
def fake_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / "scripts" / "bin").mkdir(parents=True)
    shutil.copy2(ROOT / "deploy.sh", tree / "deploy.sh")
    shutil.copy2(ROOT / "scripts" / "bin" / "ensure-venv.sh", tree / "scripts" / "bin" / "ensure-venv.sh")
    for script in [*step_scripts(), ROOT / "scripts" / "preflight.py"]:
        (tree / "scripts" / script.name).write_text(RECORDER, encoding="utf-8")
    (tree / "config.yaml").write_text("{}\n", encoding="utf-8")
    return tree


def run(tree: Path, *args: str, env: Optional[Dict[str, str]] = None,
        cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", "KIRO_PYTHON": sys.executable, "STEP_LOG": str(tree / "steps.log")}
    environment.update(env or {})
    return subprocess.run(["bash", str(tree / "deploy.sh"), *args], cwd=cwd or tree, capture_output=True, text=True,
                          env=environment, timeout=60)


def calls(tree: Path) -> List[int]:
    """Scripts run, in order; 0 is the preflight."""
    log = tree / "steps.log"
    return [int(line.split()[0]) for line in log.read_text().splitlines()] if log.exists() else []


def steps_run(tree: Path) -> List[int]:
    return [number for number in calls(tree) if number]


def test_help_lists_nine_steps_matching_the_scripts() -> None:
    result = subprocess.run([str(ROOT / "deploy.sh"), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    listed = re.findall(r"^  (\d)  (.+)$", result.stdout, flags=re.M)
    assert [int(number) for number, _ in listed] == list(range(1, 10))
    scripts = step_scripts()
    assert len(scripts) == 9
    for (number, title), script in zip(listed, scripts):
        text = script.read_text(encoding="utf-8")
        assert f"STEP = {int(number)}" in text, script.name
        assert f'TITLE = "{title}"' in text, f"{script.name} title differs from deploy.sh"


def test_runs_all_nine_in_order_with_progress_and_summary(fake_tree: Path) -> None:
    result = run(fake_tree)
    assert result.returncode == 0, result.stderr
    assert steps_run(fake_tree) == list(range(1, 10))
    assert "[3/9] Run Glue crawlers" in result.stdout
    assert "Summary:" in result.stdout
    assert re.search(r"9  Publish QuickSight dashboard\s+ok\s+\dm\d\ds", result.stdout)


def test_from_starts_at_the_given_step(fake_tree: Path) -> None:
    assert run(fake_tree, "--from", "7").returncode == 0
    assert steps_run(fake_tree) == [7, 8, 9]


def test_only_runs_the_listed_steps_in_step_order(fake_tree: Path) -> None:
    assert run(fake_tree, "--only", "6,2").returncode == 0
    assert steps_run(fake_tree) == [2, 6]
    (fake_tree / "steps.log").unlink()
    assert run(fake_tree, "--only", "7,5,7").returncode == 0
    assert steps_run(fake_tree) == [5, 7]


@pytest.mark.parametrize("only", ["", "10", "0", "5,", ",5", "5,,7", "05", "7,x"])
def test_a_bad_only_list_is_refused_before_the_preflight(fake_tree: Path, only: str) -> None:
    result = run(fake_tree, "--only", only)
    assert result.returncode == 2 and "--only takes step numbers 1-9" in result.stderr, result.stderr
    assert calls(fake_tree) == []  # not even the preflight ran


def test_a_failed_only_step_suggests_only_again(fake_tree: Path) -> None:
    result = run(fake_tree, "--only", "7,5", env={"FAIL_STEP": "5"})
    assert result.returncode == 1 and steps_run(fake_tree) == [5]
    assert "resume with:\n  ./deploy.sh --only 5,7\n" in result.stderr and "--from" not in result.stderr
    result = run(fake_tree, "--only", "5,7", "--config", "config.yaml", env={"FAIL_STEP": "7"})
    assert "resume with:\n  ./deploy.sh --only 7 --config config.yaml\n" in result.stderr
    # Each step is told the same command, for its own failure and interrupt messages.
    resume = (fake_tree / "steps.log.resume").read_text().splitlines()
    assert resume == ["0 ", "5 ./deploy.sh --only 5,7", "0 ", "5 ./deploy.sh --only 5,7 --config config.yaml",
                      "7 ./deploy.sh --only 7 --config config.yaml"]


def test_runs_from_another_folder_with_the_config_beside_it(fake_tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run(fake_tree, "--only", "5", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (fake_tree / "steps.log").read_text().splitlines()[-1] == \
        f"5 --config {fake_tree / 'config.yaml'} --out build"
    (fake_tree / "config.yaml").unlink()
    result = run(fake_tree, "--only", "5", cwd=elsewhere)
    assert result.returncode == 2
    assert f"no config.yaml in {elsewhere} or {fake_tree}: cp {fake_tree}/config.example.yaml" in result.stderr


def test_dry_run_config_and_out_reach_every_step(fake_tree: Path) -> None:
    (fake_tree / "other.yaml").write_text("{}\n", encoding="utf-8")
    result = run(fake_tree, "--dry-run", "--config", "other.yaml", "--out", "plan", "--only", "1,9")
    assert result.returncode == 0, result.stderr
    lines = (fake_tree / "steps.log").read_text().splitlines()
    assert lines == ["0 --config other.yaml --out plan", "1 --config other.yaml --out plan --dry-run",
                     "9 --config other.yaml --out plan --dry-run"]
    assert "dry run: nothing was changed" in result.stdout


def test_failure_names_the_step_and_the_resume_command(fake_tree: Path) -> None:
    result = run(fake_tree, "--config", "config.yaml", env={"FAIL_STEP": "4", "FAIL_CODE": "7"})
    assert result.returncode == 7
    assert steps_run(fake_tree) == [1, 2, 3, 4]
    assert "Step 4 (Verify Athena data) failed (exit 7)" in result.stderr
    assert "./deploy.sh --from 4 --config config.yaml" in result.stderr
    assert "4 ./deploy.sh --from 4 --config config.yaml" in (fake_tree / "steps.log.resume").read_text()
    assert "FAILED" in result.stdout
    resumed = run(fake_tree, "--from", "4")
    assert resumed.returncode == 0
    assert steps_run(fake_tree)[4:] == [4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "0"], "--from needs a step number 1-9"),
        (["--only", "1,x"], "--only takes step numbers"),
        (["--from", "3", "--only", "4"], "cannot be combined"),
        (["--bogus"], "unknown option '--bogus'"),
        (["--local", "--from", "2"], "--local builds everything locally"),
        (["--users", "u.csv"], "--data, --users and --roster go with --local"),
        (["--roster", "r.csv"], "--data, --users and --roster go with --local"),
        (["--config", "nope.yaml"], "config file 'nope.yaml' not found"),
    ],
)
def test_bad_flags_fail_before_any_step(fake_tree: Path, args: List[str], message: str) -> None:
    result = run(fake_tree, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert steps_run(fake_tree) == []


def test_each_script_runs_on_its_own_with_help(python_exe: str) -> None:
    for script in step_scripts():
        result = subprocess.run([python_exe, str(script), "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{script.name}: {result.stderr}"
        assert "--config" in result.stdout and "--dry-run" in result.stdout


def test_preflight_runs_first_and_a_failure_stops_the_deploy(fake_tree: Path) -> None:
    assert run(fake_tree).returncode == 0
    assert calls(fake_tree)[0] == 0
    (fake_tree / "steps.log").unlink()
    result = run(fake_tree, env={"FAIL_STEP": "0"})
    assert result.returncode == 1
    assert steps_run(fake_tree) == []
    assert "--skip-check" in result.stderr


def test_check_runs_only_the_preflight_and_skip_check_skips_it(fake_tree: Path) -> None:
    assert run(fake_tree, "--check").returncode == 0
    assert calls(fake_tree) == [0]
    (fake_tree / "steps.log").unlink()
    assert run(fake_tree, "--skip-check", "--only", "5").returncode == 0
    assert calls(fake_tree) == [5]
