"""The self-checks of notebook 09 (saving and loading): right answers pass, others do not."""

from __future__ import annotations

import copy

from leafdl.course.exercises import check_batchnorm_count, check_best_weights, check_classifier_numbers


def test_classifier_numbers_for_38_classes(capsys):
    assert check_classifier_numbers(38 * 1280 + 38, num_classes=38).passed
    assert "Correct" in capsys.readouterr().out


def test_classifier_numbers_rejects_weights_without_biases(capsys):
    assert check_classifier_numbers(38 * 1280, num_classes=38).passed is False
    assert "Not yet" in capsys.readouterr().out


def test_classifier_numbers_follows_the_number_of_classes():
    assert check_classifier_numbers(5 * 1280 + 5, num_classes=5).passed
    assert check_classifier_numbers(38 * 1280 + 38, num_classes=5).passed is False


def test_classifier_numbers_unanswered(capsys):
    assert check_classifier_numbers(None).passed is False
    assert "Not done yet" in capsys.readouterr().out


def test_batchnorm_count_of_efficientnet_lite0(capsys):
    assert check_batchnorm_count(49, arch="efficientnet_lite0").passed
    assert "Correct" in capsys.readouterr().out


def test_batchnorm_count_rejects_the_number_of_buffers(capsys):
    # 147 buffers = 3 per BatchNorm layer: a plausible mistake.
    assert check_batchnorm_count(147, arch="efficientnet_lite0").passed is False
    assert check_batchnorm_count("forty-nine", arch="efficientnet_lite0").passed is False


def test_batchnorm_count_unanswered(capsys):
    assert check_batchnorm_count(None).passed is False
    assert "Not done yet" in capsys.readouterr().out


class BestWeights:
    """The reference solution (notebooks/solutions/09_saving_loading.md)."""

    def __init__(self):
        self.best_acc = float("-inf")
        self.state = None

    def update(self, model, valid_acc):
        if valid_acc > self.best_acc:
            self.best_acc = valid_acc
            self.state = copy.deepcopy(model.state_dict())

    def restore(self, model):
        model.load_state_dict(self.state)


def keeper_with(copy_state=copy.deepcopy, better=lambda acc, best: acc > best, load=True):
    """The solution with one classic mistake switched on."""
    class Student:
        def __init__(self):
            self.best_acc, self.state = float("-inf"), None

        def update(self, model, valid_acc):
            if better(valid_acc, self.best_acc):
                self.best_acc = valid_acc
                self.state = copy_state(model.state_dict())

        def restore(self, model):
            if load:
                model.load_state_dict(self.state)
    return Student


def test_best_weights_accepts_the_solution(capsys):
    assert check_best_weights(BestWeights).passed
    assert "Correct" in capsys.readouterr().out


def test_best_weights_rejects_no_deepcopy():
    for shallow in (lambda state: state, dict, copy.copy):
        result = check_best_weights(keeper_with(copy_state=shallow))
        assert not result.passed and "copy.deepcopy" in result.message


def test_best_weights_rejects_keeping_every_epoch_and_ties():
    every = check_best_weights(keeper_with(better=lambda acc, best: True))
    assert not every.passed and "only when the accuracy beats the best" in every.message
    ties = check_best_weights(keeper_with(better=lambda acc, best: acc >= best))
    assert not ties.passed and "strictly higher" in ties.message


def test_best_weights_rejects_a_restore_that_loads_nothing():
    result = check_best_weights(keeper_with(load=False))
    assert not result.passed and "model.load_state_dict" in result.message


def test_best_weights_stub_is_not_done():
    class Stub:
        def update(self, model, valid_acc):
            raise NotImplementedError

        def restore(self, model):
            raise NotImplementedError
    assert check_best_weights(Stub).status == "not done"
