"""The worked solutions of the coding exercises (notebooks/solutions/*.md) pass their checks.

Every ```python block of a solutions file that defines a function or class and hands it to
a check is run as a student would run it in the notebook; each check it calls must say
"Correct". A solution that drifts from its check fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import leafdl.course.exercises as exercises
from leafdl.engine import History

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def coding_solutions() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SOLUTIONS.glob("*.md")):
        for block in BLOCK.findall(path.read_text(encoding="utf-8")):
            if re.search(r"^(def|class) ", block, re.M) and re.search(r"^check_\w+\(", block, re.M):
                found.append((path.stem, block))
    return found


def test_there_are_ten_or_more_coding_solutions_across_seven_notebooks():
    found = coding_solutions()
    assert len(found) >= 10
    assert len({stem for stem, _ in found}) >= 7


@pytest.mark.parametrize("stem, block", coding_solutions(), ids=lambda value: value if "\n" not in value else "")
def test_coding_solution_passes_its_check(stem, block, course_leaves, monkeypatch):
    results = []
    for name in exercises.__all__:
        if name.startswith("check_"):
            check = getattr(exercises, name)
            monkeypatch.setattr(exercises, name, lambda *args, _check=check, **kwargs: results.append(
                _check(*args, **kwargs)))
    # what the notebook around the solution provides (notebook 10 passes its own run's history)
    history = History(train_acc=[0.6, 0.9], valid_acc=[0.8, 0.7], train_loss=[1.0, 0.4], valid_loss=[0.7, 0.8],
                      gap=[-0.2, 0.2], best_epoch=1)
    exec(compile(block, f"{stem}.md", "exec"), {"history": history})
    assert results and all(result.passed for result in results), [result.message for result in results]
