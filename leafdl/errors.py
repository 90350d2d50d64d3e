"""leafdl's own errors: problems with what a user gave it, each explained in plain words.

Every error that a user can fix (a wrong path, a bad option, a broken photo, a full
disk) is a :class:`LeafdlError`. Its message says what is wrong and what to do next.
The ``leafdl`` command prints such an error as one line and exits with status 2;
anything else is a bug in leafdl and keeps its traceback, so it can be reported.

Each module raises its own subclass (``DatasetError`` in :mod:`leafdl.data`,
``WeightsUnavailableError`` in :mod:`leafdl.weights`, ...), so ``except LeafdlError`` catches
them all. This module imports nothing heavy: the command line uses it before torch loads.
"""

from __future__ import annotations


class LeafdlError(Exception):
    """Something the user can fix; the message says what and how."""


class OptionError(LeafdlError, ValueError):
    """A setting (a ``TrainConfig`` field or a command-line option) has a value that cannot work."""


class CheckpointError(LeafdlError, RuntimeError):
    """A checkpoint or weights file that cannot be used; the message says why and what to do.

    Raised by :mod:`leafdl.checkpoint` (which also exports it) and by
    :func:`leafdl.weights.safe_torch_load`, which both that module and the pretrained
    weights use; so it lives here, below both.
    """


class WriteFailedError(LeafdlError, OSError):
    """A file or folder could not be written (disk full, no permission); nothing half-written is left."""
