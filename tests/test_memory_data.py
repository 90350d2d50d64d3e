"""Images decoded once per run and kept in memory: the same samples, each file read once."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import torch
from PIL import Image
from torchvision import datasets

from leafdl import data
from leafdl.data import DatasetError, build_dataloaders, eval_transforms, load_rgb, scan_class_folders, train_transforms
from leafdl.memory_data import InMemoryImages, memory_plan
from leafdl.models import InputSpec

SMALL = InputSpec(size=32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))


def first_batch(loader, seed: int = 3):
    torch.manual_seed(seed)
    if loader.generator is not None:
        loader.generator.manual_seed(seed)
    return next(iter(loader))


def test_memory_gives_the_same_batches_as_the_disk(demo_split):
    disk = build_dataloaders(demo_split, SMALL, batch_size=8, num_workers=0, in_memory=False)
    memory = build_dataloaders(demo_split, SMALL, batch_size=8, num_workers=0)
    assert isinstance(memory.train.dataset, InMemoryImages) and isinstance(memory.valid.dataset, InMemoryImages)
    assert isinstance(disk.train.dataset, datasets.ImageFolder)
    assert memory.loading.startswith("Images decoded once and kept in memory")
    assert disk.loading == "Images are read from disk every epoch."
    for part in ("train", "valid"):   # same random augmentation, same validation crops
        (disk_x, disk_y), (memory_x, memory_y) = first_batch(getattr(disk, part)), first_batch(getattr(memory, part))
        assert torch.equal(disk_x, memory_x) and torch.equal(disk_y, memory_y), part
    assert memory.train.dataset.samples == disk.train.dataset.samples
    assert memory.valid.dataset.class_to_idx == disk.valid.dataset.class_to_idx


def test_each_file_is_decoded_once_and_training_images_still_vary(demo_split):
    calls = []

    def counting_loader(path):
        calls.append(path)
        return load_rgb(path)

    folder = datasets.ImageFolder(str(demo_split / "train"), train_transforms(SMALL), loader=counting_loader)
    dataset = InMemoryImages(folder)
    assert len(calls) == len(folder)
    first, second = dataset[0][0], dataset[0][0]
    assert len(calls) == len(folder)               # no file is read again
    assert first.shape == (3, 32, 32) and not torch.equal(first, second)   # new augmentation each time

    valid = InMemoryImages(datasets.ImageFolder(str(demo_split / "valid"), eval_transforms(SMALL)),
                           deterministic=True)
    assert isinstance(valid.images[0], torch.Tensor)   # finished once, then only read
    assert torch.equal(valid[0][0], valid[0][0])


def test_too_large_a_dataset_stays_on_disk_and_says_so(demo_split):
    train, valid = (scan_class_folders(demo_split / part, check_images=False) for part in ("train", "valid"))
    fits, message = memory_plan(train.images, valid.images, SMALL.size, budget=1_000_000)
    assert not fits
    assert "read from disk every epoch" in message and "over the 1 MB memory budget" in message
    fits, message = memory_plan(train.images, valid.images, SMALL.size, budget=100_000_000)
    assert fits and "kept in memory" in message


def test_building_the_loaders_reads_each_image_once(demo_split, monkeypatch):
    """One pass: the check of each file is its one decode, kept for every epoch."""
    decoded, drafts = Counter(), []
    monkeypatch.setattr(data, "load_rgb", lambda path: decoded.update([str(path)]) or load_rgb(path))
    monkeypatch.setattr(Image.Image, "draft", lambda image, *args: drafts.append(image))
    loaders = build_dataloaders(demo_split, SMALL, batch_size=8, num_workers=0)
    for _ in loaders.train:   # a whole epoch
        pass
    files = len(loaders.train.dataset) + len(loaders.valid.dataset)
    assert len(decoded) == files and set(decoded.values()) == {1}
    assert drafts == []   # no separate check pass


def test_an_unreadable_image_is_named_before_anything_is_decoded_for_training(demo_split, tmp_path):
    split = tmp_path / "split"
    shutil.copytree(demo_split, split)
    broken = next((split / "valid").rglob("*.jpg"))
    broken.write_bytes(broken.read_bytes()[:200])   # a truncated JPEG
    with pytest.raises(DatasetError, match=broken.name):
        build_dataloaders(split, SMALL, batch_size=8, num_workers=0)
    loaders = build_dataloaders(split, SMALL, batch_size=8, num_workers=0, skip_bad=True)
    assert len(loaders.valid.dataset) == len(list((demo_split / "valid").rglob("*.jpg"))) - 1
    assert loaders.loading.startswith("Images decoded once and kept in memory")
