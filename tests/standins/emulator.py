"""A local AWS account on loopback: moto's server behind a recording, fault-injecting middleware, plus the
project's strict stand-ins hosted as HTTP endpoints for what moto skips or lacks.

Subprocesses reach it through AWS_ENDPOINT_URL (moto) and AWS_ENDPOINT_URL_<SERVICE> (stand-ins).
"""

from __future__ import annotations

import threading
import urllib.request
from typing import Dict, Optional

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .recording import CallLog, FaultPlan, recording_middleware
from .server import ModelServer


class Emulator:
    def __init__(self) -> None:
        self.log = CallLog()
        self.faults = FaultPlan()
        self.standins: Dict[str, ModelServer] = {}
        self._server: Optional[BaseWSGIServer] = None
        self.url = ""

    def start(self) -> "Emulator":
        app = recording_middleware(DomainDispatcherApplication(create_backend_app), self.log, self.faults)
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def host(self, service: str, handler: object) -> str:
        """Serve ``service`` from a stand-in (a callable taking operation name and params)."""
        server = ModelServer(service, handler, log=self.log, faults=self.faults)  # type: ignore[arg-type]
        self.standins[service] = server
        return server.start()

    def environment(self) -> Dict[str, str]:
        env = {"AWS_ENDPOINT_URL": self.url}
        for service, server in self.standins.items():
            assert server._server is not None
            env[f"AWS_ENDPOINT_URL_{service.upper()}"] = f"http://127.0.0.1:{server._server.server_address[1]}"
        return env

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request).read()
        self.log.calls.clear()

    def stop(self) -> None:
        for server in self.standins.values():
            server.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
