"""Build the user id → name map from Identity Center and write it as CSV: one implementation for step 6 and the Lambda.

Fail closed: every read happens before the single write, and any error leaves the previous mapping untouched.
Identity Store calls stay O(users/100 + groups): ListUsers and ListGroups are paged 100 at a time, one paged
ListGroupMemberships per group (groups read in parallel), and DescribeUser only for ids seen in the reports that
ListUsers did not return and that the previous map does not already record as outside the directory (external IdP
or Builder ID users: asked about once, not every day). The report query runs in Athena while the directory is read,
and only the fields the map needs are kept while paging, so 100k users fit the function's time and memory
(bench/sync_memory.py).

Runs may overlap (a scheduled run and step 6's, or a retry): nothing reserves the function's concurrency. Each write
is an S3 conditional write on what this run read (If-Match its ETag, or If-None-Match * for a first map:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html), so a run whose map another run
replaced meanwhile writes nothing and says so, instead of overwriting a newer map with an older one.
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
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

from .athena import direct_call, load_query, run_query
from .errors import StepFailed, error_code, error_message, is_missing
from .progress import DEFAULT_CLOCK, Clock
from .seat_roster import build_roster, parse_roster, render_roster, require_groups, seat_roster_key
from .user_csv import clean_field, normalise_user_id, read_rows, render_rows

log = logging.getLogger(__name__)

MAPPING_HEADER: Tuple[str, ...] = ("userid", "username", "user_name", "email", "groups")
_DENIED = ("AccessDeniedException", "AccessDenied", "UnauthorizedException", "UnrecognizedClientException")
# 412: the object changed since this run read it; 409 ConditionalRequestConflict: another conditional write (or a
# delete) to it was in flight (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). Both
# mean another run is writing: this one leaves the map alone.
_CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
MEMBERSHIP_WORKERS = 8

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
    kms_key: str = ""  # the report bucket's KMS key: the map and roster are written with it (else the bucket default)

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
    conflict: bool = False  # another run replaced the map while this one ran: its map stands

    def summary(self) -> str:
        state = ("not written: another sync replaced it meanwhile, its map stands" if self.conflict
                 else "written" if self.changed else "unchanged")
        text = (f"{self.users_written} user(s) in {self.uri} ({state}): {self.from_directory} from Identity Center, "
                f"{self.kept_previous} kept from the previous map, {self.id_only} by id only; {self.groups} group(s)")
        if self.roster_uri:
            text += (f"; {self.roster_members} seat holder(s) in {self.roster_uri} "
                     f"({'written' if self.roster_changed else 'unchanged'})")
        return text


class Person(NamedTuple):
    """The three fields of a directory user the map writes: a full ListUsers user (addresses, phone numbers,
    external ids, ...) is several times larger, which is what kept 100k users from fitting the function."""
    user_name: str
    display: str
    email: str


def _person(user: Dict[str, Any]) -> Person:
    emails = user.get("Emails") or []
    primary = next((e for e in emails if e.get("Primary")), emails[0] if emails else {})
    return Person(clean_field(user.get("UserName")), clean_field(user.get("DisplayName")),
                  clean_field(primary.get("Value")))


class _Directory:
    """Counts every Identity Store request so tests and the result can prove the O(users/100 + groups) bound."""

    def __init__(self, client: Any, settings: SyncSettings) -> None:
        self.client = client
        self.settings = settings
        self.calls: Dict[str, int] = {}
        self._lock = threading.Lock()  # memberships are read by several threads

    def _count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1

    def _pages(self, operation: str, method: str, key: str, **params: Any) -> Iterable[Dict[str, Any]]:
        paginator = self.client.get_paginator(method)
        for page in paginator.paginate(IdentityStoreId=self.settings.identity_store_id, **params):
            self._count(operation)
            yield from page.get(key, [])

    def users(self) -> Iterable[Dict[str, Any]]:
        return self._pages("ListUsers", "list_users", "Users")

    def groups(self) -> Iterable[Dict[str, Any]]:
        return self._pages("ListGroups", "list_groups", "Groups")

    def members(self, group_id: str) -> Iterable[Dict[str, Any]]:
        return self._pages("ListGroupMemberships", "list_group_memberships", "GroupMemberships", GroupId=group_id)

    def member_ids(self, group_id: str) -> List[str]:
        return [normalise_user_id(member_id) for member in self.members(group_id)
                for member_id in [(member.get("MemberId") or {}).get("UserId")] if member_id]

    def describe(self, user_id: str) -> Optional[Dict[str, Any]]:
        self._count("DescribeUser")
        try:
            return self.client.describe_user(IdentityStoreId=self.settings.identity_store_id, UserId=user_id)
        except Exception as exc:
            if is_missing(exc, ("ResourceNotFoundException", "ValidationException")):
                return None  # external IdP or Builder ID users are not in the store: they keep their id as name
            raise


def _user_row(user_id: str, person: Person, groups: str) -> Dict[str, str]:
    return {"userid": user_id, "username": person.display or person.user_name or user_id,
            "user_name": person.user_name, "email": person.email, "groups": groups}


def _id_only(row: Dict[str, str]) -> bool:
    """A previous row for someone the directory did not know: their id as name, nothing else."""
    return row.get("username") == row.get("userid") and not row.get("user_name") and not row.get("email")


def parse_mapping(body: bytes) -> Dict[str, Dict[str, str]]:
    """Rows of a mapping CSV by user id; a file with another header is refused rather than guessed at."""
    return {row["userid"]: row for row in read_rows(body, MAPPING_HEADER, "user mapping") if row["userid"]}


def render_mapping(rows: Iterable[Dict[str, str]]) -> bytes:
    """The mapping CSV, sorted by user id: unchanged input gives equal bytes."""
    return render_rows(MAPPING_HEADER, rows, lambda row: row["userid"])


class Stored(NamedTuple):
    body: Optional[bytes]  # None: no object yet
    etag: str


def _read_object(s3: Any, bucket: str, key: str) -> Stored:
    """The object's bytes and ETag (what a conditional write compares against), or None when there is none yet."""
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
        return Stored(answer["Body"].read(), str(answer.get("ETag", "")))
    except Exception as exc:
        if is_missing(exc, ("NoSuchKey", "404")):
            return Stored(None, "")
        raise


def read_previous(s3: Any, settings: SyncSettings) -> Tuple[bytes, Dict[str, Dict[str, str]]]:
    body = _read_object(s3, settings.bucket, settings.mapping_key).body
    return (b"", {}) if body is None else (body, parse_mapping(body))


def _write(s3: Any, settings: SyncSettings, key: str, body: bytes, previous: Stored, call: Optional[Call]) -> bool:
    """Write only if the object is still what this run read; False when another run replaced it meanwhile."""
    # With s3.kms_key_arn, SSE-KMS with that key. Without it, no encryption header at all: the bucket's default
    # encryption applies (SSE-S3 at the least: "all new object uploads to Amazon S3 are automatically encrypted",
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html), and forcing AES256 would
    # override a bucket that defaults to a KMS key, or be refused by a policy that requires one.
    encryption = ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.kms_key} if settings.kms_key
                  else {})
    condition = {"IfMatch": previous.etag} if previous.body is not None and previous.etag else {"IfNoneMatch": "*"}
    try:
        (call or direct_call)(s3, "PutObject", Bucket=settings.bucket, Key=key, Body=body,
                              ContentType="text/csv; charset=utf-8", **encryption, **condition)
    except Exception as exc:
        if error_code(exc) in _CONFLICT:
            log.warning("s3://%s/%s changed while this sync ran (%s): another run wrote it; leaving its version",
                        settings.bucket, key, error_code(exc))
            return False
        raise
    return True


def ids_in_reports(athena: Any, settings: SyncSettings, clock: Clock, call: Optional[Call]) -> Set[str]:
    rows = run_query(athena, load_query("distinct_user_ids"), settings.workgroup, settings.database,
                     "user ids in the reports", timeout=settings.query_timeout, clock=clock, call=call)
    return {normalise_user_id(row["user_id"] or "") for row in rows if row.get("user_id")}


def _read_directory(directory: _Directory) -> Tuple[Dict[str, Person], Dict[str, List[str]], Set[str]]:
    """Users (compact), memberships by user id, and group names: the pages, with each group's members in parallel."""
    users = {normalise_user_id(str(u["UserId"])): _person(u) for u in directory.users()}
    groups = [(clean_field(group.get("DisplayName")) or str(group["GroupId"]), str(group["GroupId"]))
              for group in directory.groups()]
    memberships: Dict[str, List[str]] = {}
    with ThreadPoolExecutor(max_workers=MEMBERSHIP_WORKERS) as pool:
        for (name, _), members in zip(groups, pool.map(lambda group: directory.member_ids(group[1]), groups)):
            for member_id in members:
                memberships.setdefault(member_id, []).append(name)
    return users, memberships, {name for name, _ in groups}


def _describe_new(directory: _Directory, users: Dict[str, Person], seen: Set[str],
                  known_outside: Set[str]) -> None:
    for user_id in sorted(seen - set(users) - known_outside):
        described = directory.describe(user_id)
        if described:
            users[user_id] = _person(described)


def _denied(exc: BaseException, settings: SyncSettings) -> StepFailed:
    account = settings.account_id or "this account"
    return StepFailed(
        f"Identity Center refused the directory read in {settings.identity_region} from account {account} "
        f"({error_code(exc)}: {error_message(exc) or exc}). Run the sync "
        f"with credentials of the Identity Center management (or delegated administrator) account, in region "
        f"{settings.identity_region} (identity_center.region), with identitystore:ListUsers/ListGroups/"
        f"ListGroupMemberships/DescribeUser on store {settings.identity_store_id}. The previous mapping was kept.")


def _from_directory(settings: SyncSettings, read: Callable[[], Any]) -> Any:
    """Run a directory read; a refusal becomes the message that says which account and region to run from."""
    try:
        return read()
    except Exception as exc:
        if error_code(exc) in _DENIED:
            raise _denied(exc, settings) from None
        raise


def sync_user_mapping(athena: Any, identitystore: Any, s3: Any, settings: SyncSettings, *,
                      call: Optional[Call] = None, clock: Clock = DEFAULT_CLOCK,
                      today: Optional[date] = None) -> SyncResult:
    """Read the previous map (and roster), the ids in the reports and the directory; write what changed.

    ``athena`` None skips the report query (dry run): the ids of the previous map are used instead. ``call`` routes
    the writes (PutObject) through a Recorder; by default they go straight to the client. ``today`` (default: the
    UTC date) is the roster_date of a member seen for the first time.
    """
    stored = _read_object(s3, settings.bucket, settings.mapping_key)
    previous_body, previous = (b"", {}) if stored.body is None else (stored.body, parse_mapping(stored.body))
    roster = _read_object(s3, settings.bucket, settings.seat_roster_key) if settings.seat_groups else Stored(None, "")
    roster_dates = parse_roster(roster.body) if roster.body is not None else {}
    directory = _Directory(identitystore, settings)
    # The report query runs in Athena while the directory is read: the two waits overlap instead of adding up.
    pool = ThreadPoolExecutor(max_workers=1)
    pending: Optional[Future] = pool.submit(ids_in_reports, athena, settings, clock, call) if athena else None
    try:
        users, memberships, group_names = _from_directory(settings, lambda: _read_directory(directory))
        seen = pending.result() if pending is not None else set()
        # DescribeUser only for ids in the reports: ids that left the directory keep their previous row instead.
        outside = {user_id for user_id, row in previous.items() if _id_only(row)}
        _from_directory(settings, lambda: _describe_new(directory, users, seen, outside))
    finally:
        pool.shutdown(wait=False)
    wanted = seen | set(previous)
    rows: List[Dict[str, str]] = []
    counts = {"directory": 0, "previous": 0, "id": 0}
    for user_id in sorted(wanted):
        if user_id in users:
            groups = ";".join(sorted(set(memberships.get(user_id, []))))
            rows.append(_user_row(user_id, users[user_id], groups))
            counts["directory"] += 1
        elif user_id in previous:
            rows.append(previous[user_id])
            counts["previous"] += 1
        else:
            rows.append({"userid": user_id, "username": user_id, "user_name": "", "email": "", "groups": ""})
            counts["id"] += 1
    body = render_mapping(rows)
    changed = body != previous_body
    conflict = changed and not _write(s3, settings, settings.mapping_key, body, stored, call)
    log.info("user mapping: %d rows, %s", len(rows), "written" if changed and not conflict else "unchanged")
    result = SyncResult(uri=f"s3://{settings.bucket}/{settings.mapping_key}", users_written=len(rows),
                        from_directory=counts["directory"], kept_previous=counts["previous"], id_only=counts["id"],
                        groups=len(group_names), changed=changed and not conflict,
                        identity_calls=dict(directory.calls), conflict=conflict)
    if settings.seat_groups:
        _write_roster(s3, settings, memberships, group_names, roster_dates, roster, result,
                      today or datetime.now(timezone.utc).date(), call)
    return result


def _write_roster(s3: Any, settings: SyncSettings, memberships: Dict[str, List[str]], group_names: Set[str],
                  previous: Dict[str, date], stored: Stored, result: SyncResult, today: date,
                  call: Optional[Call]) -> None:
    # Keep the previous roster and fail (the mapping above is already written), so the alarm says why.
    require_groups(settings.seat_groups, group_names, settings.identity_store_id)
    rows = build_roster(memberships, settings.seat_groups, previous, today)
    body = render_roster(rows)
    result.roster_uri = f"s3://{settings.bucket}/{settings.seat_roster_key}"
    result.roster_members = len({row["userid"] for row in rows})
    result.roster_changed = body != (stored.body or b"")
    if result.roster_changed and not _write(s3, settings, settings.seat_roster_key, body, stored, call):
        result.roster_changed, result.conflict = False, True
    log.info("seat roster: %d members, %s", result.roster_members, "written" if result.roster_changed else "unchanged")


def settings_from_config(config: Any) -> SyncSettings:
    """Settings for step 6 from a kiro_analytics.config.Config (duck-typed: this module must not import yaml)."""
    return SyncSettings(bucket=config.bucket_name, mapping_key=config.user_mapping_key,
                        identity_store_id=config.identity_store_id, identity_region=config.identity_region,
                        database=config.database, workgroup=config.workgroup, account_id=config.account_id,
                        seat_groups=tuple(getattr(config, "seat_groups", ())),
                        kms_key=getattr(config, "kms_key_arn", ""))
