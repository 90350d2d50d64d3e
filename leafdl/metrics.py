"""Metrics (the document's section 11): accuracy, the overfitting gap, confusion matrix.

| Metric        | Formula                          | Meaning                   |
|---------------|----------------------------------|---------------------------|
| Accuracy      | correct / total                  | % of correct predictions  |
| Loss          | CrossEntropyLoss                 | Prediction error magnitude|
| Learning Rate | optimizer.param_groups[0]["lr"]  | Current step size         |

and the gap, ``train_acc - val_acc``, read with the document's table:
about 0 is good generalisation, above 0.1 mild and above 0.2 significant overfitting.

Example:
    >>> interpret_gap(0.15)
    'mild overfitting (gap > 0.1)'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import classification_report, confusion_matrix
from torch import nn
from leafdl.progress import tqdm

from leafdl.data import readable_class_name
from leafdl.precision import Computation


# The document's "Overfitting Detection" table: above these gaps, mild and significant overfitting.
GAP_MILD = 0.1
GAP_SIGNIFICANT = 0.2


def interpret_gap(gap: float) -> str:
    """The document's reading of ``train_acc - val_acc``."""
    if gap > GAP_SIGNIFICANT:
        return f"significant overfitting (gap > {GAP_SIGNIFICANT})"
    if gap > GAP_MILD:
        return f"mild overfitting (gap > {GAP_MILD})"
    return "good generalisation (gap about 0)"


@dataclass
class Predictions:
    """Every validation image's true label, predicted label and class probabilities."""

    labels: np.ndarray          # shape (N,), true class indices
    predicted: np.ndarray       # shape (N,), predicted class indices
    probabilities: np.ndarray   # shape (N, classes), softmax outputs
    classes: list[str]

    @property
    def accuracy(self) -> float:
        return float((self.labels == self.predicted).mean())

    def confusion_matrix(self) -> np.ndarray:
        """Rows are true classes, columns predicted classes (scikit-learn's convention)."""
        return confusion_matrix(self.labels, self.predicted, labels=range(len(self.classes)))

    def report(self) -> str:
        """Per-class precision, recall and F1 as a text table (scikit-learn)."""
        return classification_report(self.labels, self.predicted, labels=range(len(self.classes)),
                                     target_names=[readable_class_name(name) for name in self.classes],
                                     digits=3, zero_division=0)

    def misclassified(self) -> np.ndarray:
        """Indices of the samples the model got wrong."""
        return np.flatnonzero(self.labels != self.predicted)


def collect_predictions(model: nn.Module, loader, *, device: torch.device | str = "cpu",
                        classes: list[str] | None = None, progress: bool = True,
                        computation: Computation | None = None) -> Predictions:
    """Run ``model`` in eval mode over ``loader`` and gather labels, predictions and probabilities.

    ``computation`` says how the model computes (:class:`leafdl.precision.Computation`):
    a finished run passes the one of :meth:`~leafdl.precision.Computation.for_evaluation`,
    so ``report.txt`` holds the numbers ``leafdl predict`` gives. Without one, the model
    runs as written, in fp32, on ``device``.
    """
    computation = computation or Computation.plain(model, device)
    model.eval().to(computation.device)
    labels, probabilities = [], []
    for inputs, batch_labels in tqdm(loader, desc="predict", leave=False, disable=not progress):
        probabilities.append(computation.probabilities(inputs))
        labels.append(batch_labels)
    probs = torch.cat(probabilities).numpy()
    classes = classes if classes is not None else list(getattr(loader.dataset, "classes", range(probs.shape[1])))
    return Predictions(labels=torch.cat(labels).numpy(), predicted=probs.argmax(axis=1),
                       probabilities=probs, classes=[str(name) for name in classes])
