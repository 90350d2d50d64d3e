"""Self-checks of notebook 12 (fine-tuning).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from leafdl.course.exercises.common import CheckResult, call_student, checked, close_to, not_answered, report, wrong
from leafdl.models import build_model, count_parameters, unfreeze_last_blocks


def check_trainable_after_unfreezing(answer: Any, blocks: int = 2, arch: str = "efficientnet_lite0") -> CheckResult:
    """Notebook 12, exercise 1: trainable parameters after unfreezing the last ``blocks`` blocks."""
    missing = not_answered(answer, "count_parameters(model).trainable after unfreeze_last_blocks(model, 2)")
    if missing is not None:
        return missing
    model, _ = build_model(4, arch=arch, pretrained=False, verbose=False)
    unfreeze_last_blocks(model, blocks)
    expected = count_parameters(model).trainable
    return report(close_to(answer, expected),
                  f"{expected:,} parameters: the classifier's 5,124 plus those of the last {blocks} blocks.",
                  "build the model, call unfreeze_last_blocks(model, 2), then count_parameters(model).trainable.")


def _trainable_names(model: nn.Module) -> set[str]:
    return {name for name, parameter in model.named_parameters() if parameter.requires_grad}


def _one_run(finetune_optimizer: Callable, blocks: int, backbone_lr: float, head_lr: float):
    """Build a frozen course model, hand it to the student's function; return what came back."""
    model, _ = build_model(4, arch="efficientnet_lite0", pretrained=False, verbose=False)
    optimizer = call_student(finetune_optimizer, model, blocks, backbone_lr, head_lr)
    children = len(list(model.features.children()))
    last_blocks = {f"features.{index}.{name}" for index in range(children - blocks, children)
                   for name, _ in model.features[index].named_parameters()}
    return model, optimizer, last_blocks


@checked
def check_finetune_optimizer(finetune_optimizer: Callable) -> CheckResult:
    """Notebook 12, exercise 2: unfreeze the last blocks and give Adam two learning rates.

    ``finetune_optimizer(model, n_blocks, backbone_lr, head_lr)`` gets a course model with
    frozen features. It must make the last ``n_blocks`` children of ``model.features``
    trainable and return an Adam whose unfrozen blocks learn at ``backbone_lr`` and whose
    classifier learns at ``head_lr``. The check runs it on a real EfficientNet-Lite0 with 2
    and then 3 blocks, and names the usual mistakes: the first blocks unfrozen instead of the
    last, nothing unfrozen, frozen parameters handed to Adam, one learning rate for all,
    the two rates swapped, the classifier left out, a block count written in by hand.
    """
    for blocks, backbone_lr, head_lr in ((2, 3e-4, 1e-3), (3, 1e-4, 2e-3)):
        model, optimizer, unfrozen = _one_run(finetune_optimizer, blocks, backbone_lr, head_lr)
        if optimizer is None:
            return wrong("finetune_optimizer returns nothing: end it with `return torch.optim.Adam([...])`.")
        if not isinstance(optimizer, torch.optim.Adam):
            return wrong(f"return the optimizer: an Adam (the document's optimizer), not {type(optimizer).__name__}.")
        trainable = _trainable_names(model) - {name for name, _ in model.classifier.named_parameters(prefix="classifier")}
        if not trainable:
            return wrong("no block of model.features trains: set requires_grad = True on the parameters of its "
                         "last n_blocks children.")
        first_of_last = len(list(model.features.children())) - blocks
        early = {name for name in trainable if int(name.split(".")[1]) < first_of_last}
        if early and not unfrozen <= trainable:
            return wrong("you unfroze blocks at the start of model.features; fine-tuning unfreezes the LAST ones, "
                         "closest to the classifier (their features are the most specific).")
        if trainable != unfrozen:
            return wrong(f"with n_blocks={blocks}, exactly the last {blocks} children of model.features should train "
                         f"({len(unfrozen)} tensors), not {len(trainable)}: use n_blocks, not a number of your own.")
        rates = {id(parameter): group["lr"] for group in optimizer.param_groups for parameter in group["params"]}
        named = dict(model.named_parameters())
        if any(id(named[name]) in rates for name in named if not named[name].requires_grad):
            return wrong("Adam was given frozen parameters too: hand it only what trains (model.parameters() "
                         "includes every frozen one).")
        head = [id(parameter) for parameter in model.classifier.parameters()]
        backbone = [id(named[name]) for name in unfrozen]
        if not all(key in rates for key in head):
            return wrong("the classifier is not in the optimizer: it must keep learning, at head_lr.")
        if not all(key in rates for key in backbone):
            return wrong("the unfrozen blocks are not in the optimizer, so they would never change.")
        head_rates, backbone_rates = {rates[key] for key in head}, {rates[key] for key in backbone}
        if head_rates == {backbone_lr} and backbone_rates == {head_lr}:
            return wrong("the two learning rates are swapped: the pretrained blocks are already good and get the "
                         "small one; the new classifier gets the larger one.")
        if len(optimizer.param_groups) < 2 or head_rates == backbone_rates:
            return wrong("every parameter has the same learning rate: give Adam one parameter group per "
                         "learning rate (a list of dicts, each with its own 'params' and 'lr').")
        if head_rates != {head_lr} or backbone_rates != {backbone_lr}:
            return wrong(f"the rates should be backbone_lr ({backbone_lr:g}) for the unfrozen blocks and head_lr "
                         f"({head_lr:g}) for the classifier; Adam has {sorted(backbone_rates)} and {sorted(head_rates)}.")
    return report(True, "the last blocks train at a small learning rate and the classifier at the document's: the "
                        "two-stage recipe's second stage, as leafdl.engine.make_finetune_optimizer builds it.", "")


def check_smallest_crop_side(answer: Any, photo_side: int = 500, crop_scale_min: float = 0.08) -> CheckResult:
    """Notebook 12, exercise 3: side in pixels of the smallest square training crop of a photo.

    ``RandomResizedCrop(scale=(crop_scale_min, 1.0))`` keeps at least ``crop_scale_min`` of
    the photo's area; a square holding that share of a ``photo_side`` x ``photo_side``
    photo is ``photo_side * sqrt(crop_scale_min)`` pixels wide.
    """
    missing = not_answered(answer, f"the side in pixels of a square crop holding {crop_scale_min:.0%} "
                                   "of the photo's area")
    if missing is not None:
        return missing
    expected = photo_side * math.sqrt(crop_scale_min)
    return report(close_to(answer, expected, tolerance=0.01),
                  f"about {expected:.0f} px of the {photo_side} px photo: a crop that small can miss "
                  "every diseased leaf in a field photo, which is why the field recipe keeps at least 35%.",
                  f"the crop's area is {crop_scale_min} x {photo_side} x {photo_side} pixels; a square's side "
                  "is the square root of its area.")
