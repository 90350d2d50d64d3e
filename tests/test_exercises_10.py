"""The self-checks of notebook 10 (metrics): right answers pass, others do not."""

from __future__ import annotations

import numpy as np

from leafdl.exercises import check_gap_reading, check_precision_of_class

CLASSES = ["Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy"]
MATRIX = np.array([[45, 2, 3, 0],
                   [1, 40, 9, 0],
                   [0, 4, 46, 0],
                   [2, 0, 1, 47]])


def test_precision_is_the_column(capsys):
    assert check_precision_of_class(46 / 59, MATRIX, CLASSES, "Cedar_apple_rust") is True
    assert check_precision_of_class(0.78, MATRIX, CLASSES, "Cedar_apple_rust") is True  # rounded is fine
    assert "Correct" in capsys.readouterr().out


def test_recall_is_not_precision(capsys):
    assert check_precision_of_class(46 / 50, MATRIX, CLASSES, "Cedar_apple_rust") is False
    assert "recall" in capsys.readouterr().out


def test_precision_of_another_class_and_wrong_values():
    assert check_precision_of_class(45 / 48, MATRIX, CLASSES, "Apple_scab") is True
    assert check_precision_of_class(46 / 59, MATRIX, CLASSES, "Apple_scab") is False
    assert check_precision_of_class("most of them", MATRIX, CLASSES, "Cedar_apple_rust") is False


def test_precision_unanswered(capsys):
    assert check_precision_of_class(None, MATRIX, CLASSES, "Cedar_apple_rust") is False
    assert "Not answered yet" in capsys.readouterr().out


def test_gap_reading_follows_the_documents_table(capsys):
    assert check_gap_reading("mild", train_acc=0.97, valid_acc=0.81) is True
    assert check_gap_reading(" Mild ", train_acc=0.97, valid_acc=0.81) is True
    assert check_gap_reading("significant", train_acc=0.99, valid_acc=0.70) is True
    assert check_gap_reading("good", train_acc=0.91, valid_acc=0.89) is True
    assert "Correct" in capsys.readouterr().out


def test_gap_reading_rejects_the_wrong_row(capsys):
    assert check_gap_reading("significant", train_acc=0.97, valid_acc=0.81) is False
    assert check_gap_reading("good", train_acc=0.97, valid_acc=0.81) is False
    assert check_gap_reading(0.16, train_acc=0.97, valid_acc=0.81) is False
    assert "Not yet" in capsys.readouterr().out


def test_gap_reading_unanswered(capsys):
    assert check_gap_reading(None) is False
    assert "Not answered yet" in capsys.readouterr().out
