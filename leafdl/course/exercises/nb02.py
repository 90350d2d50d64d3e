"""Self-checks of notebook 02 (data split).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from sklearn.model_selection import train_test_split

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, demo_images,
                                            not_answered, report, wrong)


def check_validation_size(answer: Any, n_images: int = 1001, test_size: float = 0.2) -> CheckResult:
    """Notebook 02, exercise 1: how many images train_test_split holds out for validation."""
    missing = not_answered(answer, "the number of validation images")
    if missing is not None:
        return missing
    _, valid = train_test_split(list(range(n_images)), test_size=test_size, random_state=0)
    expected = len(valid)
    return report(close_to(answer, expected),
                  f"{test_size} x {n_images} = {test_size * n_images:g}, rounded up: {expected} images "
                  f"for validation, {n_images - expected} for training.",
                  f"multiply {n_images} by {test_size}; train_test_split rounds the held-out part up.")


def check_stratified_rare_class(answer: Any, common: int = 90, rare: int = 10, test_size: float = 0.2) -> CheckResult:
    """Notebook 02, exercise 2: how many images of a rare class a stratified split holds out."""
    missing = not_answered(answer, "the number of rare-class images in validation")
    if missing is not None:
        return missing
    labels = ["common"] * common + ["rare"] * rare
    _, valid_labels = train_test_split(labels, test_size=test_size, random_state=0, stratify=labels)
    expected = valid_labels.count("rare")
    return report(close_to(answer, expected),
                  f"stratification keeps each class's share: {test_size:.0%} of {rare} rare images is {expected}.",
                  f"with stratify, every class gives the same share ({test_size:.0%}) of its own images.")


# An unbalanced set of real demo leaves: without stratify, the rare classes' shares drift.


SPLIT_LAYOUT = {"Apple_scab": 10, "Black_rot": 10, "Cedar_apple_rust": 5, "Healthy": 5}


def _listing(folder: Path) -> dict[str, set[str]]:
    """``{"train": {"Black_rot/x.jpg", ...}, "valid": {...}}``: what a split folder holds."""
    return {part: {path.relative_to(folder / part).as_posix() for path in (folder / part).rglob("*") if path.is_file()}
            for part in ("train", "valid") if (folder / part).is_dir()}


SPLIT_ADVICE = {
    "too many values to unpack": "With files and labels, train_test_split returns four lists: "
                                 "files_train, files_valid, labels_train, labels_valid.",
    FileExistsError: "The class folder exists after its first image: mkdir(parents=True, exist_ok=True).",
    FileNotFoundError: "Make the folders first, parents included: (out_dir / part / label).mkdir(parents=True, "
                       "exist_ok=True).",
}


@checked
def check_split_and_copy(split_and_copy: Callable[[list, list, Path], None]) -> CheckResult:
    """Notebook 02, exercise 3: ``split_and_copy(files, labels, out_dir)``, the document's split, stratified.

    The student's function gets 30 real demo leaves of four classes (10, 10, 5, 5), their
    labels, and an empty ``out_dir``; it must copy 80% into ``out_dir/train/<label>/`` and
    20% into ``out_dir/valid/<label>/`` with ``train_test_split(..., test_size=0.2,
    random_state=42, stratify=labels)``. The check compares the copied files with that
    split and with the usual mistakes: no ``stratify``, another seed, moving instead of
    copying, all images in one folder, the two parts swapped,
    labels taken from the list before the split, the class folder before the part.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source, out_dir = Path(tmp) / "leaves", Path(tmp) / "split"
        files, labels = [], []
        for name, paths in demo_images(max(SPLIT_LAYOUT.values())).items():
            (source / name).mkdir(parents=True)
            for path in paths[:SPLIT_LAYOUT[name]]:
                files.append(Path(shutil.copy(path, source / name / path.name)))
                labels.append(name)
        out_dir.mkdir()
        call_student(split_and_copy, list(files), list(labels), out_dir, advice=SPLIT_ADVICE)
        moved = [path for path in files if not path.exists()]
        listing = _listing(out_dir)
        top = sorted(path.name for path in out_dir.iterdir())

    def names(chosen: list) -> set[str]:
        return {f"{path.parent.name}/{path.name}" for path in chosen}

    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    _, plain_valid = train_test_split(files, test_size=0.2, random_state=42)
    classes_of = {path.name: {other.parent.name for other in files if other.name == path.name} for path in files}
    if moved:
        return wrong(f"{len(moved)} images are gone from the original folder: copy them (shutil.copy), "
                     "do not move them. Your photos must stay where they were.")
    if set(top) & set(SPLIT_LAYOUT):
        return wrong(f"out_dir holds {top}: put the part first, out_dir/train/<label>/ and out_dir/valid/<label>/, "
                     "the layout ImageFolder and leafdl read.")
    if set(listing) != {"train", "valid"}:
        return wrong(f"out_dir should hold two folders, train/ and valid/; it holds {top or 'nothing'}"
                     + (": copy the files there (shutil.copy)." if not top else "."))
    if any("/" not in name for part in listing.values() for name in part):
        return wrong("put each image in a folder named after its class: out_dir/train/<label>/<file name>; "
                     "ImageFolder reads the label from that folder.")
    astray = [name for part in listing.values() for name in part
              if name.split("/")[0] not in classes_of.get(name.split("/")[-1], ())]
    if astray:
        return wrong(f"{len(astray)} images landed in another class's folder (e.g. {astray[0]}): labels[i] belongs "
                     "to files[i] before the split. Split the labels with the files (train_test_split(files, "
                     "labels, ...) returns four lists), or read the class from path.parent.name.")
    if len(listing["train"]) + len(listing["valid"]) != len(files) or listing["train"] & listing["valid"]:
        return wrong(f"every one of the {len(files)} images should be in exactly one of train/ and valid/; "
                     f"found {len(listing['train'])} in train/ and {len(listing['valid'])} in valid/.")
    if listing["valid"] == names(train):
        return wrong("train/ and valid/ are swapped: train_test_split returns (train, valid), the larger part "
                     "first.")
    if len(listing["valid"]) == len(train):
        return wrong(f"valid/ holds {len(listing['valid'])} of {len(files)} images, the larger part: test_size=0.2 is "
                     "the validation share (not train_size), and train_test_split returns (train, valid) in that "
                     "order.")
    if len(listing["valid"]) != len(valid):
        return wrong(f"valid/ holds {len(listing['valid'])} of {len(files)} images; 20% (test_size=0.2) "
                     f"is {len(valid)}.")
    if listing["valid"] == names(plain_valid):
        return wrong("this is the split without stratify: the rare classes' shares drift. Pass "
                     "stratify=labels to train_test_split.")
    per_class = Counter(name.split("/")[0] for name in listing["valid"])
    if per_class != Counter(path.parent.name for path in valid):
        return wrong(f"valid/ holds {dict(per_class)} images per class: with stratify=labels every class "
                     "gives 20% of its own images.")
    if listing["valid"] != names(valid):
        return wrong("the class shares are right but the images are not those of the document's split: "
                     "use random_state=42, so that the split is the same on every computer.")
    return report(True, f"{len(listing['train'])} images copied to train/ and {len(listing['valid'])} to valid/, "
                        f"each class giving 20% of its own ({dict(sorted(per_class.items()))}). "
                        "leafdl.data.split_dataset does the same.", "")
