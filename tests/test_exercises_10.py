"""The self-checks of notebook 10 (metrics): right answers pass, others do not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from leafdl.course.exercises import check_gap_report, check_precision_of_class
from leafdl.engine import History

CLASSES = ["Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy"]
MATRIX = np.array([[45, 2, 3, 0],
                   [1, 40, 9, 0],
                   [0, 4, 46, 0],
                   [2, 0, 1, 47]])


def test_precision_is_the_column(capsys):
    assert check_precision_of_class(46 / 59, MATRIX, CLASSES, "Cedar_apple_rust").passed
    assert check_precision_of_class(0.78, MATRIX, CLASSES, "Cedar_apple_rust").passed  # rounded is fine
    assert "Correct" in capsys.readouterr().out


def test_recall_is_not_precision(capsys):
    assert check_precision_of_class(46 / 50, MATRIX, CLASSES, "Cedar_apple_rust").passed is False
    assert "recall" in capsys.readouterr().out


def test_precision_of_another_class_and_wrong_values():
    assert check_precision_of_class(45 / 48, MATRIX, CLASSES, "Apple_scab").passed
    assert check_precision_of_class(46 / 59, MATRIX, CLASSES, "Apple_scab").passed is False
    assert check_precision_of_class("most of them", MATRIX, CLASSES, "Cedar_apple_rust").passed is False


def test_precision_unanswered(capsys):
    assert check_precision_of_class(None, MATRIX, CLASSES, "Cedar_apple_rust").passed is False
    assert "Not done yet" in capsys.readouterr().out


def gap_report(history):
    """The reference solution (notebooks/solutions/10_metrics.md)."""
    gaps = [train - valid for train, valid in zip(history["train_acc"], history["valid_acc"])]
    best_epoch = history["valid_acc"].index(max(history["valid_acc"])) + 1
    return gaps, best_epoch


def test_gap_report_accepts_the_solution(capsys):
    assert check_gap_report(gap_report).passed
    assert "peaks at epoch 3" in capsys.readouterr().out


def test_gap_report_checks_a_real_history_too(capsys):
    history = History(train_acc=[0.5, 0.9], valid_acc=[0.7, 0.6], train_loss=[1.0, 0.5], valid_loss=[0.8, 0.9],
                      gap=[-0.2, 0.3], best_epoch=1)
    assert check_gap_report(gap_report, history).passed
    assert "best epoch 1, gap there -0.200" in capsys.readouterr().out
    history.best_epoch = 2   # a history that disagrees: the student's function is not trusted blindly
    assert not check_gap_report(gap_report, history).passed


def numpy_gaps(history):
    train, valid = np.array(history["train_acc"]), np.array(history["valid_acc"])
    return train - valid, int(np.argmax(valid)) + 1


def numpy_epoch_and_a_list(history):
    gaps = [t - v for t, v in zip(history["train_acc"], history["valid_acc"])]
    return [gaps, np.argmax(history["valid_acc"]) + 1]


def tuple_gaps_and_torch(history):
    valid = torch.tensor(history["valid_acc"])
    gaps = tuple(t - v for t, v in zip(history["train_acc"], history["valid_acc"]))
    return gaps, torch.argmax(valid).item() + 1


@pytest.mark.parametrize("answer", [gap_report, numpy_gaps, numpy_epoch_and_a_list, tuple_gaps_and_torch],
                         ids=lambda answer: answer.__name__)
def test_gap_report_accepts_right_answers_in_any_form(answer, capsys):
    assert check_gap_report(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


def with_gaps(make_gaps):
    """The solution, its gaps computed another (wrong) way."""
    def student(history):
        return make_gaps(history), history["valid_acc"].index(max(history["valid_acc"])) + 1
    student.__name__ = make_gaps.__name__
    return student


def with_best(find_best):
    """The solution, its best epoch found another (wrong) way."""
    def student(history):
        return [t - v for t, v in zip(history["train_acc"], history["valid_acc"])], find_best(history)
    student.__name__ = find_best.__name__
    return student


def reversed_gaps(history):
    return [v - t for t, v in zip(history["train_acc"], history["valid_acc"])]


def percent_gaps(history):
    return [100 * (t - v) for t, v in zip(history["train_acc"], history["valid_acc"])]


def absolute_gaps(history):
    return [abs(t - v) for t, v in zip(history["train_acc"], history["valid_acc"])]


def loss_gaps(history):
    return [v - t for t, v in zip(history["train_loss"], history["valid_loss"])]


def last_gap_only(history):
    return history["train_acc"][-1] - history["valid_acc"][-1]


def zero_based(history):
    return history["valid_acc"].index(max(history["valid_acc"]))


def lowest_loss(history):
    return history["valid_loss"].index(min(history["valid_loss"])) + 1


def last_tie(history):
    accs = history["valid_acc"]
    return max(i for i, acc in enumerate(accs) if acc == max(accs)) + 1


def highest_training_accuracy(history):
    return history["train_acc"].index(max(history["train_acc"])) + 1


def the_best_accuracy(history):
    return max(history["valid_acc"])


def as_a_tensor(history):
    return torch.tensor(history["valid_acc"]).argmax() + 1


def attributes(history):
    return [t - v for t, v in zip(history.train_acc, history.valid_acc)], 1


def other_keys(history):
    return [t - v for t, v in zip(history["train_accuracy"], history["valid_accuracy"])], 1


def a_dict(history):
    gaps, best = gap_report(history)
    return {"gaps": gaps, "best_epoch": best}


WRONG = [
    (with_gaps(reversed_gaps), "wrong sign"),
    (with_gaps(percent_gaps), "your gaps are percentages"),
    (with_gaps(absolute_gaps), "you took the absolute value"),
    (with_gaps(loss_gaps), "gaps between the losses"),
    (with_gaps(last_gap_only), "gaps is one number"),
    (with_best(zero_based), "counted from 1"),
    (with_best(lowest_loss), "lowest validation loss"),
    (with_best(last_tie), "first epoch stays the best"),
    (with_best(highest_training_accuracy), "the last epoch, with the highest training accuracy"),
    (with_best(the_best_accuracy), "an accuracy, not an epoch"),
    (with_best(as_a_tensor), "best_epoch is a tensor"),
    (attributes, "history is a dict: read its lists as history['train_acc']"),
    (other_keys, "The dict's keys are 'train_acc'"),
    (a_dict, "return two things, (gaps, best_epoch); yours returns a value of type dict"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=[answer.__name__ for answer, _ in WRONG])
def test_gap_report_names_each_mistake(answer, hint, capsys):
    result = check_gap_report(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_gap_report_stub_is_not_done():
    def stub(history):
        raise NotImplementedError
    assert check_gap_report(stub).status == "not done"
