"""Train.py end to end: from a folder of photos to a saved, evaluated model.

This is the document's "Training Pipeline Summary" as one function::

    1. Load and split data        split_dataset (80% train, 20% validation)
    2. Create data pipeline       build_dataloaders (transforms, ImageFolder, DataLoader)
    3. Initialize model           build_model (pretrained, frozen, new classifier)
    4. Training loop              fit (train/valid phases, scheduler, early stopping)
    5. Save and visualize         model.pth, metadata.json, metrics.png, confusion matrix

``leafdl train DATA_DIR`` calls :func:`train_from_folder`; notebook 11 does too.

Example:
    >>> result = train_from_folder("data/demo-leaves", "runs/demo", TrainConfig(epochs=3))  # doctest: +SKIP
    >>> result.history.best_valid_acc                                                      # doctest: +SKIP
    0.95
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import torch

from leafdl import distributed, plots, run_folder
from leafdl.config import TrainConfig, check_for_backbone
from leafdl.data import DataLoaders, DatasetError, build_dataloaders, is_split_folder, scan_class_folders, split_dataset
from leafdl.device import describe_device, pick_device, tune_cpu_allocator
from leafdl.engine import History, fit
from leafdl.files import atomic_write
from leafdl.metrics import Predictions, collect_predictions, interpret_gap
from leafdl.models import build_model, count_parameters, input_spec_for, resolve_arch
from leafdl.precision import Computation, Precision, choose_precision, validated_in

SPLIT_SUBFOLDER = "split"


@dataclass
class RunResult:
    """What a training run produced."""

    run_dir: Path
    history: History
    predictions: Predictions | None   # None in the processes other than rank 0 under torchrun
    loaders: DataLoaders


def prepare_data(data_dir: str | Path, run_dir: str | Path, config: TrainConfig, *,
                 skip_bad: bool = False, log: Callable[[str], None] = print) -> Path:
    """Return a folder with ``train/`` and ``valid/``, splitting ``data_dir`` if needed.

    A folder that already holds ``train/`` and ``valid/`` is used as it is. A folder of
    class folders is split into ``run_dir/split`` (copies; your photos are not touched).
    A split already there is used again only if it provably came from the same image
    files with the same validation share and seed; otherwise the run is refused, with
    what differs (see :func:`leafdl.data.split_dataset`).
    """
    data_dir, run_dir = Path(data_dir), Path(run_dir)
    if is_split_folder(data_dir):
        log(f"Using the existing split in {data_dir} (train/ and valid/).")
        return data_dir
    split_dir = run_dir / SPLIT_SUBFOLDER
    scan = scan_class_folders(data_dir, check_images=False)   # the one listing; split_dataset checks the images
    ignored = scan.ignored()
    log(f"Found {len(scan.classes)} classes, {sum(scan.counts.values())} image files in {data_dir}"
        + (f" (ignored: {ignored})" if ignored else "") + ".")
    summary = split_dataset(data_dir, split_dir, config.valid_split, config.seed, skip_bad=skip_bad, scan=scan)
    if summary.reused:
        log(f"Re-using the split in {split_dir}: it was made from these same image files with "
            f"valid {config.valid_split} and random_state={config.seed}.")
    else:
        log(f"Split {config.valid_split:.0%} for validation (random_state={config.seed}) into {split_dir}"
            + (f" ({summary.skipped} unreadable images left out)" if summary.skipped else "") + ":")
        log(str(summary))
    return split_dir


def shared_split(data_dir: str | Path, run_dir: Path, *, config: TrainConfig, skip_bad: bool,
                 log: Callable[[str], None]) -> Path:
    """:func:`prepare_data`, done by rank 0 alone under torchrun while the others wait.

    The other processes then use the folder rank 0 made. On several machines, that
    folder (the run folder, or a folder split beforehand) must be shared or copied.
    """
    split_dir = distributed.main_first(lambda: prepare_data(data_dir, run_dir, config, skip_bad=skip_bad, log=log))
    if distributed.is_main():
        return split_dir
    split_dir = Path(data_dir) if is_split_folder(data_dir) else run_dir / SPLIT_SUBFOLDER
    if not is_split_folder(split_dir):
        raise DatasetError(
            f"Process {distributed.rank()} finds no split in {split_dir}, which rank 0 wrote on its machine. "
            "On several machines, put the data and --out on a folder they share, or split first "
            "(leafdl data split) and copy the split folder to the same path on every machine.")
    return split_dir


def train_from_folder(
    data_dir: str | Path,
    run_dir: str | Path,
    config: TrainConfig | None = None,
    *,
    device: str | torch.device = "auto",
    resume: bool = False,
    skip_bad: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> RunResult:
    """Run the whole pipeline and write the run folder; see the module docstring.

    Ctrl-C during training keeps the best model so far (and ``last.ckpt``), draws the
    curves of the epochs that ran, and raises ``KeyboardInterrupt`` again so the caller
    stops; ``resume=True`` continues such a run.

    Started by ``torchrun``, each process joins the process group here and trains on
    its shard of the data; rank 0 splits the data, prints and writes the run folder
    (see :mod:`leafdl.distributed`). Otherwise this is a plain single-process run.
    """
    device = device if isinstance(device, torch.device) else pick_device(device)
    device = distributed.process_device(device)   # under torchrun with GPUs: this process's own GPU
    config = config or TrainConfig()
    precision = choose_precision(config.precision, device)   # a bad setting stops here, before any work
    arch = resolve_arch(config.arch)
    check_for_backbone(config, arch)                          # --unfreeze against this backbone's blocks
    joined = distributed.init_from_torchrun(device)
    try:
        with ExitStack() as run_folder_held:   # rank 0 checks, locks and marks --out (leafdl.run_folder)
            distributed.main_first(lambda: run_folder_held.enter_context(
                run_folder.claimed(run_dir, data_dir, resume, distributed.main_only(log))))
            return _train(data_dir=data_dir, run_dir=Path(run_dir), config=config, arch=arch, device=device,
                          precision=precision, resume=resume, skip_bad=skip_bad, progress=progress,
                          log=distributed.main_only(log))
    finally:
        if joined:
            distributed.destroy()


def _train(*, data_dir: str | Path, run_dir: Path, config: TrainConfig, arch: str, device: torch.device,
           precision: Precision, resume: bool, skip_bad: bool, progress: bool, log: Callable[[str], None]) -> RunResult:
    """The pipeline itself, in one process (of one or many); ``arch`` is ``config.arch`` resolved."""
    log(f"Device: {describe_device(device)}"
        + (f", {distributed.world_size()} processes" if distributed.world_size() > 1 else ""))
    log(precision.describe(processes=distributed.world_size()))
    if device.type == "cpu" and tune_cpu_allocator():   # fit() would do it too; here it is said
        log("Memory: glibc keeps freed memory for the next batch (leafdl.device.tune_cpu_allocator).")

    split_dir = shared_split(data_dir, run_dir, config=config, skip_bad=skip_bad, log=log)
    spec = input_spec_for(arch, config.img_size)   # what the loaders must produce for this backbone
    loaders = build_dataloaders(split_dir, spec, batch_size=config.batch_size, num_workers=config.num_workers,
                                pin_memory=device.type == "cuda", seed=config.seed, skip_bad=skip_bad,
                                crop_scale_min=config.crop_scale_min)
    torch.manual_seed(config.seed)  # the new classifier's random start: the same on every run
    model, _ = build_model(len(loaders.classes), arch=config.arch, pretrained=config.pretrained,
                           freeze=True, img_size=config.img_size, verbose=distributed.is_main())
    counts = count_parameters(model)
    log(f"Parameters: {counts.total:,} in all, {counts.trainable:,} trainable. Input: {spec.size} px, "
        f"normalised with mean {spec.mean} and std {spec.std}.")
    config = replace(config, arch=arch)  # record what "auto" became, so --resume builds the same model
    log(f"Training on {len(loaders.train.dataset)} images, validating on {len(loaders.valid.dataset)}; "
        f"{len(loaders.train)} batches of {config.batch_size} per epoch.")
    log(loaders.loading)
    shards = distributed.shard_loaders(loaders, config.seed)   # the loaders themselves outside torchrun
    if shards is not loaders:
        log(f"Each of {distributed.world_size()} processes trains on {len(shards.train)} batches of "
            f"{config.batch_size} per epoch: {config.batch_size * distributed.world_size()} images per step.")
    history = fit(model, shards, config, device=device, run_dir=run_dir, resume=resume,
                  progress=progress, log=log)
    title = f"{arch} on {Path(data_dir).name}"
    if history.interrupted:
        if history.epochs and distributed.is_main():
            plt.close(plots.plot_history(history, save_to=run_dir / "metrics.png", title=title))
        raise KeyboardInterrupt
    if not distributed.is_main():
        return RunResult(run_dir=run_dir, history=history, predictions=None, loaders=loaders)   # rank 0 writes the rest

    # The best model, computed as its best epoch was validated: the numbers `leafdl predict` gives.
    computation = Computation.for_evaluation(model, device, precision,
                                             validated=validated_in(history.precision, history.best_epoch))
    predictions = collect_predictions(model, loaders.valid, classes=loaders.classes, progress=progress,
                                      computation=computation)
    plt.close(plots.plot_history(history, save_to=run_dir / "metrics.png", title=title))
    plt.close(plots.plot_confusion_matrix(predictions.confusion_matrix(), loaders.classes,
                                          save_to=run_dir / "confusion_matrix.png"))
    report = predictions.report()
    atomic_write(run_dir / "report.txt", lambda temporary: temporary.write_text(report, encoding="utf-8"))

    if history.best_epoch:
        gap = history.gap[history.best_epoch - 1]
        log(f"Best epoch {history.best_epoch}: valid acc {history.best_valid_acc:.3f}, "
            f"gap {gap:+.3f} -> {interpret_gap(gap)}.")
    log(report)
    log(f"Saved model.pth, metadata.json, last.ckpt, metrics.png, confusion_matrix.png, report.txt in {run_dir}")
    return RunResult(run_dir=run_dir, history=history, predictions=predictions, loaders=loaders)
