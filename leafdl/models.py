"""Transfer learning: a pretrained backbone, its features frozen, a new classifier on top.

**Transfer learning.** A network trained on ImageNet (1.2 million photos, 1000 classes)
has learnt, in its convolutional *features*, to see edges, textures and shapes. Those
are useful for leaves too, so we keep them and only train a new last layer, the
*classifier*, that maps the 1280 features to our few disease classes. Training is then
fast, and good with a few hundred images. The document's three lines::

    model = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
    for p in model.features.parameters():
        p.requires_grad = False                                    # freeze
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)  # replace

**Two backbones, one shape.** Both give ``.features`` (an ``nn.Sequential`` of blocks),
``.classifier = Sequential(Dropout(0.2), Linear(1280, classes))`` and
``.last_channel = 1280``, so the lines above work unchanged on either:

* ``mobilenet_v2`` -- the document's model (torchvision). Its ImageNet weights must be
  downloaded once (``leafdl weights download``); see :mod:`leafdl.weights`.
* ``efficientnet_lite0`` -- :class:`EfficientNetLite0`, built from timm, with ImageNet
  weights that ship inside a pip package: real transfer learning with no network.

**Depthwise separable convolutions** make both small. A normal 3x3 convolution from
C to C' channels mixes space and channels at once: 9*C*C' weights. A depthwise
separable one splits the job: a 3x3 *depthwise* convolution filters each channel on
its own (9*C weights), then a 1x1 *pointwise* convolution mixes channels (C*C'):
about 8 times fewer weights and operations. Each block of these networks (an
*inverted residual*) expands the channels with a 1x1 conv, filters them depthwise,
projects them back with a 1x1 conv, and adds the block's input when shapes allow.

Example:
    >>> from leafdl.models import build_model, count_parameters
    >>> model, spec = build_model(num_classes=4, verbose=False)
    >>> count_parameters(model).trainable        # only the new classifier learns
    5124
    >>> spec.size
    224
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn
from torchvision import models

from leafdl.config import ARCHITECTURES, IMAGENET_MEAN, IMAGENET_STD
from leafdl.errors import LeafdlError, OptionError
from leafdl.weights import (
    bundled_efficientnet_lite0_path,
    download_mobilenet_v2_weights,
    load_state_dict_file,
    mobilenet_v2_weights_available,
    mobilenet_v2_weights_path,
)


# Seconds build_model waits for download.pytorch.org before giving up (offline: at once).
DOWNLOAD_TIMEOUT_S = 2.0


# --- What the model must be fed -------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    """How images must be prepared for a backbone: the ones it saw on ImageNet.

    A pretrained network only works on inputs like those it was trained on: the same
    size, the same normalisation ``(x - mean) / std`` per RGB channel, the same resizing
    filter. ``leafdl.data`` builds its transforms from this, and the checkpoint stores it
    (``to_dict``) so predictions later prepare photos the same way.

    ``interpolation`` is a name torchvision understands:
    ``transforms.InterpolationMode(spec.interpolation)``.

    Example:
        >>> spec = InputSpec(224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bicubic")
        >>> InputSpec.from_dict(spec.to_dict()) == spec
        True
    """

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"

    def __post_init__(self) -> None:
        # Checked here so that a hand-edited metadata file fails with a clear message.
        if int(self.size) <= 0:
            raise OptionError(f"InputSpec.size must be a positive number of pixels, got {self.size}.")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise OptionError(
                f"InputSpec needs 3 means and 3 stds (R, G, B), got {self.mean} and {self.std}."
            )
        if any(s <= 0 for s in self.std):
            raise OptionError(f"InputSpec.std values must be positive, got {self.std}.")
        if self.interpolation not in ("nearest", "bilinear", "bicubic"):
            raise OptionError(
                f"InputSpec.interpolation must be 'nearest', 'bilinear' or 'bicubic', "
                f"got {self.interpolation!r}."
            )
        # Store plain ints, floats and tuples, whatever was passed (lists from JSON, numpy floats).
        object.__setattr__(self, "size", int(self.size))
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))

    def to_dict(self) -> dict:
        """A JSON-friendly dict (lists, not tuples)."""
        values = asdict(self)
        values["mean"], values["std"] = list(self.mean), list(self.std)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "InputSpec":
        """Rebuild an InputSpec from :meth:`to_dict`'s output."""
        return cls(
            size=values["size"],
            mean=tuple(values["mean"]),
            std=tuple(values["std"]),
            interpolation=values.get("interpolation", "bilinear"),
        )


def input_spec_for(arch: str, img_size: int = 224) -> InputSpec:
    """The :class:`InputSpec` of a backbone (``"mobilenet_v2"`` or ``"efficientnet_lite0"``).

    MobileNetV2 (torchvision) was trained on images normalised with ImageNet's mean and
    std, resized bilinearly. EfficientNet-Lite0 was trained in TensorFlow on pixels
    scaled to [-1, 1], which is mean = std = 0.5, resized bicubically (timm's
    ``pretrained_cfg`` for ``tf_efficientnet_lite0`` says the same).
    """
    if arch == "mobilenet_v2":
        return InputSpec(img_size, IMAGENET_MEAN, IMAGENET_STD, "bilinear")
    if arch == "efficientnet_lite0":
        return InputSpec(img_size, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bicubic")
    raise OptionError(f"Unknown arch {arch!r}: choose one of {', '.join(ARCHITECTURES)}.")


# --- The bundled backbone: EfficientNet-Lite0 -----------------------------------------------

# The bundled file names layers as lukemelas' EfficientNet-PyTorch does; timm names the
# same layers differently. These tables translate, layer by layer.
STEM_AND_HEAD_NAMES = {
    "_conv_stem": "conv_stem",  # 3x3 conv, 3 -> 32 channels, stride 2
    "_bn0": "bn1",
    "_conv_head": "conv_head",  # 1x1 conv, 320 -> 1280 channels
    "_bn1": "bn2",
    "_fc": "classifier",  # Linear(1280, 1000): the ImageNet classes
}
# The first block has no expansion: depthwise conv, then a 1x1 projection.
DEPTHWISE_SEPARABLE_NAMES = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
# Every other block is an inverted residual: 1x1 expand, depthwise, 1x1 project.
INVERTED_RESIDUAL_NAMES = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
# lukemelas numbers the 16 blocks 0..15; timm groups them in 7 stages of these sizes.
LITE0_BLOCKS_PER_STAGE = (1, 2, 2, 3, 3, 4, 1)


def lukemelas_to_timm_key(key: str) -> str:
    """Translate one bundled weight name into timm's ``tf_efficientnet_lite0`` name.

    >>> lukemelas_to_timm_key("_conv_stem.weight")
    'conv_stem.weight'
    >>> lukemelas_to_timm_key("_blocks.3._depthwise_conv.weight")   # block 3 = stage 2, 1st
    'blocks.2.0.conv_dw.weight'
    """
    top, _, rest = key.partition(".")
    if top != "_blocks":
        return f"{STEM_AND_HEAD_NAMES[top]}.{rest}"
    block_number, layer, parameter = rest.split(".", 2)
    position = int(block_number)  # count off whole stages until the block falls inside one
    for stage, size in enumerate(LITE0_BLOCKS_PER_STAGE):
        if position < size:
            break
        position -= size
    else:
        raise KeyError(f"{key}: EfficientNet-Lite0 has only {sum(LITE0_BLOCKS_PER_STAGE)} blocks.")
    names = DEPTHWISE_SEPARABLE_NAMES if stage == 0 else INVERTED_RESIDUAL_NAMES
    return f"blocks.{stage}.{position}.{names[layer]}.{parameter}"


def create_timm_efficientnet_lite0(pretrained: bool = True) -> nn.Module:
    """timm's ``tf_efficientnet_lite0``, with the bundled ImageNet weights when ``pretrained``.

    The ``tf_`` variant copies TensorFlow exactly: "same" padding and BatchNorm eps=1e-3,
    which the weights were trained with. Nothing is downloaded: timm is asked for an
    empty model, and the weights come from the installed package.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never wait on the Hugging Face hub
    import timm  # imported here: it is slow to import and only this backbone needs it

    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    if pretrained:
        bundled = load_state_dict_file(bundled_efficientnet_lite0_path())
        renamed = {lukemelas_to_timm_key(key): value for key, value in bundled.items()}
        net.load_state_dict(renamed, strict=True)  # strict: every weight must find its layer
    return net


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 in torchvision's MobileNetV2 shape, so the document's code runs on it.

    EfficientNet-Lite0 is a small (4.7M parameters) ImageNet network built from the same
    inverted-residual blocks as MobileNetV2, some with 5x5 depthwise filters. "Lite" means
    mobile-friendly: ReLU6, no squeeze-and-excitation. Its ImageNet weights come with
    leafdl's dependencies, so it works offline.

    * ``features``: stem (conv+BN+ReLU6), each of the 16 blocks as its own child, head
      (1x1 conv to 1280 channels + BN + ReLU6): 18 children.
    * ``classifier``: ``Sequential(Dropout(0.2), Linear(1280, 1000))``, ImageNet's classes.
    * ``last_channel``: 1280.

    Example:
        >>> model = EfficientNetLite0()
        >>> for p in model.features.parameters():
        ...     p.requires_grad = False
        >>> model.classifier[1] = nn.Linear(model.last_channel, 4)
    """

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        net = create_timm_efficientnet_lite0(pretrained)
        blocks = [block for stage in net.blocks for block in stage]
        # timm's bn1/bn2 are BatchNormAct2d: a BatchNorm2d with its activation inside.
        self.features = nn.Sequential(
            nn.Sequential(net.conv_stem, net.bn1),
            *blocks,
            nn.Sequential(net.conv_head, net.bn2),
        )
        self.last_channel = net.num_features
        self.classifier = nn.Sequential(nn.Dropout(0.2), net.classifier)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (N, 1280, H/32, W/32)
        x = nn.functional.adaptive_avg_pool2d(x, 1)  # average each feature map: (N, 1280, 1, 1)
        x = torch.flatten(x, 1)  # (N, 1280)
        return self.classifier(x)


# --- The document's backbone: MobileNetV2 ---------------------------------------------------


def create_mobilenet_v2(
    pretrained: bool = True, download_timeout: float = DOWNLOAD_TIMEOUT_S
) -> nn.Module:
    """torchvision's MobileNetV2, with ImageNet weights from the hub cache when ``pretrained``.

    Same result as the document's ``models.mobilenet_v2(weights=...DEFAULT)``, but when
    the weights are missing it tries one quick download, then fails with a message
    that says what to do instead of a long network stack trace.

    Raises:
        WeightsUnavailableError: ``pretrained`` and the weights are neither cached nor downloadable.
    """
    model = models.mobilenet_v2(weights=None)
    if pretrained:
        path = mobilenet_v2_weights_path()
        if not path.is_file():
            path = download_mobilenet_v2_weights(timeout=download_timeout)
        model.load_state_dict(load_state_dict_file(path))
    return model


# --- One function for the course's classifier -----------------------------------------------


def resolve_arch(arch: str = "auto") -> str:
    """Turn ``"auto"`` into a real backbone name; check any other name.

    ``"auto"`` is MobileNetV2 (the document's model) when its ImageNet weights are
    already on this machine, otherwise the bundled EfficientNet-Lite0: never a download.
    """
    if arch == "auto":
        return "mobilenet_v2" if mobilenet_v2_weights_available() else "efficientnet_lite0"
    if arch not in ARCHITECTURES:
        choices = ", ".join(repr(name) for name in ("auto", *ARCHITECTURES))
        raise OptionError(f"Unknown arch {arch!r}: choose one of {choices}.")
    return arch


def build_model(
    num_classes: int,
    *,
    arch: str = "auto",
    pretrained: bool = True,
    freeze: bool = True,
    img_size: int = 224,
    verbose: bool = True,
) -> tuple[nn.Module, InputSpec]:
    """Build the course's classifier: pretrained backbone, frozen features, new classifier.

    Returns the model and the :class:`InputSpec` its inputs must follow. The model also
    carries ``model.arch`` (the backbone's name, "auto" resolved) and ``model.input_spec``,
    so a checkpoint can record what to rebuild.

    Args:
        num_classes: how many classes the new classifier predicts (your class folders).
        arch: ``"mobilenet_v2"``, ``"efficientnet_lite0"`` or ``"auto"`` (see :func:`resolve_arch`).
        pretrained: start from ImageNet weights (transfer learning) or from random ones.
        freeze: freeze ``model.features`` so only the classifier trains.
        img_size: input size in pixels (224 is what both were trained with).
        verbose: print one line saying which backbone was built and why.

    Raises:
        WeightsUnavailableError: ``arch="mobilenet_v2"`` but its weights cannot be had.

    Example:
        >>> model, spec = build_model(num_classes=4, arch="efficientnet_lite0")
        Model: EfficientNet-Lite0 with its bundled ImageNet weights; features frozen; new classifier 1280 -> 4 classes.
    """
    if num_classes < 1:
        raise OptionError(f"num_classes must be at least 1, got {num_classes}: count your class folders.")
    chosen = resolve_arch(arch)

    if chosen == "mobilenet_v2":
        model = create_mobilenet_v2(pretrained)
        source = "ImageNet weights from the torch hub cache"
    else:
        model = EfficientNetLite0(pretrained)
        source = "its bundled ImageNet weights"
        if arch == "auto":
            source += (" (MobileNetV2's weights are not on this machine; "
                       "`leafdl weights download` fetches them)")
    if not pretrained:
        source = "random weights (pretrained=False)"

    if freeze:
        freeze_features(model)
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)

    if verbose:
        name = {"mobilenet_v2": "MobileNetV2", "efficientnet_lite0": "EfficientNet-Lite0"}[chosen]
        training = "features frozen" if freeze else "all layers trainable"
        print(f"Model: {name} with {source}; {training}; "
              f"new classifier {model.last_channel} -> {num_classes} classes.")
    # Remembered on the model, so training can save them in the run's metadata.json.
    model.arch = chosen
    model.input_spec = input_spec_for(chosen, img_size)
    return model, model.input_spec


# --- Freezing, unfreezing, and BatchNorm ----------------------------------------------------

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


class ModelShapeError(LeafdlError, TypeError):
    """A model without the shape leafdl's freezing and fine-tuning expect (``.features``, ``.classifier``)."""


def feature_blocks(model: nn.Module) -> list[nn.Module]:
    """The children of ``model.features``, first to last: the stem, each block, the head."""
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential):
        raise ModelShapeError(
            f"{type(model).__name__} has no `.features` nn.Sequential. leafdl expects the shape "
            "of torchvision's MobileNetV2 (`.features`, `.classifier`); build one with build_model()."
        )
    return list(features.children())


def freeze_features(model: nn.Module) -> None:
    """Freeze the pretrained features: the document's loop.

    ``requires_grad = False`` tells autograd not to compute gradients for these weights,
    so the optimizer never changes them: the ImageNet knowledge is kept, and the backward
    pass is much cheaper. Only the classifier (and anything you unfreeze) learns.
    """
    feature_blocks(model)  # a clear error if the model has no .features
    for p in model.features.parameters():
        p.requires_grad = False


def unfreeze_last_blocks(model: nn.Module, n: int) -> list[str]:
    """Make the last ``n`` children of ``model.features`` trainable again (fine-tuning).

    After the new classifier has learnt, unfreezing the deepest blocks lets them adapt
    their high-level features (leaf spots rather than dog ears) to your data. Use a
    small learning rate for them: they are already good. ``n=0`` unfreezes nothing.

    Returns the names (as in ``model.named_parameters()``) of the parameters in those
    blocks, which are now all trainable.
    """
    blocks = feature_blocks(model)
    if not 0 <= n <= len(blocks):
        raise OptionError(
            f"Cannot unfreeze the last {n} blocks: this model's features have {len(blocks)} "
            f"blocks, so n must be between 0 and {len(blocks)}."
        )
    names = []
    for index in range(len(blocks) - n, len(blocks)):
        for name, p in blocks[index].named_parameters():
            p.requires_grad = True
            names.append(f"features.{index}.{name}")
    return names


def set_train_mode(model: nn.Module) -> nn.Module:
    """``model.train()``, but frozen BatchNorm layers stay in eval mode. Returns the model.

    In train mode a BatchNorm layer normalises with the statistics of the current batch
    and updates its running mean and variance with them, even when its weights are
    frozen: ``requires_grad = False`` stops the optimizer, not this update. So the
    document's ``model.train()`` slowly replaces the ImageNet statistics of the "frozen"
    features with those of your leaf batches, and the classifier trains on features
    that differ from the ones it meets in ``model.eval()``.

    Here every BatchNorm whose parameters are all frozen is put back in eval mode: it
    keeps its ImageNet statistics, and a frozen feature means the same thing in training
    and in evaluation. Unfrozen blocks (see :func:`unfreeze_last_blocks`) train normally.
    Dropout in the classifier stays in train mode.
    """
    model.train()
    for module in model.modules():
        if isinstance(module, BATCH_NORMS):
            own_parameters = list(module.parameters(recurse=False))
            if own_parameters and not any(p.requires_grad for p in own_parameters):
                module.eval()
    return model


class ParameterCounts(NamedTuple):
    """How many numbers the model has, and how many of them training will change."""

    total: int
    trainable: int

    @property
    def frozen(self) -> int:
        return self.total - self.trainable


def count_parameters(model: nn.Module) -> ParameterCounts:
    """Count the model's parameters (weights and biases, not BatchNorm's running statistics).

    Example:
        >>> model, _ = build_model(4, arch="mobilenet_v2", pretrained=False, verbose=False)
        >>> counts = count_parameters(model)
        >>> print(f"{counts.trainable:,} of {counts.total:,} parameters will train")
        5,124 of 2,228,996 parameters will train
    """
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ParameterCounts(total=total, trainable=trainable)
