"""Config loading: every mistake reported at once, by key name, before any AWS call."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path
from typing import Iterator, List

import pytest
import yaml
from conftest import ROOT, VALID_CONFIG, write_config
from kiro_analytics.config import _cron_problem, load_config, parse_config
from kiro_analytics.errors import EXIT_BAD_INPUT, ConfigError


def problems_for(overrides: dict) -> List[str]:
    data = {section: dict(values) for section, values in VALID_CONFIG.items()}
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


def test_example_config_is_valid_and_defaults_fill_in() -> None:
    config = load_config(str(ROOT / "config.example.yaml"))
    assert config.language == "zh"
    assert [tier.code for tier in config.tiers] == ["FREE", "PRO", "PRO_PLUS", "PRO_MAX", "POWER"]
    assert [tier.overage for tier in config.tiers] == [False, True, True, True, True]
    assert config.overage_price_per_credit == 0.04
    assert (config.overage_reading, config.advise_free) == ("daily", False)
    assert config.crawler_cron == "cron(0 3 * * ? *)"
    assert config.identity_region == config.region


def test_minimal_config_gets_defaults(config) -> None:
    assert config.database == "kiro_analytics"
    assert config.prefix == ""
    assert config.report_root == "AWSLogs/123456789012/"
    assert config.spice_refresh_time == "04:00"


def test_prefix_gets_trailing_slash() -> None:
    data = {section: dict(values) for section, values in VALID_CONFIG.items()}
    data["s3"]["prefix"] = "kiro"
    assert parse_config(data).report_root == "kiro/AWSLogs/123456789012/"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"aws": {"account_id": "12345"}}, "aws.account_id"),
        ({"aws": {"account_id": 123456789012.0}}, "aws.account_id"),
        ({"aws": {"region": "us_east_1"}}, "aws.region"),
        ({"s3": {"bucket_name": "My_Bucket"}}, "s3.bucket_name"),
        ({"s3": {"bucket_name": "a..b"}}, "s3.bucket_name"),
        ({"s3": {"bucket_name": "192.168.1.1"}}, "s3.bucket_name"),
        ({"s3": {"bucket_name": "xn--bucket"}}, "s3.bucket_name"),
        ({"s3": {"prefix": "/kiro/AWSLogs/"}}, "s3.prefix"),
        ({"s3": {"user_mapping_key": "AWSLogs/map.csv"}}, "s3.user_mapping_key"),
        ({"s3": {"user_mapping_key": "user_mapping.csv"}}, "s3.user_mapping_key"),
        ({"identity_center": {"identity_store_id": "1234567890"}}, "identity_center.identity_store_id"),
        ({"quicksight": {"user_arn": "arn:aws:iam::123456789012:user/admin"}}, "quicksight.user_arn"),
        ({"quicksight": {"user_arn": "arn:aws:quicksight:us-east-1:999999999999:user/default/a"}},
         "quicksight.user_arn"),
        ({"quicksight": {"language": "fr"}}, "quicksight.language"),
        ({"quicksight": {"spice_refresh_time": "25:00"}}, "quicksight.spice_refresh_time"),
        ({"quicksight": {"extra_principals": [{"arn": "nope", "access": "viewer"}]}},
         "quicksight.extra_principals[0].arn"),
        ({"quicksight": {"extra_principals": [
            {"arn": "arn:aws:quicksight:us-east-1:123456789012:group/default/kiro", "access": "admin"}]}},
         "quicksight.extra_principals[0].access"),
        ({"schedules": {"crawler_cron": "0 3 * * *"}}, "schedules.crawler_cron"),
        ({"schedules": {"user_sync_cron": "cron(0 3 * * * *)"}}, "schedules.user_sync_cron"),
        ({"schedules": {"user_sync_cron": "cron(70 3 * * ? *)"}}, "schedules.user_sync_cron"),
        ({"athena": {"bytes_scanned_cutoff": "lots"}}, "athena.bytes_scanned_cutoff"),
        ({"athena": {"bytes_scanned_cutoff": 5}}, "athena.bytes_scanned_cutoff"),
        ({"lambda": {"log_retention_days": 10}}, "lambda.log_retention_days"),
        ({"lambda": {"alarm_email": "not-an-email"}}, "lambda.alarm_email"),
        ({"plans": {"tiers": {"PRO": {"credits": -1, "price": 20}}}}, "plans.tiers.PRO.credits"),
        ({"plans": {"overage_price_per_credit": True}}, "plans.overage_price_per_credit"),
        ({"plans": {"overage_reading": "monthly"}}, "plans.overage_reading"),
        ({"plans": {"advise_free": "yes"}}, "plans.advise_free"),
        ({"plans": {"tiers": {"FREE": {"credits": 50, "price": 0, "overage": "no"}}}}, "plans.tiers.FREE.overage"),
        ({"plans": {"tiers": {"PRO": {"credits": 1000, "price": 20, "prize": 1}}}}, "plans.tiers.PRO.prize"),
        ({"names": {"database": "Kiro-DB"}}, "names.database"),
        ({"names": {"resource_prefix": "9lives"}}, "names.resource_prefix"),
        ({"s3": {"bucket": "typo"}}, "s3.bucket"),
        ({"quicksite": {"user_arn": "x"}}, "quicksite"),
    ],
)
def test_each_mistake_names_its_key(overrides: dict, key: str) -> None:
    problems = problems_for(overrides)
    # The key exactly, as the text before the colon: "s3.bucket" must not pass on an "s3.bucket_name: ..." problem.
    assert key in {problem.split(":", 1)[0] for problem in problems}, problems


def test_missing_required_keys_are_all_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"aws": {"region": "us-east-1"}})
    keys = {problem.split(":")[0] for problem in caught.value.problems}
    assert keys == {"aws.account_id", "s3.bucket_name", "identity_center.identity_store_id", "quicksight.user_arn"}


@pytest.mark.parametrize(
    ("expression", "ok"),
    [
        ("cron(0 3 * * ? *)", True),
        ("cron(30 3 ? * MON-FRI *)", True),
        ("cron(0/15 * * * ? *)", True),
        ("cron(0 3 * * * *)", False),  # both day fields set
        ("cron(0 24 * * ? *)", False),
        ("cron(0 3 * * ?)", False),  # five fields
        ("rate(1 day)", False),
    ],
)
def test_cron_syntax(expression: str, ok: bool) -> None:
    assert (_cron_problem(expression) is None) is ok


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: List[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        _CountingHandler.hits.append(self.path)
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST
    do_PUT = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counting_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    _CountingHandler.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_five_mistakes_reported_at_once_exit_2_no_aws_call(tmp_path: Path, counting_endpoint: str, monkeypatch) -> None:
    bad = write_config(tmp_path / "bad.yaml", {
        "aws": {"account_id": "12-34", "region": "mars-1"},
        "s3": {"bucket_name": "Bad_Bucket"},
        "identity_center": {"identity_store_id": "store"},
        "schedules": {"crawler_cron": "cron(0 3 * * *)"},
    })
    monkeypatch.setenv("AWS_ENDPOINT_URL", counting_endpoint)
    result = subprocess.run([str(ROOT / "deploy.sh"), "--config", str(bad)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    for key in ("aws.account_id", "aws.region", "s3.bucket_name", "identity_center.identity_store_id",
                "schedules.crawler_cron"):
        assert key in result.stderr
    assert "5 problem(s)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Preflight failed" in result.stderr
    assert _CountingHandler.hits == []


def test_unreadable_yaml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("aws: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(path))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(str(tmp_path / "missing.yaml"))


def test_example_config_documents_every_key() -> None:
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    from kiro_analytics.config import KNOWN_KEYS

    present = {f"{section}.{key}" for section, block in data.items() for key in block}
    assert present == KNOWN_KEYS
