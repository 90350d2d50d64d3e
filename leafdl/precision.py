"""Precision: bfloat16 where the CPU computes it natively, float32 for every weight that learns.

*bfloat16* (bf16) keeps float32's range with 8 bits of mantissa instead of 24, and
CPUs with ``avx512_bf16`` or AMX compute it about twice as fast. A network's forward
and backward passes do not need float32's precision; the weights, which add up
millions of small updates, do. So on such a CPU leafdl computes in bf16 and keeps
every weight, gradient and optimizer state in float32, in one of two ways:

* **Frozen features** (the document's method): the frozen ``model.features`` is a fixed
  function, so :class:`leafdl.frozen_features.FrozenFeatures` runs a copy of it with each
  BatchNorm folded into its convolution and its weights stored in bf16; the pooled
  features go back to float32 for the classifier, which learns in float32::

      features = folded_bf16_features(inputs.bfloat16())             # frozen: bf16 is fast and good enough
      pooled = adaptive_avg_pool2d(features.float(), 1).flatten(1)   # back to float32
      outputs = model.classifier(pooled)                              # trainable: float32

  On a CPU with ``avx512_bf16`` the frozen EfficientNet-Lite0 features ran at about 300
  img/s in bf16 against 155 in float32; a 10-epoch ``leafdl train`` on 1,200 demo leaves
  took 57 s against 102 s, at best validation accuracy 0.992 against 0.988
  (``benchmarks/bench_training.py``). The precision name is ``"bf16"``.
* **Fine-tuning** (some blocks learn; also any stage under torchrun, and models whose
  forward FrozenFeatures does not reproduce): PyTorch's automatic mixed precision,
  ``torch.autocast("cpu", dtype=torch.bfloat16)``. Inside it each convolution and
  matrix product casts its inputs and the float32 weights to bf16 and computes in bf16;
  the weights themselves stay float32, so backward gives float32 gradients and Adam
  updates float32 weights. The logits are cast back to float32 before the loss::

      with torch.autocast("cpu", dtype=torch.bfloat16):
          outputs = model(inputs).float()      # convolutions in bf16, weights still float32
          loss = criterion(outputs, labels)
      loss.backward()                          # float32 gradients for float32 weights
      optimizer.step()

  The precision name is ``"bf16-autocast"``. One training step of EfficientNet-Lite0 at
  320 px, batch 32, with 12 blocks unfrozen ran at 19.7 img/s under bf16 autocast against
  12.6 in float32 (1.56x; a validation forward 52.0 against 25.9) on a 2-core AMD EPYC
  with ``avx512_bf16``; on a CPU without it, the same step is several times *slower*
  than float32. ``benchmarks/bench_finetune.py --steps`` measures both on yours.

In both, the loss, the gradients, the optimizer and every saved weight are float32:
``model.pth`` and ``last.ckpt`` are the same kind of file either way, and a run can be
resumed in another precision (each epoch's is recorded). Without native bf16 a CPU
*emulates* it, several times slower than float32, so ``auto`` does not choose it there.

The setting (``TrainConfig.precision``, ``leafdl train --precision``):

* ``"auto"`` (the command line's default): bf16 as above on a CPU with native bf16
  (:func:`leafdl.device.cpu_has_native_bf16`), float32 on other CPUs; on a CUDA GPU the
  usual mixed precision (float16 autocast with a gradient scaler, ``"cuda-amp"``).
* ``"fp32"``: float32 everywhere (also turns CUDA's mixed precision off). ``TrainConfig``'s
  default, so that a notebook gives the same numbers on every machine.
* ``"bf16"``: bf16 even where the CPU has to emulate it (slower; useful to compare).
  Refused on CUDA and MPS, which have their own fast paths.

**One object decides how a model computes.** :class:`Computation` is built once per
training stage (:meth:`Computation.for_stage`), once for a run's final evaluation and once
for prediction (:meth:`Computation.for_evaluation`), and everything that runs a model
asks it: :func:`leafdl.engine.run_phase`, :func:`leafdl.metrics.collect_predictions`
(``report.txt``) and :class:`leafdl.predict.Predictor` (``leafdl predict``). The rules:

* a training stage on a bf16 CPU runs the folded bf16 features while ``model.features``
  is wholly frozen in a model FrozenFeatures reproduces and the model is not wrapped in
  torchrun's DistributedDataParallel (whose own forward must run, so that gradients are
  averaged), and bf16 autocast otherwise; elsewhere fp32 (or CUDA's mixed precision);
* its validation pass computes what stays fixed only once per stage: the pooled
  features while they are wholly frozen, the frozen first blocks' outputs while the
  last blocks are fine-tuned (:class:`leafdl.frozen_features.FrozenPrefix`);
* a trained model is evaluated and used *as its best epoch was validated*: the run
  records each epoch's precision, and bf16 (or CUDA's mixed precision) is used again
  only where that epoch used it and the setting allows it here. So ``report.txt`` and
  ``leafdl predict`` give the same probabilities.

Example:
    >>> import torch
    >>> choice = choose_precision("fp32", torch.device("cpu"))
    >>> choice.name, choice.bf16_features
    ('fp32', False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import torch
from torch import nn, optim

from leafdl.config import PRECISIONS
from leafdl.device import cpu_has_native_bf16
from leafdl.errors import OptionError
from leafdl.frozen_features import (FrozenFeatures, FrozenPrefix, computes_features_pool_classifier,
                                    has_frozen_features, has_frozen_prefix)


@dataclass(frozen=True)
class Precision:
    """The precision a run uses, and why.

    ``name`` is what ``metadata.json`` records: ``"bf16"`` (bf16 frozen features on a
    CPU; as a setting chosen for a run, bf16 on this CPU in whichever form fits each
    stage), ``"bf16-autocast"`` (a stage under CPU bf16 autocast), ``"fp32"``, or
    ``"cuda-amp"`` (float16 autocast on a CUDA GPU).
    """

    name: str
    reason: str

    @property
    def bf16_features(self) -> bool:
        """Run the frozen features in bf16 autocast (CPU only)."""
        return self.name == "bf16"

    @property
    def bf16_autocast(self) -> bool:
        """Run the whole forward under CPU bf16 autocast, weights and gradients float32."""
        return self.name == "bf16-autocast"

    @property
    def cuda_amp(self) -> bool:
        """Use CUDA's automatic mixed precision (float16 autocast and a GradScaler)."""
        return self.name == "cuda-amp"

    def describe(self, processes: int = 1) -> str:
        """One line for the start of a run's log; under torchrun (``processes`` > 1) bf16 is autocast throughout."""
        if self.bf16_features:
            computing = ("bf16 autocast" if processes > 1 else
                         "bf16 for the frozen features, bf16 autocast while fine-tuning")
            return f"Precision: {computing}; weights, gradients and optimizer in fp32 ({self.reason})"
        if self.bf16_autocast:
            return f"Precision: bf16 autocast; weights, gradients and optimizer in fp32 ({self.reason})"
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


def validated_in(precisions: Sequence[str], best_epoch: int) -> str:
    """The precision the best epoch was validated in, from a run's history ("fp32" if unknown)."""
    return precisions[best_epoch - 1] if 0 < best_epoch <= len(precisions) else "fp32"


def memory_format(device: torch.device) -> torch.memory_format:
    """``channels_last`` (markedly faster convolutions on CPUs and CUDA), except on Apple's MPS."""
    return torch.channels_last if torch.device(device).type != "mps" else torch.contiguous_format


class Computation:
    """How one model turns a batch into outputs (and a loss into a step), decided once.

    ``precision`` is what it computes in. ``train_model`` is what the training phase
    calls (torchrun's DistributedDataParallel wrapper, else the model itself). With
    ``fast_path``, the model's outputs come from
    :class:`~leafdl.frozen_features.FrozenFeatures`: the same numbers as the model in
    fp32, its BatchNorm-folded copy in bf16, and in the validation phase each batch's
    features remembered for the next epochs. With ``remember_frozen_blocks`` (a
    fine-tuning stage), the validation phase goes through
    :class:`~leafdl.frozen_features.FrozenPrefix`. Build one with :meth:`plain`,
    :meth:`for_stage` or :meth:`for_evaluation`, which hold the rules.
    """

    def __init__(self, model: nn.Module, device: torch.device, precision: Precision, *,
                 train_model: nn.Module | None = None, fast_path: bool = False,
                 remember_frozen_blocks: bool = False) -> None:
        self.model = model
        self.device = torch.device(device)
        self.precision = precision
        self.train_model = model if train_model is None else train_model
        self.memory_format = memory_format(self.device)
        self.frozen = FrozenFeatures(model, bf16=precision.bf16_features) if fast_path else None
        self.frozen_prefix = FrozenPrefix(model) if remember_frozen_blocks else None
        self.scaler = torch.amp.GradScaler("cuda") if precision.cuda_amp else None

    @classmethod
    def plain(cls, model: nn.Module, device: torch.device, *, amp: bool = False) -> "Computation":
        """``model(inputs)`` as written, in fp32; ``amp=True``: CUDA's float16 autocast."""
        if amp and torch.device(device).type != "cuda":
            raise OptionError("amp is CUDA's mixed precision; on this device leave it off "
                              "(on a CPU, leafdl.precision's bf16 is the fast choice).")
        return cls(model, device, Precision("cuda-amp", "asked for") if amp else Precision("fp32", "asked for"))

    @classmethod
    def for_stage(cls, model: nn.Module, device: torch.device, chosen: Precision, *,
                  train_model: nn.Module | None = None) -> "Computation":
        """How a training stage computes: ``chosen`` (:func:`choose_precision`), narrowed by the rules.

        With bf16 chosen: the folded bf16 features while ``model.features`` is wholly
        frozen in a model FrozenFeatures reproduces and ``train_model`` is not a
        DistributedDataParallel wrapper (its own forward must run, so that gradients are
        averaged); bf16 autocast otherwise. The validation pass remembers what is fixed
        for the stage: the pooled features, or the frozen first blocks' outputs.
        """
        fast_path = has_frozen_features(model)
        wrapped = train_model is not None and train_model is not model
        precision = chosen
        if chosen.bf16_features and (wrapped or not fast_path):
            reason = ("under torchrun" if wrapped else
                      "the features learn" if computes_features_pool_classifier(model) else
                      "folded bf16 features only for a forward it reproduces: features, pool, classifier")
            precision = Precision("bf16-autocast", reason)
        return cls(model, device, precision, train_model=train_model, fast_path=fast_path,
                   remember_frozen_blocks=has_frozen_prefix(model))

    @classmethod
    def for_evaluation(cls, model: nn.Module, device: torch.device, chosen: Precision, *,
                       validated: str) -> "Computation":
        """How a trained model is evaluated and used: as its best epoch was ``validated``, where ``chosen`` allows.

        ``validated`` is that epoch's precision (:func:`validated_in`). bf16 (folded
        features or autocast) or CUDA's mixed precision is used only when it is both what
        the epoch used and what ``chosen`` allows here; otherwise fp32. The run's report and
        ``leafdl predict`` both come from here.
        """
        if validated == "bf16-autocast" and chosen.bf16_features:
            return cls(model, device, Precision("bf16-autocast", "as its best epoch was validated"))
        same = chosen.name == validated and (not chosen.bf16_features or computes_features_pool_classifier(model))
        precision = chosen if same else Precision("fp32", f"its best epoch was validated in {validated}")
        return cls(model, device, precision, fast_path=precision.bf16_features)

    def inputs(self, batch: torch.Tensor) -> torch.Tensor:
        """A batch of images moved to the device, in the memory layout the model computes fastest in."""
        layout = self.memory_format if batch.dim() == 4 else torch.preserve_format   # channels_last: images only
        return batch.to(self.device, non_blocking=True, memory_format=layout)

    def autocast(self) -> torch.autocast:
        """The autocast the precision asks for: CPU bf16 (``"bf16-autocast"``), CUDA float16
        (``"cuda-amp"``), or none (does nothing)."""
        if self.precision.bf16_autocast:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return torch.autocast(self.device.type, enabled=self.precision.cuda_amp)

    def outputs(self, inputs: torch.Tensor, *, training: bool, key: Hashable | None = None) -> torch.Tensor:
        """The model's outputs (logits, float32) for a prepared batch; call it inside :meth:`autocast`.

        In the validation phase, ``key`` (the batch's index) lets the fast path remember
        what stays fixed for the next epochs (FrozenFeatures, FrozenPrefix).
        """
        if training and self.train_model is not self.model:
            outputs = self.train_model(inputs)           # DDP's forward: it averages the gradients
        elif self.frozen is not None:
            outputs = self.frozen(inputs, key=None if training else key)
        elif self.frozen_prefix is not None and not training and key is not None:
            outputs = self.frozen_prefix(inputs, key=key)
        else:
            outputs = self.model(inputs)
        return outputs.float()   # under autocast the logits are bf16 or float16: the loss in float32

    def step(self, loss: torch.Tensor, optimizer: optim.Optimizer) -> None:
        """``loss.backward()`` and ``optimizer.step()``; with CUDA's mixed precision, through the GradScaler."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    @torch.no_grad()
    def probabilities(self, batch: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities (float32, on the CPU) for a batch of images, the model in eval mode."""
        self.model.eval()
        with self.autocast():
            outputs = self.outputs(self.inputs(batch), training=False)
        return torch.softmax(outputs.float(), dim=1).cpu()
