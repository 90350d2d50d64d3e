"""The self-checks of notebook 10 (metrics): right answers pass, others do not."""

from __future__ import annotations

import numpy as np

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


def test_gap_report_rejects_the_reversed_gap():
    def reversed_gap(history):
        gaps, best = gap_report(history)
        return [-gap for gap in gaps], best
    result = check_gap_report(reversed_gap)
    assert not result.passed and "wrong sign" in result.message


def test_gap_report_rejects_a_zero_based_epoch_the_loss_and_the_last_tie():
    def zero_based(history):
        gaps, best = gap_report(history)
        return gaps, best - 1
    assert "counted from 1" in check_gap_report(zero_based).message

    def lowest_loss(history):
        gaps, _ = gap_report(history)
        return gaps, history["valid_loss"].index(min(history["valid_loss"])) + 1
    assert "lowest validation loss" in check_gap_report(lowest_loss).message

    def last_tie(history):
        gaps, _ = gap_report(history)
        accs = history["valid_acc"]
        return gaps, max(i for i, acc in enumerate(accs) if acc == max(accs)) + 1
    assert "first epoch stays the best" in check_gap_report(last_tie).message


def test_gap_report_stub_is_not_done():
    def stub(history):
        raise NotImplementedError
    assert check_gap_report(stub).status == "not done"
