"""Shared fixtures: a small demo leaf dataset, generated once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# timm must never wait on the Hugging Face hub in tests; torch must never find the
# developer's own hub cache (tests that need one make it in a temporary TORCH_HOME).
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch) -> Path:
    """Every test sees an empty torch hub cache, so nothing depends on this machine's
    downloads, and no proxy stands between the tests and their servers on 127.0.0.1."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setenv("no_proxy", "*")
    return home


@pytest.fixture(scope="session")
def demo_leaves(tmp_path_factory) -> Path:
    """The demo dataset, 16 images per class, as `leafdl data demo` writes it."""
    from leafdl.demo_data import make_demo_dataset

    return make_demo_dataset(tmp_path_factory.mktemp("data") / "demo-leaves", per_class=16, seed=0, progress=False)


@pytest.fixture(scope="session")
def demo_split(demo_leaves, tmp_path_factory) -> Path:
    """The demo dataset split into train/ and valid/ (80/20, random_state=42)."""
    from leafdl.data import split_dataset

    out = tmp_path_factory.mktemp("data") / "demo-split"
    split_dataset(demo_leaves, out)
    return out


@pytest.fixture
def course_leaves(demo_leaves, monkeypatch) -> Path:
    """The exercise checks read the session's demo leaves (16 per class), not the repository's data/."""
    from leafdl.course.exercises import common

    monkeypatch.setattr(common, "demo_data", lambda *args, **kwargs: (demo_leaves, demo_leaves.parent / "split"))
    return demo_leaves


# Markers, so that a quick run can leave out what takes minutes:
#   python -m pytest -m "not slow"        the library tests, in under a minute
#   python -m pytest -m notebooks         every notebook with nbval, and the checks that run them
# CI runs everything. A test file listed here gets its marks on every test it holds; single
# slow tests elsewhere carry @pytest.mark.slow themselves.
FILE_MARKS = {
    "test_browser.py": ("browser", "slow"),
    "test_distributed.py": ("distributed", "slow"),
    "test_cpu_kernels.py": ("notebooks", "slow"),
}


RERUN_TEST = "test_lesson_runs_twice_in_one_kernel"


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark the items before ``-m`` and ``-k`` choose; then leave out repeated notebook runs.

    A lesson that ``tests/test_rerun.py`` runs twice in one kernel has its first run compared
    with the stored outputs there, as nbval compares them; nbval's own pass of that lesson
    would execute the same cells on the same kernels a third time, so it is deselected
    (only when the rerun test itself is selected: ``pytest notebooks/`` still runs them all).
    """
    for item in items:
        path = Path(str(item.fspath))
        marks = ("notebooks", "slow") if path.suffix == ".ipynb" else FILE_MARKS.get(path.name, ())
        for mark in marks:
            item.add_marker(getattr(pytest.mark, mark))
    result = yield   # pytest's own hooks: -m, -k, --deselect
    rerun = {item.callspec.params["notebook"].name for item in items if getattr(item, "originalname", "") == RERUN_TEST}
    kept, repeated = [], []
    for item in items:
        path = Path(str(item.fspath))
        (repeated if path.suffix == ".ipynb" and path.name in rerun else kept).append(item)
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = kept
    return result
