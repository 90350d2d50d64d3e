"""The self-checks of notebook 05 (the training loop) accept the right answer only."""

from __future__ import annotations

import math

from leafdl.exercises import check_cross_entropy, check_iterations_per_epoch


def test_iterations_per_epoch_rounds_up(capsys):
    assert check_iterations_per_epoch(24) is True          # 1500 / 64 = 23.4
    assert "Correct" in capsys.readouterr().out


def test_iterations_per_epoch_rejects_rounding_down(capsys):
    assert check_iterations_per_epoch(23) is False
    assert "Not yet" in capsys.readouterr().out
    assert check_iterations_per_epoch(1500 / 64) is False


def test_iterations_per_epoch_follows_its_arguments():
    assert check_iterations_per_epoch(32, images=1000, batch_size=32) is True   # the document's example
    assert check_iterations_per_epoch(6, images=192, batch_size=32) is True     # exact division


def test_iterations_per_epoch_unanswered(capsys):
    assert check_iterations_per_epoch(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_cross_entropy_accepts_the_loss():
    exps = [math.exp(z) for z in (2.0, 1.0, 0.1)]
    expected = -math.log(exps[1] / sum(exps))
    assert check_cross_entropy(expected) is True
    assert check_cross_entropy(round(expected, 3)) is True


def test_cross_entropy_rejects_the_wrong_class_and_missing_log():
    exps = [math.exp(z) for z in (2.0, 1.0, 0.1)]
    assert check_cross_entropy(-math.log(exps[0] / sum(exps))) is False   # class 0 instead of 1
    assert check_cross_entropy(exps[1] / sum(exps)) is False              # probability, not loss


def test_cross_entropy_unanswered():
    assert check_cross_entropy(None) is False
