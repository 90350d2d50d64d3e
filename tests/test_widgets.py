"""Tests for leafdl.course.widgets: the pure computations behind the sliders, and the sliders themselves.

The scheduler trace is checked against PyTorch's own ReduceLROnPlateau, epoch by epoch;
the augmentation pipeline against the parameters the sliders pass in, and against the
training transforms it must share with leafdl.data.
"""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient
from nbconvert import HTMLExporter, MarkdownExporter
from PIL import Image
from torchvision import transforms

from leafdl.course.widgets import (
    augment_samples,
    augmentation_explorer,
    augmentation_pipeline,
    plot_augmentations,
    scheduler_explorer,
    simulate_plateau_schedule,
    trace_plateau_schedule,
)
from leafdl.data import train_transforms
from leafdl.models import InputSpec

# --- ReduceLROnPlateau ------------------------------------------------------------------


def torch_plateau_run(metrics, lr, factor, patience, mode, **settings):
    """Run the real scheduler: the lr of each epoch, and its best / bad-epoch count after each step."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience,
                                                           **settings)
    lrs, bests, bad = [], [], []
    for metric in metrics:
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step(metric)
        bests.append(scheduler.best)
        bad.append(scheduler.num_bad_epochs)
    return lrs, bests, bad


RNG = np.random.default_rng(7)
SERIES = {
    "document": [0.60, 0.70, 0.75, 0.75, 0.74, 0.75, 0.73, 0.74, 0.76, 0.76, 0.75, 0.75, 0.75, 0.74],
    "tiny improvements below the threshold": [0.5, 0.50001, 0.500002, 0.5000001, 0.5, 0.6, 0.6, 0.6],
    "long plateau, several reductions": [0.9] * 25,
    "noisy": list(np.round(np.clip(np.cumsum(RNG.normal(0.01, 0.03, 30)) + 0.5, 0, 1), 3)),
    "falling": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
}


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize("factor, patience", [(0.5, 3), (0.1, 0), (0.7, 1), (0.5, 5)])
@pytest.mark.parametrize("mode", ["max", "min"])
def test_simulation_matches_torch_reduce_lr_on_plateau(name, factor, patience, mode):
    metrics = [float(value) for value in SERIES[name]]
    expected_lrs, expected_bests, expected_bad = torch_plateau_run(metrics, 0.001, factor, patience, mode)

    assert simulate_plateau_schedule(metrics, 0.001, factor, patience, mode) == pytest.approx(expected_lrs, rel=1e-12)
    steps = trace_plateau_schedule(metrics, 0.001, factor, patience, mode)
    assert [step.best for step in steps] == pytest.approx(expected_bests)
    # torch resets its counter right after reducing; the trace shows the count that triggered it.
    assert [0 if step.bad_epochs > patience else step.bad_epochs for step in steps] == expected_bad
    assert [step.next_lr for step in steps[:-1]] == [step.lr for step in steps[1:]]


def test_threshold_and_min_lr_reach_the_scheduler():
    metrics = [0.5, 0.504, 0.506, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]  # +0.8% and +0.4%: one beats a 0.5% threshold
    expected_lrs, _, _ = torch_plateau_run(metrics, 0.001, 0.5, 0, "max", threshold=0.005, min_lr=0.0003)
    steps = trace_plateau_schedule(metrics, 0.001, 0.5, 0, "max", threshold=0.005, min_lr=0.0003)

    assert [step.lr for step in steps] == expected_lrs
    assert [step.improved for step in steps[:3]] == [True, True, False]
    assert min(expected_lrs) == 0.0003  # the floor was reached, and held
    assert [step.reduced for step in steps].count(True) == 2  # 0.001 -> 0.0005 -> 0.0003, then no more


def test_negative_metrics_follow_torch_even_where_equal_counts_as_better():
    # With a relative threshold, -1.0 "beats" a best of -1.0 in mode max (-1.0 > -1.0001).
    metrics = [-1.0, -1.0, -1.0, -2.0, -2.0]
    expected_lrs, expected_bests, _ = torch_plateau_run(metrics, 0.001, 0.5, 1, "max")
    steps = trace_plateau_schedule(metrics, 0.001, 0.5, 1, "max")
    assert [step.lr for step in steps] == expected_lrs
    assert [step.improved for step in steps] == [True, True, True, False, False]


def test_patience_three_reduces_on_the_fourth_bad_epoch():
    steps = trace_plateau_schedule([0.8, 0.7, 0.7, 0.7, 0.7, 0.7], lr=0.001, factor=0.5, patience=3)

    assert [step.bad_epochs for step in steps] == [0, 1, 2, 3, 4, 1]
    assert [step.reduced for step in steps] == [False, False, False, False, True, False]
    assert [step.lr for step in steps] == [0.001] * 5 + [0.0005]
    assert steps[4].next_lr == 0.0005


def test_a_new_best_resets_the_count():
    steps = trace_plateau_schedule([0.5, 0.4, 0.4, 0.6, 0.5], patience=3)
    assert [step.improved for step in steps] == [True, False, False, True, False]
    assert [step.bad_epochs for step in steps] == [0, 1, 2, 0, 1]
    assert steps[-1].best == 0.6


@pytest.mark.parametrize("kwargs, words", [
    (dict(factor=1.0), "factor"),
    (dict(factor=0.0), "factor"),
    (dict(patience=-1), "patience"),
    (dict(mode="maximum"), "mode"),
])
def test_bad_scheduler_settings_are_refused_with_a_reason(kwargs, words):
    with pytest.raises(ValueError, match=words):
        trace_plateau_schedule([0.5, 0.6], **kwargs)


# --- Augmentation -----------------------------------------------------------------------


@pytest.fixture
def leaf_image() -> Image.Image:
    """A 200x160 picture with structure, so crops and rotations change pixels."""
    y, x = np.mgrid[0:160, 0:200]
    pixels = np.stack([x * 255 // 200, y * 255 // 160, (x + y) % 256], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels)


def test_pipeline_carries_the_slider_values():
    pipeline = augmentation_pipeline(crop_scale_min=0.4, rotation=30, brightness=0.3, contrast=0.1, size=96)
    crop, flip, rotation, jitter = pipeline.transforms

    assert isinstance(crop, transforms.RandomResizedCrop)
    assert crop.size == (96, 96) and crop.scale == (0.4, 1.0)
    assert isinstance(flip, transforms.RandomHorizontalFlip)
    assert list(rotation.degrees) == [-30.0, 30.0]
    assert jitter.brightness == pytest.approx((0.7, 1.3))
    assert jitter.contrast == pytest.approx((0.9, 1.1))


def test_defaults_are_the_documents_augmentation():
    crop, _, rotation, jitter = augmentation_pipeline().transforms
    assert crop.scale == (0.08, 1.0)
    assert list(rotation.degrees) == [-15.0, 15.0]
    assert jitter.brightness == pytest.approx((0.8, 1.2)) and jitter.contrast == pytest.approx((0.8, 1.2))


def test_the_preview_draws_what_training_draws(leaf_image):
    """The sliders show leafdl.data's own augmentation: same steps, same random draws."""
    spec = InputSpec(64, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bilinear")
    training = transforms.Compose(train_transforms(spec, crop_scale_min=0.3).transforms[:-2])  # no ToTensor, Normalize
    preview = augmentation_pipeline(crop_scale_min=0.3, size=64)

    assert [type(step) for step in preview.transforms] == [type(step) for step in training.transforms]
    as_bytes = [[image.tobytes() for image in augment_samples(leaf_image, pipeline, count=3, seed=4)]
                for pipeline in (preview, training)]
    assert as_bytes[0] == as_bytes[1]


def test_the_crop_check_is_the_librarys(leaf_image):
    with pytest.raises(ValueError) as from_preview:
        augmentation_pipeline(crop_scale_min=1.5)
    with pytest.raises(ValueError) as from_training:
        train_transforms(InputSpec(64, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), crop_scale_min=1.5)
    assert str(from_preview.value) == str(from_training.value)
    assert "crop_scale_min" in str(from_preview.value)


def test_the_grid_shows_the_original_then_each_sample_with_its_title(leaf_image):
    samples = augment_samples(leaf_image, augmentation_pipeline(size=64), count=5, seed=0)
    fig = plot_augmentations(leaf_image, samples, columns=4, title="five draws")

    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["original"] + [f"augmented {i}" for i in range(1, 6)]
    assert len(fig.axes) == 8  # two rows of four; the last two panels stay empty
    assert fig._suptitle.get_text() == "five draws" and fig._suptitle.get_fontsize() == 10
    assert list(fig.get_size_inches()) == pytest.approx([8.0, 4.4])  # 2-inch panels, 0.4 inch for the title
    plt.close(fig)


def test_zero_turns_a_transform_off_and_flip_can_be_left_out():
    pipeline = augmentation_pipeline(rotation=0, brightness=0, contrast=0, flip=False)
    assert not any(isinstance(step, transforms.RandomHorizontalFlip) for step in pipeline.transforms)
    jitter = pipeline.transforms[-1]
    assert jitter.brightness is None and jitter.contrast is None


@pytest.mark.parametrize("kwargs", [dict(crop_scale_min=0), dict(crop_scale_min=1.5), dict(rotation=-5),
                                    dict(brightness=-0.1)])
def test_impossible_strengths_are_refused(kwargs):
    with pytest.raises(ValueError):
        augmentation_pipeline(**kwargs)


def test_samples_are_reproducible_and_leave_the_global_generator_alone(leaf_image):
    pipeline = augmentation_pipeline(size=64)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)

    first = augment_samples(leaf_image, pipeline, count=4, seed=5)

    assert torch.equal(torch.rand(3), expected_next)  # the notebook's own random numbers are untouched
    again = augment_samples(leaf_image, pipeline, count=4, seed=5)
    other = augment_samples(leaf_image, pipeline, count=4, seed=6)
    as_bytes = [[image.tobytes() for image in images] for images in (first, again, other)]
    assert as_bytes[0] == as_bytes[1]
    assert as_bytes[0] != as_bytes[2]
    assert len(set(as_bytes[0])) == 4  # four different random draws
    assert all(image.size == (64, 64) for image in first)


def test_full_crop_without_randomness_only_resizes(leaf_image):
    square = leaf_image.resize((100, 100))
    pipeline = augmentation_pipeline(crop_scale_min=1.0, rotation=0, brightness=0, contrast=0, size=100, flip=False)
    # scale (1, 1) of a square image with the default ratio range is the whole image.
    samples = augment_samples(square, pipeline, count=3, seed=0)
    for sample in samples:
        difference = np.abs(np.asarray(sample, dtype=int) - np.asarray(square, dtype=int))
        assert difference.mean() < 2


# --- The explorers: sliders wired to a redraw --------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_augmentation_explorer_redraws_when_a_slider_moves(leaf_image):
    explorer = augmentation_explorer(leaf_image, size=64)
    sliders = list(explorer.sliders.values())

    assert [slider.description for slider in sliders] == [
        "crop scale min", "rotation (°)", "brightness", "contrast", "seed"]
    assert list(explorer.children[:5]) == sliders and explorer.children[-1] is explorer.picture
    assert all(not slider.continuous_update for slider in sliders)
    first = bytes(explorer.picture.value)
    assert first.startswith(PNG_SIGNATURE)

    sliders[0].value = 0.5
    after_crop = bytes(explorer.picture.value)
    sliders[4].value = 3
    after_seed = bytes(explorer.picture.value)
    assert len({first, after_crop, after_seed}) == 3  # each move drew a new picture

    sliders[0].value, sliders[4].value = 0.08, 0
    assert bytes(explorer.picture.value) == first  # same settings, same seed: the same picture
    assert plt.get_fignums() == []  # every figure was closed after rendering


def test_augmentation_explorer_accepts_a_file_path(tmp_path, leaf_image):
    path = tmp_path / "leaf.png"
    leaf_image.save(path)
    assert bytes(augmentation_explorer(path, size=64).picture.value).startswith(PNG_SIGNATURE)


def test_scheduler_explorer_redraws_with_new_factor_and_patience():
    explorer = scheduler_explorer(SERIES["document"])
    factor, patience = explorer.sliders["factor"], explorer.sliders["patience"]
    summary = explorer.children[2]
    assert list(explorer.children[:2]) == [factor, patience]
    assert (factor.value, patience.value) == (0.5, 3)
    first_picture, first_summary = bytes(explorer.picture.value), summary.value

    patience.value = 1
    factor.value = 0.2
    assert bytes(explorer.picture.value) != first_picture and summary.value != first_summary
    steps = trace_plateau_schedule(SERIES["document"], factor=0.2, patience=1)
    reductions = ", ".join(str(step.epoch) for step in steps if step.reduced)
    assert f"after epoch(s): <b>{reductions}</b>" in summary.value
    assert f"lr = <b>{steps[-1].lr:.3g}</b>" in summary.value


# --- Static renders: what GitHub, nbconvert and a RISE slide show of an explorer ----------


def shown_picture(explorer) -> bytes:
    """The plain picture the explorer's output carries beside the widget."""
    return base64.b64decode(explorer._repr_mimebundle_()["image/png"])


def test_an_explorers_output_carries_its_picture_beside_the_widget():
    explorer = scheduler_explorer(SERIES["document"])
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # JupyterLab still draws the live widget
    assert bundle["text/plain"].startswith("VBox(children=(FloatSlider(value=0.5")  # the text stored notebooks hold
    assert shown_picture(explorer) == bytes(explorer.picture.value)

    explorer.sliders["patience"].value = 1
    assert shown_picture(explorer) == bytes(explorer.picture.value)  # the picture as the sliders left it


@pytest.mark.slow
def test_a_notebook_rendered_without_a_kernel_shows_the_explorers_pictures(tmp_path, leaf_image):
    """Executed as the course builds its notebooks (widget state saved), then rendered by nbconvert."""
    leaf_image.save(tmp_path / "leaf.png")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in (
        "from leafdl.course.widgets import augmentation_explorer, scheduler_explorer",
        "augmentation_explorer('leaf.png', size=64)",
        f"scheduler_explorer({SERIES['document']})",
    )])
    NotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    for cell in notebook.cells[1:]:
        (output,) = cell.outputs
        assert base64.b64decode(output["data"]["image/png"]).startswith(PNG_SIGNATURE)
    markdown, resources = MarkdownExporter().from_notebook_node(notebook)
    pictures = [name for name in resources["outputs"] if name.endswith(".png")]
    assert len(pictures) == 2 and all(f"]({name})" in markdown for name in pictures)
    assert "VBox(" not in markdown

    notebook.metadata.pop("widgets")  # a viewer that ignores saved widget state, as GitHub does
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == 2


def test_scheduler_explorer_needs_metrics():
    with pytest.raises(ValueError, match="at least one"):
        scheduler_explorer([])
