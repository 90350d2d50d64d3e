"""Every training lesson survives a live lecture: Run All, then every slide's cell again, in one kernel.

Instructors Run All before class, then run the cells again live from the slides (the
set-up cells, slide type ``skip``, are not on the slides, so they are not run again);
students run cells again too. nbval executes each notebook once, in a fresh kernel, so
it cannot see a cell that relies on state an earlier cell left behind (a model that is
already trained by the end of the notebook, a patience counter that was never reset).
This test executes a lesson twice in ONE kernel (nbclient), as JupyterLab does: first
every code cell, top to bottom (Run All); then, in order, every code cell a slide shows
(the lecture). A cell that survives this also survives Run All twice, except a set-up
cell that cannot run twice, which the second Run All would meet first. It fails on:

* any error output, in either pass;
* a progress bar that degraded to text (a ``0%|`` fragment): what RISE, GitHub and
  nbconvert show of a tqdm widget;
* a stray echo of a return value: ``<All keys matched successfully>`` (a cell ending in
  ``load_state_dict``), a bare number under a cell ending in ``write_text``/``write_bytes``,
  or an object's repr with its memory address (``<... at 0x7f...>``);
* a second run that tells another story: a cell not tagged ``nbval-ignore-output`` whose
  text output differs from the first run's (what nbval would compare with the stored one);
* a first run whose text differs from the stored outputs, compared as nbval compares it. So
  this first run is also these lessons' nbval pass: when this test runs a lesson, the
  suite leaves out nbval's own run of it (``tests/conftest.py``), which would execute
  the same cells on the same kernels once more. ``tests/test_cpu_kernels.py`` runs
  every notebook once more on AVX2 kernels.

It runs on a copy of ``notebooks/`` in a temporary folder, with an empty ``data/`` beside
it, like CI's fresh checkout. It takes minutes (each lesson runs twice), so it carries
the ``notebooks`` marker: ``pytest -m "not notebooks"`` leaves it out. Run it alone with
``pytest -p no:nbval -o addopts="" tests/test_rerun.py``; ``LEAFDL_RERUN=05,11`` picks lessons.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from browser_support import REPO_ROOT, stage_notebooks

NOTEBOOKS = REPO_ROOT / "notebooks"
# The lessons with training cells: their demonstrations change a model, an optimizer, a
# scheduler or a counter, which is what a second run trips over.
TRAINING_LESSONS = ("05", "06", "07", "08", "10", "11", "12")
LESSONS = tuple(os.environ.get("LEAFDL_RERUN", ",".join(TRAINING_LESSONS)).split(","))
CELL_TIMEOUT_S = 300
IGNORE_OUTPUT_TAG = "nbval-ignore-output"

# A bar at 0 % ("  0%|", not the end of "100%|"): tqdm's widget as a text-only front end shows it.
PROGRESS_JUNK = re.compile(r"(?<![0-9])0%\|")
STRAY_LOAD_ECHO = "<All keys matched successfully>"
MEMORY_ADDRESS = re.compile(r"<[^<>\n]* at 0x[0-9a-f]+>")
WRITE_CALL = re.compile(r"\.write_(text|bytes)\(.*\)\s*$")


@dataclass
class Problem:
    """One thing a pass of one cell got wrong."""

    run: int          # 1 or 2
    cell: int         # index in the notebook
    source: str       # the cell's first line, to find it
    what: str

    def __str__(self) -> str:
        return f"run {self.run}, cell {self.cell} ({self.source!r}): {self.what}"


@dataclass
class RerunReport:
    notebook: str
    problems: list[Problem] = field(default_factory=list)

    def describe(self) -> str:
        return "\n".join([f"{self.notebook}: {len(self.problems)} problem(s) when run twice in one kernel",
                          *(f"  - {problem}" for problem in self.problems)])


def output_text(output: dict) -> str:
    """The text a reader sees of one output: a stream, a value's repr, or an error."""
    if output["output_type"] == "stream":
        return output["text"]
    if output["output_type"] == "error":
        return f"{output['ename']}: {output['evalue']}"
    data = output.get("data", {})
    return "\n".join(str(data[mime]) for mime in ("text/plain", "text/html") if mime in data)


def comparable_text(outputs: list[dict]) -> list[str]:
    """The outputs nbval would compare, as text: streams and values, not pictures.

    Consecutive pieces of one stream are joined (a print may arrive in one message or two).
    """
    texts: list[str] = []
    previous_stream = None
    for output in outputs:
        data = output.get("data", {})
        if "image/png" in data or "image/jpeg" in data:
            previous_stream = None
            continue
        stream = output.get("name") if output["output_type"] == "stream" else None
        if stream is not None and stream == previous_stream:
            texts[-1] += output_text(output)
        else:
            texts.append(output_text(output))
        previous_stream = stream
    return texts


def on_a_slide(cell: nbformat.NotebookNode) -> bool:
    """False for a set-up cell that the deck skips (slide type ``skip``)."""
    return cell.metadata.get("slideshow", {}).get("slide_type") != "skip"


def output_problems(cell: nbformat.NotebookNode) -> list[str]:
    """Errors, progress-bar junk and stray echoes in one executed cell's outputs."""
    problems = []
    last_line = cell.source.rstrip().splitlines()[-1] if cell.source.strip() else ""
    for output in cell.outputs:
        text = output_text(output)
        if output["output_type"] == "error":
            problems.append(f"error: {text[:300]}")
        if PROGRESS_JUNK.search(text):
            problems.append(f"a progress bar shown as text: {text.strip()[:120]!r}")
        if output["output_type"] == "execute_result":
            value = output.get("data", {}).get("text/plain", "")
            if STRAY_LOAD_ECHO in value:
                problems.append(f"stray echo {value!r}: end the line with ';' or assign the result")
            elif value.strip().isdigit() and WRITE_CALL.search(last_line):
                problems.append(f"stray echo {value!r} (the byte count of {last_line.strip()!r}): end it with ';'")
            elif MEMORY_ADDRESS.search(value):
                problems.append(f"stray echo {value[:80]!r} (an object's repr): end the line with ';'")
    return problems


def run_twice(notebook_path: Path, workdir: Path) -> RerunReport:
    """Run All, then every cell a slide shows, in one kernel; report what went wrong."""
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    report = RerunReport(notebook_path.name)
    first_pass: dict[int, list[str]] = {}
    code_cells = [(index, cell) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    # What an executed, stored notebook shows (a cell never executed has nothing to compare).
    stored = {index: comparable_text(cell.outputs) for index, cell in code_cells
              if cell.get("execution_count") is not None}
    with client.setup_kernel():
        for run in (1, 2):
            for index, cell in code_cells:
                if run == 2 and not on_a_slide(cell):
                    continue
                client.execute_cell(cell, index)
                first_line = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
                report.problems += [Problem(run, index, first_line, what) for what in output_problems(cell)]
                if IGNORE_OUTPUT_TAG in cell.metadata.get("tags", []):
                    continue
                if run == 1:
                    first_pass[index] = comparable_text(cell.outputs)
                    if index in stored and first_pass[index] != stored[index]:
                        report.problems.append(Problem(run, index, first_line, (
                            f"the output differs from the stored one (on {torch.backends.cpu.get_cpu_capability()} "
                            f"kernels): stored {stored[index]!r:.300}, now {first_pass[index]!r:.300}")))
                elif comparable_text(cell.outputs) != first_pass[index]:
                    report.problems.append(Problem(run, index, first_line, (
                        "the second run shows other text than the first (a cell that relies on state "
                        f"other cells left behind?): first {first_pass[index]!r:.300}, "
                        f"then {comparable_text(cell.outputs)!r:.300}")))
    return report


def _lesson_params() -> list:
    paths = {path.name[:2]: path for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    return [pytest.param(paths[number], id=paths[number].stem) for number in LESSONS if number in paths]


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("notebook", _lesson_params())
def test_lesson_runs_twice_in_one_kernel(notebook: Path, tmp_path: Path) -> None:
    workdir = stage_notebooks(NOTEBOOKS, tmp_path) / "notebooks"
    report = run_twice(workdir / notebook.name, workdir)
    print(report.describe())
    assert report.problems == [], report.describe()


def test_every_training_lesson_is_checked() -> None:
    """The lessons named above exist (a renamed notebook must not silently drop out of the check)."""
    found = {path.name[:2] for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert set(TRAINING_LESSONS) <= found


# --- the check itself, on small notebooks (seconds, no marker) ---------------------------


def write_notebook(path: Path, *sources: str, skipped: tuple[int, ...] = ()) -> Path:
    """A notebook of code cells; those at the ``skipped`` indices are set-up cells the deck skips."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    for index in skipped:
        notebook.cells[index].metadata["slideshow"] = {"slide_type": "skip"}
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, str(path))
    return path


def test_the_check_finds_what_a_lecture_would_show(tmp_path: Path) -> None:
    """A cell that cannot run twice, a counter not reset, tqdm's widget, and two stray echoes."""
    path = write_notebook(
        tmp_path / "lesson.ipynb",
        "trained = globals().get('trained', False)\nassert not trained, 'untrained'\ntrained = True",
        "counter = globals().get('counter', 0) + 1\nprint('epochs run:', counter)",
        "from tqdm.notebook import tqdm\nfor _ in tqdm(range(3), desc='epoch 1'):\n    pass",
        "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.load_state_dict(model.state_dict())",
        "from pathlib import Path\nPath('note.txt').write_text('hello')",
    )
    report = run_twice(path, tmp_path)
    print(report.describe())
    found = [(problem.run, problem.cell, problem.what.split(" ")[0]) for problem in report.problems]

    assert (1, 0, "error:") not in found and (2, 0, "error:") in found  # the assert fails on the re-run only
    assert (2, 1, "the") in found  # 'epochs run: 1', then 'epochs run: 2'
    assert (1, 2, "a") in found  # tqdm's widget, seen as its text
    assert (1, 3, "stray") in found and (1, 4, "stray") in found


def test_a_slide_that_relies_on_a_skipped_set_up_cell_fails_in_the_lecture(tmp_path: Path) -> None:
    """As 05 did: a fresh model made in a set-up cell, 'untrained' asserted on a slide, trained further on."""
    path = write_notebook(
        tmp_path / "lesson.ipynb",
        "weights = [0.0]",
        "assert weights == [0.0], 'untrained'\nprint('untrained')",
        "weights[0] += 1.0",
        skipped=(0,),
    )
    report = run_twice(path, tmp_path)
    print(report.describe())
    assert [(problem.run, problem.cell) for problem in report.problems] == [(2, 1), (2, 1)]  # the error, the story
    assert "untrained" in report.problems[0].what


def test_the_check_passes_a_notebook_that_runs_twice_alike(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "lesson.ipynb",
        "import torch\ntorch.manual_seed(0)\nmodel = torch.nn.Linear(2, 2)\nprint(round(model.weight.sum().item(), 3))",
        "from leafdl.progress import tqdm\nfor _ in tqdm(range(3), desc='epoch 1'):\n    pass",
        "model.load_state_dict(model.state_dict());\nlen('a line that is fine')",
        "import sys\nprint('one line,', end=' ')\nsys.stdout.flush()\nprint('in two messages')",
        "weights = [0.0]",
        "assert weights == [0.0]\nweights = [weights[0] + 1.0]",
    )
    report = run_twice(path, tmp_path)
    assert report.problems == [], report.describe()


def test_a_first_run_that_differs_from_the_stored_output_is_reported(tmp_path: Path) -> None:
    """What nbval would report: the stored notebook says 0.917, this kernel prints 0.918."""
    path = write_notebook(tmp_path / "lesson.ipynb", "print(0.918)", "print('same')")
    notebook = nbformat.read(path, as_version=4)
    for cell, text in zip(notebook.cells, ("0.917\n", "same\n")):
        cell.execution_count = 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nbformat.write(notebook, str(path))
    report = run_twice(path, tmp_path)
    assert [(problem.run, problem.cell) for problem in report.problems] == [(1, 0)], report.describe()
    assert "differs from the stored one" in report.problems[0].what
