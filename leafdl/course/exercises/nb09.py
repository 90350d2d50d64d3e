"""Self-checks of notebook 09 (saving and loading).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, not_answered, report,
                                            same_weights, snapshot, tiny_net, wrong)


def small_network() -> nn.Sequential:
    """The small network of notebook 09's exercises 1 and 2: a convolution, a BatchNorm, a classifier."""
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


def _numel(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())


def check_state_dict_numbers(answer: Any) -> CheckResult:
    """Notebook 09, exercise 1: how many numbers :func:`small_network`'s ``state_dict()`` holds.

    Counted on the real network: the parameters (what the optimizer trains) plus the
    BatchNorm's buffers (``running_mean``, ``running_var``, ``num_batches_tracked``),
    which the state_dict saves too.
    """
    missing = not_answered(answer, "the number of numbers in net.state_dict()")
    if missing is not None:
        return missing
    model = small_network()
    parameters = sum(p.numel() for p in model.parameters())
    buffers = {name: b.numel() for name, b in model.named_buffers()}
    expected = sum(value.numel() for value in model.state_dict().values())
    mistakes = {
        parameters: "that counts the parameters only: the state_dict also saves BatchNorm's buffers, "
                    "running_mean and running_var (one number per channel each) and num_batches_tracked.",
        expected - 1: "almost: num_batches_tracked is a buffer too, one number.",
        parameters - 16: "BatchNorm2d(8) has parameters too: a weight and a bias per channel (8 + 8). And buffers.",
        expected - 8 - 4: "the convolution and the Linear layer have biases: one per output channel or class.",
    }
    hint = next((hint for value, hint in mistakes.items() if close_to(answer, value)), None)
    return report(close_to(answer, expected),
                  f"{parameters} parameters ({_numel(model[0])} in the convolution, {_numel(model[1])} in the "
                  f"BatchNorm, {_numel(model[5])} in the Linear) and "
                  f"{sum(buffers.values())} numbers in buffers ({', '.join(f'{k}: {v}' for k, v in buffers.items())}): "
                  f"{expected}. The optimizer trains only the {parameters}; a checkpoint must hold all {expected}.",
                  hint or "count each layer's weight and bias (the convolution's weight is out x in x 3 x 3), "
                          "then BatchNorm's buffers: sum(v.numel() for v in model.state_dict().values()) checks it.")


def check_batches_tracked(answer: Any, epochs: int = 3, train_batches: int = 7, valid_batches: int = 2) -> CheckResult:
    """Notebook 09, exercise 2: ``num_batches_tracked`` of the BatchNorm after a few epochs of training and validation.

    Replays the run on :func:`small_network`: each epoch ``train_batches`` batches in
    training mode, then ``valid_batches`` in eval mode. Only training-mode batches update
    the running averages, and only they count.
    """
    missing = not_answered(answer, "the value of num_batches_tracked after the run")
    if missing is not None:
        return missing
    model = small_network()
    images = torch.zeros(2, 3, 8, 8)
    with torch.no_grad():
        for _ in range(epochs):
            model.train()
            for _ in range(train_batches):
                model(images)
            model.eval()
            for _ in range(valid_batches):
                model(images)
    expected = int(model[1].num_batches_tracked)
    mistakes = {
        epochs * (train_batches + valid_batches): "the validation batches run in eval mode, where BatchNorm uses its "
                                                  "running averages and does not update them: they do not count.",
        epochs: "num_batches_tracked counts batches, not epochs.",
        train_batches: "the count goes on from epoch to epoch: nothing resets it.",
    }
    hint = next((hint for value, hint in mistakes.items() if close_to(answer, value)), None)
    return report(close_to(answer, expected),
                  f"{epochs} epochs x {train_batches} training batches = {expected}: the {epochs * valid_batches} "
                  "validation batches ran in eval mode, which leaves BatchNorm's buffers alone. A checkpoint "
                  "saves this count with the weights.",
                  hint or "which batches update BatchNorm's running averages: those in training mode, or all?")


def _train_a_little(model: nn.Module, epoch: int, in_place: bool) -> None:
    """Change every weight and every BatchNorm running average, as an epoch of training would.

    An optimizer's step changes the parameters *in place* (their memory stays the same),
    and so does BatchNorm's update of its running averages (buffers), which is what makes
    a state_dict kept without deepcopy change too. ``in_place=False`` gives every tensor
    new memory instead, so that only a real copy tells the epochs apart from keeping
    every epoch's weights.
    """
    with torch.no_grad():
        for parameter in model.parameters():
            if in_place:
                parameter.add_(0.1 * epoch)
            else:
                parameter.data = parameter.data + 0.1 * epoch
        for module in model.modules():
            for name, buffer in module.named_buffers(recurse=False):
                if buffer.is_floating_point():
                    if in_place:
                        buffer.add_(0.01 * epoch)
                    else:
                        setattr(module, name, buffer + 0.01 * epoch)


# name -> (accuracies per epoch, in-place updates?); a correct keeper restores the first best epoch's weights


SCENARIOS = {
    "in place": ((0.60, 0.80, 0.70), True),
    "new memory": ((0.60, 0.80, 0.70), False),
    "previous": ((0.60, 0.80, 0.70, 0.75), True),    # the last epoch beats the one before, not the best
    "best first": ((0.80,), True),
    "tie": ((0.70, 0.70), True),
}


def _parameters_of(state: dict, model: nn.Module) -> dict:
    names = {name for name, _ in model.named_parameters()}
    return {key: value for key, value in state.items() if key in names}


RESTORE_ADVICE = {
    "Missing key(s)": "Your kept weights lack some keys: model.state_dict() holds BatchNorm's running averages (buffers) as well as the "
                      "parameters; keep a copy of the whole state_dict, not only model.parameters().",
    "NoneType": "There were no weights to restore: update() keeps a copy when the accuracy beats the best so far "
                "(start the best at float('-inf')).",
}


def _scenario(BestWeights: type, accuracies: tuple[float, ...], in_place: bool) -> str | int:
    """Run one scenario; say what ``restore`` brought back.

    The answer is ``"best"``, the index of another epoch whose weights came back,
    ``"parameters only"`` (the buffers did not come back), ``"the model itself"`` (the
    keeper holds the model, not a copy), ``"returned"`` or ``"another model"`` (restore
    left the model as it was but returned the weights, or holds a model of its own), or
    ``"unchanged"``.
    """
    model = tiny_net()
    keeper = call_student(BestWeights)
    epochs = []
    for epoch, accuracy in enumerate(accuracies, start=1):
        _train_a_little(model, epoch, in_place)
        call_student(keeper.update, model, accuracy)
        epochs.append(snapshot(model))
    _train_a_little(model, len(accuracies) + 1, in_place)   # training goes on after the best epoch
    final = snapshot(model)
    returned = call_student(keeper.restore, model, advice=RESTORE_ADVICE)
    now = snapshot(model)
    best = accuracies.index(max(accuracies))
    kept = list(vars(keeper).values()) if hasattr(keeper, "__dict__") else []
    if same_weights(now, epochs[best]):
        return "best"
    if any(value is model for value in kept):
        return "the model itself"
    if same_weights(_parameters_of(now, model), _parameters_of(epochs[best], model)):
        return "parameters only"
    if same_weights(now, final):
        if any(isinstance(value, nn.Module) for value in kept):
            return "another model"
        return "returned" if isinstance(returned, (dict, nn.Module)) else "unchanged"
    return next((index for index, state in enumerate(epochs) if same_weights(now, state)), "unchanged")


OUTCOME_HINTS = {
    "the model itself": "your keeper holds the model itself, the very object that goes on training, so what it "
                        "keeps changes with it: keep a copy.deepcopy of model.state_dict().",
    "parameters only": "the parameters came back but BatchNorm's running averages did not: they are buffers, not "
                       "parameters, and model.state_dict() holds both. Keep (a deep copy of) the whole state_dict.",
    "another model": "restore() left the model it was given unchanged: assigning to the name model inside restore() "
                     "changes nothing outside it. Load the weights into it: model.load_state_dict(...).",
    "returned": "restore() returns the weights, but the model it was given is unchanged: load them into it with "
                "model.load_state_dict(...).",
}


@checked
def check_best_weights(BestWeights: type) -> CheckResult:
    """Notebook 09, exercise 3: a class ``BestWeights()`` that keeps the best epoch's weights and restores them.

    ``update(model, valid_acc)`` is called after every epoch; ``restore(model)`` puts the
    weights of the epoch with the highest accuracy back into the model. The check trains a
    real tiny network (its parameters and its BatchNorm buffers) a little between calls,
    in five scenarios, and recognises the classic mistakes by what comes back: a
    state_dict kept without ``copy.deepcopy`` (its tensors change with the model's), the
    model itself kept, the parameters kept without the buffers, weights kept every epoch
    or whenever an epoch beats the one before instead of the best, a tie counted as a new
    best, the lowest accuracy taken for the best, and a restore that does not load.
    Any real copy passes: ``copy.deepcopy`` of the state_dict or of the model, or
    ``{k: v.clone() ...}``.
    """
    outcomes = {name: _scenario(BestWeights, *scenario) for name, scenario in SCENARIOS.items()}
    if all(outcome == "best" for outcome in outcomes.values()):
        return report(True, "the weights of the best epoch come back, buffers included, whatever training did to "
                            "the model after it: a deep copy of the state_dict, kept only on a new best. fit() does "
                            "the same.", "")
    for outcome, hint in OUTCOME_HINTS.items():
        if outcome in outcomes.values():
            return wrong(hint)
    if outcomes["new memory"] == "best" and outcomes["in place"] != "best":
        return wrong("the kept weights changed as training went on: state_dict() gives references to the model's "
                     "own tensors, which the optimizer changes in place. Keep a copy.deepcopy of it.")
    if outcomes["in place"] == 0:
        return wrong("restore() brought back the epoch with the lowest accuracy (0.60): for an accuracy, higher is "
                     "better; keep the weights when valid_acc > best.")
    if outcomes["in place"] == "best" and outcomes["previous"] == 3:
        return wrong("you keep the weights when an epoch beats the previous one (0.75 after 0.70), but the best so "
                     "far was 0.80: compare with the best accuracy so far, and update it on every new best.")
    if outcomes["in place"] == 2:
        return wrong("after a worse epoch, restore() brings back the last weights, not the best: keep the weights "
                     "only when the accuracy beats the best so far.")
    if outcomes["tie"] == 1 and all(outcomes[name] == "best" for name in ("in place", "new memory", "best first")):
        return wrong("on a tie your keeper replaced the best weights: only a strictly higher accuracy is a new best.")
    return wrong("restore() did not bring back the kept weights: load them into the model with "
                 "model.load_state_dict(...).")
