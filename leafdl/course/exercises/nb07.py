"""Self-checks of notebook 07 (learning-rate scheduling).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn, optim

from leafdl.config import TrainConfig
from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, not_answered, report,
                                            wrong)
from leafdl.course.widgets import trace_plateau_schedule


def check_first_reduction_epoch(answer: Any, metrics: list[float], patience: int = 2,
                                factor: float = 0.5) -> CheckResult:
    """Notebook 07, exercise 1: after which epoch ReduceLROnPlateau (mode="max") first cuts the rate."""
    missing = not_answered(answer, "an epoch number")
    if missing is not None:
        return missing
    steps = trace_plateau_schedule(metrics, factor=factor, patience=patience, mode="max")
    reduced = [step.epoch for step in steps if step.reduced]
    if not reduced:
        return wrong(f"this series never triggers a cut with patience {patience}, so no epoch is the answer.")
    expected = reduced[0]
    counts = ", ".join(str(step.bad_epochs) for step in steps[:expected])
    return report(close_to(answer, expected),
                  f"the bad-epoch counts run {counts}: epoch {expected} is the first to exceed patience {patience}.",
                  f"write down the best so far and the count of bad epochs after each epoch; the cut comes "
                  f"when the count exceeds {patience} (a tie is not an improvement).")


def check_lr_after_flat_epochs(answer: Any, epochs: int = 12, lr: float = 0.001, factor: float = 0.5,
                               patience: int = 3) -> CheckResult:
    """Notebook 07, exercise 2: the learning rate after ``epochs`` epochs in which accuracy never beats epoch 1.

    Replays the run through a real ``ReduceLROnPlateau(mode="max")``: the first epoch sets
    the best, every later one is a bad epoch. The rate is cut when the count of bad
    epochs *exceeds* ``patience``, and the count starts again from 0 after each cut, so
    the cuts come every ``patience + 1`` epochs, not at every epoch once the patience is
    used up.
    """
    missing = not_answered(answer, "the learning rate after the last epoch")
    if missing is not None:
        return missing
    optimizer = optim.SGD(nn.Linear(2, 2).parameters(), lr=lr)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=factor, patience=patience)
    cuts = []
    for epoch in range(1, epochs + 1):
        before = optimizer.param_groups[0]["lr"]
        scheduler.step(0.70)                       # the same accuracy every epoch: never a new best
        if optimizer.param_groups[0]["lr"] < before:
            cuts.append(epoch)
    expected = optimizer.param_groups[0]["lr"]
    bad_epochs = epochs - 1
    mistakes = {
        lr * factor ** (bad_epochs - patience): "after a cut the count of bad epochs starts again from 0: the next "
                                                f"cut needs {patience + 1} more bad epochs, not one.",
        lr * factor ** (bad_epochs // patience): f"either you cut after {patience} bad epochs (the count must *exceed* "
                                                 f"patience, so {patience + 1} are needed), or you counted epoch 1 "
                                                 "as bad (it sets the best).",
        lr * factor: "the scheduler does not stop after one cut: the count starts again, and it cuts again "
                     f"after {patience + 1} more bad epochs.",
    }
    hint = next((hint for value, hint in mistakes.items() if not close_to(value, expected, 1e-9)
                 and close_to(answer, value, 1e-9)), None)
    return report(close_to(answer, expected, tolerance=1e-9),
                  f"cuts after epochs {', '.join(map(str, cuts))}: {lr:g} x {factor:g}^{len(cuts)} = {expected:g}. "
                  f"Every {patience + 1} bad epochs, because the count starts again after each cut.",
                  hint or f"write down, for each epoch, the count of bad epochs and the rate; a cut when the count "
                          f"exceeds {patience}, then the count goes back to 0.")


# Ten epochs of a real-looking run: accuracy climbs, then stalls at 0.80, while the loss keeps falling.


SCHEDULE_LOSSES = (1.10, 0.85, 0.70, 0.62, 0.58, 0.55, 0.52, 0.50, 0.48, 0.46)


SCHEDULE_ACCURACIES = (0.55, 0.68, 0.74, 0.80, 0.79, 0.80, 0.78, 0.80, 0.79, 0.80)


DOCUMENT_LR = 0.001


SCHEDULER_ADVICE = {
    "missing 1 required positional argument: 'metrics'": "ReduceLROnPlateau needs the number it watches: "
                                                         "scheduler.step(valid_acc).",
    "Factor should be": "The factor multiplies the rate at each cut, so it is below 1: 0.5 halves it.",
    "is unknown": "The mode is 'max' (higher is better, for an accuracy) or 'min' (for a loss).",
}


def _lr_trace(make_scheduler: Callable | None, end_of_epoch: Callable | None, metric: str = "acc",
              steps_per_epoch: int = 1, **settings) -> tuple[list[float], Any]:
    """The learning rate after each epoch, with the student's functions or the document's settings."""
    optimizer = optim.Adam(nn.Linear(2, 2).parameters(), lr=DOCUMENT_LR)
    if make_scheduler is None:
        config = TrainConfig()
        settings = {"mode": "max", "factor": config.scheduler_factor, "patience": config.scheduler_patience,
                    **settings}
        scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, **settings)
    else:
        scheduler = call_student(make_scheduler, optimizer, advice=SCHEDULER_ADVICE)
    trace = []
    for loss, acc in zip(SCHEDULE_LOSSES, SCHEDULE_ACCURACIES):
        if end_of_epoch is None:
            for _ in range(steps_per_epoch):
                scheduler.step(acc if metric == "acc" else loss)
        else:
            call_student(end_of_epoch, scheduler, loss, acc, advice=SCHEDULER_ADVICE)
        trace.append(optimizer.param_groups[0]["lr"])
    return trace, scheduler


@checked
def check_scheduler(make_scheduler: Callable, end_of_epoch: Callable) -> CheckResult:
    """Notebook 07, exercise 3: the document's scheduler, stepped on validation accuracy.

    ``make_scheduler(optimizer)`` must return ``ReduceLROnPlateau(optimizer, mode="max",
    factor=0.5, patience=3)``; ``end_of_epoch(scheduler, valid_loss, valid_acc)`` is called
    after each validation phase and must step it on the accuracy, once. The check runs both
    on a real Adam optimizer through ten epochs whose accuracy stalls while the loss keeps
    falling, and compares the learning rate after every epoch with the document's.
    """
    expected, _ = _lr_trace(None, None)
    scheduler = call_student(make_scheduler, optim.Adam(nn.Linear(2, 2).parameters(), lr=DOCUMENT_LR),
                             advice=SCHEDULER_ADVICE)
    if scheduler is None:
        return wrong("make_scheduler returns nothing: end it with `return optim.lr_scheduler.ReduceLROnPlateau(...)`.")
    if not isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
        return wrong(f"make_scheduler should return a ReduceLROnPlateau, not {type(scheduler).__name__}: the "
                     "document cuts the rate when the validation accuracy stops improving, not on a timetable.")
    trace, scheduler = _lr_trace(make_scheduler, end_of_epoch)
    if trace == expected:
        cut = next(epoch for epoch, lr in enumerate(expected, start=1) if lr < DOCUMENT_LR)
        return report(True, f"the rate halves after epoch {cut}, once accuracy has not beaten 0.80 for more "
                            f"than 3 epochs: {', '.join(f'{lr:g}' for lr in expected)}.", "")
    if scheduler.mode == "min":
        if trace == _lr_trace(None, None, metric="loss", mode="min")[0]:
            return wrong("stepping on the loss (mode='min') is a valid choice, but not the document's: it steps "
                         "on the validation accuracy, with mode='max'.")
        return wrong("mode='min' treats a rising accuracy as getting worse: for an accuracy, higher is better, "
                     "so use mode='max' (and step on the accuracy).")
    config = TrainConfig()
    if scheduler.factor != config.scheduler_factor:
        return wrong(f"the rate is multiplied by {scheduler.factor:g} at each cut; the document halves it.")
    if scheduler.patience != config.scheduler_patience:
        return wrong(f"patience is {scheduler.patience}; the document waits {config.scheduler_patience} epochs "
                     "without improvement.")
    if trace == [DOCUMENT_LR] * len(trace):
        return wrong("the learning rate never changed: every epoch, call scheduler.step(valid_acc) on the scheduler "
                     "end_of_epoch is given (a new scheduler made each epoch forgets the epochs it has counted).")
    if scheduler.mode == "max" and trace == _lr_trace(None, None, metric="loss")[0]:
        return wrong("you step on the loss with mode='max': a falling loss then looks like no progress, and the "
                     "rate is cut too early. Step on the validation accuracy.")
    if trace == _lr_trace(None, None, steps_per_epoch=2)[0] or scheduler.last_epoch == 2 * len(trace):
        return wrong("the scheduler was stepped twice per epoch, so it counts every bad epoch twice: call "
                     "scheduler.step(valid_acc) once per epoch.")
    return wrong(f"the learning rates per epoch are {trace}, expected {expected}: step once per epoch, on the "
                 "validation accuracy.")
