"""Self-checks of notebook 06 (training and evaluation mode).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, leaf_batches, not_answered,
                                            phase_verdict, report, snapshot, tiny_net, wrong)


def _reference_validation(model: nn.Module, loader) -> list[tuple[float, int, int]]:
    """The document's validation phase: for every batch, ``(mean loss, correct images, images)``."""
    model.eval()
    batches = []
    with torch.no_grad():
        for inputs, labels in loader:
            outputs = model(inputs)
            loss = nn.functional.cross_entropy(outputs, labels)
            batches.append((loss.item(), (outputs.argmax(dim=1) == labels).sum().item(), inputs.size(0)))
    return batches


VALIDATION_ADVICE = {
    "does not support the context manager protocol": "Write torch.no_grad() with its brackets: "
                                                     "`with torch.no_grad():`.",
    "does not require grad": "Validation only measures: no loss.backward() there.",
}


@checked
def check_validate(validate: Callable) -> CheckResult:
    """Notebook 06, exercise 1: ``validate(model, loader, criterion)`` returns ``(loss, accuracy)`` without training.

    The student's function gets a real tiny CNN with BatchNorm and Dropout **in training
    mode** (as it is after a training phase) and 12 real demo leaves in batches of 5, 5
    and 2. A hook notes, at every forward pass, the network's mode and whether PyTorch
    was recording gradients. The network must be in eval mode at every pass (BatchNorm's
    running averages must not move, Dropout must be off), no gradients recorded
    (``torch.no_grad()``, ``torch.inference_mode()`` or ``set_grad_enabled(False)``), no
    weight changed, and loss and accuracy averaged over the images, as plain numbers.
    What mode the network is left in afterwards is the caller's business.
    """
    loader = leaf_batches(per_class=3, img_size=32, batch_size=5)
    model = tiny_net().train()
    passes: list[tuple[bool, bool]] = []
    model.register_forward_pre_hook(lambda module, inputs: passes.append((module.training, torch.is_grad_enabled())))
    before = snapshot(model)
    with torch.random.fork_rng(devices=[]):
        returned = call_student(validate, model, loader, nn.CrossEntropyLoss(), advice=VALIDATION_ADVICE)
    after = snapshot(model)
    if not passes:
        return wrong("your function never ran the model: for each batch, outputs = model(inputs).")
    if any(training for training, _ in passes):
        running = [key for key in before if "running" in key]
        moved = any(not torch.equal(before[key], after[key]) for key in running)
        return wrong(("BatchNorm's running averages changed during validation" if moved else "Dropout was active")
                     + ": the model was still in training mode. Call model.eval() (with its brackets) before "
                       "the loop; torch.no_grad() does not switch modes.")
    if any(recording for _, recording in passes):
        return wrong("PyTorch recorded gradients during validation, which costs memory and time for nothing: "
                     "run the loop inside torch.no_grad() (or torch.inference_mode()).")
    if any(parameter.grad is not None for parameter in model.parameters()) or not all(
            torch.equal(before[key], after[key]) for key in before):
        return wrong("validation changed the model: no backward() and no optimizer step there; it only measures.")
    if len(passes) != len(loader):
        return wrong(f"the model ran {len(passes)} times for {len(loader)} batches: once per batch, every batch.")
    batches = _reference_validation(tiny_net(), loader)
    verdict = phase_verdict(returned, batches)
    if verdict is not None:
        return verdict
    loss, acc = returned
    return report(True, f"loss {float(loss):.4f} and accuracy {float(acc):.3f} in eval mode, with no gradients and "
                        "no change to the model. leafdl.engine.run_phase(..., train=False) does this.", "")


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
