"""The notebook tools: moving nbval markers into tags, and what the build tool stores.

Small hand-made sources and notebooks; no kernel is started.
"""

from __future__ import annotations

import base64
import importlib.util
import io
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


convert = load_tool("convert_nbval_markers")
build = load_tool("build_notebooks")

SOURCE = '''# %% [markdown] slideshow={"slide_type": "slide"}
# # A lesson

# %%
# NBVAL_IGNORE_OUTPUT
print("took", 1.23, "s")

# %% tags=["keep-me"]
# NBVAL_IGNORE_OUTPUT
x = 1

# %%
y = 2  # NBVAL_IGNORE_OUTPUT in a comment after code is not a marker
'''


def test_markers_move_into_tags_and_nothing_else_changes():
    converted, moved = convert.convert_text(SOURCE)
    assert moved == 2
    assert "NBVAL_IGNORE_OUTPUT\n" not in converted
    cells = jupytext.reads(converted, fmt="py:percent").cells
    assert cells[0].metadata == {"slideshow": {"slide_type": "slide"}}
    assert cells[1].metadata["tags"] == ["nbval-ignore-output"]
    assert cells[1].source == 'print("took", 1.23, "s")'
    assert cells[2].metadata["tags"] == ["keep-me", "nbval-ignore-output"]
    assert "tags" not in cells[3].metadata
    convert.verify(SOURCE, converted, "lesson.py")
    assert convert.convert_text(converted) == (converted, 0)  # running it twice changes nothing


@pytest.mark.parametrize("marker", ["# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP"])
def test_a_marker_it_cannot_move_is_named_not_guessed(marker):
    source = f"# %%\nx = 1\n{marker}\n"
    with pytest.raises(ValueError, match=r"lesson.py:3: .*by hand"):
        convert.convert_text(source, "lesson.py")


def test_verify_notices_a_changed_cell():
    with pytest.raises(ValueError, match="cell 1 changed"):
        convert.verify(SOURCE, SOURCE.replace("x = 1", "x = 2"), "lesson.py")


def tqdm_models(hidden: bool) -> dict:
    """Saved widget state as tqdm.notebook leaves it: an HBox of [HTML, FloatProgress, HTML]."""
    def model(name, **state):
        return {"model_name": name, "state": state}
    return {
        "box": model("HBoxModel", children=["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"],
                     layout="IPY_MODEL_layout"),
        "layout": model("LayoutModel", visibility="hidden" if hidden else None),
        "left": model("HTMLModel", value="train:\u2007100%"),
        "bar": model("FloatProgressModel", value=6.0, max=6.0, bar_style="success"),
        "right": model("HTMLModel", value="\u20076/6\u2007[00:01&lt;00:00,\u20074.20it/s]"),
        "slider": model("IntSliderModel", value=3, layout="IPY_MODEL_slider_layout"),
        "slider_layout": model("LayoutModel"),
        "orphan": model("LayoutModel"),
    }


def notebook_with_widgets(models: dict, tags: list[str]) -> nbformat.NotebookNode:
    def view(model_id: str, text: str) -> nbformat.NotebookNode:
        data = {build.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0}, "text/plain": text}
        return nbformat.v4.new_output("display_data", data=data)
    cell = nbformat.v4.new_code_cell("fit(model)", metadata={"tags": tags})
    cell.outputs = [view("box", "train:   0%|          | 0/6 [00:00<?, ?it/s]"), view("slider", "IntSlider(value=3)")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["widgets"] = {build.WIDGET_STATE: {"state": models, "version_major": 2, "version_minor": 0}}
    return nb


def test_a_finished_progress_bar_is_stored_as_its_final_text():
    assert build.progress_bar_text("box", tqdm_models(hidden=False)) == "train: 100%|██████████| 6/6 [00:01<00:00, 4.20it/s]"
    assert build.progress_bar_text("slider", tqdm_models(hidden=False)) is None  # not a progress bar

    nb = notebook_with_widgets(tqdm_models(hidden=False), tags=["nbval-ignore-output"])
    assert build.store_progress_bars_as_text(nb) == 1
    build.prune_widget_state(nb)
    first, second = nb.cells[0].outputs
    assert first.data == {"text/plain": "train: 100%|██████████| 6/6 [00:01<00:00, 4.20it/s]"}
    assert second.data[build.WIDGET_VIEW]["model_id"] == "slider"  # the explorer stays a widget
    assert set(build.widget_models(nb)) == {"slider", "slider_layout"}  # its state too, nothing else


def test_a_bar_tqdm_hid_is_not_stored_and_unused_widget_state_goes():
    nb = notebook_with_widgets(tqdm_models(hidden=True), tags=["nbval-ignore-output"])
    assert build.store_progress_bars_as_text(nb) == 1
    nb.cells[0].outputs = nb.cells[0].outputs[:0]  # and without the slider, no widget state at all
    build.prune_widget_state(nb)
    assert "widgets" not in nb.metadata


def test_a_progress_bar_in_a_cell_nbval_compares_stops_the_build():
    nb = notebook_with_widgets(tqdm_models(hidden=False), tags=[])
    with pytest.raises(SystemExit, match="cell 0 shows a progress bar.*nbval-ignore-output"):
        build.store_progress_bars_as_text(nb)


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def test_photo_like_figures_are_stored_as_jpeg_and_line_art_stays_png():
    photo = png_bytes(np.random.default_rng(0).integers(0, 256, (300, 300, 4), dtype=np.uint8))
    lines = np.full((300, 300, 4), 255, dtype=np.uint8)
    lines[::10, :, :3] = 0
    line_art = png_bytes(lines)
    assert len(photo) > build.JPEG_ABOVE_BYTES > len(line_art)

    cell = nbformat.v4.new_code_cell("plt.show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(data).decode()})
                    for data in (photo, line_art)]
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert build.shrink_images(nb) == 1
    jpeg, png = (output.data for output in nb.cells[0].outputs)
    assert set(jpeg) == {"image/jpeg"} and set(png) == {"image/png"}
    with Image.open(io.BytesIO(base64.b64decode(jpeg["image/jpeg"]))) as image:
        assert image.format == "JPEG" and image.size == (300, 300)


def test_slides_and_words_are_counted(tmp_path):
    cells = [nbformat.v4.new_markdown_cell("# Title with [a link](https://example.org/long/path)",
                                           metadata={"slideshow": {"slide_type": "slide"}}),
             nbformat.v4.new_markdown_cell("Two words\n```\nnot = prose\n```", metadata={"slideshow": {"slide_type": "notes"}}),
             nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    stats = build.notebook_stats(path)
    assert (stats["slides"], stats["cells"], stats["words"]) == (1, 3, 6)
    assert stats["typed"] == pytest.approx(2 / 3)
