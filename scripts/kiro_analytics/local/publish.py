"""Replace the files of one local build together or not at all.

The database and the dashboard rendered from it are written beside their targets (``<name>.building``) and
renamed into place last. Each rename is atomic (os.replace); Ctrl-C is held back while the renames run, so an
interrupt lands before the first (nothing replaced) or after the last (everything replaced), never between two.
"""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple


@contextmanager
def _sigint_held() -> Iterator[None]:
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # not on POSIX: the renames still run back to back
        yield
        return
    previous = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)


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
