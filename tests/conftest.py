"""Shared fixtures: safe fake AWS credentials everywhere, a moto server on loopback, valid config files."""

from __future__ import annotations

import os
import shutil
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _one_botocore_loader() -> None:
    """One botocore data loader for the whole test process. botocore gives every new Session (every Aws context a
    test builds, every stand-in's model) its own Loader, which reads and parses the JSON again: the endpoints file
    and each service model, about 0.1 s a time, 20 s of 55 in the QuickSight, teardown and IAM files. The Loader
    caches what it read per instance, and the files do not change while the tests run, so sharing one per data
    path is what a long-lived process with one Session does. Clients, sessions and models stay botocore's own."""
    import botocore.session

    if not hasattr(botocore.session.create_loader, "cache_info"):
        botocore.session.create_loader = lru_cache(maxsize=None)(botocore.session.create_loader)


def _translate_each_view_once() -> None:
    """Each view's DuckDB text translated once per test process. The local build translates every view with sqlglot
    (a pure function of the view's rendered text, its file, the database name and two flags: translate.to_duckdb),
    about a quarter of a small build's time, and the suite builds some 80 times with the same few renderings. The
    first call of each key runs the real translation, errors are never cached (they raise every time), and a test
    that wraps `engine.to_duckdb` (test_local_cli) wraps this and sees every call."""
    from kiro_analytics.local import engine, translate

    real = translate.to_duckdb
    if getattr(real, "_suite_memo", False):
        return
    done: Dict[Tuple[str, str, str, bool, bool], str] = {}

    @wraps(real)
    def to_duckdb(view: Any, database: str, materialise: bool = False, inline_ctes: bool = False) -> str:
        key = (view.sql, str(view.path), database, bool(materialise), bool(inline_ctes))
        if key not in done:
            done[key] = real(view, database, materialise, inline_ctes)
        return done[key]

    to_duckdb._suite_memo = True  # type: ignore[attr-defined]
    translate.to_duckdb = engine.to_duckdb = to_duckdb  # type: ignore[assignment]


_one_botocore_loader()
_translate_each_view_once()

VALID_CONFIG: Dict[str, Dict[str, object]] = {
    "aws": {"account_id": "123456789012", "region": "us-east-1"},
    "s3": {"bucket_name": "kiro-reports-test", "prefix": ""},
    "identity_center": {"identity_store_id": "d-1234567890"},
    "quicksight": {"user_arn": "arn:aws:quicksight:us-east-1:123456789012:user/default/admin"},
}


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real account: fake keys, no profile, one attempt per call."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in ("AWS_ENDPOINT_URL",):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on loopback for tests that run subprocesses (deploy.sh, the scripts)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def emulator(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point every client (this process and its children) at a freshly reset moto server."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    yield moto_server


def write_config(path: Path, overrides: Dict[str, Dict[str, object]] | None = None) -> Path:
    data = {section: dict(values) for section, values in VALID_CONFIG.items()}
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.yaml")


@pytest.fixture
def config(config_file: Path):
    from kiro_analytics.config import load_config

    return load_config(str(config_file))


@pytest.fixture(scope="session")
def python_exe() -> str:
    """The interpreter subprocesses should use: the project venv when present, else this one."""
    import sys

    return str(VENV_PYTHON) if VENV_PYTHON.exists() else (shutil.which("python3") or sys.executable)
