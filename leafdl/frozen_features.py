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

Example:
    >>> frozen = FrozenFeatures(model, bf16=False)             # doctest: +SKIP
    >>> outputs = frozen(inputs)                               # the same as model(inputs)
    >>> outputs = frozen(inputs, key=("valid", 0))             # computed once, then remembered
"""

from __future__ import annotations

import copy
from typing import Hashable

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models import MobileNetV2

from leafdl.errors import OptionError
from leafdl.models import EfficientNetLite0

# The architectures whose forward is exactly features -> global average pool -> flatten ->
# classifier, which is what FrozenFeatures computes. Recognised by their class, not by their
# attributes: a torchvision DenseNet also has .features and .classifier, but applies a ReLU
# before pooling, so a copy of "features, pool, classifier" would compute something else.
POOLED_ARCHITECTURES: tuple[type[nn.Module], ...] = (MobileNetV2, EfficientNetLite0)


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
        self._pooled: dict[Hashable, tuple[tuple, torch.Tensor]] = {}

    def __call__(self, inputs: torch.Tensor, key: Hashable | None = None) -> torch.Tensor:
        if key is None:
            return self.model.classifier(self.pooled(inputs))
        check = _batch_check(inputs)
        remembered = self._pooled.get(key)
        if remembered is None or remembered[0] != check:
            remembered = (check, self.pooled(inputs).detach())
            self._pooled[key] = remembered
        return self.model.classifier(remembered[1])

    def pooled(self, inputs: torch.Tensor) -> torch.Tensor:
        """The features of ``inputs``, averaged over each feature map: (N, channels), float32.

        The three steps of MobileNetV2's and EfficientNet-Lite0's ``forward`` before the
        classifier: features, global average pooling, flatten.
        """
        features = self.features(inputs.to(torch.bfloat16) if self.bf16 else inputs)
        return torch.flatten(nn.functional.adaptive_avg_pool2d(features.float(), 1), 1)


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
