"""Self-checks of notebook 10 (metrics and visualisation).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, not_answered, report,
                                            wrong)


def check_precision_of_class(answer: Any, matrix, classes: list[str], class_name: str) -> CheckResult:
    """Notebook 10, exercise 1: precision of one class from a confusion matrix.

    Rows are true classes, columns predicted ones (scikit-learn's convention). Precision
    asks "of the leaves *called* this class, how many were it?": the diagonal cell
    divided by the sum of the class's **column**. (Dividing by the row gives recall.)
    """
    missing = not_answered(answer, f"the precision of {class_name}, a number between 0 and 1")
    if missing is not None:
        return missing
    matrix = np.asarray(matrix)
    index = list(classes).index(class_name)
    called = matrix[:, index].sum()
    expected = float(matrix[index, index] / called) if called else 0.0
    recall = float(matrix[index, index] / matrix[index, :].sum())
    if close_to(answer, recall, 1e-3) and not close_to(recall, expected, 1e-3):
        return report(False, "", "that is the recall (you divided by the row). Precision divides the "
                                 "diagonal cell by the column: everything *called* this class.")
    return report(close_to(answer, expected, 1e-3),
                  f"{matrix[index, index]} of the {called} leaves called {class_name} really were: "
                  f"precision {expected:.3f} (recall, from the row, is {recall:.3f}).",
                  f"take the {class_name} column: the diagonal cell divided by the column's total.")


# An overfitting run: training accuracy keeps rising, validation accuracy peaks at epoch 3


# (and ties at 4), validation loss is lowest at epoch 5. Each mistake gives another answer.
OVERFITTING_HISTORY = {
    "train_acc": [0.55, 0.70, 0.80, 0.88, 0.93, 0.97],
    "valid_acc": [0.60, 0.72, 0.78, 0.78, 0.76, 0.74],
    "train_loss": [1.10, 0.80, 0.60, 0.42, 0.30, 0.20],
    "valid_loss": [1.00, 0.80, 0.70, 0.68, 0.66, 0.70],
}


def _expected_report(history: dict) -> tuple[list[float], int]:
    gaps = [train - valid for train, valid in zip(history["train_acc"], history["valid_acc"])]
    best = max(range(len(history["valid_acc"])), key=lambda i: (history["valid_acc"][i], -i))
    return gaps, best + 1


@checked
def check_gap_report(gap_report: Callable[[dict], tuple], history: Any = None) -> CheckResult:
    """Notebook 10, exercise 2: ``gap_report(history)`` returns ``(gaps, best_epoch)``.

    ``history`` is a dict of per-epoch lists, as the document's ``Train.py`` keeps it
    (``"train_acc"``, ``"valid_acc"``, ``"train_loss"``, ``"valid_loss"``). ``gaps`` is
    ``train_acc - valid_acc`` for every epoch (the 2x2 plot's fourth panel); ``best_epoch``
    is the 1-based epoch of the highest validation accuracy (the first, on a tie: a tie is
    not an improvement), the epoch whose weights are kept. Checked on an overfitting run,
    then, when the notebook passes its own run's ``History``, on that.
    """
    result = call_student(gap_report, {key: list(values) for key, values in OVERFITTING_HISTORY.items()})
    if not (isinstance(result, tuple) and len(result) == 2):
        return wrong("return two things: (gaps, best_epoch).")
    gaps, best_epoch = result
    expected_gaps, expected_best = _expected_report(OVERFITTING_HISTORY)
    gaps = list(gaps) if isinstance(gaps, (list, tuple)) else gaps
    if not isinstance(gaps, list) or len(gaps) != len(expected_gaps):
        return wrong(f"gaps should be a list with one number per epoch ({len(expected_gaps)} here).")
    if all(close_to(given, -gap, 1e-6) for given, gap in zip(gaps, expected_gaps)):
        return wrong("your gaps have the wrong sign: the gap is training minus validation accuracy, positive "
                     "when the model does better on the images it trains on.")
    if not all(close_to(given, gap, 1e-6) for given, gap in zip(gaps, expected_gaps)):
        return wrong(f"your gaps {[round(float(g), 3) for g in gaps]} are not train_acc - valid_acc epoch by epoch.")
    valid_acc, valid_loss = OVERFITTING_HISTORY["valid_acc"], OVERFITTING_HISTORY["valid_loss"]
    if best_epoch == expected_best - 1:
        return wrong("epochs are counted from 1 in the document's log and plot: add 1 to the list index.")
    if best_epoch == valid_loss.index(min(valid_loss)) + 1:
        return wrong("that is the epoch of the lowest validation loss; the kept weights are those of the highest "
                     "validation accuracy.")
    if best_epoch == len(valid_acc) - valid_acc[::-1].index(max(valid_acc)):
        return wrong("on a tie the first epoch stays the best: a later equal accuracy is not an improvement.")
    if best_epoch != expected_best:
        return wrong(f"epoch {best_epoch} is not the epoch of the highest validation accuracy.")
    why = (f"the gap grows from {expected_gaps[0]:+.2f} to {expected_gaps[-1]:+.2f} while validation accuracy "
           f"peaks at epoch {expected_best}: overfitting, and early stopping's reason to keep that epoch.")
    if history is not None:
        real = history.to_dict() if hasattr(history, "to_dict") else dict(history)
        real_result = call_student(gap_report, real)
        real_gaps, real_best = real_result if isinstance(real_result, tuple) and len(real_result) == 2 else ([], 0)
        ok = len(real_gaps) == len(real["gap"]) and real_best == real["best_epoch"] and all(
            close_to(a, b, 1e-6) for a, b in zip(real_gaps, real["gap"]))
        if not ok:
            return wrong("right on the example, but not on your run's history: compare with history.gap and "
                         "history.best_epoch.")
        why += f" On this notebook's run: best epoch {real_best}, gap there {real_gaps[real_best - 1]:+.3f}."
    return report(True, why, "")
