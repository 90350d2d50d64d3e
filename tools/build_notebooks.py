"""Build the course notebooks from their sources, execute them, and store them canonically.

The notebooks are written as plain Python files in jupytext's percent format
(``notebooks/src/NN_topic.py``): they diff and review like code. This script turns each
into ``notebooks/NN_topic.ipynb``, executes it top to bottom in ``notebooks/`` (so the
stored outputs are real), and writes it in one canonical form: fixed cell ids,
sequential execution counts, and no per-machine metadata (timings, Python version).

    python tools/build_notebooks.py                 # build every notebook
    python tools/build_notebooks.py 03 05 A1        # only these
    python tools/build_notebooks.py --check         # fail if any .ipynb is stale or not canonical
    python tools/build_notebooks.py --stats         # size, slides, typed cells and prose words per notebook

A cell that writes to stderr (a warning) or raises stops the build: stored outputs
must be clean.

Cells keep two kinds of metadata from their source headers
(``# %% [markdown] slideshow={"slide_type": "slide"}``, ``# %% tags=["nbval-ignore-output"]``):
``slideshow`` makes the notebook a RISE slide deck (notebooks/INSTRUCTORS.md) and
``tags`` tell nbval which outputs may differ from run to run.

Two things are stored differently from what a live kernel shows, so that a stored
notebook reads well where no kernel runs (GitHub, nbviewer, a reopened notebook):

* **Progress bars** (tqdm's widgets) are stored as the text of their last state, or
  not at all when tqdm had hidden them (``leave=False``): a widget's stored view only
  says ``0%| 0/6``, the moment it was first drawn. Sliders and other explorers stay
  widgets, with their saved state, so they still work in a live kernel.
* **Large photo-like figures** (a PNG over 100 KB that JPEG stores in less than half)
  are stored as JPEG. Line plots stay PNG: JPEG blurs thin lines and saves little.
  nbval never compares images, so the stored format does not affect the tests.
"""

from __future__ import annotations

import argparse
import base64
import copy
import html
import io
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
# Numbered lessons (``03_data_loading``) and short appendices (``A1_cpu_tuning``): the
# tangents a lesson links to, executed and checked like the lessons.
COURSE_PATTERNS = ("[0-9][0-9]_*", "A[0-9]_*")


def course_files(folder: Path, suffix: str) -> list[Path]:
    """The lessons and appendices in ``folder`` with this suffix, lessons first, in order."""
    return [path for pattern in COURSE_PATTERNS for path in sorted(folder.glob(pattern + suffix))]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CELL_TIMEOUT_S = 120
KEPT_CELL_METADATA = ("slideshow", "tags", "jupyter")  # jupyter: source_hidden; the rest is per-machine noise
NBVAL_IGNORE_TAG = "nbval-ignore-output"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
JPEG_ABOVE_BYTES = 100_000  # a PNG figure larger than this is a candidate for JPEG
JPEG_QUALITY = 85


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
        cell.metadata = nbformat.from_dict({key: value for key, value in cell.metadata.items()
                                            if key in KEPT_CELL_METADATA})
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def source_cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
    """What a source decides about each cell: its type, its text and its kept metadata."""
    return [(cell.cell_type, cell.source.strip(),
             json.dumps({key: cell.metadata[key] for key in KEPT_CELL_METADATA if key in cell.metadata},
                        sort_keys=True))
            for cell in nb.cells]


# --------------------------------------------------------------------------
# nbval markers and slides: what the tests and the instructors' guide count
# --------------------------------------------------------------------------


def nbval_ignores_output(cell: nbformat.NotebookNode) -> bool:
    """True if nbval does not compare this cell's outputs (its tag, or the old comment marker)."""
    return (NBVAL_IGNORE_TAG in cell.metadata.get("tags", [])
            or any(line.strip() == "# NBVAL_IGNORE_OUTPUT" for line in cell.source.splitlines()))


def slide_type(cell: nbformat.NotebookNode) -> str | None:
    """The cell's RISE role (slide, subslide, fragment, -, skip, notes), or None if untyped."""
    return cell.metadata.get("slideshow", {}).get("slide_type")


def prose_words(nb: nbformat.NotebookNode, on_slides_only: bool = False) -> int:
    """Words of the markdown cells, without code blocks, tables' pipes or link targets.

    ``on_slides_only`` leaves out speaker notes and skipped cells: what the class sees.
    """
    text = " ".join(cell.source for cell in nb.cells if cell.cell_type == "markdown"
                    and not (on_slides_only and slide_type(cell) in ("notes", "skip")))
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return len(re.findall(r"[A-Za-z0-9][\w'’.-]*", text))


def notebook_stats(path: Path) -> dict:
    """Size, slides, share of typed cells and prose words of one stored notebook."""
    nb = nbformat.read(path, as_version=4)
    types = [slide_type(cell) for cell in nb.cells]
    return {"kb": round(path.stat().st_size / 1024), "cells": len(nb.cells),
            "slides": sum(kind == "slide" for kind in types),
            "subslides": sum(kind == "subslide" for kind in types),
            "typed": sum(kind is not None for kind in types) / max(len(types), 1),
            "words": prose_words(nb), "slide_words": prose_words(nb, on_slides_only=True)}


# --------------------------------------------------------------------------
# What is stored differently from what a live kernel shows (see the module docstring)
# --------------------------------------------------------------------------


def widget_models(nb: nbformat.NotebookNode) -> dict:
    """The saved widget models, by id (empty if the notebook saved none)."""
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def progress_bar_text(model_id: str, models: dict) -> str | None:
    """The text of a tqdm bar's last drawn state, "" if tqdm hid it, None if not a tqdm bar.

    tqdm.notebook draws an HBox of [HTML left text, progress bar, HTML right text],
    and hides the box (layout visibility "hidden") when a ``leave=False`` bar closes.
    """
    box = models.get(model_id, {})
    if box.get("model_name") != "HBoxModel":
        return None
    children = [models.get(str(child).removeprefix("IPY_MODEL_"), {}) for child in box["state"].get("children", [])]
    names = [child.get("model_name") for child in children]
    if names not in (["HTMLModel", "FloatProgressModel", "HTMLModel"], ["HTMLModel", "IntProgressModel", "HTMLModel"]):
        return None
    layout = models.get(str(box["state"].get("layout", "")).removeprefix("IPY_MODEL_"), {})
    if layout.get("state", {}).get("visibility") == "hidden":
        return ""
    left, bar, right = (child["state"] for child in children)
    filled = round(10 * bar.get("value", 0) / bar["max"]) if bar.get("max") else 0
    text = f"{left.get('value', '')}|{'█' * filled}{' ' * (10 - filled)}|{right.get('value', '')}"
    return html.unescape(text).replace("\u2007", " ")


def store_progress_bars_as_text(nb: nbformat.NotebookNode) -> int:
    """Replace tqdm widget outputs by their final text (or drop hidden ones); return how many.

    A cell whose progress bar is replaced must be one nbval ignores: its stored output no
    longer looks like a fresh run's.
    """
    models = widget_models(nb)
    replaced = 0
    for index, cell in enumerate(nb.cells):
        kept = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            text = progress_bar_text(view["model_id"], models) if view else None
            if text is None:
                kept.append(output)
                continue
            if not nbval_ignores_output(cell):
                raise SystemExit(f"cell {index} shows a progress bar but nbval compares its output: "
                                 f'tag it (# %% tags=["{NBVAL_IGNORE_TAG}"]) or pass progress=False')
            replaced += 1
            if text:
                kept.append(nbformat.v4.new_output("display_data", data={"text/plain": text}))
        cell["outputs"] = kept
    return replaced


def prune_widget_state(nb: nbformat.NotebookNode) -> None:
    """Keep only the saved widget models that a stored output still shows (and their parts)."""
    models = widget_models(nb)
    wanted = [output["data"][WIDGET_VIEW]["model_id"] for cell in nb.cells
              for output in cell.get("outputs", []) if WIDGET_VIEW in output.get("data", {})]
    keep: set[str] = set()
    while wanted:
        model_id = wanted.pop()
        if model_id in keep or model_id not in models:
            continue
        keep.add(model_id)
        wanted += re.findall(r"IPY_MODEL_(\w+)", json.dumps(models[model_id]["state"]))
    if keep:
        state = nb.metadata["widgets"][WIDGET_STATE]
        state["state"] = {model_id: model for model_id, model in models.items() if model_id in keep}
    else:
        nb.metadata.pop("widgets", None)


def as_jpeg_if_smaller(png: bytes) -> bytes | None:
    """JPEG bytes for a large photo-like PNG, or None when PNG should stay (small, or line art)."""
    if len(png) <= JPEG_ABOVE_BYTES:
        return None
    with Image.open(io.BytesIO(png)) as image:
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
    buffer = io.BytesIO()
    flat.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue() if len(buffer.getvalue()) < len(png) / 2 else None


def shrink_images(nb: nbformat.NotebookNode) -> int:
    """Store large photo-like figures, and explorers' saved images, as JPEG; return how many."""
    shrunk = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            jpeg = as_jpeg_if_smaller(base64.b64decode(data["image/png"])) if "image/png" in data else None
            if jpeg:
                del data["image/png"]
                data["image/jpeg"] = base64.b64encode(jpeg).decode("ascii")
                output.get("metadata", {}).pop("image/png", None)
                shrunk += 1
    for model in widget_models(nb).values():
        if model.get("model_name") == "ImageModel" and model["state"].get("format") == "png":
            for buffer in model.get("buffers", []):
                if buffer.get("path") == ["value"] and buffer.get("encoding") == "base64":
                    jpeg = as_jpeg_if_smaller(base64.b64decode(buffer["data"]))
                    if jpeg:
                        buffer["data"] = base64.b64encode(jpeg).decode("ascii")
                        model["state"]["format"] = "jpeg"
                        shrunk += 1
    return shrunk


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
    bars = store_progress_bars_as_text(nb)
    prune_widget_state(nb)
    images = shrink_images(nb)
    nbformat.write(canonical(nb, stem), NOTEBOOKS / f"{stem}.ipynb")
    slowest = max(durations) if durations else (0.0, -1)
    stats = notebook_stats(NOTEBOOKS / f"{stem}.ipynb")
    print(f"{stem}: {seconds:5.1f} s, {len(durations)} code cells, slowest cell {slowest[1]} ({slowest[0]:.1f} s); "
          f"stored {stats['kb']} KB ({bars} progress bars as text, {images} figures as JPEG)")


def check() -> list[str]:
    """Every notebook has a source, matches it cell for cell, and is stored canonically."""
    errors = []
    sources = {path.stem for path in course_files(SOURCES, ".py")}
    notebooks = {path.stem for path in course_files(NOTEBOOKS, ".ipynb")}
    for stem in sorted(sources ^ notebooks):
        errors.append(f"{stem}: has a source or a notebook but not both")
    for stem in sorted(sources & notebooks):
        stored = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
        if source_cells(stored) != source_cells(jupytext.read(SOURCES / f"{stem}.py")):
            errors.append(f"{stem}: the .ipynb is stale; rebuild it: python tools/build_notebooks.py {stem[:2]}")
        if stored != canonical(stored, stem):
            errors.append(f"{stem}: not in canonical form; rebuild it: python tools/build_notebooks.py {stem[:2]}")
        errors.extend(f"{stem}: {problem}" for problem in problems_in_outputs(stored))
        models = widget_models(stored)
        if any(progress_bar_text(output["data"][WIDGET_VIEW]["model_id"], models) is not None
               for cell in stored.cells for output in cell.get("outputs", []) if WIDGET_VIEW in output.get("data", {})):
            errors.append(f"{stem}: stores progress-bar widgets; rebuild it: python tools/build_notebooks.py {stem[:2]}")
    return errors


def print_stats() -> None:
    """One line per stored notebook: what an instructor and a reviewer want to know."""
    print(f"{'notebook':<24} {'KB':>5} {'cells':>5} {'slides':>6} {'sub':>4} {'typed':>6} {'words':>6} {'shown':>6}")
    for path in course_files(NOTEBOOKS, ".ipynb"):
        s = notebook_stats(path)
        print(f"{path.stem:<24} {s['kb']:>5} {s['cells']:>5} {s['slides']:>6} {s['subslides']:>4} "
              f"{s['typed']:>6.0%} {s['words']:>6} {s['slide_words']:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="notebook numbers or names to build (default: all)")
    parser.add_argument("--check", action="store_true", help="only check; build nothing")
    parser.add_argument("--stats", action="store_true", help="print size, slides and words; build nothing")
    args = parser.parse_args()
    if args.stats:
        print_stats()
        return
    if args.check:
        errors = check()
        print("\n".join(errors) or "All notebooks are built from their sources and canonical.")
        sys.exit(1 if errors else 0)
    sources = course_files(SOURCES, ".py")
    if args.only:
        sources = [path for path in sources if any(path.stem.startswith(name) for name in args.only)]
    for source in sources:
        build(source)


if __name__ == "__main__":
    main()
