"""Self-checks of notebook 12 (fine-tuning).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

import math
from typing import Any

from leafdl.course.exercises.common import CheckResult, close_to, not_answered, report
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


def check_backbone_learning_rate(answer: Any) -> CheckResult:
    """Notebook 12, exercise 2: how the backbone's learning rate compares with the classifier's."""
    missing = not_answered(answer, '"larger", "the same" or "smaller"')
    if missing is not None:
        return missing
    return report(str(answer).strip().lower() == "smaller",
                  "The pretrained blocks are already good; small steps adapt them without "
                  "destroying what they learnt on ImageNet. The new classifier starts from scratch.",
                  "which part of the model starts from random weights, and which is already trained?")


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
