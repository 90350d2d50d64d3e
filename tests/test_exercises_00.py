"""The self-checks of notebook 00 (overview): right answers pass, others do not.

The checks read the course's demo dataset; these tests point them at a small one of their
own (the ``course_leaves`` fixture: 16 images per class).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from leafdl.course.exercises import check_count_images, check_demo_validation_images

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def count_images(folder: Path) -> dict[str, int]:
    """The reference solution (notebooks/solutions/00_overview.md)."""
    counts = {}
    for class_folder in sorted(folder.iterdir()):
        if class_folder.is_dir():
            counts[class_folder.name] = sum(1 for path in class_folder.iterdir()
                                            if path.suffix.lower() in IMAGE_SUFFIXES)
    return counts


def test_count_images_accepts_the_solution(course_leaves, capsys):
    result = check_count_images(count_images)
    assert result.passed and result.status == "correct"
    assert "64 images" in capsys.readouterr().out


def with_glob_and_a_counter(folder: Path) -> dict[str, int]:
    """A right answer in another form: glob, a set of suffixes, a dict comprehension."""
    return {d.name: len([p for p in d.glob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg"}])
            for d in folder.iterdir() if d.is_dir()}


def test_count_images_accepts_another_form(course_leaves):
    assert check_count_images(with_glob_and_a_counter).passed


def every_file(folder):
    return {d.name: len(list(d.iterdir())) for d in folder.iterdir() if d.is_dir()}


def skips_only_text_files(folder):
    return {d.name: sum(1 for p in d.iterdir() if p.suffix != ".txt") for d in folder.iterdir() if d.is_dir()}


def every_entry(folder):
    return {d.name: len(list(d.glob("*.jpg"))) for d in folder.iterdir()}


def crashes_on_files(folder):
    return {d.name: len(list(d.iterdir())) for d in folder.iterdir()}


def lower_case_jpg_only(folder):
    return {d.name: len(list(d.glob("*.jpg"))) for d in folder.iterdir() if d.is_dir()}


def paths_as_keys(folder):
    return {d: len(list(d.glob("*.jpg"))) for d in folder.iterdir() if d.is_dir()}


def lists_of_files(folder):
    return {d.name: [p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES] for d in folder.iterdir()
            if d.is_dir()}


def total(folder):
    return sum(1 for _ in folder.rglob("*.jpg"))


def pairs(folder):
    return [(d.name, len(list(d.iterdir()))) for d in folder.iterdir() if d.is_dir()]


def whole_folder_for_each_class(folder):
    images = [p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    return {d.name: len(images) for d in folder.iterdir() if d.is_dir()}


WRONG = [
    (every_file, "Apple_scab holds .DS_Store beside its images: count only image files"),
    (skips_only_text_files, "Apple_scab holds .DS_Store"),
    (every_entry, "README.txt is a file at the top level"),
    (crashes_on_files, "A file at the top level is not a class folder"),
    (lower_case_jpg_only, "IMG_0001.JPG, as cameras write it"),
    (paths_as_keys, "the keys are Paths"),
    (lists_of_files, "not lists: count them"),
    (total, "return a dict"),
    (pairs, "return a dict"),
    (whole_folder_for_each_class, "differ from the images in the folders"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=[answer.__name__ for answer, _ in WRONG])
def test_count_images_names_each_mistake(answer, hint, course_leaves, capsys):
    result = check_count_images(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_count_images_reports_a_stub(course_leaves, capsys):
    def stub(folder):
        raise NotImplementedError
    result = check_count_images(stub)
    assert result.status == "not done" and not result
    assert "Not done yet" in capsys.readouterr().out


def test_validation_images_round_up(course_leaves, capsys):
    expected = math.ceil(0.2 * 64)  # 12.8 -> 13
    assert check_demo_validation_images(expected).passed
    assert check_demo_validation_images(12).passed is False  # rounded down
    assert check_demo_validation_images("thirteen").passed is False
    assert check_demo_validation_images(None).status == "not done"
