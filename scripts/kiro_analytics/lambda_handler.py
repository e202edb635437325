"""The user-sync Lambda: a small adapter over identity_sync.sync_user_mapping, the same function step 6 calls,
and over digest.send_digest for the weekly digest.

The event's "action" picks the job: the daily schedule sends none ("sync") to one target and {"action": "facts"}
to another (facts.refresh_facts, the loader step 5 runs: only the day folders whose files are new, re-sent or gone),
the digest's rule sends {"action": "digest"}. Settings come from environment variables set by
infrastructure/cloudformation.yaml. Errors propagate so the invocation counts in the function's Errors metric,
which the stack's alarm watches.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime, timezone
from typing import Any, Dict, Mapping, Optional, Tuple

from .aws import assumed_client, boto_config
from .digest import DigestSettings, send_digest
from .errors import InputError
from .facts import FactSources, refresh_facts
from .identity_sync import SyncSettings, sync_user_mapping

log = logging.getLogger(__name__)
ENVIRONMENT = ("MAPPING_BUCKET", "MAPPING_KEY", "IDENTITY_STORE_ID", "IDENTITY_REGION", "DATABASE", "WORKGROUP")
# Optional: a JSON list of seat group display names (JSON because a group name may hold a comma); absent or [] = off.
SEAT_GROUPS = "SEAT_GROUPS"
ACTIONS = ("sync", "digest", "facts")
FACT_SOURCES = "FACT_SOURCES"
# Seconds the sync keeps after its report query for the directory's stragglers (DescribeUser) and the writes; the
# query itself runs while the directory is read.
AFTER_QUERY = 120.0
QUERY_TIMEOUT = 600.0


def seat_groups_from_environment(environ: Mapping[str, str]) -> Tuple[str, ...]:
    text = (environ.get(SEAT_GROUPS) or "").strip()
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise InputError(f"{SEAT_GROUPS} must be a JSON list of group names, got {text[:200]!r}; redeploy the stack")
    return tuple(item.strip() for item in value)


def query_timeout(environ: Mapping[str, str], remaining_seconds: float = 0.0) -> float:
    """How long the sync may wait on Athena: QUERY_TIMEOUT (default 600 s), and never past the function's own
    timeout less what the rest of the run needs."""
    wanted = float(environ.get("QUERY_TIMEOUT") or QUERY_TIMEOUT)
    return max(30.0, min(wanted, remaining_seconds - AFTER_QUERY)) if remaining_seconds else wanted


def _remaining(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000.0 if callable(remaining) else 0.0


def settings_from_environment(environ: Mapping[str, str], account_id: str = "",
                              remaining_seconds: float = 0.0) -> SyncSettings:
    missing = [name for name in ENVIRONMENT if not environ.get(name)]
    if missing:
        raise InputError(f"the function is missing environment variable(s) {', '.join(missing)}; redeploy the stack")
    return SyncSettings(
        bucket=environ["MAPPING_BUCKET"], mapping_key=environ["MAPPING_KEY"],
        identity_store_id=environ["IDENTITY_STORE_ID"], identity_region=environ["IDENTITY_REGION"],
        database=environ["DATABASE"], workgroup=environ["WORKGROUP"], account_id=account_id,
        seat_groups=seat_groups_from_environment(environ), roster_key=environ.get("SEAT_ROSTER_KEY", ""),
        query_timeout=query_timeout(environ, remaining_seconds), kms_key=environ.get("MAPPING_KMS_KEY", ""),
    )


def digest_settings_from_environment(environ: Mapping[str, str]) -> DigestSettings:
    missing = [name for name in ("DATABASE", "WORKGROUP") if not environ.get(name)]
    if missing:
        raise InputError(f"the function is missing environment variable(s) {', '.join(missing)}; redeploy the stack")
    return DigestSettings(database=environ["DATABASE"], workgroup=environ["WORKGROUP"],
                          topic_arn=environ.get("TOPIC_ARN", ""), dashboard_url=environ.get("DASHBOARD_URL", ""),
                          query_timeout=float(environ.get("QUERY_TIMEOUT", "480")))


def action_of(event: Any) -> str:
    action = event.get("action", "sync") if isinstance(event, Mapping) else "sync"
    if action not in ACTIONS:
        raise InputError(f"unknown action {str(action)[:40]!r}; expected one of {', '.join(ACTIONS)}")
    return str(action)


def _account_from(context: Any) -> str:
    arn = str(getattr(context, "invoked_function_arn", "") or "")
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def make_clients(settings: SyncSettings, identity_role_arn: str = "") -> Dict[str, Any]:
    import boto3

    # The Identity Store publishes no rate limit: boto_config's adaptive retries back off on throttling by themselves.
    config = boto_config()
    session = boto3.session.Session()
    identitystore = (assumed_client(session, "identitystore", settings.identity_region, identity_role_arn)
                     if identity_role_arn else
                     session.client("identitystore", region_name=settings.identity_region, config=config))
    return {"athena": session.client("athena", config=config), "s3": session.client("s3", config=config),
            "identitystore": identitystore}


def make_digest_clients() -> Dict[str, Any]:
    import boto3

    config = boto_config()
    return {"athena": boto3.client("athena", config=config), "sns": boto3.client("sns", config=config)}


def run_facts(environ: Mapping[str, str], context: Any, today: Optional[date] = None) -> Dict[str, Any]:
    """The daily facts refresh: the fact tables get the day folders whose report files changed. The function's 900 s
    bound the run (context.get_remaining_time_in_millis, https://docs.aws.amazon.com/lambda/latest/dg/python-context.html):
    what does not fit is left for the next run and said, in the log and the answer (days_left); step 5 on a deploy
    has no such bound."""
    missing = [name for name in ("DATABASE", "WORKGROUP", FACT_SOURCES) if not environ.get(name)]
    if missing:
        raise InputError(f"the function is missing environment variable(s) {', '.join(missing)}; redeploy the stack")
    clients = make_facts_clients()
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    refresh = refresh_facts(clients["athena"], clients["s3"], environ["DATABASE"], environ["WORKGROUP"],
                            FactSources.from_json(environ[FACT_SOURCES]), today or datetime.now(timezone.utc).date(),
                            timeout=float(environ.get("QUERY_TIMEOUT") or QUERY_TIMEOUT),
                            remaining=(lambda: remaining() / 1000.0) if callable(remaining) else None)
    (log.warning if refresh.days_left else log.info)("%s", refresh.summary())
    return {"action": "facts", "days_listed": refresh.days_listed,
            "days_loaded": [day.isoformat() for day in refresh.days_loaded],
            "days_left": [day.isoformat() for day in refresh.days_left], "optimized": refresh.optimized,
            "vacuumed": refresh.vacuumed, "files_without_lines": refresh.files_without_lines,
            "summary": refresh.summary()}


def make_facts_clients() -> Dict[str, Any]:
    import boto3

    config = boto_config()
    return {"athena": boto3.client("athena", config=config), "s3": boto3.client("s3", config=config)}


def handler(event: Any, context: Any) -> Dict[str, Any]:
    logging.getLogger().setLevel(logging.INFO)
    if action_of(event) == "facts":
        return run_facts(os.environ, context)
    if action_of(event) == "digest":
        digest_settings = digest_settings_from_environment(os.environ)
        if not digest_settings.topic_arn:  # checked before any query: a digest with nowhere to go costs nothing
            raise InputError("the digest is off (TOPIC_ARN is empty): set lambda.alarm_email and digest.cron, "
                             "then redeploy the stack")
        digest_clients = make_digest_clients()
        sent = send_digest(digest_clients["athena"], digest_clients["sns"], digest_settings)
        return {"action": "digest", "message_id": sent.message_id, "subject": sent.message.subject,
                "last_day": sent.facts.last_day.isoformat()}
    settings = settings_from_environment(os.environ, _account_from(context), _remaining(context))
    clients = make_clients(settings, os.environ.get("IDENTITY_ROLE_ARN", ""))
    result = sync_user_mapping(clients["athena"], clients["identitystore"], clients["s3"], settings)
    log.info("%s", result.summary())
    return {"uri": result.uri, "users": result.users_written, "changed": result.changed,
            "from_directory": result.from_directory, "kept_previous": result.kept_previous,
            "id_only": result.id_only, "groups": result.groups, "identity_calls": result.identity_calls,
            "roster_uri": result.roster_uri, "roster_members": result.roster_members,
            "roster_changed": result.roster_changed, "conflict": result.conflict}
