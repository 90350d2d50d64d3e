"""Self-checks of notebook 05 (the training loop).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, leaf_batches, not_answered,
                                            phase_verdict, report, same_weights, snapshot, tiny_net, wrong)


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
                    train_mode: bool = True) -> list[tuple[float, int, int]]:
    """One training epoch as the document writes it, with two switches for classic mistakes.

    Returns, for every batch, ``(mean loss, correct images, images)``: what
    :func:`~leafdl.course.exercises.common.phase_verdict` needs to tell the right averages
    from the usual wrong ones.
    """
    if train_mode:
        model.train()
    batches = []
    for inputs, labels in loader:
        if zero_grad:
            optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        batches.append((loss.item(), (outputs.argmax(dim=1) == labels).sum().item(), inputs.size(0)))
    return batches


class _WatchedSGD(torch.optim.SGD):
    """SGD that notes, in order, each ``zero_grad`` and each ``step`` (and whether gradients were there).

    :func:`_run` adds ``"backward"`` to the same list when a backward pass reaches the weights.
    """

    def __init__(self, params, **settings) -> None:
        super().__init__(params, **settings)
        self.events: list[str] = []

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.events.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        gradients = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        self.events.append("step" if any(bool(g.abs().sum() > 0) for g in gradients) else "empty step")
        return super().step(closure)


def _run(epoch_function: Callable, loader, **switches) -> tuple[Any, dict, list[bool], list[str]]:
    """Run one epoch on a fresh tiny network (in eval mode, as after a validation phase).

    Returns what the epoch returned, the weights after it, the mode of the network at each
    forward pass, and the optimizer's calls in order.
    """
    model = tiny_net().eval()
    modes: list[bool] = []
    model.register_forward_pre_hook(lambda module, inputs: modes.append(module.training))
    optimizer = _WatchedSGD(model.parameters(), lr=0.5, momentum=0.9)
    first = next(model.parameters())   # its gradient arriving marks a backward pass
    first.register_post_accumulate_grad_hook(lambda parameter: optimizer.events.append("backward"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        if epoch_function is reference_epoch:
            returned = reference_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, **switches)
        else:
            returned = call_student(epoch_function, model, loader, nn.CrossEntropyLoss(), optimizer,
                                    advice=TRAINING_ADVICE, warning_advice=TRAINING_WARNINGS)
    return returned, snapshot(model), modes, optimizer.events


TRAINING_ADVICE = {
    "does not require grad": "Training needs the gradients: no torch.no_grad() (or inference_mode) around the "
                             "training loop; that is for validation.",
    "backward through the graph a second time": "Call loss.backward() once per batch, on that batch's loss.",
}


TRAINING_WARNINGS = {
    "Converting a tensor with requires_grad=True to a scalar": "float(loss) on a tensor that still needs its "
                                                               "gradient makes PyTorch warn: take the number with "
                                                               "loss.item().",
}


def _weights_verdict(modes: list[bool], events: list[str], batches: int) -> CheckResult:
    """Why the weights after the student's epoch differ from the document's loop."""
    if modes and not all(modes):
        return wrong("the model trained in eval mode: it arrives in eval mode from a validation phase, so call "
                     "model.train() before the loop (Dropout and BatchNorm behave differently in training).")
    steps = [event for event in events if event in ("step", "empty step")]
    if not steps:
        return wrong("the weights did not change: call optimizer.step() after loss.backward(), once per batch.")
    if "step" not in steps:
        if any(events[i:i + 3] == ["backward", "zero_grad", "empty step"] for i in range(len(events))):
            return wrong("zero_grad() between backward() and step() wipes the gradients before step() can use "
                         "them: per batch, zero_grad(), outputs and loss, backward(), then step().")
        return wrong("optimizer.step() found no gradients: call loss.backward() before it, on every batch.")
    if len(steps) != batches:
        return wrong(f"optimizer.step() ran {len(steps)} times for {batches} batches: step once per batch, "
                     "inside the loop.")
    return wrong("the weights after your epoch differ from the document's loop: per batch, zero the gradients, "
                 "compute outputs and loss, backward, step.")


@checked
def check_train_one_epoch(train_one_epoch: Callable) -> CheckResult:
    """Notebook 05, exercise 3: ``train_one_epoch(model, loader, criterion, optimizer)`` returns ``(loss, accuracy)``.

    Runs the student's epoch on a real tiny CNN (with BatchNorm and Dropout, handed over
    in eval mode) over 12 real demo leaves in batches of 5, 5 and 2, and compares it with
    the document's loop run from the same starting weights and random numbers: the
    weights after the epoch (which catch a missing or misplaced ``zero_grad``,
    ``backward`` or ``step``, or a missing ``model.train()``), and the loss and accuracy
    averaged over images (not over batches: the last batch is smaller), as plain numbers.
    Any order of ``zero_grad`` that clears the gradients before each ``backward`` passes
    (before the forward pass, or after the step), and so does ``model.zero_grad()``.
    """
    loader = leaf_batches(per_class=3, img_size=32, batch_size=5)
    returned, weights, modes, events = _run(train_one_epoch, loader)
    batches, right_weights, _, _ = _run(reference_epoch, loader)
    if not same_weights(weights, right_weights, 1e-4):
        if same_weights(weights, _run(reference_epoch, loader, zero_grad=False)[1], 1e-4):
            return wrong("the gradients pile up from batch to batch: call optimizer.zero_grad() once per batch, "
                         "before backward().")
        return _weights_verdict(modes, events, len(batches))
    verdict = phase_verdict(returned, batches)
    if verdict is not None:
        return verdict
    loss, acc = returned
    return report(True, f"mean loss {float(loss):.4f} and accuracy {float(acc):.3f} over the 12 images, and the "
                        "same weights as the document's loop. leafdl.engine.run_phase is this loop.", "")
