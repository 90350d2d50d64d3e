"""Self-checks of notebook 04 (transfer learning).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torchvision import models

from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, leaf_batches,
                                            not_answered, report, wrong)
from leafdl.models import count_parameters


def check_separable_conv_weights(answer: Any, c_in: int = 16, c_out: int = 32, kernel: int = 3) -> CheckResult:
    """Notebook 04, exercise 1: weights of a depthwise separable convolution from ``c_in`` to ``c_out``.

    The depthwise part has one ``kernel x kernel`` filter per input channel
    (``groups=c_in``), the pointwise part is a 1x1 convolution mixing ``c_in`` channels
    into ``c_out``. Both are built here with real ``nn.Conv2d`` layers and counted.
    """
    missing = not_answered(answer, f"the number of weights of depthwise {kernel}x{kernel} + pointwise 1x1, "
                                   f"{c_in}->{c_out}")
    if missing is not None:
        return missing
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


def _leaf_batch(img_size: int = 64) -> torch.Tensor:
    """One real demo leaf per class, as a normalised batch."""
    return next(iter(leaf_batches(per_class=1, img_size=img_size, batch_size=4)))[0]


def _classifier_verdict(model: nn.Module, num_classes: int) -> CheckResult | None:
    """What is wrong with the new classifier, or None: Dropout kept, ``Linear(1280, num_classes)`` last, trainable."""
    classifier = model.classifier
    if isinstance(getattr(model, "fc", None), nn.Linear):
        return wrong("MobileNetV2 has no .fc (that is ResNet's name): assigning model.fc adds a layer that forward() "
                     "never uses. Its last layer is model.classifier[1].")
    if isinstance(classifier, nn.Linear):
        return wrong("you replaced the whole classifier, and its Dropout with it: replace only its "
                     "Linear layer, model.classifier[1], and keep the Dropout before it.")
    linears = [layer for layer in classifier if isinstance(layer, nn.Linear)]
    if isinstance(classifier[0], nn.Linear):
        return wrong("you replaced model.classifier[0], which is the Dropout; the Linear layer is model.classifier[1].")
    if len(linears) > 1:
        return wrong("the classifier holds two Linear layers: ImageNet's Linear(1280, 1000) is still there. Replace "
                     "it (model.classifier[1] = ...), do not add a layer after it.")
    last = classifier[-1]
    if not isinstance(last, nn.Linear):
        return wrong(f"the classifier should end with an nn.Linear, not {type(last).__name__}.")
    if not any(isinstance(layer, nn.Dropout) for layer in classifier):
        return wrong("the classifier's Dropout is gone: replace only model.classifier[1].")
    if last.in_features == num_classes and last.out_features == 1280:
        return wrong(f"the new layer is Linear({last.in_features}, {last.out_features}): the arguments are "
                     "swapped. nn.Linear(in_features, out_features) takes the 1280 features in and gives "
                     "num_classes scores out.")
    if last.in_features != 1280:
        return wrong(f"the new layer takes {last.in_features} inputs, but MobileNetV2's features give "
                     "1280 numbers per image (model.last_channel).")
    if last.out_features != num_classes:
        return wrong(f"with num_classes={num_classes} the new layer has {last.out_features} outputs: use the "
                     "num_classes argument, not a fixed number.")
    if not all(p.requires_grad for p in last.parameters()):
        return wrong("the new classifier is frozen too: it must learn. Freeze the features "
                     "(or freeze everything first, then replace the layer): a new nn.Linear requires "
                     "gradients by default.")
    return None


@checked
def check_prepare_model(prepare_model: Callable[[nn.Module, int], nn.Module]) -> CheckResult:
    """Notebook 04, exercise 2: ``prepare_model(model, num_classes)`` freezes the features and replaces the classifier.

    Runs the student's function on a real torchvision MobileNetV2 (random weights: only the
    structure matters here), with 4 classes and then 38, and checks what the document's
    recipe guarantees: every parameter of ``model.features`` frozen, the classifier's
    Dropout kept, its Linear layer replaced by a trainable ``Linear(1280, num_classes)``,
    and real leaves going through to ``num_classes`` scores each.
    """
    for num_classes in (4, 38):
        torch.manual_seed(0)
        model = models.mobilenet_v2(weights=None)
        result = call_student(prepare_model, model, num_classes)
        if result is None:
            return wrong("return the model at the end of prepare_model, so that it can be used as "
                         "model = prepare_model(model, num_classes).")
        if not isinstance(result, nn.Module):
            return wrong(f"return the model (an nn.Module); yours returns a value of type {type(result).__name__}.")
        features = getattr(result, "features", None)
        if features is None:
            return wrong("the model lost its .features: freeze them, do not replace them.")
        still_trainable = sum(p.numel() for p in features.parameters() if p.requires_grad)
        if still_trainable and not features.training:
            return wrong("model.features is in eval mode, but eval() does not freeze anything: it switches Dropout "
                         "and BatchNorm to their inference behaviour. Freezing is p.requires_grad = False for every "
                         "parameter of model.features.")
        if still_trainable:
            return wrong(f"{still_trainable:,} parameters of model.features still require gradients: freeze "
                         "every parameter of the features (p.requires_grad = False), so that training "
                         "changes only the new classifier.")
        verdict = _classifier_verdict(result, num_classes)
        if verdict is not None:
            return verdict
        result.eval()
        with torch.no_grad():
            scores = call_student(result, _leaf_batch())
        if tuple(scores.shape) != (4, num_classes):
            return wrong(f"four leaves give scores of shape {tuple(scores.shape)}, not (4, {num_classes}).")
    counts = count_parameters(result)
    return report(True, f"{counts.trainable:,} trainable parameters (the new Linear(1280, 38)) out of "
                        f"{counts.total:,}: the features are frozen and only the classifier learns.", "")
