"""A run folder belongs to one run: leafdl's marker, an OS lock, and checks before any write.

``leafdl train DATA --out runs/demo`` writes into ``runs/demo``. Three rules keep your
files safe there:

* **Only leafdl's folders.** leafdl writes into a missing or empty folder, or into one
  it made itself (it carries the marker ``.leafdl-run.json``). A folder with other files
  (your ``report.txt``, say) is refused, naming one of them.
* **A finished run is never replaced.** A folder that already holds a run
  (``last.ckpt``) is continued with ``--resume`` or left alone: training into it again
  without ``--resume`` is refused, saying so.
* **One writer at a time.** While a run writes its folder it holds an OS file lock
  (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows). A second ``leafdl train``
  into the same folder stops at once with a clear message; the lock dies with its
  process, so ``kill -9`` never leaves a folder locked. ``leafdl predict`` takes no lock:
  it reads the last complete ``model.pth`` (every file is written atomically).

The same kind of lock guards the outputs of ``leafdl data split/demo/apples/field``
(:func:`leafdl.locks.output_lock`, a ``.NAME.leafdl-lock`` file beside the output while it
is written).

``--resume`` also checks the data: the marker records a fingerprint of pre-split data
(:func:`leafdl.data.source_fingerprint`), so a resume on other images is refused instead
of mixing two validation sets in one history. (Class-folder data is checked by the
split's own marker.)

Example:
    >>> with claimed("runs/demo", "data/demo-split", resume=False):   # doctest: +SKIP
    ...     train_the_model()
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from leafdl import __version__
from leafdl.checkpoint import TRAINING_STATE_FILE, restore_model_file
from leafdl.data import is_split_folder, scan_class_folders, source_fingerprint
from leafdl.errors import LeafdlError
from leafdl.files import atomic_write_json, write_failed
from leafdl.locks import file_lock

RUN_MARKER = ".leafdl-run.json"
RUN_LOCK = ".leafdl-lock"
# What file managers and notebooks drop into any folder: never counted as your files.
SYSTEM_JUNK = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".ipynb_checkpoints", RUN_LOCK})


class RunFolderError(LeafdlError, ValueError):
    """The run folder cannot be written as asked; the message says why and what to do."""


# ---------------------------------------------------------------------------
# Whose folder is it?
# ---------------------------------------------------------------------------


def is_run_folder(run_dir: str | Path) -> bool:
    """True when ``run_dir`` carries leafdl's run marker, or is a run from before markers existed."""
    run_dir = Path(run_dir)
    if (run_dir / RUN_MARKER).is_file():
        return True
    try:   # runs written by leafdl 0.x before the marker: metadata.json names leafdl's version
        metadata = json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))
        return isinstance(metadata, dict) and "leafdl" in metadata.get("versions", {})
    except (OSError, ValueError, AttributeError):
        return False


def foreign_files(run_dir: Path) -> list[Path]:
    """The entries of ``run_dir`` that are not file managers' junk, sorted."""
    if not run_dir.is_dir():
        return []
    return sorted(entry for entry in run_dir.iterdir() if entry.name not in SYSTEM_JUNK)


def check_run_folder(run_dir: str | Path, resume: bool) -> None:
    """Refuse a ``--out`` that leafdl must not write into; see the module docstring."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"--out {run_dir} is a file; give a folder for the run (new, or an earlier run "
                             "to continue with --resume).")
    has_run = (run_dir / TRAINING_STATE_FILE).is_file()
    if resume and not has_run:
        raise RunFolderError(f"Nothing to resume: {run_dir / TRAINING_STATE_FILE} does not exist. "
                             "Start without --resume.")
    others = foreign_files(run_dir)
    if others and not is_run_folder(run_dir):
        raise RunFolderError(
            f"--out {run_dir} already holds files that leafdl did not write (e.g. {others[0].name}). "
            "To protect them nothing was written: choose a new or empty folder for --out.")
    if has_run and not resume:
        raise RunFolderError(
            f"--out {run_dir} already holds a training run (last.ckpt, model.pth). To continue or finish "
            "it, add --resume; to train a new model, choose another --out. Nothing was written.")


def write_marker(run_dir: Path, data_dir: Path, data_fingerprint: str | None) -> None:
    """Claim ``run_dir`` for leafdl: what it trains on, and when it started."""
    atomic_write_json({"written_by": "leafdl train", "leafdl": __version__,
                       "started": time.strftime("%Y-%m-%d %H:%M:%S"), "data": str(data_dir.resolve()),
                       "data_fingerprint": data_fingerprint}, run_dir / RUN_MARKER)


def read_marker(run_dir: Path) -> dict:
    """The run marker's content; ``{}`` for a run from before markers, or a damaged marker."""
    try:
        marker = json.loads((run_dir / RUN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


# ---------------------------------------------------------------------------
# The data a run trains on
# ---------------------------------------------------------------------------


def split_data_fingerprint(data_dir: Path) -> str | None:
    """A fingerprint of pre-split data (``train/`` and ``valid/``); ``None`` for class folders,
    whose split carries its own (see :func:`leafdl.data.split_dataset`)."""
    if not is_split_folder(data_dir):
        return None
    return "+".join(source_fingerprint(scan_class_folders(data_dir / part, check_images=False, min_classes=1))
                    for part in ("train", "valid"))


def check_same_data(run_dir: Path, data_dir: Path) -> None:
    """On ``--resume``: refuse pre-split data other than the run's (a history over two
    validation sets would compare nothing)."""
    recorded = read_marker(run_dir).get("data_fingerprint")
    if recorded is None:
        return
    if split_data_fingerprint(data_dir) != recorded:
        raise RunFolderError(
            f"{run_dir} was trained on other images than those in {data_dir} (it started on "
            f"{read_marker(run_dir).get('data')}): the image files differ. Resume with the run's own data, "
            "or start a new run in another --out folder.")


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


@contextmanager
def claimed(run_dir: str | Path, data_dir: str | Path, resume: bool,
            log: Callable[[str], None] = print) -> Iterator[None]:
    """Check ``run_dir``, lock it and mark it as this run's, for as long as the block runs.

    Raises :class:`RunFolderError` (a folder with your files, a finished run without
    ``--resume``, a resume on other data) or :class:`OutputBusyError` (another run
    writes there now) before anything is written.
    """
    run_dir, data_dir = Path(run_dir), Path(data_dir)
    check_run_folder(run_dir, resume)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_failed(run_dir, error) from error
    with file_lock(run_dir / RUN_LOCK, f"The run folder {run_dir}"):
        check_run_folder(run_dir, resume)   # again, now that no other process can change it
        if resume:
            check_same_data(run_dir, data_dir)
            _restore_model_file(run_dir, log)
        elif not (run_dir / RUN_MARKER).is_file():
            write_marker(run_dir, data_dir, split_data_fingerprint(data_dir))
        yield


def _restore_model_file(run_dir: Path, log: Callable[[str], None]) -> None:
    if restore_model_file(run_dir):
        log(f"{run_dir / 'model.pth'} was missing: rebuilt from the best weights in last.ckpt.")


def interrupted_note(run_dir: str | Path) -> str:
    """What ``leafdl train`` says after Ctrl-C: what was kept, and how to go on."""
    run_dir = Path(run_dir)
    if (run_dir / TRAINING_STATE_FILE).is_file():
        return (f"{run_dir} keeps the best model so far and last.ckpt; to finish, run the same command "
                "again with --resume.")
    return (f"No epoch was saved yet ({run_dir} has no last.ckpt); to start again, run the same command "
            "(without --resume).")
