"""Host an in-process stand-in as a real HTTP endpoint, so subprocesses (deploy.sh) can reach it.

Requests are decoded with the botocore service model (JSON protocol via X-Amz-Target, REST-JSON via the
operation's requestUri), validated by kiro_analytics.request_validation, and handed to ``handler(operation,
params)``; the return value is encoded as the model's output shape. A stand-in raises StandinError to answer
with a service error the client parses into the right exception class.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlparse

import botocore.session
from kiro_analytics.request_validation import request_problems

Handler = Callable[[str, Dict[str, Any]], Dict[str, Any]]


class StandinError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _uri_pattern(template: str) -> Tuple["re.Pattern[str]", List[str]]:
    path = template.split("?", 1)[0]
    names: List[str] = []

    def group(match: "re.Match[str]") -> str:
        name = match.group(1)
        greedy = name.endswith("+")
        names.append(name.rstrip("+"))
        return "(.+)" if greedy else "([^/]+)"

    return re.compile("^" + re.sub(r"\{([^}]+)\}", group, re.escape(path).replace(r"\{", "{").replace(r"\}", "}"))
                      + "/?$"), names


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _coerce(shape: Any, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        return int(text)
    if shape.type_name == "boolean":
        return text.lower() == "true"
    if shape.type_name in ("double", "float"):
        return float(text)
    return text


_RESOLVERS: Dict[str, "ModelServer"] = {}


class ModelServer:
    """One AWS service, served from its botocore model, backed by a Python handler."""

    def __init__(self, service: str, handler: Optional[Handler] = None, validate: bool = True,
                 log: Any = None, faults: Any = None) -> None:
        self.model = botocore.session.get_session().get_service_model(service)
        self.service = service
        self.handler = handler
        self.validate = validate
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.log = log  # recording.CallLog shared with the moto middleware
        self.faults = faults  # recording.FaultPlan
        self.routes = []
        for name in self.model.operation_names:
            operation = self.model.operation_model(name)
            http = operation.http
            pattern, names = _uri_pattern(http.get("requestUri", "/"))
            self.routes.append((http.get("method", "POST"), pattern, names, operation))
        # Longer literal URIs first, so /dashboards/{id}/versions wins over /dashboards/{id}.
        self.routes.sort(key=lambda route: -len(route[1].pattern))
        self._server: Optional[ThreadingHTTPServer] = None

    @classmethod
    def resolver(cls, service: str) -> "ModelServer":
        """A handler-less instance, cached per service, for naming requests."""
        if service not in _RESOLVERS:
            _RESOLVERS[service] = cls(service)
        return _RESOLVERS[service]

    # -- decoding ---------------------------------------------------------------------------------------------
    def decode(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> Tuple[Any, Dict[str, Any]]:
        protocol = self.model.metadata["protocol"]
        if protocol == "json":
            target = headers.get("x-amz-target", "")
            operation = self.model.operation_model(target.split(".")[-1])
            return operation, json.loads(body or b"{}")
        parsed = urlparse(path)
        for route_method, pattern, names, operation in self.routes:
            match = pattern.match(parsed.path)
            if route_method != method or not match:
                continue
            params: Dict[str, Any] = {}
            shape = operation.input_shape
            members = shape.members if shape is not None else {}
            uri_values = dict(zip(names, (unquote(value) for value in match.groups())))
            query = parse_qs(parsed.query)
            for member_name, member in members.items():
                location = member.serialization.get("location")
                wire = member.serialization.get("name", member_name)
                if location == "uri" and wire in uri_values:
                    params[member_name] = _coerce(member, uri_values[wire])
                elif location == "querystring" and wire in query:
                    values = query[wire]
                    params[member_name] = values if member.type_name == "list" else _coerce(member, values[0])
                elif location == "header" and wire.lower() in headers:
                    params[member_name] = _coerce(member, headers[wire.lower()])
            if body:
                payload = json.loads(body)
                for member_name, value in payload.items():
                    if member_name in members and not members[member_name].serialization.get("location"):
                        params[member_name] = value
            return operation, params
        raise StandinError("UnknownOperationException", f"no {self.service} operation for {method} {parsed.path}", 404)

    # -- encoding ---------------------------------------------------------------------------------------------
    def encode(self, operation: Any, result: Dict[str, Any]) -> Tuple[int, Dict[str, str], bytes]:
        status = 200
        headers = {"Content-Type": "application/json"}
        body: Dict[str, Any] = {}
        shape = operation.output_shape
        members = shape.members if shape is not None else {}
        for name, value in result.items():
            member = members.get(name)
            location = member.serialization.get("location") if member is not None else None
            if location == "statusCode":
                status = int(value)
            elif location == "header":
                headers[member.serialization.get("name", name)] = str(value)
            elif member is not None:
                body[name] = value
        return status, headers, json.dumps(_jsonable(body)).encode()

    def error(self, exc: StandinError) -> Tuple[int, Dict[str, str], bytes]:
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": exc.code}
        body = {"__type": exc.code, "message": exc.message, "Message": exc.message}
        return exc.status, headers, json.dumps(body).encode()

    def handle(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> Tuple[int, Dict[str, str], bytes]:
        try:
            operation, params = self.decode(method, path, headers, body)
            if self.validate:
                problems = request_problems(self.service, operation.name, params)
                if problems:
                    raise StandinError("ValidationException", "; ".join(problems[:10]))
            self.calls.append((operation.name, params))
            if self.log is not None:
                self.log.add(self.service, operation.name, params)
            fault = self.faults.take(self.service, operation.name) if self.faults is not None else None
            if fault is not None:
                raise StandinError(fault.code, fault.message, fault.status)
            assert self.handler is not None, "a resolver-only ModelServer cannot serve"
            return self.encode(operation, self.handler(operation.name, params) or {})
        except StandinError as exc:
            return self.error(exc)

    # -- serving ----------------------------------------------------------------------------------------------
    def start(self) -> str:
        owner = self

        class Request(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, out_headers, payload = owner.handle(self.command, self.path, headers, body)
                self.send_response(status)
                for key, value in out_headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Request)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
