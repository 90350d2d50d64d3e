"""Self-checks of notebook 03 (data loading).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from PIL import Image

from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.course.exercises.common import (CheckResult, call_student, checked, close_to, demo_images,
                                            not_answered, report, wrong)
from leafdl.data import load_rgb


def check_last_batch_size(answer: Any, n_images: int = 1000, batch_size: int = 32) -> CheckResult:
    """Notebook 03, exercise 1: how many images the last batch of an epoch holds."""
    missing = not_answered(answer, "the number of images in the last batch")
    if missing is not None:
        return missing
    iterations = math.ceil(n_images / batch_size)
    expected = n_images - (iterations - 1) * batch_size
    return report(close_to(answer, expected),
                  f"{iterations} iterations: {iterations - 1} full batches of {batch_size} hold "
                  f"{(iterations - 1) * batch_size} images, and the last one holds the remaining {expected}.",
                  f"count the full batches of {batch_size} first; the last batch gets what is left.")


def _probes() -> tuple[Image.Image, Image.Image, Image.Image]:
    """A real demo leaf cut to a 3:2 landscape photo (real photos are rarely square), and a
    black and a white image of the same size.

    Black and white stay black and white under every crop, flip and rotation, so their
    normalised values tell the mean and the std apart: black gives ``-mean / std`` in each
    channel, white ``(1 - mean) / std``.
    """
    leaf = load_rgb(next(iter(demo_images(1).values()))[0])
    width, height = leaf.size
    photo = leaf.crop((0, height // 6, width, height // 6 + width * 2 // 3))
    return photo, Image.new("RGB", photo.size), Image.new("RGB", photo.size, (255, 255, 255))


def _outputs(transform, image, seeds=(1,)) -> list:
    """``transform(image)`` under each random seed, leaving the notebook's random numbers as they were."""
    results = []
    with torch.random.fork_rng(devices=[]):
        for seed in seeds:
            torch.manual_seed(seed)
            results.append(call_student(transform, image, advice=TRANSFORM_ADVICE))
    return results


ORDER_ADVICE = "Crops and flips work on PIL images, Normalize on tensors: ToTensor() goes between them."


TRANSFORM_ADVICE = {
    "Input tensor should be a float tensor": "Normalize needs floats: ToTensor() (or v2.ToDtype(torch.float32, "
                                             "scale=True)) before it.",
    TypeError: ORDER_ADVICE,
}


def _channel_means(transform, image) -> torch.Tensor:
    return _outputs(transform, image)[0].float().mean(dim=(1, 2))


def _normalisation_verdict(name: str, transform, black: Image.Image, white: Image.Image | None) -> CheckResult | None:
    """What is wrong with how ``transform`` scales and normalises, or None (ImageNet's mean and std on 0..1).

    ``white`` is None for the training transform: colour jitter may darken white, never black.
    """
    mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    dark = _channel_means(transform, black)
    bright = (1 - mean) / std if white is None else _channel_means(transform, white)
    if torch.allclose(dark, -mean / std, atol=1e-3) and torch.allclose(bright, (1 - mean) / std, atol=1e-3):
        return None
    if torch.allclose(dark, torch.zeros(3), atol=1e-3):
        return wrong(f"the {name} transform does not normalise: add transforms.Normalize(IMAGENET_MEAN, "
                     "IMAGENET_STD) after ToTensor().")
    if torch.allclose(bright, torch.full((3,), 255.0), atol=1e-2) or torch.allclose(bright, (255 - mean) / std,
                                                                                       atol=1e-2):
        return wrong(f"the {name} transform gives values up to 255: scale them to 0..1 first (ToTensor() does, "
                     "or v2.ToDtype(torch.float32, scale=True)); ImageNet's mean and std are on that scale.")
    if torch.allclose(dark, -mean / std, atol=1e-3):
        return wrong(f"the {name} transform's mean and std are on the 0-255 scale (123.7, 58.4, ...), but "
                     "ToTensor() gives values in 0..1: use IMAGENET_MEAN and IMAGENET_STD as they are (0.485, "
                     "0.229, ...).")
    if torch.allclose(dark, -std / mean, atol=1e-3):
        return wrong(f"the {name} transform swaps mean and std: Normalize(mean, std) takes the mean first.")
    return wrong(f"the {name} transform normalises with other numbers than ImageNet's: the pretrained "
                 "network learnt with IMAGENET_MEAN and IMAGENET_STD, so its inputs must use them too.")


@checked
def check_make_transforms(make_transforms: Callable[[int], tuple], img_size: int = 64) -> CheckResult:
    """Notebook 03, exercise 2: ``make_transforms(img_size)`` returns ``(train_transform, valid_transform)``.

    Both are run on a real demo leaf cut to a 3:2 landscape photo, under six random seeds:

    - each must give a float tensor of shape ``(3, img_size, img_size)``: a square, even
      from a photo that is not one (``Resize(img_size)`` alone keeps the 3:2 shape);
    - the training transform must be random (augmentation), the validation one must not:
      validation measures the same images the same way every epoch;
    - both must scale to 0..1 and normalise with ImageNet's mean and std, checked on a
      black image (normalised: ``-mean / std``) and, for validation, a white one
      (``(1 - mean) / std``; colour jitter may darken white in training): the 0-255 scale
      and swapped arguments have hints of their own.

    ``transforms.v2`` pipelines pass too, and so does a list instead of a tuple.
    """
    made = call_student(make_transforms, img_size)
    if isinstance(made, dict):
        return wrong("return a pair, (train_transform, valid_transform), not a dict.")
    if not (isinstance(made, (tuple, list)) and len(made) == 2 and all(callable(part) for part in made)):
        return wrong("return two transforms, (train_transform, valid_transform), e.g. two transforms.Compose([...]).")
    photo, black, white = _probes()
    views = {name: _outputs(transform, photo, seeds=range(1, 7)) for name, transform in zip(("training", "validation"),
                                                                                              made)}
    for name, transform in zip(("training", "validation"), made):
        first = views[name][0]
        if not isinstance(first, torch.Tensor):
            return wrong(f"the {name} transform returns a {type(first).__name__}, not a tensor: "
                         "the network reads tensors; add transforms.ToTensor().")
        if tuple(first.shape) != (3, img_size, img_size):
            rectangle = first.dim() == 3 and first.shape[1] != first.shape[2]
            return wrong(f"on a 3:2 photo the {name} transform gives shape {tuple(first.shape)}; it should be "
                         f"(3, {img_size}, {img_size})" + (": Resize(img_size) keeps the photo's shape (the short "
                                                           "side becomes img_size); then take the centre square "
                                                           "with CenterCrop(img_size)." if rectangle else "."))
        if not first.is_floating_point():
            return wrong(f"the {name} transform gives {first.dtype} values; ToTensor() turns 0..255 into floats 0..1.")
        verdict = _normalisation_verdict(name, transform, black, white if name == "validation" else None)
        if verdict is not None:
            return verdict
    train_same = all(torch.equal(view, views["training"][0]) for view in views["training"])
    valid_same = all(torch.equal(view, views["validation"][0]) for view in views["validation"])
    if train_same and not valid_same:
        return wrong("the first transform is the same every time and the second is random: return them in the "
                     "order (train_transform, valid_transform).")
    if train_same:
        return wrong("the training transform gives the same tensor every time: without random "
                     "augmentation (RandomResizedCrop, RandomHorizontalFlip) the network sees identical "
                     "images every epoch.")
    first = views["training"][0]
    if all(torch.equal(view, first) or torch.equal(view, first.flip(-1)) for view in views["training"]):
        return wrong("the training images are only flipped: without a random crop (the document's "
                     "RandomResizedCrop) the leaf always has the same size and place.")
    if not valid_same:
        return wrong("the validation transform is random: it changes the image each time, so the "
                     "validation score changes with luck. No RandomResizedCrop or flips there: "
                     "resize and take the centre.")
    return report(True, f"random {img_size}x{img_size} crops for training, the same centred square for "
                        "validation, both normalised with ImageNet's statistics. leafdl.data."
                        "train_transforms and eval_transforms add a flip, a rotation and colour jitter.", "")
