"""The self-checks of notebook 08 (early stopping) accept the right answer only."""

from __future__ import annotations

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


def stopper_with(compare=lambda acc, best: acc > best, reset=True, stop=lambda count, patience: count >= patience):
    """The solution with one classic mistake switched on."""
    class Student:
        def __init__(self, patience):
            self.patience, self.best, self.count = patience, float("-inf"), 0

        def step(self, valid_acc):
            if compare(valid_acc, self.best):
                self.best = valid_acc
                if reset:
                    self.count = 0
            else:
                self.count += 1
            return stop(self.count, self.patience)
    return Student


def test_early_stopper_accepts_the_solution(capsys):
    assert check_early_stopper(EarlyStopper).passed
    assert "Correct" in capsys.readouterr().out


def test_early_stopper_rejects_patience_off_by_one():
    late = check_early_stopper(stopper_with(stop=lambda count, patience: count > patience))
    assert not late.passed and "one epoch too many" in late.message
    early = check_early_stopper(stopper_with(stop=lambda count, patience: count >= patience - 1))
    assert not early.passed and "one epoch too early" in early.message


def test_early_stopper_rejects_ties_and_a_counter_never_reset():
    ties = check_early_stopper(stopper_with(compare=lambda acc, best: acc >= best))
    assert not ties.passed and "strictly greater" in ties.message
    assert "go back to 0" in check_early_stopper(stopper_with(reset=False)).message


def test_early_stopper_rejects_never_stopping_and_a_fixed_patience():
    assert "never returned True" in check_early_stopper(stopper_with(stop=lambda count, patience: False)).message
    fixed = check_early_stopper(stopper_with(stop=lambda count, patience: count >= 3))
    assert not fixed.passed and "expected" in fixed.message


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
