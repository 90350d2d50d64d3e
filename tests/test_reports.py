"""Metrics, plots and prediction: what a finished run reports, checked on real outputs."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from leafdl.engine import History
from leafdl.metrics import GAP_MILD, GAP_SIGNIFICANT, collect_predictions, interpret_gap
from leafdl.plots import plot_confusion_matrix, plot_history
from leafdl.predict import Predictor

matplotlib.use("Agg")


@pytest.mark.parametrize("gap, reading", [(-0.05, "good"), (0.0, "good"), (GAP_MILD, "good"),
                                          (0.15, "mild"), (GAP_SIGNIFICANT, "mild"), (0.31, "significant")])
def test_gap_is_read_with_the_documents_table(gap, reading):
    assert interpret_gap(gap).startswith(reading)


class Fixed(nn.Module):
    """A 'model' whose logits are the input itself, so predictions are known in advance."""

    def forward(self, x):
        return x


def test_collect_predictions_gathers_labels_predictions_and_probabilities():
    logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0], [0.0, 0.0, 4.0]])
    labels = torch.tensor([0, 1, 1, 2, 2])
    loader = DataLoader(TensorDataset(logits, labels), batch_size=2)
    predictions = collect_predictions(Fixed(), loader, classes=["Apple_scab", "Black_rot", "Healthy"], progress=False)

    assert predictions.predicted.tolist() == [0, 1, 2, 0, 2]
    assert predictions.accuracy == pytest.approx(3 / 5)
    assert np.allclose(predictions.probabilities.sum(axis=1), 1.0)
    assert predictions.probabilities[0, 0] == pytest.approx(np.exp(3) / (np.exp(3) + 2))
    assert predictions.misclassified().tolist() == [2, 3]
    assert predictions.confusion_matrix().tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 1]]
    report = predictions.report()
    assert "Apple scab" in report and "Black rot" in report      # readable names
    assert "0.500" in report                                     # Black rot's recall: 1 of 2


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


def test_predictor_agrees_with_the_validation_predictions_of_its_run(demo_split, tmp_path):
    from leafdl.pipeline import train_from_folder
    from leafdl.config import TrainConfig

    result = train_from_folder(demo_split, tmp_path / "run", TrainConfig(epochs=1, img_size=64, batch_size=16,
                               arch="efficientnet_lite0", num_workers=0), progress=False, log=lambda line: None)
    predictor = Predictor.from_run(tmp_path / "run")
    files = [path for path, _ in result.loaders.valid.dataset.samples]
    for index in (0, len(files) // 2, len(files) - 1):
        probabilities = predictor.probabilities(files[index])
        assert torch.allclose(probabilities, torch.from_numpy(result.predictions.probabilities[index]), atol=1e-4)
    ranked = predictor.predict(files[0], top_k=2)
    assert len(ranked) == 2 and ranked[0][1] >= ranked[1][1]
    assert ranked[0][0] == predictor.classes[int(result.predictions.predicted[0])]
