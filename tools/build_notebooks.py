"""Build the course notebooks from their sources, execute them, and store them canonically.

The notebooks are written as plain Python files in jupytext's percent format
(``notebooks/src/NN_topic.py``): they diff and review like code. This script turns each
into ``notebooks/NN_topic.ipynb``, executes it top to bottom in ``notebooks/`` (so the
stored outputs are real), and writes it in one canonical form: fixed cell ids,
sequential execution counts, and no per-machine metadata (timings, Python version).

    python tools/build_notebooks.py                 # build every notebook
    python tools/build_notebooks.py 03 05           # only these
    python tools/build_notebooks.py --check         # fail if any .ipynb is stale or not canonical

A cell that writes to stderr (a warning) or raises stops the build: stored outputs
must be clean.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from datetime import datetime
from pathlib import Path

# OpenMP threads that sleep while they wait; the kernels inherit it. On a busy CPU the
# default (spinning) made torch up to 8x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import jupytext  # noqa: E402
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CELL_TIMEOUT_S = 120


def canonical(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """The stored form: only metadata that means something to a reader."""
    nb = copy.deepcopy(nb)
    widgets = nb.metadata.get("widgets")
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC,
                                      "language_info": {"name": "python", "pygments_lexer": "ipython3"}})
    if widgets:
        nb.metadata["widgets"] = widgets  # lets the saved progress bars and sliders render unexecuted
    count = 0
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{stem[:2]}-{index:03d}"
        cell.metadata = nbformat.from_dict({key: value for key, value in cell.metadata.items() if key == "tags"})
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def source_cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def problems_in_outputs(nb: nbformat.NotebookNode) -> list[str]:
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                found.append(f"cell {index}: stderr: {output.text.strip()[:300]}")
    return found


def build(source: Path) -> None:
    stem = source.stem
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = KERNELSPEC
    started = time.perf_counter()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}, record_timing=True)
    client.execute()
    seconds = time.perf_counter() - started
    durations = []
    for index, cell in enumerate(nb.cells):
        timing = cell.metadata.get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            durations.append(((end - start).total_seconds(), index))
    problems = problems_in_outputs(nb)
    if problems:
        raise SystemExit(f"{stem}: outputs are not clean:\n  " + "\n  ".join(problems))
    nbformat.write(canonical(nb, stem), NOTEBOOKS / f"{stem}.ipynb")
    slowest = max(durations) if durations else (0.0, -1)
    print(f"{stem}: {seconds:5.1f} s, {len(durations)} code cells, slowest cell {slowest[1]} ({slowest[0]:.1f} s)")


def check() -> list[str]:
    """Every notebook has a source, matches it cell for cell, and is stored canonically."""
    errors = []
    sources = {path.stem for path in SOURCES.glob("[0-9][0-9]_*.py")}
    notebooks = {path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    for stem in sorted(sources ^ notebooks):
        errors.append(f"{stem}: has a source or a notebook but not both")
    for stem in sorted(sources & notebooks):
        stored = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
        if source_cells(stored) != source_cells(jupytext.read(SOURCES / f"{stem}.py")):
            errors.append(f"{stem}: the .ipynb is stale; rebuild it: python tools/build_notebooks.py {stem[:2]}")
        if stored != canonical(stored, stem):
            errors.append(f"{stem}: not in canonical form; rebuild it: python tools/build_notebooks.py {stem[:2]}")
        errors.extend(f"{stem}: {problem}" for problem in problems_in_outputs(stored))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="notebook numbers or names to build (default: all)")
    parser.add_argument("--check", action="store_true", help="only check; build nothing")
    args = parser.parse_args()
    if args.check:
        errors = check()
        print("\n".join(errors) or "All notebooks are built from their sources and canonical.")
        sys.exit(1 if errors else 0)
    sources = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if args.only:
        sources = [path for path in sources if any(path.stem.startswith(name) for name in args.only)]
    for source in sources:
        build(source)


if __name__ == "__main__":
    main()
