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


# How many real demo leaves each class of the check's small folder gets.


COUNT_LAYOUT = {"Apple_scab": 3, "Black_rot": 2, "Cedar_apple_rust": 4, "Healthy": 1}


@checked
def check_count_images(count_images: Callable[[Path], dict]) -> CheckResult:
    """Notebook 00, exercise 1: ``count_images(folder)`` returns ``{class folder: number of images}``.

    Runs the student's function on a small copy of the demo leaves (3, 2, 4 and 1 images)
    that also holds what real folders hold: a text file beside the images of one class and
    a file at the top level (the demo set has one, ``.leafdl-demo.json``). Then on the real
    demo set.
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "leaves"
        for name, paths in demo_images(max(COUNT_LAYOUT.values())).items():
            (folder / name).mkdir(parents=True)
            for path in paths[:COUNT_LAYOUT[name]]:
                shutil.copy(path, folder / name / path.name)
        (folder / "Black_rot" / "notes.txt").write_text("photographed in May\n")
        (folder / "README.txt").write_text("four classes of apple leaves\n")
        counts = call_student(count_images, folder,
                              advice={NotADirectoryError: "A file at the top level is not a class folder: keep only the folders (path.is_dir())."})
    if not isinstance(counts, dict):
        return wrong(f"return a dict {{class folder name: number of images}}, not a {type(counts).__name__}.")
    if "README.txt" in counts:
        return wrong("README.txt is a file at the top level, not a class: keep only the folders (path.is_dir()).")
    if set(counts) != set(COUNT_LAYOUT):
        return wrong(f"the keys should be the class folders' names {sorted(COUNT_LAYOUT)}, not {sorted(counts)}.")
    if counts["Black_rot"] == COUNT_LAYOUT["Black_rot"] + 1:
        return wrong("Black_rot holds a notes.txt beside its images: count only image files "
                     "(their suffix is .jpg, .jpeg or .png).")
    if {name: counts[name] for name in COUNT_LAYOUT} != COUNT_LAYOUT:
        return wrong(f"your counts {counts} differ from the files in the folders; count the files "
                     "inside each class folder, not the folders.")
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
