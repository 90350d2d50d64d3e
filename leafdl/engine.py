"""The Training Loop, Training vs Evaluation Mode, LR Scheduling and Early Stopping.

The heart of the document's Train.py is two phases per epoch::

    for epoch in range(EPOCHS):
        for phase in ["train", "valid"]:
            model.train() if phase == "train" else model.eval()
            for inputs, labels in loaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
        scheduler.step(valid_accuracy)          # ReduceLROnPlateau
        if valid_accuracy > best: keep a deepcopy of model.state_dict()
        if no improvement for max_patience epochs: stop

:func:`run_phase` is one phase, written exactly like that; :func:`fit` is the whole
run. What ``fit`` adds is what a long run on a real machine needs: loss and accuracy
weighted by samples (a last, smaller batch counts less), a checkpoint after every
epoch so a run can be resumed, Ctrl-C that keeps the best model, mixed precision on
a CUDA GPU, bf16 (frozen features, or autocast while fine-tuning) on a CPU that
computes bf16 natively (:mod:`leafdl.precision`), and ``channels_last`` memory layout, which makes the
convolutions of a CPU forward pass markedly faster.

Example:
    >>> history = fit(model, loaders, TrainConfig(epochs=3), run_dir="runs/demo")  # doctest: +SKIP
    >>> history.valid_acc                                                          # doctest: +SKIP
    [0.71, 0.84, 0.88]
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable

import torch
from torch import nn, optim
from leafdl.progress import tqdm

import leafdl
from leafdl import checkpoint, distributed
from leafdl.config import TrainConfig, setting_name
from leafdl.data import DataLoaders, DatasetError
from leafdl.device import pick_device, tune_cpu_allocator
from leafdl.errors import OptionError
from leafdl.models import feature_blocks, set_train_mode, unfreeze_last_blocks
from leafdl.precision import Computation, Precision, choose_precision, memory_format


@dataclass
class PhaseResult:
    """Loss and accuracy of one pass over a loader, averaged over samples."""

    loss: float
    accuracy: float
    samples: int


class Phase(str, Enum):
    """The two phases of an epoch. ``run_phase`` also takes their values, ``"train"`` and ``"valid"``."""

    TRAIN = "train"
    VALID = "valid"


def as_phase(phase: Phase | str) -> Phase:
    """``phase`` as a :class:`Phase`; anything but train or valid is refused (no silent validation)."""
    try:
        return Phase(phase)
    except ValueError:
        raise OptionError(f"phase must be Phase.TRAIN or Phase.VALID (\"train\" or \"valid\"), not {phase!r}.") from None


def run_phase(
    model: nn.Module,
    loader,
    criterion: nn.Module,
    device: torch.device,
    phase: Phase | str,
    optimizer: optim.Optimizer | None = None,
    *,
    amp: bool = False,
    progress: bool = True,
    description: str = "",
    computation: Computation | None = None,
) -> PhaseResult:
    """One pass over ``loader``: a training phase (``Phase.TRAIN``) or a validation phase (``Phase.VALID``).

    In the training phase the model learns: ``zero_grad`` (PyTorch *adds* new gradients
    to old ones), forward, loss, ``backward``, ``step``. In the validation phase no
    gradients are computed (``torch.set_grad_enabled(False)``), which saves memory and
    time, and the weights do not change.

    Call :func:`leafdl.models.set_train_mode` or ``model.eval()`` before it; :func:`fit`
    does. Loss and accuracy are sums over samples divided by the number of samples, so
    a small last batch does not weigh as much as a full one.

    How the model computes (fp32 or bf16, the frozen-feature fast path, CUDA's mixed
    precision, DistributedDataParallel) is the ``computation``'s to decide
    (:class:`leafdl.precision.Computation`; :func:`fit` builds one per stage). Without
    one, the model runs as written in fp32, or with ``amp=True`` under CUDA's float16
    autocast.
    """
    phase = as_phase(phase)
    training = phase is Phase.TRAIN
    if training and optimizer is None:
        raise OptionError("The training phase needs an optimizer: run_phase(..., Phase.TRAIN, optimizer).")
    if computation is None:
        computation = Computation.plain(model, device, amp=amp)
    elif computation.model is not model:
        raise OptionError("run_phase's computation was built for another model: pass the model it computes.")
    total_loss, total_correct, total_samples = 0.0, 0, 0
    batches = tqdm(loader, desc=description or phase.value, leave=False, disable=not progress, unit="batch")
    for index, (inputs, labels) in enumerate(batches):
        inputs = computation.inputs(inputs)
        labels = labels.to(computation.device, non_blocking=True)
        if training:
            optimizer.zero_grad(set_to_none=True)
        with torch.set_grad_enabled(training), computation.autocast():
            outputs = computation.outputs(inputs, training=training, key=index)
            loss = criterion(outputs, labels)
        if training:
            computation.step(loss, optimizer)
        _, predictions = torch.max(outputs, 1)
        total_loss += loss.item() * inputs.size(0)
        total_correct += (predictions == labels).sum().item()
        total_samples += inputs.size(0)
        batches.set_postfix(loss=f"{total_loss / total_samples:.3f}", acc=f"{total_correct / total_samples:.3f}")
    if total_samples == 0:
        raise DatasetError(f"The {phase.value} loader yielded no images: give it a dataset with images.")
    return PhaseResult(loss=total_loss / total_samples, accuracy=total_correct / total_samples, samples=total_samples)


def combine_processes(result: PhaseResult, device: torch.device) -> PhaseResult:
    """The phase's loss and accuracy over the samples of all processes (under torchrun).

    Each process saw only its shard, so its own accuracy is not the run's. Summing the
    loss sums, correct counts and sample counts over the processes and dividing once
    gives the same numbers as one process that saw every sample. Alone, the result
    comes back unchanged.
    """
    if distributed.world_size() == 1:
        return result
    sums = distributed.all_reduce_sum([result.loss * result.samples, result.accuracy * result.samples,
                                       result.samples], device)
    loss_sum, correct, samples = sums[0], round(sums[1]), round(sums[2])
    return PhaseResult(loss=loss_sum / samples, accuracy=correct / samples, samples=samples)


@dataclass
class EarlyStopping:
    """Stop when the validation accuracy has not improved for ``patience`` epochs.

    >>> stopper = EarlyStopping(patience=2)
    >>> [stopper.step(acc) for acc in (0.80, 0.85, 0.84, 0.83)]
    [True, True, False, False]
    >>> stopper.should_stop
    True
    """

    patience: int = 7
    best: float = -math.inf
    epochs_without_improvement: int = 0

    def step(self, metric: float) -> bool:
        """Record one epoch's metric; return True when it is a new best."""
        if metric > self.best:
            self.best = metric
            self.epochs_without_improvement = 0
            return True
        self.epochs_without_improvement += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.epochs_without_improvement >= self.patience


@dataclass
class History:
    """Everything measured, one entry per epoch, plus how the run ended.

    ``gap`` is the document's overfitting measure, ``train_acc - valid_acc``.
    ``precision`` says what each epoch's forward pass ran in: ``"bf16"`` (frozen features
    in bf16 on a CPU), ``"bf16-autocast"`` (CPU bf16 autocast, weights float32), ``"fp32"``
    or ``"cuda-amp"`` (see :mod:`leafdl.precision`).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    gap: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stage: list[str] = field(default_factory=list)   # "frozen" or "finetune", per epoch
    precision: list[str] = field(default_factory=list)   # "bf16", "bf16-autocast", "fp32" or "cuda-amp"
    best_epoch: int = 0            # 1-based; 0 until the first epoch ends
    best_valid_acc: float = 0.0
    stopped_early: bool = False
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def record(self, train: PhaseResult, valid: PhaseResult, *, lr: float, seconds: float, stage: str,
               precision: str = "fp32") -> None:
        self.train_loss.append(train.loss)
        self.train_acc.append(train.accuracy)
        self.valid_loss.append(valid.loss)
        self.valid_acc.append(valid.accuracy)
        self.lr.append(lr)
        self.gap.append(train.accuracy - valid.accuracy)
        self.seconds.append(seconds)
        self.stage.append(stage)
        self.precision.append(precision)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "History":
        values = dict(values)
        # Checkpoints written before the precision was recorded: say so, per epoch.
        values.setdefault("precision", ["unknown"] * len(values.get("train_loss", [])))
        return cls(**values)


def make_optimizer(model: nn.Module, lr: float) -> optim.Adam:
    """The document's ``optim.Adam(model.classifier.parameters(), lr=0.001)``.

    Only parameters with ``requires_grad=True`` are handed to Adam, which for a frozen
    backbone is exactly the classifier, and for a partly unfrozen one includes the
    unfrozen blocks too.
    """
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if not trainable:
        raise OptionError("The model has no trainable parameters; did you freeze the classifier too?")
    return optim.Adam(trainable, lr=lr)


def make_scheduler(optimizer: optim.Optimizer, config: TrainConfig) -> optim.lr_scheduler.ReduceLROnPlateau:
    """``ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)``, as in the document.

    ``mode="max"`` because it watches validation *accuracy*, where higher is better.
    """
    return optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=config.scheduler_factor, patience=config.scheduler_patience)


def seed_epoch(loaders: DataLoaders, seed: int, epoch: int) -> None:
    """Seed everything random in one epoch (shuffling, augmentation, dropout).

    Seeding per epoch, rather than once per run, makes epoch 5 of a resumed run draw
    the same random numbers as epoch 5 of an uninterrupted one. Under torchrun each
    process draws its own augmentations (the seed moves with the rank; rank 0 draws
    what a single process would), and a ``DistributedSampler`` shuffles with the epoch.
    """
    epoch_seed = seed * 1000 + epoch + 1_000_003 * distributed.rank()
    torch.manual_seed(epoch_seed)
    if loaders.train.generator is not None:
        loaders.train.generator.manual_seed(epoch_seed)
    distributed.set_epoch(loaders.train, epoch)


@dataclass
class Stage:
    """A stretch of training with one set of trainable layers and one optimizer.

    The document's method is a single ``"frozen"`` stage: only the new classifier
    learns. The fine-tuning recipe adds a ``"finetune"`` stage, which starts from the
    best frozen model, unfreezes the last ``config.unfreeze`` blocks of the backbone and
    trains them with a smaller learning rate than the classifier.
    """

    name: str
    epochs: int


def training_stages(config: TrainConfig) -> list[Stage]:
    """The stages a config asks for: frozen, then fine-tuning if ``unfreeze`` > 0."""
    stages = [Stage(name="frozen", epochs=config.epochs)]
    if config.unfreeze > 0 and config.finetune_epochs > 0:
        stages.append(Stage(name="finetune", epochs=config.finetune_epochs))
    return stages


def check_config_for_model(config: TrainConfig, model: nn.Module) -> None:
    """Refuse settings this model cannot honour, before the first epoch: more blocks to unfreeze than it has."""
    if config.unfreeze > 0 and config.finetune_epochs > 0 and config.unfreeze > len(feature_blocks(model)):
        raise OptionError(f"{setting_name('unfreeze')} must be at most {len(feature_blocks(model))}, the blocks "
                          f"of this model's features, not {config.unfreeze}.")


def make_finetune_optimizer(model: nn.Module, config: TrainConfig) -> optim.Adam:
    """Adam with discriminative learning rates: small for the backbone, larger for the head.

    The unfrozen blocks already compute good features, so they only need nudging
    (``config.backbone_lr``); the classifier keeps the document's ``config.lr``. The
    classifier is the *last* parameter group, so ``param_groups[-1]["lr"]`` is its rate.
    """
    head = [p for p in model.classifier.parameters() if p.requires_grad]
    head_ids = {id(p) for p in head}
    backbone = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    return optim.Adam([{"params": backbone, "lr": config.backbone_lr}, {"params": head, "lr": config.lr}])


def prepare_stage(model: nn.Module, stage: Stage, config: TrainConfig):
    """Make the stage's layers trainable and return its optimizer, scheduler and early stopper."""
    if stage.name == "finetune":
        unfreeze_last_blocks(model, config.unfreeze)
        optimizer = make_finetune_optimizer(model, config)
    else:
        optimizer = make_optimizer(model, config.lr)
    return optimizer, make_scheduler(optimizer, config), EarlyStopping(config.max_patience)


@dataclass(kw_only=True)
class _Run:
    """What every epoch of one :func:`fit` call needs, set up once."""

    model: nn.Module
    loaders: DataLoaders
    config: TrainConfig
    device: torch.device
    precision: Precision
    stages: list[Stage]
    run_dir: Path | None          # None: write nothing (and under torchrun, ranks other than 0)
    progress: bool
    log: Callable[[str], None]
    criterion: nn.Module = field(default_factory=nn.CrossEntropyLoss)

    @classmethod
    def set_up(cls, model: nn.Module, loaders: DataLoaders, config: TrainConfig, *, device: torch.device,
               run_dir: str | Path | None, progress: bool, log: Callable[[str], None]) -> "_Run":
        """The run's settings, checked against the model, and what this process does (under torchrun)."""
        check_config_for_model(config, model)
        return cls(model=model, loaders=loaders, config=config, device=device,
                   precision=choose_precision(config.precision, device), stages=training_stages(config),
                   run_dir=Path(run_dir) if run_dir is not None and distributed.is_main() else None,
                   progress=progress and distributed.is_main(), log=distributed.main_only(log))

    @property
    def total_epochs(self) -> int:
        return sum(stage.epochs for stage in self.stages)


def fit(
    model: nn.Module,
    loaders: DataLoaders,
    config: TrainConfig | None = None,
    *,
    device: torch.device | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[int, History], None] | None = None,
    log: Callable[[str], None] = print,
    tune_allocator: bool = True,
) -> History:
    """Train ``model`` as Train.py does and return the :class:`History`.

    Each epoch is a training phase and a validation phase (:func:`run_phase`); then
    the scheduler sees the validation accuracy, the best weights so far are kept (a
    ``copy.deepcopy`` of the state_dict, since the live one keeps changing), and early
    stopping may end the run. At the end, the best weights are loaded back into
    ``model``: you get the best model, not the last one. With ``config.unfreeze`` and
    ``config.finetune_epochs`` set, a fine-tuning stage follows the frozen one (:class:`Stage`).

    With ``run_dir``, the best model and its metadata (``model.pth``,
    ``metadata.json``) and a resumable ``last.ckpt`` are written after every epoch;
    ``resume=True`` continues from ``last.ckpt``, in whichever stage it stopped.
    ``config.precision`` picks float32 or bf16 (:mod:`leafdl.precision`).
    Ctrl-C stops cleanly, keeping the best model so far. ``on_epoch_end(epoch, history)``
    is called after each epoch (the notebooks use it to draw live curves).

    On a CPU, ``tune_allocator`` calls :func:`leafdl.device.tune_cpu_allocator`, a
    setting of the whole process (glibc keeps freed memory for the next batch); pass
    ``False`` to leave your process's allocator as it is.

    Under torchrun (see :mod:`leafdl.distributed`) pass each process its shard
    (:func:`leafdl.distributed.shard_loaders`): the model is wrapped in
    ``DistributedDataParallel`` for each stage, the metrics are summed over all
    processes, and only rank 0 logs and writes ``run_dir``.
    """
    device = device or pick_device()
    run = _Run.set_up(model, loaders, config or TrainConfig(), device=device, run_dir=run_dir, progress=progress,
                      log=log)
    _ready_for_device(model, device, tune_allocator)
    if run_dir is not None:
        checkpoint.remove_stale_run_temporaries(run_dir)   # left by a run killed mid-write
    saved = _training_state_to_resume(run, run_dir) if resume else None
    history = History.from_dict(saved.history) if saved else History()
    best_state = saved.best_model if saved else copy.deepcopy(model.state_dict())
    first_stage = len(run.stages) if saved and saved.finished else (saved.stage_index if saved else 0)

    try:
        for stage_index in range(first_stage, len(run.stages)):
            continuing = saved if saved is not None and stage_index == saved.stage_index else None
            current = _start_stage(run, stage_index, continuing, best_state)
            for stage_epoch in range(continuing.stage_epoch if continuing else 0, current.stage.epochs):
                if current.stopper.should_stop:
                    break
                best_state = _epoch(run, history, current, stage_epoch=stage_epoch, best_state=best_state)
                if on_epoch_end is not None:
                    on_epoch_end(history.epochs - 1, history)
    except KeyboardInterrupt:
        history.interrupted = True
        run.log(f"Interrupted after {history.epochs} epoch(s): keeping the best model so far "
                f"(epoch {history.best_epoch}).")

    model.load_state_dict(best_state)
    if run.run_dir is not None and history.epochs:
        # The metadata's history now covers every epoch, not only those up to the best.
        checkpoint.save_metadata(run.run_dir, _metadata(run, history))
    return history


def _arch(model: nn.Module) -> str:
    return getattr(model, "arch", type(model).__name__)


def _ready_for_device(model: nn.Module, device: torch.device, tune_allocator: bool) -> None:
    """Move the model, in the memory layout and with the settings that are fastest there.

    ``channels_last`` makes CPU (and CUDA) convolutions markedly faster; on a CPU, if
    asked, glibc keeps one batch's memory for the next (:func:`tune_cpu_allocator`); on
    CUDA, cuDNN picks its fastest kernels once for the fixed image size.
    """
    if device.type == "cpu" and tune_allocator:
        tune_cpu_allocator()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model.to(device, memory_format=memory_format(device))


def _training_state_to_resume(run: _Run, run_dir: str | Path | None) -> checkpoint.TrainingState:
    """``last.ckpt``, checked against this run; says where training resumes."""
    if run_dir is None:
        raise OptionError("resume=True needs the run_dir to resume from.")
    saved = checkpoint.load_training_state(run_dir, classes=run.loaders.classes, arch=_arch(run.model),
                                           config=run.config.to_dict(), world_size=distributed.world_size())
    history = History.from_dict(saved.history)
    run.log(f"Resuming after epoch {history.epochs} of {run.total_epochs} "
            f"(best valid acc so far {history.best_valid_acc:.3f}).")
    if saved.finished:
        run.log("That run had already finished; nothing more to train.")
    return saved


@dataclass(kw_only=True)
class _StageState:
    """One stage under way: its trainable layers' optimizer, scheduler and early stopper, and how it computes."""

    index: int
    stage: Stage
    optimizer: optim.Optimizer
    scheduler: optim.lr_scheduler.ReduceLROnPlateau
    stopper: EarlyStopping
    computation: Computation              # precision, fast path, DDP wrapper, GradScaler: decided once
    is_last: bool                         # the run's last stage


def _start_stage(run: _Run, index: int, continuing: checkpoint.TrainingState | None, best_state: dict) -> _StageState:
    """Make the stage's layers trainable and build its optimizer, scheduler and early stopper.

    A resumed stage continues exactly where ``last.ckpt`` left it; a fine-tuning stage
    starts from the best frozen model.
    """
    stage = run.stages[index]
    optimizer, scheduler, stopper = prepare_stage(run.model, stage, run.config)
    if continuing is not None:
        checkpoint.load_weights(run.model, continuing.model, source="training checkpoint")
        optimizer.load_state_dict(continuing.optimizer)
        scheduler.load_state_dict(continuing.scheduler)
        stopper = EarlyStopping(**continuing.early_stopping)
    elif stage.name == "finetune":
        run.model.load_state_dict(best_state)   # fine-tune from the best frozen model
    # Built once the weights are in place: in bf16 it computes with a folded copy of the features.
    computation = Computation.for_stage(run.model, run.device, run.precision,
                                        train_model=distributed.wrap_model(run.model, run.device))
    if computation.scaler is not None and continuing is not None and continuing.scaler:
        computation.scaler.load_state_dict(continuing.scaler)
    if continuing is None and stage.name == "finetune":
        run.log(f"Fine-tuning: the last {run.config.unfreeze} backbone blocks are unfrozen "
                f"(lr {run.config.backbone_lr:g}); the classifier keeps lr {run.config.lr:g}."
                + (" They compute under bf16 autocast; the weights stay fp32."
                   if computation.precision.bf16_autocast else ""))
    return _StageState(index=index, stage=stage, optimizer=optimizer, scheduler=scheduler, stopper=stopper,
                       computation=computation, is_last=index == len(run.stages) - 1)


def _epoch(run: _Run, history: History, current: _StageState, *, stage_epoch: int, best_state: dict) -> dict:
    """One epoch of the document's loop; returns the best weights so far.

    Train and validate, step the scheduler on the validation accuracy, record the epoch,
    keep a deep copy of the weights if they are the best yet, count towards early
    stopping, and (with a run folder) save the best model and ``last.ckpt``.
    """
    epoch, started = history.epochs, time.perf_counter()   # epoch: 0-based, over the whole run
    train, valid, precision = _train_and_validate(run, current, epoch)
    lr = current.optimizer.param_groups[-1]["lr"]   # the classifier's rate this epoch
    current.scheduler.step(valid.accuracy)
    history.record(train, valid, lr=lr, seconds=time.perf_counter() - started, stage=current.stage.name,
                   precision=precision)
    current.stopper.step(valid.accuracy)   # counts this stage's epochs without improvement
    improved = history.best_epoch == 0 or valid.accuracy > history.best_valid_acc
    if improved:
        best_state = copy.deepcopy(run.model.state_dict())
        history.best_epoch, history.best_valid_acc = epoch + 1, valid.accuracy
    history.stopped_early = history.stopped_early or current.stopper.should_stop
    run.log(f"Epoch {epoch + 1:>2}/{run.total_epochs}  train loss {train.loss:.4f} acc {train.accuracy:.3f}  "
            f"valid loss {valid.loss:.4f} acc {valid.accuracy:.3f}  lr {lr:.2g}" + ("  *best*" if improved else ""))
    if run.run_dir is not None:
        if improved:
            checkpoint.save_model(run.run_dir, best_state, _metadata(run, history))
        finished = current.is_last and (stage_epoch + 1 == current.stage.epochs or current.stopper.should_stop)
        scaler = current.computation.scaler
        checkpoint.TrainingState(
            stage_index=current.index, stage_epoch=stage_epoch + 1, finished=finished, arch=_arch(run.model),
            classes=run.loaders.classes, model=run.model.state_dict(), optimizer=current.optimizer.state_dict(),
            scheduler=current.scheduler.state_dict(), scaler=scaler.state_dict() if scaler else {},
            early_stopping=asdict(current.stopper), history=history.to_dict(), best_model=best_state,
            config=run.config.to_dict(), world_size=distributed.world_size()).save(run.run_dir)
    if current.stopper.should_stop:
        run.log(f"Max patience reached - Stopping {current.stage.name} stage "
                f"(no improvement for {run.config.max_patience} epochs).")
    return best_state


def _train_and_validate(run: _Run, current: _StageState, epoch: int) -> tuple[PhaseResult, PhaseResult, str]:
    """A training phase, then a validation phase; returns both and the precision they ran in.

    Under torchrun the training phase runs through the DistributedDataParallel wrapper
    and the results are summed over every process.
    """
    model, loaders, computation = run.model, run.loaders, current.computation
    description = f"Epoch {epoch + 1}/{run.total_epochs}"
    seed_epoch(loaders, run.config.seed, epoch)
    set_train_mode(computation.train_model)
    train = run_phase(model=model, loader=loaders.train, criterion=run.criterion, device=run.device,
                      phase=Phase.TRAIN, optimizer=current.optimizer, progress=run.progress,
                      description=f"{description} train", computation=computation)
    distributed.broadcast_buffers(model)   # under torchrun: rank 0's BatchNorm statistics
    model.eval()
    valid = run_phase(model=model, loader=loaders.valid, criterion=run.criterion, device=run.device,
                      phase=Phase.VALID, progress=run.progress, description=f"{description} valid",
                      computation=computation)
    return (combine_processes(train, run.device), combine_processes(valid, run.device),
            computation.precision.name)


def _metadata(run: _Run, history: History) -> dict:
    return build_metadata(run.model, classes=run.loaders.classes, config=run.config, history=history,
                          precision=run.precision, world_size=distributed.world_size())


def build_metadata(model: nn.Module, *, classes: list[str], config: TrainConfig, history: History,
                   precision: Precision | None = None, world_size: int = 1) -> dict:
    """The ``metadata.json`` of a run: everything needed to use and judge the model.

    Its ``precision`` is what the first, frozen-features epochs ran in (``"bf16"``,
    ``"bf16-autocast"``, ``"fp32"`` or ``"cuda-amp"``); ``history["precision"]`` has every epoch's, and the
    best epoch's is how the model is used later (:meth:`leafdl.precision.Computation.for_evaluation`).
    """
    spec = getattr(model, "input_spec", None)
    return {
        "arch": _arch(model),
        "classes": list(classes),
        "input": spec.to_dict() if spec is not None else {"size": config.img_size},
        "hyperparameters": config.to_dict(),
        # What the first (frozen-features) epochs ran in; history["precision"] has every epoch's.
        "precision": history.precision[0] if history.precision else (precision.name if precision else "fp32"),
        "best_epoch": history.best_epoch,
        "best_valid_acc": history.best_valid_acc,
        "best_train_acc": history.train_acc[history.best_epoch - 1] if history.best_epoch else None,
        "epochs_trained": history.epochs,
        "stopped_early": history.stopped_early,
        "world_size": world_size,                                  # processes that trained together
        "global_batch_size": config.batch_size * world_size,       # images per optimizer step
        "history": history.to_dict(),
        "versions": {"leafdl": leafdl.__version__, "torch": torch.__version__},
    }
