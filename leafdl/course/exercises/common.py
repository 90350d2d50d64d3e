"""What every self-check shares: the verdict it prints, and how it runs a student's code.

A check prints one verdict and returns a :class:`CheckResult`:

- ``Correct! ...`` with a sentence on why;
- ``Not yet. Hint: ...`` naming what is wrong (never the solution);
- ``Not done yet: ...`` when the placeholder is still there (``answer = None``, or a
  function whose body is still ``raise NotImplementedError``).

The result is for code (tests, a grader): ``result.passed``, ``result.status`` and
``result.message``, and ``bool(result)`` is ``result.passed``. In a notebook it shows
nothing under the printed verdict (no bare ``True``/``False``): it tells Jupyter there is
nothing to display.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import transforms

from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.course import demo_data
from leafdl.data import load_rgb, scan_class_folders

CORRECT, NOT_YET, NOT_DONE = "correct", "not yet", "not done"


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one self-check: ``status`` is "correct", "not yet" or "not done"."""

    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Jupyter shows nothing for a result: the verdict is already printed above it."""


def report(correct: bool, why: str, hint: str) -> CheckResult:
    """Print the verdict of a self-check and return it."""
    if correct:
        message = f"Correct! {why}"
    else:
        message = f"Not yet. Hint: {hint}"
    print(message)
    return CheckResult(CORRECT if correct else NOT_YET, message)


def wrong(hint: str) -> CheckResult:
    """Print and return a "Not yet" verdict with this hint."""
    return report(False, "", hint)


def not_done(what: str) -> CheckResult:
    """Print and return the friendly verdict for an exercise not attempted yet."""
    message = f"Not done yet: {what}, then run the cell again."
    print(message)
    return CheckResult(NOT_DONE, message)


def not_answered(answer: Any, what: str) -> CheckResult | None:
    """The "not done yet" verdict when ``answer`` is still the placeholder ``None``, else None."""
    if answer is None or answer is ...:
        return not_done(f"replace None with {what}")
    return None


def close_to(answer: Any, expected: float, tolerance: float = 1e-6) -> bool:
    """True when ``answer`` is a number within ``tolerance`` of ``expected``."""
    try:
        return math.isclose(float(answer), expected, rel_tol=tolerance, abs_tol=tolerance)
    except (TypeError, ValueError):
        return False


def averaging_verdict(given: tuple, exact: tuple[float, float], per_batch: tuple[float, float]) -> CheckResult | None:
    """What is wrong with a phase's ``(mean loss, accuracy)``, or None when both are right.

    ``exact`` is the pair averaged over the images, as the document's loop computes it;
    ``per_batch`` the pair averaged over the batches, the usual mistake (the checks use a
    last batch smaller than the others, so the two differ).
    """
    (given_loss, given_acc), (loss, acc), (batch_loss, batch_acc) = given, exact, per_batch
    if close_to(given_loss, batch_loss, 1e-4) and not close_to(batch_loss, loss, 1e-4):
        return wrong("your loss is the mean of the batch losses, but the last batch holds 2 images, not 5: "
                     "weight each batch's loss by its number of images, and divide by the number of images.")
    if not close_to(given_loss, loss, 1e-4):
        return wrong(f"your mean loss is {given_loss}, expected {loss:.4f}: criterion gives each batch's mean; "
                     "the mean over the images weights every image the same.")
    if close_to(given_acc, batch_acc, 1e-4) and not close_to(batch_acc, acc, 1e-4):
        return wrong("your accuracy is the mean of the batches' accuracies; the batches differ in size: "
                     "count the correct images over all batches and divide by the number of images.")
    if not close_to(given_acc, acc, 1e-4):
        return wrong(f"your accuracy is {given_acc}, expected {acc:.4f}: the share of images whose "
                     "highest score (outputs.argmax(dim=1)) is the true label, between 0 and 1.")
    return None


class StudentCodeFailed(Exception):
    """The student's function raised: carries the verdict to return."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


def call_student(function: Callable, *args: Any, advice: dict[type, str] | None = None, **kwargs: Any) -> Any:
    """Call the student's ``function``; turn a stub or a crash into a verdict, not a traceback.

    A body that still raises ``NotImplementedError`` gives "Not done yet"; any other
    exception gives "Not yet" with the exception's type and message, so the student
    sees what went wrong without a wall of traceback; ``advice`` maps an exception type
    to a hint added after it (``{NotADirectoryError: "only folders are classes"}``). Either way
    :class:`StudentCodeFailed` carries the verdict; :func:`checked` returns it.
    """
    if not callable(function):
        raise StudentCodeFailed(wrong(f"pass your function itself (its name, without brackets), not {function!r}."))
    name = getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise StudentCodeFailed(not_done(f"write the body of {name} (replace `raise NotImplementedError`)"))
    except Exception as error:   # the student's bug, reported in one line
        extra = next((f" ({hint})" for kind, hint in (advice or {}).items() if isinstance(error, kind)), "")
        raise StudentCodeFailed(wrong(f"{name} raised {type(error).__name__}: {error}{extra}")) from None


def checked(check: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """Decorator for checks of student code: a :class:`StudentCodeFailed` becomes its verdict."""
    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> CheckResult:
        try:
            return check(*args, **kwargs)
        except StudentCodeFailed as failed:
            return failed.result
    return run


# --- Real objects for the checks: demo leaves, a tiny network, a loader ---------------


def demo_leaves() -> Path:
    """The course's demo leaves, one folder per class (made if missing)."""
    return demo_data()[0]


def demo_images(per_class: int) -> dict[str, list[Path]]:
    """The first ``per_class`` images of each class of the course's demo leaves (made if missing)."""
    leaves = demo_leaves()
    scan = scan_class_folders(leaves, check_images=False)
    return {name: scan.images[name][:per_class] for name in scan.classes}


def leaf_batches(per_class: int = 3, img_size: int = 32, batch_size: int = 5) -> DataLoader:
    """A DataLoader over real demo leaves, small and in a fixed order.

    ``4 * per_class`` images (12 by default) in batches of 5: the last batch is smaller
    (5, 5, 2), so averaging per batch and per image give different numbers.
    """
    transform = transforms.Compose([transforms.Resize((img_size, img_size)), transforms.ToTensor(),
                                    transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    images, labels = [], []
    for label, paths in enumerate(demo_images(per_class).values()):
        for path in paths:
            images.append(transform(load_rgb(path)))
            labels.append(label)
    # interleave the classes so that every batch holds several
    order = sorted(range(len(labels)), key=lambda i: (i % per_class, labels[i]))
    dataset = TensorDataset(torch.stack([images[i] for i in order]), torch.tensor([labels[i] for i in order]))
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


def tiny_net(num_classes: int = 4, seed: int = 0) -> nn.Module:
    """A real (tiny) CNN with BatchNorm and Dropout, so train and eval mode differ."""
    with torch.random.fork_rng(devices=[]):   # leave the notebook's random numbers as they were
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(8, num_classes),
        )


def same_weights(first: dict, second: dict, tolerance: float = 1e-6) -> bool:
    """True when two state_dicts hold the same tensors (within ``tolerance``)."""
    return first.keys() == second.keys() and all(
        torch.allclose(first[key].float(), second[key].float(), atol=tolerance) for key in first)


def snapshot(model: nn.Module) -> dict:
    """A copy of the model's weights that later training cannot change."""
    return {key: value.detach().clone() for key, value in model.state_dict().items()}
