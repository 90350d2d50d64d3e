"""Self-checks of notebook 11 (the full pipeline).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

import contextlib
import io
import math
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset
from torchvision import transforms

from leafdl.cli import build_parser
from leafdl.config import TrainConfig
from leafdl.course import apple_data
from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, not_answered, report,
                                            same_weights, snapshot, wrong)
from leafdl.course.exercises.nb08 import _stop_epoch
from leafdl.data import DataLoaders, load_rgb
from leafdl.engine import EarlyStopping, History, fit


def check_resume_command(answer: Any, data_dir: str = "photos/apple", out: str = "runs/apple",
                         epochs: int = 20, device: str = "cuda") -> CheckResult:
    """Notebook 11, exercise 1: the command line that resumes an interrupted GPU run.

    The answer is parsed by the real ``leafdl`` argument parser, so any spelling the
    command accepts counts (options in any order, ``leafdl`` in front or not). Resuming
    needs the same data, the same run folder and the same number of epochs, plus
    ``--resume``.
    """
    missing = not_answered(answer, 'the command as a string, e.g. "leafdl train ..."')
    if missing is not None:
        return missing
    try:
        words = shlex.split(str(answer))
    except ValueError:
        words = []
    if words and words[0] in ("leafdl", "leafdl.exe"):
        words = words[1:]
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = build_parser().parse_args(words)
    except SystemExit:
        return report(False, "", "the command does not parse; start with `leafdl train DATA_DIR --out RUN_DIR` "
                                 "and check the options with `leafdl train --help`.")
    if args.command != "train":
        return report(False, "", "resuming is a training command: `leafdl train ...`.")
    wanted = {"the data folder": (Path(args.data_dir), Path(data_dir)), "--out": (args.out, Path(out)),
              "--epochs": (args.epochs, epochs), "--resume": (args.resume, True)}
    for what, (given, expected) in wanted.items():
        if given != expected:
            return report(False, "", f"check {what}: it should be {expected}, not {given}.")
    if not str(args.device).startswith(device):
        return report(False, "", f"the run was on the GPU: add --device {device}.")
    return report(True, "`--resume` reads last.ckpt in the run folder and continues with the model, "
                        "optimizer, scheduler and early-stopping state it saved.", "")


def check_optimizer_steps(answer: Any, n_images: int = 1000) -> CheckResult:
    """Notebook 11, exercise 2: optimizer steps of a full ``leafdl train`` run with the document's defaults.

    The split keeps ``ceil(valid_split * n)`` images for validation (scikit-learn rounds
    the test share up); the rest train in batches of ``batch_size`` (the last one may be
    smaller), one optimizer step per batch, for ``epochs`` epochs.
    """
    missing = not_answered(answer, "the number of optimizer steps (batches) in the whole run")
    if missing is not None:
        return missing
    config = TrainConfig()
    n_valid = math.ceil(config.valid_split * n_images)
    n_train = n_images - n_valid
    per_epoch = math.ceil(n_train / config.batch_size)
    expected = per_epoch * config.epochs
    return report(close_to(answer, expected),
                  f"{n_images} images -> {n_train} for training -> ceil({n_train}/{config.batch_size}) = "
                  f"{per_epoch} batches per epoch x {config.epochs} epochs = {expected} steps "
                  "(fewer if early stopping ends the run).",
                  f"first the split: {config.valid_split:.0%} of the images are for validation only; "
                  f"then batches of {config.batch_size} per epoch, for {config.epochs} epochs.")


# --- The capstone: train_model, written whole -----------------------------------------

# The capstone's run: a few real apple photos at 16 px, a tiny network, 20 epochs at most.
CAPSTONE_EPOCHS = 20
CAPSTONE_PATIENCE = 3          # early stopping: epochs without a new best
CAPSTONE_LR = 0.01
CAPSTONE_SCHEDULER_PATIENCE = 1   # the scheduler cuts after 2 epochs without a new best: often enough to see
CAPSTONE_SEED = 1
HISTORY_KEYS = ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr")


def capstone_loaders(per_class: dict[str, int] | None = None, img_size: int = 16,
                     batch_size: int = 8) -> dict[str, DataLoader]:
    """``{"train": ..., "valid": ...}`` over the first real apple photos of each class, in a fixed order.

    9 training photos per class (36: batches of 8, 8, 8, 8 and 4) and 5 validation photos
    per class (20: batches of 8, 8 and 4), from the course's split (:func:`leafdl.course.apple_data`),
    shrunk to ``img_size`` px. Nothing is random (no shuffling, no augmentation), so two
    runs from the same weights give the same numbers, and the last batch of each phase is
    smaller, so averaging per batch and per image differ.
    """
    per_class = per_class or {"train": 9, "valid": 5}
    split = apple_data()[1]
    transform = transforms.Compose([transforms.Resize((img_size, img_size)), transforms.ToTensor(),
                                    transforms.Normalize([0.5] * 3, [0.5] * 3)])
    loaders = {}
    for phase, count in per_class.items():
        classes = sorted(folder.name for folder in (split / phase).iterdir() if folder.is_dir())
        items = [(index, label, transform(load_rgb(path)))
                 for label, name in enumerate(classes)
                 for index, path in enumerate(sorted((split / phase / name).iterdir())[:count])]
        items.sort(key=lambda item: item[:2])   # interleave the classes: every batch holds several
        dataset = TensorDataset(torch.stack([image for _, _, image in items]),
                                torch.tensor([label for _, label, _ in items]))
        loaders[phase] = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    return loaders


def capstone_model(img_size: int = 16, num_classes: int = 4, seed: int = CAPSTONE_SEED) -> nn.Module:
    """A tiny network with BatchNorm (so train and eval mode give different numbers), from a fixed seed."""
    with torch.random.fork_rng(devices=[]):   # leave the notebook's random numbers as they were
        torch.manual_seed(seed)
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * img_size * img_size, 16), nn.BatchNorm1d(16), nn.ReLU(),
                             nn.Linear(16, num_classes))


@dataclass
class _Watch:
    """What the student's ``train_model`` did, as the objects handed to it saw it.

    ``epoch`` counts the passes over the training loader (1 during the first epoch).
    Per forward pass: ``(epoch, phase, model.training, gradients on)``; per loss:
    ``(epoch, phase, loss, correct, images)``; per optimizer step: ``(epoch, phase, lr,
    gradients)`` where gradients is "fresh", "piled", "wiped" or "no backward"; per
    scheduler step: ``(epoch, phase, metric)``; the weights after each validation pass.
    """

    model: nn.Module
    phase: str = ""
    epoch: int = 0
    forwards: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    scheduler_steps: list = field(default_factory=list)
    weights_after_valid: dict = field(default_factory=dict)
    fresh_gradient: torch.Tensor | None = None


class _WatchedLoader:
    """A loader that tells the watch which phase is running, and notes the weights after validation."""

    def __init__(self, loader: DataLoader, phase: str, watch: _Watch) -> None:
        self.loader, self.phase, self.watch = loader, phase, watch

    def __iter__(self):
        if self.phase == "train":
            self.watch.epoch += 1
        self.watch.phase = self.phase
        yield from self.loader
        if self.phase == "valid":
            self.watch.weights_after_valid[self.watch.epoch] = snapshot(self.watch.model)

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:   # .dataset, .batch_size: those of the real loader
        return getattr(self.loader, name)


class _WatchedLoss(nn.CrossEntropyLoss):
    """``nn.CrossEntropyLoss`` that notes each batch's loss, correct predictions and size."""

    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def forward(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        loss = super().forward(outputs, labels)
        correct = (outputs.detach().argmax(dim=1) == labels).sum().item()
        self.watch.losses.append((self.watch.epoch, self.watch.phase, loss.item(), correct, len(labels)))
        return loss


class _WatchedScheduler(optim.lr_scheduler.ReduceLROnPlateau):
    """``ReduceLROnPlateau`` that notes the number each ``step`` is given."""

    def __init__(self, optimizer: optim.Optimizer, watch: _Watch) -> None:
        super().__init__(optimizer, mode="max", factor=0.5, patience=CAPSTONE_SCHEDULER_PATIENCE)
        self.watch = watch

    def step(self, metrics: Any = None, epoch: Any = None) -> None:
        if metrics is None:
            raise TypeError("scheduler.step() needs the number it watches (ReduceLROnPlateau cuts the rate "
                            "when that number stops improving)")
        self.watch.scheduler_steps.append((self.watch.epoch, self.watch.phase, float(metrics)))
        super().step(metrics)


def _watched_run(train_model: Callable, loaders: dict[str, DataLoader]) -> tuple[Any, _Watch]:
    """Call the student's ``train_model`` on watched objects; return what it returned and the watch."""
    model = capstone_model().eval()   # handed over in eval mode: training must switch it
    watch = _Watch(model)
    model.register_forward_pre_hook(
        lambda module, inputs: watch.forwards.append((watch.epoch, watch.phase, module.training,
                                                      torch.is_grad_enabled())))
    last_weight = model[-1].weight

    def note_gradient(gradient: torch.Tensor) -> None:   # this backward's own gradient, before it is added
        watch.fresh_gradient = gradient.detach().clone()

    def note_step(optimizer: optim.Optimizer, args: Any, kwargs: Any) -> None:
        fresh, held = watch.fresh_gradient, last_weight.grad
        if fresh is None:
            state = "no backward"
        elif held is None or not held.any():
            state = "wiped"
        else:
            state = "fresh" if torch.allclose(held, fresh, atol=1e-7) else "piled"
        watch.steps.append((watch.epoch, watch.phase, optimizer.param_groups[0]["lr"], state))
        watch.fresh_gradient = None

    last_weight.register_hook(note_gradient)
    optimizer = optim.Adam(model.parameters(), lr=CAPSTONE_LR)
    optimizer.register_step_pre_hook(note_step)
    watched = {phase: _WatchedLoader(loader, phase, watch) for phase, loader in loaders.items()}
    returned = call_student(train_model, model, watched, _WatchedLoss(watch), optimizer,
                            _WatchedScheduler(optimizer, watch), CAPSTONE_EPOCHS, CAPSTONE_PATIENCE)
    return returned, watch


def _reference_run(loaders: dict[str, DataLoader]) -> tuple[nn.Module, History]:
    """The same run with :func:`leafdl.engine.fit`: same weights, data, optimizer, scheduler and patience."""
    model = capstone_model()
    config = TrainConfig(epochs=CAPSTONE_EPOCHS, max_patience=CAPSTONE_PATIENCE, lr=CAPSTONE_LR,
                         scheduler_patience=CAPSTONE_SCHEDULER_PATIENCE, seed=CAPSTONE_SEED, precision="fp32")
    history = fit(model, DataLoaders(loaders["train"], loaders["valid"], ["0", "1", "2", "3"]), config,
                  device=torch.device("cpu"), progress=False, log=lambda line: None, tune_allocator=False)
    return model, history


def _epoch_means(watch: _Watch) -> dict[str, list[tuple[float, float]]]:
    """Per key of the history: per epoch, (mean over the images, mean over the batches), from the losses seen."""
    means: dict[str, list[tuple[float, float]]] = {key: [] for key in HISTORY_KEYS[:4]}
    for epoch in range(1, watch.epoch + 1):
        for phase in ("train", "valid"):
            batches = [(loss, correct, images) for e, p, loss, correct, images in watch.losses
                       if (e, p) == (epoch, phase)]
            images = sum(n for _, _, n in batches) or 1
            count = len(batches) or 1
            means[f"{phase}_loss"].append((sum(loss * n for loss, _, n in batches) / images,
                                           sum(loss for loss, _, _ in batches) / count))
            means[f"{phase}_acc"].append((sum(c for _, c, _ in batches) / images,
                                          sum(c / n for _, c, n in batches) / count))
    return means


def _returned_verdict(returned: Any) -> CheckResult | None:
    if not (isinstance(returned, tuple) and len(returned) == 2):
        return wrong("return two things: (model, history).")
    model, history = returned
    if not isinstance(model, nn.Module):
        return wrong(f"the first thing returned should be the model (with its best weights), not {type(model).__name__}.")
    if not isinstance(history, dict) or not all(key in history for key in HISTORY_KEYS):
        return wrong(f"the history should be a dict with the lists {', '.join(HISTORY_KEYS)}.")
    return None


def _mode_verdict(watch: _Watch) -> CheckResult | None:
    """Train mode while training, eval mode and no gradients while validating."""
    phases = {phase for _, phase, _, _ in watch.forwards}
    if "train" not in phases or "valid" not in phases:
        return wrong("each epoch needs a pass over loaders['train'] (training) and one over loaders['valid'] "
                     "(validation), each batch through the model.")
    if any(phase == "valid" and training for _, phase, training, _ in watch.forwards):
        return wrong("the model was in train mode during validation: call model.eval() before the validation "
                     "pass, or BatchNorm judges each batch by its own statistics (and changes them).")
    if any(phase == "train" and not training for _, phase, training, _ in watch.forwards):
        return wrong("the model was in eval mode during a training pass: call model.train() at the start of "
                     "every training phase (validation left it in eval mode).")
    if any(phase == "valid" and gradients for _, phase, _, gradients in watch.forwards):
        return wrong("gradients were on during validation: wrap the validation pass in torch.no_grad() (or "
                     "torch.set_grad_enabled(phase == 'train')); they cost memory and time and are never used.")
    return None


def _optimizer_verdict(watch: _Watch, train_batches: int) -> CheckResult | None:
    """One step per training batch, on that batch's own gradients."""
    if not watch.steps:
        return wrong("the optimizer you were given never stepped: call optimizer.step() after loss.backward(), "
                     "with the `optimizer` argument (not a new one).")
    if any(phase == "valid" for _, phase, _, _ in watch.steps):
        return wrong("optimizer.step() ran during validation: the model learned from the validation photos. "
                     "Only the training phase steps.")
    states = {state for _, _, _, state in watch.steps}
    if "piled" in states:
        return wrong("the gradients pile up from batch to batch: call optimizer.zero_grad() before each "
                     "backward pass (PyTorch adds new gradients to the old ones).")
    if "wiped" in states:
        return wrong("the gradients were zero when optimizer.step() ran: zero_grad() belongs before the "
                     "forward pass, not between loss.backward() and optimizer.step().")
    if "no backward" in states:
        return wrong("optimizer.step() ran without a loss.backward() before it: each training batch needs both.")
    per_epoch = Counter(epoch for epoch, _, _, _ in watch.steps)
    if any(per_epoch[epoch] != train_batches for epoch in range(1, watch.epoch + 1)):
        return wrong(f"take one optimizer step per training batch: {train_batches} per epoch here.")
    return None


def _scheduler_verdict(history: dict, watch: _Watch, means: dict) -> CheckResult | None:
    """One scheduler step per epoch, on the validation accuracy; the history records the rate each epoch used."""
    if not watch.scheduler_steps:
        return wrong("the scheduler never stepped: call scheduler.step(...) once per epoch, after validation.")
    per_epoch = Counter(epoch for epoch, _, _ in watch.scheduler_steps)
    if any(per_epoch[epoch] != 1 for epoch in range(1, watch.epoch + 1)):
        return wrong("step the scheduler once per epoch, after the validation pass, not once per batch.")
    candidates = {"valid_acc": None,
                  "train_loss": "the training loss", "valid_loss": "the validation loss",
                  "train_acc": "the training accuracy"}
    given = [metric for _, _, metric in watch.scheduler_steps]
    for key, name in candidates.items():
        if all(close_to(metric, means[key][index][0], 1e-5) for index, metric in enumerate(given)):
            if name is None:
                break
            return wrong(f"the scheduler was stepped on {name}. It watches the validation accuracy "
                         "(mode='max': higher is better), so give it the epoch's validation accuracy.")
    else:
        return wrong("the scheduler should be given the epoch's validation accuracy (over all validation images), "
                     "once per epoch, after the validation pass.")
    used = [next(lr for e, _, lr, _ in watch.steps if e == epoch) for epoch in range(1, watch.epoch + 1)]
    if not all(close_to(given, lr, 1e-9) for given, lr in zip(history["lr"], used)):
        return wrong("history['lr'] should hold the learning rate each epoch trained with: read "
                     "optimizer.param_groups[0]['lr'] before scheduler.step().")
    return None


def _history_verdict(history: dict, watch: _Watch, means: dict) -> CheckResult | None:
    """One entry per epoch, the losses and accuracies averaged over the images."""
    epochs = watch.epoch
    for key in HISTORY_KEYS:
        if len(history[key]) != epochs:
            return wrong(f"history['{key}'] has {len(history[key])} entries for {epochs} epochs: append one "
                         "number per epoch, after the epoch's pass.")
    for key in HISTORY_KEYS[:4]:
        phase, what = key.split("_")
        for index, (per_image, per_batch) in enumerate(means[key]):
            given = history[key][index]
            if close_to(given, per_image, 1e-5):
                continue
            if close_to(given, per_batch, 1e-5):
                return wrong(f"history['{key}'] is the mean over the batches; the last batch is smaller: sum over "
                             "the images (each batch's loss times its size, or its correct count) and divide "
                             "by the number of images.")
            if what == "acc" and close_to(given, 100 * per_image, 1e-5):
                return wrong(f"history['{key}'] is a percentage: record accuracy as a share between 0 and 1.")
            return wrong(f"history['{key}'] of epoch {index + 1} is {given!r}, but the batches of that epoch give "
                         f"{per_image:.4f} (over all images of the {phase} pass).")
    return None


def _stopping_verdict(history: dict, epochs_run: int) -> CheckResult | None:
    """Early stopping after ``CAPSTONE_PATIENCE`` epochs in a row without a new best, judged on the student's accuracies."""
    accuracies = list(history["valid_acc"])
    expected = _stop_epoch(accuracies, CAPSTONE_PATIENCE)
    rule = (f"count the epochs without a new best (strictly higher; a tie is not one; the count restarts at 0 "
            f"on a new best) and stop as soon as it reaches patience ({CAPSTONE_PATIENCE})")
    if expected is None:   # the rule never fired: the run may stop only at its last epoch
        if epochs_run == CAPSTONE_EPOCHS:
            return None
        stopper = EarlyStopping(CAPSTONE_PATIENCE)
        for accuracy in accuracies:
            stopper.step(accuracy)
        count = stopper.epochs_without_improvement
        when = "one epoch early" if count == CAPSTONE_PATIENCE - 1 else "too early"
        return wrong(f"early stopping is {when}: your run stopped after epoch {epochs_run}, with {count} "
                     f"epoch(s) without a new best: {rule}.")
    if epochs_run == expected:
        return None
    if epochs_run == expected + 1:
        return wrong(f"early stopping is one epoch late: your run went to epoch {epochs_run}, but with your "
                     f"validation accuracies it ends after epoch {expected}: {rule} (>=, not >).")
    if epochs_run == CAPSTONE_EPOCHS:
        return wrong(f"your run trained all {CAPSTONE_EPOCHS} epochs, but with your validation accuracies early "
                     f"stopping ends it after epoch {expected}: {rule}.")
    return wrong(f"your run went on to epoch {epochs_run}, but with your validation accuracies early stopping "
                 f"ends it after epoch {expected}: {rule}.")


def _best_weights_verdict(model: nn.Module, history: dict, watch: _Watch) -> CheckResult | None:
    """The returned model holds the weights of the best epoch (the first with the highest validation accuracy)."""
    accuracies = list(history["valid_acc"])
    best_epoch = accuracies.index(max(accuracies)) + 1
    weights = snapshot(model)
    if same_weights(weights, watch.weights_after_valid[best_epoch]):
        return None
    if same_weights(weights, watch.weights_after_valid[watch.epoch]):
        return wrong(f"the model you returned has the last epoch's weights ({watch.epoch}), not the best epoch's "
                     f"({best_epoch}): when the validation accuracy improves, keep a copy.deepcopy of "
                     "model.state_dict() (the state_dict alone is a view that keeps changing), and load it "
                     "back before returning.")
    return wrong(f"the model you returned does not hold the weights of the best epoch ({best_epoch}, the first "
                 "with the highest validation accuracy): keep a copy.deepcopy of model.state_dict() whenever "
                 "the validation accuracy beats the best so far, and load it back at the end.")


def _reference_verdict(model: nn.Module, history: dict, loaders: dict[str, DataLoader]) -> CheckResult:
    """The last word: the same history and best weights as leafdl.engine.fit."""
    right_model, right = _reference_run(loaders)
    for key in HISTORY_KEYS:
        expected = getattr(right, key)
        if len(history[key]) != len(expected):
            return wrong(f"your run trained {len(history[key])} epochs, leafdl.engine.fit {len(expected)} on the same "
                         "data: compare your loop with the walk-through's, step by step.")
        for index, (given, value) in enumerate(zip(history[key], expected)):
            if not close_to(given, value, 1e-5):
                return wrong(f"history['{key}'] of epoch {index + 1} is {given:.4f}, leafdl.engine.fit's "
                             f"{value:.4f}, from the same weights and data: compare your loop with the "
                             "walk-through's, step by step.")
    if not same_weights(snapshot(model), snapshot(right_model), 1e-5):
        return wrong("your history matches leafdl.engine.fit's, but the weights you returned do not: return the "
                     "model with the best epoch's weights loaded.")
    cuts = [epoch for epoch in range(2, right.epochs + 1) if right.lr[epoch - 1] < right.lr[epoch - 2]]
    halved = f"the rate halved for epoch(s) {' and '.join(map(str, cuts))}, " if cuts else ""
    return report(True, f"the same {right.epochs} epochs as leafdl.engine.fit on the same apple photos: "
                        f"{halved}early stopping after epoch {right.epochs}, and the best epoch's weights "
                        f"({right.best_epoch}) returned. That is the loop leafdl runs.", "")


@checked
def check_train_model(train_model: Callable) -> CheckResult:
    """Notebook 11, the capstone: ``train_model(model, loaders, criterion, optimizer, scheduler, epochs, patience)``.

    Runs the student's function on a tiny network with BatchNorm over a few real apple
    photos (:func:`capstone_loaders`, :func:`capstone_model`; a few seconds on a CPU),
    handing it objects that note what it does: which mode the model is in and whether
    gradients are on in each phase, each optimizer step and the gradients it used, the
    number each scheduler step is given, each batch's loss. The hint names the first
    thing that differs from the document's loop. Last, the whole run is compared with
    :func:`leafdl.engine.fit` from the same weights: the same history, epoch by epoch,
    and the same best weights.
    """
    loaders = capstone_loaders()
    returned, watch = _watched_run(train_model, loaders)
    verdict = _returned_verdict(returned)
    if verdict is not None:
        return verdict
    model, history = returned
    means = _epoch_means(watch)
    checks = (lambda: _mode_verdict(watch),
              lambda: _optimizer_verdict(watch, len(loaders["train"])),
              lambda: _history_verdict(history, watch, means),
              lambda: _scheduler_verdict(history, watch, means),
              lambda: _stopping_verdict(history, watch.epoch),
              lambda: _best_weights_verdict(model, history, watch))
    for check in checks:
        verdict = check()
        if verdict is not None:
            return verdict
    return _reference_verdict(model, history, loaders)
