"""Waiting on asynchronous AWS work with a visible, bounded progress line.

Every long wait says what it waits for and for how long, and gives up with a clear message at its timeout.
Time and sleep are injectable so tests never actually sleep.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Optional, Tuple, TypeVar

from .errors import StepFailed

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Clock:
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


DEFAULT_CLOCK = Clock()


def wait_until(
    poll: Callable[[], Tuple[bool, str, Optional[T]]],
    what: str,
    timeout: float,
    interval: float = 5.0,
    clock: Clock = DEFAULT_CLOCK,
    hint: str = "",
) -> Optional[T]:
    """Call ``poll`` until it reports done; log ``what`` with the elapsed time and the poll's status text.

    ``poll`` returns (done, status_text, value). It raises StepFailed itself when the resource failed, so the
    service's own error text reaches the user.
    """
    start = clock.now()
    last_status = ""
    while True:
        done, status, value = poll()
        elapsed = clock.now() - start
        if done:
            log.info("%s: %s after %ds", what, status or "done", int(elapsed))
            return value
        if status != last_status or int(elapsed) % 30 < interval:
            log.info("waiting for %s: %s (%ds elapsed, timeout %ds)", what, status, int(elapsed), int(timeout))
            last_status = status
        if elapsed >= timeout:
            extra = f" {hint}" if hint else ""
            raise StepFailed(f"timed out after {int(timeout)}s waiting for {what} (last status: {status}).{extra}")
        clock.sleep(interval)
