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


def check_lr_after_reductions(answer: Any, lr: float = 0.001, factor: float = 0.5, reductions: int = 3) -> CheckResult:
    """Notebook 07, exercise 2: the learning rate after several cuts by ``factor``."""
    missing = not_answered(answer, "the learning rate")
    if missing is not None:
        return missing
    expected = lr
    for _ in range(reductions):
        expected *= factor
    return report(close_to(answer, expected, tolerance=1e-9),
                  f"{lr:g} x {factor:g}^{reductions} = {expected:g}.",
                  f"each cut multiplies the rate by {factor}; do it {reductions} times.")


# Ten epochs of a real-looking run: accuracy climbs, then stalls at 0.80, while the loss keeps falling.


SCHEDULE_LOSSES = (1.10, 0.85, 0.70, 0.62, 0.58, 0.55, 0.52, 0.50, 0.48, 0.46)


SCHEDULE_ACCURACIES = (0.55, 0.68, 0.74, 0.80, 0.79, 0.80, 0.78, 0.80, 0.79, 0.80)


DOCUMENT_LR = 0.001


def _lr_trace(make_scheduler: Callable, end_of_epoch: Callable | None, metric: str = "acc",
              **settings) -> tuple[list[float], Any]:
    """The learning rate after each epoch, with the student's functions or the document's settings."""
    optimizer = optim.Adam(nn.Linear(2, 2).parameters(), lr=DOCUMENT_LR)
    if make_scheduler is None:
        config = TrainConfig()
        settings = {"mode": "max", "factor": config.scheduler_factor, "patience": config.scheduler_patience,
                    **settings}
        scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, **settings)
    else:
        scheduler = call_student(make_scheduler, optimizer)
    trace = []
    for loss, acc in zip(SCHEDULE_LOSSES, SCHEDULE_ACCURACIES):
        if end_of_epoch is None:
            scheduler.step(acc if metric == "acc" else loss)
        else:
            call_student(end_of_epoch, scheduler, loss, acc)
        trace.append(optimizer.param_groups[0]["lr"])
    return trace, scheduler


@checked
def check_scheduler(make_scheduler: Callable, end_of_epoch: Callable) -> CheckResult:
    """Notebook 07, exercise 3: the document's scheduler, stepped on validation accuracy.

    ``make_scheduler(optimizer)`` must return ``ReduceLROnPlateau(optimizer, mode="max",
    factor=0.5, patience=3)``; ``end_of_epoch(scheduler, valid_loss, valid_acc)`` is called
    after each validation phase and must step it on the accuracy. The check runs both on a
    real Adam optimizer through ten epochs whose accuracy stalls while the loss keeps
    falling, and compares the learning rate after every epoch with the document's.
    """
    expected, _ = _lr_trace(None, None)
    scheduler = call_student(make_scheduler, optim.Adam(nn.Linear(2, 2).parameters(), lr=DOCUMENT_LR))
    if not isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
        return wrong(f"make_scheduler should return a ReduceLROnPlateau, not {type(scheduler).__name__}.")
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
        return wrong("the learning rate never changed: call scheduler.step(...) in end_of_epoch, every epoch.")
    if scheduler.mode == "max" and trace == _lr_trace(None, None, metric="loss")[0]:
        return wrong("you step on the loss with mode='max': a falling loss then looks like no progress, and the "
                     "rate is cut too early. Step on the validation accuracy.")
    return wrong(f"the learning rates per epoch are {trace}, expected {expected}: step once per epoch, on the "
                 "validation accuracy.")
