"""Step 3 against moto's Glue with the crawl stand-in: all start at once, running ones are waited for, errors named."""

from __future__ import annotations

import boto3
import pytest
from kiro_analytics.errors import StepFailed
from kiro_analytics.names import Names
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from moto import mock_aws
from standins.glue import crawls, set_progression

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)


@pytest.fixture
def glue(config):
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": config.database})
        for name in Names(config).crawlers.values():
            client.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/r",
                                  Targets={"CatalogTargets": [{"DatabaseName": config.database, "Tables": ["t"]}]},
                                  SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"})
        yield client


def test_all_crawlers_succeed(glue, config):
    from kiro_analytics.crawlers import run_crawlers

    with crawls():
        result = run_crawlers(glue, Recorder(), Names(config), clock=CLOCK)
    assert result == {name: "started" for name in Names(config).crawlers.values()}


def test_failure_reports_the_crawlers_own_message(glue, config):
    from kiro_analytics.crawlers import run_crawlers

    failing = Names(config).crawler("by-user-analytic")
    message = "Insufficient Lake Formation permission(s) on kiro_by_user_analytic_raw"
    with crawls(failures={failing: message}), pytest.raises(StepFailed, match=rf"{failing}: FAILED: {message[:30]}"):
        run_crawlers(glue, Recorder(), Names(config), clock=CLOCK)


def test_running_crawler_is_waited_for_and_timeout_is_clear(glue, config):
    from kiro_analytics.crawlers import run_crawlers

    names = Names(config)
    running = names.crawler("user-report")
    with crawls(progression="manual"):
        glue.start_crawler(Name=running)  # its schedule fired: RUNNING until the transition
        ticks = iter(range(0, 10_000, 15))
        with pytest.raises(StepFailed, match="timed out after 60s waiting for 2 crawler"):
            run_crawlers(glue, Recorder(), names, timeout=60, clock=Clock(now=lambda: float(next(ticks)),
                                                                          sleep=lambda _: None))
        glue.stop_crawler(Name=running)
    with crawls():
        glue.start_crawler(Name=running)
        set_progression("manual")
        clock = Clock(now=lambda: 0.0, sleep=lambda _: set_progression("immediate"))
        result = run_crawlers(glue, Recorder(), names, clock=clock)
    assert result[running] in ("was running", "started")
