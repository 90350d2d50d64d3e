"""The self-checks of notebook 09 (saving and loading): right answers pass, others do not."""

from __future__ import annotations

import copy

import pytest
from torch import nn

from leafdl.course.exercises import check_batches_tracked, check_best_weights, check_state_dict_numbers


def test_state_dict_numbers_counts_the_buffers(capsys):
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(8, 4))
    assert check_state_dict_numbers(sum(v.numel() for v in net.state_dict().values())).passed
    assert "276 parameters" in capsys.readouterr().out
    assert check_state_dict_numbers(None).status == "not done"


@pytest.mark.parametrize("answer, hint", [(276, "parameters only"), (292, "num_batches_tracked is a buffer too"),
                                          (260, "BatchNorm2d(8) has parameters too"), (281, "have biases"),
                                          (300, "count each layer's weight and bias")])
def test_state_dict_numbers_names_the_mistake(answer, hint):
    result = check_state_dict_numbers(answer)
    assert not result.passed and hint in result.message


def test_batches_tracked_counts_training_batches_only(capsys):
    assert check_batches_tracked(21).passed
    assert check_batches_tracked(10, epochs=2, train_batches=5, valid_batches=4).passed
    assert check_batches_tracked(None).status == "not done"


@pytest.mark.parametrize("answer, hint", [(27, "eval mode"), (3, "counts batches, not epochs"),
                                          (7, "nothing resets it"), (6, "which batches update")])
def test_batches_tracked_names_the_mistake(answer, hint):
    result = check_batches_tracked(answer)
    assert not result.passed and hint in result.message


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


def keeper_with(copy_state=copy.deepcopy, better=lambda acc, best: acc > best, load=True, start=float("-inf")):
    """The solution with one classic mistake switched on."""
    class Student:
        def __init__(self):
            self.best_acc, self.state = start, None

        def update(self, model, valid_acc):
            if better(valid_acc, self.best_acc):
                self.best_acc = valid_acc
                self.state = copy_state(model.state_dict())

        def restore(self, model):
            if load:
                model.load_state_dict(self.state)
    return Student


class ClonesEveryTensor:
    """A right answer in another form: a dict of clones, and the best starting at None."""

    def __init__(self):
        self.best, self.weights = None, {}

    def update(self, model, valid_acc):
        if self.best is None or valid_acc > self.best:
            self.best = valid_acc
            self.weights = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}

    def restore(self, model):
        model.load_state_dict(self.weights)


class DeepCopiesTheModel:
    """Another right form: a deep copy of the whole model, its weights loaded back."""

    def __init__(self):
        self.best_acc, self.best_model = 0.0, None

    def update(self, model, valid_acc):
        if valid_acc > self.best_acc:
            self.best_acc, self.best_model = valid_acc, copy.deepcopy(model)

    def restore(self, model):
        model.load_state_dict(self.best_model.state_dict())


@pytest.mark.parametrize("answer", [BestWeights, ClonesEveryTensor, DeepCopiesTheModel], ids=lambda a: a.__name__)
def test_best_weights_accepts_right_answers_in_any_form(answer, capsys):
    assert check_best_weights(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


class KeepsTheModelItself:
    def __init__(self):
        self.best_acc, self.model = float("-inf"), None

    def update(self, model, valid_acc):
        if valid_acc > self.best_acc:
            self.best_acc, self.model = valid_acc, model

    def restore(self, model):
        model.load_state_dict(self.model.state_dict())


class KeepsTheParametersOnly:
    def __init__(self):
        self.best_acc, self.weights = float("-inf"), None

    def update(self, model, valid_acc):
        if valid_acc > self.best_acc:
            self.best_acc = valid_acc
            self.weights = {name: p.detach().clone() for name, p in model.named_parameters()}

    def restore(self, model):
        model.load_state_dict(self.weights, strict=False)


class LoadsTheParametersOnly(KeepsTheParametersOnly):
    def restore(self, model):
        model.load_state_dict(self.weights)


class RebindsTheName(DeepCopiesTheModel):
    def restore(self, model):
        model = self.best_model     # changes the local name only


class ReturnsTheWeights(BestWeights):
    def restore(self, model):
        return self.state


class ComparesWithThePreviousEpoch:
    def __init__(self):
        self.previous, self.state = float("-inf"), None

    def update(self, model, valid_acc):
        if valid_acc > self.previous:
            self.state = copy.deepcopy(model.state_dict())
        self.previous = valid_acc

    def restore(self, model):
        model.load_state_dict(self.state)


class NeverUpdatesTheBest:
    def __init__(self):
        self.best_acc, self.state = float("-inf"), None

    def update(self, model, valid_acc):
        if valid_acc > self.best_acc:
            self.state = copy.deepcopy(model.state_dict())

    def restore(self, model):
        model.load_state_dict(self.state)


WRONG = [
    (keeper_with(copy_state=lambda state: state), "copy.deepcopy"),
    (keeper_with(copy_state=dict), "copy.deepcopy"),
    (keeper_with(copy_state=copy.copy), "copy.deepcopy"),
    (keeper_with(copy_state=lambda state: state.copy()), "copy.deepcopy"),
    (keeper_with(better=lambda acc, best: True), "only when the accuracy beats the best"),
    (NeverUpdatesTheBest, "only when the accuracy beats the best"),
    (keeper_with(better=lambda acc, best: acc >= best), "strictly higher"),
    (keeper_with(better=lambda acc, best: acc < best, start=float("inf")), "higher is better"),
    (keeper_with(start=1.0), "There were no weights to restore"),
    (keeper_with(load=False), "model.load_state_dict"),
    (KeepsTheModelItself, "holds the model itself"),
    (KeepsTheParametersOnly, "they are buffers, not parameters"),
    (LoadsTheParametersOnly, "holds BatchNorm's running averages (buffers)"),
    (RebindsTheName, "assigning to the name model inside restore()"),
    (ReturnsTheWeights, "restore() returns the weights"),
    (ComparesWithThePreviousEpoch, "compare with the best accuracy so far"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=range(len(WRONG)))
def test_best_weights_names_each_mistake(answer, hint, capsys):
    result = check_best_weights(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_best_weights_stub_is_not_done():
    class Stub:
        def update(self, model, valid_acc):
            raise NotImplementedError

        def restore(self, model):
            raise NotImplementedError
    assert check_best_weights(Stub).status == "not done"
