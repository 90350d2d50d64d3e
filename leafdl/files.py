"""Writing files so that a crash, Ctrl-C or a full disk never leaves a half-written one.

Two habits, used by every part of leafdl that writes:

* **Build beside, then rename.** A file (or a whole folder, such as a train/valid
  split) is written under a temporary name next to its target and renamed into place
  when complete. A rename is all-or-nothing, so a reader sees the old version or the
  new one, never half of it.
* **Say what failed.** A full disk shows up as an ``OSError`` from Python or as a
  ``RuntimeError`` such as ``basic_ios::clear`` from torch. Both become a
  :class:`~leafdl.errors.WriteFailedError` naming the path and the free space left.

Temporaries carry leafdl's own naming (``.model.pth.k2x9.tmp``, ``.split.leafdl-tmp-k2x9``),
so a run killed with ``kill -9`` leaves files that the next run in that folder can
recognise and remove (:func:`remove_stale_temporaries`); nothing else is ever removed.

Example:
    >>> atomic_write(Path("runs/demo/notes.txt"), lambda tmp: tmp.write_text("hi"))  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from leafdl.errors import WriteFailedError

TEMP_FILE_SUFFIX = ".tmp"
TEMP_FOLDER_TAG = ".leafdl-tmp-"

# How torch reports a failed write (its C++ stream gives no errno): seen for a full disk.
TORCH_WRITE_FAILURES = ("basic_ios::clear", "file write failed", "unexpected pos")


def is_write_failure(error: BaseException) -> bool:
    """True for the errors a full disk (or a write-protected folder) raises."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG)
    return isinstance(error, RuntimeError) and any(text in str(error) for text in TORCH_WRITE_FAILURES)


def write_failed(path: Path, error: BaseException) -> WriteFailedError:
    """A :class:`WriteFailedError` for ``path`` that says why, and how much space is left."""
    folder = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(folder).free
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error).splitlines()[0][:120]
    return WriteFailedError(
        f"Could not write {path} ({reason}); {free / 2**20:.1f} MB are free on that disk. Nothing "
        "half-written was left behind. Free some space (or fix the folder's permissions), or "
        "write somewhere else, then run the command again.")


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary_path)``, then rename the result to ``path`` in one step."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_FILE_SUFFIX, dir=path.parent)
        os.close(handle)
    except OSError as error:
        raise write_failed(path, error) from error
    try:
        write(Path(temporary))
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes owner-only files; a saved model is for sharing
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if is_write_failure(error):
            raise write_failed(path, error) from error
        raise


def atomic_write_json(data: object, path: str | Path) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2) + "\n"
    atomic_write(Path(path), lambda temporary: temporary.write_text(text, encoding="utf-8"))


@contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """Yield an empty folder beside ``target``; on success, rename it to ``target``.

    ``target`` must not exist, or be an empty folder. On any failure (a full disk,
    Ctrl-C) the staging folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{TEMP_FOLDER_TAG}", dir=target.parent))
    except OSError as error:
        raise write_failed(target, error) from error
    try:
        yield staging
        if target.is_dir():
            target.rmdir()   # only an empty folder: rmdir refuses anything else
        os.replace(staging, target)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if is_write_failure(error):
            raise write_failed(target, error) from error
        raise


def remove_stale_temporaries(folder: Path, names: tuple[str, ...], *, patterns: tuple[str, ...] = ()) -> list[Path]:
    """Remove temporaries that an earlier, killed run left for the files or folders ``names``.

    Only leafdl's own naming is touched: ``.{name}.*.tmp`` files and
    ``.{name}.leafdl-tmp-*`` folders. ``names`` are taken literally, so a folder called
    ``runs[1]`` never matches a user's ``.runs1.notes.tmp``; ``patterns`` are glob
    patterns that leafdl itself writes (``scab_*.jpg``), to cover a family of files.
    Returns what was removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for name in [*(glob.escape(name) for name in names), *patterns]:
        for path in [*folder.glob(f".{name}.*{TEMP_FILE_SUFFIX}"), *folder.glob(f".{name}{TEMP_FOLDER_TAG}*")]:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed
