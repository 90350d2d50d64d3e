"""Self-checks for the notebooks' exercises.

Each exercise ends with a cell such as::

    answer = None        # replace None with your answer
    check_iterations_per_epoch(answer)

which prints ``Correct`` with a sentence on why, or ``Not yet`` with a hint. The checks
compute the right answer themselves (they never store it as a bare number), so reading
this file teaches as much as the solution. Worked solutions are in
``notebooks/solutions/``, out of the way until you want them.
"""

from __future__ import annotations

import math
from typing import Any


def report(correct: bool, why: str, hint: str) -> bool:
    """Print the verdict of a self-check and return it."""
    if correct:
        print(f"Correct! {why}")
    else:
        print(f"Not yet. Hint: {hint}")
    return correct


def not_answered(answer: Any, what: str) -> bool:
    """True (after saying so) when the student has not replaced the placeholder yet."""
    if answer is None or answer is ...:
        print(f"Not answered yet: replace None with {what}, then run the cell again.")
        return True
    return False


def close_to(answer: Any, expected: float, tolerance: float = 1e-6) -> bool:
    """True when ``answer`` is a number within ``tolerance`` of ``expected``."""
    try:
        return math.isclose(float(answer), expected, rel_tol=tolerance, abs_tol=tolerance)
    except (TypeError, ValueError):
        return False


# Each notebook's checks follow, in notebook order, under a header "# --- Notebook NN ---".


# --- Notebook 09: saving and loading ---


def check_classifier_numbers(answer: Any, num_classes: int = 38, features: int = 1280) -> bool:
    """Notebook 09, exercise 1: numbers in the new classifier ``Linear(features, num_classes)``.

    The weight is a ``(num_classes, features)`` matrix and the bias has one number per
    class, so the count is ``num_classes * features + num_classes``. Computed here by
    building the layer and counting, the way you would check it in code.
    """
    from torch import nn

    if not_answered(answer, f"the number of weights and biases of Linear({features}, {num_classes})"):
        return False
    layer = nn.Linear(features, num_classes)
    expected = sum(parameter.numel() for parameter in layer.parameters())
    return report(close_to(answer, expected),
                  f"{num_classes} x {features} weights + {num_classes} biases = {expected:,} numbers. "
                  f"A 4-class checkpoint holds {4 * features + 4:,}, so its tensors cannot fit this layer.",
                  f"the weight has shape ({num_classes}, {features}) and the bias ({num_classes},); "
                  "add the two sizes.")


def check_batchnorm_count(answer: Any, arch: str = "efficientnet_lite0") -> bool:
    """Notebook 09, exercise 2: how many ``num_batches_tracked`` buffers the model's state_dict holds.

    Builds the course model (without pretrained weights: only its shape matters) and
    counts the entries, which is one per BatchNorm layer.
    """
    from leafdl.models import build_model

    if not_answered(answer, "the number of num_batches_tracked entries in model.state_dict()"):
        return False
    model, _ = build_model(4, arch=arch, pretrained=False, verbose=False)
    expected = sum(1 for name in model.state_dict() if name.endswith("num_batches_tracked"))
    return report(close_to(answer, expected),
                  f"{expected} BatchNorm layers, each with weight, bias, running_mean, running_var and "
                  "num_batches_tracked: the last three are buffers, saved but never trained.",
                  "count the keys: sum(name.endswith('num_batches_tracked') for name in model.state_dict()).")


# --- Notebook 00: overview ---


def _demo_image_count() -> int:
    from leafdl.course import demo_data
    from leafdl.data import scan_class_folders

    leaves, _ = demo_data()
    return sum(scan_class_folders(leaves, check_images=False).counts.values())


def check_total_images(answer: Any) -> bool:
    """Notebook 00, exercise 1: the number of images in the whole demo dataset."""
    if not_answered(answer, "the total number of images, e.g. sum(scan.counts.values())"):
        return False
    expected = _demo_image_count()
    return report(close_to(answer, expected),
                  f"{expected} images: the sum of the per-class counts.",
                  "add up the four class counts: sum(scan.counts.values()).")


def check_demo_validation_images(answer: Any) -> bool:
    """Notebook 00, exercise 2: how many demo images a 0.2 validation share keeps aside."""
    if not_answered(answer, "the number of validation images"):
        return False
    total = _demo_image_count()
    expected = math.ceil(0.2 * total)
    return report(close_to(answer, expected),
                  f"ceil(0.2 x {total}) = {expected} images for validation, {total - expected} for training.",
                  "multiply the total number of images by 0.2 and round up.")


# --- Notebook 12: fine-tuning ---


def check_trainable_after_unfreezing(answer: Any, blocks: int = 2, arch: str = "efficientnet_lite0") -> bool:
    """Notebook 12, exercise 1: trainable parameters after unfreezing the last ``blocks`` blocks."""
    if not_answered(answer, "count_parameters(model).trainable after unfreeze_last_blocks(model, 2)"):
        return False
    from leafdl.models import build_model, count_parameters, unfreeze_last_blocks

    model, _ = build_model(4, arch=arch, pretrained=False, verbose=False)
    unfreeze_last_blocks(model, blocks)
    expected = count_parameters(model).trainable
    return report(close_to(answer, expected),
                  f"{expected:,} parameters: the classifier's 5,124 plus those of the last {blocks} blocks.",
                  "build the model, call unfreeze_last_blocks(model, 2), then count_parameters(model).trainable.")


def check_backbone_learning_rate(answer: Any) -> bool:
    """Notebook 12, exercise 2: how the backbone's learning rate compares with the classifier's."""
    if not_answered(answer, '"larger", "the same" or "smaller"'):
        return False
    return report(str(answer).strip().lower() == "smaller",
                  "The pretrained blocks are already good; small steps adapt them without "
                  "destroying what they learnt on ImageNet. The new classifier starts from scratch.",
                  "which part of the model starts from random weights, and which is already trained?")


def check_smallest_crop_side(answer: Any, photo_side: int = 500, crop_scale_min: float = 0.08) -> bool:
    """Notebook 12, exercise 3: side in pixels of the smallest square training crop of a photo.

    ``RandomResizedCrop(scale=(crop_scale_min, 1.0))`` keeps at least ``crop_scale_min`` of
    the photo's area; a square holding that share of a ``photo_side`` x ``photo_side``
    photo is ``photo_side * sqrt(crop_scale_min)`` pixels wide.
    """
    if not_answered(answer, f"the side in pixels of a square crop holding {crop_scale_min:.0%} of the photo's area"):
        return False
    expected = photo_side * math.sqrt(crop_scale_min)
    return report(close_to(answer, expected, tolerance=0.01),
                  f"about {expected:.0f} px of the {photo_side} px photo: a crop that small can miss "
                  "every diseased leaf in a field photo, which is why the field recipe keeps at least 35%.",
                  f"the crop's area is {crop_scale_min} x {photo_side} x {photo_side} pixels; a square's side "
                  "is the square root of its area.")


# --- Notebook 04: transfer learning ---


def check_separable_conv_weights(answer: Any, c_in: int = 16, c_out: int = 32, kernel: int = 3) -> bool:
    """Notebook 04, exercise 1: weights of a depthwise separable convolution from ``c_in`` to ``c_out``.

    The depthwise part has one ``kernel x kernel`` filter per input channel
    (``groups=c_in``), the pointwise part is a 1x1 convolution mixing ``c_in`` channels
    into ``c_out``. Both are built here with real ``nn.Conv2d`` layers and counted.
    """
    from torch import nn

    if not_answered(answer, f"the number of weights of depthwise {kernel}x{kernel} + pointwise 1x1, {c_in}->{c_out}"):
        return False
    depthwise = nn.Conv2d(c_in, c_in, kernel, padding=kernel // 2, groups=c_in, bias=False)
    pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)
    standard = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False)
    dw, pw, full = (sum(p.numel() for p in layer.parameters()) for layer in (depthwise, pointwise, standard))
    return report(close_to(answer, dw + pw),
                  f"{kernel}*{kernel}*{c_in} = {dw} depthwise + {c_in}*{c_out} = {pw} pointwise = {dw + pw} "
                  f"weights, against {full:,} for a standard {kernel}x{kernel} convolution "
                  f"({full / (dw + pw):.1f}x more).",
                  f"depthwise: one {kernel}x{kernel} filter per input channel ({kernel}*{kernel}*{c_in}); "
                  f"pointwise: a 1x1 filter for each (input, output) pair ({c_in}*{c_out}). Add them.")


def check_resnet50_trainable(answer: Any, num_classes: int = 4) -> bool:
    """Notebook 04, exercise 2: trainable parameters of a frozen ResNet50 with a new ``fc`` layer.

    Builds ResNet50 (random weights: only the shapes matter), freezes everything, replaces
    ``fc`` by ``nn.Linear(2048, num_classes)`` and counts what still requires gradients.
    """
    from torch import nn
    from torchvision import models

    from leafdl.models import count_parameters

    if not_answered(answer, "count_parameters(resnet50).trainable after freezing and replacing fc"):
        return False
    resnet50 = models.resnet50(weights=None)
    for p in resnet50.parameters():
        p.requires_grad = False
    resnet50.fc = nn.Linear(resnet50.fc.in_features, num_classes)
    counts = count_parameters(resnet50)
    features = resnet50.fc.in_features
    return report(close_to(answer, counts.trainable),
                  f"{num_classes} x {features} weights + {num_classes} biases = {counts.trainable:,} trainable, "
                  f"out of {counts.total:,}. ResNet50's pooled features are {features} numbers, not 1280.",
                  f"only the new layer is trainable: Linear({features}, {num_classes}) has a weight matrix "
                  f"and one bias per class.")


# --- Notebook 01: hardware ---


def check_matmul_flops(answer: Any, n: int = 512) -> bool:
    """Notebook 01, exercise 1: floating-point operations in an (n x n) @ (n x n) product."""
    if not_answered(answer, f"the number of FLOPs for n = {n}"):
        return False
    outputs = n * n                 # one number per row of A and column of B
    per_output = n + n              # n multiplications and n additions each
    expected = outputs * per_output
    return report(close_to(answer, expected),
                  f"{n}x{n} outputs, each {n} multiplications and {n} additions: 2 x {n}^3 = {expected:,} FLOPs.",
                  "count the outputs (n x n), then the multiplications and additions that make each one.")


def check_batch_bytes(answer: Any, batch_size: int = 32, channels: int = 3, size: int = 224,
                      bytes_per_value: int = 4) -> bool:
    """Notebook 01, exercise 2: bytes of one float32 batch of images."""
    if not_answered(answer, "the number of bytes"):
        return False
    values = batch_size * channels * size * size
    expected = values * bytes_per_value
    return report(close_to(answer, expected),
                  f"{batch_size} x {channels} x {size} x {size} = {values:,} values x {bytes_per_value} bytes "
                  f"= {expected:,} bytes, about {expected / 2**20:.1f} MiB.",
                  "multiply the four numbers of the shape, then the bytes per value (float32 = 4).")


# --- Notebook 02: data split ---


def check_validation_size(answer: Any, n_images: int = 1001, test_size: float = 0.2) -> bool:
    """Notebook 02, exercise 1: how many images train_test_split holds out for validation."""
    if not_answered(answer, "the number of validation images"):
        return False
    from sklearn.model_selection import train_test_split

    _, valid = train_test_split(list(range(n_images)), test_size=test_size, random_state=0)
    expected = len(valid)
    return report(close_to(answer, expected),
                  f"{test_size} x {n_images} = {test_size * n_images:g}, rounded up: {expected} images "
                  f"for validation, {n_images - expected} for training.",
                  f"multiply {n_images} by {test_size}; train_test_split rounds the held-out part up.")


def check_stratified_rare_class(answer: Any, common: int = 90, rare: int = 10, test_size: float = 0.2) -> bool:
    """Notebook 02, exercise 2: how many images of a rare class a stratified split holds out."""
    if not_answered(answer, "the number of rare-class images in validation"):
        return False
    from sklearn.model_selection import train_test_split

    labels = ["common"] * common + ["rare"] * rare
    _, valid_labels = train_test_split(labels, test_size=test_size, random_state=0, stratify=labels)
    expected = valid_labels.count("rare")
    return report(close_to(answer, expected),
                  f"stratification keeps each class's share: {test_size:.0%} of {rare} rare images is {expected}.",
                  f"with stratify, every class gives the same share ({test_size:.0%}) of its own images.")


# --- Notebook 03: data loading ---


def check_last_batch_size(answer: Any, n_images: int = 1000, batch_size: int = 32) -> bool:
    """Notebook 03, exercise 1: how many images the last batch of an epoch holds."""
    if not_answered(answer, "the number of images in the last batch"):
        return False
    iterations = math.ceil(n_images / batch_size)
    expected = n_images - (iterations - 1) * batch_size
    return report(close_to(answer, expected),
                  f"{iterations} iterations: {iterations - 1} full batches of {batch_size} hold "
                  f"{(iterations - 1) * batch_size} images, and the last one holds the remaining {expected}.",
                  f"count the full batches of {batch_size} first; the last batch gets what is left.")


def check_normalized_value(answer: Any, pixel: int = 255, channel: int = 0) -> bool:
    """Notebook 03, exercise 2: a pixel value after ToTensor and ImageNet Normalize."""
    if not_answered(answer, "the normalised value"):
        return False
    from leafdl.config import IMAGENET_MEAN, IMAGENET_STD

    scaled = pixel / 255
    expected = (scaled - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
    return report(close_to(answer, expected, tolerance=1e-3),
                  f"ToTensor gives {pixel}/255 = {scaled:.4f}; Normalize gives "
                  f"({scaled:.4f} - {IMAGENET_MEAN[channel]}) / {IMAGENET_STD[channel]} = {expected:.4f}.",
                  "first divide by 255 (ToTensor), then subtract the channel's mean and divide by its std.")


# --- Notebook 10: metrics and visualisation ---


def check_precision_of_class(answer: Any, matrix, classes: list[str], class_name: str) -> bool:
    """Notebook 10, exercise 1: precision of one class from a confusion matrix.

    Rows are true classes, columns predicted ones (scikit-learn's convention). Precision
    asks "of the leaves *called* this class, how many were it?": the diagonal cell
    divided by the sum of the class's **column**. (Dividing by the row gives recall.)
    """
    import numpy as np

    if not_answered(answer, f"the precision of {class_name}, a number between 0 and 1"):
        return False
    matrix = np.asarray(matrix)
    index = list(classes).index(class_name)
    called = matrix[:, index].sum()
    expected = float(matrix[index, index] / called) if called else 0.0
    recall = float(matrix[index, index] / matrix[index, :].sum())
    if close_to(answer, recall, 1e-3) and not close_to(recall, expected, 1e-3):
        return report(False, "", "that is the recall (you divided by the row). Precision divides the "
                                 "diagonal cell by the column: everything *called* this class.")
    return report(close_to(answer, expected, 1e-3),
                  f"{matrix[index, index]} of the {called} leaves called {class_name} really were: "
                  f"precision {expected:.3f} (recall, from the row, is {recall:.3f}).",
                  f"take the {class_name} column: the diagonal cell divided by the column's total.")


def check_gap_reading(answer: Any, train_acc: float = 0.97, valid_acc: float = 0.81) -> bool:
    """Notebook 10, exercise 2: read ``train_acc - valid_acc`` with the document's gap table.

    The expected word is the first word of :func:`leafdl.metrics.interpret_gap`'s
    reading: "good", "mild" or "significant".
    """
    from leafdl.metrics import interpret_gap

    if not_answered(answer, '"good", "mild" or "significant"'):
        return False
    gap = train_acc - valid_acc
    reading = interpret_gap(gap)
    expected = reading.split()[0]
    given = str(answer).strip().lower()
    return report(given == expected or given.startswith(expected),
                  f"gap = {train_acc} - {valid_acc} = {gap:.2f}: {reading}.",
                  f"compute {train_acc} - {valid_acc} and compare it with 0.1 and 0.2.")


# --- Notebook 11: the full pipeline ---


def check_resume_command(answer: Any, data_dir: str = "photos/apple", out: str = "runs/apple",
                         epochs: int = 20, device: str = "cuda") -> bool:
    """Notebook 11, exercise 1: the command line that resumes an interrupted GPU run.

    The answer is parsed by the real ``leafdl`` argument parser, so any spelling the
    command accepts counts (options in any order, ``leafdl`` in front or not). Resuming
    needs the same data, the same run folder and the same number of epochs, plus
    ``--resume``.
    """
    import contextlib
    import io
    import shlex
    from pathlib import Path

    from leafdl.cli import build_parser

    if not_answered(answer, 'the command as a string, e.g. "leafdl train ..."'):
        return False
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


def check_optimizer_steps(answer: Any, n_images: int = 1000) -> bool:
    """Notebook 11, exercise 2: optimizer steps of a full ``leafdl train`` run with the document's defaults.

    The split keeps ``ceil(valid_split * n)`` images for validation (scikit-learn rounds
    the test share up); the rest train in batches of ``batch_size`` (the last one may be
    smaller), one optimizer step per batch, for ``epochs`` epochs.
    """
    from leafdl.config import TrainConfig

    if not_answered(answer, "the number of optimizer steps (batches) in the whole run"):
        return False
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


# --- Notebook 05: the training loop ---


def check_iterations_per_epoch(answer: Any, images: int = 1500, batch_size: int = 64) -> bool:
    """Notebook 05, exercise 1: iterations (batches) in one epoch of ``images`` images.

    Every batch is one iteration, and the last batch takes what is left, so the count is
    ``images / batch_size`` rounded *up*. Checked against a real DataLoader's length.
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    if not_answered(answer, f"the number of batches of {batch_size} needed for {images} images"):
        return False
    expected = len(DataLoader(TensorDataset(torch.zeros(images)), batch_size=batch_size))
    last = images - (expected - 1) * batch_size
    return report(close_to(answer, expected),
                  f"⌈{images}/{batch_size}⌉ = ⌈{images / batch_size:.2f}⌉ = {expected}: "
                  f"{expected - 1} full batches and a last one of {last} images.",
                  f"{images}/{batch_size} = {images / batch_size:.2f} is not a whole number; "
                  "the images left over still need a (smaller) batch, so round up.")


def check_cross_entropy(answer: Any, logits: tuple[float, ...] = (2.0, 1.0, 0.1), true_class: int = 1) -> bool:
    """Notebook 05, exercise 2: the cross-entropy loss of one image's ``logits``.

    Computed with ``nn.CrossEntropyLoss`` (softmax, then -log of the true class's
    probability). Three decimals are enough.
    """
    import torch
    from torch import nn

    if not_answered(answer, "the loss, a number such as 0.123"):
        return False
    outputs = torch.tensor([logits])
    expected = nn.CrossEntropyLoss()(outputs, torch.tensor([true_class])).item()
    p_true = torch.softmax(outputs, dim=1)[0, true_class].item()
    return report(close_to(answer, expected, tolerance=2e-3),
                  f"softmax gives the true class a probability of {p_true:.4f}, and "
                  f"-log({p_true:.4f}) = {expected:.4f}.",
                  "softmax first: exp of each logit divided by the sum of the exps; then take "
                  f"-log of the probability at index {true_class} (indices start at 0).")


# --- Notebook 07: learning-rate scheduling ---


def check_first_reduction_epoch(answer: Any, metrics: list[float], patience: int = 2, factor: float = 0.5) -> bool:
    """Notebook 07, exercise 1: after which epoch ReduceLROnPlateau (mode="max") first cuts the rate."""
    if not_answered(answer, "an epoch number"):
        return False
    from leafdl.widgets import trace_plateau_schedule

    steps = trace_plateau_schedule(metrics, factor=factor, patience=patience, mode="max")
    reduced = [step.epoch for step in steps if step.reduced]
    if not reduced:
        print("(This series never triggers a cut: the answer is None.)")
        return False
    expected = reduced[0]
    counts = ", ".join(str(step.bad_epochs) for step in steps[:expected])
    return report(close_to(answer, expected),
                  f"the bad-epoch counts run {counts}: epoch {expected} is the first to exceed patience {patience}.",
                  f"write down the best so far and the count of bad epochs after each epoch; the cut comes "
                  f"when the count exceeds {patience} (a tie is not an improvement).")


def check_lr_after_reductions(answer: Any, lr: float = 0.001, factor: float = 0.5, reductions: int = 3) -> bool:
    """Notebook 07, exercise 2: the learning rate after several cuts by ``factor``."""
    if not_answered(answer, "the learning rate"):
        return False
    expected = lr
    for _ in range(reductions):
        expected *= factor
    return report(close_to(answer, expected, tolerance=1e-9),
                  f"{lr:g} x {factor:g}^{reductions} = {expected:g}.",
                  f"each cut multiplies the rate by {factor}; do it {reductions} times.")


# --- Notebook 06: training and evaluation mode ---


def check_dropout_survivor(answer: Any, p: float = 0.2) -> bool:
    """Notebook 06, exercise 1: what a kept value of 1.0 becomes in ``nn.Dropout(p)``, training mode.

    Measured on a real dropout layer: the largest output for an input of ones is the value
    of the survivors, ``1 / (1 - p)``.
    """
    import torch
    from torch import nn

    if not_answered(answer, "the value a kept 1.0 has after dropout in training mode"):
        return False
    dropout = nn.Dropout(p).train()
    generator_state = torch.get_rng_state()
    expected = dropout(torch.ones(1000)).max().item()
    torch.set_rng_state(generator_state)   # leave the notebook's random numbers as they were
    return report(close_to(answer, expected, tolerance=1e-4),
                  f"1 / (1 - {p}) = {expected:.2f}: the survivors are scaled up so that the average "
                  "stays the same as without dropout, which lets eval mode simply do nothing.",
                  "the kept values are not left as they are: they are divided by (1 - p).")


def check_running_mean_after_two_batches(answer: Any, means: tuple[float, ...] = (4.0, 6.0),
                                         momentum: float = 0.1) -> bool:
    """Notebook 06, exercise 2: a BatchNorm's ``running_mean`` after training batches with these means.

    Feeds a real ``nn.BatchNorm1d(1)`` one two-sample batch per mean, in training mode,
    and reads its running mean.
    """
    import torch
    from torch import nn

    if not_answered(answer, "the running_mean after the two batches"):
        return False
    bn = nn.BatchNorm1d(1, momentum=momentum).train()
    for mean in means:
        bn(torch.tensor([[mean - 1.0], [mean + 1.0]]))   # a batch whose mean is `mean`
    expected = bn.running_mean.item()
    first = momentum * means[0]
    return report(close_to(answer, expected, tolerance=1e-4),
                  f"after the first batch 0.9 x 0 + 0.1 x {means[0]} = {first:.2f}; after the second "
                  f"0.9 x {first:.2f} + 0.1 x {means[1]} = {expected:.2f}. Far from the data's mean "
                  "(about 5): the running averages need many batches to settle.",
                  "apply running = (1 - momentum) * running + momentum * batch_mean twice, "
                  "starting from running = 0.")


# --- Notebook 08: early stopping ---


def _stop_epoch(accuracies: list[float], patience: int) -> int | None:
    """The 1-based epoch after which EarlyStopping(patience) stops, or None if it never does."""
    from leafdl.engine import EarlyStopping

    stopper = EarlyStopping(patience=patience)
    for epoch, accuracy in enumerate(accuracies, start=1):
        stopper.step(accuracy)
        if stopper.should_stop:
            return epoch
    return None


EXERCISE_08_ACCURACIES = (0.70, 0.78, 0.81, 0.80, 0.81, 0.83, 0.82, 0.82, 0.83, 0.84)


def check_stop_epoch(answer: Any, accuracies: tuple[float, ...] = EXERCISE_08_ACCURACIES,
                     patience: int = 3) -> bool:
    """Notebook 08, exercise 1: after which epoch early stopping ends this run.

    Replays the accuracies through :class:`leafdl.engine.EarlyStopping`.
    """
    if not_answered(answer, "the epoch number (1 for the first epoch) after which training stops"):
        return False
    expected = _stop_epoch(list(accuracies), patience)
    best = max(accuracies[:expected])
    best_epoch = accuracies.index(best) + 1
    return report(close_to(answer, expected),
                  f"the best is {best:.2f} at epoch {best_epoch}; epochs {best_epoch + 1} to {expected} "
                  f"do not beat it (the {best:.2f} at epoch {expected} only ties it), so the counter "
                  f"reaches {patience} after epoch {expected}.",
                  "a new best must be strictly greater; an equal accuracy adds 1 to the counter, "
                  "and the counter restarts at 0 on every new best.")


def check_latest_useful_best_epoch(answer: Any, epochs: int = 20, patience: int = 7) -> bool:
    """Notebook 08, exercise 2: the latest best epoch for which early stopping saves an epoch.

    Tries every best epoch with a run that rises until it and stays flat after it, and
    keeps those whose stop comes before the last epoch.
    """
    if not_answered(answer, "an epoch number"):
        return False
    useful = []
    for best in range(1, epochs + 1):
        accuracies = [0.5 + 0.01 * min(epoch, best) for epoch in range(1, epochs + 1)]
        stopped = _stop_epoch(accuracies, patience)
        if stopped is not None and stopped < epochs:
            useful.append(best)
    expected = max(useful)
    return report(close_to(answer, expected),
                  f"with its best at epoch {expected}, the run stops after epoch {expected + patience}, "
                  f"before epoch {epochs}; with the best at {expected + 1} it would stop exactly at epoch "
                  f"{epochs}, saving nothing. In general: {epochs} - {patience} - 1 = {expected}.",
                  f"with the best at epoch b, training stops after epoch b + {patience}; "
                  f"it saves something only if that is before epoch {epochs}.")
