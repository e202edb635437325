"""Benchmark the user-name sync at Lambda scale: N directory users, G groups, every user seen in the reports and
already in the previous map (the steady state of a large organisation).

    .venv/bin/python bench/sync_memory.py [--users 100000] [--groups 200]

The Identity Store, S3 and Athena are in-memory fakes that answer with the shapes the real services return (a
ListUsers user carries names, e-mails, addresses, phone numbers and external ids), so what is measured is the
sync's own memory and time. The sync runs in a fresh child process; peak memory is its ru_maxrss (the Lambda
runtime's measure) and tracemalloc's peak of Python allocations. The function's MemorySize in
infrastructure/cloudformation.yaml is sized from this (with headroom for the runtime and boto3).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def _user(index: int) -> Dict[str, Any]:
    user_id = str(uuid.UUID(int=index + 1))
    return {
        "UserName": f"user{index}@example.com", "UserId": user_id, "IdentityStoreId": "d-1234567890",
        "ExternalIds": [{"Issuer": "https://idp.example.com/saml", "Id": f"ext-{index:09d}"}],
        "Name": {"Formatted": f"Given{index} Family{index}", "FamilyName": f"Family{index}",
                 "GivenName": f"Given{index}", "MiddleName": "M", "HonorificPrefix": "", "HonorificSuffix": ""},
        "DisplayName": f"Given{index} Family{index}", "NickName": f"g{index}",
        "ProfileUrl": f"https://intranet.example.com/people/{index}",
        "Emails": [{"Value": f"user{index}@example.com", "Type": "work", "Primary": True}],
        "Addresses": [{"StreetAddress": f"{index} Long Street Name", "Locality": "Springfield", "Region": "XY",
                       "PostalCode": "12345", "Country": "US", "Formatted": f"{index} Long Street Name, Springfield",
                       "Type": "work", "Primary": True}],
        "PhoneNumbers": [{"Value": f"+1-555-{index:07d}", "Type": "work", "Primary": True}],
        "UserType": "Employee", "Title": "Software Engineer", "PreferredLanguage": "en-US", "Locale": "en-US",
        "Timezone": "America/Los_Angeles",
    }


class _Paginator:
    def __init__(self, pages: Any) -> None:
        self.pages = pages

    def paginate(self, **params: Any) -> Iterator[Dict[str, Any]]:
        return self.pages(**params)


class FakeIdentityStore:
    """ListUsers 100 a page, ListGroups, ListGroupMemberships per group (users spread over the groups)."""

    def __init__(self, users: int, groups: int) -> None:
        self.users, self.groups = users, groups

    def _users(self, **_: Any) -> Iterator[Dict[str, Any]]:
        for start in range(0, self.users, 100):
            yield {"Users": [_user(i) for i in range(start, min(start + 100, self.users))]}

    def _groups(self, **_: Any) -> Iterator[Dict[str, Any]]:
        yield {"Groups": [{"GroupId": f"g-{g}", "DisplayName": f"team-{g}", "IdentityStoreId": "d-1234567890"}
                          for g in range(self.groups)]}

    def _members(self, GroupId: str, **_: Any) -> Iterator[Dict[str, Any]]:
        group = int(GroupId.split("-")[1])
        members = range(group, self.users, self.groups)
        ids = list(members)
        for start in range(0, len(ids), 100):
            yield {"GroupMemberships": [{"MembershipId": f"m-{group}-{i}", "GroupId": GroupId,
                                         "MemberId": {"UserId": str(uuid.UUID(int=i + 1))},
                                         "IdentityStoreId": "d-1234567890"} for i in ids[start:start + 100]]}

    def get_paginator(self, name: str) -> _Paginator:
        return _Paginator({"list_users": self._users, "list_groups": self._groups,
                           "list_group_memberships": self._members}[name])

    def describe_user(self, **_: Any) -> Dict[str, Any]:
        raise AssertionError("every id is in the directory: no DescribeUser expected")


class FakeS3:
    def __init__(self, objects: Dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket: str, Key: str) -> Dict[str, Any]:
        import io

        if Key not in self.objects:
            error = Exception("NoSuchKey")
            error.response = {"Error": {"Code": "NoSuchKey"}}  # type: ignore[attr-defined]
            raise error
        return {"Body": io.BytesIO(self.objects[Key]), "ETag": '"etag"'}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> Dict[str, Any]:
        self.objects[Key] = Body
        return {"ETag": '"new"'}


def _child(users: int, groups: int, trace: bool) -> None:
    from kiro_analytics import identity_sync

    settings = identity_sync.SyncSettings(bucket="reports", mapping_key="user-mapping/user_mapping.csv",
                                          identity_store_id="d-1234567890", identity_region="us-east-1",
                                          database="kiro_analytics", workgroup="kiro-analytics")
    ids = [{"user_id": str(uuid.UUID(int=i + 1))} for i in range(users)]
    identity_sync.run_query = lambda *args, **kwargs: ids  # the report query's answer: every user active
    previous = identity_sync.render_mapping(
        {"userid": row["user_id"], "username": f"old {n}", "user_name": "", "email": "", "groups": ""}
        for n, row in enumerate(ids))
    s3 = FakeS3({settings.mapping_key: previous})
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:  # tracemalloc's own bookkeeping costs time and memory: RSS is measured in a run without it
        tracemalloc.start()
    started = time.perf_counter()
    result = identity_sync.sync_user_mapping(object(), FakeIdentityStore(users, groups), s3, settings)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    print(json.dumps({"users": result.users_written, "from_directory": result.from_directory,
                      "calls": result.identity_calls, "seconds": round(seconds, 1),
                      **({"python_peak_mib": round(peak / 2**20, 1)} if trace else {}),
                      "rss_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "rss_before_mib": round(baseline / 1024, 1)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.users, args.groups, args.trace)
        return 0
    for trace in ([], ["--trace"]):
        run = subprocess.run([sys.executable, __file__, "--child", "--users", str(args.users),
                              "--groups", str(args.groups), *trace], capture_output=True, text=True, check=True)
        print(run.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
