"""Build the user id → name map from Identity Center and write it as CSV: one implementation for step 6 and the Lambda.

Fail closed: every read happens before the single write, and any error leaves the previous mapping untouched.
Identity Store calls stay O(users/100 + groups): ListUsers and ListGroups are paged 100 at a time, one paged
ListGroupMemberships per group, and DescribeUser only for ids seen in the reports that ListUsers did not return.
Only ids seen in the reports (and ids already in the previous map) are written, so names and e-mails spread no
further than the dashboard needs. Users who left the directory keep their last known name.

With seat groups configured, the same run writes the seat roster (members of those groups, from the memberships it
already reads, so no extra Identity Store call) to its own folder beside the mapping. Each member keeps the earliest
roster_date recorded for them, so "rostered N days ago" survives re-runs; the roster is written after the mapping and
only when it changed, and a failed write leaves the previous roster as it was.

Ships in the Lambda zip: standard library and this package's Lambda-safe modules only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from .athena import direct_call, load_query, run_query
from .errors import StepFailed, error_code, error_message, is_missing
from .progress import DEFAULT_CLOCK, Clock
from .seat_roster import build_roster, parse_roster, render_roster, require_groups, seat_roster_key
from .user_csv import clean_field, normalise_user_id, read_rows, render_rows

log = logging.getLogger(__name__)

MAPPING_HEADER: Tuple[str, ...] = ("userid", "username", "user_name", "email", "groups")
_DENIED = ("AccessDeniedException", "AccessDenied", "UnauthorizedException", "UnrecognizedClientException")

Call = Callable[..., Dict[str, Any]]


@dataclass(frozen=True)
class SyncSettings:
    bucket: str
    mapping_key: str
    identity_store_id: str
    identity_region: str
    database: str
    workgroup: str
    account_id: str = ""
    query_timeout: float = 300
    seat_groups: Tuple[str, ...] = ()
    roster_key: str = ""  # the stack passes it; else derived from mapping_key the same way

    @property
    def seat_roster_key(self) -> str:
        return self.roster_key or seat_roster_key(self.mapping_key)


@dataclass
class SyncResult:
    uri: str
    users_written: int
    from_directory: int
    kept_previous: int
    id_only: int
    groups: int
    changed: bool
    identity_calls: Dict[str, int] = field(default_factory=dict)
    roster_uri: str = ""  # empty when no seat groups are configured
    roster_members: int = 0
    roster_changed: bool = False

    def summary(self) -> str:
        state = "written" if self.changed else "unchanged"
        text = (f"{self.users_written} user(s) in {self.uri} ({state}): {self.from_directory} from Identity Center, "
                f"{self.kept_previous} kept from the previous map, {self.id_only} by id only; {self.groups} group(s)")
        if self.roster_uri:
            text += (f"; {self.roster_members} seat holder(s) in {self.roster_uri} "
                     f"({'written' if self.roster_changed else 'unchanged'})")
        return text


class _Directory:
    """Counts every Identity Store request so tests and the result can prove the O(users/100 + groups) bound."""

    def __init__(self, client: Any, settings: SyncSettings) -> None:
        self.client = client
        self.settings = settings
        self.calls: Dict[str, int] = {}

    def _pages(self, operation: str, method: str, key: str, **params: Any) -> Iterable[Dict[str, Any]]:
        paginator = self.client.get_paginator(method)
        for page in paginator.paginate(IdentityStoreId=self.settings.identity_store_id, **params):
            self.calls[operation] = self.calls.get(operation, 0) + 1
            yield from page.get(key, [])

    def users(self) -> Iterable[Dict[str, Any]]:
        return self._pages("ListUsers", "list_users", "Users")

    def groups(self) -> Iterable[Dict[str, Any]]:
        return self._pages("ListGroups", "list_groups", "Groups")

    def members(self, group_id: str) -> Iterable[Dict[str, Any]]:
        return self._pages("ListGroupMemberships", "list_group_memberships", "GroupMemberships", GroupId=group_id)

    def describe(self, user_id: str) -> Optional[Dict[str, Any]]:
        self.calls["DescribeUser"] = self.calls.get("DescribeUser", 0) + 1
        try:
            return self.client.describe_user(IdentityStoreId=self.settings.identity_store_id, UserId=user_id)
        except Exception as exc:
            if is_missing(exc, ("ResourceNotFoundException", "ValidationException")):
                return None  # external IdP or Builder ID users are not in the store: they keep their id as name
            raise


def _user_row(user: Dict[str, Any], groups: str) -> Dict[str, str]:
    user_id = normalise_user_id(str(user.get("UserId", "")))
    user_name = clean_field(user.get("UserName"))
    display = clean_field(user.get("DisplayName"))
    emails = user.get("Emails") or []
    primary = next((e for e in emails if e.get("Primary")), emails[0] if emails else {})
    return {"userid": user_id, "username": display or user_name or user_id, "user_name": user_name,
            "email": clean_field(primary.get("Value")), "groups": groups}


def parse_mapping(body: bytes) -> Dict[str, Dict[str, str]]:
    """Rows of a mapping CSV by user id; a file with another header is refused rather than guessed at."""
    return {row["userid"]: row for row in read_rows(body, MAPPING_HEADER, "user mapping") if row["userid"]}


def render_mapping(rows: Iterable[Dict[str, str]]) -> bytes:
    """The mapping CSV, sorted by user id: unchanged input gives equal bytes."""
    return render_rows(MAPPING_HEADER, rows, lambda row: row["userid"])


def _read_object(s3: Any, bucket: str, key: str) -> Optional[bytes]:
    """The object's bytes, or None when there is none yet."""
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        if is_missing(exc, ("NoSuchKey", "404")):
            return None
        raise


def read_previous(s3: Any, settings: SyncSettings) -> Tuple[bytes, Dict[str, Dict[str, str]]]:
    body = _read_object(s3, settings.bucket, settings.mapping_key)
    return (b"", {}) if body is None else (body, parse_mapping(body))


def ids_in_reports(athena: Any, settings: SyncSettings, clock: Clock, call: Optional[Call]) -> Set[str]:
    rows = run_query(athena, load_query("distinct_user_ids"), settings.workgroup, settings.database,
                     "user ids in the reports", timeout=settings.query_timeout, clock=clock, call=call)
    return {normalise_user_id(row["user_id"] or "") for row in rows if row.get("user_id")}


def _read_directory(directory: _Directory,
                    seen: Set[str]) -> Tuple[Dict[str, Dict[str, Any]], Dict[str, List[str]], Set[str]]:
    users = {normalise_user_id(str(u["UserId"])): u for u in directory.users()}
    memberships: Dict[str, List[str]] = {}
    group_names: Set[str] = set()
    for group in directory.groups():
        name = clean_field(group.get("DisplayName")) or str(group["GroupId"])
        group_names.add(name)
        for member in directory.members(str(group["GroupId"])):
            member_id = (member.get("MemberId") or {}).get("UserId")
            if member_id:
                memberships.setdefault(normalise_user_id(member_id), []).append(name)
    for user_id in sorted(seen - set(users)):
        described = directory.describe(user_id)
        if described:
            users[user_id] = described
    return users, memberships, group_names


def _denied(exc: BaseException, settings: SyncSettings) -> StepFailed:
    account = settings.account_id or "this account"
    return StepFailed(
        f"Identity Center refused the directory read in {settings.identity_region} from account {account} "
        f"({error_code(exc)}: {error_message(exc) or exc}). Run the sync "
        f"with credentials of the Identity Center management (or delegated administrator) account, in region "
        f"{settings.identity_region} (identity_center.region), with identitystore:ListUsers/ListGroups/"
        f"ListGroupMemberships/DescribeUser on store {settings.identity_store_id}. The previous mapping was kept.")


def sync_user_mapping(athena: Any, identitystore: Any, s3: Any, settings: SyncSettings, *,
                      call: Optional[Call] = None, clock: Clock = DEFAULT_CLOCK,
                      today: Optional[date] = None) -> SyncResult:
    """Read the previous map (and roster), the ids in the reports and the directory; write what changed.

    ``athena`` None skips the report query (dry run): the ids of the previous map are used instead. ``call`` routes
    the writes (PutObject) through a Recorder; by default they go straight to the client. ``today`` (default: the
    UTC date) is the roster_date of a member seen for the first time.
    """
    previous_body, previous = read_previous(s3, settings)
    roster_body = _read_object(s3, settings.bucket, settings.seat_roster_key) if settings.seat_groups else None
    roster_dates = parse_roster(roster_body) if roster_body is not None else {}
    seen = ids_in_reports(athena, settings, clock, call) if athena is not None else set()
    wanted = seen | set(previous)
    directory = _Directory(identitystore, settings)
    try:
        # DescribeUser only for ids in the reports: ids that left the directory keep their previous row instead.
        users, memberships, group_names = _read_directory(directory, seen)
    except Exception as exc:
        if error_code(exc) in _DENIED:
            raise _denied(exc, settings) from None
        raise
    rows: List[Dict[str, str]] = []
    counts = {"directory": 0, "previous": 0, "id": 0}
    for user_id in sorted(wanted):
        if user_id in users:
            groups = ";".join(sorted(set(memberships.get(user_id, []))))
            rows.append(_user_row(users[user_id], groups))
            counts["directory"] += 1
        elif user_id in previous:
            rows.append(previous[user_id])
            counts["previous"] += 1
        else:
            rows.append({"userid": user_id, "username": user_id, "user_name": "", "email": "", "groups": ""})
            counts["id"] += 1
    body = render_mapping(rows)
    changed = body != previous_body
    if changed:
        (call or direct_call)(s3, "PutObject", Bucket=settings.bucket, Key=settings.mapping_key, Body=body,
                       ContentType="text/csv; charset=utf-8", ServerSideEncryption="AES256")
    log.info("user mapping: %d rows, %s", len(rows), "written" if changed else "unchanged")
    result = SyncResult(uri=f"s3://{settings.bucket}/{settings.mapping_key}", users_written=len(rows),
                        from_directory=counts["directory"], kept_previous=counts["previous"], id_only=counts["id"],
                        groups=len(group_names), changed=changed, identity_calls=dict(directory.calls))
    if settings.seat_groups:
        _write_roster(s3, settings, memberships, group_names, roster_dates, roster_body or b"", result,
                      today or datetime.now(timezone.utc).date(), call)
    return result


def _write_roster(s3: Any, settings: SyncSettings, memberships: Dict[str, List[str]], group_names: Set[str],
                  previous: Dict[str, date], previous_body: bytes, result: SyncResult, today: date,
                  call: Optional[Call]) -> None:
    # Keep the previous roster and fail (the mapping above is already written), so the alarm says why.
    require_groups(settings.seat_groups, group_names, settings.identity_store_id)
    rows = build_roster(memberships, settings.seat_groups, previous, today)
    body = render_roster(rows)
    result.roster_uri = f"s3://{settings.bucket}/{settings.seat_roster_key}"
    result.roster_members = len({row["userid"] for row in rows})
    result.roster_changed = body != previous_body
    if result.roster_changed:
        (call or direct_call)(s3, "PutObject", Bucket=settings.bucket, Key=settings.seat_roster_key, Body=body,
                       ContentType="text/csv; charset=utf-8", ServerSideEncryption="AES256")
    log.info("seat roster: %d members, %s", result.roster_members, "written" if result.roster_changed else "unchanged")


def settings_from_config(config: Any) -> SyncSettings:
    """Settings for step 6 from a kiro_analytics.config.Config (duck-typed: this module must not import yaml)."""
    return SyncSettings(bucket=config.bucket_name, mapping_key=config.user_mapping_key,
                        identity_store_id=config.identity_store_id, identity_region=config.identity_region,
                        database=config.database, workgroup=config.workgroup, account_id=config.account_id,
                        seat_groups=tuple(getattr(config, "seat_groups", ())))
