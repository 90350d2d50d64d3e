"""Self-checks for the notebooks' exercises.

Each exercise ends with a cell such as::

    answer = None        # replace None with your answer
    check_iterations_per_epoch(answer)

which prints ``Correct`` with a sentence on why, or ``Not yet`` with a hint. The checks
compute the right answer themselves (they never store it as a bare number), so reading
this file teaches as much as the solution. Worked solutions are in
``notebooks/solutions/``, out of the way until you want them.
"""

from __future__ import annotations

import math
from typing import Any


def report(correct: bool, why: str, hint: str) -> bool:
    """Print the verdict of a self-check and return it."""
    if correct:
        print(f"Correct! {why}")
    else:
        print(f"Not yet. Hint: {hint}")
    return correct


def not_answered(answer: Any, what: str) -> bool:
    """True (after saying so) when the student has not replaced the placeholder yet."""
    if answer is None or answer is ...:
        print(f"Not answered yet: replace None with {what}, then run the cell again.")
        return True
    return False


def close_to(answer: Any, expected: float, tolerance: float = 1e-6) -> bool:
    """True when ``answer`` is a number within ``tolerance`` of ``expected``."""
    try:
        return math.isclose(float(answer), expected, rel_tol=tolerance, abs_tol=tolerance)
    except (TypeError, ValueError):
        return False


# Each notebook's checks follow, in notebook order, under a header "# --- Notebook NN ---".


# --- Notebook 09: saving and loading ---


def check_classifier_numbers(answer: Any, num_classes: int = 38, features: int = 1280) -> bool:
    """Notebook 09, exercise 1: numbers in the new classifier ``Linear(features, num_classes)``.

    The weight is a ``(num_classes, features)`` matrix and the bias has one number per
    class, so the count is ``num_classes * features + num_classes``. Computed here by
    building the layer and counting, the way you would check it in code.
    """
    from torch import nn

    if not_answered(answer, f"the number of weights and biases of Linear({features}, {num_classes})"):
        return False
    layer = nn.Linear(features, num_classes)
    expected = sum(parameter.numel() for parameter in layer.parameters())
    return report(close_to(answer, expected),
                  f"{num_classes} x {features} weights + {num_classes} biases = {expected:,} numbers. "
                  f"A 4-class checkpoint holds {4 * features + 4:,}, so its tensors cannot fit this layer.",
                  f"the weight has shape ({num_classes}, {features}) and the bias ({num_classes},); "
                  "add the two sizes.")


def check_batchnorm_count(answer: Any, arch: str = "efficientnet_lite0") -> bool:
    """Notebook 09, exercise 2: how many ``num_batches_tracked`` buffers the model's state_dict holds.

    Builds the course model (without pretrained weights: only its shape matters) and
    counts the entries, which is one per BatchNorm layer.
    """
    from leafdl.models import build_model

    if not_answered(answer, "the number of num_batches_tracked entries in model.state_dict()"):
        return False
    model, _ = build_model(4, arch=arch, pretrained=False, verbose=False)
    expected = sum(1 for name in model.state_dict() if name.endswith("num_batches_tracked"))
    return report(close_to(answer, expected),
                  f"{expected} BatchNorm layers, each with weight, bias, running_mean, running_var and "
                  "num_batches_tracked: the last three are buffers, saved but never trained.",
                  "count the keys: sum(name.endswith('num_batches_tracked') for name in model.state_dict()).")


# --- Notebook 00: overview ---


def _demo_image_count() -> int:
    from leafdl.course import demo_data
    from leafdl.data import scan_class_folders

    leaves, _ = demo_data()
    return sum(scan_class_folders(leaves, check_images=False).counts.values())


def check_total_images(answer: Any) -> bool:
    """Notebook 00, exercise 1: the number of images in the whole demo dataset."""
    if not_answered(answer, "the total number of images, e.g. sum(scan.counts.values())"):
        return False
    expected = _demo_image_count()
    return report(close_to(answer, expected),
                  f"{expected} images: the sum of the per-class counts.",
                  "add up the four class counts: sum(scan.counts.values()).")


def check_demo_validation_images(answer: Any) -> bool:
    """Notebook 00, exercise 2: how many demo images a 0.2 validation share keeps aside."""
    if not_answered(answer, "the number of validation images"):
        return False
    total = _demo_image_count()
    expected = math.ceil(0.2 * total)
    return report(close_to(answer, expected),
                  f"ceil(0.2 x {total}) = {expected} images for validation, {total - expected} for training.",
                  "multiply the total number of images by 0.2 and round up.")
