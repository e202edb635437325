"""The one AWS client factory: region from config, adaptive retries, emulator endpoint from the environment.

The Lambda builds its clients with boto_config() too, so this module ships in its zip and must not import yaml.

boto3 itself honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which is how tests point every
subprocess at a local emulator; nothing here needs to know about tests.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import boto3
from botocore.config import Config as BotoConfig

if TYPE_CHECKING:  # config imports yaml, which the Lambda zip (which ships this module) does not have
    from .config import Config

USER_AGENT = "kiro-user-activity-analytics"


def _retry_attempts() -> int:
    # An explicit retries setting overrides AWS_MAX_ATTEMPTS, so read it ourselves: tests set 1.
    try:
        return max(1, int(os.environ.get("AWS_MAX_ATTEMPTS", "10")))
    except ValueError:
        return 10


# The preflight only asks quick read questions: an endpoint that does not answer should fail it in seconds, not
# after ten attempts of a 10 s connect and a 60 s read (about two minutes per check on a machine without a route).
FAIL_FAST = {"connect_timeout": 3, "read_timeout": 10, "max_attempts": 2}

# Step 6 invokes the user-sync function synchronously (RequestResponse): the answer comes when the function ends, up
# to its Timeout (infrastructure/cloudformation.yaml; a test keeps the two equal). botocore's default 60 s read
# timeout would give up first and retry, and every retry runs the sync again beside the first: "Retry behavior varies
# by error type, client ..." (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html,
# https://repost.aws/knowledge-center/lambda-function-retry-timeout-sdk). So: read longer than the function may run,
# and one attempt only.
SYNC_FUNCTION_TIMEOUT = 900
SYNC_INVOKE = {"read_timeout": SYNC_FUNCTION_TIMEOUT + 10, "total_max_attempts": 1}


def boto_config(fail_fast: bool = False) -> BotoConfig:
    # botocore reads retries["max_attempts"] as retries after the first try and total_max_attempts as every try
    # (https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html, "retries").
    retries = ({"mode": "adaptive", "total_max_attempts": min(_retry_attempts(), FAIL_FAST["max_attempts"])}
               if fail_fast else {"mode": "adaptive", "max_attempts": _retry_attempts()})
    return BotoConfig(
        retries=retries,
        user_agent_extra=USER_AGENT,
        connect_timeout=FAIL_FAST["connect_timeout"] if fail_fast else 10,
        read_timeout=FAIL_FAST["read_timeout"] if fail_fast else 60,
    )


def assumed_client(session: Any, service: str, region: str, role_arn: str) -> Any:
    """A client with the credentials of ``role_arn``, assumed from ``session``: for organisations whose policies deny
    member accounts the directory read, a role in the store's own account does it
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)."""
    credentials = session.client("sts", region_name=region, config=boto_config()).assume_role(
        RoleArn=role_arn, RoleSessionName=USER_AGENT, DurationSeconds=3600)["Credentials"]
    return session.client(service, region_name=region, config=boto_config(),
                          aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"])


class Clients:
    """Creates and caches clients per (service, region). Pass it in; never create clients at import time."""

    def __init__(self, config: Config, session: Optional[boto3.Session] = None, fail_fast: bool = False) -> None:
        self.config = config
        self.session = session or boto3.Session(profile_name=config.profile or None, region_name=config.region)
        self.fail_fast = fail_fast
        self._cache: Dict[Tuple[str, str], Any] = {}
        self._hooks: list = []

    def fail_fast_clients(self) -> "Clients":
        """The same session and hooks with short timeouts and two attempts (FAIL_FAST), for the preflight."""
        quick = Clients(self.config, self.session, fail_fast=True)
        for event, handler in self._hooks:
            quick.register(event, handler)
        return quick

    def client(self, service: str, region: Optional[str] = None) -> Any:
        key = (service, region or self.config.region)
        if key not in self._cache:
            client = self.session.client(service, region_name=key[1], config=boto_config(self.fail_fast))
            for event, handler in self._hooks:
                client.meta.events.register(event, handler)
            self._cache[key] = client
        return self._cache[key]

    def register(self, event: str, handler: Any) -> None:
        """Register a botocore event handler on every client, present and future (the dry-run guard uses it)."""
        self._hooks.append((event, handler))
        for client in self._cache.values():
            client.meta.events.register(event, handler)

    # Shorthands for the services the steps use; identity and QuickSight may live in other regions.
    def identitystore(self) -> Any:
        if self.config.identity_role_arn:  # read the directory as the configured role, as the Lambda does
            key = ("identitystore@" + self.config.identity_role_arn, self.config.identity_region)
            if key not in self._cache:
                self._cache[key] = assumed_client(self.session, "identitystore", self.config.identity_region,
                                                  self.config.identity_role_arn)
                for event, handler in self._hooks:
                    self._cache[key].meta.events.register(event, handler)
            return self._cache[key]
        return self.client("identitystore", self.config.identity_region)

    def quicksight(self) -> Any:
        return self.client("quicksight")

    def sync_invoker(self) -> Any:
        """A Lambda client for step 6's synchronous run of the deployed sync (SYNC_INVOKE: no timeout, no retry)."""
        key = ("lambda@sync-invoke", self.config.region)
        if key not in self._cache:
            config = boto_config(self.fail_fast).merge(BotoConfig(
                read_timeout=SYNC_INVOKE["read_timeout"],
                retries={"mode": "standard", "total_max_attempts": SYNC_INVOKE["total_max_attempts"]}))
            self._cache[key] = self.session.client("lambda", region_name=self.config.region, config=config)
            for event, handler in self._hooks:
                self._cache[key].meta.events.register(event, handler)
        return self._cache[key]

    def quicksight_identity(self) -> Any:
        """Users and groups are managed in the QuickSight identity region, which may differ from the deploy region."""
        return self.client("quicksight", self.config.quicksight_identity_region)
