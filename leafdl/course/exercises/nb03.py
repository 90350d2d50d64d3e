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


def _leaf_and_black() -> tuple[Image.Image, Image.Image]:
    """A real demo leaf, and a black image of the same size (black stays black under every augmentation)."""
    leaf = load_rgb(next(iter(demo_images(1).values()))[0])
    return leaf, Image.new("RGB", leaf.size)


def _outputs(transform, image, seeds=(1,)) -> list:
    """``transform(image)`` under each random seed, leaving the notebook's random numbers as they were."""
    results = []
    with torch.random.fork_rng(devices=[]):
        for seed in seeds:
            torch.manual_seed(seed)
            results.append(call_student(transform, image, advice={TypeError: ORDER_ADVICE}))
    return results


ORDER_ADVICE = "Crops and flips work on PIL images, Normalize on tensors: ToTensor() goes between them."


@checked
def check_make_transforms(make_transforms: Callable[[int], tuple], img_size: int = 64) -> CheckResult:
    """Notebook 03, exercise 2: ``make_transforms(img_size)`` returns ``(train_transform, valid_transform)``.

    Both are run on a real demo leaf under six random seeds:

    - each must give a float tensor of shape ``(3, img_size, img_size)``;
    - the training transform must be random (augmentation), the validation one must not:
      validation measures the same images the same way every epoch;
    - both must normalise with ImageNet's mean and std, checked on a black image, whose
      normalised value is exactly ``-mean / std`` in each channel.
    """
    made = call_student(make_transforms, img_size)
    if not (isinstance(made, tuple) and len(made) == 2 and all(callable(part) for part in made)):
        return wrong("return two transforms, (train_transform, valid_transform), e.g. two transforms.Compose([...]).")
    leaf, black = _leaf_and_black()
    expected_black = torch.tensor([-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)])
    for name, transform in zip(("training", "validation"), made):
        views = _outputs(transform, leaf, seeds=range(1, 7))
        first = views[0]
        if not isinstance(first, torch.Tensor):
            return wrong(f"the {name} transform returns a {type(first).__name__}, not a tensor: "
                         "the network reads tensors; add transforms.ToTensor().")
        if tuple(first.shape) != (3, img_size, img_size):
            return wrong(f"the {name} transform gives shape {tuple(first.shape)}; it should be (3, {img_size}, "
                         f"{img_size}): crop to img_size x img_size, a square.")
        if not first.is_floating_point():
            return wrong(f"the {name} transform gives {first.dtype} values; ToTensor() turns 0..255 into floats 0..1.")
        corner = _outputs(transform, black)[0].mean(dim=(1, 2))
        if torch.allclose(corner, torch.zeros(3), atol=1e-3):
            return wrong(f"the {name} transform does not normalise: add transforms.Normalize(mean, std) "
                         "after ToTensor().")
        if not torch.allclose(corner, expected_black, atol=1e-3):
            return wrong(f"the {name} transform normalises with other numbers than ImageNet's: the pretrained "
                         "network learnt with IMAGENET_MEAN and IMAGENET_STD, so its inputs must use them too.")
        same = all(torch.equal(view, first) for view in views)
        if name == "training" and same:
            return wrong("the training transform gives the same tensor every time: without random "
                         "augmentation (RandomResizedCrop, RandomHorizontalFlip) the network sees identical "
                         "images every epoch.")
        if name == "training" and all(torch.equal(view, first) or torch.equal(view, first.flip(-1))
                                      for view in views):
            return wrong("the training images are only flipped: without a random crop (the document's "
                         "RandomResizedCrop) the leaf always has the same size and place.")
        if name == "validation" and not same:
            return wrong("the validation transform is random: it changes the image each time, so the "
                         "validation score changes with luck. No RandomResizedCrop or flips there: "
                         "resize and take the centre.")
    return report(True, f"random {img_size}x{img_size} crops for training, the same centred view for "
                        "validation, both normalised with ImageNet's statistics. leafdl.data."
                        "train_transforms and eval_transforms add a flip, a rotation and colour jitter.", "")
