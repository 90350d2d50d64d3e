"""Hyperparameters, with the defaults of the document's "Hyperparameters Summary".

| Parameter      | Value      | Description                 |
|----------------|------------|-----------------------------|
| IMG_SIZE       | (224, 224) | Input image dimensions      |
| B_SIZE         | 32         | Batch size                  |
| EPOCHS         | 10         | Maximum training epochs     |
| VALID_SPLIT    | 0.2        | Validation set ratio        |
| lr             | 0.001      | Initial learning rate       |
| max_patience   | 7          | Early stopping patience     |

:class:`TrainConfig` is the one place where a training setting is declared: its name,
its default, its command-line option and the option's help text. ``leafdl train``
builds its options from these fields (:func:`leafdl.cli.build_parser`), and an error
about a setting names the option to change.

Example:
    >>> from leafdl.config import TrainConfig
    >>> config = TrainConfig(epochs=3)      # change one number, keep the rest
    >>> config.batch_size
    32
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from leafdl.errors import OptionError

# The pretrained backbones leafdl can build (leafdl.models), and "auto" to choose one.
ARCHITECTURES: tuple[str, ...] = ("mobilenet_v2", "efficientnet_lite0")
ARCH_CHOICES: tuple[str, ...] = ("auto", *ARCHITECTURES)
# How many children each backbone's `model.features` has (stem, blocks, head): the most
# blocks --unfreeze can unfreeze. leafdl.models builds them; tests/test_models.py counts them.
FEATURE_BLOCKS: dict[str, int] = {"mobilenet_v2": 19, "efficientnet_lite0": 18}
# What the frozen features compute in (leafdl.precision).
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")

# Both backbones shrink an image 32-fold before the classifier: a smaller input leaves
# the last feature map with less than one pixel.
MIN_IMG_SIZE = 32


@dataclass(frozen=True)
class Option:
    """How a :class:`TrainConfig` field appears on the command line (``leafdl train``).

    ``flag`` is the option (``--epochs``); ``help`` its one-line help. ``choices`` limits
    it to a few words. ``command_line_default`` is for the one setting whose command-line
    default differs from Python's (``precision``: see its comment); ``None`` means the
    field's own default.
    """

    flag: str
    help: str
    choices: tuple[str, ...] = ()
    command_line_default: Any = None


def setting(default: Any, flag: str, help: str, **option: Any) -> Any:
    """A :class:`TrainConfig` field with its default and its command-line :class:`Option`."""
    return field(default=default, metadata={"option": Option(flag, help, **option)})


@dataclass
class TrainConfig:
    """Every number that shapes one training run.

    The first block is the document's table; the rest are the knobs the document uses
    without naming them (the scheduler's factor and patience, the split seed) and the
    fine-tuning recipe that goes beyond it.
    """

    img_size: int = setting(224, "--img-size", "input size in pixels")
    batch_size: int = setting(32, "--batch-size", "images per training step")
    epochs: int = setting(10, "--epochs", "most epochs of the frozen stage")
    valid_split: float = setting(0.2, "--valid", "validation share when splitting")
    lr: float = setting(0.001, "--lr", "learning rate of the classifier (Adam)")
    max_patience: int = setting(7, "--patience", "early-stopping patience: epochs without a better validation accuracy")

    # ReduceLROnPlateau(mode="max", factor=0.5, patience=3), as in the document.
    scheduler_factor: float = setting(0.5, "--scheduler-factor",
                                      "ReduceLROnPlateau: multiply the learning rate by this on a plateau")
    scheduler_patience: int = setting(3, "--scheduler-patience",
                                      "ReduceLROnPlateau: epochs without improvement before it cuts")
    # train_test_split(..., random_state=42): the same split on every run.
    seed: int = setting(42, "--seed", "random_state of the split, and the seed of the training")
    # "auto": MobileNetV2 when its ImageNet weights are on this machine, else the bundled
    # EfficientNet-Lite0. See leafdl.models.
    arch: str = setting("auto", "--arch", "backbone; auto: mobilenet_v2 if its weights are here, else "
                        "efficientnet_lite0", choices=ARCH_CHOICES)
    pretrained: bool = setting(True, "--no-pretrained", "start from random weights (to compare)")
    # None picks a value that works on Linux, macOS and Windows (leafdl.data.default_num_workers).
    num_workers: int | None = setting(None, "--workers", "DataLoader worker processes (None: per OS)")

    # RandomResizedCrop keeps a random part of each training photo holding between
    # crop_scale_min and 100% of its area. 0.08 is torchvision's default, which the
    # document's RandomResizedCrop(224) uses. On cluttered field photos a crop that small
    # often holds soil or sky and no lesion; 0.35 measured better there (see below).
    crop_scale_min: float = setting(0.08, "--crop-scale-min",
                                    "smallest share of a photo's area a training crop keeps (0.35 for field photos)")

    # Fine-tuning (beyond the document): after the frozen stage, unfreeze the last
    # `unfreeze` blocks and train up to `finetune_epochs` more epochs, with `backbone_lr`
    # for the unfrozen blocks and `lr` for the classifier. Measured on 240 field photos
    # of bean leaves, 48 for validation (benchmarks/bench_finetune.py, 2 CPU cores):
    # frozen features 0.69-0.71; the field recipe `epochs=5, unfreeze=12, img_size=320,
    # crop_scale_min=0.35, max_patience=10` 0.94-0.96, in 2-3 minutes. See notebook 12.
    unfreeze: int = setting(0, "--unfreeze", "fine-tune: unfreeze the last N backbone blocks after the frozen stage")
    finetune_epochs: int = setting(20, "--finetune-epochs", "fine-tune: epochs with the last N blocks unfrozen")
    backbone_lr: float = setting(3e-4, "--backbone-lr", "fine-tune: learning rate of the unfrozen blocks")

    # "auto": bfloat16 on CPUs that compute it natively (frozen features in bf16,
    # fine-tuning under bf16 autocast), float32 elsewhere (CUDA keeps its float16 mixed
    # precision); "fp32" or "bf16" to force one. Every weight, gradient and optimizer
    # state stays float32. See leafdl.precision.
    # The one setting with two defaults, both declared here: Python (notebooks, scripts)
    # gets "fp32", so that a notebook prints the same numbers on every machine; the
    # command line (`leafdl train`) gets "auto", the fast choice for a long run.
    precision: str = setting("fp32", "--precision", "auto: bf16 (fp32 weights) on CPUs that compute it "
                             "natively, else fp32", choices=PRECISIONS, command_line_default="auto")

    def __post_init__(self) -> None:
        """Refuse values that cannot work, before anything is computed or written."""
        problem = config_problem(self)
        if problem:
            name, why = problem
            raise OptionError(f"{setting_name(name)} {why}, not {getattr(self, name)!r}.")

    def to_dict(self) -> dict:
        """A plain dict, for the metadata JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Rebuild a config from :meth:`to_dict`'s output, ignoring unknown keys."""
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in values.items() if key in known})


def options() -> dict[str, Option]:
    """Each :class:`TrainConfig` field's command-line :class:`Option`, by field name."""
    return {each.name: each.metadata["option"] for each in fields(TrainConfig)}


# The command-line option of each setting, so that an error can name what to change.
OPTION_NAMES: dict[str, str] = {name: option.flag for name, option in options().items()}


def setting_name(name: str) -> str:
    """A setting as an error message names it: ``unfreeze (command line: --unfreeze)``."""
    return f"{name} (command line: {OPTION_NAMES[name]})" if name in OPTION_NAMES else name


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
        ("pretrained", isinstance(config.pretrained, bool), "must be True or False"),
        ("num_workers", config.num_workers is None or (_whole(config.num_workers) and config.num_workers >= 0),
         "must be a whole number, 0 or more (0 loads images in the main process)"),
        ("crop_scale_min", _positive_number(config.crop_scale_min) and config.crop_scale_min <= 1,
         "must be a share of the image area in (0, 1] (0.08 is torchvision's default)"),
        ("unfreeze", _whole(config.unfreeze) and config.unfreeze >= 0, "must be a whole number of blocks, 0 or more"),
        ("unfreeze", not _whole(config.unfreeze) or config.unfreeze <= most_feature_blocks(config.arch),
         unfreeze_limit(config.arch)),
        ("finetune_epochs", _whole(config.finetune_epochs) and config.finetune_epochs >= 0,
         "must be a whole number of epochs, 0 or more"),
        ("backbone_lr", _positive_number(config.backbone_lr), "must be a positive number"),
        ("precision", config.precision in PRECISIONS, f"must be one of {', '.join(PRECISIONS)}"),
    ]
    return next(((name, why) for name, ok, why in checks if not ok), None)


def most_feature_blocks(arch: str) -> int:
    """How many blocks ``--unfreeze`` may unfreeze with this ``arch`` ("auto": with either backbone)."""
    return FEATURE_BLOCKS.get(arch, max(FEATURE_BLOCKS.values()))


def unfreeze_limit(arch: str) -> str:
    """Why an ``unfreeze`` above the backbone's block count cannot work, for an error message."""
    if arch in FEATURE_BLOCKS:
        counted = f"{arch}'s features have {FEATURE_BLOCKS[arch]} blocks"
    else:
        counted = "the backbones' features have " + " and ".join(f"{blocks} ({name})" for name, blocks in
                                                                 FEATURE_BLOCKS.items()) + " blocks"
    return (f"must be at most {most_feature_blocks(arch)}: {counted} (stem, inverted residuals, head; "
            "the field recipe unfreezes 12)")


def check_for_backbone(config: TrainConfig, arch: str) -> None:
    """Refuse a setting the backbone ``arch`` ("auto" resolved) cannot honour: more blocks to unfreeze than it has.

    :class:`TrainConfig` itself only knows the most blocks any backbone has; this is the
    check against the one a run will build, made before its data is split.
    """
    if config.unfreeze > most_feature_blocks(arch):
        raise OptionError(f"{setting_name('unfreeze')} {unfreeze_limit(arch)}, not {config.unfreeze}.")


# The document's ImageNet normalisation constants (section "Normalization").
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
