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
from leafdl.precision import Computation, choose_precision, validated_in


@dataclass
class Predictor:
    """A trained model with its classes and preprocessing, ready for new photos.

    ``computation`` (:class:`leafdl.precision.Computation`) says how the model computes;
    :meth:`from_run` builds it by the same rule as the run's ``report.txt``, so both give
    the same probabilities. Without one, the model runs as written, in fp32.
    """

    model: nn.Module
    classes: list[str]
    transform: object
    device: torch.device
    computation: Computation | None = None

    def __post_init__(self) -> None:
        if self.computation is None:
            self.computation = Computation.plain(self.model, self.device)

    @classmethod
    def from_run(cls, run_dir: str | Path, device: str | torch.device = "cpu",
                 precision: str = "fp32") -> "Predictor":
        """Load the best model of a ``leafdl train`` run folder.

        ``precision`` as in training (:mod:`leafdl.precision`): the model computes as its
        best epoch was validated (what ``report.txt`` shows) where ``precision`` allows it
        on this device. ``"auto"`` (the default of ``leafdl predict``) allows bf16 on a
        CPU that computes it natively; ``"fp32"`` (the default here, the same numbers on
        every machine) never does. A fine-tuned model validated under bf16 autocast
        computes under bf16 autocast again.
        """
        device = torch.device(device)
        choice = choose_precision(precision, device)
        model, metadata = load_model(run_dir, device)
        history = metadata.get("history", {})
        validated = validated_in(history.get("precision", []), metadata.get("best_epoch", 0))
        computation = Computation.for_evaluation(model, device, choice, validated=validated)
        spec = InputSpec.from_dict(metadata["input"])
        return cls(model=model, classes=list(metadata["classes"]), transform=eval_transforms(spec), device=device,
                   computation=computation)

    @property
    def precision(self) -> str:
        """What the model computes in: ``"fp32"``, ``"bf16"`` (folded bf16 features), ``"bf16-autocast"``
        or ``"cuda-amp"`` (see :meth:`from_run`)."""
        return self.computation.precision.name

    def probabilities(self, image_path: str | Path) -> torch.Tensor:
        """Softmax probabilities over the classes for one image file."""
        if not Path(image_path).is_file():
            raise DatasetError(f"Cannot predict {image_path}: no such file. Check the path.")
        reason = check_image(image_path)
        if reason is not None:
            raise DatasetError(f"Cannot predict {image_path}: {reason}. Pass a JPEG or PNG photo.")
        return self.computation.probabilities(self.transform(load_rgb(image_path)).unsqueeze(0))[0]

    def predict(self, image_path: str | Path, top_k: int = 3) -> list[tuple[str, float]]:
        """The ``top_k`` most likely classes for one image, most likely first."""
        if top_k < 1:
            raise OptionError(f"top_k (command line: --top) must be at least 1, not {top_k}.")
        probabilities = self.probabilities(image_path)
        values, indices = probabilities.topk(min(top_k, len(self.classes)))
        return [(self.classes[index], float(value)) for value, index in zip(values, indices)]
