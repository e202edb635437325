"""The request checker every mutating call and every stand-in relies on: botocore's structure checks plus the
enums, lengths, patterns and ranges botocore leaves to the service."""

from __future__ import annotations

import pytest
from kiro_analytics.errors import InputError
from kiro_analytics.request_validation import operation_model, request_problems, validate_request


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        # A single structural error must be reported (the first line of botocore's report once went missing).
        ("glue", "StartCrawler", {}, 'Missing required parameter in input: "Name"'),
        ("glue", "StartCrawler", {"Name": "c", "Bogus": 1}, 'Unknown parameter in input: "Bogus"'),
        ("glue", "StartCrawler", {"Name": 7}, "Invalid type for parameter Name"),
        # What botocore does not check.
        ("quicksight", "CreateDataSet", {"AwsAccountId": "123456789012", "DataSetId": "d", "Name": "n",
                                         "ImportMode": "SPICE!", "PhysicalTableMap": {}},
         "'SPICE!' is not one of SPICE, DIRECT_QUERY"),
        ("quicksight", "DescribeDashboard", {"AwsAccountId": "12345", "DashboardId": "d"},
         "does not match the pattern ^[0-9]{12}$"),
        ("quicksight", "CreateDataSet", {"AwsAccountId": "123456789012", "DataSetId": "d", "Name": "n",
                                         "ImportMode": "SPICE", "PhysicalTableMap": {"not_ok": {}}},
         "PhysicalTableMap key 'not_ok'"),
        ("athena", "StartQueryExecution", {"QueryString": ""}, "at least 1 required"),
        ("cloudwatch", "PutMetricAlarm", {"AlarmName": "a", "EvaluationPeriods": 0, "ComparisonOperator":
                                          "GreaterThanThreshold"}, "below the minimum 1"),
    ],
)
def test_each_kind_of_problem_is_reported(service: str, operation: str, params: dict, expected: str) -> None:
    problems = request_problems(service, operation, params)
    assert any(expected in problem for problem in problems), problems


def test_a_valid_request_has_no_problems_and_names_resolve_both_ways() -> None:
    assert request_problems("glue", "StartCrawler", {"Name": "kiro-analytics-user-report"}) == []
    assert operation_model("glue", "start_crawler").name == operation_model("glue", "StartCrawler").name
    with pytest.raises(KeyError):
        operation_model("glue", "StartCrawlers")


def test_validate_request_raises_one_error_listing_every_problem() -> None:
    with pytest.raises(InputError) as caught:
        validate_request("quicksight", "DescribeDashboard", {"AwsAccountId": "1", "Bogus": True})
    message = str(caught.value)
    assert "DescribeDashboard request is invalid" in message
    assert "Missing required parameter" in message and "Unknown parameter" in message and "pattern" in message
