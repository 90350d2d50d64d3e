"""Model Saving (the document's section 10): state_dict, metadata, checkpoints.

A training run writes one folder::

    runs/demo/
        model.pth       the best weights: a state_dict, as the document saves it
        metadata.json   what is needed to use them: classes, architecture, input size
                        and normalisation, hyperparameters, best epoch and metrics, versions
        last.ckpt       everything needed to resume: model, optimizer, scheduler, epoch,
                        history, early-stopping state (rewritten after every epoch)

Three habits keep these files trustworthy:

* **Atomic writes.** Each file is written to a temporary name and then renamed over the
  old one. A rename is all-or-nothing, so a crash or Ctrl-C mid-write never leaves a
  half-written ``model.pth``.
* **Safe loading.** ``torch.load(..., weights_only=True)`` only rebuilds tensors and plain
  containers. A ``.pth`` file from the internet cannot run code on your machine.
* **Checked loading.** A checkpoint for other classes or another architecture, or a
  truncated file, is refused with a message instead of failing somewhere deep in PyTorch.

Example:
    >>> from leafdl.checkpoint import load_model                  # doctest: +SKIP
    >>> model, metadata = load_model("runs/demo")                  # doctest: +SKIP
    >>> metadata["classes"]                                        # doctest: +SKIP
    ['Apple_scab', 'Black_rot', 'Cedar_apple_rust', 'Healthy']
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from leafdl.config import ARCHITECTURES, MIN_IMG_SIZE, OPTION_NAMES
from leafdl.data import MAX_IMG_SIZE
from leafdl.errors import CheckpointError
from leafdl.files import atomic_write, atomic_write_json, remove_stale_temporaries

from leafdl.models import build_model
from leafdl.weights import safe_torch_load

MODEL_FILE = "model.pth"
METADATA_FILE = "metadata.json"
TRAINING_STATE_FILE = "last.ckpt"
# What a run folder holds for sharing: what `leafdl export` zips, and nothing else.
EXPORTED_FILES = (MODEL_FILE, METADATA_FILE, "metrics.png", "confusion_matrix.png", "report.txt")
INTERPOLATIONS = ("nearest", "bilinear", "bicubic")   # the resizing filters torchvision knows by name


# ---------------------------------------------------------------------------
# Atomic writing (the mechanism lives in leafdl.files)
# ---------------------------------------------------------------------------


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj, path)``, but atomic: readers see the old file or the new one."""
    atomic_write(Path(path), lambda temporary: torch.save(obj, temporary))


def remove_stale_run_temporaries(run_dir: str | Path) -> list[Path]:
    """Remove the temporaries of a run killed mid-write (``.model.pth.k2x9.tmp``, ...)."""
    return remove_stale_temporaries(Path(run_dir), (MODEL_FILE, METADATA_FILE, TRAINING_STATE_FILE))


# ---------------------------------------------------------------------------
# Safe loading
# ---------------------------------------------------------------------------


# safe_torch_load lives in leafdl.weights, which reads pretrained weights with it too.


# ---------------------------------------------------------------------------
# The best model and its metadata
# ---------------------------------------------------------------------------


def save_model(run_dir: str | Path, state_dict: dict, metadata: dict) -> Path:
    """Save a ``state_dict`` as ``model.pth`` and ``metadata`` as ``metadata.json``.

    The document's ``torch.save(model_state, "model.pth")``, made atomic. The state_dict
    holds every learnable tensor but no architecture; the metadata says which
    architecture to build and which classes the outputs mean.
    """
    run_dir = Path(run_dir)
    state = {name: tensor.detach().to("cpu") for name, tensor in state_dict.items()}
    atomic_torch_save(state, run_dir / MODEL_FILE)
    save_metadata(run_dir, metadata)
    return run_dir / MODEL_FILE


def save_metadata(run_dir: str | Path, metadata: dict) -> Path:
    """Write ``metadata.json`` atomically (alone: at the end of a run its history grows)."""
    path = Path(run_dir) / METADATA_FILE
    atomic_write_json(metadata, path)
    return path


def read_metadata(run_dir: str | Path) -> dict:
    """Read ``metadata.json`` from a run folder, and check it says what a model needs.

    A damaged file (not JSON, not text, or missing the classes, the architecture or the
    input size) is refused with a message naming the file and what is wrong.
    """
    path = Path(run_dir) / METADATA_FILE
    if not path.is_file():
        raise CheckpointError(f"{Path(run_dir)} has no {METADATA_FILE}; is it a leafdl run folder? "
                              "Pass the --out folder of a finished `leafdl train`.")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path} is not valid JSON text ({error}). Train again to rewrite it, "
                              "or copy the run folder again.") from error
    problem = _metadata_problem(metadata)
    if problem:
        raise CheckpointError(f"{path} is damaged: {problem}. Train again to rewrite it, "
                              "or copy the run folder again.")
    return metadata


def _metadata_problem(metadata: Any) -> str | None:
    """What makes ``metadata`` unusable, in words, or ``None``."""
    if not isinstance(metadata, dict):
        return f"it holds a {type(metadata).__name__}, not a JSON object"
    classes = metadata.get("classes")
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        return '"classes" must be a list of at least two class names'
    if metadata.get("arch") not in ARCHITECTURES:
        return f'"arch" must name one of the architectures {", ".join(ARCHITECTURES)}'
    return _input_problem(metadata.get("input"))


def _input_problem(spec: Any) -> str | None:
    """What makes the ``"input"`` of a metadata file unusable, in words, or ``None``."""
    if not isinstance(spec, dict) or not _is_number(spec.get("size"), whole=True):
        return '"input" must hold the image "size" in pixels'
    if not MIN_IMG_SIZE <= spec["size"] <= MAX_IMG_SIZE:
        return f'"input"."size" must be from {MIN_IMG_SIZE} to {MAX_IMG_SIZE} pixels, not {spec["size"]}'
    for key in ("mean", "std"):
        values = spec.get(key)
        if values is not None and not (isinstance(values, list) and len(values) == 3
                                       and all(_is_number(v) for v in values)):
            return f'"input"."{key}" must be three numbers, one per colour channel'
    if spec.get("std") is not None and not all(v > 0 for v in spec["std"]):
        return '"input"."std" must be three numbers above 0 (images are divided by them)'
    if spec.get("interpolation", "bilinear") not in INTERPOLATIONS:
        return f'"input"."interpolation" must be one of {", ".join(INTERPOLATIONS)}'
    return None


def _is_number(value: Any, whole: bool = False) -> bool:
    kinds = (int,) if whole else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool) and math.isfinite(value)


def load_weights(model: nn.Module, state_dict: dict, *, source: str = "checkpoint") -> None:
    """``model.load_state_dict(state_dict)``, explaining a mismatch in plain words."""
    model_keys, file_keys = set(model.state_dict()), set(state_dict)
    if model_keys != file_keys:
        missing, unexpected = sorted(model_keys - file_keys), sorted(file_keys - model_keys)
        raise CheckpointError(
            f"The {source} does not fit this model: {len(missing)} weight(s) missing "
            f"(e.g. {missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]}). "
            "It was probably saved from another architecture; build the model with the "
            "architecture named in its metadata.json.")
    for name, tensor in model.state_dict().items():
        if tensor.shape != state_dict[name].shape:
            raise CheckpointError(
                f"The {source} does not fit this model: {name} has shape "
                f"{tuple(state_dict[name].shape)} in the file but {tuple(tensor.shape)} in the model. "
                "Usually the number of classes differs; check the classes in metadata.json.")
    model.load_state_dict(state_dict)


def load_model(run_dir: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the trained classifier of a run folder, ready for prediction (eval mode).

    Reads ``metadata.json`` to build the same architecture with the same number of
    classes, then loads ``model.pth`` safely into it.
    """
    metadata = read_metadata(run_dir)
    model, _ = build_model(len(metadata["classes"]), arch=metadata["arch"], pretrained=False,
                           freeze=False, img_size=metadata["input"]["size"], verbose=False)
    state = safe_torch_load(Path(run_dir) / MODEL_FILE)
    load_weights(model, state, source=f"model file {Path(run_dir) / MODEL_FILE}")
    return model.to(device).eval(), metadata


# ---------------------------------------------------------------------------
# Resumable training state
# ---------------------------------------------------------------------------


@dataclass
class TrainingState:
    """What ``last.ckpt`` holds: everything needed to continue a run where it stopped.

    :func:`leafdl.engine.fit` writes one after every epoch (``state.save(run_dir)``) and
    ``resume=True`` reads it back with :func:`load_training_state`, which checks that it
    belongs to this run. The torchvision reference script keeps the same things: the
    model, the optimizer, the scheduler and where training was.
    """

    stage_index: int             # the stage the run was in: 0 frozen, 1 fine-tuning
    stage_epoch: int             # epochs finished in that stage
    finished: bool               # True once the run's last epoch is done
    arch: str
    classes: list[str]
    model: dict                  # the live weights (a state_dict), not the best ones
    optimizer: dict
    scheduler: dict
    scaler: dict                 # CUDA's GradScaler; {} on a CPU
    early_stopping: dict         # EarlyStopping's counters
    history: dict                # History.to_dict()
    best_model: dict             # the best weights so far (a state_dict)
    config: dict                 # TrainConfig.to_dict()
    world_size: int = 1          # processes that trained together (torchrun)

    def save(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/last.ckpt`` atomically (a plain dict of tensors: ``weights_only`` loads it)."""
        path = Path(run_dir) / TRAINING_STATE_FILE
        atomic_torch_save({field.name: getattr(self, field.name) for field in fields(self)}, path)
        return path


# Every TrainConfig setting is in exactly one of these lists, so none is silently ignored
# on --resume (a test checks it). Fixed settings shape the data, the model or the
# optimizer: a run resumed with other values would be neither the old run nor a new one,
# so a change is refused.
SETTINGS_FIXED_ON_RESUME = ("img_size", "batch_size", "lr", "seed", "valid_split", "pretrained",
                            "scheduler_factor", "scheduler_patience", "crop_scale_min", "unfreeze",
                            "backbone_lr", "arch")
# Settings a resumed run honours: more epochs train longer, a new patience counts from the
# epochs already without improvement; workers and precision only change how fast it runs.
# A finished run has nothing left to train, so there a change of the first three is refused.
SETTINGS_OF_THE_REST_OF_A_RUN = ("epochs", "finetune_epochs", "max_patience")
SETTINGS_OF_SPEED_ONLY = ("num_workers", "precision")


def changed_settings(saved: dict, current: dict, names: tuple[str, ...] = SETTINGS_FIXED_ON_RESUME) -> list[str]:
    """The settings among ``names`` whose values differ, as ``name (--option): old -> new``."""
    return [f"{name}{f' ({OPTION_NAMES[name]})' if name in OPTION_NAMES else ''}: {saved[name]} -> {current.get(name)}"
            for name in names if name in saved and saved[name] != current.get(name)]


def load_training_state(run_dir: str | Path, *, classes: list[str], arch: str, config: dict | None = None,
                        world_size: int = 1) -> TrainingState:
    """Read ``last.ckpt`` and check it belongs to a run on the same classes and architecture.

    With ``config`` (a ``TrainConfig.to_dict()``), also refuse settings that differ from
    the run's own in ways that cannot be resumed (``SETTINGS_FIXED_ON_RESUME``), and a run
    of another number of processes (the global batch would change).
    """
    path = Path(run_dir) / TRAINING_STATE_FILE
    if not path.exists():
        raise CheckpointError(f"Nothing to resume: {path} does not exist. Start without --resume.")
    saved = safe_torch_load(path)
    required = {field.name for field in fields(TrainingState) if field.name != "world_size"}
    if not isinstance(saved, dict) or not required <= set(saved):
        raise CheckpointError(f"{path} is not a leafdl training checkpoint. Start without --resume.")
    state = TrainingState(**{name: saved[name] for name in (*required, "world_size") if name in saved})
    if state.classes != classes:
        raise CheckpointError(
            f"{path} was trained on classes {state.classes}, but the data now has {classes}. "
            "Resume with the same data, or start a new run in another --out folder.")
    if state.arch != arch:
        raise CheckpointError(
            f"{path} was trained with architecture {state.arch!r}, not {arch!r}. "
            f"Resume with --arch {state.arch}, or start a new run in another --out folder.")
    if config is not None:
        _check_resumed_settings(path, state, config)
    if state.world_size != world_size:
        raise CheckpointError(
            f"{run_dir} was trained by {state.world_size} process(es), not {world_size}: the global batch "
            "would change. Resume with the same torchrun --nnodes and --nproc-per-node, or start a new run "
            "in another --out folder.")
    return state


def _check_resumed_settings(path: Path, state: TrainingState, config: dict) -> None:
    """Refuse settings a resume cannot honour; take over the new early-stopping patience."""
    changed = changed_settings(state.config, config)
    if changed:
        raise CheckpointError(
            f"{path} was trained with other settings ({'; '.join(changed)}). Resume with the options "
            "the run was started with, or start a new run in another --out folder.")
    extended = changed_settings(state.config, config, SETTINGS_OF_THE_REST_OF_A_RUN) if state.finished else []
    if extended:
        raise CheckpointError(
            f"{path} is a finished run ({'; '.join(extended)}): a run that has ended cannot train on. "
            "Resume with its own options to redo its evaluation, or start a new run in another --out folder.")
    if "max_patience" in config:
        state.early_stopping = {**state.early_stopping, "patience": config["max_patience"]}


def restore_model_file(run_dir: str | Path) -> bool:
    """Write ``model.pth`` again from the best weights in ``last.ckpt`` if it is missing.

    Returns True if it was rebuilt. A resumed run only saves ``model.pth`` when an epoch
    improves, so without this a deleted model would stay deleted.
    """
    run_dir = Path(run_dir)
    if (run_dir / MODEL_FILE).exists() or not (run_dir / TRAINING_STATE_FILE).is_file():
        return False
    saved = safe_torch_load(run_dir / TRAINING_STATE_FILE)
    if not isinstance(saved, dict) or not isinstance(saved.get("best_model"), dict):
        raise CheckpointError(f"{run_dir / TRAINING_STATE_FILE} is not a leafdl training checkpoint. "
                              "Start a new run in another --out folder.")
    atomic_torch_save(saved["best_model"], run_dir / MODEL_FILE)
    return True


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def export_run(run_dir: str | Path, archive: str | Path | None = None, overwrite: bool = False) -> Path:
    """Zip the model, metadata and plots of a run with ``shutil.make_archive``.

    Only the run's own files go in (``EXPORTED_FILES``: not the resumable ``last.ckpt``,
    not the split, not anything else you put in the folder), under the run's folder
    name. The zip is written beside its target and renamed into place, so a full disk
    never leaves half a zip. An existing file is never replaced unless ``overwrite``
    (``leafdl export --overwrite``); an earlier export of this same run is. Returns the
    path of the ``.zip`` file (``<run_dir>.zip`` by default).
    """
    run_dir = Path(run_dir).resolve()   # "." becomes the folder's real name
    read_metadata(run_dir)  # refuse folders that are not runs
    target = Path(archive) if archive else run_dir.with_name(run_dir.name + ".zip")
    files = _files_to_export(run_dir)
    if target.exists() and not (overwrite or _is_export_of(target, run_dir.name)):
        raise CheckpointError(f"{target} already exists. To protect it nothing was written: move it away, "
                              "or replace it with --overwrite.")
    atomic_write(target, lambda temporary: _zip(files, run_dir.name, temporary))
    return target


def _files_to_export(run_dir: Path) -> list[Path]:
    """The run's own files, refusing links (a link could reach any file of the machine)."""
    files = [run_dir / name for name in EXPORTED_FILES if os.path.lexists(run_dir / name)]
    links = [path.name for path in files if path.is_symlink() or not path.is_file()]
    if links:
        raise CheckpointError(f"{run_dir / links[0]} is a link or a folder, not the run's own file: export only "
                              "zips what leafdl wrote. Replace it with the real file, then export again.")
    return files


def _is_export_of(archive: Path, name: str) -> bool:
    """True when ``archive`` is a zip that export_run made of a run called ``name``."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [member for member in zipped.namelist() if not member.endswith("/")]
    except (OSError, zipfile.BadZipFile):
        return False
    return bool(members) and all(member in {f"{name}/{file}" for file in EXPORTED_FILES} for member in members)


def _zip(files: list[Path], name: str, archive: Path) -> None:
    """``shutil.make_archive`` of a folder ``name`` holding ``files``, written to ``archive``.

    The folder is gathered beside the archive from hard links (no copy, where the disk
    allows it), so nothing but the listed files can end up in the zip.
    """
    with tempfile.TemporaryDirectory(prefix=f".{archive.name}.", dir=archive.parent) as staging:
        (Path(staging) / name).mkdir()
        for path in files:
            try:
                os.link(path, Path(staging) / name / path.name)
            except OSError:   # another disk, or a file system without hard links
                shutil.copy2(path, Path(staging) / name / path.name)
        made = shutil.make_archive(str(Path(staging) / "archive"), "zip", root_dir=staging, base_dir=name)
        os.replace(made, archive)
