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


def test_rerun_skips_crawlers_whose_recent_partitions_are_all_registered(glue, config):
    """A crawler that succeeded before is started again only when a recent day folder has no partition yet."""
    from datetime import date

    from kiro_analytics.crawlers import missing_partitions, run_crawlers

    names = Names(config)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=config.bucket_name)
    location = f"s3://{config.bucket_name}/AWSLogs/123456789012/KiroLogs/user_report/"
    for table, folder in (("user_report_raw", "KiroLogs/user_report"),
                          ("kiro_by_user_analytic_raw", "KiroLogs/by_user_analytic"),
                          ("qdev_by_user_analytic_raw", "QDeveloperLogs/by_user_analytic")):
        glue.create_table(DatabaseName=config.database, TableInput={
            "Name": table, "StorageDescriptor": {
                "Location": f"s3://{config.bucket_name}/AWSLogs/123456789012/{folder}/",
                "Columns": [{"Name": "line", "Type": "string"}]},
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in ("region", "year", "month", "day", "hour")]})
    for day in ("2026/11/24", "2026/11/25", "2026/10/01"):  # the October folder is older than a week
        s3.put_object(Bucket=config.bucket_name, Key=f"AWSLogs/123456789012/KiroLogs/user_report/us-east-1/{day}/00/"
                      "KIRO_IDE_123456789012_user_report_202611250200.csv", Body=b"Date,UserId\n")
    today = date(2026, 11, 26)
    assert missing_partitions(glue, s3, config.database, ["user_report_raw"], today) == [
        "user_report_raw/us-east-1/2026/11/25/00", "user_report_raw/us-east-1/2026/11/24/00"]

    crawler = names.crawler("user-report")
    with crawls():
        first = run_crawlers(glue, Recorder(), names, clock=CLOCK, s3=s3, today=today)
    assert first[crawler] == "started"  # never crawled before: always crawls
    glue.create_partition(DatabaseName=config.database, TableName="user_report_raw", PartitionInput={
        "Values": ["us-east-1", "2026", "11", "24", "00"], "StorageDescriptor": {"Location": location}})
    with crawls():
        again = run_crawlers(glue, Recorder(), names, clock=CLOCK, s3=s3, today=today)
    assert again[crawler] == "started"  # 11/25 still has no partition
    glue.create_partition(DatabaseName=config.database, TableName="user_report_raw", PartitionInput={
        "Values": ["us-east-1", "2026", "11", "25", "00"], "StorageDescriptor": {"Location": location}})
    recorder = Recorder()
    with crawls():
        third = run_crawlers(glue, recorder, names, clock=CLOCK, s3=s3, today=today)
    assert third == {name: "current" for name in names.crawlers.values()}  # legacy folders: none recent
    assert recorder.calls == []
