"""Step 3 against moto's Glue, S3 and CloudWatch Logs with the crawl stand-in: discovery crawls read the real files
into discovered_* tables; every crawl is read back (metrics, table, log), and a deprecated table or a crawl that
added nothing fails loudly instead of passing as SUCCEEDED."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from kiro_analytics.config import Config
from kiro_analytics.errors import StepFailed
from kiro_analytics.names import CRAWLER_FOLDERS, DISCOVERY_PREFIX, Names, discovery_table
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from moto import mock_aws
from standins.glue import crawls, set_progression

CLOCK = Clock(now=lambda: 0.0, sleep=lambda _: None)
USER_REPORT_HEADER = "Date,UserId,Client_Type,Chat_Conversations,Credits_Used,Total_Messages,auto_messages"


def _put(s3, config: Config, family: str, day: str, header: str, name: str = "report.csv") -> None:
    key = f"{config.report_root}{CRAWLER_FOLDERS[family]}us-east-1/{day}/00/{name}"
    s3.put_object(Bucket=config.bucket_name, Key=key, Body=f"{header}\n2026-11-24,u1,KIRO_IDE,1,2.5,3,3\n".encode())


@pytest.fixture
def aws(config):
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": config.database})
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=config.bucket_name)
        for family, name in Names(config).crawlers.items():
            glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/r", DatabaseName=config.database,
                                TablePrefix=DISCOVERY_PREFIX, Targets={"S3Targets": [
                                    {"Path": f"s3://{config.bucket_name}/{config.report_root}{CRAWLER_FOLDERS[family]}"}]},
                                SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"})
        _put(s3, config, "user-report", "2026/11/24", USER_REPORT_HEADER)
        _put(s3, config, "by-user-analytic", "2026/11/24", "UserId,Date,Chat_AICodeLines,Inline_AICodeLines")
        _age_files(config, timedelta(days=1))  # delivered yesterday, before any crawl
        yield {"glue": glue, "s3": s3, "logs": boto3.client("logs", region_name="us-east-1")}


def _run(aws, config, recorder=None, **kwargs):
    from kiro_analytics.crawlers import run_crawlers

    return run_crawlers(aws["glue"], recorder or Recorder(), Names(config), config, aws["s3"], aws["logs"],
                        clock=kwargs.pop("clock", CLOCK), **kwargs)


def test_discovery_crawls_create_their_own_tables_and_report_them(aws, config):
    names = Names(config)
    with crawls():
        result = _run(aws, config)
    user = result[names.crawler("user-report")]
    assert (user.how, user.table, user.columns, user.created, user.updated) == (
        "started", "discovered_user_report", 7, 1, 0)
    assert user.summary() == (f"{names.crawler('user-report')} started, succeeded: discovered_user_report 7 columns "
                              "(1 table(s) created, 0 updated)")
    table = aws["glue"].get_table(DatabaseName=config.database, Name="discovered_user_report")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]][:3] == ["date", "userid", "client_type"]
    assert result[names.crawler("by-user-analytic")].columns == 4
    # No raw table was created or touched: the crawlers write discovered_* only.
    assert sorted(t["Name"] for t in aws["glue"].get_tables(DatabaseName=config.database)["TableList"]) == sorted(
        discovery_table(family) for family in CRAWLER_FOLDERS)


def test_failure_reports_the_crawlers_own_message(aws, config):
    failing = Names(config).crawler("by-user-analytic")
    message = "Insufficient Lake Formation permission(s) on s3://kiro-reports-test/AWSLogs/"
    with crawls(failures={failing: message}), pytest.raises(StepFailed, match=rf"{failing}: FAILED: {message[:30]}"):
        _run(aws, config)


def test_a_crawl_that_leaves_its_table_deprecated_fails_with_its_log_lines(aws, config):
    """Glue reports such a crawl SUCCEEDED (the Cloud Intelligence Dashboards collector issue #463)."""
    crawler = Names(config).crawler("user-report")
    warning = ("Cannot merge new columns into the table discovered_user_report because the parameter "
               "'compressionType' has changed")
    with crawls(deprecations={crawler: warning}), pytest.raises(StepFailed) as failure:
        _run(aws, config)
    text = str(failure.value)
    assert f"{crawler}: the crawl SUCCEEDED but left {config.database}.discovered_user_report deprecated" in text
    assert "WARN : Cannot merge new columns into the table discovered_user_report" in text
    assert f"log group /aws-glue/crawlers, stream {crawler}" in text
    assert "./deploy.sh --from 4" in text  # reading does not wait for the crawlers
    assert Names(config).crawler("by-user-analytic") not in text  # the sound one is not blamed


def test_a_crawl_that_adds_nothing_fails_instead_of_passing(aws, config):
    aws["s3"].delete_object(Bucket=config.bucket_name, Key=f"{config.report_root}{CRAWLER_FOLDERS['by-user-analytic']}"
                                                          "us-east-1/2026/11/24/00/report.csv")
    crawler = Names(config).crawler("by-user-analytic")
    with crawls(), pytest.raises(StepFailed, match=rf"{crawler}: the crawl SUCCEEDED but added nothing: no table "
                                                   rf"{config.database}\.discovered_by_user_analytic"):
        _run(aws, config)


def test_running_crawler_is_waited_for_and_timeout_is_clear(aws, config):
    names = Names(config)
    running = names.crawler("user-report")
    with crawls(progression="manual"):
        aws["glue"].start_crawler(Name=running)  # its schedule fired: RUNNING until the transition
        ticks = iter(range(0, 10_000, 15))
        with pytest.raises(StepFailed, match="timed out after 60s waiting for 2 crawler"):
            _run(aws, config, timeout=60, clock=Clock(now=lambda: float(next(ticks)), sleep=lambda _: None))
        aws["glue"].stop_crawler(Name=running)
    with crawls():
        aws["glue"].start_crawler(Name=running)
        set_progression("manual")
        result = _run(aws, config, clock=Clock(now=lambda: 0.0, sleep=lambda _: set_progression("immediate")))
    assert result[running].how in ("was running", "started")


def test_rerun_on_the_day_of_the_first_delivery_still_crawls_that_days_files(aws, config):
    """Deployed before today's delivery, rerun after it: the newest file is newer than the last crawl, so the
    crawler runs again (and shows the column the new file brought); a rerun after that starts nothing."""
    names = Names(config)
    crawler = names.crawler("user-report")
    with crawls():
        first = _run(aws, config)
        assert first[crawler].how == "started"
        today = datetime.now(timezone.utc)
        _put(aws["s3"], config, "user-report", f"{today:%Y/%m/%d}", USER_REPORT_HEADER + ",claude_opus_4.6_messages",
             name="KIRO_IDE_123456789012_user_report_today.csv")
        # The order of events, stated rather than waited for: the first crawl ran at 01:00, the delivery at 02:00.
        _backdate(config, crawler, f"{today:%Y/%m/%d}", crawled=today - timedelta(hours=2),
                  delivered=today - timedelta(hours=1))
        recorder = Recorder()
        again = _run(aws, config, recorder)
        assert again[crawler].how == "started" and ("glue", "StartCrawler") in recorder.calls
        assert again[crawler].updated == 1 and again[crawler].new_columns == ["claude_opus_4.6_messages"]
        assert "new columns: claude_opus_4.6_messages" in again[crawler].summary()
        assert again[names.crawler("by-user-analytic")].how == "current"  # nothing new in its folder

        settled = Recorder()
        third = _run(aws, config, settled)
    assert {crawl.how for crawl in third.values()} == {"current"} and settled.calls == []
    assert third[crawler].summary() == f"{crawler} current (discovered_user_report, 8 columns)"


def _age_files(config: Config, age: timedelta) -> None:
    from moto.s3.models import s3_backends

    for key in s3_backends["123456789012"]["aws"].buckets[config.bucket_name].keys.values():
        key.last_modified = key.last_modified - age


def _backdate(config: Config, crawler: str, day: str, crawled: datetime, delivered: datetime) -> None:
    from moto.glue.models import glue_backends
    from moto.s3.models import s3_backends

    glue_backends["123456789012"]["us-east-1"].crawlers[crawler].crawls[-1].start_time = crawled.replace(tzinfo=None)
    bucket = s3_backends["123456789012"]["aws"].buckets[config.bucket_name]
    for key in bucket.keys:
        if f"/{day}/" in key:
            bucket.keys[key].last_modified = delivered.replace(tzinfo=None)


def test_a_deprecated_table_is_crawled_again_not_called_current(aws, config):
    crawler = Names(config).crawler("user-report")
    with crawls():
        _run(aws, config)
    table = aws["glue"].get_table(DatabaseName=config.database, Name="discovered_user_report")["Table"]
    aws["glue"].update_table(DatabaseName=config.database, TableInput={
        "Name": table["Name"], "StorageDescriptor": table["StorageDescriptor"],
        "Parameters": dict(table.get("Parameters", {}), DEPRECATED_BY_CRAWLER="1")})
    recorder = Recorder()
    with crawls(), pytest.raises(StepFailed, match="deprecated"):
        _run(aws, config, recorder)
    assert recorder.calls.count(("glue", "StartCrawler")) == 1  # the deprecated one only
    del crawler


def test_projection_reads_todays_folder_with_no_crawl_at_all(config):
    """The raw tables' day range ends at NOW, so a file Kiro writes today is queryable before any crawler runs."""
    from kiro_analytics.sqlfiles import load_tables
    from kiro_analytics.tables import parse_table_ddl

    for table in load_tables(config):
        properties = dict(parse_table_ddl(table.sql).table_parameters)
        if table.name.endswith("_raw"):
            assert properties["projection.enabled"] == "true"
            assert properties["projection.day.range"].endswith(",NOW")
            yesterday = datetime.now(timezone.utc) - timedelta(days=1)
            assert properties["projection.day.range"].split(",")[0] <= f"{yesterday:%Y/%m/%d}"
            assert properties["projection.region.values"] == "us-east-1"
            assert properties["storage.location.template"].endswith("/${region}/${day}/")


@pytest.mark.parametrize("after_file, how", [(timedelta(seconds=1), "current"),
                                             (timedelta(milliseconds=999), "started"),
                                             (timedelta(milliseconds=500), "started")])
def test_a_crawl_counts_as_current_only_a_whole_second_after_the_newest_file(aws, config, after_file, how):
    """S3's LastModified has whole seconds: a file stamped 02:00:00 may have been written at 02:00:00.999, so only a
    crawl that started at 02:00:01 or later surely saw it (newest + 1 s <= StartTime)."""
    crawler = Names(config).crawler("user-report")
    with crawls():
        _run(aws, config)
        delivered = datetime(2026, 11, 24, 2, 0, 0, tzinfo=timezone.utc)
        _backdate(config, crawler, "2026/11/24", crawled=delivered + after_file, delivered=delivered)
        recorder = Recorder()
        again = _run(aws, config, recorder)
    assert again[crawler].how == how
    assert recorder.calls.count(("glue", "StartCrawler")) == (how == "started")


def test_the_wait_polls_every_15_seconds_logs_every_30_and_gives_up_at_its_timeout(aws, config, caplog):
    """Against a clock that only moves when the wait sleeps: polls at 0, 15, 30, 45 and 60 s, a progress line at 0,
    30 and 60 s (status unchanged), and the timeout at exactly 60 s, not one poll later."""
    import re

    slept = []
    clock = Clock(now=lambda: float(sum(slept)), sleep=slept.append)
    polls = []
    aws["glue"].meta.events.register("before-call.glue.GetCrawler", lambda **_: polls.append(sum(slept)))
    with crawls(progression="manual"), caplog.at_level("INFO", logger="kiro_analytics.progress"), \
            pytest.raises(StepFailed, match="timed out after 60s waiting for 2 crawler"):
        _run(aws, config, timeout=60, clock=clock)
    for name in Names(config).crawlers.values():
        aws["glue"].stop_crawler(Name=name)
    assert slept == [15, 15, 15, 15]
    # One GetCrawler per crawler per poll, after the two that decided to start them.
    assert polls[2:] == [elapsed for elapsed in (0, 15, 30, 45, 60) for _ in range(2)]
    logged = [int(m.group(1)) for m in (re.search(r"\((\d+)s elapsed", r.getMessage()) for r in caplog.records) if m]
    assert logged == [0, 30, 60]


def test_a_crawl_that_splits_a_family_into_tables_fails_naming_them_and_the_metrics(aws, config):
    """Files whose schemas Glue finds unalike become a table per folder, named after it with a hash suffix on a
    clash (https://docs.aws.amazon.com/glue/latest/dg/crawler-s3-folder-table-partition.html), and the crawl still
    says SUCCEEDED: step 3 names every table the crawler wrote (UPDATED_BY_CRAWLER) and its GetCrawlerMetrics."""
    names = Names(config)
    crawler = names.crawler("user-report")
    _put(aws["s3"], config, "user-report", "2026/11/25", "UserId,Date,Client_Type,Total_Messages")
    _age_files(config, timedelta(days=1))
    with crawls(splits=(crawler,)), pytest.raises(StepFailed) as failure:
        _run(aws, config)
    text = str(failure.value)
    tables = sorted(t["Name"] for t in aws["glue"].get_tables(DatabaseName=config.database)["TableList"]
                    if t.get("Parameters", {}).get("UPDATED_BY_CRAWLER") == crawler)
    assert len(tables) == 2 and tables[0] == "discovered_00" and tables[1].startswith("discovered_00_")
    assert (f"{crawler}: the crawl SUCCEEDED but split one report family into 2 tables instead of "
            f"{config.database}.discovered_user_report: {tables[0]}, {tables[1]} (GetCrawlerMetrics: TablesCreated "
            "2, TablesUpdated 0, TablesDeleted 0;") in text
    assert f"--tables-to-delete {tables[0]} {tables[1]}" in text
    assert "added nothing" not in text  # the crawl added tables, only not the one it should
    assert names.crawler("by-user-analytic") not in text  # its family stayed one table


def test_a_split_that_kept_the_familys_own_table_still_fails(aws, config):
    """The family's table and a stray one beside it (a folder Glue found unlike the rest) are a split too."""
    from moto.glue.models import glue_backends

    crawler = Names(config).crawler("by-user-analytic")
    with crawls():
        _run(aws, config)
        backend = glue_backends["123456789012"]["us-east-1"]
        backend.create_table(config.database, "discovered_by_user_analytic_5d41402a", {
            "Name": "discovered_by_user_analytic_5d41402a", "Parameters": {"UPDATED_BY_CRAWLER": crawler},
            "StorageDescriptor": {"Columns": [{"Name": "userid", "Type": "string"}]}})
        aws["s3"].put_object(Bucket=config.bucket_name, Key=f"{config.report_root}{CRAWLER_FOLDERS['by-user-analytic']}"
                             "us-east-1/2026/11/26/00/late.csv", Body=b"UserId,Date\nu1,2026-11-26\n")
        split = (rf"{crawler}: the crawl SUCCEEDED but split one report family into 2 tables instead of "
                 r"[a-z_]+\.discovered_by_user_analytic: discovered_by_user_analytic, "
                 r"discovered_by_user_analytic_5d41402a")
        with pytest.raises(StepFailed, match=split):
            _run(aws, config)
        # A rerun with nothing newer in the folder crawls again rather than calling it current: still reported.
        recorder = Recorder()
        with pytest.raises(StepFailed, match=split):
            _run(aws, config, recorder)
        assert recorder.calls.count(("glue", "StartCrawler")) == 1
