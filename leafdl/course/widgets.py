"""Sliders for the notebooks: see what augmentation and LR scheduling do by moving them.

Two explorers, each a column of sliders above a picture: a matplotlib figure, redrawn
when a slider moves and shown as an ``ipywidgets.Image``. Put one as the last line of a
cell and JupyterLab shows it::

    augmentation_explorer(leaf_image)          # notebook 03
    scheduler_explorer(valid_accuracies)       # notebook 07

Each explorer is a thin shell around a plain function that does the real work and can
be tested and reused without a browser:

* :func:`augmentation_pipeline` builds the document's augmentation transforms from the
  slider values (:func:`leafdl.data.augmentation_transforms`), and
  :func:`augment_samples` applies them with a fixed seed;
* :func:`trace_plateau_schedule` steps PyTorch's own ``ReduceLROnPlateau`` on a list of
  metrics, epoch by epoch, and records what it did; :func:`simulate_plateau_schedule`
  gives just the learning rates.

What they show comes from the library: the augmentation is :mod:`leafdl.data`'s, the
grids are :func:`leafdl.plots.show_images`, the schedule is torch's scheduler. This
module only adds the sliders.

The sliders redraw only when released (``continuous_update=False``), so dragging one
does not queue dozens of redraws; each redraw takes well under a second.

Why an ``Image`` widget rather than ``interact`` with an ``Output`` area? The picture is
then part of the widget itself: it updates in place without flicker, it works in any
notebook front end, nbval sees the same stored output as JupyterLab, and a test can
check that moving a slider really changes the picture (``explorer.picture.value``).
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from PIL import Image
from torchvision import transforms

from leafdl.data import augmentation_transforms, load_rgb
from leafdl.plots import show_images

# --------------------------------------------------------------------------------------
# Augmentation
# --------------------------------------------------------------------------------------


def augmentation_pipeline(
    crop_scale_min: float = 0.08,
    rotation: float = 15,
    brightness: float = 0.2,
    contrast: float = 0.2,
    size: int = 128,
    flip: bool = True,
) -> transforms.Compose:
    """The document's augmentation with the sliders' strengths: :func:`leafdl.data.augmentation_transforms`.

    The same steps training uses (``leafdl.data.train_transforms`` adds ToTensor and
    Normalize after them), at the course's picture size, so the result is a PIL image
    ready to be shown. Impossible strengths raise a ``ValueError`` that names them.

    Example:
        >>> pipeline = augmentation_pipeline(crop_scale_min=0.5, rotation=30)
        >>> pipeline.transforms[0].scale
        (0.5, 1.0)
    """
    return augmentation_transforms(size, crop_scale_min, rotation, brightness, contrast, flip)


def augment_samples(image: Image.Image, transform, count: int = 8, seed: int = 0) -> list[Image.Image]:
    """Apply a random ``transform`` to ``image`` ``count`` times, reproducibly.

    torchvision's random transforms draw from PyTorch's global random generator; this
    seeds it with ``seed`` inside ``torch.random.fork_rng``, so the same seed gives the
    same pictures and the rest of the notebook's random numbers are left untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return [transform(image) for _ in range(count)]


def _as_image(image: Image.Image | str | Path, longest_side: int) -> Image.Image:
    """A small RGB copy of ``image`` (or of the file it names), so redraws stay quick."""
    if not isinstance(image, Image.Image):
        image = load_rgb(image)
    image = image.convert("RGB")
    if max(image.size) > longest_side:
        image = image.copy()
        image.thumbnail((longest_side, longest_side))
    return image


def plot_augmentations(image: Image.Image, samples: Sequence[Image.Image], columns: int = 4,
                       title: str = "", size: float = 2.0):
    """The original image, then the augmented ``samples``, in a grid (:func:`leafdl.plots.show_images`)."""
    titles = ["original", *(f"augmented {index}" for index in range(1, len(samples) + 1))]
    return show_images([image, *samples], titles, columns=columns, size=size, suptitle=title,
                       suptitle_size=10, title_room=0.4)


def figure_to_png(fig, dpi: int = 90) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (so it is not shown twice)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


class Explorer(widgets.VBox):
    """A column of sliders above a picture, which also shows as that picture where widgets cannot.

    A widget needs a live kernel and a widget manager. GitHub, nbconvert, a notebook
    opened without its kernel, and a RISE slide (jupyterlab-rise has no widget manager)
    have none, and would show only the widget's text, ``VBox(children=(FloatSlider(...``.
    So the explorer's output also carries its picture as a plain ``image/png``: JupyterLab
    draws the live widget, the others draw the picture as it was when the cell ran.
    """

    def __repr__(self) -> str:
        """The text a plain VBox shows (stored notebooks keep it, and nbval compares it)."""
        return super().__repr__().replace(type(self).__name__, "VBox", 1)

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        picture = getattr(self, "picture", None)  # set by _explorer
        if picture is not None and picture.value:
            bundle["image/png"] = base64.b64encode(picture.value).decode("ascii")
        return bundle


def _explorer(sliders: dict, draw, extra: list | None = None) -> Explorer:
    """An :class:`Explorer` of ``sliders`` above a picture that ``draw(**values)`` renders, redrawn on every change.

    ``draw`` returns a matplotlib figure. The box gets two attributes for code and tests:
    ``sliders`` (name -> slider) and ``picture`` (the ``ipywidgets.Image``).
    """
    picture = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        fig = draw(**{name: slider.value for name, slider in sliders.items()})
        picture.width = str(round(fig.get_figwidth() * 90))  # natural size: not stretched, not blurred
        picture.value = figure_to_png(fig, dpi=90)

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    redraw()
    box = Explorer([*sliders.values(), *(extra or []), picture])
    box.sliders, box.picture = sliders, picture
    return box


def augmentation_explorer(image: Image.Image | str | Path, size: int = 128, count: int = 7, columns: int = 4):
    """Sliders for the augmentation strengths, above the original and ``count`` augmented copies.

    Sliders, in order: crop scale min, rotation (degrees), brightness, contrast, seed.
    Moving one redraws the grid with the new settings; the same seed gives the same
    random draws, so you can compare settings fairly. Returns the widget: make it the
    last line of a cell to show it.
    """
    small = _as_image(image, longest_side=2 * size)
    common = dict(continuous_update=False, style={"description_width": "110px"},
                  layout=widgets.Layout(width="420px"))
    sliders = dict(
        crop_scale_min=widgets.FloatSlider(value=0.08, min=0.05, max=1.0, step=0.01,
                                           description="crop scale min", **common),
        rotation=widgets.IntSlider(value=15, min=0, max=90, step=5, description="rotation (°)", **common),
        brightness=widgets.FloatSlider(value=0.2, min=0.0, max=0.8, step=0.05, description="brightness", **common),
        contrast=widgets.FloatSlider(value=0.2, min=0.0, max=0.8, step=0.05, description="contrast", **common),
        seed=widgets.IntSlider(value=0, min=0, max=99, description="seed", **common),
    )

    def draw(crop_scale_min: float, rotation: int, brightness: float, contrast: float, seed: int):
        pipeline = augmentation_pipeline(crop_scale_min, rotation, brightness, contrast, size=size)
        samples = augment_samples(small, pipeline, count=count, seed=seed)
        return plot_augmentations(small, samples, columns=columns, title=(
            f"RandomResizedCrop(scale=({crop_scale_min:.2f}, 1.0)) · RandomRotation({rotation}) · "
            f"ColorJitter({brightness:.2f}, {contrast:.2f}) · seed {seed}"))

    return _explorer(sliders, draw)


# --------------------------------------------------------------------------------------
# Learning-rate scheduling: ReduceLROnPlateau
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlateauStep:
    """What ``ReduceLROnPlateau`` saw and did at the end of one epoch.

    ``lr`` is the rate the epoch trained with; ``bad_epochs`` counts the epochs in a row
    without improvement, this one included; when it exceeds the patience the rate is
    reduced (``reduced``) to ``next_lr`` for the next epoch, and the count starts again.
    """

    epoch: int          # 1-based
    metric: float
    best: float
    improved: bool
    bad_epochs: int
    lr: float
    reduced: bool
    next_lr: float


def _check_plateau_settings(factor: float, patience: int, mode: str) -> None:
    """Refuse settings ``ReduceLROnPlateau`` cannot use, with a reason a student can act on."""
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1 (the new lr is lr * factor), got {factor}.")
    if patience < 0:
        raise ValueError(f"patience counts epochs, so it must be 0 or more, got {patience}.")
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' (higher is better, e.g. accuracy) or 'min' (e.g. loss), got {mode!r}.")


def trace_plateau_schedule(
    metrics: Sequence[float],
    lr: float = 0.001,
    factor: float = 0.5,
    patience: int = 3,
    mode: str = "max",
    threshold: float = 1e-4,
    min_lr: float = 0.0,
) -> list[PlateauStep]:
    """Run PyTorch's ``ReduceLROnPlateau`` on a list of per-epoch metrics, recording each step.

    A real scheduler, on an optimizer holding one dummy parameter, is stepped once per
    metric, as ``fit`` does after each validation phase; each :class:`PlateauStep`
    records what it saw and did. Its rule (``threshold_mode="rel"``, no cooldown):

    1. A metric *improves* on the best so far when it is better by more than a relative
       ``threshold`` (``metric > best * (1 + threshold)`` in ``mode="max"``,
       ``metric < best * (1 - threshold)`` in ``mode="min"``). Then it becomes the best
       and the count of bad epochs goes back to 0; otherwise the count goes up by one.
    2. When the count *exceeds* ``patience``, the learning rate is multiplied by
       ``factor`` (never below ``min_lr``) and the count restarts at 0. So with
       ``patience=3`` the fourth bad epoch in a row reduces the rate.

    ``mode="max"`` is for metrics where higher is better (accuracy, as in the
    document); ``mode="min"`` for those where lower is better (loss).

    Example:
        >>> steps = trace_plateau_schedule([0.5, 0.6, 0.6, 0.6], patience=1)
        >>> [(step.bad_epochs, step.reduced, step.next_lr) for step in steps]
        [(0, False, 0.001), (0, False, 0.001), (1, False, 0.001), (2, True, 0.0005)]
    """
    _check_plateau_settings(factor, patience, mode)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=mode, factor=factor, patience=patience, threshold=threshold, min_lr=min_lr)
    # The scheduler's own comparison (named is_better before torch 2.7, _is_better since).
    is_better = getattr(scheduler, "_is_better", None) or scheduler.is_better
    steps = []
    for epoch, metric in enumerate(metrics, start=1):
        metric, epoch_lr = float(metric), optimizer.param_groups[0]["lr"]
        improved = is_better(metric, scheduler.best)
        # The count including this epoch; torch restarts it at 0 once it exceeds patience.
        bad_epochs = 0 if improved else scheduler.num_bad_epochs + 1
        scheduler.step(metric)
        next_lr = optimizer.param_groups[0]["lr"]
        steps.append(PlateauStep(epoch, metric, scheduler.best, improved, bad_epochs, epoch_lr,
                                 next_lr < epoch_lr, next_lr))
    return steps


def simulate_plateau_schedule(
    metrics: Sequence[float], lr: float = 0.001, factor: float = 0.5, patience: int = 3, mode: str = "max"
) -> list[float]:
    """The learning rate each epoch trains with, given the metric at the end of each epoch.

    Entry ``i`` is the rate of epoch ``i + 1``, the value ``history.lr`` records in a
    real run. See :func:`trace_plateau_schedule` for the rule.

    Example:
        >>> simulate_plateau_schedule([0.5, 0.6, 0.6, 0.6, 0.6], patience=1)
        [0.001, 0.001, 0.001, 0.001, 0.0005]
    """
    return [step.lr for step in trace_plateau_schedule(metrics, lr, factor, patience, mode)]


def plot_plateau_schedule(metrics: Sequence[float], lr: float = 0.001, factor: float = 0.5,
                          patience: int = 3, mode: str = "max", metric_name: str = "valid accuracy"):
    """Two panels: the metric with its best-so-far, and the learning rate per epoch."""
    steps = trace_plateau_schedule(metrics, lr, factor, patience, mode)
    epochs = [step.epoch for step in steps]
    fig, (metric_ax, lr_ax) = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True,
                                           gridspec_kw={"height_ratios": [3, 2]})
    metric_ax.plot(epochs, [step.metric for step in steps], "o-", label=metric_name)
    metric_ax.step(epochs, [step.best for step in steps], where="post", color="grey",
                   linestyle="--", label="best so far")
    for step in steps:
        if step.reduced:
            for ax in (metric_ax, lr_ax):
                ax.axvline(step.epoch + 0.5, color="tab:red", alpha=0.4)
    metric_ax.set(ylabel=metric_name, title=f"ReduceLROnPlateau(mode={mode!r}, factor={factor:g}, "
                                            f"patience={patience}); red lines: lr reduced")
    metric_ax.legend(loc="lower right")
    rates = [step.lr for step in steps]
    lr_ax.step(epochs, rates, "o-", where="post", color="tab:purple")
    for index, rate in enumerate(rates):  # label the first rate and every new one
        if index == 0 or rate != rates[index - 1]:
            lr_ax.annotate(f"{rate:.3g}", (epochs[index], rate), textcoords="offset points", xytext=(4, 5),
                           fontsize=8, color="tab:purple")
    # A fixed range (from lr down to at least lr/20) so that a different factor shows as a
    # different drop, instead of the axis rescaling to make every drop look alike.
    lr_ax.set(xlabel="epoch", ylabel="learning rate", yscale="log",
              ylim=(min(lr / 20, min(rates, default=lr) / 1.5), lr * 3))
    for ax in (metric_ax, lr_ax):
        ax.grid(alpha=0.3)
    lr_ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: math.ceil(len(epochs) / 20)])
    fig.tight_layout()
    return fig


def scheduler_explorer(metrics: Sequence[float], lr: float = 0.001, factor: float = 0.5, patience: int = 3,
                       mode: str = "max"):
    """Sliders for ``factor`` and ``patience`` above the learning rate they give on ``metrics``.

    ``metrics`` is a series of validation accuracies, one per epoch (a real
    ``history.valid_acc`` or a made-up one). A line of text says after which epochs the
    rate was reduced. Returns the widget: make it the last line of a cell to show it.
    """
    metrics = [float(metric) for metric in metrics]
    if not metrics:
        raise ValueError("scheduler_explorer needs at least one metric value (one per epoch).")
    common = dict(continuous_update=False, layout=widgets.Layout(width="420px"))
    sliders = dict(
        factor=widgets.FloatSlider(value=factor, min=0.1, max=0.9, step=0.05, description="factor", **common),
        patience=widgets.IntSlider(value=patience, min=0, max=8, description="patience", **common),
    )
    summary = widgets.HTML()

    def draw(factor: float, patience: int):
        steps = trace_plateau_schedule(metrics, lr, factor, patience, mode)
        reductions = ", ".join(str(step.epoch) for step in steps if step.reduced) or "never"
        summary.value = (f"lr reduced after epoch(s): <b>{reductions}</b>; "
                         f"the last epoch trains with lr = <b>{steps[-1].lr:.3g}</b>")
        return plot_plateau_schedule(metrics, lr, factor, patience, mode)

    return _explorer(sliders, draw, extra=[summary])
