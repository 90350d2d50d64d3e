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
import numbers
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
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


def phase_verdict(returned: Any, batches: list[tuple[float, int, int]]) -> CheckResult | None:
    """What is wrong with a phase's returned ``(mean loss, accuracy)``, or None when both are right.

    ``batches`` holds, for every batch of the document's loop, ``(mean loss of the batch,
    correct images, images)``; the checks' last batch is smaller than the others, so the
    usual averaging mistakes (per batch instead of per image, a sum not divided, a
    percentage) each give a number of their own, and the hint names the one made.
    """
    if not (isinstance(returned, (tuple, list)) and len(returned) == 2):
        return wrong(f"return two numbers, (mean loss, accuracy), not {type(returned).__name__} {_short_value(returned)}.")
    given_loss, given_acc = returned
    for value, what in ((given_loss, "your mean loss"), (given_acc, "your accuracy")):
        verdict = not_a_number(value, what)
        if verdict is not None:
            return verdict
    images, count = sum(size for _, _, size in batches), len(batches)
    summed_loss = sum(loss * size for loss, _, size in batches)
    loss, acc = summed_loss / images, sum(hits for _, hits, _ in batches) / images
    sizes = ", ".join(str(size) for _, _, size in batches)
    if close_to(given_loss, acc, 1e-4) and close_to(given_acc, loss, 1e-4):
        return wrong("your two numbers are swapped: return (mean loss, accuracy), the loss first.")
    loss_mistakes = {
        sum(batch_loss for batch_loss, _, _ in batches) / count:
            f"your loss is the mean of the batch losses, but the batches hold {sizes} images: weight each "
            "batch's loss by its number of images, and divide by the number of images.",
        sum(batch_loss for batch_loss, _, _ in batches) / images:
            "you added each batch's mean loss, then divided by the number of images: multiply each batch's "
            "loss by its number of images (inputs.size(0)) before adding it.",
        summed_loss / count: f"you divided the summed loss by the number of batches ({count}); divide it by the "
                             f"number of images ({images}).",
        summed_loss: f"your loss is the sum over the images: divide it by the number of images ({images}).",
    }
    if not close_to(given_loss, loss, 1e-4):
        hint = next((hint for value, hint in loss_mistakes.items() if close_to(given_loss, value, 1e-4)), None)
        return wrong(hint or f"your mean loss is {float(given_loss):.4f}, expected {loss:.4f}: criterion gives each "
                             "batch's mean; the mean over the images weights every image the same.")
    acc_mistakes = {
        sum(hits / size for _, hits, size in batches) / count:
            f"your accuracy is the mean of the batches' accuracies, but the batches hold {sizes} images: count "
            "the correct images over all batches and divide by the number of images.",
        100 * acc: "your accuracy is a percentage: return the share of correct images, between 0 and 1.",
        acc * images: f"your accuracy is the number of correct images: divide it by the number of images ({images}).",
        sum(hits for _, hits, _ in batches) / count:
            f"you divided the correct images by the number of batches ({count}); divide by the number of images.",
    }
    if not close_to(given_acc, acc, 1e-4):
        hint = next((hint for value, hint in acc_mistakes.items() if close_to(given_acc, value, 1e-4)), None)
        return wrong(hint or f"your accuracy is {float(given_acc):.4f}, expected {acc:.4f}: the share of images "
                             "whose highest score (outputs.argmax(dim=1)) is the true label, between 0 and 1.")
    return None


def _short_value(value: Any) -> str:
    """A value as it prints, cut to one short line."""
    text = " ".join(repr(value).split())
    return text if len(text) < 60 else text[:57] + "..."


class StudentCodeFailed(Exception):
    """The student's function raised: carries the verdict to return."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


def _student_files(function: Callable) -> set[str]:
    """The file names of the student's code: a function's, a method's, or those of a class's methods."""
    target = getattr(function, "__func__", function)
    if isinstance(target, type):
        members = [getattr(value, "__func__", value) for klass in target.__mro__[:-1] for value in vars(klass).values()]
    else:
        members = [target]
    return {member.__code__.co_filename for member in members if hasattr(member, "__code__")}


def student_line(error: BaseException, function: Callable) -> int | None:
    """The line of the student's cell where ``error`` was raised (the deepest frame in their code), or None."""
    files = _student_files(function)
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename in files]
    return lines[-1] if lines else None


def _advice_for(error: BaseException, advice: dict[type | str, str] | None) -> str:
    """The hint that ``advice`` gives for this exception: keyed by its type, or by a piece of its message."""
    for key, hint in (advice or {}).items():
        if isinstance(key, str) and key in str(error) or isinstance(key, type) and isinstance(error, key):
            return f" {hint}"
    return ""


def call_student(function: Callable, *args: Any, advice: dict[type | str, str] | None = None,
                 warning_advice: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Call the student's ``function``; turn a stub, a crash or a known warning into a verdict, not a traceback.

    A body that still raises ``NotImplementedError`` gives "Not done yet"; any other
    exception gives "Not yet" with the exception's type, message and the line of the
    student's cell, so the student sees what went wrong without a wall of traceback.
    ``advice`` maps an exception type, or a piece of its message, to a hint added after it
    (``{NotADirectoryError: "only folders are classes"}``). Warnings the student's code
    raises never reach the notebook: one whose message holds a key of ``warning_advice``
    becomes that hint's verdict, the others are dropped. Either way
    :class:`StudentCodeFailed` carries the verdict; :func:`checked` returns it.
    """
    if not callable(function):
        raise StudentCodeFailed(wrong(f"pass your function itself (its name, without brackets), not {function!r}."))
    name = getattr(function, "__name__", type(function).__name__)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            returned = function(*args, **kwargs)
    except NotImplementedError:
        raise StudentCodeFailed(not_done(f"write the body of {name} (replace `raise NotImplementedError`)"))
    except Exception as error:   # the student's bug, reported in one line
        line = student_line(error, function)
        where = f" (line {line} of your cell)" if line else ""
        said = " ".join(str(error).split()).rstrip(".")
        raise StudentCodeFailed(wrong(f"{name} raised {type(error).__name__}: {said}{where}."
                                      f"{_advice_for(error, advice)}")) from None
    for warning in caught:
        hint = next((hint for key, hint in (warning_advice or {}).items() if key in str(warning.message)), None)
        if hint is not None:
            raise StudentCodeFailed(wrong(hint))
    return returned


def checked(check: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """Decorator for checks of student code: a :class:`StudentCodeFailed` becomes its verdict.

    The check runs with warnings recorded and dropped, so that nothing the student's
    objects do inside it (a tensor that still needs its graph, a deprecated option) prints
    a warning under the verdict.
    """
    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> CheckResult:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                return check(*args, **kwargs)
            except StudentCodeFailed as failed:
                return failed.result
    return run


def not_a_number(value: Any, what: str, fix: str = "add up loss.item() and (...).sum().item(), so that no tensor "
                                                  "(and no autograd graph) is kept from batch to batch."
                 ) -> CheckResult | None:
    """The verdict when ``value`` is not a plain number (a tensor, a list, None...), else None.

    Python and numpy numbers pass. A tensor gets its own hint: ``loss`` or ``correct``
    added up as tensors keeps every batch's autograd graph alive, and prints as
    ``tensor(0.53, grad_fn=...)``; ``.item()`` gives the float. ``fix`` says what to do instead.
    """
    if isinstance(value, torch.Tensor):
        return wrong(f"{what} is a tensor ({_short_value(value)}), not a plain number: {fix}")
    if value is None:
        return wrong(f"{what} is None: return the number itself.")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        return wrong(f"{what} should be a number; yours is {_short_value(value)} ({type(value).__name__}).")
    return None


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
