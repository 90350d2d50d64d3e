"""Self-checks of notebook 10 (metrics and visualisation).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, not_a_number, not_answered,
                                            report, wrong)


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


GAP_ADVICE = {
    "object has no attribute": "history is a dict: read its lists as history['train_acc'], history['valid_acc'].",
    KeyError: "The dict's keys are 'train_acc', 'valid_acc', 'train_loss' and 'valid_loss'.",
}


def _as_numbers(gaps: Any) -> np.ndarray | None:
    """``gaps`` as a 1-D float array (from a list, a tuple, a numpy array or a tensor), or None."""
    try:
        array = np.asarray(gaps, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.ndim == 1 else None


def _gaps_verdict(gaps: Any, history: dict) -> CheckResult | None:
    """What is wrong with the returned gaps, or None when they are train_acc - valid_acc per epoch."""
    expected = np.subtract(history["train_acc"], history["valid_acc"])
    if isinstance(gaps, (int, float, np.number)):
        return wrong(f"gaps is one number ({float(gaps):.3f}); return the gap of every epoch, a list of "
                     f"{len(expected)} numbers.")
    array = _as_numbers(gaps)
    if array is None or len(array) != len(expected):
        return wrong(f"gaps should hold one number per epoch ({len(expected)} here), in a list or an array.")
    mistakes = {
        "your gaps have the wrong sign: the gap is training minus validation accuracy, positive when the model "
        "does better on the images it trains on.": -expected,
        "your gaps are percentages: the accuracies are shares between 0 and 1, and so is their difference.":
            100 * expected,
        "you took the absolute value: in epoch 1 validation is above training, a negative gap, and the sign says "
        "which side is ahead.": np.abs(expected),
        "those are gaps between the losses: the gap panel compares the accuracies, train_acc - valid_acc.":
            np.subtract(history["valid_loss"], history["train_loss"]),
        "those are gaps between the losses (and reversed): the gap panel compares the accuracies, "
        "train_acc - valid_acc.": np.subtract(history["train_loss"], history["valid_loss"]),
    }
    if np.allclose(array, expected, atol=1e-6):
        return None
    hint = next((hint for hint, values in mistakes.items() if np.allclose(array, values, atol=1e-6)), None)
    return wrong(hint or f"your gaps {[round(float(g), 3) for g in array]} are not train_acc - valid_acc epoch by epoch.")


def _best_epoch_verdict(best_epoch: Any, history: dict) -> CheckResult | None:
    """What is wrong with the returned best epoch, or None when it is the first epoch of highest validation accuracy."""
    valid_acc, valid_loss = history["valid_acc"], history["valid_loss"]
    _, expected = _expected_report(history)
    if isinstance(best_epoch, (float, np.floating)) and not float(best_epoch).is_integer():
        return wrong(f"best_epoch is {best_epoch}, an accuracy, not an epoch: return the epoch's number "
                     "(its index in the list + 1).")
    verdict = not_a_number(best_epoch, "best_epoch", fix="take the number out with .item() (or int(...)).")
    if verdict is not None:
        return verdict
    if best_epoch == expected:
        return None
    if best_epoch == expected - 1:
        return wrong("epochs are counted from 1 in the document's log and plot: add 1 to the list index.")
    if best_epoch == valid_loss.index(min(valid_loss)) + 1:
        return wrong("that is the epoch of the lowest validation loss; the kept weights are those of the highest "
                     "validation accuracy.")
    if best_epoch == len(valid_acc) - valid_acc[::-1].index(max(valid_acc)):
        return wrong("on a tie the first epoch stays the best: a later equal accuracy is not an improvement.")
    if best_epoch == len(valid_acc):
        return wrong(f"epoch {best_epoch} is the last epoch, with the highest training accuracy; early stopping "
                     "keeps the epoch of the highest validation accuracy.")
    return wrong(f"epoch {best_epoch} is not the epoch of the highest validation accuracy.")


@checked
def check_gap_report(gap_report: Callable[[dict], tuple], history: Any = None) -> CheckResult:
    """Notebook 10, exercise 2: ``gap_report(history)`` returns ``(gaps, best_epoch)``.

    ``history`` is a dict of per-epoch lists, as the document's ``Train.py`` keeps it
    (``"train_acc"``, ``"valid_acc"``, ``"train_loss"``, ``"valid_loss"``). ``gaps`` is
    ``train_acc - valid_acc`` for every epoch (the 2x2 plot's fourth panel), as a list,
    a tuple or a numpy array; ``best_epoch`` is the 1-based epoch of the highest
    validation accuracy (the first, on a tie: a tie is not an improvement), the epoch
    whose weights are kept. Checked on an overfitting run whose first gap is negative,
    then, when the notebook passes its own run's ``History``, on that.
    """
    example = {key: list(values) for key, values in OVERFITTING_HISTORY.items()}
    result = call_student(gap_report, example, advice=GAP_ADVICE)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return wrong(f"return two things, (gaps, best_epoch); yours returns a value of type {type(result).__name__}.")
    gaps, best_epoch = result
    verdict = _gaps_verdict(gaps, OVERFITTING_HISTORY)
    if verdict is None:
        verdict = _best_epoch_verdict(best_epoch, OVERFITTING_HISTORY)
    if verdict is not None:
        return verdict
    expected_gaps, expected_best = _expected_report(OVERFITTING_HISTORY)
    why = (f"the gap grows from {expected_gaps[0]:+.2f} to {expected_gaps[-1]:+.2f} while validation accuracy "
           f"peaks at epoch {expected_best}: overfitting, and early stopping's reason to keep that epoch.")
    if history is not None:
        real = history.to_dict() if hasattr(history, "to_dict") else dict(history)
        real_result = call_student(gap_report, real, advice=GAP_ADVICE)
        real_gaps, real_best = real_result if isinstance(real_result, (tuple, list)) and len(real_result) == 2 \
            else ([], 0)
        array = _as_numbers(real_gaps)
        ok = array is not None and len(array) == len(real["gap"]) and real_best == real["best_epoch"] and \
            np.allclose(array, real["gap"], atol=1e-6)
        if not ok:
            return wrong("right on the example, but not on your run's history: compare with history.gap and "
                         "history.best_epoch.")
        why += f" On this notebook's run: best epoch {real_best}, gap there {float(array[real_best - 1]):+.3f}."
    return report(True, why, "")
