"""The self-checks of notebook 03 (data loading): right answers pass, others do not."""

from __future__ import annotations

import warnings

import pytest
from torch.utils.data import DataLoader
from torchvision import transforms

from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.course.exercises import check_last_batch_size, check_make_transforms


def test_last_batch_size_matches_a_dataloader(capsys):
    last = [len(batch) for batch in DataLoader(range(1000), batch_size=32)][-1]
    assert check_last_batch_size(last, n_images=1000, batch_size=32).passed
    assert "Correct" in capsys.readouterr().out
    assert check_last_batch_size(32, n_images=1000, batch_size=32).passed is False
    assert "Not yet" in capsys.readouterr().out
    assert check_last_batch_size(32, n_images=192, batch_size=32).passed  # divides evenly: a full batch
    assert check_last_batch_size(None).status == "not done"


def make_transforms(img_size):
    """The reference solution (notebooks/solutions/03_data_loading.md)."""
    train = transforms.Compose([
        transforms.RandomResizedCrop(img_size),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    valid = transforms.Compose([
        transforms.Resize(img_size),
        transforms.CenterCrop(img_size),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    return train, valid


def test_make_transforms_accepts_the_solution_and_leafdls(course_leaves, capsys):
    assert check_make_transforms(make_transforms).passed
    assert "Correct" in capsys.readouterr().out

    from leafdl.data import eval_transforms, train_transforms
    from leafdl.models import input_spec_for
    spec = input_spec_for("mobilenet_v2", 64)   # ImageNet's statistics, with rotation and colour jitter
    assert check_make_transforms(lambda size: (train_transforms(spec), eval_transforms(spec))).passed


def pipelines(train_steps, valid_steps, to_tensor=None, normalize=None):
    """Two Compose pipelines ending in to_tensor and normalize (ImageNet's, from ToTensor's 0..1, by default)."""
    tail = [to_tensor or transforms.ToTensor(), normalize or transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return transforms.Compose([*train_steps, *tail]), transforms.Compose([*valid_steps, *tail])


def v2_pipelines(img_size):
    import torch
    from torchvision.transforms import v2
    tail = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return (v2.Compose([v2.RandomResizedCrop(img_size), v2.RandomHorizontalFlip(), *tail]),
            v2.Compose([v2.Resize(img_size), v2.CenterCrop(img_size), *tail]))


def a_list_and_a_larger_resize(img_size):
    return list(pipelines([transforms.RandomResizedCrop(img_size, scale=(0.5, 1.0)), transforms.RandomRotation(15)],
                          [transforms.Resize(int(img_size * 1.14)), transforms.CenterCrop(img_size)]))


@pytest.mark.parametrize("answer", [make_transforms, v2_pipelines, a_list_and_a_larger_resize],
                         ids=lambda answer: answer.__name__)
def test_make_transforms_accepts_right_answers_in_any_form(answer, course_leaves, capsys):
    assert check_make_transforms(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


def resize_without_a_crop(img_size):
    """The non-square photo's trap: Resize(int) keeps the shape; the short side only becomes img_size."""
    return pipelines([transforms.RandomResizedCrop(img_size)], [transforms.Resize(img_size)])


def scale_0_255(img_size):
    mean, std = [255 * m for m in IMAGENET_MEAN], [255 * s for s in IMAGENET_STD]
    return pipelines([transforms.RandomResizedCrop(img_size)],
                     [transforms.Resize(img_size), transforms.CenterCrop(img_size)],
                     normalize=transforms.Normalize(mean, std))


def mean_and_std_swapped(img_size):
    return pipelines([transforms.RandomResizedCrop(img_size)],
                     [transforms.Resize(img_size), transforms.CenterCrop(img_size)],
                     normalize=transforms.Normalize(IMAGENET_STD, IMAGENET_MEAN))


def half_and_half(img_size):
    return pipelines([transforms.RandomResizedCrop(img_size)],
                     [transforms.Resize(img_size), transforms.CenterCrop(img_size)],
                     normalize=transforms.Normalize([0.5] * 3, [0.5] * 3))


def v2_without_scaling(img_size):
    import torch
    from torchvision.transforms import v2
    tail = [v2.ToImage(), v2.ToDtype(torch.float32), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return (v2.Compose([v2.RandomResizedCrop(img_size), *tail]),
            v2.Compose([v2.Resize(img_size), v2.CenterCrop(img_size), *tail]))


def v2_uint8_into_normalize(img_size):
    from torchvision.transforms import v2
    tail = [v2.ToImage(), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return (v2.Compose([v2.RandomResizedCrop(img_size), *tail]),
            v2.Compose([v2.Resize(img_size), v2.CenterCrop(img_size), *tail]))


def no_normalize(img_size):
    return tuple(transforms.Compose(t.transforms[:-1]) for t in make_transforms(img_size))


def normalize_first(img_size):
    return tuple(transforms.Compose([transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD), *t.transforms[:-1]])
                 for t in make_transforms(img_size))


def pil_images(img_size):
    return transforms.RandomResizedCrop(img_size), transforms.CenterCrop(img_size)


def same_for_both(img_size):
    train, _ = make_transforms(img_size)
    return train, train


def valid_for_both(img_size):
    _, valid = make_transforms(img_size)
    return valid, valid


def flips_only(img_size):
    _, valid = make_transforms(img_size)
    return transforms.Compose([transforms.RandomHorizontalFlip(), *valid.transforms]), valid


def swapped_order(img_size):
    train, valid = make_transforms(img_size)
    return valid, train


def a_dict(img_size):
    train, valid = make_transforms(img_size)
    return {"train": train, "valid": valid}


def jitter_in_validation(img_size):
    return pipelines([transforms.RandomResizedCrop(img_size)],
                     [transforms.Resize(img_size), transforms.CenterCrop(img_size), transforms.ColorJitter(0.3, 0.3)])


WRONG = [
    (resize_without_a_crop, "Resize(img_size) keeps the photo's shape"),
    (scale_0_255, "on the 0-255 scale"),
    (mean_and_std_swapped, "swaps mean and std"),
    (half_and_half, "IMAGENET_MEAN"),
    (v2_without_scaling, "values up to 255"),
    (v2_uint8_into_normalize, "Normalize needs floats"),
    (no_normalize, "does not normalise"),
    (normalize_first, "ToTensor() goes between them"),
    (pil_images, "add transforms.ToTensor()"),
    (same_for_both, "validation transform is random"),
    (valid_for_both, "training transform gives the same tensor every time"),
    (flips_only, "only flipped"),
    (swapped_order, "return them in the order (train_transform, valid_transform)"),
    (a_dict, "not a dict"),
    (jitter_in_validation, "validation transform is random"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=[answer.__name__ for answer, _ in WRONG])
def test_make_transforms_names_each_mistake(answer, hint, course_leaves, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = check_make_transforms(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback
