"""Replace the files of one local build together or not at all.

The database and the dashboard rendered from it are written beside their targets (``<name>.building``) and
renamed into place last. Each rename is atomic (os.replace); Ctrl-C is held back while the renames run, so an
interrupt lands before the first (nothing replaced) or after the last (everything replaced), never between two.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Ctrl-C during the block is remembered and acted on after it, and the previous handler is back either way.

    A Python-level handler rather than a signal mask: the kernel hands a SIGINT sent to the process to any thread
    that does not block it (DuckDB's workers, for one), so a mask on the main thread alone holds nothing; Python
    runs its handlers in the main thread whichever thread received the signal.
    """
    if threading.current_thread() is not threading.main_thread():  # signal.signal works in the main thread only
        yield
        return
    caught: List[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):
            previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt here
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt


def publish(moves: Sequence[Tuple[Path, Path]]) -> List[Path]:
    """Rename each staged file onto its target; returns the targets."""
    missing = [str(staged) for staged, _ in moves if not Path(staged).is_file()]
    if missing:
        raise FileNotFoundError(f"staged build output missing: {', '.join(missing)}")
    with _sigint_held():
        for staged, target in moves:
            os.replace(staged, target)
    return [Path(target) for _, target in moves]


def discard(paths: Sequence[Path]) -> None:
    """Remove staged files of a build that will not be published."""
    for path in paths:
        Path(path).unlink(missing_ok=True)
