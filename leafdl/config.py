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

import math
from dataclasses import asdict, dataclass

from leafdl.errors import OptionError

# The pretrained backbones leafdl can build (leafdl.models), and "auto" to choose one.
ARCHITECTURES: tuple[str, ...] = ("mobilenet_v2", "efficientnet_lite0")
ARCH_CHOICES: tuple[str, ...] = ("auto", *ARCHITECTURES)
# What the frozen features compute in (leafdl.precision).
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")

# Both backbones shrink an image 32-fold before the classifier: a smaller input leaves
# the last feature map with less than one pixel.
MIN_IMG_SIZE = 32

# The command-line option of each setting, so that an error can name what to change.
OPTION_NAMES = {
    "img_size": "--img-size", "batch_size": "--batch-size", "epochs": "--epochs", "valid_split": "--valid",
    "lr": "--lr", "max_patience": "--patience", "seed": "--seed", "arch": "--arch",
    "num_workers": "--workers", "crop_scale_min": "--crop-scale-min", "unfreeze": "--unfreeze",
    "finetune_epochs": "--finetune-epochs", "backbone_lr": "--backbone-lr", "precision": "--precision",
}


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
    # The library's default is "fp32", so that a notebook gives the same numbers on every
    # machine; `leafdl train` and `leafdl predict` default to "auto", the fast choice.
    precision: str = "fp32"

    def __post_init__(self) -> None:
        """Refuse values that cannot work, before anything is computed or written."""
        problem = config_problem(self)
        if problem:
            name, why = problem
            option = OPTION_NAMES.get(name)
            where = f" (command line: {option})" if option else ""
            raise OptionError(f"{name}{where} {why}, not {getattr(self, name)!r}.")

    def to_dict(self) -> dict:
        """A plain dict, for the metadata JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Rebuild a config from :meth:`to_dict`'s output, ignoring unknown keys."""
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in values.items() if key in known})


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def config_problem(config: TrainConfig) -> tuple[str, str] | None:
    """The first setting of ``config`` whose value cannot work, with why; or ``None``."""
    checks = [
        ("img_size", _whole(config.img_size) and config.img_size >= MIN_IMG_SIZE,
         f"must be a whole number of pixels, at least {MIN_IMG_SIZE} (the backbones shrink images 32-fold; "
         "224 is the document's size)"),
        ("batch_size", _whole(config.batch_size) and config.batch_size >= 1, "must be a whole number, at least 1"),
        ("epochs", _whole(config.epochs) and config.epochs >= 1, "must be a whole number of epochs, at least 1"),
        ("valid_split", _positive_number(config.valid_split) and config.valid_split < 1,
         "must be a share between 0 and 1 (the document uses 0.2)"),
        ("lr", _positive_number(config.lr), "must be a positive number (the document uses 0.001)"),
        ("max_patience", _whole(config.max_patience) and config.max_patience >= 1,
         "must be a whole number of epochs, at least 1 (the document uses 7)"),
        ("scheduler_factor", _positive_number(config.scheduler_factor) and config.scheduler_factor < 1,
         "must be between 0 and 1 (the document uses 0.5)"),
        ("scheduler_patience", _whole(config.scheduler_patience) and config.scheduler_patience >= 0,
         "must be a whole number, 0 or more"),
        ("seed", _whole(config.seed) and 0 <= config.seed < 2**32, "must be a whole number from 0 to 2**32 - 1"),
        ("arch", config.arch in ARCH_CHOICES, f"must be one of {', '.join(ARCH_CHOICES)}"),
        ("num_workers", config.num_workers is None or (_whole(config.num_workers) and config.num_workers >= 0),
         "must be a whole number, 0 or more (0 loads images in the main process)"),
        ("crop_scale_min", _positive_number(config.crop_scale_min) and config.crop_scale_min <= 1,
         "must be a share of the image area in (0, 1] (0.08 is torchvision's default)"),
        ("unfreeze", _whole(config.unfreeze) and config.unfreeze >= 0, "must be a whole number of blocks, 0 or more"),
        ("finetune_epochs", _whole(config.finetune_epochs) and config.finetune_epochs >= 0,
         "must be a whole number of epochs, 0 or more"),
        ("backbone_lr", _positive_number(config.backbone_lr), "must be a positive number"),
        ("precision", config.precision in PRECISIONS, f"must be one of {', '.join(PRECISIONS)}"),
    ]
    return next(((name, why) for name, ok, why in checks if not ok), None)


# The document's ImageNet normalisation constants (section "Normalization").
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
