"""Self-checks of notebook 08 (early stopping).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from leafdl.course.exercises.common import (CheckResult, StudentCodeFailed, call_student, checked, close_to,
                                            not_answered, report, wrong)
from leafdl.engine import EarlyStopping


def _stop_epoch(accuracies: list[float], patience: int) -> int | None:
    """The 1-based epoch after which EarlyStopping(patience) stops, or None if it never does."""
    stopper = EarlyStopping(patience=patience)
    for epoch, accuracy in enumerate(accuracies, start=1):
        stopper.step(accuracy)
        if stopper.should_stop:
            return epoch
    return None


EXERCISE_08_ACCURACIES = (0.70, 0.78, 0.81, 0.80, 0.81, 0.83, 0.82, 0.82, 0.83, 0.84)


def check_stop_epoch(answer: Any, accuracies: tuple[float, ...] = EXERCISE_08_ACCURACIES,
                     patience: int = 3) -> CheckResult:
    """Notebook 08, exercise 1: after which epoch early stopping ends this run.

    Replays the accuracies through :class:`leafdl.engine.EarlyStopping`.
    """
    missing = not_answered(answer, "the epoch number (1 for the first epoch) after which training stops")
    if missing is not None:
        return missing
    expected = _stop_epoch(list(accuracies), patience)
    best = max(accuracies[:expected])
    best_epoch = accuracies.index(best) + 1
    return report(close_to(answer, expected),
                  f"the best is {best:.2f} at epoch {best_epoch}; epochs {best_epoch + 1} to {expected} "
                  f"do not beat it (the {best:.2f} at epoch {expected} only ties it), so the counter "
                  f"reaches {patience} after epoch {expected}.",
                  "a new best must be strictly greater; an equal accuracy adds 1 to the counter, "
                  "and the counter restarts at 0 on every new best.")


def check_latest_useful_best_epoch(answer: Any, epochs: int = 20, patience: int = 7) -> CheckResult:
    """Notebook 08, exercise 2: the latest best epoch for which early stopping saves an epoch.

    Tries every best epoch with a run that rises until it and stays flat after it, and
    keeps those whose stop comes before the last epoch.
    """
    missing = not_answered(answer, "an epoch number")
    if missing is not None:
        return missing
    useful = []
    for best in range(1, epochs + 1):
        accuracies = [0.5 + 0.01 * min(epoch, best) for epoch in range(1, epochs + 1)]
        stopped = _stop_epoch(accuracies, patience)
        if stopped is not None and stopped < epochs:
            useful.append(best)
    expected = max(useful)
    return report(close_to(answer, expected),
                  f"with its best at epoch {expected}, the run stops after epoch {expected + patience}, "
                  f"before epoch {epochs}; with the best at {expected + 1} it would stop exactly at epoch "
                  f"{epochs}, saving nothing. In general: {epochs} - {patience} - 1 = {expected}.",
                  f"with the best at epoch b, training stops after epoch b + {patience}; "
                  f"it saves something only if that is before epoch {epochs}.")


# Validation accuracies that tell the usual early-stopping mistakes apart (patience 3 and 2).


STOPPING_RUNS = (
    (0.70, 0.75, 0.75, 0.74, 0.73, 0.76, 0.76, 0.75, 0.74, 0.73, 0.72, 0.71),
    (0.60, 0.65, 0.64, 0.66, 0.65, 0.64, 0.67, 0.66, 0.65, 0.64, 0.63, 0.62),
    (0.80, 0.79, 0.81, 0.80, 0.79, 0.78, 0.77, 0.76, 0.75, 0.74, 0.73, 0.72),
    # after the best (0.80) every other epoch beats the one before, never the best
    (0.70, 0.80, 0.75, 0.77, 0.76, 0.78, 0.77, 0.79, 0.78, 0.79, 0.78, 0.77),
)


STOPPING_PATIENCES = (3, 2)


class _Mistake:
    """An early stopper with one classic mistake, to recognise a student's by its behaviour."""

    def __init__(self, patience: int, kind: str) -> None:
        self.patience, self.kind = patience, kind
        self.best = {"lower is better": float("inf"), "starts at 1": 1.0}.get(kind, float("-inf"))
        self.count, self.previous = 0, float("-inf")

    def step(self, accuracy: float) -> bool:
        better = {"ties improve": accuracy >= self.best, "lower is better": accuracy < self.best,
                  "previous": accuracy > self.previous}.get(self.kind, accuracy > self.best)
        self.previous = accuracy
        if better:
            self.best = accuracy
            if self.kind != "no reset":
                self.count = 0
        else:
            self.count += 1
        if self.kind == "one late":
            return self.count > self.patience
        if self.kind == "one early":
            return self.count >= self.patience - 1
        return self.count >= self.patience


MISTAKE_HINTS = {
    "ties improve": "an accuracy equal to the best is not an improvement: only a strictly greater one resets "
                    "the counter.",
    "one late": "your stopper waits one epoch too many: stop as soon as the count of epochs without improvement "
                "reaches patience (count >= patience).",
    "one early": "your stopper stops one epoch too early: with patience 3 it must allow 3 epochs without "
                 "improvement, and stop after the third.",
    "no reset": "the counter must go back to 0 on every new best: it counts the epochs *since* the best, "
                "not all bad epochs.",
    "previous": "you compare each accuracy with the previous epoch's, but early stopping compares with the best "
                "so far: 0.77 after 0.75 is no improvement when the best was 0.80.",
    "lower is better": "for an accuracy, higher is better: a new best is valid_acc > best (lower is better only "
                       "for a loss).",
    "starts at 1": "your best starts at 1.0, which no accuracy can beat, so no epoch is ever an improvement: "
                   "start with float('-inf') (or the first epoch's accuracy).",
}


def _stops(make_stopper: Callable[[int], Any]) -> list[int | None]:
    """For every run and patience, the 1-based epoch after which ``step`` first returns True (or None)."""
    stops = []
    for patience in STOPPING_PATIENCES:
        for run in STOPPING_RUNS:
            stopper = make_stopper(patience)
            stop = None
            for epoch, accuracy in enumerate(run, start=1):
                if _said_stop(call_student(stopper.step, accuracy)):
                    stop = epoch
                    break
            stops.append(stop)
    return stops


def _said_stop(answer: Any) -> bool:
    """What ``step`` answered, when it is True or False; another answer stops the check with its hint."""
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    if answer is None:
        raise StudentCodeFailed(wrong("step() returned None: return False while training should go on, and True "
                                      "when it should stop (every path of step needs its return)."))
    raise StudentCodeFailed(wrong(f"step() returned {answer!r} ({type(answer).__name__}): return True or False, "
                                  "for example `return self.count >= self.patience`."))


def _reference_stopper(patience: int):
    """leafdl's EarlyStopping, with the exercise's interface: step() returns True when training should stop."""
    stopper = EarlyStopping(patience=patience)

    class Stopper:
        def step(self, accuracy: float) -> bool:
            stopper.step(accuracy)
            return stopper.should_stop
    return Stopper()


@checked
def check_early_stopper(EarlyStopper: type) -> CheckResult:
    """Notebook 08, exercise 3: a class ``EarlyStopper(patience)`` whose ``step(valid_acc)`` says when to stop.

    ``step`` is called once per epoch with the validation accuracy and returns ``True`` when
    training should stop: after ``patience`` epochs in a row without a strictly better
    accuracy. The check replays four accuracy series with two patiences (in one series
    every other epoch after the best beats the epoch before it, never the best) through
    the student's class and through :class:`leafdl.engine.EarlyStopping`, and recognises
    the classic mistakes by the epochs at which they stop. ``step`` must answer True or
    False (a numpy bool is fine), never None or a number.
    """
    expected = _stops(_reference_stopper)
    given = _stops(lambda patience: call_student(EarlyStopper, patience))
    if given == expected:
        return report(True, f"your stopper stops where leafdl.engine.EarlyStopping does, on all "
                            f"{len(expected)} runs (after epochs {expected}).", "")
    if all(stop is None for stop in given):
        return wrong("step() never returned True: return True once the epochs without improvement reach "
                     "patience (and False before).")
    for kind, hint in MISTAKE_HINTS.items():
        if given == _stops(lambda patience: _Mistake(patience, kind)):
            return wrong(hint)
    return wrong(f"your stopper stops after epochs {given}; expected {expected} (None: never). Keep the best "
                 "accuracy so far and a count of epochs since it.")
