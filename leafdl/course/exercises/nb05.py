"""Self-checks of notebook 05 (the training loop).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from leafdl.course.exercises.common import (CheckResult, averaging_verdict, call_student, checked, close_to,
                                            leaf_batches, not_answered, report, same_weights, snapshot, tiny_net, wrong)


def check_iterations_per_epoch(answer: Any, images: int = 1500, batch_size: int = 64) -> CheckResult:
    """Notebook 05, exercise 1: iterations (batches) in one epoch of ``images`` images.

    Every batch is one iteration, and the last batch takes what is left, so the count is
    ``images / batch_size`` rounded *up*. Checked against a real DataLoader's length.
    """
    missing = not_answered(answer, f"the number of batches of {batch_size} needed for {images} images")
    if missing is not None:
        return missing
    expected = len(DataLoader(TensorDataset(torch.zeros(images)), batch_size=batch_size))
    last = images - (expected - 1) * batch_size
    return report(close_to(answer, expected),
                  f"⌈{images}/{batch_size}⌉ = ⌈{images / batch_size:.2f}⌉ = {expected}: "
                  f"{expected - 1} full batches and a last one of {last} images.",
                  f"{images}/{batch_size} = {images / batch_size:.2f} is not a whole number; "
                  "the images left over still need a (smaller) batch, so round up.")


def check_cross_entropy(answer: Any, logits: tuple[float, ...] = (2.0, 1.0, 0.1), true_class: int = 1) -> CheckResult:
    """Notebook 05, exercise 2: the cross-entropy loss of one image's ``logits``.

    Computed with ``nn.CrossEntropyLoss`` (softmax, then -log of the true class's
    probability). Three decimals are enough.
    """
    missing = not_answered(answer, "the loss, a number such as 0.123")
    if missing is not None:
        return missing
    outputs = torch.tensor([logits])
    expected = nn.CrossEntropyLoss()(outputs, torch.tensor([true_class])).item()
    p_true = torch.softmax(outputs, dim=1)[0, true_class].item()
    return report(close_to(answer, expected, tolerance=2e-3),
                  f"softmax gives the true class a probability of {p_true:.4f}, and "
                  f"-log({p_true:.4f}) = {expected:.4f}.",
                  "softmax first: exp of each logit divided by the sum of the exps; then take "
                  f"-log of the probability at index {true_class} (indices start at 0).")


def reference_epoch(model: nn.Module, loader, criterion, optimizer, *, zero_grad: bool = True,
                    train_mode: bool = True) -> tuple[float, float, float, float]:
    """One training epoch as the document writes it, with two switches for classic mistakes.

    Returns ``(loss, accuracy)`` averaged over images, and the same averaged over batches
    (the mistake of dividing by the number of batches when the last one is smaller).
    """
    if train_mode:
        model.train()
    total_loss = correct = seen = 0
    batch_losses, batch_accs = [], []
    for inputs, labels in loader:
        if zero_grad:
            optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        hits = (outputs.argmax(dim=1) == labels).sum().item()
        total_loss += loss.item() * inputs.size(0)
        correct += hits
        seen += inputs.size(0)
        batch_losses.append(loss.item())
        batch_accs.append(hits / inputs.size(0))
    return total_loss / seen, correct / seen, sum(batch_losses) / len(batch_losses), sum(batch_accs) / len(batch_accs)


def _run(epoch_function: Callable, loader, **switches) -> tuple[Any, dict]:
    """Run one epoch on a fresh tiny network (in eval mode, as after a validation phase)."""
    model = tiny_net().eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        if epoch_function is reference_epoch:
            returned = reference_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, **switches)
        else:
            returned = call_student(epoch_function, model, loader, nn.CrossEntropyLoss(), optimizer)
    return returned, snapshot(model), model.training


@checked
def check_train_one_epoch(train_one_epoch: Callable) -> CheckResult:
    """Notebook 05, exercise 3: ``train_one_epoch(model, loader, criterion, optimizer)`` returns ``(loss, accuracy)``.

    Runs the student's epoch on a real tiny CNN (with BatchNorm and Dropout, handed over
    in eval mode) over 12 real demo leaves in batches of 5, 5 and 2, and compares it with
    the document's loop run from the same starting weights and random numbers: the
    weights after the epoch (which catch a missing ``zero_grad``, ``backward`` or
    ``step``, or a missing ``model.train()``), and the loss and accuracy averaged over
    images (not over batches: the last batch is smaller).
    """
    loader = leaf_batches(per_class=3, img_size=32, batch_size=5)
    returned, weights, training = _run(train_one_epoch, loader)
    (loss, acc, batch_loss, batch_acc), right_weights, _ = _run(reference_epoch, loader)
    learnable = dict(tiny_net().named_parameters())   # the weights, not BatchNorm's running averages
    initial = {name: parameter.detach() for name, parameter in learnable.items()}
    if not (isinstance(returned, tuple) and len(returned) == 2):
        return wrong("return two numbers: (mean loss, accuracy) of the epoch.")
    if same_weights({name: weights[name] for name in learnable}, initial):
        return wrong("the weights did not change: each batch needs loss.backward() (the gradients) and "
                     "optimizer.step() (the update).")
    if not training:
        return wrong("the model is still in eval mode after your epoch: call model.train() first, so that "
                     "Dropout and BatchNorm behave as in training.")
    if not same_weights(weights, right_weights, 1e-4):
        if same_weights(weights, _run(reference_epoch, loader, zero_grad=False)[1], 1e-4):
            return wrong("the gradients pile up from batch to batch: call optimizer.zero_grad() before each "
                         "backward pass.")
        return wrong("the weights after your epoch differ from the document's loop: per batch, zero the "
                     "gradients, compute outputs and loss, backward, step.")
    verdict = averaging_verdict(returned, (loss, acc), (batch_loss, batch_acc))
    if verdict is not None:
        return verdict
    return report(True, f"mean loss {loss:.4f} and accuracy {acc:.3f} over the 12 images, and the same "
                        "weights as the document's loop. leafdl.engine.run_phase is this loop.", "")
