"""A frozen backbone is a fixed function: run it fast, and only once for images that never change.

While ``model.features`` is wholly frozen (the document's first stage), with its
BatchNorm layers in eval mode (:func:`leafdl.models.set_train_mode`), the features of
an image are the same in every epoch. Two things follow, and :class:`FrozenFeatures`
does both:

* **The validation images never change** (resize, centre crop: no randomness), so
  their features need computing once per stage, not once per epoch. The classifier,
  which does learn, still runs on them every epoch. This is the classic "feature
  extraction" view of transfer learning; on the course's data it saves a fifth of every
  epoch's forward passes, with exactly the same numbers.
* **An eval-mode BatchNorm is a fixed affine map**, ``y = (x - mean) / sqrt(var + eps) *
  weight + bias``, so it can be folded into the convolution before it (new weights
  ``w * scale``, new bias ``(b - mean) * scale + bias``): one pass over the activations
  instead of two. Done on a copy, for bf16 only (:mod:`leafdl.precision`), where the
  numbers already differ from float32 in the third decimal; in float32 the model runs as
  it is, so float32 results stay those of the document's code. The model's own weights,
  which are what gets saved, are never touched.

Fine-tuning unfreezes only the *last* blocks; the first ones stay a fixed function of
the image. :class:`FrozenPrefix` computes the validation pass of such a model with the
frozen blocks' outputs remembered per batch, so each validation epoch runs only the
blocks that learn. At 320 px the first 6 of EfficientNet-Lite0's 18 blocks, at the
highest resolution, take about 70% of a validation forward pass.

Example:
    >>> frozen = FrozenFeatures(model, bf16=False)             # doctest: +SKIP
    >>> outputs = frozen(inputs)                               # the same as model(inputs)
    >>> outputs = frozen(inputs, key=("valid", 0))             # computed once, then remembered
    >>> prefix = FrozenPrefix(model)                           # doctest: +SKIP
    >>> outputs = prefix(inputs, key=0)                        # frozen blocks once, the rest every time
"""

from __future__ import annotations

import copy
from typing import Callable, Hashable

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models import MobileNetV2

from leafdl.errors import OptionError
from leafdl.models import EfficientNetLite0, feature_blocks

# The architectures whose forward is exactly features -> global average pool -> flatten ->
# classifier, which is what FrozenFeatures computes. Recognised by their class, not by their
# attributes: a torchvision DenseNet also has .features and .classifier, but applies a ReLU
# before pooling, so a copy of "features, pool, classifier" would compute something else.
POOLED_ARCHITECTURES: tuple[type[nn.Module], ...] = (MobileNetV2, EfficientNetLite0)

# At most this much memory for the remembered outputs of the frozen blocks (FrozenPrefix):
# 250 KB per image at 320 px for EfficientNet-Lite0 with 12 blocks unfrozen, so about 2,000
# validation images. Batches beyond it are computed every epoch, as without remembering.
PREFIX_MEMORY_BYTES = 512 * 2**20


class RememberedBatches:
    """Per validation batch, a result computed once and reused while the same images come back.

    A batch is known by its ``key`` (its index in the loader) and checked by its shape and
    two sums: a batch that differs is computed afresh. With ``budget_bytes``, results are
    kept only while they fit; later batches are computed every time.
    """

    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = budget_bytes
        self.kept_bytes = 0
        self._results: dict[Hashable, tuple[tuple, torch.Tensor]] = {}

    def get(self, key: Hashable, inputs: torch.Tensor, compute: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """``compute(inputs)``, remembered under ``key`` for these very images."""
        check = _batch_check(inputs)
        remembered = self._results.get(key)
        if remembered is not None and remembered[0] == check:
            return remembered[1]
        result = compute(inputs).detach()
        size = result.element_size() * result.nelement()
        old_size = remembered[1].element_size() * remembered[1].nelement() if remembered is not None else 0
        if self.budget_bytes is None or self.kept_bytes - old_size + size <= self.budget_bytes:
            self._results[key] = (check, result)
            self.kept_bytes += size - old_size
        return result


def fold_batch_norms(features: nn.Module) -> nn.Module:
    """A copy of ``features`` in which every BatchNorm right after a convolution is folded into it.

    Works on torchvision's MobileNetV2 (``Conv2d, BatchNorm2d, ReLU6``) and on timm's
    EfficientNet-Lite0, whose ``BatchNormAct2d`` carries its activation inside: the
    activation stays, the normalisation goes into the convolution. The copy computes what
    ``features`` computes in eval mode (to float32 rounding). ``features`` is unchanged.
    """
    folded = copy.deepcopy(features).eval()
    for parent in folded.modules():
        names = list(parent._modules)
        for conv_name, norm_name in zip(names, names[1:]):
            conv, norm = parent._modules[conv_name], parent._modules[norm_name]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                parent._modules[conv_name] = fuse_conv_bn_eval(conv, norm)
                # timm's BatchNormAct2d applies (drop, act) after normalising; plain BatchNorm2d has neither
                parent._modules[norm_name] = nn.Sequential(getattr(norm, "drop", nn.Identity()),
                                                           getattr(norm, "act", nn.Identity()))
    return folded


class FrozenFeatures:
    """``model(inputs)`` for a model whose ``features`` are frozen, computed as a fixed function.

    ``bf16=True`` runs the features in bf16 on a BatchNorm-folded copy whose weights are
    stored in bf16 (what ``torch.autocast`` would compute, without casting every weight
    in every call); their output is cast back to float32 before the pooling, so the
    classifier and the loss see float32. With a ``key`` (the validation loop passes the batch's index), the pooled
    features of that batch are kept and reused while the same images come back under the
    same key; a batch that differs (checked by its sums) is computed afresh.

    Make a new one whenever the features' weights change (a new stage, weights loaded):
    it copies nothing but the folded bf16 features, and remembers only pooled features
    (5 KB per image).
    """

    def __init__(self, model: nn.Module, bf16: bool = False) -> None:
        if not computes_features_pool_classifier(model):
            raise OptionError(f"FrozenFeatures computes features -> pool -> classifier, which is the forward of "
                              f"{' and '.join(kind.__name__ for kind in POOLED_ARCHITECTURES)} only, not of "
                              f"{type(model).__name__}. Call the model itself.")
        self.model = model
        self.bf16 = bf16
        # In bf16 the copy's weights are stored in bf16 once, not cast by autocast in every call.
        self.features = fold_batch_norms(model.features).to(torch.bfloat16) if bf16 else model.features
        self._pooled = RememberedBatches()

    def __call__(self, inputs: torch.Tensor, key: Hashable | None = None) -> torch.Tensor:
        pooled = self.pooled(inputs) if key is None else self._pooled.get(key, inputs, self.pooled)
        return self.model.classifier(pooled)

    def pooled(self, inputs: torch.Tensor) -> torch.Tensor:
        """The features of ``inputs``, averaged over each feature map: (N, channels), float32.

        The three steps of MobileNetV2's and EfficientNet-Lite0's ``forward`` before the
        classifier: features, global average pooling, flatten.
        """
        features = self.features(inputs.to(torch.bfloat16) if self.bf16 else inputs)
        return torch.flatten(nn.functional.adaptive_avg_pool2d(features.float(), 1), 1)


class FrozenPrefix:
    """The validation pass of a partly unfrozen model, with its frozen first blocks' outputs remembered.

    While fine-tuning trains the last blocks of ``model.features``, the blocks before
    them are frozen (weights fixed, BatchNorm in eval mode: :func:`leafdl.models.set_train_mode`),
    so for the unchanging validation images their outputs are the same in every epoch
    of the stage. With a ``key`` (the validation batch's index) those outputs are
    computed once and kept (up to ``budget_bytes``); the blocks that learn, the pooling
    and the classifier run every time. Without a key it is ``model(inputs)``. The numbers
    are exactly the model's: the same operations on the same tensors, run in the
    caller's precision (under bf16 autocast the remembered outputs are bf16, as they
    would be recomputed). Make a new one for every stage: it assumes the frozen blocks
    do not change while it lives.
    """

    def __init__(self, model: nn.Module, budget_bytes: int = PREFIX_MEMORY_BYTES) -> None:
        if not has_frozen_prefix(model):
            raise OptionError("FrozenPrefix needs a MobileNetV2 or EfficientNet-Lite0 whose first feature blocks "
                              "are frozen and whose last ones learn (leafdl.models.unfreeze_last_blocks).")
        length = frozen_prefix_length(model)
        self.model = model
        self.frozen_blocks = model.features[:length]
        self.learning_blocks = model.features[length:]
        self._outputs = RememberedBatches(budget_bytes)

    def __call__(self, inputs: torch.Tensor, key: Hashable | None = None) -> torch.Tensor:
        if key is None:
            return self.model(inputs)
        frozen = self._outputs.get(key, inputs, self.frozen_blocks)
        features = self.learning_blocks(frozen)
        return self.model.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(features, 1), 1))


def has_frozen_prefix(model: nn.Module) -> bool:
    """True for a model :class:`FrozenPrefix` computes: one FrozenFeatures reproduces, whose
    first feature blocks are frozen and whose last ones learn."""
    return (computes_features_pool_classifier(model)
            and 0 < frozen_prefix_length(model) < len(feature_blocks(model)))


def frozen_prefix_length(model: nn.Module) -> int:
    """How many of ``model.features``' first blocks have no trainable parameter."""
    length = 0
    for block in feature_blocks(model):
        if any(parameter.requires_grad for parameter in block.parameters()):
            break
        length += 1
    return length


def _batch_check(inputs: torch.Tensor) -> tuple:
    """Shape and two sums of a batch: equal for the same images, different for others."""
    sums = torch.stack([inputs.sum(), inputs.abs().sum()]).tolist()
    return (tuple(inputs.shape), *sums)


def computes_features_pool_classifier(model: nn.Module) -> bool:
    """True when ``model``'s forward is exactly what :class:`FrozenFeatures` computes.

    That is torchvision's MobileNetV2 and leafdl's EfficientNetLite0 (``POOLED_ARCHITECTURES``),
    checked by their exact class: a subclass may change ``forward``.
    """
    return type(model) in POOLED_ARCHITECTURES


def has_frozen_features(model: nn.Module) -> bool:
    """True for a model :class:`FrozenFeatures` reproduces whose ``features`` are all frozen."""
    return (computes_features_pool_classifier(model)
            and not any(parameter.requires_grad for parameter in model.features.parameters()))
