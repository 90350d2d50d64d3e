"""Self-checks of notebook 11 (the full pipeline).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

import contextlib
import io
import math
import shlex
from pathlib import Path
from typing import Any

from leafdl.cli import build_parser
from leafdl.config import TrainConfig
from leafdl.course.exercises.common import CheckResult, close_to, not_answered, report


def check_resume_command(answer: Any, data_dir: str = "photos/apple", out: str = "runs/apple",
                         epochs: int = 20, device: str = "cuda") -> CheckResult:
    """Notebook 11, exercise 1: the command line that resumes an interrupted GPU run.

    The answer is parsed by the real ``leafdl`` argument parser, so any spelling the
    command accepts counts (options in any order, ``leafdl`` in front or not). Resuming
    needs the same data, the same run folder and the same number of epochs, plus
    ``--resume``.
    """
    missing = not_answered(answer, 'the command as a string, e.g. "leafdl train ..."')
    if missing is not None:
        return missing
    try:
        words = shlex.split(str(answer))
    except ValueError:
        words = []
    if words and words[0] in ("leafdl", "leafdl.exe"):
        words = words[1:]
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = build_parser().parse_args(words)
    except SystemExit:
        return report(False, "", "the command does not parse; start with `leafdl train DATA_DIR --out RUN_DIR` "
                                 "and check the options with `leafdl train --help`.")
    if args.command != "train":
        return report(False, "", "resuming is a training command: `leafdl train ...`.")
    wanted = {"the data folder": (Path(args.data_dir), Path(data_dir)), "--out": (args.out, Path(out)),
              "--epochs": (args.epochs, epochs), "--resume": (args.resume, True)}
    for what, (given, expected) in wanted.items():
        if given != expected:
            return report(False, "", f"check {what}: it should be {expected}, not {given}.")
    if not str(args.device).startswith(device):
        return report(False, "", f"the run was on the GPU: add --device {device}.")
    return report(True, "`--resume` reads last.ckpt in the run folder and continues with the model, "
                        "optimizer, scheduler and early-stopping state it saved.", "")


def check_optimizer_steps(answer: Any, n_images: int = 1000) -> CheckResult:
    """Notebook 11, exercise 2: optimizer steps of a full ``leafdl train`` run with the document's defaults.

    The split keeps ``ceil(valid_split * n)`` images for validation (scikit-learn rounds
    the test share up); the rest train in batches of ``batch_size`` (the last one may be
    smaller), one optimizer step per batch, for ``epochs`` epochs.
    """
    missing = not_answered(answer, "the number of optimizer steps (batches) in the whole run")
    if missing is not None:
        return missing
    config = TrainConfig()
    n_valid = math.ceil(config.valid_split * n_images)
    n_train = n_images - n_valid
    per_epoch = math.ceil(n_train / config.batch_size)
    expected = per_epoch * config.epochs
    return report(close_to(answer, expected),
                  f"{n_images} images -> {n_train} for training -> ceil({n_train}/{config.batch_size}) = "
                  f"{per_epoch} batches per epoch x {config.epochs} epochs = {expected} steps "
                  "(fewer if early stopping ends the run).",
                  f"first the split: {config.valid_split:.0%} of the images are for validation only; "
                  f"then batches of {config.batch_size} per epoch, for {config.epochs} epochs.")
