"""The self-checks of notebook 08 (early stopping) accept the right answer only."""

from __future__ import annotations

from leafdl.exercises import check_latest_useful_best_epoch, check_stop_epoch


def test_stop_epoch_counts_the_tie_as_no_improvement(capsys):
    # best 0.83 at epoch 6; 0.82, 0.82 and the tie 0.83 make three epochs without improvement
    assert check_stop_epoch(9) is True
    assert "Correct" in capsys.readouterr().out


def test_stop_epoch_rejects_treating_ties_as_improvements(capsys):
    assert check_stop_epoch(10) is False     # never stopping / counting the tie as a new best
    assert check_stop_epoch(6) is False      # the best epoch, not the stop
    assert "Not yet" in capsys.readouterr().out


def test_stop_epoch_follows_its_arguments():
    assert check_stop_epoch(4, accuracies=(0.9, 0.8, 0.8, 0.8), patience=3) is True


def test_stop_epoch_unanswered(capsys):
    assert check_stop_epoch(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_latest_useful_best_epoch():
    assert check_latest_useful_best_epoch(12) is True          # stops after 19 < 20
    assert check_latest_useful_best_epoch(2, epochs=10) is True  # the document's EPOCHS = 10


def test_latest_useful_best_epoch_rejects_off_by_one():
    assert check_latest_useful_best_epoch(13) is False          # stops exactly at epoch 20: saves nothing
    assert check_latest_useful_best_epoch(11) is False


def test_latest_useful_best_epoch_unanswered():
    assert check_latest_useful_best_epoch(None) is False
