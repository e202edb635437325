"""Lambda Invoke for moto without Docker: run the deployed function's handler in this process, with the function's
own environment (the variables the stack set), its name, region and timeout, against the emulated account.

moto without Docker answers every Invoke with a canned 200 and never runs the handler, which would let step 6's
smoke test of the deployed function pass on nothing. Here the handler named by the function's configuration runs
for real; its failure comes back as a function error (X-Amz-Function-Error, an errorMessage/errorType payload and
the log tail), as Lambda reports one. The code it runs is this repository's package; the function's CodeSha256 is
checked against the zip step 1 builds from it, so a function deployed from other code is refused, not run.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import io
import json
import logging
import os
import threading
import traceback
from typing import Any, Dict, Iterator, List, Optional, Tuple

from moto.awslambda.models import LambdaFunction

_LOCK = threading.Lock()  # the handler reads os.environ: one run at a time


class _Context:
    def __init__(self, function: LambdaFunction) -> None:
        self.invoked_function_arn = function.function_arn
        self.function_name = function.function_name
        self._timeout = int(function.timeout)

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout * 1000


def _code_sha(function: LambdaFunction) -> str:
    from kiro_analytics.lambda_package import build_package

    return base64.b64encode(hashlib.sha256(build_package().body).digest()).decode()


@contextlib.contextmanager
def lambda_runs(endpoint: str = "") -> Iterator[List[Dict[str, Any]]]:
    """While active, Invoke runs the handler; yields the list of runs (event, result, errored) for assertions."""
    runs: List[Dict[str, Any]] = []
    original = LambdaFunction._invoke_lambda

    def invoke(self: LambdaFunction, event: Optional[Any] = None) -> Tuple[str, bool, str]:
        event = {} if event in (None, "{}") else event
        if self.code_sha_256 != _code_sha(self):
            result = {"errorMessage": "stand-in: the function's code is not this repository's package",
                      "errorType": "StaleCode"}
            runs.append({"event": event, "result": result, "errored": True})
            return json.dumps(result), True, ""
        module_name, handler_name = self.handler.rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), handler_name)
        environment = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
                       "AWS_LAMBDA_FUNCTION_NAME": self.function_name, **self.environment_vars}
        if endpoint:
            environment["AWS_ENDPOINT_URL"] = endpoint
        buffer = io.StringIO()
        capture = logging.StreamHandler(buffer)
        with _LOCK:
            saved = {key: os.environ.get(key) for key in environment}
            os.environ.update({key: str(value) for key, value in environment.items()})
            logging.getLogger().addHandler(capture)
            try:
                result: Any = handler(event, _Context(self))
                errored = False
            except Exception as exc:  # noqa: BLE001 - the function's failure is the answer, as in Lambda
                result = {"errorMessage": str(exc), "errorType": type(exc).__name__,
                          "stackTrace": traceback.format_exc().splitlines()[-5:]}
                buffer.write(f"[ERROR] {type(exc).__name__}: {exc}\n")
                errored = True
            finally:
                logging.getLogger().removeHandler(capture)
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        runs.append({"event": event, "result": result, "errored": errored})
        return json.dumps(result, default=str), errored, buffer.getvalue()[-4000:]

    LambdaFunction._invoke_lambda = invoke
    try:
        yield runs
    finally:
        LambdaFunction._invoke_lambda = original
