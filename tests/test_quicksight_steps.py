"""Steps 7-9 against the strict QuickSight stand-in: create, rerun unchanged, update, publish, failures, dry-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kiro_analytics.aws import Clients
from kiro_analytics.cli import StepContext
from kiro_analytics.config import load_config
from kiro_analytics.errors import StepFailed
from kiro_analytics.names import ANALYSES, Names
from kiro_analytics.plan import Recorder
from kiro_analytics.progress import Clock
from kiro_analytics.quicksight import analyses, assets, dashboard, datasets, definitions, permissions
from standins.quicksight import QuickSightStandIn

OWNER = "arn:aws:quicksight:us-east-1:123456789012:user/default/admin"
VIEWER = "arn:aws:quicksight:us-east-1:123456789012:group/default/kiro-viewers"
MUTATING = ("Create", "Update", "Delete", "Tag")


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    ticks = {"now": 0.0}
    clock = Clock(now=lambda: ticks["now"], sleep=lambda seconds: ticks.__setitem__("now", ticks["now"] + seconds))
    monkeypatch.setattr(assets, "CLOCK", clock)


@pytest.fixture
def standin():
    return QuickSightStandIn()


def make_context(config, standin, step=9, dry_run=False, out=None):
    clients = Clients(config)
    standin.attach(clients.quicksight())
    recorder = Recorder(dry_run=dry_run, out_dir=out, step=step)
    if dry_run:
        clients.register("before-call", recorder.guard)
    return StepContext(step=step, config=config, names=Names(config), clients=clients, recorder=recorder,
                       dry_run=dry_run, out_dir=out or Path("build"))


def deploy_all(config, standin):
    return [module.deploy(make_context(config, standin, step))
            for step, module in ((7, datasets), (8, analyses), (9, dashboard))]


def mutations(standin, since=0):
    return [op for op, _ in standin.calls[since:] if op.startswith(MUTATING)]


def test_first_deploy_creates_everything_and_publishes(config, standin):
    results = deploy_all(config, standin)
    names = Names(config)
    source = standin.data_sources[names.data_source_id]
    assert source["DataSourceParameters"] == {"AthenaParameters": {
        "WorkGroup": "kiro-analytics", "RoleArn": "arn:aws:iam::123456789012:role/kiro-analytics-quicksight"}}
    assert sorted(standin.datasets) == sorted(names.dataset_id(v) for v in definitions.dataset_files())
    daily = standin.datasets[names.dataset_id("daily_summary")]["PhysicalTableMap"]["view"]["RelationalTable"]
    assert (daily["Catalog"], daily["Schema"], daily["Name"]) == ("AwsDataCatalog", "kiro_analytics", "daily_summary")
    times = sorted(s["kiro-daily-refresh"]["ScheduleFrequency"]["TimeOfTheDay"] for s in standin.schedules.values())
    assert times[0] == "04:00" and times[1] == "04:02" and len(times) == len(definitions.dataset_files())
    assert all(s["kiro-daily-refresh"]["RefreshType"] == "FULL_REFRESH" for s in standin.schedules.values())
    assert sorted(standin.analyses) == sorted(names.analysis_id(a) for a in ANALYSES)
    assert all(a["Status"] == "CREATION_SUCCESSFUL" for a in standin.analyses.values())
    board = standin.dashboards[names.dashboard_id]
    assert board["published"] == 1 and len(board["versions"]) == 1
    assert board["Name"] == "Kiro 用户活动分析"  # zh is the default language
    assert set(standin.permissions[board["Arn"]][OWNER]) == set(permissions.OWNER_ACTIONS["dashboard"])
    assert "version 1 published" in results[2]
    # Create calls carried the definition hash, so the next run can tell "unchanged".
    assert standin.tags[board["Arn"]][assets.HASH_TAG]


def test_rerun_with_the_same_definitions_changes_nothing(config, standin):
    deploy_all(config, standin)
    before = len(standin.calls)
    results = deploy_all(config, standin)
    assert mutations(standin, before) == []
    board = standin.dashboards[Names(config).dashboard_id]
    assert len(board["versions"]) == 1 and board["published"] == 1
    assert "unchanged" in results[2]
    assert f"{len(definitions.dataset_files())} unchanged" in results[0]
    assert all("unchanged" in part for part in results[1].split(", "))


def test_changed_definition_creates_and_publishes_a_new_version(config, config_file, standin):
    deploy_all(config, standin)
    board_arn = standin.dashboards["kiro-analytics-dashboard"]["Arn"]
    chinese_hash = standin.tags[board_arn][assets.HASH_TAG]
    english = load_config(str(_rewrite(config_file, language="en")))
    before = len(standin.calls)
    result = dashboard.deploy(make_context(english, standin))
    assert mutations(standin, before) == ["UpdateDashboard", "UpdateDashboardPublishedVersion", "TagResource"]
    # The new version number came from the VersionArn and was polled by number before publishing.
    assert ("DescribeDashboard", {"AwsAccountId": "123456789012", "DashboardId": "kiro-analytics-dashboard",
                                  "VersionNumber": 2}) in standin.calls
    published = standin.DescribeDashboard("123456789012", "kiro-analytics-dashboard")["Dashboard"]
    assert published["Version"]["VersionNumber"] == 2 and published["Name"] == "Kiro user activity"
    assert "updated: version 2 published" in result
    # The tag moved to the new definition's hash only after version 2 was published: why the rerun is unchanged.
    tagged = [params for op, params in standin.calls[before:] if op == "TagResource"]
    assert tagged == [{"ResourceArn": board_arn, "Tags": [{"Key": assets.HASH_TAG,
                                                           "Value": standin.tags[board_arn][assets.HASH_TAG]}]}]
    assert standin.tags[board_arn][assets.HASH_TAG] != chinese_hash
    assert [op for op, _ in standin.calls[before:]].index("TagResource") > \
        [op for op, _ in standin.calls[before:]].index("UpdateDashboardPublishedVersion")
    again = len(standin.calls)
    dashboard.deploy(make_context(english, standin))
    assert mutations(standin, again) == []


def test_failed_new_version_is_reported_with_its_path_and_not_published(config, config_file, standin):
    deploy_all(config, standin)
    standin.fail_asset("dashboard", [{"Type": "COLUMN_TYPE_MISMATCH", "Message": "column credits_used is STRING",
                                      "ViolatedEntities": [{"Path": "sheet/overview/visual/ov-kpi-credits"}]}])
    english = load_config(str(_rewrite(config_file, language="en")))
    with pytest.raises(StepFailed) as failure:
        dashboard.deploy(make_context(english, standin))
    text = str(failure.value)
    assert "COLUMN_TYPE_MISMATCH" in text and "sheet/overview/visual/ov-kpi-credits" in text
    board = standin.dashboards["kiro-analytics-dashboard"]
    assert board["published"] == 1 and len(board["versions"]) == 2
    # The hash tag was not moved, so the next run tries again and publishes version 3.
    dashboard.deploy(make_context(english, standin))
    assert board["published"] == 3


def test_analysis_failure_prints_the_service_errors(config, standin):
    datasets.deploy(make_context(config, standin, 7))
    standin.fail_asset("analysis", [{"Type": "DATA_SET_NOT_FOUND", "Message": "data set gone",
                                     "ViolatedEntities": [{"Path": "DataSetIdentifierDeclarations/daily_summary"}]}])
    with pytest.raises(StepFailed, match=r"DATA_SET_NOT_FOUND: data set gone \(at DataSetIdentifierDeclarations"):
        analyses.deploy(make_context(config, standin, 8))


def test_polling_waits_through_in_progress(config, standin):
    standin.polls_in_progress = 2
    deploy_all(config, standin)
    polls = [p for op, p in standin.calls if op == "DescribeDashboard" and p.get("VersionNumber") == 1]
    assert len(polls) == 3  # two CREATION_IN_PROGRESS answers, then success
    assert standin.dashboards["kiro-analytics-dashboard"]["published"] == 1


def test_failed_data_source_is_deleted_and_recreated(config, standin, caplog):
    standin.fail_asset("data_source", [{"Type": "ACCESS_DENIED", "Message": "role cannot be assumed"}])
    with pytest.raises(StepFailed, match="ACCESS_DENIED: role cannot be assumed"):
        datasets.ensure_data_source(make_context(config, standin, 7))
    with caplog.at_level("WARNING"):
        outcome = datasets.ensure_data_source(make_context(config, standin, 7))
    assert outcome == "recreated after CREATION_FAILED"
    assert "deleting it and creating it again" in caplog.text
    assert mutations(standin)[-2:] == ["DeleteDataSource", "CreateDataSource"]


def test_changed_dataset_is_updated_and_refreshed_now(config, standin):
    deploy_all(config, standin)
    dataset_id = Names(config).dataset_id("daily_summary")
    columns = standin.datasets[dataset_id]["PhysicalTableMap"]["view"]["RelationalTable"]["InputColumns"]
    columns.pop()  # as if the view gained a column since the last deploy
    before = len(standin.calls)
    started = {key for key in standin.ingestions if key[0] == dataset_id}
    result = datasets.deploy(make_context(config, standin, 7))
    # The update starts the SPICE refresh itself; deploy waits on that one instead of starting a second.
    assert mutations(standin, before) == ["UpdateDataSet", "TagResource"]
    assert "1 updated, 0 refreshed for a changed view" in result
    (new,) = {key for key in standin.ingestions if key[0] == dataset_id} - started
    waited = {p["IngestionId"] for op, p in standin.calls[before:] if op == "DescribeIngestion"}
    assert waited == {new[1]}
    standin.datasets[dataset_id]["PhysicalTableMap"]["view"]["RelationalTable"]["InputColumns"].pop()
    standin.fail_asset("ingestion", [{"Type": "SQL_TABLE_NOT_FOUND", "Message": "view daily_summary missing"}])
    with pytest.raises(StepFailed, match="SQL_TABLE_NOT_FOUND: view daily_summary missing"):
        datasets.deploy(make_context(config, standin, 7))


def test_a_view_change_alone_refreshes_the_datasets_that_read_it(config, standin, monkeypatch):
    """SPICE keeps the old rows until a refresh: a changed view SQL must trigger one, once, even when the dataset
    definition itself is unchanged. The digest covers everything upstream, so a change to user_report_latest
    refreshes every dataset on a view that reads it, directly or not."""
    from kiro_analytics import sqlfiles

    deploy_all(config, standin)
    real = sqlfiles.content_digests(config)
    changed = dict(real)
    readers = [view for view in definitions.dataset_files() if view in ("daily_summary", "user_daily_detail")]
    for view in readers:
        changed[view] = "0" * 64
    monkeypatch.setattr(datasets, "content_digests", lambda _config: changed)
    before = len(standin.calls)
    result = datasets.deploy(make_context(config, standin, 7))
    # All refreshes start at once; each dataset is tagged after its own refresh completed.
    assert mutations(standin, before) == ["CreateIngestion"] * len(readers) + ["TagResource"] * len(readers)
    assert f"0 updated, {len(readers)} refreshed for a changed view" in result
    before = len(standin.calls)
    assert "0 refreshed for a changed view" in datasets.deploy(make_context(config, standin, 7))
    assert mutations(standin, before) == []


def test_view_digests_follow_what_a_view_reads(config, tmp_path):
    from kiro_analytics import sqlfiles

    copy = tmp_path / "sql"
    import shutil

    shutil.copytree(sqlfiles.SQL_DIR, copy)
    before = sqlfiles.content_digests(config, copy)
    latest = copy / "views" / "user_report_latest.sql"
    latest.write_text(latest.read_text(encoding="utf-8") + "\n-- a comment is a change too\n", encoding="utf-8")
    after = sqlfiles.content_digests(config, copy)
    changed = {name for name in before if before[name] != after[name]}
    assert {"user_report_latest", "user_activity_daily", "daily_summary", "user_summary"} <= changed
    assert "user_behavior_daily" not in changed  # legacy views do not read the credit report
    assert all(before[table] == after[table] for table in ("user_report_raw", "user_mapping"))


def test_permissions_grant_only_the_difference(config_file, standin):
    config = load_config(str(_rewrite(config_file, extra_principals=[{"arn": VIEWER, "access": "viewer"}])))
    deploy_all(config, standin)
    arn = standin.dashboards["kiro-analytics-dashboard"]["Arn"]
    assert standin.permissions[arn][VIEWER] == set(permissions.VIEWER_ACTIONS["dashboard"])
    analysis_arn = standin.analyses["kiro-analytics-admin-overview"]["Arn"]
    assert VIEWER not in standin.permissions[analysis_arn]  # viewers see the dashboard only
    standin.permissions[arn][OWNER].discard("quicksight:DeleteDashboard")
    before = len(standin.calls)
    dashboard.deploy(make_context(config, standin))
    grants = [p for op, p in standin.calls[before:] if op == "UpdateDashboardPermissions"]
    assert grants == [{"AwsAccountId": "123456789012", "DashboardId": "kiro-analytics-dashboard",
                       "GrantPermissions": [{"Principal": OWNER, "Actions": ["quicksight:DeleteDashboard"]}]}]


def test_dry_run_writes_every_request_and_sends_none(config, standin, tmp_path):
    for step, module in ((7, datasets), (8, analyses), (9, dashboard)):
        module.deploy(make_context(config, standin, step, dry_run=True, out=tmp_path))
    assert mutations(standin) == []
    files = sorted((tmp_path / "requests").glob("*.json"))
    bodies = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    operations = [b["operation"] for b in bodies]
    assert operations.count("CreateDataSet") == len(definitions.dataset_files())
    assert operations.count("CreateAnalysis") == len(ANALYSES)
    assert operations[-2:] == ["CreateDashboard", "UpdateDashboardPublishedVersion"]
    create = bodies[operations.index("CreateDashboard")]
    assert create["service"] == "quicksight" and create["params"]["AwsAccountId"] == "123456789012"
    declared = create["params"]["Definition"]["DataSetIdentifierDeclarations"][0]
    assert declared["DataSetArn"].startswith("arn:aws:quicksight:us-east-1:123456789012:dataset/kiro-analytics-")
    assert bodies[-1]["params"]["VersionNumber"] == 1
    assert files[0].name.startswith("07-001-quicksight-CreateDataSource")


def test_dry_run_of_an_update_plans_the_next_version(config, config_file, standin, tmp_path):
    deploy_all(config, standin)
    english = load_config(str(_rewrite(config_file, language="en")))
    dashboard.deploy(make_context(english, standin, dry_run=True, out=tmp_path))
    bodies = [json.loads(f.read_text(encoding="utf-8")) for f in sorted((tmp_path / "requests").glob("*.json"))]
    assert [b["operation"] for b in bodies] == ["UpdateDashboard", "UpdateDashboardPublishedVersion", "TagResource"]
    assert bodies[1]["params"]["VersionNumber"] == 2
    assert "Permissions" not in bodies[0]["params"]
    assert len(standin.dashboards["kiro-analytics-dashboard"]["versions"]) == 1


def test_standin_rejects_what_the_service_rejects(config, standin):
    from botocore.exceptions import ClientError

    client = standin.attach(Clients(config).quicksight())
    with pytest.raises(ClientError) as missing:
        client.describe_dashboard(AwsAccountId="123456789012", DashboardId="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert type(missing.value).__name__ == "ResourceNotFoundException"
    with pytest.raises(ClientError, match="is not one of"):  # an enum botocore itself does not check
        client.create_data_source(AwsAccountId="123456789012", DataSourceId="x", Name="x", Type="ATHENAX")
    with pytest.raises(ClientError, match="does not match the pattern"):
        client.create_ingestion(AwsAccountId="123456789012", DataSetId="d", IngestionId="bad id!")


def _rewrite(config_file: Path, **quicksight) -> Path:
    import yaml

    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["quicksight"].update(quicksight)
    target = config_file.with_name(f"config-{len(quicksight)}-{'-'.join(sorted(quicksight))}.yaml")
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def test_a_new_datasets_first_ingestion_is_awaited_and_its_failure_reported(config, standin):
    """CreateDataSet starts the first SPICE load itself; a failed one must fail step 7 with QuickSight's ErrorInfo,
    and leave the dataset untagged so the next deploy refreshes it again."""
    standin.fail_asset("ingestion", [{"Type": "PERMISSION_DENIED", "Message": "role cannot read s3://reports"}])
    with pytest.raises(StepFailed, match=r"SPICE refresh of .*FAILED: PERMISSION_DENIED: role cannot read s3://"):
        datasets.deploy(make_context(config, standin, 7))
    created = [p["DataSetId"] for op, p in standin.calls if op == "CreateDataSet"]
    waited = [p["DataSetId"] for op, p in standin.calls if op == "DescribeIngestion"]
    assert created and waited[0] == created[0]  # the first load of the first dataset was waited on
    failed = created[0]
    arn = standin.datasets[failed]["Arn"]
    assert assets.VIEW_TAG not in standin.tags.get(arn, {})
    # The next deploy sees no view tag on it and loads it again; the others were created untagged too (the step
    # stopped at the first failure) and load once each.
    before = len(standin.calls)
    result = datasets.deploy(make_context(config, standin, 7))
    assert "refreshed for a changed view" in result
    assert failed in [p["DataSetId"] for op, p in standin.calls[before:] if op == "CreateIngestion"]
    assert standin.tags[arn][assets.VIEW_TAG]


def test_dataset_owners_get_the_18_actions_the_console_grants(config, standin):
    datasets.deploy(make_context(config, standin, 7))
    dataset = standin.datasets[Names(config).dataset_id("daily_summary")]
    actions = standin.permissions[dataset["Arn"]][OWNER]
    assert len(actions) == 18 and {"quicksight:PutDataSetRefreshProperties",
                                   "quicksight:DescribeDataSetRefreshProperties",
                                   "quicksight:DeleteDataSetRefreshProperties"} <= actions


def test_only_the_fields_sent_are_compared(config, standin):
    """DescribeDataSet adds what it was not sent (an automatic LogicalTableMap, usage settings, times, SPICE size);
    those must not count as a change, but a change in a field that is sent must."""
    assert datasets.differs({"Name": "a", "Extra": 1, "Map": {"x": {"y": 1, "added": 2}}},
                            {"Name": "a", "Map": {"x": {"y": 1}}}) is False
    assert datasets.differs({"Name": "a", "Map": {"x": {"y": 2}}}, {"Name": "a", "Map": {"x": {"y": 1}}}) is True
    assert datasets.differs({"Cols": [{"Name": "a"}, {"Name": "b"}]}, {"Cols": [{"Name": "a"}]}) is True
    deploy_all(config, standin)
    described = standin.DescribeDataSet("123456789012", Names(config).dataset_id("daily_summary"))["DataSet"]
    assert {"LogicalTableMap", "DataSetUsageConfiguration", "ConsumedSpiceCapacityInBytes"} <= set(described)
    before = len(standin.calls)
    datasets.deploy(make_context(config, standin, 7))
    assert mutations(standin, before) == []


def test_a_refresh_past_the_32_a_day_cap_is_not_started_and_says_when(config, standin, monkeypatch):
    from kiro_analytics import sqlfiles

    deploy_all(config, standin)
    dataset_id = Names(config).dataset_id("daily_summary")
    for index in range(31):  # the create's own load is the 32nd of the day
        standin.CreateIngestion("123456789012", dataset_id, f"earlier-{index}")
    changed = dict(sqlfiles.content_digests(config), daily_summary="0" * 64)
    monkeypatch.setattr(datasets, "content_digests", lambda _config: changed)
    before = len(standin.calls)
    with pytest.raises(StepFailed, match=r"SPICE refresh of daily_summary not started: QuickSight allows 32 manual "
                                         r"refreshes of a dataset in 24 hours .* rerun step 7 after \d{4}-\d\d-\d\d"):
        datasets.deploy(make_context(config, standin, 7))
    assert "CreateIngestion" not in mutations(standin, before)


def test_scheduled_refreshes_do_not_use_up_the_manual_cap(config, standin, monkeypatch):
    """Only manual CreateIngestion calls count towards the 32 a day ("You can manually refresh datasets in an
    Enterprise edition account 32 times in a 24-hour period", API_CreateIngestion): with 31 manual loads today (the
    create's own and 30 more) and 40 scheduled ones, the deploy's refresh is the 32nd manual one and is started."""
    from kiro_analytics import sqlfiles

    deploy_all(config, standin)
    dataset_id = Names(config).dataset_id("daily_summary")
    for index in range(30):
        standin.CreateIngestion("123456789012", dataset_id, f"earlier-{index}")
    for index in range(40):
        standin.scheduled_refresh(dataset_id, f"scheduled-{index}")
    changed = dict(sqlfiles.content_digests(config), daily_summary="0" * 64)
    monkeypatch.setattr(datasets, "content_digests", lambda _config: changed)
    before = len(standin.calls)
    datasets.deploy(make_context(config, standin, 7))
    assert mutations(standin, before).count("CreateIngestion") == 1
    manual = [item for (dataset, _), item in standin.ingestions.items()
              if dataset == dataset_id and item["RequestSource"] == "MANUAL"]
    assert len(manual) == 32


@pytest.mark.parametrize("base, index, expected", [("04:00", 0, "04:00"), ("04:00", 1, "04:02"),
                                                   ("23:58", 1, "00:00"), ("23:59", 2, "00:03"),
                                                   ("23:00", 45, "00:30")])
def test_refresh_schedule_times_wrap_at_midnight(base, index, expected):
    assert datasets.refresh_time(base, index) == expected
