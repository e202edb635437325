"""CloudFormation models for the resource types moto's CloudFormation skips, backed by moto's own Glue and Athena.

Properties are mapped to the matching Create* API request and validated with kiro_analytics.request_validation
(members, types, enums, lengths, patterns), plus the rules the service checks that the model does not spell out.
An invalid template therefore fails CreateStack in the test instead of being accepted silently.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List

from kiro_analytics.request_validation import operation_model, request_problems
from moto.athena.models import athena_backends
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.glue.models import glue_backends

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
    """What the three stand-in types share: a physical id that is the resource name, no Fn::GetAtt attributes.

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
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

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
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        athena_backends[account_id][region_name].work_groups.pop(resource_name, None)


_original_update = parsing.ResourceMap.update


def _update_with_conditions(self, template, parameters=None):
    """moto's update ignores a Condition that turns true; CloudFormation then creates the resource. Do the same."""
    _original_update(self, template, parameters)
    for logical_id, resource in template["Resources"].items():
        condition = resource.get("Condition")
        if condition and self.lazy_condition_map[condition] and logical_id not in self._parsed_resources:
            _ = self[logical_id]


def register() -> None:
    """Make moto's CloudFormation see the models above (its type map is cached on first use)."""
    parsing.ResourceMap.update = _update_with_conditions
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    assert parsing.get_model_map()["AWS::Glue::Crawler"] is GlueCrawlerModel
