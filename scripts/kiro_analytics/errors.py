"""Typed errors and the exit codes that entry points map them to (the only place they live)."""

from __future__ import annotations

from typing import Iterable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_BUILT = 3
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


class NotBuiltError(KiroError):
    """A step whose capability has not landed yet: it must never pretend to succeed."""

    exit_code = EXIT_NOT_BUILT


class StepFailed(KiroError):
    """A deploy step failed in AWS; the message carries the service's own error text."""
