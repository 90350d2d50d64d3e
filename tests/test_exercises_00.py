"""The self-checks of notebook 00 (overview): right answers pass, others do not.

The checks read the course's demo dataset; these tests point them at a small one of their
own (the ``course_leaves`` fixture: 16 images per class).
"""

from __future__ import annotations

import math
from pathlib import Path

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


def test_count_images_rejects_counting_every_file(course_leaves):
    def every_file(folder):
        return {d.name: len(list(d.iterdir())) for d in folder.iterdir() if d.is_dir()}
    result = check_count_images(every_file)
    assert not result.passed and "notes.txt" in result.message and "image files" in result.message


def test_count_images_rejects_top_level_files_as_classes(course_leaves):
    def every_entry(folder):
        return {d.name: len(list(d.glob("*.jpg"))) for d in folder.iterdir()}
    assert "README.txt is a file at the top level" in check_count_images(every_entry).message

    def crashes_on_files(folder):
        return {d.name: len(list(d.iterdir())) for d in folder.iterdir()}
    result = check_count_images(crashes_on_files)
    assert result.status == "not yet" and "NotADirectoryError" in result.message
    assert "not a class folder" in result.message


def test_count_images_rejects_a_total_and_reports_a_stub(course_leaves, capsys):
    def total(folder):
        return sum(1 for _ in folder.rglob("*.jpg"))
    assert "return a dict" in check_count_images(total).message

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
