"""Hyperparameters, with the defaults of the document's "Hyperparameters Summary".

| Parameter      | Value      | Description                 |
|----------------|------------|-----------------------------|
| IMG_SIZE       | (224, 224) | Input image dimensions      |
| B_SIZE         | 32         | Batch size                  |
| EPOCHS         | 10         | Maximum training epochs     |
| VALID_SPLIT    | 0.2        | Validation set ratio        |
| lr             | 0.001      | Initial learning rate       |
| max_patience   | 7          | Early stopping patience     |

Example:
    >>> from leafdl.config import TrainConfig
    >>> config = TrainConfig(epochs=3)      # change one number, keep the rest
    >>> config.batch_size
    32
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class TrainConfig:
    """Every number that shapes one training run.

    The first block is the document's table; the rest are the knobs the document uses
    without naming them (the scheduler's factor and patience, the split seed) and the
    fine-tuning recipe that goes beyond it.
    """

    img_size: int = 224
    batch_size: int = 32
    epochs: int = 10
    valid_split: float = 0.2
    lr: float = 0.001
    max_patience: int = 7

    # ReduceLROnPlateau(mode="max", factor=0.5, patience=3), as in the document.
    scheduler_factor: float = 0.5
    scheduler_patience: int = 3
    # train_test_split(..., random_state=42): the same split on every run.
    seed: int = 42
    # "auto": MobileNetV2 when its ImageNet weights are on this machine, else the bundled
    # EfficientNet-Lite0. See leafdl.models.
    arch: str = "auto"
    pretrained: bool = True
    # None picks a value that works on Linux, macOS and Windows (leafdl.data.default_num_workers).
    num_workers: int | None = None

    # RandomResizedCrop keeps a random part of each training photo holding between
    # crop_scale_min and 100% of its area. 0.08 is torchvision's default, which the
    # document's RandomResizedCrop(224) uses. On cluttered field photos a crop that small
    # often holds soil or sky and no lesion; 0.35 measured better there (see below).
    crop_scale_min: float = 0.08

    # Fine-tuning (beyond the document): after the frozen stage, unfreeze the last
    # `unfreeze` blocks and train up to `finetune_epochs` more epochs, with `backbone_lr`
    # for the unfrozen blocks and `lr` for the classifier. Measured on 240 field photos
    # of bean leaves, 48 for validation (benchmarks/bench_finetune.py, 2 CPU cores):
    # frozen features 0.69-0.71; the field recipe `epochs=5, unfreeze=12, img_size=320,
    # crop_scale_min=0.35, max_patience=10` 0.94-0.96, in 2-3 minutes. See notebook 12.
    unfreeze: int = 0
    finetune_epochs: int = 20
    backbone_lr: float = 3e-4

    # "auto": the frozen features in bfloat16 on CPUs that compute it natively, float32
    # elsewhere (CUDA keeps its float16 mixed precision); "fp32" or "bf16" to force one.
    # What learns, and every saved weight, stays float32. See leafdl.precision.
    precision: str = "auto"

    def to_dict(self) -> dict:
        """A plain dict, for the metadata JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Rebuild a config from :meth:`to_dict`'s output, ignoring unknown keys."""
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in values.items() if key in known})


# The document's ImageNet normalisation constants (section "Normalization").
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
