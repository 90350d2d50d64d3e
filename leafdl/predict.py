"""Using a trained model on new photos.

A saved run folder holds the weights (``model.pth``) and what is needed to use them
(``metadata.json``: the classes, and how images must be resized and normalised). To
predict, we rebuild the model, preprocess each photo exactly as the validation images
were preprocessed, and turn the model's scores (logits) into probabilities with softmax.

Example:
    >>> from leafdl.predict import Predictor                        # doctest: +SKIP
    >>> predictor = Predictor.from_run("runs/demo")                  # doctest: +SKIP
    >>> predictor.predict("my_leaf.jpg", top_k=2)                    # doctest: +SKIP
    [('Black_rot', 0.93), ('Apple_scab', 0.05)]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from leafdl.checkpoint import load_model
from leafdl.data import DatasetError, check_image, eval_transforms, load_rgb
from leafdl.errors import OptionError
from leafdl.models import InputSpec
from leafdl.frozen_features import FrozenFeatures
from leafdl.precision import choose_precision


@dataclass
class Predictor:
    """A trained model with its classes and preprocessing, ready for new photos."""

    model: nn.Module
    classes: list[str]
    transform: object
    device: torch.device
    bf16_features: bool = False

    def __post_init__(self) -> None:
        # In bf16 the features run on a copy with folded BatchNorms, made once here.
        self._run = FrozenFeatures(self.model, bf16=True) if self.bf16_features else self.model

    @classmethod
    def from_run(cls, run_dir: str | Path, device: str | torch.device = "cpu",
                 precision: str = "fp32") -> "Predictor":
        """Load the best model of a ``leafdl train`` run folder.

        ``precision`` as in training (:mod:`leafdl.precision`): ``"auto"`` (the default of
        ``leafdl predict``) runs the features in bf16 on a CPU that computes it natively,
        ``"fp32"`` (the default here, the same numbers on every machine) never does.
        Probabilities then differ from fp32 ones in about the third decimal.
        """
        choice = choose_precision(precision, torch.device(device))
        model, metadata = load_model(run_dir, device)
        spec = InputSpec.from_dict(metadata["input"])
        return cls(model, list(metadata["classes"]), eval_transforms(spec), torch.device(device),
                   bf16_features=choice.bf16_features)

    @torch.no_grad()
    def probabilities(self, image_path: str | Path) -> torch.Tensor:
        """Softmax probabilities over the classes for one image file."""
        if not Path(image_path).is_file():
            raise DatasetError(f"Cannot predict {image_path}: no such file. Check the path.")
        reason = check_image(image_path)
        if reason is not None:
            raise DatasetError(f"Cannot predict {image_path}: {reason}. Pass a JPEG or PNG photo.")
        batch = self.transform(load_rgb(image_path)).unsqueeze(0).to(self.device)
        return torch.softmax(self._run(batch).float(), dim=1)[0].cpu()

    def predict(self, image_path: str | Path, top_k: int = 3) -> list[tuple[str, float]]:
        """The ``top_k`` most likely classes for one image, most likely first."""
        if top_k < 1:
            raise OptionError(f"top_k (command line: --top) must be at least 1, not {top_k}.")
        probabilities = self.probabilities(image_path)
        values, indices = probabilities.topk(min(top_k, len(self.classes)))
        return [(self.classes[index], float(value)) for value, index in zip(values, indices)]
