"""The stored notebooks: built from their sources, canonical, clean, and shaped like lessons.

nbval (run by the same pytest command) executes them and compares outputs; these tests
check what nbval does not: that the .ipynb files match their reviewed sources, carry no
machine-specific noise, and open and close the way every lesson should.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
APPENDICES = sorted((ROOT / "notebooks").glob("A[0-9]_*.ipynb"))
NOTEBOOKS = LESSONS + APPENDICES
EXPECTED = [f"{number:02d}" for number in range(14)]


def load_build_tool():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_numbered_notebook_exists():
    assert [path.name[:2] for path in LESSONS] == EXPECTED


@pytest.mark.parametrize("path", APPENDICES, ids=lambda p: p.stem)
def test_each_appendix_is_linked_from_a_lesson(path):
    """An appendix holds a tangent moved out of a lesson; the lesson links to it where it was."""
    linking = [lesson.stem for lesson in LESSONS
               if f"({path.name})" in "".join(cell.source for cell in nbformat.read(lesson, as_version=4).cells
                                               if cell.cell_type == "markdown")]
    assert linking, f"no lesson links to {path.name}"


def test_notebooks_are_built_from_their_sources_and_canonical():
    assert load_build_tool().check() == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_clean(path):
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            shown = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert "Traceback" not in shown
            assert "Warning" not in shown, shown[:300]
            assert str(ROOT) not in shown and "/tmp/" not in shown and "/home/" not in shown, shown[:300]
    assert sum(len(cell.get("outputs", [])) for cell in nb.cells if cell.cell_type == "code") > 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_opens_with_its_goals_and_closes_with_summary_and_exercises(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {path.name[:2]}")
    assert re.search(r"\bminutes?\b", first.source), "the first cell says how long it takes"
    headings = [line for cell in nb.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("#")]
    assert any("Summary" in heading for heading in headings)
    if path in APPENDICES:
        return  # an appendix is a short reading for practitioners: no exercise is required
    assert any("Exercise" in heading for heading in headings)
    checks = [cell for cell in nb.cells if cell.cell_type == "code" and "check_" in cell.source
              and "answer" in cell.source]
    assert checks, "every notebook has at least one self-checked exercise"
    assert (ROOT / "notebooks" / "solutions" / f"{path.stem}.md").exists()


def test_readme_states_how_many_cells_nbval_ignores():
    marked = total = 0
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                total += 1
                marked += "nbval-ignore-output" in cell.metadata.get("tags", [])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"<!-- nbval-count -->**{marked} of {total}**" in readme


# What a student and an instructor see (issue 13). These check every numbered notebook.


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_source_shows_an_nbval_marker(path):
    """nbval's markers live in cell tags, which students do not see (tools/convert_nbval_markers.py)."""
    marked = [index for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
              if re.search(r"NBVAL_|PYTEST_VALIDATE_", cell.source)]
    assert marked == [], (f"cells {marked} carry an nbval marker in their source: run "
                          f"python tools/convert_nbval_markers.py notebooks/src/{path.stem}.py, then rebuild")


# Every lesson is also a slide deck (issue 13): slide types chosen by hand, prose that
# fits a lecture. Appendices are short readings; those with slides follow the same rules.
DECKS = LESSONS + [path for path in APPENDICES if load_build_tool().notebook_stats(path)["slides"] > 0]


@pytest.mark.parametrize("path", DECKS, ids=lambda p: p.stem)
def test_each_deck_is_a_whole_slide_deck(path):
    """RISE slides chosen by hand: at least 5 slides, at least 60% of the cells typed."""
    stats = load_build_tool().notebook_stats(path)
    assert stats["slides"] + stats["subslides"] >= 5, f"{path.stem}: only {stats['slides']} slides"
    assert stats["typed"] >= 0.6, f"{path.stem}: only {stats['typed']:.0%} of its cells have a slide type"


@pytest.mark.parametrize("path", DECKS, ids=lambda p: p.stem)
def test_prose_of_a_deck_fits_a_lecture(path):
    """What the slides show fits a lecture; with the speaker notes, a reading of about 10 minutes."""
    stats = load_build_tool().notebook_stats(path)
    assert stats["slide_words"] <= 1750, f"{path.stem}: {stats['slide_words']} words on its slides; move some to notes"
    assert stats["words"] <= 2500, f"{path.stem}: {stats['words']} words of prose with its notes; cut some"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_light(path):
    """Figures are stored at sensible sizes (the build tool stores photo-like ones as JPEG)."""
    kilobytes = path.stat().st_size / 1024
    assert kilobytes <= 500, f"{path.stem} is {kilobytes:.0f} KB; rebuild it: python tools/build_notebooks.py {path.stem[:2]}"
