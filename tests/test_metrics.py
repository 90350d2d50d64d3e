"""Metrics: the gap read with the document's table, and predictions collected from a loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from leafdl.metrics import GAP_MILD, GAP_SIGNIFICANT, collect_predictions, interpret_gap


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
