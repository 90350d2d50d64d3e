"""Self-checks of notebook 00 (overview).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, demo_images, demo_leaves,
                                            not_answered, report, wrong)
from leafdl.data import scan_class_folders


def _demo_image_count() -> int:
    return sum(scan_class_folders(demo_leaves(), check_images=False).counts.values())


# How many images each class of the check's small folder holds: real demo leaves, one of
# Healthy's saved as a camera would name it (IMG_0001.JPG).


COUNT_LAYOUT = {"Apple_scab": 3, "Black_rot": 2, "Cedar_apple_rust": 4, "Healthy": 2}


CAMERA_NAME = "IMG_0001.JPG"


# Files beside the images that are not images: class -> file names.


NOT_IMAGES = {"Black_rot": ("notes.txt",), "Apple_scab": (".DS_Store",)}


def _small_folder(folder: Path) -> None:
    """Make the check's folder: 3, 2, 4 and 2 images, a notes.txt, a .DS_Store and a top-level README.txt."""
    for name, paths in demo_images(max(COUNT_LAYOUT.values())).items():
        (folder / name).mkdir(parents=True)
        for path in paths[:COUNT_LAYOUT[name]]:
            shutil.copy(path, folder / name / path.name)
    healthy = sorted((folder / "Healthy").iterdir())[-1]
    healthy.rename(healthy.with_name(CAMERA_NAME))
    for name, extras in NOT_IMAGES.items():
        for extra in extras:
            (folder / name / extra).write_text("not an image\n")
    (folder / "README.txt").write_text("four classes of apple leaves\n")


def _counts_verdict(counts: dict) -> CheckResult | None:
    """What is wrong with the counts of the small folder, or None when they are right."""
    if "README.txt" in counts:
        return wrong("README.txt is a file at the top level, not a class: keep only the folders (path.is_dir()).")
    if any(isinstance(key, Path) for key in counts):
        return wrong("the keys are Paths: use the class folder's name, class_folder.name (a str).")
    if set(counts) != set(COUNT_LAYOUT):
        return wrong(f"the keys should be the class folders' names {sorted(COUNT_LAYOUT)}, not {sorted(counts)}.")
    value = next(iter(counts.values()))
    if not isinstance(value, int):
        return wrong(f"the values should be numbers of images, not {type(value).__name__}s: count them (len(...) or "
                     "sum(1 for ...)).")
    for name, expected in COUNT_LAYOUT.items():
        extras = NOT_IMAGES.get(name, ())
        if extras and expected < counts[name] <= expected + len(extras):
            return wrong(f"{name} holds {', '.join(extras)} beside its images: count only image files "
                         "(their suffix is .jpg, .jpeg or .png).")
        if name == "Healthy" and counts[name] == expected - 1:
            return wrong(f"Healthy holds a photo named {CAMERA_NAME}, as cameras write it: compare the suffix in "
                         "lower case (path.suffix.lower() in ('.jpg', '.jpeg', '.png')).")
    if counts != COUNT_LAYOUT:
        return wrong(f"your counts {counts} differ from the images in the folders {COUNT_LAYOUT}; count the image "
                     "files inside each class folder.")
    return None


@checked
def check_count_images(count_images: Callable[[Path], dict]) -> CheckResult:
    """Notebook 00, exercise 1: ``count_images(folder)`` returns ``{class folder: number of images}``.

    Runs the student's function on a small copy of the demo leaves (3, 2, 4 and 2 images)
    that also holds what real folders hold: a text file and a hidden ``.DS_Store`` beside
    the images of two classes, a photo named as a camera names it (``IMG_0001.JPG``), and
    a file at the top level (the demo set has one, ``.leafdl-demo.json``). Then on the
    real demo set.
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "leaves"
        _small_folder(folder)
        counts = call_student(count_images, folder, advice={
            NotADirectoryError: "A file at the top level is not a class folder: keep only the folders "
                                "(path.is_dir())."})
    if not isinstance(counts, dict):
        return wrong(f"return a dict {{class folder name: number of images}}; yours returns {type(counts).__name__} "
                     f"{str(counts)[:40]}.")
    verdict = _counts_verdict(counts)
    if verdict is not None:
        return verdict
    leaves = demo_leaves()
    real = call_student(count_images, leaves)
    expected = scan_class_folders(leaves, check_images=False).counts
    return report(real == expected,
                  f"on the demo leaves your function counts {sum(real.values())} images: {real}.",
                  f"right on a small folder, but on the demo leaves it gives {real} instead of {expected}.")


def check_demo_validation_images(answer: Any) -> CheckResult:
    """Notebook 00, exercise 2: how many demo images a 0.2 validation share keeps aside."""
    missing = not_answered(answer, "the number of validation images")
    if missing is not None:
        return missing
    total = _demo_image_count()
    expected = math.ceil(0.2 * total)
    return report(close_to(answer, expected),
                  f"ceil(0.2 x {total}) = {expected} images for validation, {total - expected} for training.",
                  "multiply the total number of images by 0.2 and round up.")
