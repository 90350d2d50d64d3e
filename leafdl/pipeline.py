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

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from leafdl.config import TrainConfig
from leafdl.data import (SPLIT_MARKER, DataLoaders, build_dataloaders, is_split_folder,
                         scan_class_folders, split_dataset)
from leafdl.device import describe_device, pick_device
from leafdl.engine import History, fit
from leafdl.metrics import Predictions, collect_predictions, interpret_gap
from leafdl.precision import choose_precision, runs_features_in_bf16

SPLIT_SUBFOLDER = "split"


@dataclass
class RunResult:
    """What a training run produced."""

    run_dir: Path
    history: History
    predictions: Predictions
    loaders: DataLoaders


def prepare_data(data_dir: str | Path, run_dir: str | Path, config: TrainConfig,
                 skip_bad: bool = False, log: Callable[[str], None] = print) -> Path:
    """Return a folder with ``train/`` and ``valid/``, splitting ``data_dir`` if needed.

    A folder that already holds ``train/`` and ``valid/`` is used as it is. A folder of
    class folders is split into ``run_dir/split`` (copies; your photos are not touched).
    """
    data_dir, run_dir = Path(data_dir), Path(run_dir)
    if is_split_folder(data_dir):
        log(f"Using the existing split in {data_dir} (train/ and valid/).")
        return data_dir
    split_dir = run_dir / SPLIT_SUBFOLDER
    # Only a listing here: split_dataset decodes every image once, and the loaders
    # check the copies they read.
    scan = scan_class_folders(data_dir, check_images=False)
    log(f"Found {len(scan.classes)} classes, {sum(scan.counts.values())} image files in {data_dir}"
        + (f" ({len(scan.skipped)} non-image files ignored)" if scan.skipped else "") + ".")
    if is_split_folder(split_dir) and (split_dir / SPLIT_MARKER).exists():
        log(f"Re-using the split in {split_dir}.")
    else:
        summary = split_dataset(data_dir, split_dir, config.valid_split, config.seed, skip_bad=skip_bad)
        log(f"Split {config.valid_split:.0%} for validation (random_state={config.seed}) into {split_dir}"
            + (f" ({summary.skipped} unreadable images left out)" if summary.skipped else "") + ":")
        log(str(summary))
    return split_dir


def train_from_folder(
    data_dir: str | Path,
    run_dir: str | Path,
    config: TrainConfig | None = None,
    device: str | torch.device = "auto",
    resume: bool = False,
    skip_bad: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> RunResult:
    """Run the whole pipeline and write the run folder; see the module docstring."""
    from leafdl import plots
    from leafdl.models import build_model, count_parameters

    config = config or TrainConfig()
    run_dir = Path(run_dir)
    device = device if isinstance(device, torch.device) else pick_device(device)
    precision = choose_precision(config.precision, device)   # a bad setting stops here, before any work
    log(f"Device: {describe_device(device)}")
    log(precision.describe())

    split_dir = prepare_data(data_dir, run_dir, config, skip_bad=skip_bad, log=log)
    classes = scan_class_folders(split_dir / "train", check_images=False).classes
    torch.manual_seed(config.seed)  # the new classifier's random start: the same on every run
    model, spec = build_model(len(classes), arch=config.arch, pretrained=config.pretrained,
                              freeze=True, img_size=config.img_size)
    counts = count_parameters(model)
    log(f"Parameters: {counts.total:,} in all, {counts.trainable:,} trainable. Input: {spec.size} px, "
        f"normalised with mean {spec.mean} and std {spec.std}.")
    config.arch = model.arch  # record what "auto" became, so --resume builds the same model

    loaders = build_dataloaders(split_dir, spec, batch_size=config.batch_size, num_workers=config.num_workers,
                                pin_memory=device.type == "cuda", seed=config.seed, skip_bad=skip_bad,
                                crop_scale_min=config.crop_scale_min)
    log(f"Training on {len(loaders.train.dataset)} images, validating on {len(loaders.valid.dataset)}; "
        f"{len(loaders.train)} batches of {config.batch_size} per epoch.")
    log(loaders.loading)
    history = fit(model, loaders, config, device=device, run_dir=run_dir, resume=resume,
                  progress=progress, log=log)

    predictions = collect_predictions(model, loaders.valid, device, loaders.classes, progress=progress,
                                      bf16_features=runs_features_in_bf16(model, precision))
    plots.plot_history(history, save_to=run_dir / "metrics.png", title=f"{model.arch} on {Path(data_dir).name}")
    plots.plot_confusion_matrix(predictions.confusion_matrix(), loaders.classes,
                                save_to=run_dir / "confusion_matrix.png")
    import matplotlib.pyplot as plt
    plt.close("all")
    report = predictions.report()
    (run_dir / "report.txt").write_text(report, encoding="utf-8")

    if history.best_epoch:
        gap = history.gap[history.best_epoch - 1]
        log(f"Best epoch {history.best_epoch}: valid acc {history.best_valid_acc:.3f}, "
            f"gap {gap:+.3f} -> {interpret_gap(gap)}.")
    log(report)
    log(f"Saved model.pth, metadata.json, last.ckpt, metrics.png, confusion_matrix.png, report.txt in {run_dir}")
    return RunResult(run_dir, history, predictions, loaders)
