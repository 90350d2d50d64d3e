"""The self-checks of notebook 03 (data loading): right answers pass, others do not."""

from __future__ import annotations

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


def test_make_transforms_rejects_the_random_crop_for_validation(course_leaves):
    def same_for_both(img_size):
        train, _ = make_transforms(img_size)
        return train, train
    result = check_make_transforms(same_for_both)
    assert not result.passed and "validation transform is random" in result.message


def test_make_transforms_rejects_no_augmentation(course_leaves):
    def valid_for_both(img_size):
        _, valid = make_transforms(img_size)
        return valid, valid
    assert "training transform gives the same tensor every time" in check_make_transforms(valid_for_both).message


def test_make_transforms_rejects_missing_or_wrong_normalisation(course_leaves):
    def no_normalize(img_size):
        return tuple(transforms.Compose(t.transforms[:-1]) for t in make_transforms(img_size))
    assert "does not normalise" in check_make_transforms(no_normalize).message

    def half_and_half(img_size):
        return tuple(transforms.Compose([*t.transforms[:-1], transforms.Normalize([0.5] * 3, [0.5] * 3)])
                     for t in make_transforms(img_size))
    assert "IMAGENET_MEAN" in check_make_transforms(half_and_half).message


def test_make_transforms_rejects_no_totensor_and_the_wrong_order(course_leaves):
    def pil_images(img_size):
        return transforms.RandomResizedCrop(img_size), transforms.CenterCrop(img_size)
    assert "add transforms.ToTensor()" in check_make_transforms(pil_images).message

    def normalize_first(img_size):
        return tuple(transforms.Compose([transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD), *t.transforms[:-1]])
                     for t in make_transforms(img_size))
    result = check_make_transforms(normalize_first)
    assert result.status == "not yet" and "ToTensor() goes between them" in result.message


def test_make_transforms_rejects_a_rectangle(course_leaves):
    def resize_only(img_size):
        train, _ = make_transforms(img_size)
        return train, transforms.Compose([transforms.Resize(img_size), transforms.ToTensor(),
                                          transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
                                          transforms.Lambda(lambda x: x[:, :, : img_size // 2])])
    assert "shape" in check_make_transforms(resize_only).message


def test_make_transforms_rejects_flips_without_a_crop(course_leaves):
    def flips_only(img_size):
        _, valid = make_transforms(img_size)
        return transforms.Compose([transforms.RandomHorizontalFlip(), *valid.transforms]), valid
    result = check_make_transforms(flips_only)
    assert not result.passed and "only flipped" in result.message
