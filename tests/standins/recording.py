"""Count every AWS operation an emulated account receives, and inject faults (throttling, errors) into some.

The middleware sits in front of moto's WSGI app; stand-ins hosted by ModelServer consult the same FaultPlan.
Operations are named from the request itself (service from the SigV4 credential scope, operation from
X-Amz-Target, the query Action, or the botocore model's request URIs), so the count is the server's view,
not the client's.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs

from kiro_analytics.plan import is_mutating

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
QUERY_SERVICES = {"sts", "iam", "cloudformation", "sns", "monitoring", "cloudwatch"}
SIGNING_TO_MODEL = {"monitoring": "cloudwatch", "execute-api": "apigateway", "logs": "logs", "events": "events"}


@dataclass
class Call:
    service: str
    operation: str
    params: Dict[str, Any] = field(default_factory=dict)  # kept for JSON-protocol requests

    @property
    def mutating(self) -> bool:
        return is_mutating(self.operation)


@dataclass
class Fault:
    service: str
    operation: str
    code: str = "ThrottlingException"
    message: str = "Rate exceeded"
    status: int = 400
    times: int = 1  # answer the first N matching calls with the fault


@dataclass
class FaultPlan:
    faults: List[Fault] = field(default_factory=list)
    injected: List[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, service: str, operation: str) -> Optional[Fault]:
        with self._lock:
            for fault in self.faults:
                if fault.service == service and fault.operation == operation and fault.times > 0:
                    fault.times -= 1
                    self.injected.append(Call(service, operation))
                    return fault
        return None


class CallLog:
    def __init__(self) -> None:
        self.calls: List[Call] = []
        self._lock = threading.Lock()

    def add(self, service: str, operation: str, params: Optional[Dict[str, Any]] = None) -> None:
        with self._lock:
            self.calls.append(Call(service, operation, params or {}))

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> List[Call]:
        return self.calls[mark:]

    @staticmethod
    def mutating(calls: Iterable[Call]) -> List[Tuple[str, str]]:
        return [(call.service, call.operation) for call in calls if call.mutating]


def rest_operation(service: str, method: str, path: str) -> str:
    """Name a REST call from the model's request URIs; S3 (many ops per URI) is named by method."""
    if service == "s3":
        return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "POST": "PostObject",
                "DELETE": "DeleteObject"}.get(method, method)
    from .server import ModelServer

    try:
        operation, _ = ModelServer.resolver(service).decode(method, path, {}, b"")
        return operation.name
    except Exception:  # noqa: BLE001 - an unknown route is still a call; name it by method and path
        return f"{method} {path.split('?')[0]}"


def identify(environ: Dict[str, Any], body: bytes) -> Tuple[str, str]:
    match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = SIGNING_TO_MODEL.get(match.group(1), match.group(1)) if match else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.split(".")[-1]
    if service in QUERY_SERVICES or (service == "unknown" and body.startswith(b"Action=")):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        action = action or parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
        return service, action
    path = environ.get("PATH_INFO", "/")
    if environ.get("QUERY_STRING"):
        path += "?" + environ["QUERY_STRING"]
    return service, rest_operation(service, environ.get("REQUEST_METHOD", "GET"), path)


def fault_response(service: str, fault: Fault) -> Tuple[str, List[Tuple[str, str]], bytes]:
    status = f"{fault.status} Error"
    if service in QUERY_SERVICES:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code>"
                f"<Message>{fault.message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
        return status, [("Content-Type", "text/xml")], body.encode()
    if service == "s3":
        body = f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
        return status, [("Content-Type", "application/xml")], body.encode()
    body = f'{{"__type": "{fault.code}", "message": "{fault.message}"}}'
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", fault.code)], body.encode()


def recording_middleware(app: Callable, log: CallLog, faults: FaultPlan) -> Callable:
    def middleware(environ: Dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation = identify(environ, body)
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            params = {}
            if environ.get("HTTP_X_AMZ_TARGET") and body:
                with contextlib.suppress(ValueError):
                    params = json.loads(body)
            log.add(service, operation, params)
            fault = faults.take(service, operation)
            if fault is not None:
                status, headers, payload = fault_response(service, fault)
                start_response(status, [*headers, ("Content-Length", str(len(payload)))])
                return [payload]
        return app(environ, start_response)

    return middleware
