"""The local CLI as a newcomer runs it: reports of another account, a read-only or impossible --out, an empty
folder, Ctrl-C at any point (exit 130, "interrupted", the previous database and dashboard.html kept as a pair),
and deploy.sh --local from another folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

import duckdb
import pytest
from conftest import ROOT
from kiro_analytics.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK
from kiro_analytics.local import engine, html_dashboard, publish
from kiro_analytics.local.__main__ import main
from kiro_analytics.sqlfiles import load_views
from test_cost_model import ACCOUNT as COST_ACCOUNT
from test_cost_model import B1, USUAL, S, _line
from test_html_dashboard import kpi_from_payload, payload_of
from test_local_engine import CONFIG
from test_local_insights import ACCOUNT
from test_local_insights import make_bucket as make_insights_bucket

EXAMPLE = str(ROOT / "config.example.yaml")  # aws.account_id 123456789012, s3.prefix ""
# Everything one build publishes: the database, dashboard.html and one page per analysis, in publishing order.
PAIR = (engine.DB_NAME, *html_dashboard.page_names().values())


def digests(out: Path) -> Dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in PAIR}


def leftovers(out: Path) -> List[str]:
    return sorted(p.name for p in out.iterdir() if p.name.endswith(engine.STAGED_SUFFIX) or p.name.startswith("."))


@pytest.fixture(scope="module")
def other_account(tmp_path_factory) -> Path:
    """Reports of account 444455556666 (not the example config's), 3 users over 2026-04-20 .. 2026-05-10."""
    data = tmp_path_factory.mktemp("other") / "data"
    make_insights_bucket(data)
    return data


def test_reports_of_another_account_are_read_and_the_choice_said(other_account, tmp_path, capsys):
    code = main(["--config", EXAMPLE, "--data", str(other_account), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == EXIT_OK, captured.err
    assert ("users: 3; active 2026-04-20 .. 2026-05-10; consumption: 2,550.00 credits (plan 2,550.00 + overage "
            "0.00);") in captured.out
    assert (f"note: {other_account / 'AWSLogs'} has no folder for aws.account_id 123456789012; reading the account "
            f"folder(s) there instead: {ACCOUNT}") in captured.err


def test_the_build_line_gives_consumption_as_plan_plus_overage_as_the_dashboard_does(tmp_path, capsys):
    """S (PRO, overage on): 800.25 plan credits on 07-01, 120.5 overage credits on 07-02; B1 99.25 on 07-01.
    Consumption 800.25 + 99.25 + 120.5 = 1,020.00 = plan 899.50 + overage 120.50, and the dashboard's KPIs over
    the whole range (the page's default) say the same."""
    rows = (("2026-07-01", S, 800.25, 0.0), ("2026-07-02", S, 0.0, 120.5), ("2026-07-01", B1, 99.25, 0.0))
    report = tmp_path / "data" / "AWSLogs" / COST_ACCOUNT / "KiroLogs" / "user_report" / "us-east-1"
    for n, (day, user, credits, overage) in enumerate(rows):
        path = report / day.replace("-", "/") / "00" / f"KIRO_IDE_{COST_ACCOUNT}_user_report_{n}02607030205.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(USUAL + "\n" + _line(USUAL, day, user, "KIRO_IDE", credits, overage, {}) + "\n",
                        encoding="utf-8")
    code = main(["--config", EXAMPLE, "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == EXIT_OK, captured.err
    assert ("users: 2; active 2026-07-01 .. 2026-07-02; consumption: 1,020.00 credits (plan 899.50 + overage "
            "120.50); messages: 30") in captured.out
    payload = payload_of((tmp_path / "out" / html_dashboard.OUTPUT_NAME).read_text(encoding="utf-8"))
    kpis = {vid: kpi_from_payload(payload["visuals"][vid], payload["strings"])
            for vid in ("ca-kpi-total-credits", "ov-kpi-credits", "ov-kpi-overage", "ca-kpi-overage-credits")}
    assert kpis == {"ca-kpi-total-credits": 1020.0, "ov-kpi-credits": 899.5, "ov-kpi-overage": 120.5,
                    "ca-kpi-overage-credits": 120.5}


def test_the_configured_account_wins_and_the_others_are_named(other_account, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(other_account, data)
    logs = data / "AWSLogs"
    shutil.copytree(logs / ACCOUNT, logs / "123456789012")
    for path in (logs / "123456789012").rglob("*.csv"):  # the configured account's copy: one day only
        if "/2026/05/10/" not in str(path):
            path.unlink()
    code = main(["--config", EXAMPLE, "--data", str(data), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert "users: 3; active 2026-05-10 .. 2026-05-10; consumption: 55.00 credits (plan 55.00 + overage 0.00);" \
        in captured.out
    assert f"note: {logs} also holds account folder(s) {ACCOUNT}: not read" in captured.err


@pytest.mark.parametrize("layout, message", [
    ("empty", "no AWSLogs/ folder"),
    ("prefixed", "found AWSLogs/ under"),
    ("no-account", "no account folder (AWSLogs/<12-digit account id>/KiroLogs/...)"),
    ("no-files", "no report files found; looked in "),
])
def test_nothing_to_read_is_an_error_never_an_empty_dashboard(tmp_path, capsys, layout, message):
    data = tmp_path / "data"
    data.mkdir()
    if layout == "prefixed":
        (data / "kiro" / "AWSLogs" / ACCOUNT).mkdir(parents=True)
    if layout == "no-account":
        (data / "AWSLogs" / "not-an-account").mkdir(parents=True)
    if layout == "no-files":
        (data / "AWSLogs" / "123456789012" / "KiroLogs" / "user_report" / "us-east-1").mkdir(parents=True)
    code = main(["--config", EXAMPLE, "--data", str(data), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and message in err and "Traceback" not in err, err
    if layout == "prefixed":
        assert "set s3.prefix to the part before AWSLogs/ (e.g. 'kiro/')" in err
    assert not (tmp_path / "out" / engine.DB_NAME).exists()


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write to: mode 0555, or (as root, whom modes do not stop) /sys."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError:
        return folder
    folder.chmod(0o755)
    return Path("/sys/kernel")


@pytest.mark.parametrize("where", ["read-only", "inside-a-file"])
def test_an_out_folder_that_cannot_be_written_is_named_before_any_work(other_account, tmp_path, capsys, where):
    if where == "read-only":
        out = _read_only_folder(tmp_path)
    else:
        (tmp_path / "a-file").write_text("x", encoding="utf-8")
        out = tmp_path / "a-file" / "out"
    code = main(["--config", EXAMPLE, "--data", str(other_account), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and err.startswith(f"error: {out}: cannot write the build there (") and \
        "choose another --out" in err and "Traceback" not in err, err


# -- Ctrl-C ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built_once(other_account, tmp_path_factory) -> Path:
    """One finished build of `other_account`, made once for the module; tests get copies (`built`), never this."""
    out = tmp_path_factory.mktemp("built") / "out"
    assert main(["--config", EXAMPLE, "--data", str(other_account), "--out", str(out)]) == EXIT_OK
    return out


@pytest.fixture
def built(built_once, tmp_path) -> Path:
    """An out folder holding a finished build (the pair an interrupted rebuild must keep): this test's own copy of
    the module's build, byte for byte, so a test that replaces or damages it touches no other test's folder."""
    out = tmp_path / "out"
    shutil.copytree(built_once, out)
    assert digests(out) == digests(built_once) and leftovers(out) == []
    return out


def test_duckdb_says_interrupted_with_a_runtime_error():
    """What DuckDB raises when a query is interrupted by interrupt() (a SIGINT gives RuntimeError('Query
    interrupted'), which the subprocess test below meets): not KeyboardInterrupt, and a duckdb.Error too."""
    con = duckdb.connect()
    finished = threading.Event()

    def interrupt_until_it_stops():
        # An interrupt that comes before the query starts is lost (on a busy machine it may): repeat it until the
        # query has ended, rather than trusting one guessed delay.
        while not finished.wait(0.2):
            con.interrupt()

    interrupter = threading.Thread(target=interrupt_until_it_stops, daemon=True)
    interrupter.start()
    try:
        with pytest.raises(duckdb.Error) as caught:
            con.execute("SELECT count(*) FROM range(100000000) a(i), range(100000000) b(j) WHERE i * j = -1"
                        ).fetchall()
    finally:
        finished.set()
        interrupter.join()
    assert engine.interrupted(caught.value) and engine.interrupted(RuntimeError("Query interrupted"))
    assert not engine.interrupted(RuntimeError("disk full")) and not engine.interrupted(duckdb.Error("x"))


VIEW_COUNT = len(load_views(CONFIG))


@pytest.mark.parametrize("at", [0, 1, VIEW_COUNT // 2, VIEW_COUNT - 1])
@pytest.mark.parametrize("kind", ["sigint", "interrupt", "python"])
def test_ctrl_c_during_the_view_build_exits_130_and_keeps_the_old_pair(built, other_account, monkeypatch, capsys,
                                                                       at, kind):
    before = digests(built)
    capsys.readouterr()
    real, seen = engine.to_duckdb, []

    def interrupt_at_view(view, database, materialise=False, inline_ctes=False):
        if len(seen) == at:
            raise {"sigint": RuntimeError("Query interrupted"), "interrupt": duckdb.InterruptException("INTERRUPT"),
                   "python": KeyboardInterrupt()}[kind]
        seen.append(view.name)
        return real(view, database, materialise, inline_ctes)

    monkeypatch.setattr(engine, "to_duckdb", interrupt_at_view)
    code = main(["--config", EXAMPLE, "--data", str(other_account), "--out", str(built)])
    err = capsys.readouterr().err
    assert (code, err.splitlines()[-1]) == (EXIT_INTERRUPTED, "interrupted") and "Traceback" not in err
    assert len(seen) == at and digests(built) == before and leftovers(built) == []


def test_ctrl_c_while_rendering_keeps_the_old_pair(built, other_account, monkeypatch, capsys):
    before = digests(built)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(html_dashboard, "build_payload", interrupted)
    code = main(["--config", EXAMPLE, "--data", str(other_account), "--out", str(built)])
    assert code == EXIT_INTERRUPTED and capsys.readouterr().err.endswith("interrupted\n")
    assert digests(built) == before and leftovers(built) == []


@pytest.fixture
def sigint_handler_kept():
    """A test that sends this process SIGINT leaves its handler (and the signal mask) as it found them, so no later
    test runs with a Ctrl-C that is swallowed or held."""
    handler = signal.getsignal(signal.SIGINT)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    try:
        yield handler
    finally:
        now, now_mask = signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, set())
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        assert (now, now_mask) == (handler, mask), "the SIGINT handler or mask leaked out of the test"


@pytest.mark.parametrize("other_thread", [False, True])
def test_ctrl_c_between_the_two_renames_is_held_until_both_are_done(built, tmp_path, monkeypatch, capsys,
                                                                   sigint_handler_kept, other_thread):
    """The pair is replaced together: an interrupt that arrives after the first rename waits for the second, also
    when another thread is alive (DuckDB's workers, a test's server): the kernel gives a SIGINT sent to the
    process to any thread that does not block it, so blocking it in the main thread alone holds nothing."""
    before = digests(built)
    real, done = os.replace, []
    release = threading.Event()
    bystander = threading.Thread(target=release.wait, daemon=True)
    if other_thread:
        bystander.start()

    def replace_then_ctrl_c(source, target):
        real(source, target)
        done.append(Path(target).name)
        if len(done) != 1:
            return
        # Wait until the handler publish() holds has seen the signal, not for a delay: a signal sent to another
        # thread reaches Python when that thread is next scheduled, which on a loaded machine came after the
        # renames, so the test's own Ctrl-C then landed in a later test.
        held, seen = signal.getsignal(signal.SIGINT), threading.Event()
        signal.signal(signal.SIGINT, lambda signum, frame: (seen.set(), held(signum, frame)))
        if other_thread:
            # Where the kernel may put a process-directed SIGINT: the other thread (chosen here, so every run meets
            # that case rather than some).
            signal.pthread_kill(bystander.ident, signal.SIGINT)
        else:
            os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # Python runs the handler in this (the main) thread, between two bytecodes
            if seen.is_set():
                break
            time.sleep(0.01)
        assert seen.is_set(), "SIGINT never reached the handler"

    monkeypatch.setattr(publish.os, "replace", replace_then_ctrl_c)
    data = tmp_path / "second"
    make_insights_bucket(data)
    shutil.rmtree(data / "AWSLogs" / ACCOUNT / "KiroLogs" / "user_report" / "us-east-1" / "2026" / "05" / "10")
    try:
        code = main(["--config", EXAMPLE, "--data", str(data), "--out", str(built)])
    finally:
        release.set()
    assert code == EXIT_INTERRUPTED and capsys.readouterr().err.endswith("interrupted\n")
    assert signal.getsignal(signal.SIGINT) is sigint_handler_kept
    after = digests(built)
    assert done == list(PAIR) and all(after[name] != before[name] for name in PAIR)
    con = duckdb.connect(str(built / engine.DB_NAME), read_only=True)
    assert con.execute("SELECT max(activity_date) FROM user_activity_daily").fetchall()[0][0].isoformat() == \
        "2026-05-09"
    con.close()
    assert "2026-05-09" in (built / html_dashboard.OUTPUT_NAME).read_text(encoding="utf-8")


def _cli(args: List[str]) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "kiro_analytics.local", "--config", EXAMPLE, *args], cwd=ROOT,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("phase", ["generating sample data", "reading the report files", "building"])
def test_a_real_ctrl_c_at_each_phase_exits_130_without_a_traceback(tmp_path, phase):
    """SIGINT, as a terminal sends it, once the CLI says it entered the phase (its progress line), not after a
    guessed delay; the sample is big enough that every phase outlasts the signal."""
    out = tmp_path / "out"
    first = _cli(["--out", str(out), "--users-count", "5", "--days", "5"])
    assert first.wait(timeout=300) == 0, first.stderr.read()
    before = digests(out)
    process = _cli(["--out", str(out), "--users-count", "400", "--days", "240"])
    seen = []
    for line in process.stderr:  # blocks until the phase starts: the state the test needs
        seen.append(line)
        if line.startswith(phase):
            process.send_signal(signal.SIGINT)
            break
    _, rest = process.communicate(timeout=300)
    err = "".join(seen) + rest
    assert process.returncode == EXIT_INTERRUPTED, err
    assert err.rstrip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    assert digests(out) == before and leftovers(out) == []


def test_deploy_sh_local_runs_from_another_folder(tmp_path):
    """From a folder that is not the repository: the example config beside deploy.sh, paths relative to here."""
    data = tmp_path / "data"
    make_insights_bucket(data)
    result = subprocess.run([str(ROOT / "deploy.sh"), "--local", "--data", "data", "--out", "result"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"dashboard: {Path('result') / html_dashboard.OUTPUT_NAME}" in result.stdout
    assert (tmp_path / "result" / engine.DB_NAME).is_file() and "users: 3;" in result.stdout


def test_rejected_lines_are_a_warning_with_the_totals_and_the_bad_byte_is_named(tmp_path, capsys):
    """Bad input builds (the good lines are real numbers) but never in silence: the ledger line is a warning."""
    import yaml
    from test_ingest_ledger import OTHER_REGION, REGION, make_bad_bucket

    files = make_bad_bucket(tmp_path / "data")
    settings = yaml.safe_load(Path(EXAMPLE).read_text(encoding="utf-8"))
    settings["s3"]["report_regions"] = [REGION, OTHER_REGION]  # the bad bucket's two region folders
    config = tmp_path / "two-regions.yaml"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    code = main(["--config", str(config), "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert "warning: ingest ledger: read 32 files, 58 lines: 27 used, 1 superseded by re-sent exports, rejected 30 " \
           "lines in 16 files (" in captured.err
    assert f"note: {files['latin1']}: line 2 is not UTF-8 (byte 0xe9 at column " in captured.err
    assert "ingest ledger" not in captured.out and "Traceback" not in captured.err
