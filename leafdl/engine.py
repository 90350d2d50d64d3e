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
a CUDA GPU, bf16 frozen features on a CPU that computes bf16 natively
(:mod:`leafdl.precision`), and ``channels_last`` memory layout, which makes the
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
from pathlib import Path
from typing import Callable

import torch
from torch import nn, optim
from tqdm.auto import tqdm

from leafdl import distributed
from leafdl.config import TrainConfig
from leafdl.data import DataLoaders
from leafdl.device import pick_device, tune_cpu_allocator
from leafdl.precision import Precision, choose_precision, forward, runs_features_in_bf16


@dataclass
class PhaseResult:
    """Loss and accuracy of one pass over a loader, averaged over samples."""

    loss: float
    accuracy: float
    samples: int


def run_phase(
    model: nn.Module,
    loader,
    criterion: nn.Module,
    device: torch.device,
    phase: str,
    optimizer: optim.Optimizer | None = None,
    amp: bool = False,
    scaler: torch.amp.GradScaler | None = None,
    progress: bool = True,
    description: str = "",
    bf16_features: bool = False,
) -> PhaseResult:
    """One pass over ``loader``: a training phase (``phase="train"``) or a validation phase.

    In the training phase the model learns: ``zero_grad`` (PyTorch *adds* new gradients
    to old ones), forward, loss, ``backward``, ``step``. In the validation phase no
    gradients are computed (``torch.set_grad_enabled(False)``), which saves memory and
    time, and the weights do not change.

    Call :func:`leafdl.models.set_train_mode` or ``model.eval()`` before it; :func:`fit`
    does. Loss and accuracy are sums over samples divided by the number of samples, so
    a small last batch does not weigh as much as a full one.

    ``amp`` turns on CUDA's float16 autocast; ``bf16_features`` runs the frozen
    ``model.features`` in bf16 on a CPU (:func:`leafdl.precision.forward`).
    """
    training = phase == "train"
    if training and optimizer is None:
        raise ValueError("The training phase needs an optimizer.")
    memory_format = torch.channels_last if device.type != "mps" else torch.contiguous_format
    total_loss, total_correct, total_samples = 0.0, 0, 0
    batches = tqdm(loader, desc=description or phase, leave=False, disable=not progress, unit="batch")
    for inputs, labels in batches:
        inputs = inputs.to(device, non_blocking=True, memory_format=memory_format)
        labels = labels.to(device, non_blocking=True)
        if training:
            optimizer.zero_grad(set_to_none=True)
        with torch.set_grad_enabled(training), torch.autocast(device.type, enabled=amp):
            outputs = forward(model, inputs, bf16_features)
            loss = criterion(outputs, labels)
        if training:
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
        _, predictions = torch.max(outputs, 1)
        total_loss += loss.item() * inputs.size(0)
        total_correct += (predictions == labels).sum().item()
        total_samples += inputs.size(0)
        batches.set_postfix(loss=f"{total_loss / total_samples:.3f}", acc=f"{total_correct / total_samples:.3f}")
    if total_samples == 0:
        raise ValueError(f"The {phase} loader yielded no images.")
    return PhaseResult(total_loss / total_samples, total_correct / total_samples, total_samples)


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
    return PhaseResult(loss_sum / samples, correct / samples, samples)


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
    in bf16 on a CPU), ``"fp32"`` or ``"cuda-amp"`` (see :mod:`leafdl.precision`).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    gap: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stage: list[str] = field(default_factory=list)   # "frozen" or "finetune", per epoch
    precision: list[str] = field(default_factory=list)   # "bf16", "fp32" or "cuda-amp", per epoch
    best_epoch: int = 0            # 1-based; 0 until the first epoch ends
    best_valid_acc: float = 0.0
    stopped_early: bool = False
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def record(self, train: PhaseResult, valid: PhaseResult, lr: float, seconds: float, stage: str,
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
        raise ValueError("The model has no trainable parameters; did you freeze the classifier too?")
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
    stages = [Stage("frozen", config.epochs)]
    if config.unfreeze > 0 and config.finetune_epochs > 0:
        stages.append(Stage("finetune", config.finetune_epochs))
    return stages


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
    from leafdl.models import unfreeze_last_blocks

    if stage.name == "finetune":
        unfreeze_last_blocks(model, config.unfreeze)
        optimizer = make_finetune_optimizer(model, config)
    else:
        optimizer = make_optimizer(model, config.lr)
    return optimizer, make_scheduler(optimizer, config), EarlyStopping(config.max_patience)


def fit(
    model: nn.Module,
    loaders: DataLoaders,
    config: TrainConfig | None = None,
    device: torch.device | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[int, History], None] | None = None,
    log: Callable[[str], None] = print,
) -> History:
    """Train ``model`` as Train.py does and return the :class:`History`.

    Each epoch is a training phase and a validation phase (:func:`run_phase`); then
    the scheduler sees the validation accuracy, the best weights so far are kept (a
    ``copy.deepcopy`` of the state_dict, since the live one keeps changing), and early
    stopping may end the run. At the end, the best weights are loaded back into
    ``model``: you get the best model, not the last one.

    With ``config.unfreeze`` and ``config.finetune_epochs`` set, a fine-tuning stage
    follows the frozen one (see :class:`Stage`).

    With ``run_dir``, the best model and its metadata (``model.pth``,
    ``metadata.json``) and a resumable ``last.ckpt`` are written after every epoch;
    ``resume=True`` continues from ``last.ckpt``, in whichever stage it stopped.
    ``config.precision`` picks float32 or bf16 frozen features (:mod:`leafdl.precision`).
    Ctrl-C stops cleanly, keeping the best model so far. ``on_epoch_end(epoch, history)``
    is called after each epoch (the notebooks use it to draw live curves).

    Under torchrun (see :mod:`leafdl.distributed`) pass each process its shard
    (:func:`leafdl.distributed.shard_loaders`): the model is wrapped in
    ``DistributedDataParallel`` for each stage, the metrics are summed over all
    processes, and only rank 0 logs and writes ``run_dir``.
    """
    from leafdl import checkpoint
    from leafdl.models import set_train_mode

    config = config or TrainConfig()
    device = device or pick_device()
    if device.type == "cpu":
        tune_cpu_allocator()
    memory_format = torch.channels_last if device.type != "mps" else torch.contiguous_format
    model.to(device, memory_format=memory_format)
    precision = choose_precision(config.precision, device)
    amp = precision.cuda_amp
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True   # fixed image size: let cuDNN pick its fastest kernels once
    writes = run_dir is not None and distributed.is_main()   # under torchrun only rank 0 writes
    log = distributed.main_only(log)
    progress = progress and distributed.is_main()
    criterion = nn.CrossEntropyLoss()
    arch = getattr(model, "arch", type(model).__name__)
    stages = training_stages(config)
    total_epochs = sum(stage.epochs for stage in stages)

    history = History()
    best_state = copy.deepcopy(model.state_dict())
    start_stage, start_stage_epoch, saved = 0, 0, None
    if run_dir is not None:
        checkpoint.remove_stale_run_temporaries(run_dir)   # left by a run killed mid-write
    if resume:
        if run_dir is None:
            raise ValueError("resume=True needs the run_dir to resume from.")
        saved = checkpoint.load_training_state(run_dir, classes=loaders.classes, arch=arch,
                                              config=config.to_dict())
        if saved.get("world_size", 1) != distributed.world_size():
            raise checkpoint.CheckpointError(
                f"{run_dir} was trained by {saved.get('world_size', 1)} process(es), not "
                f"{distributed.world_size()}: the global batch would change. Resume with the same "
                "torchrun --nnodes and --nproc-per-node, or start a new run in another --out folder.")
        history = History.from_dict(saved["history"])
        best_state = saved["best_model"]
        start_stage, start_stage_epoch = saved["stage_index"], saved["stage_epoch"]
        log(f"Resuming after epoch {history.epochs} of {total_epochs} "
            f"(best valid acc so far {history.best_valid_acc:.3f}).")
        if saved["finished"]:
            log("That run had already finished; nothing more to train.")
            start_stage = len(stages)

    try:
        for stage_index in range(start_stage, len(stages)):
            stage = stages[stage_index]
            optimizer, scheduler, stopper = prepare_stage(model, stage, config)
            scaler = torch.amp.GradScaler("cuda") if amp else None
            first_epoch = 0
            if saved is not None and stage_index == start_stage:
                # Continue this stage exactly where the checkpoint left it.
                checkpoint.load_weights(model, saved["model"], source="training checkpoint")
                optimizer.load_state_dict(saved["optimizer"])
                scheduler.load_state_dict(saved["scheduler"])
                stopper = EarlyStopping(**saved["early_stopping"])
                if scaler is not None and saved.get("scaler"):
                    scaler.load_state_dict(saved["scaler"])
                first_epoch = start_stage_epoch
            elif stage_index > 0:
                model.load_state_dict(best_state)   # fine-tune from the best frozen model
                log(f"Fine-tuning: the last {config.unfreeze} backbone blocks are unfrozen "
                    f"(lr {config.backbone_lr:g}); the classifier keeps lr {config.lr:g}."
                    + (" The whole model now runs in fp32." if precision.bf16_features else ""))
            train_model = distributed.wrap_model(model, device)   # DDP under torchrun, else model

            for stage_epoch in range(first_epoch, stage.epochs):
                if stopper.should_stop:
                    break
                epoch = history.epochs            # 0-based index over the whole run
                # bf16 only while the features are all frozen, and never through a DDP wrapper
                # (its own forward must run, so that gradients are averaged): fp32 there.
                bf16 = runs_features_in_bf16(train_model, precision)
                started = time.perf_counter()
                seed_epoch(loaders, config.seed, epoch)
                set_train_mode(train_model)
                train = run_phase(train_model, loaders.train, criterion, device, "train", optimizer, amp, scaler,
                                  progress, f"Epoch {epoch + 1}/{total_epochs} train", bf16_features=bf16)
                distributed.broadcast_buffers(model)   # under torchrun: rank 0's BatchNorm statistics
                model.eval()
                valid = run_phase(model, loaders.valid, criterion, device, "valid", None, amp, None,
                                  progress, f"Epoch {epoch + 1}/{total_epochs} valid", bf16_features=bf16)
                train, valid = combine_processes(train, device), combine_processes(valid, device)
                lr = optimizer.param_groups[-1]["lr"]   # the classifier's rate this epoch
                scheduler.step(valid.accuracy)
                history.record(train, valid, lr, time.perf_counter() - started, stage.name,
                               "bf16" if bf16 else ("cuda-amp" if amp else "fp32"))

                stopper.step(valid.accuracy)   # counts this stage's epochs without improvement
                improved = history.best_epoch == 0 or valid.accuracy > history.best_valid_acc
                if improved:
                    best_state = copy.deepcopy(model.state_dict())
                    history.best_epoch, history.best_valid_acc = epoch + 1, valid.accuracy
                if stopper.should_stop:
                    history.stopped_early = True
                last_epoch_of_run = (stage_index == len(stages) - 1 and
                                     (stage_epoch + 1 == stage.epochs or stopper.should_stop))
                log(f"Epoch {epoch + 1:>2}/{total_epochs}  train loss {train.loss:.4f} acc {train.accuracy:.3f}  "
                    f"valid loss {valid.loss:.4f} acc {valid.accuracy:.3f}  lr {lr:.2g}"
                    + ("  *best*" if improved else ""))

                if writes:
                    if improved:
                        checkpoint.save_model(run_dir, best_state,
                                              build_metadata(model, loaders.classes, config, history, precision))
                    checkpoint.save_training_state(run_dir, {
                        "stage_index": stage_index, "stage_epoch": stage_epoch + 1,
                        "finished": last_epoch_of_run, "arch": arch, "classes": loaders.classes,
                        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict() if scaler else {},
                        "early_stopping": asdict(stopper), "history": history.to_dict(),
                        "best_model": best_state, "config": config.to_dict(),
                        "world_size": distributed.world_size(),
                    })
                if on_epoch_end is not None:
                    on_epoch_end(epoch, history)
                if stopper.should_stop:
                    log(f"Max patience reached - Stopping {stage.name} stage "
                        f"(no improvement for {config.max_patience} epochs).")
    except KeyboardInterrupt:
        history.interrupted = True
        log(f"Interrupted after {history.epochs} epoch(s): keeping the best model so far "
            f"(epoch {history.best_epoch}).")

    model.load_state_dict(best_state)
    if writes and history.epochs:
        # The metadata's history now covers every epoch, not only those up to the best.
        checkpoint.atomic_write_json(build_metadata(model, loaders.classes, config, history, precision),
                                     Path(run_dir) / checkpoint.METADATA_FILE)
    return history


def build_metadata(model: nn.Module, classes: list[str], config: TrainConfig, history: History,
                   precision: Precision | None = None) -> dict:
    """The ``metadata.json`` of a run: everything needed to use and judge the model.

    Its ``precision`` is what the first, frozen-features epochs ran in (``"bf16"``,
    ``"fp32"`` or ``"cuda-amp"``); fine-tuning epochs run in float32 on a CPU.
    """
    import leafdl

    spec = getattr(model, "input_spec", None)
    return {
        "arch": getattr(model, "arch", type(model).__name__),
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
        "world_size": distributed.world_size(),                        # processes that trained together
        "global_batch_size": config.batch_size * distributed.world_size(),  # images per optimizer step
        "history": history.to_dict(),
        "versions": {"leafdl": leafdl.__version__, "torch": torch.__version__},
    }
