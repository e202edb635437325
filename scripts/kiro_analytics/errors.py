"""Typed errors and the exit codes that entry points map them to (the only place they live)."""

from __future__ import annotations

from typing import Collection, Iterable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class KiroError(Exception):
    """Base for errors the entry points report as a message, never a traceback."""

    exit_code = EXIT_FAILED


class InputError(KiroError):
    """Bad input (config, files, arguments): nothing was sent to AWS."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(InputError):
    """Every problem found in a config file, reported at once."""

    def __init__(self, path: str, problems: Iterable[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s):\n{lines}")


class StepFailed(KiroError):
    """A deploy step failed in AWS; the message carries the service's own error text."""


# Duck-typed on botocore's ClientError (its ``response`` dict): this module ships in the Lambda without botocore
# being imported by it, and every client's modelled exceptions (glue.exceptions.…) are ClientErrors too.
def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError (e.g. "NoSuchKey", "404"); "" for any other exception."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def error_message(exc: BaseException) -> str:
    """The service's own error message of a ClientError; "" for any other exception."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Message", "")) if isinstance(response, dict) else ""


def is_missing(exc: BaseException, codes: Collection[str]) -> bool:
    """True when ``exc`` is an AWS error whose code is one of ``codes``: the caller's own "not found" codes."""
    code = error_code(exc)
    return bool(code) and code in codes
