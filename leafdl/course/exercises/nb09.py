"""Self-checks of notebook 09 (saving and loading).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, not_answered, report,
                                            same_weights, snapshot, tiny_net, wrong)
from leafdl.models import build_model


def check_classifier_numbers(answer: Any, num_classes: int = 38, features: int = 1280) -> CheckResult:
    """Notebook 09, exercise 1: numbers in the new classifier ``Linear(features, num_classes)``.

    The weight is a ``(num_classes, features)`` matrix and the bias has one number per
    class, so the count is ``num_classes * features + num_classes``. Computed here by
    building the layer and counting, the way you would check it in code.
    """
    missing = not_answered(answer, f"the number of weights and biases of Linear({features}, {num_classes})")
    if missing is not None:
        return missing
    layer = nn.Linear(features, num_classes)
    expected = sum(parameter.numel() for parameter in layer.parameters())
    return report(close_to(answer, expected),
                  f"{num_classes} x {features} weights + {num_classes} biases = {expected:,} numbers. "
                  f"A 4-class checkpoint holds {4 * features + 4:,}, so its tensors cannot fit this layer.",
                  f"the weight has shape ({num_classes}, {features}) and the bias ({num_classes},); "
                  "add the two sizes.")


def check_batchnorm_count(answer: Any, arch: str = "efficientnet_lite0") -> CheckResult:
    """Notebook 09, exercise 2: how many ``num_batches_tracked`` buffers the model's state_dict holds.

    Builds the course model (without pretrained weights: only its shape matters) and
    counts the entries, which is one per BatchNorm layer.
    """
    missing = not_answered(answer, "the number of num_batches_tracked entries in model.state_dict()")
    if missing is not None:
        return missing
    model, _ = build_model(4, arch=arch, pretrained=False, verbose=False)
    expected = sum(1 for name in model.state_dict() if name.endswith("num_batches_tracked"))
    return report(close_to(answer, expected),
                  f"{expected} BatchNorm layers, each with weight, bias, running_mean, running_var and "
                  "num_batches_tracked: the last three are buffers, saved but never trained.",
                  "count the keys: sum(name.endswith('num_batches_tracked') for name in model.state_dict()).")


def _train_a_little(model: nn.Module, epoch: int, in_place: bool) -> None:
    """Change every weight, as an epoch of training would.

    An optimizer's step changes the tensors *in place* (their memory stays the same), which
    is what makes a state_dict kept without deepcopy change too. ``in_place=False`` gives
    every parameter new memory instead, so that only a real copy tells the epochs apart
    from keeping every epoch's weights.
    """
    with torch.no_grad():
        for parameter in model.parameters():
            if in_place:
                parameter.add_(0.1 * epoch)
            else:
                parameter.data = parameter.data + 0.1 * epoch


# (accuracies per epoch, in-place updates?) -> a correct keeper restores the best epoch's weights


SCENARIOS = {
    "in place": ((0.60, 0.80, 0.70), True),
    "new memory": ((0.60, 0.80, 0.70), False),
    "best first": ((0.80,), True),
    "tie": ((0.70, 0.70), True),
}


def _scenario(BestWeights: type, accuracies: tuple[float, ...], in_place: bool) -> bool:
    """Run one scenario; True when restore() brings back the weights of the best epoch."""
    model = tiny_net()
    keeper = call_student(BestWeights)
    kept = None
    for epoch, accuracy in enumerate(accuracies, start=1):
        _train_a_little(model, epoch, in_place)
        call_student(keeper.update, model, accuracy)
        if accuracy == max(accuracies) and kept is None:
            kept = snapshot(model)
    _train_a_little(model, len(accuracies) + 1, in_place)   # training goes on after the best epoch
    call_student(keeper.restore, model)
    return same_weights(snapshot(model), kept)


@checked
def check_best_weights(BestWeights: type) -> CheckResult:
    """Notebook 09, exercise 3: a class ``BestWeights()`` that keeps the best epoch's weights and restores them.

    ``update(model, valid_acc)`` is called after every epoch; ``restore(model)`` puts the
    weights of the epoch with the highest accuracy back into the model. The check trains a
    real tiny network a little between calls, in four scenarios, and recognises the classic
    mistakes by which scenarios fail: a state_dict kept without ``copy.deepcopy`` (its
    tensors change with the model's), weights kept every epoch instead of only on a new
    best, a tie counted as a new best, and a restore that does not load the weights.
    """
    results = {name: _scenario(BestWeights, *scenario) for name, scenario in SCENARIOS.items()}
    if all(results.values()):
        return report(True, "the weights of the best epoch come back, whatever training did to the model after "
                            "it: a deep copy of the state_dict, kept only on a new best. fit() does the same.", "")
    if results["new memory"] and not results["in place"]:
        return wrong("the kept weights changed as training went on: state_dict() gives references to the model's "
                     "own tensors, which the optimizer changes in place. Keep a copy.deepcopy of it.")
    if results["best first"] and not results["in place"]:
        return wrong("after a worse epoch, restore() brings back the last weights, not the best: keep the weights "
                     "only when the accuracy beats the best so far.")
    if not results["tie"] and all(results[name] for name in ("in place", "new memory", "best first")):
        return wrong("on a tie your keeper replaced the best weights: only a strictly higher accuracy is a new best.")
    return wrong("restore() did not bring back the kept weights: load them into the model with "
                 "model.load_state_dict(...).")
