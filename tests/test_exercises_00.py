"""The self-checks of notebook 00 (overview): right answers pass, others do not.

The checks count the course's demo dataset, so these tests point ``demo_data`` at a
small one of their own.
"""

from __future__ import annotations

import math

import pytest

from leafdl import course
from leafdl.exercises import check_demo_validation_images, check_total_images


@pytest.fixture
def small_course_data(demo_leaves, monkeypatch):
    """demo_data() answers with the session's demo leaves (16 per class, 4 classes)."""
    monkeypatch.setattr(course, "demo_data", lambda *args, **kwargs: (demo_leaves, demo_leaves.parent / "split"))
    return demo_leaves


def test_total_images(small_course_data, capsys):
    assert check_total_images(64) is True
    assert "Correct" in capsys.readouterr().out
    assert check_total_images(16) is False  # one class only
    assert "Not yet" in capsys.readouterr().out
    assert check_total_images(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_validation_images_round_up(small_course_data, capsys):
    expected = math.ceil(0.2 * 64)  # 12.8 -> 13
    assert check_demo_validation_images(expected) is True
    assert check_demo_validation_images(12) is False  # rounded down
    assert check_demo_validation_images("thirteen") is False
    assert check_demo_validation_images(None) is False
