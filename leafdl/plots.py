"""Visualization (the document's section 11): the 2x2 metrics plot and friends.

The document's 2x2 figure shows, per epoch:

1. accuracy curves: both should rise and stay close,
2. loss curves: both should fall and stay close,
3. the learning rate: shows what the scheduler did,
4. the gap ``train_acc - valid_acc``: how much the model overfits.

Every function returns the matplotlib ``Figure`` and can save it to a PNG; none calls
``plt.show()``, so notebooks display the figure and scripts save it.

Example:
    >>> fig = plot_history(history, save_to="runs/demo/metrics.png")   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from leafdl.data import readable_class_name
from leafdl.files import atomic_write
from leafdl.metrics import GAP_MILD, GAP_SIGNIFICANT


def _finish(fig: Figure, save_to: str | Path | None) -> Figure:
    fig.tight_layout()
    if save_to is not None:
        save_to = Path(save_to)
        atomic_write(save_to, lambda temporary: fig.savefig(temporary, dpi=100, format=save_to.suffix[1:] or "png"))
    return fig


def plot_history(history, save_to: str | Path | None = None, title: str = "") -> Figure:
    """The document's 2x2 metrics plot from a :class:`leafdl.engine.History`."""
    epochs = np.arange(1, len(history.train_acc) + 1)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    (acc_ax, loss_ax), (lr_ax, gap_ax) = axes

    acc_ax.plot(epochs, history.train_acc, "o-", label="train")
    acc_ax.plot(epochs, history.valid_acc, "o-", label="valid")
    if getattr(history, "best_epoch", 0):
        acc_ax.axvline(history.best_epoch, color="grey", linestyle=":", label=f"best (epoch {history.best_epoch})")
    acc_ax.set(title="Accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    acc_ax.legend()

    loss_ax.plot(epochs, history.train_loss, "o-", label="train")
    loss_ax.plot(epochs, history.valid_loss, "o-", label="valid")
    loss_ax.set(title="Loss (cross-entropy)", xlabel="epoch", ylabel="loss")
    loss_ax.legend()

    lr_ax.step(epochs, history.lr, "o-", where="post", color="tab:purple")
    lr_ax.set(title="Learning rate", xlabel="epoch", ylabel="lr", yscale="log")

    gap = np.asarray(history.gap)
    colors = ["tab:green" if g <= GAP_MILD else "tab:orange" if g <= GAP_SIGNIFICANT else "tab:red" for g in gap]
    gap_ax.bar(epochs, gap, color=colors)
    for level, label in ((GAP_MILD, f"mild ({GAP_MILD})"), (GAP_SIGNIFICANT, f"significant ({GAP_SIGNIFICANT})")):
        gap_ax.axhline(level, color="grey", linestyle="--", linewidth=1)
        gap_ax.text(epochs[0] - 0.4 if len(epochs) else 0, level, label, va="bottom", fontsize=8, color="grey")
    gap_ax.set(title="Gap: train acc - valid acc", xlabel="epoch", ylabel="gap")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        if len(epochs):
            ax.set_xticks(epochs if len(epochs) <= 15 else epochs[:: max(1, len(epochs) // 10)])
    if title:
        fig.suptitle(title)
    return _finish(fig, save_to)


def plot_confusion_matrix(matrix: np.ndarray, classes: Sequence[str], save_to: str | Path | None = None,
                          title: str = "Confusion matrix (validation)") -> Figure:
    """Rows: true class; columns: predicted class. The diagonal holds the correct ones."""
    names = [readable_class_name(name) for name in classes]
    size = 2.0 + 1.1 * len(names)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Greens")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in range(matrix.shape[0]):
        for column in range(matrix.shape[1]):
            ax.text(column, row, int(matrix[row, column]), ha="center", va="center",
                    color="white" if matrix[row, column] > threshold else "black")
    return _finish(fig, save_to)


def show_images(images: Sequence, titles: Sequence[str] | None = None, columns: int = 4,
                size: float = 2.4, save_to: str | Path | None = None, suptitle: str = "",
                suptitle_size: float | None = None, title_room: float = 0.0) -> Figure:
    """A grid of PIL images, NumPy arrays or (C, H, W) tensors, with optional titles.

    Each panel is ``size`` inches square; ``title_room`` adds that many inches above the
    grid for a long ``suptitle``, whose font size is ``suptitle_size`` (None: matplotlib's own).
    """
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size + title_room), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= len(images):
            continue
        image = images[index]
        if isinstance(image, torch.Tensor):
            image = image.detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy()
        ax.imshow(image)
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=suptitle_size or plt.rcParams["figure.titlesize"])
    return _finish(fig, save_to)


def denormalize(batch: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Undo ``Normalize(mean, std)`` so a tensor can be shown as a picture: x * std + mean."""
    mean_t = torch.tensor(mean).view(-1, 1, 1)
    std_t = torch.tensor(std).view(-1, 1, 1)
    return (batch * std_t + mean_t).clamp(0, 1)
