"""Self-checks of notebook 06 (training and evaluation mode).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from leafdl.course.exercises.common import (CheckResult, averaging_verdict, call_student, checked, close_to,
                                            leaf_batches, not_answered, report, snapshot, tiny_net, wrong)


class _WatchedLoss(nn.Module):
    """CrossEntropyLoss that also notes whether PyTorch was tracking gradients for each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.loss = nn.CrossEntropyLoss()
        self.tracked: list[bool] = []

    def forward(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self.tracked.append(outputs.requires_grad)
        return self.loss(outputs, labels)


def _reference_validation(model: nn.Module, loader) -> tuple[float, float, float, float]:
    """The document's validation phase: ``(loss, accuracy)`` over images, and the same over batches."""
    model.eval()
    total = correct = seen = 0
    batch_losses, batch_accs = [], []
    with torch.no_grad():
        for inputs, labels in loader:
            outputs = model(inputs)
            loss = nn.functional.cross_entropy(outputs, labels)
            hits = (outputs.argmax(dim=1) == labels).sum().item()
            total += loss.item() * inputs.size(0)
            correct += hits
            seen += inputs.size(0)
            batch_losses.append(loss.item())
            batch_accs.append(hits / inputs.size(0))
    return total / seen, correct / seen, sum(batch_losses) / len(batch_losses), sum(batch_accs) / len(batch_accs)


@checked
def check_validate(validate: Callable) -> CheckResult:
    """Notebook 06, exercise 1: ``validate(model, loader, criterion)`` returns ``(loss, accuracy)`` without training.

    The student's function gets a real tiny CNN with BatchNorm and Dropout **in training
    mode** (as it is after a training phase), 12 real demo leaves in batches of 5, 5 and 2,
    and a loss that notes whether gradients were tracked. It must switch to eval mode
    (BatchNorm's running averages must not move, Dropout must be off), track no gradients,
    change no weight, and average loss and accuracy over images.
    """
    loader = leaf_batches(per_class=3, img_size=32, batch_size=5)
    model = tiny_net().train()
    before = snapshot(model)
    criterion = _WatchedLoss()
    with torch.random.fork_rng(devices=[]):
        returned = call_student(validate, model, loader, criterion)
    after = snapshot(model)
    running = [key for key in before if "running" in key]
    if any(not torch.equal(before[key], after[key]) for key in running):
        return wrong("BatchNorm's running averages changed during validation: the model was still in "
                     "training mode. Call model.eval() before the validation loop.")
    if model.training:
        return wrong("the model is still in training mode after validation, so Dropout was active: call model.eval().")
    if not criterion.tracked:
        return wrong("call criterion(outputs, labels) for each batch: the loss is half of what validation measures.")
    if any(criterion.tracked):
        return wrong("PyTorch tracked gradients during validation, which costs memory and time for nothing: "
                     "run the loop inside torch.no_grad() (or torch.set_grad_enabled(False)).")
    if any(parameter.grad is not None for parameter in model.parameters()) or not all(
            torch.equal(before[key], after[key]) for key in before):
        return wrong("validation changed the model: no backward() and no optimizer step there; it only measures.")
    if not (isinstance(returned, tuple) and len(returned) == 2):
        return wrong("return two numbers: (mean loss, accuracy) over the validation images.")
    loss, acc, batch_loss, batch_acc = _reference_validation(tiny_net(), loader)
    verdict = averaging_verdict(returned, (loss, acc), (batch_loss, batch_acc))
    if verdict is not None:
        return verdict
    return report(True, f"loss {loss:.4f} and accuracy {acc:.3f} in eval mode, with no gradients and no "
                        "change to the model. leafdl.engine.run_phase(..., train=False) does this.", "")


def check_running_mean_after_two_batches(answer: Any, means: tuple[float, ...] = (4.0, 6.0),
                                         momentum: float = 0.1) -> CheckResult:
    """Notebook 06, exercise 2: a BatchNorm's ``running_mean`` after training batches with these means.

    Feeds a real ``nn.BatchNorm1d(1)`` one two-sample batch per mean, in training mode,
    and reads its running mean.
    """
    missing = not_answered(answer, "the running_mean after the two batches")
    if missing is not None:
        return missing
    bn = nn.BatchNorm1d(1, momentum=momentum).train()
    for mean in means:
        bn(torch.tensor([[mean - 1.0], [mean + 1.0]]))   # a batch whose mean is `mean`
    expected = bn.running_mean.item()
    first = momentum * means[0]
    return report(close_to(answer, expected, tolerance=1e-4),
                  f"after the first batch 0.9 x 0 + 0.1 x {means[0]} = {first:.2f}; after the second "
                  f"0.9 x {first:.2f} + 0.1 x {means[1]} = {expected:.2f}. Far from the data's mean "
                  "(about 5): the running averages need many batches to settle.",
                  "apply running = (1 - momentum) * running + momentum * batch_mean twice, "
                  "starting from running = 0.")
