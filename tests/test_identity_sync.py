"""The user-name sync: 1,000+ tricky names round-trip, bounded Identity Store calls, fail closed, Lambda packaging."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from kiro_analytics import lambda_handler
from kiro_analytics.identity_sync import MAPPING_HEADER, SyncSettings, sync_user_mapping
from kiro_analytics.lambda_package import HANDLER, build_package
from moto import mock_aws

STORE = "d-1234567890"
SETTINGS = SyncSettings(bucket="reports", mapping_key="user-mapping/user_mapping.csv", identity_store_id=STORE,
                        identity_region="us-east-1", database="kiro_analytics", workgroup="kiro-analytics",
                        account_id="123456789012")
TRICKY = ["Zoë, \"the\" Admin", "李小龙", "🚀 Rocket\tTab", "O'Brien; Jr.", "Line\nBreak", "comma,comma", "  "]


@pytest.fixture
def aws():
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="reports")
        yield


def _make_users(count: int):
    client = boto3.client("identitystore", region_name="us-east-1")
    expected = {}
    for index in range(count):
        display = f"{TRICKY[index % len(TRICKY)]} {index}"
        user_id = client.create_user(IdentityStoreId=STORE, UserName=f"u{index}", DisplayName=display,
                                     Name={"GivenName": "G", "FamilyName": "F"})["UserId"]
        expected[user_id] = " ".join(display.split("\n")).strip()
    groups = [client.create_group(IdentityStoreId=STORE, DisplayName=f"team-{g}")["GroupId"] for g in range(3)]
    for index, user_id in enumerate(list(expected)[:30]):
        client.create_group_membership(IdentityStoreId=STORE, GroupId=groups[index % 3], MemberId={"UserId": user_id})
    return expected, groups


class CountingIdentityStore:
    """Counts requests at the botocore level (every page is one request)."""

    def __init__(self) -> None:
        self.client = boto3.client("identitystore", region_name="us-east-1")
        self.calls: dict = {}
        self.client.meta.events.register("before-call.identitystore", self._count)

    def _count(self, model, **_):
        self.calls[model.name] = self.calls.get(model.name, 0) + 1


class Athena:
    """Answers the one query the sync sends with the ids 'seen in the reports'."""

    def __init__(self, ids) -> None:
        self.ids = list(ids)
        self.sql = []


def _run(ids_in_reports, identitystore):
    from unittest import mock

    with mock.patch("kiro_analytics.identity_sync.run_query",
                    side_effect=lambda athena, sql, *a, **k: (athena.sql.append(sql),
                                                              [{"user_id": i} for i in athena.ids])[1]):
        athena = Athena(ids_in_reports)
        result = sync_user_mapping(athena, identitystore, boto3.client("s3", region_name="us-east-1"), SETTINGS)
    return result, athena


def _mapping():
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket="reports", Key=SETTINGS.mapping_key)
    return body


def test_1200_tricky_names_round_trip_with_bounded_calls(aws):
    expected, _ = _make_users(1200)
    unknown = "0123456789-abcdef01-2345-6789-abcd-ef0123456789"
    counting = CountingIdentityStore()
    result, athena = _run([*expected, unknown, f'"d-1234567890.{next(iter(expected))}"'], counting.client)
    assert "regexp_extract" in athena.sql[0]
    assert result.users_written == 1201 and result.from_directory == 1200 and result.id_only == 1
    # 1,200 users → 12 ListUsers pages; 3 groups → 1 ListGroups page + 3 membership pages; 1 DescribeUser (unknown).
    assert counting.calls == {"ListUsers": 12, "ListGroups": 1, "ListGroupMemberships": 3, "DescribeUser": 1}
    obj = _mapping()
    raw = obj["Body"].read()
    assert raw.startswith(b"userid,username,user_name,email,groups\r\n")
    assert raw.count(b"\r\n") == 1202  # one physical line per record: no line break survived inside a field
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == MAPPING_HEADER
    names = {row["userid"]: row["username"] for row in rows}
    for user_id, display in expected.items():
        assert names[user_id] == display
    assert names[unknown] == unknown
    assert sum(1 for row in rows if row["groups"].startswith("team-")) == 30


def test_rerun_is_unchanged_and_leavers_keep_their_name(aws):
    expected, _ = _make_users(5)
    _run(expected, boto3.client("identitystore", region_name="us-east-1"))
    first = _mapping()["Body"].read()
    again, _ = _run(expected, boto3.client("identitystore", region_name="us-east-1"))
    assert again.changed is False and _mapping()["Body"].read() == first
    leaver = next(iter(expected))
    boto3.client("identitystore", region_name="us-east-1").delete_user(IdentityStoreId=STORE, UserId=leaver)
    result, _ = _run([], boto3.client("identitystore", region_name="us-east-1"))
    assert result.kept_previous == 1
    rows = {r["userid"]: r for r in csv.DictReader(io.StringIO(_mapping()["Body"].read().decode()))}
    assert rows[leaver]["username"] == expected[leaver]


def test_identity_store_outage_keeps_the_old_mapping_byte_for_byte(aws):
    expected, _ = _make_users(3)
    _run(expected, boto3.client("identitystore", region_name="us-east-1"))
    before = _mapping()["Body"].read()
    broken = boto3.client("identitystore", region_name="us-east-1")

    def outage(model, **_):
        if model.name == "ListGroupMemberships":
            raise ClientError({"Error": {"Code": "InternalServerException", "Message": "down"}}, model.name)
    broken.meta.events.register("before-call.identitystore", outage)
    with pytest.raises(ClientError):
        _run([*list(expected), "new-user-id"], broken)
    assert _mapping()["Body"].read() == before


def test_access_denied_names_account_and_region(aws):
    denied = boto3.client("identitystore", region_name="us-east-1")

    def deny(model, **_):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, model.name)
    denied.meta.events.register("before-call.identitystore", deny)
    with pytest.raises(Exception, match="us-east-1 from account 123456789012"):
        _run([], denied)


def test_lambda_handler_uses_environment_and_same_sync(aws, monkeypatch):
    _expected, _ = _make_users(2)
    for key, value in {"MAPPING_BUCKET": "reports", "MAPPING_KEY": SETTINGS.mapping_key, "IDENTITY_STORE_ID": STORE,
                       "IDENTITY_REGION": "us-east-1", "DATABASE": "kiro_analytics",
                       "WORKGROUP": "kiro-analytics"}.items():
        monkeypatch.setenv(key, value)
    seen = {}

    def fake_sync(athena, identitystore, s3, settings):
        seen["settings"] = settings
        return sync_user_mapping(None, identitystore, s3, settings)
    monkeypatch.setattr(lambda_handler, "sync_user_mapping", fake_sync)
    context = type("Context", (), {"invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:x"})()
    answer = lambda_handler.handler({}, context)
    assert seen["settings"].account_id == "123456789012"
    assert answer["uri"] == f"s3://reports/{SETTINGS.mapping_key}" and answer["users"] == 0


def test_lambda_zip_is_reproducible_and_imports_in_isolation(tmp_path):
    first, second = build_package(), build_package()
    assert first.body == second.body and first.sha256 == second.sha256
    with zipfile.ZipFile(io.BytesIO(first.body)) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
        archive.extractall(tmp_path)
    assert "sql/queries/distinct_user_ids.sql" in names
    module, function = HANDLER.rsplit(".", 1)
    # -I: no PYTHONPATH and no cwd on the path, so only the zip's contents (and site-packages' boto3) can import.
    probe = (f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
             f"import {module} as m; assert callable(m.{function})\n"
             "from kiro_analytics.athena import load_query\n"
             "assert 'user_report_raw' in load_query('distinct_user_ids')\n"
             "bad = [n for n in sys.modules if n.split('.')[0] in ('yaml', 'pyathena', 'duckdb', 'sqlglot')]\n"
             "assert not bad, bad\n"
             "assert sys.modules['kiro_analytics'].__file__.startswith(sys.path[0])\n")
    subprocess.run([sys.executable, "-I", "-c", probe], check=True, cwd=tmp_path)


def test_ids_known_outside_the_directory_are_not_described_every_day(aws):
    """An external-IdP user is asked about once; the next day's run already knows the map has them by id only."""
    expected, _ = _make_users(3)
    outsider = "0123456789-abcdef01-2345-6789-abcd-ef0123456789"
    first = CountingIdentityStore()
    _run([*expected, outsider], first.client)
    assert first.calls["DescribeUser"] == 1
    second = CountingIdentityStore()
    result, _ = _run([*expected, outsider], second.client)
    assert "DescribeUser" not in second.calls and result.id_only == 0 and result.kept_previous == 1
    newcomer = "1123456789-abcdef01-2345-6789-abcd-ef0123456789"
    third = CountingIdentityStore()
    _run([*expected, outsider, newcomer], third.client)
    assert third.calls["DescribeUser"] == 1  # the new id only


def test_an_overlapping_run_that_replaced_the_map_wins_and_this_one_writes_nothing(aws):
    """Two runs at once (no reserved concurrency): the map is written with If-Match on the ETag this run read, so
    a run whose map was replaced meanwhile leaves the newer map alone (S3 answers 412 Precondition Failed)."""
    expected, _ = _make_users(3)
    _run(list(expected)[:1], boto3.client("identitystore", region_name="us-east-1"))
    s3 = boto3.client("s3", region_name="us-east-1")
    other = b"userid,username,user_name,email,groups\r\nfrom-the-other-run,x,,,\r\n"
    sent = []

    def overlap(params, **_):
        sent.append({key: params.get(key) for key in ("IfMatch", "IfNoneMatch")})
        boto3.client("s3", region_name="us-east-1").put_object(Bucket="reports", Key=SETTINGS.mapping_key, Body=other)
    s3.meta.events.register("provide-client-params.s3.PutObject", overlap)
    from unittest import mock

    with mock.patch("kiro_analytics.identity_sync.run_query", return_value=[{"user_id": i} for i in expected]):
        result = sync_user_mapping(object(), boto3.client("identitystore", region_name="us-east-1"), s3, SETTINGS)
    assert sent and sent[0]["IfMatch"] and sent[0]["IfNoneMatch"] is None
    assert result.conflict is True and result.changed is False and "another sync replaced it" in result.summary()
    assert _mapping()["Body"].read() == other


@pytest.mark.parametrize("code", ["ConditionalRequestConflict", "409"])
def test_a_409_conflict_is_another_run_writing_not_a_failure(aws, code):
    """S3 answers 409 ConditionalRequestConflict when another conditional write to the key is in flight, not only 412
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): the run writes nothing, leaves
    the other run's map, and says so, exactly as for 412. "409" is the code botocore gives a 409 without a body."""
    from unittest import mock

    from botocore.awsrequest import AWSResponse

    expected, _ = _make_users(2)
    _run(list(expected)[:1], boto3.client("identitystore", region_name="us-east-1"))
    before = _mapping()["Body"].read()
    s3 = boto3.client("s3", region_name="us-east-1")
    answered = []

    def conflict(params, model, **_):
        # S3's answer, short-circuited before the request reaches the emulator (which has no 409 of its own).
        answered.append(params.get("headers", {}).get("If-Match"))
        return (AWSResponse("https://reports.s3.amazonaws.com/", 409, {}, None),
                {"Error": {"Code": code, "Message": "A conflicting conditional operation is currently in progress "
                                                    "against this resource. Try again."},
                 "ResponseMetadata": {"HTTPStatusCode": 409}})
    s3.meta.events.register("before-call.s3.PutObject", conflict)
    with mock.patch("kiro_analytics.identity_sync.run_query", return_value=[{"user_id": i} for i in expected]):
        result = sync_user_mapping(object(), boto3.client("identitystore", region_name="us-east-1"), s3, SETTINGS)
    assert answered and answered[0]  # the conditional write was sent, with the ETag this run read
    assert result.conflict is True and result.changed is False and "another sync replaced it" in result.summary()
    assert _mapping()["Body"].read() == before


def test_a_first_map_is_created_only_if_none_appeared_meanwhile(aws):
    from unittest import mock

    expected, _ = _make_users(2)
    s3 = boto3.client("s3", region_name="us-east-1")
    sent = []
    s3.meta.events.register("provide-client-params.s3.PutObject",
                            lambda params, **_: sent.append((params.get("IfNoneMatch"), params.get("IfMatch"))))
    with mock.patch("kiro_analytics.identity_sync.run_query", return_value=[{"user_id": i} for i in expected]):
        sync_user_mapping(object(), boto3.client("identitystore", region_name="us-east-1"), s3, SETTINGS)
    assert sent == [("*", None)]


def test_a_kms_bucket_gets_the_map_encrypted_with_its_key(aws):
    from dataclasses import replace

    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    _make_users(1)
    from unittest import mock

    with mock.patch("kiro_analytics.identity_sync.run_query", return_value=[]):
        sync_user_mapping(object(), boto3.client("identitystore", region_name="us-east-1"),
                          boto3.client("s3", region_name="us-east-1"), replace(SETTINGS, kms_key=key))
    stored = _mapping()
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"] == key


def test_without_a_configured_key_the_bucket_default_encrypts_the_map(aws):
    """No s3.kms_key_arn: the PutObject carries no encryption header, so the bucket's default applies (here a KMS key
    the config does not name; forcing AES256 would override it: https://docs.aws.amazon.com/AmazonS3/latest/userguide/
    default-encryption-faq.html)."""
    from unittest import mock

    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_bucket_encryption(Bucket="reports", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    sent = []
    s3.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: sent.append(dict(params)))
    _make_users(1)
    with mock.patch("kiro_analytics.identity_sync.run_query", return_value=[]):
        sync_user_mapping(object(), boto3.client("identitystore", region_name="us-east-1"), s3, SETTINGS)
    assert len(sent) == 1 and not {"ServerSideEncryption", "SSEKMSKeyId"} & set(sent[0])
    stored = _mapping()
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"] == key


def test_the_query_wait_fits_the_functions_remaining_time():
    from kiro_analytics.lambda_handler import AFTER_QUERY, query_timeout

    assert query_timeout({}) == 600  # step 6 / no context: the default
    assert query_timeout({}, remaining_seconds=900) == 600
    assert query_timeout({}, remaining_seconds=400) == 400 - AFTER_QUERY  # a late start leaves room for the rest
    assert query_timeout({"QUERY_TIMEOUT": "90"}, remaining_seconds=900) == 90
    assert query_timeout({}, remaining_seconds=60) == 30  # never nothing


def test_lambda_reads_the_directory_as_the_configured_role(aws, monkeypatch):
    """identity_center.role_arn: the sync assumes it for the Identity Store client only."""
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="directory-reader", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    clients = lambda_handler.make_clients(SETTINGS, role)
    assumed = boto3.client("sts", region_name="us-east-1",
                           aws_access_key_id=clients["identitystore"]._request_signer._credentials.access_key,
                           aws_secret_access_key=clients["identitystore"]._request_signer._credentials.secret_key,
                           aws_session_token=clients["identitystore"]._request_signer._credentials.token)
    assert assumed.get_caller_identity()["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/directory-reader/")
    assert clients["s3"]._request_signer._credentials.access_key != assumed._request_signer._credentials.access_key
