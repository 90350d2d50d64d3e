"""Plots: the document's 2x2 history plot and the confusion matrix, written to real files."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from leafdl.engine import History
from leafdl.plots import plot_confusion_matrix, plot_history

matplotlib.use("Agg")


def test_the_2x2_plot_and_the_confusion_matrix_are_written(tmp_path):
    history = History(train_loss=[1.0, 0.6, 0.3], train_acc=[0.5, 0.8, 0.95], valid_loss=[0.9, 0.7, 0.8],
                      valid_acc=[0.55, 0.75, 0.7], lr=[1e-3, 1e-3, 5e-4], gap=[-0.05, 0.05, 0.25],
                      best_epoch=2, best_valid_acc=0.75)
    fig = plot_history(history, save_to=tmp_path / "metrics.png", title="demo")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Accuracy", "Loss (cross-entropy)", "Learning rate", "Gap: train acc - valid acc"]
    bars = fig.axes[3].patches
    assert [round(bar.get_height(), 2) for bar in bars] == [-0.05, 0.05, 0.25]
    assert matplotlib.colors.to_hex(bars[2].get_facecolor()) == matplotlib.colors.to_hex("tab:red")
    assert Image.open(tmp_path / "metrics.png").size == (1000, 700)
    plt.close(fig)

    matrix = np.array([[3, 1], [0, 4]])
    fig = plot_confusion_matrix(matrix, ["Healthy", "Black_rot"], save_to=tmp_path / "cm.png")
    assert Image.open(tmp_path / "cm.png").format == "PNG"
    shown = [text.get_text() for text in fig.axes[0].texts]
    plt.close(fig)
    assert shown == ["3", "1", "0", "4"]
    assert not list(tmp_path.glob(".*.tmp"))   # written atomically: no temporaries left
