"""The self-checks of notebook 08 (early stopping) accept the right answer only."""

from __future__ import annotations

import numpy as np
import pytest

from leafdl.course.exercises import check_early_stopper, check_latest_useful_best_epoch, check_stop_epoch


def test_stop_epoch_counts_the_tie_as_no_improvement(capsys):
    # best 0.83 at epoch 6; 0.82, 0.82 and the tie 0.83 make three epochs without improvement
    assert check_stop_epoch(9).passed
    assert "Correct" in capsys.readouterr().out


def test_stop_epoch_rejects_treating_ties_as_improvements(capsys):
    assert check_stop_epoch(10).passed is False     # never stopping / counting the tie as a new best
    assert check_stop_epoch(6).passed is False      # the best epoch, not the stop
    assert "Not yet" in capsys.readouterr().out


def test_stop_epoch_follows_its_arguments():
    assert check_stop_epoch(4, accuracies=(0.9, 0.8, 0.8, 0.8), patience=3).passed


def test_stop_epoch_unanswered(capsys):
    assert check_stop_epoch(None).passed is False
    assert "Not done yet" in capsys.readouterr().out


def test_latest_useful_best_epoch():
    assert check_latest_useful_best_epoch(12).passed          # stops after 19 < 20
    assert check_latest_useful_best_epoch(2, epochs=10).passed  # the document's EPOCHS = 10


def test_latest_useful_best_epoch_rejects_off_by_one():
    assert check_latest_useful_best_epoch(13).passed is False          # stops exactly at epoch 20: saves nothing
    assert check_latest_useful_best_epoch(11).passed is False


def test_latest_useful_best_epoch_unanswered():
    assert check_latest_useful_best_epoch(None).passed is False


class EarlyStopper:
    """The reference solution (notebooks/solutions/08_early_stopping.md)."""

    def __init__(self, patience):
        self.patience = patience
        self.best = float("-inf")
        self.count = 0

    def step(self, valid_acc):
        if valid_acc > self.best:
            self.best = valid_acc
            self.count = 0
        else:
            self.count += 1
        return self.count >= self.patience


class NumpyStopper:
    """A right answer in another form: the history in a list, numpy for the maximum."""

    def __init__(self, patience):
        self.patience, self.history = patience, []

    def step(self, valid_acc):
        self.history.append(valid_acc)
        best_epoch = int(np.argmax(self.history))          # the first of equal maxima: ties do not improve
        return np.bool_(len(self.history) - 1 - best_epoch >= self.patience)


class StartsFromTheFirstEpoch:
    """Another right form: best is None until the first epoch."""

    def __init__(self, patience):
        self.patience, self.best, self.waited = patience, None, 0

    def step(self, valid_acc):
        if self.best is None or valid_acc > self.best:
            self.best, self.waited = valid_acc, 0
            return False
        self.waited += 1
        return self.waited >= self.patience


@pytest.mark.parametrize("answer", [EarlyStopper, NumpyStopper, StartsFromTheFirstEpoch], ids=lambda a: a.__name__)
def test_early_stopper_accepts_right_answers_in_any_form(answer, capsys):
    assert check_early_stopper(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


def stopper_with(compare=lambda acc, best: acc > best, reset=True, stop=lambda count, patience: count >= patience,
                 start=float("-inf")):
    """The solution with one classic mistake switched on."""
    class Student:
        def __init__(self, patience):
            self.patience, self.best, self.count = patience, start, 0

        def step(self, valid_acc):
            if compare(valid_acc, self.best):
                self.best = valid_acc
                if reset:
                    self.count = 0
            else:
                self.count += 1
            return stop(self.count, self.patience)
    return Student


class ComparesWithThePreviousEpoch:
    """The misconception notebook 08 warns about: 'better than last time' instead of 'better than the best'."""

    def __init__(self, patience):
        self.patience, self.previous, self.count = patience, float("-inf"), 0

    def step(self, valid_acc):
        if valid_acc > self.previous:
            self.count = 0
        else:
            self.count += 1
        self.previous = valid_acc
        return self.count >= self.patience


class ReturnsNothingWhileGoingOn:
    def __init__(self, patience):
        self.patience, self.best, self.count = patience, float("-inf"), 0

    def step(self, valid_acc):
        if valid_acc > self.best:
            self.best, self.count = valid_acc, 0
        else:
            self.count += 1
        if self.count >= self.patience:
            return True


class ReturnsTheCount(ReturnsNothingWhileGoingOn):
    def step(self, valid_acc):
        super().step(valid_acc)
        return self.count


WRONG = [
    (stopper_with(stop=lambda count, patience: count > patience), "one epoch too many"),
    (stopper_with(stop=lambda count, patience: count >= patience - 1), "one epoch too early"),
    (stopper_with(compare=lambda acc, best: acc >= best), "strictly greater"),
    (stopper_with(reset=False), "go back to 0"),
    (stopper_with(stop=lambda count, patience: False), "never returned True"),
    (stopper_with(stop=lambda count, patience: count >= 3), "Keep the best accuracy so far"),
    (ComparesWithThePreviousEpoch, "compares with the best so far"),
    (stopper_with(compare=lambda acc, best: acc < best, start=float("inf")), "higher is better"),
    (stopper_with(start=1.0), "your best starts at 1.0"),
    (ReturnsNothingWhileGoingOn, "step() returned None"),
    (ReturnsTheCount, "step() returned 0 (int): return True or False"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=range(len(WRONG)))
def test_early_stopper_names_each_mistake(answer, hint, capsys):
    result = check_early_stopper(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_early_stopper_stub_is_not_done():
    class Stub:
        def __init__(self, patience):
            raise NotImplementedError
    assert check_early_stopper(Stub).status == "not done"

    class StubStep:
        def __init__(self, patience):
            self.patience = patience

        def step(self, valid_acc):
            raise NotImplementedError
    assert check_early_stopper(StubStep).status == "not done"
