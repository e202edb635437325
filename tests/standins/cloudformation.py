"""CloudFormation models for the resource types moto's CloudFormation skips, backed by moto's own backends.

Glue databases and crawlers, Athena workgroups, CloudWatch alarms and S3 bucket policies: without these, moto logs
"No Moto CloudFormation support" and reports CREATE_COMPLETE without creating anything.

Properties are mapped to the matching Create* API request and validated with kiro_analytics.request_validation
(members, types, enums, lengths, patterns), plus the rules the service checks that the model does not spell out.
An invalid template therefore fails CreateStack in the test instead of being accepted silently.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any, Dict, List

from kiro_analytics.request_validation import operation_model, request_problems
from moto.athena.models import athena_backends
from moto.cloudformation import parsing
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.glue.models import glue_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from .bucket_policy import bucket_policy_problems, get_permission_over_tls

ALARM_PROPERTIES = {"ActionsEnabled", "AlarmActions", "AlarmDescription", "AlarmName", "ComparisonOperator",
                    "DatapointsToAlarm", "Dimensions", "EvaluateLowSampleCountPercentile", "EvaluationPeriods",
                    "ExtendedStatistic", "InsufficientDataActions", "MetricName", "Metrics", "Namespace", "OKActions",
                    "Period", "Statistic", "Tags", "Threshold", "ThresholdMetricId", "TreatMissingData", "Unit"}
ALARM_ACTION_ARN = re.compile(r"^arn:aws[a-z-]*:(sns|lambda|autoscaling|ec2|ssm|ssm-incidents|swf|automate):\S+$")
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
BAND_OPERATORS = {"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}
CRAWLER_CONFIGURATION_KEYS = {"Version", "CrawlerOutput", "Grouping", "CreatePartitionIndex",
                              "LakeFormationConfiguration"}
GLUE_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")


class InvalidTemplateResource(ValueError):
    pass


def coerce(shape: Any, value: Any) -> Any:
    """CloudFormation passes parameters as strings and converts them to the property type; do the same."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: coerce(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [coerce(shape.member, item) for item in value]
    if shape.type_name in ("integer", "long") and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if shape.type_name in ("double", "float") and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value  # left as a string, so validation reports the wrong type
    if shape.type_name == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    return value


def checked(service: str, operation: str, params: Dict[str, Any], extra: List[str]) -> Dict[str, Any]:
    params = coerce(operation_model(service, operation).input_shape, params)
    problems = request_problems(service, operation, params) + extra
    if problems:
        raise InvalidTemplateResource(f"{service} {operation} from the template is invalid: {problems}")
    return params


class _Named:
    """What the stand-in types share: a physical id that is the resource name, no Fn::GetAtt attributes.

    A mixin, not a base class: moto finds models through CloudFormationModel.__subclasses__(), direct ones only.
    """

    CFN_TYPE = ""
    NAME_PROPERTY = "Name"

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def cloudformation_name_type(cls) -> str:  # type: ignore[override]
        return cls.NAME_PROPERTY

    @classmethod
    def cloudformation_type(cls) -> str:  # type: ignore[override]
        return cls.CFN_TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        """Put-style semantics: the new properties are validated and replace the old resource, renamed or not."""
        cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)


class GlueDatabaseModel(_Named, CloudFormationModel):
    CFN_TYPE = "AWS::Glue::Database"
    NAME_PROPERTY = ""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        params = checked("glue", "CreateDatabase", {"CatalogId": props.get("CatalogId"),
                                                    "DatabaseInput": props.get("DatabaseInput")}, [])
        name = params["DatabaseInput"]["Name"]
        glue_backends[account_id][region_name].create_database(name, params["DatabaseInput"])
        return cls(name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        # Not a replacement: deleting the database would drop its tables. Validate the new input, keep the rest.
        props = cloudformation_json["Properties"]
        params = checked("glue", "UpdateDatabase", {"CatalogId": props.get("CatalogId"),
                                                    "Name": original_resource.name,
                                                    "DatabaseInput": props.get("DatabaseInput")}, [])
        if params["DatabaseInput"]["Name"] != original_resource.name:
            raise InvalidTemplateResource("renaming the Glue database would need a replacement, which drops its "
                                          "tables; the stand-in refuses it")
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        glue_backends[account_id][region_name].delete_database(resource_name)


class GlueCrawlerModel(_Named, CloudFormationModel):
    CFN_TYPE = "AWS::Glue::Crawler"

    @staticmethod
    def request(props: Dict[str, Any]) -> Dict[str, Any]:
        params = {key: props[key] for key in ("Name", "Role", "DatabaseName", "Description", "Targets", "Classifiers",
                                              "TablePrefix", "SchemaChangePolicy", "RecrawlPolicy", "Configuration",
                                              "CrawlerSecurityConfiguration", "Tags") if key in props}
        if "Schedule" in props:
            params["Schedule"] = props["Schedule"]["ScheduleExpression"]
        extra: List[str] = []
        if "Schedule" in params and not GLUE_CRON.match(params["Schedule"]):
            extra.append(f"Schedule {params['Schedule']!r}: Glue wants cron() with 6 fields")
        if "Configuration" in params:
            unknown = set(json.loads(params["Configuration"])) - CRAWLER_CONFIGURATION_KEYS
            if unknown:
                extra.append(f"Configuration has keys Glue rejects: {sorted(unknown)}")
        if params.get("Targets", {}).get("CatalogTargets"):
            # The console and API refuse catalog-target crawlers that would delete from the catalog.
            if params.get("SchemaChangePolicy", {}).get("DeleteBehavior") != "LOG":
                extra.append("CatalogTargets need SchemaChangePolicy.DeleteBehavior LOG")
            for target in params["Targets"]["CatalogTargets"]:
                if not target.get("Tables"):
                    extra.append(f"CatalogTarget {target} lists no tables")
        for target in params.get("Targets", {}).get("S3Targets", []):
            # An S3 target crawler writes tables: into its DatabaseName, at an s3:// folder.
            if not str(target.get("Path", "")).startswith("s3://"):
                extra.append(f"S3Target path {target.get('Path')!r} is not an s3:// URL")
            if not params.get("DatabaseName"):
                extra.append("an S3-target crawler needs DatabaseName for the tables it creates")
        if params.get("RecrawlPolicy", {}).get("RecrawlBehavior") == "CRAWL_NEW_FOLDERS_ONLY" and params.get(
                "SchemaChangePolicy") != {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}:
            extra.append("CRAWL_NEW_FOLDERS_ONLY needs SchemaChangePolicy LOG/LOG")
        return checked("glue", "CreateCrawler", params, extra)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        params = cls.request(cloudformation_json["Properties"])
        glue_backends[account_id][region_name].create_crawler(
            name=params["Name"], role=params["Role"], database_name=params.get("DatabaseName", ""),
            description=params.get("Description", ""), targets=params["Targets"], schedule=params.get("Schedule", ""),
            classifiers=params.get("Classifiers", []), table_prefix=params.get("TablePrefix", ""),
            schema_change_policy=params.get("SchemaChangePolicy", {}), recrawl_policy=params.get("RecrawlPolicy", {}),
            lineage_configuration={}, configuration=params.get("Configuration", ""),
            crawler_security_configuration="", tags=params.get("Tags", {}))
        return cls(params["Name"])

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        glue_backends[account_id][region_name].delete_crawler(resource_name)


class AthenaWorkGroupModel(_Named, CloudFormationModel):
    CFN_TYPE = "AWS::Athena::WorkGroup"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        extra = [f"{key} is not a WorkGroup property" for key in props
                 if key not in ("Name", "Description", "State", "WorkGroupConfiguration", "RecursiveDeleteOption",
                                "Tags")]
        if props.get("State", "ENABLED") not in ("ENABLED", "DISABLED"):
            extra.append(f"State {props['State']!r}")
        params = checked("athena", "CreateWorkGroup",
                         {"Name": props["Name"], "Description": props.get("Description", ""),
                          "Configuration": props.get("WorkGroupConfiguration", {}), "Tags": props.get("Tags", [])},
                         extra)
        athena_backends[account_id][region_name].create_work_group(
            params["Name"], params["Configuration"], params["Description"], params["Tags"])
        return cls(params["Name"])

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        athena_backends[account_id][region_name].work_groups.pop(resource_name, None)


class CloudWatchAlarmModel(_Named, CloudFormationModel):
    CFN_TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"

    @staticmethod
    def request(name: str, props: Dict[str, Any]) -> Dict[str, Any]:
        """The PutMetricAlarm request, checked as CloudWatch checks it (the PutMetricAlarm reference's rules)."""
        extra = [f"{key} is not an Alarm property" for key in sorted(set(props) - ALARM_PROPERTIES)]
        if "Metrics" in props:
            extra.append("Metrics (metric math) is not supported by this stand-in")
        params = coerce(operation_model("cloudwatch", "PutMetricAlarm").input_shape, {**props, "AlarmName": name})
        for key in ("ComparisonOperator", "EvaluationPeriods"):  # required by CloudFormation, optional in the model
            if key not in params:
                extra.append(f"{key} is required")
        for key in ("MetricName", "Namespace", "Period"):
            if key not in params:
                extra.append(f"{key} is required for an alarm on a single metric")
        if ("Statistic" in params) == ("ExtendedStatistic" in params):
            extra.append("exactly one of Statistic or ExtendedStatistic is required")
        if "Threshold" not in params and "ThresholdMetricId" not in params:
            extra.append("Threshold is required for a static-threshold alarm")
        if (params.get("ComparisonOperator") in BAND_OPERATORS) != ("ThresholdMetricId" in params):
            extra.append(f"ComparisonOperator {params.get('ComparisonOperator')} goes with ThresholdMetricId "
                         "(anomaly bands) and only with it")
        period, periods = params.get("Period"), params.get("EvaluationPeriods")
        if isinstance(period, int) and period not in (10, 20, 30) and period % 60:
            extra.append(f"Period {period}: CloudWatch accepts 10, 20, 30 or a multiple of 60")
        if isinstance(period, int) and isinstance(periods, int):
            limit = 86400 if period < 3600 else 604800
            if period * periods > limit:
                extra.append(f"Period x EvaluationPeriods = {period * periods} s: at most {limit} s for a "
                             f"{'sub-hour' if period < 3600 else 'period of an hour or more'}")
        datapoints = params.get("DatapointsToAlarm")
        if isinstance(datapoints, int) and isinstance(periods, int) and datapoints > periods:
            extra.append(f"DatapointsToAlarm {datapoints} is more than EvaluationPeriods {periods}")
        if params.get("TreatMissingData", "missing") not in TREAT_MISSING_DATA:
            extra.append(f"TreatMissingData {params['TreatMissingData']!r} is not one of {TREAT_MISSING_DATA}")
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            extra += [f"{key}: {action!r} is not an action ARN" for action in params.get(key, [])
                      if not isinstance(action, str) or not ALARM_ACTION_ARN.match(action)]
        return checked("cloudwatch", "PutMetricAlarm", params, extra)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        params = cls.request(resource_name, cloudformation_json.get("Properties", {}))
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=params["AlarmName"], namespace=params["Namespace"], metric_name=params["MetricName"],
            comparison_operator=params["ComparisonOperator"], evaluation_periods=params["EvaluationPeriods"],
            period=params["Period"], threshold=params.get("Threshold"), statistic=params.get("Statistic"),
            description=params.get("AlarmDescription"), dimensions=params.get("Dimensions", []),
            alarm_actions=params.get("AlarmActions", []), datapoints_to_alarm=params.get("DatapointsToAlarm"),
            extended_statistic=params.get("ExtendedStatistic"), ok_actions=params.get("OKActions", []),
            insufficient_data_actions=params.get("InsufficientDataActions", []), unit=params.get("Unit"),
            actions_enabled=params.get("ActionsEnabled", True), treat_missing_data=params.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=params.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=params.get("ThresholdMetricId"), tags=params.get("Tags"))
        return cls(params["AlarmName"])

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


class S3BucketPolicyModel(_Named, CloudFormationModel):
    """The physical id is the bucket's name (one policy per bucket)."""

    CFN_TYPE = "AWS::S3::BucketPolicy"
    NAME_PROPERTY = ""

    @staticmethod
    def policy(props: Dict[str, Any], account_id: str, region_name: str) -> Dict[str, Any]:
        extra = [f"{key} is not a BucketPolicy property" for key in sorted(set(props) - {"Bucket", "PolicyDocument"})]
        bucket, document = props.get("Bucket"), props.get("PolicyDocument")
        if not isinstance(bucket, str) or not bucket:
            extra.append(f"Bucket {bucket!r} is not a bucket name")
            bucket = ""
        elif bucket not in s3_backends[account_id][get_partition(region_name)].buckets:
            extra.append(f"Bucket {bucket!r} does not exist")
        if isinstance(document, str):  # a Json property may also be given as JSON text
            try:
                document = json.loads(document)
            except ValueError as error:
                extra.append(f"PolicyDocument is not JSON: {error}")
        extra += bucket_policy_problems(document, bucket) if not isinstance(document, str) else []
        return checked("s3", "PutBucketPolicy", {"Bucket": bucket, "Policy": json.dumps(document)}, extra)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        params = cls.policy(cloudformation_json.get("Properties", {}), account_id, region_name)
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(params["Bucket"],
                                                                             params["Policy"].encode())
        return cls(params["Bucket"])

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        with contextlib.suppress(MissingBucket):  # the stack deleted the bucket first: its policy went with it
            s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(resource_name)


_original_update = parsing.ResourceMap.update


def _conditions_in(node: Any) -> set:
    if isinstance(node, dict):
        found = {node["Fn::If"][0]} if isinstance(node.get("Fn::If"), list) else set()
        return found.union(*(_conditions_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_conditions_in(value) for value in node))
    return set()


def _update_with_conditions(self, template, parameters=None):
    """What CloudFormation does on update when a Condition changes value and moto does not: a resource whose
    Condition turns true is created, one whose Condition turns false is deleted, and one whose properties use
    Fn::If on a condition that changed is updated (moto only updates resources that Ref a changed parameter)."""
    before = {name: bool(self.lazy_condition_map[name]) for name in self.lazy_condition_map}
    modified = set(self.build_resource_diff(template, parameters)["Modify"])
    _original_update(self, template, parameters)
    flipped = {name for name, value in before.items()
               if name in self.lazy_condition_map and bool(self.lazy_condition_map[name]) != value}
    for logical_id, resource in template["Resources"].items():
        condition = resource.get("Condition")
        exists = self._parsed_resources.get(logical_id) is not None
        if condition and self.lazy_condition_map[condition] and not exists:
            _ = self[logical_id]
        elif condition and not self.lazy_condition_map[condition] and exists:
            self._delete_resource(self._parsed_resources.pop(logical_id), resource)
        elif exists and logical_id not in modified and _conditions_in(resource.get("Properties", {})) & flipped:
            updated = parsing.parse_and_update_resource(logical_id, resource, self, account_id=self._account_id,
                                                        region_name=self._region_name)
            if updated is not None:  # None: moto cannot update this type
                self._parsed_resources[logical_id] = updated


_original_parse_condition = parsing.parse_condition


def _long_form(node: Any) -> Any:
    if isinstance(node, dict):
        if list(node) == ["Fn::Condition"]:
            return {"Condition": node["Fn::Condition"]}
        return {key: _long_form(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_long_form(value) for value in node]
    return node


def _parse_condition_short_form(condition, resources_map, condition_map):
    """moto's YAML loader turns `!Condition X` into {"Fn::Condition": X}, but its parse_condition only reads the
    long form {"Condition": X}; an `!And [!Condition X, ...]` then counts as false and its resources are skipped
    while the stack says CREATE_COMPLETE. CloudFormation accepts both forms."""
    return _original_parse_condition(_long_form(condition), resources_map, condition_map)


def register() -> None:
    """Make moto's CloudFormation see the models above (its type map is cached on first use)."""
    parsing.ResourceMap.update = _update_with_conditions
    parsing.parse_condition = _parse_condition_short_form
    FakeBucket.get_permission = get_permission_over_tls
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    models = parsing.get_model_map()
    for model in (GlueDatabaseModel, GlueCrawlerModel, AthenaWorkGroupModel, CloudWatchAlarmModel,
                  S3BucketPolicyModel):
        assert models[model.CFN_TYPE] is model, model.CFN_TYPE
