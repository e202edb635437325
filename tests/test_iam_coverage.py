"""The template's IAM roles name every action, on a matching resource, that each principal will actually need.

IAM enforcement only shows in a real account; whether a policy *names* what the code calls can be checked here.
The user-name Lambda runs for real (moto in-process) while every AWS operation it sends is recorded; each one is
mapped to its IAM action and resource ARN through an explicit table and evaluated against the SyncRole's policies,
parsed from the template with !Ref/!Sub/!GetAtt resolved from kiro_analytics.stack.stack_parameters. What Athena,
QuickSight and Glue call on the principal's behalf is not visible to a recorder, so it comes from AWS's documents:

- Identity Store resource types: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentitystore.html
  (identitystore/<id> with user/*, group/*, membership/*; ids are minted by Identity Center, hence the wildcards).
- Athena's documented requirements for running a query as the caller:
  https://docs.aws.amazon.com/athena/latest/ug/security-iam-athena.html (S3 data, Glue catalog, Athena actions),
  https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html (glue:GetDatabase and
  GetDatabases on the catalog and database; every Glue action on the catalog, database AND table ARNs),
  https://repost.aws/knowledge-center/athena-access-iam (results bucket: GetBucketLocation, GetObject, ListBucket,
  ListBucketMultipartUploads, ListMultipartUploadParts, AbortMultipartUpload, PutObject; data: GetObject, ListBucket,
  GetBucketLocation), https://docs.aws.amazon.com/athena/latest/ug/lf-athena-user-permissions.html
  (lakeformation:GetDataAccess for anyone querying through Athena).
- QuickSight's Athena connector: the managed policy AWSQuicksightAthenaAccess
  https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSQuicksightAthenaAccess.html
- A crawler's role: the managed policy AWSGlueServiceRole
  https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSGlueServiceRole.html (s3:GetBucketLocation and
  s3:ListBucket on the data's bucket, logs:* on /aws-glue/*, glue:CreateTable/UpdateTable and partitions), narrowed
  to this stack's S3-target discovery crawlers and the discovered_* tables they write.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlparse

import boto3
import pytest
import sqlglot
from cfn_yaml import load_template
from kiro_analytics import lambda_handler
from kiro_analytics.athena import load_query
from kiro_analytics.names import Names
from kiro_analytics.sqlfiles import SQL_DIR, load_facts, load_tables, load_views, view_dependencies
from kiro_analytics.stack import TEMPLATE_PATH, stack_parameters
from kiro_analytics.tables import parse_table_ddl
from moto import mock_aws
from moto.moto_api import state_manager
from sqlglot import exp
from standins.athena import athena_catalog

PARTITION = "aws"
# A day file under a table's LOCATION, the shape Kiro delivers (region/year/month/day/hour partitions).
SAMPLE_OBJECT = "us-east-1/2025/06/01/00/report.csv"
# What an Iceberg table holds under its LOCATION: data files and metadata (JSON, manifest lists and manifests).
FACT_OBJECTS = ("data/source_day=2025-06-01/00000-0-a.parquet", "metadata/00001-b.metadata.json",
                "metadata/snap-1-c.avro")


# ---------------------------------------------------------------------------------------------------------------
# The template, resolved
# ---------------------------------------------------------------------------------------------------------------


# Physical name property per resource type (Ref of these resources returns that name).
_NAME_PROPERTY = {"AWS::S3::Bucket": "BucketName", "AWS::Logs::LogGroup": "LogGroupName", "AWS::IAM::Role": "RoleName",
                  "AWS::Athena::WorkGroup": "Name", "AWS::Lambda::Function": "FunctionName",
                  "AWS::Glue::Crawler": "Name"}


class Template:
    def __init__(self, parameters: Dict[str, str], region: str, account: str) -> None:
        self.doc = load_template(TEMPLATE_PATH)
        self.parameters = parameters
        self.pseudo = {"AWS::Partition": PARTITION, "AWS::Region": region, "AWS::AccountId": account,
                       "AWS::URLSuffix": "amazonaws.com"}
        self.region, self.account = region, account

    def resource(self, logical: str) -> Dict[str, Any]:
        return self.doc["Resources"][logical]

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.resource(name)
        if resource["Type"] == "AWS::SNS::Topic":  # Ref of a topic is its ARN
            topic = self.resolve(resource["Properties"]["TopicName"])
            return f"arn:{PARTITION}:sns:{self.region}:{self.account}:{topic}"
        return str(self.resolve(resource["Properties"][_NAME_PROPERTY[resource["Type"]]]))

    def condition(self, name: str) -> bool:
        """A template Condition evaluated with the stack's parameters (Equals, Not, And, Or, Condition)."""
        return self._truth(self.doc["Conditions"][name])

    def _truth(self, node: Any) -> bool:
        if "Fn::Condition" in node:  # the loader spells !Condition like every other tag
            return self.condition(node["Fn::Condition"])
        if "Fn::Equals" in node:
            left, right = (self.resolve(item) for item in node["Fn::Equals"])
            return str(left) == str(right)
        if "Fn::Not" in node:
            return not self._truth(node["Fn::Not"][0])
        if "Fn::And" in node:
            return all(self._truth(item) for item in node["Fn::And"])
        if "Fn::Or" in node:
            return any(self._truth(item) for item in node["Fn::Or"])
        raise AssertionError(f"condition function not handled by this test: {sorted(node)}")

    def exists(self, logical: str) -> bool:
        condition = self.resource(logical).get("Condition")
        return condition is None or self.condition(condition)

    def get_att(self, logical: str, attribute: str) -> str:
        kind, name = self.resource(logical)["Type"], self.ref(logical)
        arns = {("AWS::S3::Bucket", "Arn"): f"arn:{PARTITION}:s3:::{name}",
                # CloudFormation's LogGroup Arn ends in ":*", which is what makes it cover the log streams.
                ("AWS::Logs::LogGroup", "Arn"): f"arn:{PARTITION}:logs:{self.region}:{self.account}:log-group:{name}:*",
                ("AWS::IAM::Role", "Arn"): f"arn:{PARTITION}:iam::{self.account}:role/{name}",
                ("AWS::Lambda::Function", "Arn"):
                    f"arn:{PARTITION}:lambda:{self.region}:{self.account}:function:{name}"}
        return arns[(kind, attribute)]

    def _sub(self, variable: str) -> str:
        if "." in variable and not variable.startswith("AWS::"):
            return self.get_att(*variable.split(".", 1))
        return self.ref(variable)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "Ref" in node:
            return self.ref(node["Ref"])
        if "Fn::Sub" in node:
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            return self.get_att(*(target.split(".", 1) if isinstance(target, str) else target))
        if "Fn::If" in node:
            name, when_true, when_false = node["Fn::If"]
            return self.resolve(when_true if self.condition(name) else when_false)
        if "Fn::Split" in node:
            separator, text = node["Fn::Split"]
            return str(self.resolve(text)).split(separator)
        if any(key.startswith("Fn::") for key in node):
            raise AssertionError(f"intrinsic not handled by this test: {sorted(node)}")
        return {key: self.resolve(value) for key, value in node.items()}

    def statements(self, role: str) -> List[Dict[str, Any]]:
        """The role's inline policies and every AWS::IAM::Policy attached to it that this stack creates."""
        found = []
        for policy in self.resource(role)["Properties"].get("Policies", []):
            found += self.resolve(policy["PolicyDocument"]["Statement"])
        for logical, resource in self.doc["Resources"].items():
            if resource["Type"] == "AWS::IAM::Policy" and self.exists(logical) and \
                    {"Ref": role} in resource["Properties"]["Roles"]:
                found += self.resolve(resource["Properties"]["PolicyDocument"]["Statement"])
        return found


# ---------------------------------------------------------------------------------------------------------------
# A small IAM evaluator: identity policies only, Allow/Deny, wildcards, the condition operators the template uses
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    why: str
    context: Tuple[Tuple[str, str], ...] = ()


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _listed(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition: Dict[str, Dict[str, Any]], context: Dict[str, str]) -> bool:
    for operator, pairs in condition.items():
        for key, wanted in pairs.items():
            actual = context.get(key)
            if actual is None:
                return False  # a key absent from the request fails every operator without IfExists
            values = [str(v) for v in _listed(wanted)]
            if operator == "StringLike":
                ok = any(_glob(v, actual) for v in values)
            elif operator == "StringEquals":
                ok = actual in values
            elif operator == "Bool":
                ok = actual.lower() in [v.lower() for v in values]
            else:
                raise AssertionError(f"condition operator {operator} not handled by this test")
            if not ok:
                return False
    return True


def _matches(statement: Dict[str, Any], need: Need) -> bool:
    context = dict(need.context)
    return (any(_glob(a, need.action, ignore_case=True) for a in _listed(statement["Action"]))
            and any(_glob(r, need.resource) for r in _listed(statement["Resource"]))
            and _conditions_hold(statement.get("Condition", {}), context))


def assert_allowed(template: "Template", role: str, needs: Iterable[Need]) -> None:
    problems = unmet(template.statements(role), needs)
    assert not problems, f"{role} lacks {len(problems)} permission(s):\n" + "\n".join(problems)


def unmet(statements: List[Dict[str, Any]], needs: Iterable[Need]) -> List[str]:
    problems = []
    for need in sorted(set(needs), key=lambda n: (n.action, n.resource)):
        denied = any(s["Effect"] == "Deny" and _matches(s, need) for s in statements)
        allowed = any(s["Effect"] == "Allow" and _matches(s, need) for s in statements)
        if denied or not allowed:
            extra = f" with {dict(need.context)}" if need.context else ""
            problems.append(f"{need.action} on {need.resource}{extra} ({need.why})")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# What a principal needs
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Stack:
    template: Template
    names: Names
    config: Any
    parameters: Dict[str, str]
    region: str = field(init=False)
    account: str = field(init=False)

    def __post_init__(self) -> None:
        self.region, self.account = self.template.region, self.template.account

    def glue(self, kind: str, name: str = "") -> str:
        base = f"arn:{PARTITION}:glue:{self.region}:{self.account}"
        return {"catalog": f"{base}:catalog", "database": f"{base}:database/{self.names.database}",
                "table": f"{base}:table/{self.names.database}/{name}"}[kind]

    @property
    def workgroup_arn(self) -> str:
        return f"arn:{PARTITION}:athena:{self.region}:{self.account}:workgroup/{self.names.workgroup}"

    @property
    def results_location(self) -> Tuple[str, str]:
        """The workgroup's enforced OutputLocation, read from the template (bucket, key prefix)."""
        wg = self.template.resolve(self.template.resource("WorkGroup")["Properties"])
        url = urlparse(wg["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"])
        return url.netloc, url.path.lstrip("/")

    def table_locations(self) -> Dict[str, Tuple[str, str]]:
        found = {}
        for table in load_tables(self.config):
            url = urlparse(parse_table_ddl(table.sql).location)
            found[table.name] = (url.netloc, url.path.lstrip("/"))
        for fact in load_facts(self.config):  # Iceberg: data and metadata under the LOCATION
            url = urlparse(re.search(r"LOCATION\s+'([^']+)'", fact.sql).group(1))
            found[fact.name] = (url.netloc, url.path.lstrip("/"))
        return found

    @property
    def sync_written_keys(self) -> List[str]:
        """Objects the user sync writes into the report bucket (the name map, and the seat roster where it exists)."""
        return [self.config.user_mapping_key, *([self.names.seat_roster_key]
                                                if hasattr(self.names, "seat_roster_key") else [])]

    def objects_read(self, table: str) -> List[str]:
        """Keys Athena reads under a table's LOCATION: a delivered day file, or the file the sync writes there."""
        _bucket, prefix = self.table_locations()[table]
        if prefix.startswith(self.config.report_root):
            return [prefix + SAMPLE_OBJECT]
        if table in {fact.name for fact in load_facts(self.config)}:
            return [prefix + key for key in FACT_OBJECTS]
        written = [key for key in self.sync_written_keys if key.startswith(prefix)]
        assert written, f"table {table} reads {prefix}, where neither Kiro nor the user sync writes"
        return written


def _s3(bucket: str, key: Optional[str] = None) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def athena_query_needs(stack: Stack, objects: Iterable[str], why: str) -> List[Need]:
    """Athena's documented requirements on the caller for one SELECT over ``objects`` (tables and views)."""
    objects = sorted(set(objects))
    needs = [Need(a, r, f"{why}: Athena catalog per region") for a in ("glue:GetDatabase", "glue:GetDatabases")
             for r in (stack.glue("catalog"), stack.glue("database"))]
    for name in objects:
        for action in ("glue:GetTable", "glue:GetPartitions", "glue:GetPartition", "glue:BatchGetPartition"):
            for arn in (stack.glue("catalog"), stack.glue("database"), stack.glue("table", name)):
                needs.append(Need(action, arn, f"{why}: Athena reads {name}"))
    locations = stack.table_locations()
    for name in objects:
        if name not in locations:
            continue  # a view: its text lives in Glue, its data is its tables'
        bucket, prefix = locations[name]
        needs.append(Need("s3:ListBucket", _s3(bucket), f"{why}: Athena lists {name}", (("s3:prefix", prefix),)))
        needs.append(Need("s3:GetBucketLocation", _s3(bucket), f"{why}: Athena locates {name}'s bucket"))
        needs += [Need("s3:GetObject", _s3(bucket, key), f"{why}: Athena reads {name}") for key in
                  stack.objects_read(name)]
    bucket, prefix = stack.results_location
    result = f"{prefix}00000000-0000-0000-0000-000000000000.csv"
    needs.append(Need("s3:ListBucket", _s3(bucket), f"{why}: query results", (("s3:prefix", prefix),)))
    needs += [Need(a, _s3(bucket), f"{why}: query results")
              for a in ("s3:GetBucketLocation", "s3:ListBucketMultipartUploads")]
    needs += [Need(a, _s3(bucket, result), f"{why}: query results")
              for a in ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")]
    needs.append(Need("lakeformation:GetDataAccess", "*", f"{why}: Lake Formation vends the data credentials"))
    return needs


def tables_in(sql: str) -> List[str]:
    tree = sqlglot.parse_one(sql, read="athena")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return sorted({t.name for t in tree.find_all(exp.Table)} - ctes)


# Every (service, operation) the sync may send → the IAM request(s) it is authorised as. A call missing here fails
# the test, so a new call in identity_sync/athena.py cannot slip past the role unreviewed.
def _sync_call_needs(stack: Stack, service: str, operation: str, params: Dict[str, Any]) -> List[Need]:
    store = f"arn:{PARTITION}:identitystore::{stack.account}:identitystore/{stack.config.identity_store_id}"
    ids = f"arn:{PARTITION}:identitystore:::"
    why = f"{service}.{operation}"
    table = {
        ("athena", "StartQueryExecution"): lambda p: [("athena:StartQueryExecution", [
            f"arn:{PARTITION}:athena:{stack.region}:{stack.account}:workgroup/{p['WorkGroup']}"])],
        ("athena", "GetQueryExecution"): lambda p: [("athena:GetQueryExecution", [stack.workgroup_arn])],
        ("athena", "GetQueryResults"): lambda p: [("athena:GetQueryResults", [stack.workgroup_arn])],
        ("s3", "GetObject"): lambda p: [("s3:GetObject", [_s3(p["Bucket"], p["Key"])])],
        ("s3", "HeadObject"): lambda p: [("s3:GetObject", [_s3(p["Bucket"], p["Key"])])],
        ("s3", "PutObject"): lambda p: [("s3:PutObject", [_s3(p["Bucket"], p["Key"])])],
        ("s3", "ListObjectsV2"): lambda p: [("s3:ListBucket", [_s3(p["Bucket"])])],
        ("identitystore", "ListUsers"): lambda p: [("identitystore:ListUsers", [store, ids + "user/*"])],
        ("identitystore", "DescribeUser"): lambda p: [("identitystore:DescribeUser",
                                                       [store, ids + f"user/{p['UserId']}"])],
        ("identitystore", "ListGroups"): lambda p: [("identitystore:ListGroups", [store, ids + "group/*"])],
        ("identitystore", "ListGroupMemberships"): lambda p: [(
            "identitystore:ListGroupMemberships", [store, ids + f"group/{p['GroupId']}", ids + "membership/*"])],
        ("sns", "Publish"): lambda p: [("sns:Publish", [p["TopicArn"]])],
    }
    mapper = table.get((service, operation))
    assert mapper is not None, f"{why} has no IAM mapping in this test: add it to _sync_call_needs"
    needs = [Need(action, arn, why) for action, arns in mapper(params) for arn in arns]
    if (service, operation) == ("s3", "ListObjectsV2"):
        needs = [Need(n.action, n.resource, why, (("s3:prefix", params.get("Prefix", "")),)) for n in needs]
    if (service, operation) in (("s3", "GetObject"), ("s3", "HeadObject")):
        # A missing key answers 404 (which read_previous treats as "first run") only to a caller with s3:ListBucket;
        # without it S3 answers 403 and the sync would fail instead of writing the first mapping.
        needs.append(Need("s3:ListBucket", _s3(params["Bucket"]), f"{why}: 404 rather than 403 for a missing key",
                          (("s3:prefix", params["Key"]),)))
    return needs


# ---------------------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------------------

def _stack(config) -> Stack:
    names = Names(config)
    parameters = stack_parameters(config, names, names.lambda_code_key("ab" * 32))
    return Stack(Template(parameters, config.region, config.account_id), names, config, parameters)


@pytest.fixture
def stack(config) -> Stack:
    return _stack(config)


@pytest.fixture(params=["seats off", "seats on"])
def sync_stack(request, tmp_path) -> Stack:
    """The sync with and without seat groups: with them it also reads and writes the seat roster."""
    from conftest import write_config
    from kiro_analytics.config import load_config

    overrides = {"seats": {"groups": ["team"]}} if request.param == "seats on" else {}
    config = load_config(str(write_config(tmp_path / "config.yaml", overrides)))
    assert not overrides or config.seat_groups == ("team",), "seats.groups did not reach the config"
    return _stack(config)


class Recorder:
    """Every operation each client sends, with its API parameters, in order."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, str, Dict[str, Any]]] = []

    def attach(self, client: Any) -> Any:
        service = client.meta.service_model.service_name
        client.meta.events.register(
            f"before-parameter-build.{service}",
            lambda params, model, **_: self.calls.append((service, model.name, dict(params))))
        return client


def _run_sync_lambda(stack: Stack, monkeypatch) -> Recorder:
    config, names = stack.config, stack.names
    s3 = boto3.client("s3", region_name=config.region)
    s3.create_bucket(Bucket=config.bucket_name)
    results_bucket, results_prefix = stack.results_location
    s3.create_bucket(Bucket=results_bucket)
    boto3.client("athena", region_name=config.region).create_work_group(
        Name=names.workgroup,
        Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{results_bucket}/{results_prefix}"}})
    store = boto3.client("identitystore", region_name=config.identity_region)
    users = [store.create_user(IdentityStoreId=config.identity_store_id, UserName=f"u{i}", DisplayName=f"User {i}",
                               Name={"GivenName": "G", "FamilyName": "F"})["UserId"] for i in range(3)]
    group = store.create_group(IdentityStoreId=config.identity_store_id, DisplayName="team")["GroupId"]
    store.create_group_membership(IdentityStoreId=config.identity_store_id, GroupId=group,
                                  MemberId={"UserId": users[0]})
    leaver = "0123456789-abcdef01-2345-6789-abcd-ef0123456789"  # in the reports, not in the directory: DescribeUser

    # The function's environment exactly as the template sets it.
    function = stack.template.resolve(stack.template.resource("SyncFunction")["Properties"])
    for key, value in function["Environment"]["Variables"].items():
        monkeypatch.setenv(key, str(value))
    recorder = Recorder()
    original = lambda_handler.make_clients
    monkeypatch.setattr(lambda_handler, "make_clients",
                        lambda settings, role="": {k: recorder.attach(c) for k, c in original(settings, role).items()})
    context = type("Context", (), {"invoked_function_arn":
                                   f"arn:aws:lambda:{config.region}:{config.account_id}:function:{names.sync_function}"})()
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
    try:
        with athena_catalog() as athena:
            athena.answer(lambda sql: [{"user_id": u} for u in [*users, leaver]] if "user_report_raw" in sql else None)
            answer = lambda_handler.handler({}, context)
    finally:
        state_manager.unset_transition(model_name="athena::execution")
    assert answer["users"] == 4 and answer["from_directory"] == 3 and answer["id_only"] == 1 and answer["changed"]
    if getattr(config, "seat_groups", ()):
        assert answer["roster_members"] == 1 and answer["roster_changed"]
    written = sorted(params["Key"] for service, operation, params in recorder.calls if operation == "PutObject")
    assert written == sorted(stack.sync_written_keys if getattr(config, "seat_groups", ()) else
                             [config.user_mapping_key])
    return recorder


# ---------------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------------

def test_evaluator_refuses_what_it_should(stack):
    """The evaluator is the test's own code: show it says no where IAM says no."""
    statements = stack.template.statements("SyncRole")
    bucket = stack.config.bucket_name
    assert unmet(statements, [Need("s3:GetObject", _s3(bucket, stack.config.user_mapping_key), "t")]) == []
    assert unmet(statements, [Need("s3:PutObject", _s3(bucket, "AWSLogs/x.csv"), "t")])  # reports are read-only
    assert unmet(statements, [Need("s3:ListBucket", _s3(bucket), "t", (("s3:prefix", "other/"),))])
    assert unmet(statements, [Need("s3:ListBucket", _s3(bucket), "t")])  # no prefix in the request: condition fails
    assert unmet(statements, [Need("athena:StartQueryExecution",
                                   stack.workgroup_arn.replace(stack.names.workgroup, "primary"), "t")])
    assert unmet(statements, [Need("identitystore:ListUsers",
                                   "arn:aws:identitystore::999999999999:identitystore/d-0000000000", "t")])
    assert unmet(statements, [Need("glue:DeleteTable", stack.glue("table", "user_report_raw"), "t")])


def test_sync_role_allows_every_call_the_lambda_makes(sync_stack, monkeypatch):
    stack = sync_stack
    with mock_aws():
        recorder = _run_sync_lambda(stack, monkeypatch)
    operations = {(service, operation) for service, operation, _ in recorder.calls}
    # The run exercised every kind of call the sync makes: one query, the directory reads, the read and the write.
    assert operations == {("s3", "GetObject"), ("s3", "PutObject"), ("athena", "StartQueryExecution"),
                          ("athena", "GetQueryExecution"), ("athena", "GetQueryResults"),
                          ("identitystore", "ListUsers"), ("identitystore", "ListGroups"),
                          ("identitystore", "ListGroupMemberships"), ("identitystore", "DescribeUser")}
    needs: List[Need] = []
    for service, operation, params in recorder.calls:
        needs += _sync_call_needs(stack, service, operation, params)
        if (service, operation) == ("athena", "StartQueryExecution"):
            assert params["WorkGroup"] == stack.names.workgroup
            assert params["QueryExecutionContext"] == {"Database": stack.names.database}
            read = tables_in(params["QueryString"])
            assert read == ["kiro_by_user_analytic_raw", "qdev_by_user_analytic_raw", "user_report_raw"]
            needs += athena_query_needs(stack, read, "the sync's user-id query")
    # What the Lambda runtime itself writes: its log streams, in the log group the template creates.
    log_group = stack.template.ref("SyncLogGroup")
    stream = (f"arn:{PARTITION}:logs:{stack.region}:{stack.account}:log-group:{log_group}:log-stream:"
              "2025/06/01/[$LATEST]0123456789abcdef")
    needs += [Need(a, stream, "Lambda runtime logging") for a in ("logs:CreateLogStream", "logs:PutLogEvents")]
    assert_allowed(stack.template, "SyncRole", needs)


def _reached_objects(stack: Stack, names: Iterable[str]) -> List[str]:
    """The given tables and views and everything those views read, transitively."""
    views = {view.name: view.path.read_text(encoding="utf-8") for view in load_views(stack.config)}
    known = set(views) | {table.name for table in load_tables(stack.config)}
    known |= {fact.name for fact in load_facts(stack.config)}
    pending, reached = list(names), set()
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        assert name in known, f"{name} is read but sql/ does not define it"
        reached.add(name)
        if name in views:
            pending += sorted(view_dependencies(views[name], name, known))
    return sorted(reached)


@pytest.fixture(params=["seats off", "seats on"])
def digest_stack(request, tmp_path) -> Stack:
    """A stack with the digest on (it needs the alarm e-mail for its topic), with and without a seat roster."""
    from conftest import write_config
    from kiro_analytics.config import load_config

    overrides: Dict[str, Dict[str, object]] = {"lambda": {"alarm_email": "admins@example.com"}}
    if request.param == "seats on":
        overrides["seats"] = {"groups": ["team"]}
    return _stack(load_config(str(write_config(tmp_path / "config.yaml", overrides))))


def test_sync_role_allows_every_call_the_digest_makes(digest_stack, monkeypatch):
    stack = digest_stack
    assert stack.template.condition("HasDigest") and stack.template.exists("DigestPublishPolicy")
    config = stack.config
    function = stack.template.resolve(stack.template.resource("SyncFunction")["Properties"])
    topic_arn = function["Environment"]["Variables"]["TOPIC_ARN"]
    assert topic_arn == stack.template.ref("AlarmTopic")
    rule = stack.template.resolve(stack.template.resource("DigestSchedule")["Properties"])
    assert rule["Targets"][0]["Input"] == '{"action": "digest"}'
    with mock_aws():
        results_bucket, results_prefix = stack.results_location
        boto3.client("s3", region_name=config.region).create_bucket(Bucket=results_bucket)
        boto3.client("athena", region_name=config.region).create_work_group(
            Name=stack.names.workgroup,
            Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{results_bucket}/{results_prefix}"}})
        boto3.client("sns", region_name=config.region).create_topic(Name=stack.names.alarm_topic)
        for key, value in function["Environment"]["Variables"].items():
            monkeypatch.setenv(key, str(value))
        recorder = Recorder()
        original = lambda_handler.make_digest_clients
        monkeypatch.setattr(lambda_handler, "make_digest_clients",
                            lambda: {k: recorder.attach(c) for k, c in original().items()})
        answers = {"digest_activity": {"first_day": "2025-05-01", "last_day": "2025-06-01",
                                       "active_users_this_week": "3", "active_users_last_week": "2",
                                       "consumption_this_week": "10.5", "consumption_last_week": "7",
                                       "overage_cost_this_week": "0.4"},
                   "digest_forecast": {"month": "2025-06-01", "users_projected_over": "1", "users_still_under": "1",
                                       "projected_overage_cost": "4.2", "overage_cost_to_date": "2.1"},
                   "digest_seats": {"seats": "2", "idle_seats": "1", "never_activated": "0",
                                    "idle_monthly_cost": "20"},
                   "digest_freshness": {"newest_report_day": "2025-06-01"}}
        by_text = {load_query(name): row for name, row in answers.items()}
        state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
        try:
            with athena_catalog() as athena:
                athena.answer(lambda sql: [by_text[sql]] if sql in by_text else None)
                answer = lambda_handler.handler({"action": "digest"}, None)
        finally:
            state_manager.unset_transition(model_name="athena::execution")
    assert answer["action"] == "digest" and answer["message_id"]
    operations = {(service, operation) for service, operation, _ in recorder.calls}
    assert operations == {("athena", "StartQueryExecution"), ("athena", "GetQueryExecution"),
                          ("athena", "GetQueryResults"), ("sns", "Publish")}
    needs: List[Need] = []
    for service, operation, params in recorder.calls:
        needs += _sync_call_needs(stack, service, operation, params)
        if (service, operation) == ("athena", "StartQueryExecution"):
            assert params["WorkGroup"] == stack.names.workgroup
            assert params["QueryExecutionContext"] == {"Database": stack.names.database}
            objects = _reached_objects(stack, tables_in(params["QueryString"]))
            needs += athena_query_needs(stack, objects, "a digest query")
    assert_allowed(stack.template, "SyncRole", needs)
    # Publish on the digest's topic only.
    other = topic_arn.rsplit(":", 1)[0] + ":someone-elses-topic"
    assert unmet(stack.template.statements("SyncRole"), [Need("sns:Publish", other, "t")])


def test_digest_off_grants_no_publish(stack):
    """The default test config has no alarm e-mail: no topic, no digest rule, no sns:Publish, an empty TOPIC_ARN."""
    assert not stack.template.condition("HasAlarmEmail") and not stack.template.condition("HasDigest")
    assert not stack.template.exists("DigestSchedule") and not stack.template.exists("DigestPublishPolicy")
    assert not any("sns:Publish" in str(statement["Action"]) for statement in stack.template.statements("SyncRole"))
    function = stack.template.resolve(stack.template.resource("SyncFunction")["Properties"])
    assert function["Environment"]["Variables"]["TOPIC_ARN"] == ""


def _dashboard_objects(stack: Stack) -> List[str]:
    """Every table and view the QuickSight datasets can reach: their RelationalTables and what those read."""
    import json

    read = [physical["RelationalTable"]["Name"]
            for path in sorted((SQL_DIR.parent / "quicksight" / "datasets").glob("*.json"))
            for physical in json.loads(path.read_text(encoding="utf-8"))["PhysicalTableMap"].values()
            if "RelationalTable" in physical]
    assert read, "no QuickSight dataset reads an Athena table or view"
    return _reached_objects(stack, read)


def test_quicksight_role_allows_what_the_athena_connector_needs(stack):
    objects = _dashboard_objects(stack)
    # The dashboard reaches the fact table and the name map through its views, and never the raw report tables
    # (issue 12: no dataset re-parses raw lines; only the facts' load reads them).
    assert {"report_line_facts", "user_mapping"} <= set(objects)
    assert not {"user_report_raw", "kiro_by_user_analytic_raw", "qdev_by_user_analytic_raw"} & set(objects)
    catalog = f"arn:{PARTITION}:athena:{stack.region}:{stack.account}:datacatalog/AwsDataCatalog"
    why = "QuickSight Athena connector (AWSQuicksightAthenaAccess)"
    needs = [Need(a, stack.workgroup_arn, why) for a in (
        "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
        "athena:GetQueryResultsStream", "athena:StopQueryExecution", "athena:GetWorkGroup",
        "athena:BatchGetQueryExecution")]
    needs += [Need(a, catalog, why) for a in ("athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                                              "athena:ListTableMetadata", "athena:GetTableMetadata")]
    needs.append(Need("athena:ListWorkGroups", "*", why))
    needs += athena_query_needs(stack, objects, "QuickSight datasets")
    assert_allowed(stack.template, "QuickSightRole", needs)


def test_crawler_role_allows_what_a_discovery_crawler_needs(stack):
    template = stack.template
    needs: List[Need] = []
    crawlers = [logical for logical, res in template.doc["Resources"].items() if res["Type"] == "AWS::Glue::Crawler"]
    assert len(crawlers) == 2
    log_group = f"arn:{PARTITION}:logs:{stack.region}:{stack.account}:log-group:/aws-glue/crawlers"
    for logical in crawlers:
        props = template.resolve(template.resource(logical)["Properties"])
        assert template.resolve(props["Role"]) == template.get_att("CrawlerRole", "Arn")
        assert props["DatabaseName"] == stack.names.database
        why = f"crawler {props['Name']}"
        needs += [Need("glue:GetDatabase", arn, why) for arn in (stack.glue("catalog"), stack.glue("database"))]
        for target in props["Targets"]["S3Targets"]:
            url = urlparse(target["Path"])
            bucket, prefix = url.netloc, url.path.lstrip("/")
            assert prefix.startswith(stack.config.report_root) and prefix.endswith("/")
            table = props["TablePrefix"] + prefix.rstrip("/").rsplit("/", 1)[-1]
            assert table.startswith("discovered_")
            # An S3-target crawl reads the catalog, then creates or updates its table and the table's partitions.
            for action in ("glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
                           "glue:GetPartitions", "glue:BatchGetPartition", "glue:BatchCreatePartition",
                           "glue:UpdatePartition", "glue:BatchUpdatePartition"):
                needs += [Need(action, arn, f"{why} writes {table}") for arn in
                          (stack.glue("catalog"), stack.glue("database"), stack.glue("table", table))]
            needs.append(Need("s3:ListBucket", _s3(bucket), f"{why} lists {prefix}", (("s3:prefix", prefix),)))
            needs.append(Need("s3:GetBucketLocation", _s3(bucket), f"{why} locates the bucket"))
            needs.append(Need("s3:GetObject", _s3(bucket, prefix + SAMPLE_OBJECT), f"{why} reads a report"))
        needs.append(Need("logs:CreateLogGroup", log_group, why))
        needs += [Need(a, f"{log_group}:log-stream:{props['Name']}", why)
                  for a in ("logs:CreateLogStream", "logs:PutLogEvents")]
        needs.append(Need("lakeformation:GetDataAccess", "*", why))
    assert_allowed(template, "CrawlerRole", needs)
    statements = template.statements("CrawlerRole")
    # ...and nothing a crawler could use to rewrite what the views read, or read beyond the report folders.
    for raw in ("user_report_raw", "kiro_by_user_analytic_raw", "qdev_by_user_analytic_raw", "user_mapping"):
        assert unmet(statements, [Need("glue:UpdateTable", stack.glue("table", raw), "t")])
    root = stack.config.report_root
    assert unmet(statements, [Need("s3:GetObject", _s3(stack.config.bucket_name,
                                                       root + "KiroLogs/GenerateAssistantResponse/x.json.gz"), "t")])
    assert unmet(statements, [Need("s3:ListBucket", _s3(stack.config.bucket_name), "t", (("s3:prefix", root),))])


ROLES = ("CrawlerRole", "SyncRole", "QuickSightRole")


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reads_s3_on_star_and_report_listings_keep_their_prefix_condition(stack, role):
    """Where a bucket or prefix is known, no S3 permission names '*'; every ListBucket on the report bucket carries
    an s3:prefix condition (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html); and in
    behaviour: a whole-bucket listing, a listing without a prefix, a read outside the known keys and a read in
    another bucket are all refused. A widened resource or a dropped condition fails here."""
    statements = stack.template.statements(role)
    bucket = stack.config.bucket_name
    report_bucket = _s3(bucket)
    for statement in statements:
        actions, resources = _listed(statement["Action"]), _listed(statement["Resource"])
        if not any(action.startswith("s3:") for action in actions):
            continue
        assert all("*" not in resource.split(":::", 1)[-1].split("/", 1)[0] for resource in resources), statement
        if "s3:ListBucket" in actions and report_bucket in resources:
            assert statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix"), statement
    assert unmet(statements, [Need("s3:ListBucket", report_bucket, "t", (("s3:prefix", ""),))])
    assert unmet(statements, [Need("s3:ListBucket", report_bucket, "t")])
    assert unmet(statements, [Need("s3:ListBucket", report_bucket, "t", (("s3:prefix", "AWSLogs/"),))])
    assert unmet(statements, [Need("s3:GetObject", _s3(bucket, "finance/payroll.csv"), "t")])
    assert unmet(statements, [Need("s3:GetObject", _s3("someone-elses-bucket", "x.csv"), "t")])
    assert unmet(statements, [Need("s3:PutObject", _s3(bucket, stack.config.report_root + SAMPLE_OBJECT), "t")])


def test_identity_store_resource_names_the_store_owner_account(tmp_path):
    """The store usually belongs to the organisation's management account, so the ARN's account is the configured
    owner (or any, '*'), never this stack's account by assumption (ARN format: the service authorization reference,
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentitystore.html)."""
    from conftest import write_config
    from kiro_analytics.config import load_config

    default = _stack(load_config(str(write_config(tmp_path / "a.yaml"))))
    management = "arn:aws:identitystore::111122223333:identitystore/d-1234567890"
    assert unmet(default.template.statements("SyncRole"), [Need("identitystore:ListUsers", management, "t")]) == []
    owner = _stack(load_config(str(write_config(tmp_path / "b.yaml", {"identity_center": {
        "account_id": "111122223333", "role_arn": "arn:aws:iam::111122223333:role/directory-reader"}}))))
    statements = owner.template.statements("SyncRole")
    assert unmet(statements, [Need("identitystore:ListUsers", management, "t")]) == []
    assert unmet(statements, [Need("identitystore:ListUsers",
                                   f"arn:aws:identitystore::{owner.account}:identitystore/d-1234567890", "t")])
    # The optional directory-reader role: assumable by the sync, that role and no other.
    assert unmet(statements, [Need("sts:AssumeRole", "arn:aws:iam::111122223333:role/directory-reader", "t")]) == []
    assert unmet(statements, [Need("sts:AssumeRole", "arn:aws:iam::111122223333:role/admin", "t")])
    assert owner.template.exists("AssumeIdentityRolePolicy")
    assert not default.template.exists("AssumeIdentityRolePolicy")


def test_a_kms_report_bucket_gets_decrypt_on_its_key_only(tmp_path):
    from conftest import write_config
    from kiro_analytics.config import load_config

    key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-1111-2222-333344445555"
    stack = _stack(load_config(str(write_config(tmp_path / "k.yaml", {"s3": {"kms_key_arn": key}}))))
    function = stack.template.resolve(stack.template.resource("SyncFunction")["Properties"])
    assert function["Environment"]["Variables"]["MAPPING_KMS_KEY"] == key
    for role in ROLES:
        statements = stack.template.statements(role)
        assert unmet(statements, [Need("kms:Decrypt", key, f"{role} reads the encrypted reports")]) == []
        assert unmet(statements, [Need("kms:Decrypt", key.replace("0a1b", "9f9f"), "t")])
    assert unmet(stack.template.statements("SyncRole"), [Need("kms:GenerateDataKey", key, "the map's write")]) == []
    assert unmet(stack.template.statements("QuickSightRole"), [Need("kms:GenerateDataKey", key, "t")])
    plain = _stack(load_config(str(write_config(tmp_path / "p.yaml"))))
    assert not any("kms:" in str(statement["Action"])
                   for role in ROLES for statement in plain.template.statements(role))


def test_lake_formation_registration_roles_get_decrypt_on_the_key_only(tmp_path):
    """Under Lake Formation the registration role reads the reports for everyone
    (https://docs.aws.amazon.com/lake-formation/latest/dg/register-encrypted.html): step 1 names the user-defined ones
    (registration_key.stack_role_names) and the stack gives them kms:Decrypt on s3.kms_key_arn, nothing else."""
    from conftest import write_config
    from kiro_analytics.config import load_config

    key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-1111-2222-333344445555"
    config = load_config(str(write_config(tmp_path / "k.yaml", {"s3": {"kms_key_arn": key}})))
    names = Names(config)
    parameters = stack_parameters(config, names, names.lambda_code_key("ab" * 32), "lf-reader,lake-admin-role")
    template = Template(parameters, config.region, config.account_id)
    assert template.exists("LakeFormationKeyReadPolicy")
    policy = template.resolve(template.resource("LakeFormationKeyReadPolicy")["Properties"])
    assert policy["Roles"] == ["lf-reader", "lake-admin-role"]
    statements = policy["PolicyDocument"]["Statement"]
    assert unmet(statements, [Need("kms:Decrypt", key, "the registration role reads the encrypted reports")]) == []
    assert unmet(statements, [Need("kms:Decrypt", key.replace("0a1b", "9f9f"), "another key")])
    assert unmet(statements, [Need("kms:GenerateDataKey", key, "it writes nothing")])
    assert unmet(statements, [Need("s3:GetObject", f"arn:aws:s3:::{config.bucket_name}/x", "its own S3 access")])
    # No role named (none registered, or only the service-linked one), or no key: no policy at all.
    for without in (stack_parameters(config, names, "", ""),
                    stack_parameters(load_config(str(write_config(tmp_path / "p.yaml"))), names, "", "lf-reader")):
        assert not Template(without, config.region, config.account_id).exists("LakeFormationKeyReadPolicy")


def test_sync_role_allows_every_call_the_facts_refresh_makes(stack, monkeypatch):
    """The daily {"action": "facts"} run: lists the report folders, asks which files the facts hold, and loads the
    changed days (DELETE and INSERT INTO on the Iceberg table). Besides what any Athena query needs, an Iceberg
    write commits the table's new metadata in Glue (glue:UpdateTable) and writes and removes files under its
    location (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg.html; Glue fine-grained access:
    catalog, database and table ARNs)."""
    from datetime import date as _date

    from kiro_analytics.plan import Recorder as PlanRecorder
    from kiro_analytics.tables import ensure_tables
    from kiro_analytics.views import apply_views, ensure_facts

    config, names = stack.config, stack.names
    function = stack.template.resolve(stack.template.resource("SyncFunction")["Properties"])
    rule = stack.template.resolve(stack.template.resource("SyncSchedule")["Properties"])
    target = rule["Targets"][1]  # the daily schedule's second target: the same function, told to refresh the facts
    assert target["Id"] == "facts-refresh" and target["Input"] == '{"action": "facts"}'
    assert target["Arn"] == rule["Targets"][0]["Arn"]
    with mock_aws():
        s3 = boto3.client("s3", region_name=config.region)
        s3.create_bucket(Bucket=config.bucket_name)
        results_bucket, results_prefix = stack.results_location
        s3.create_bucket(Bucket=results_bucket)
        root = stack.table_locations()["user_report_raw"][1]
        s3.put_object(Bucket=config.bucket_name, Key=root + SAMPLE_OBJECT, Body=b"Date,UserId\n")
        glue = boto3.client("glue", region_name=config.region)
        glue.create_database(DatabaseInput={"Name": names.database})
        athena = boto3.client("athena", region_name=config.region)
        athena.create_work_group(Name=names.workgroup, Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{results_bucket}/{results_prefix}"}})
        for key, value in function["Environment"]["Variables"].items():
            monkeypatch.setenv(key, str(value))
        recorder = Recorder()
        original = lambda_handler.make_facts_clients
        monkeypatch.setattr(lambda_handler, "make_facts_clients",
                            lambda: {k: recorder.attach(c) for k, c in original().items()})
        state_manager.set_transition(model_name="athena::execution", transition={"progression": "immediate"})
        try:
            with athena_catalog() as standin:
                ensure_tables(glue, athena, PlanRecorder().call, load_tables(config), names.database, names.workgroup)
                apply_views(glue, athena, PlanRecorder(), [v for v in load_views(config) if v.name == "report_lines"],
                            names.database, names.workgroup)
                ensure_facts(glue, athena, PlanRecorder().call, load_facts(config), names.database, names.workgroup)
                # The aggregates' loads read views over the line facts (step 5 creates them).
                apply_views(glue, athena, PlanRecorder(), [v for v in load_views(config) if v.name != "report_lines"],
                            names.database, names.workgroup)
                standin.answer(lambda sql: [] if "FROM report_line_facts" in sql else None)
                answer = lambda_handler.run_facts(dict(os.environ), None, today=_date(2025, 6, 2))
        finally:
            state_manager.unset_transition(model_name="athena::execution")
    assert answer["days_loaded"] == ["2025-06-01"] and answer["optimized"] == 1 and answer["vacuumed"] is True
    operations = {(service, operation) for service, operation, _ in recorder.calls}
    # S3: the listing, and the loader's note of files without lines (read, then written: the answer above says the
    # facts hold no file, so the day's file is noted).
    assert operations == {("s3", "ListObjectsV2"), ("s3", "GetObject"), ("s3", "PutObject"),
                          ("athena", "StartQueryExecution"), ("athena", "GetQueryExecution"),
                          ("athena", "GetQueryResults")}
    needs: List[Need] = []
    fact_table = "report_line_facts"
    fact_tables = [fact.name for fact in load_facts(config)]
    kinds = []
    for service, operation, params in recorder.calls:
        needs += _sync_call_needs(stack, service, operation, params)
        if (service, operation) == ("athena", "StartQueryExecution"):
            sql = "\n".join(line for line in params["QueryString"].splitlines() if not line.startswith("--"))
            kind = sql.split()[0]
            kinds.append(kind)
            # The table a write or maintenance statement works on (the line facts or an aggregate).
            written = re.match(rf"(?:INSERT INTO|DELETE FROM|OPTIMIZE|VACUUM) {names.database}\.(\w+)", sql)
            target = written.group(1) if written else fact_table
            assert target in fact_tables, target
            fact_bucket, fact_prefix = stack.table_locations()[target]
            # sqlglot reads neither OPTIMIZE nor VACUUM; both work on their fact table alone.
            maintenance = kind in ("OPTIMIZE", "VACUUM")
            objects = [target] if maintenance else _reached_objects(stack, tables_in(sql))
            needs += athena_query_needs(stack, objects, f"a facts refresh {kind}")
            if kind in ("INSERT", "DELETE", "OPTIMIZE", "VACUUM"):
                # Every one of them commits a new snapshot: metadata in Glue, files under the table's location.
                why = f"Iceberg commit ({kind})"
                needs += [Need("glue:UpdateTable", arn, why) for arn in (
                    stack.glue("catalog"), stack.glue("database"), stack.glue("table", target))]
                needs += [Need(action, _s3(fact_bucket, fact_prefix + key), why)
                          for key in FACT_OBJECTS for action in ("s3:PutObject", "s3:DeleteObject")]
            if kind == "VACUUM":
                # Orphan removal lists the table's folder; without s3:DeleteObject VACUUM succeeds and deletes nothing
                # (https://docs.aws.amazon.com/athena/latest/ug/vacuum-statement.html).
                needs.append(Need("s3:ListBucket", _s3(fact_bucket), "VACUUM lists the table's files",
                                  (("s3:prefix", fact_prefix),)))
    # The day's delete and load of both line facts, each aggregate's delete, load and optimize for its month, the
    # day's two optimizes, the second look, one VACUUM per table.
    assert kinds == ["SELECT", *["DELETE", "INSERT"] * 2, *["DELETE", "INSERT", "OPTIMIZE"] * 3, "OPTIMIZE", "OPTIMIZE",
                     "SELECT", *["VACUUM"] * 5]
    assert any(n.action == "glue:UpdateTable" for n in needs)
    assert_allowed(stack.template, "SyncRole", needs)
    # Least privilege: the commit is allowed on the fact table only (not another table, not a name that merely
    # starts like it), and file removal under facts/ only: not the query results, the function's code, a folder
    # whose name starts with "facts", or the report bucket.
    statements = stack.template.statements("SyncRole")
    fact_bucket, fact_prefix = stack.table_locations()[fact_table]
    for table in ("user_report_raw", "report_lines", "report_line_facts_old", "discovered_user_report",
                  "user_month_usage"):
        assert unmet(statements, [Need("glue:UpdateTable", stack.glue("table", table), "t")]), table
    for bucket, key in ((results_bucket, "lambda/x.zip"), (results_bucket, "athena/q.csv"),
                        (results_bucket, "factsx/report_line_facts/data/a.parquet"),
                        (config.bucket_name, "facts/report_line_facts/data/a.parquet"),
                        (config.bucket_name, root + SAMPLE_OBJECT)):
        assert unmet(statements, [Need("s3:DeleteObject", _s3(bucket, key), "t")]), key
    # Writes go to the query results and the facts' folder only: not over the function's code.
    for key in ("lambda/x.zip", "factsx/a.parquet", "other/a.csv"):
        assert unmet(statements, [Need("s3:PutObject", _s3(results_bucket, key), "t")]), key
    for action in ("glue:DeleteTable", "glue:CreateTable", "glue:DeleteDatabase"):
        assert unmet(statements, [Need(action, stack.glue("table", fact_table), "t")]), action
