"""One writer at a time: an OS file lock that dies with its process.

A second ``leafdl`` process that wants to write the same output while the first still
writes it must stop at once with a clear message, not interleave its files with the
first one's. :func:`file_lock` holds an exclusive lock on a small lock file
(``fcntl.flock`` on Linux and macOS, ``msvcrt.locking`` on Windows) while a block runs.
The operating system releases it when the process ends, however it ends, so ``kill -9``
never leaves an output locked for ever.

:func:`output_lock` is the lock of an output folder that is built beside its target and
renamed into place (``leafdl data split/demo/apples/field``); a run folder has its own
lock file inside it (:mod:`leafdl.run_folder`).

Example:
    >>> with output_lock("data/demo-split"):          # doctest: +SKIP
    ...     build_the_split()
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import ContextManager, Iterator

from leafdl.errors import LeafdlError
from leafdl.files import write_failed

LOCK_SUFFIX = ".leafdl-lock"


class OutputBusyError(LeafdlError, RuntimeError):
    """Another leafdl process is writing the same output right now."""


def _try_lock(handle) -> bool:
    """Take an exclusive, non-blocking lock on an open file; False if another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _holder(lock_path: Path) -> str:
    try:
        pid = lock_path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""


@contextmanager
def file_lock(lock_path: str | Path, what: str) -> Iterator[None]:
    """Hold an exclusive OS lock on ``lock_path`` while the block runs.

    If another process holds it, raise :class:`OutputBusyError` at once (never wait):
    ``what`` names the output in the message. The lock file is removed on release; one
    left by a killed process is simply locked again (a dead process holds no lock).
    """
    lock_path = Path(lock_path)
    try:
        handle = open(lock_path, "a+", encoding="utf-8")
    except OSError as error:
        raise write_failed(lock_path, error) from error
    with handle:
        # Another process may remove the file between our open and our lock: then lock the new one.
        if not _try_lock(handle) or not _same_file(handle, lock_path):
            raise OutputBusyError(
                f"{what} is being written by another leafdl process right now{_holder(lock_path)}. "
                "Wait for it to finish (or stop it), or write somewhere else.")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            lock_path.unlink(missing_ok=True)   # while still locked: the next writer makes a new one


def _same_file(handle, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except OSError:
        return False


def output_lock(target: str | Path) -> ContextManager[None]:
    """The lock of an output folder that is built elsewhere and renamed into place.

    ``leafdl data split SRC OUT`` builds ``OUT`` beside it, so its lock lives beside it
    too: ``.OUT.leafdl-lock`` in ``OUT``'s parent folder.
    """
    target = Path(os.path.abspath(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_failed(target, error) from error
    return file_lock(target.parent / f".{target.name}{LOCK_SUFFIX}", str(target))
