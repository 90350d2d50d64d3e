"""Precision: frozen features in bfloat16 on CPUs that compute it natively.

A frozen backbone does not learn, so it does not need float32's 24 bits of mantissa:
*bfloat16* (bf16) keeps float32's range with 8 bits of mantissa, and CPUs with
``avx512_bf16`` or AMX compute it about twice as fast. So leafdl can run the frozen
``model.features`` under ``torch.autocast("cpu", dtype=torch.bfloat16)`` and keep
everything that learns in float32::

    with torch.autocast("cpu", dtype=torch.bfloat16):
        features = model.features(inputs)            # frozen: bf16 is fast and good enough
    pooled = adaptive_avg_pool2d(features.float(), 1).flatten(1)   # back to float32
    outputs = model.classifier(pooled)               # trainable: float32, as always

(:class:`leafdl.frozen_features.FrozenFeatures` runs exactly that, on a copy of the
features with each BatchNorm folded into its convolution.) The loss, the gradients, the optimizer and every saved weight stay float32: ``model.pth``
is the same kind of file either way. On a CPU with ``avx512_bf16`` the frozen
EfficientNet-Lite0 features ran at about 300 img/s in bf16 (folded, bf16 weights) against
155 in float32; a 10-epoch ``leafdl train`` on 1,200 demo leaves took 57 s (105 s of CPU
time) against 102 s (194 s), at best validation accuracy 0.992 against 0.988
(``benchmarks/bench_training.py`` compares them).

The setting (``TrainConfig.precision``, ``leafdl train --precision``):

* ``"auto"`` (default): bf16 frozen features on a CPU with native bf16
  (:func:`leafdl.device.cpu_has_native_bf16`), float32 on other CPUs; on a CUDA GPU the
  usual mixed precision (float16 autocast with a gradient scaler).
* ``"fp32"``: float32 everywhere (also turns CUDA's mixed precision off).
* ``"bf16"``: bf16 frozen features even where the CPU has to emulate bf16 (slower;
  useful to compare). Refused on CUDA and MPS, which have their own fast paths.

Only a *wholly frozen* ``model.features`` runs in bf16. Once fine-tuning unfreezes some
blocks, the whole model runs in float32: bf16 measured no faster there
(31 vs 31 img/s at 320 px with 12 blocks unfrozen), and it keeps the learning exact.

Example:
    >>> import torch
    >>> choice = choose_precision("fp32", torch.device("cpu"))
    >>> choice.name, choice.bf16_features
    ('fp32', False)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from leafdl.config import PRECISIONS
from leafdl.device import cpu_has_native_bf16
from leafdl.errors import OptionError
from leafdl.frozen_features import has_frozen_features


@dataclass(frozen=True)
class Precision:
    """The precision a run uses, and why.

    ``name`` is what ``metadata.json`` records: ``"bf16"`` (bf16 frozen features on a
    CPU), ``"fp32"``, or ``"cuda-amp"`` (float16 autocast on a CUDA GPU).
    """

    name: str
    reason: str

    @property
    def bf16_features(self) -> bool:
        """Run the frozen features in bf16 autocast (CPU only)."""
        return self.name == "bf16"

    @property
    def cuda_amp(self) -> bool:
        """Use CUDA's automatic mixed precision (float16 autocast and a GradScaler)."""
        return self.name == "cuda-amp"

    def describe(self) -> str:
        """One line for the start of a run's log."""
        if self.bf16_features:
            return f"Precision: bf16 for the frozen features, fp32 for what learns ({self.reason})"
        if self.cuda_amp:
            return f"Precision: CUDA mixed precision, float16 autocast ({self.reason})"
        return f"Precision: fp32 ({self.reason})"


def choose_precision(requested: str, device: torch.device) -> Precision:
    """Turn the ``precision`` setting (auto, fp32 or bf16) into what this device will use.

    Raises:
        OptionError: an unknown setting, or ``"bf16"`` on a CUDA or MPS device.
    """
    if requested not in PRECISIONS:
        raise OptionError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}. "
                         "Leave it on auto unless you are comparing speeds.")
    device = torch.device(device)
    if requested == "fp32":
        return Precision("fp32", "asked for")
    if device.type == "cuda":
        if requested == "bf16":
            raise OptionError("precision bf16 is for CPUs. On a CUDA GPU leave it on auto (float16 mixed "
                             "precision, faster) or use fp32.")
        return Precision("cuda-amp", "a CUDA GPU")
    if device.type == "mps":
        if requested == "bf16":
            raise OptionError("precision bf16 is for CPUs. On Apple's GPU (MPS) use auto or fp32.")
        return Precision("fp32", "Apple GPU")
    native = cpu_has_native_bf16()
    if requested == "bf16":
        return Precision("bf16", "asked for" if native else
                         "asked for; this CPU emulates bf16, so expect it to be slower than fp32")
    if native:
        return Precision("bf16", "this CPU computes bf16 natively")
    return Precision("fp32", "this CPU has no native bf16")


def runs_features_in_bf16(model: nn.Module, precision: Precision) -> bool:
    """True when ``model.features`` should run in bf16 now: asked for, and wholly frozen.

    A model without ``.features`` and ``.classifier`` (not built by
    :func:`leafdl.models.build_model`, or wrapped in DistributedDataParallel) always runs
    in float32. :class:`leafdl.frozen_features.FrozenFeatures` runs them.
    """
    return precision.bf16_features and has_frozen_features(model)
