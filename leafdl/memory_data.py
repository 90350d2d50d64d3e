"""Loading that keeps up: decode every image once per run and keep it in memory.

``ImageFolder`` opens and decodes each JPEG again in every epoch. For the datasets of
this course (a few thousand photos of 256 px: a few hundred MB once decoded) that is
wasted work: decoding is about a fifth of the cost of loading a training image, and
most of the cost of a validation image. So, when the decoded set fits in a memory
budget (:func:`memory_plan`), :func:`leafdl.data.build_dataloaders` reads each file
once, to check it and to keep it decoded, and wraps the ImageFolders in
:class:`InMemoryImages`:

* **training images** are kept decoded, and the random augmentation (crop, flip,
  rotation, colour) still runs on every access: each epoch sees new variations, exactly
  as from disk;
* **validation images** go through their transform once, since it is deterministic
  (resize, centre crop, normalise): every epoch reads the finished tensors.

The samples are the same as ImageFolder's, value for value (same transforms, same
random numbers); only the time to produce them changes. When the decoded set would be
larger than the budget, the datasets stay on disk, and the message says so.

Example:
    >>> fits, message = memory_plan(train_scan.images, valid_scan.images, img_size=224)   # doctest: +SKIP
    >>> message                                                             # doctest: +SKIP
    'Images decoded once and kept in memory (305 MB).'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import datasets

# At most 2 GiB, and at most a quarter of the machine's memory, for the decoded images.
MEMORY_BUDGET_BYTES = 2 * 2**30
MEMORY_SHARE = 0.25


class InMemoryImages(Dataset):
    """An ImageFolder's samples, each file decoded once, with the same ``transform``.

    ``decoded`` holds images already decoded, by path (``leafdl.data.check_image``
    keeps them while it checks the files); any file not in it is decoded here, once.
    ``deterministic=True`` (validation) also applies the transform once and keeps the
    finished tensors; otherwise (training) the transform runs on every access.
    Has ImageFolder's ``classes``, ``class_to_idx``, ``samples``, ``targets`` and
    ``transform``, so code written for one works with the other.
    """

    def __init__(self, folder: datasets.ImageFolder, decoded: Mapping[str, Image.Image] | None = None,
                 deterministic: bool = False) -> None:
        self.classes = folder.classes
        self.class_to_idx = folder.class_to_idx
        self.samples = list(folder.samples)
        self.targets = list(folder.targets)
        self.transform = folder.transform
        self.deterministic = deterministic
        decoded = decoded or {}
        images = [decoded[path] if path in decoded else folder.loader(path) for path, _ in self.samples]
        if deterministic and self.transform is not None:
            images = [self.transform(image) for image in images]
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        if not self.deterministic and self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]


def memory_budget() -> int:
    """Bytes the decoded images may take: 2 GiB, or a quarter of this machine's memory if less."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):   # Windows has no sysconf
        return MEMORY_BUDGET_BYTES
    return min(MEMORY_BUDGET_BYTES, int(total * MEMORY_SHARE))


def decoded_size(train_files: list[Path], valid_count: int, valid_pixels: int) -> int:
    """Bytes the two datasets take in memory: RGB bytes of each training image (read from
    the file headers, without decoding) and a float32 tensor of ``valid_pixels`` per
    validation image. A file whose header cannot be read counts nothing: the check that
    follows reports it."""
    total = 0
    for path in train_files:
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            continue
        total += width * height * 3
    return total + valid_count * valid_pixels * 3 * 4


def memory_plan(train: Mapping[str, Sequence[Path]], valid: Mapping[str, Sequence[Path]], img_size: int,
                budget: int | None = None) -> tuple[bool, str]:
    """Whether the images of two listings fit in ``budget`` bytes once decoded, and a sentence for the log.

    ``train`` and ``valid`` list the image files of each class (``FolderScan.images`` of
    :mod:`leafdl.data`). ``budget`` defaults to :func:`memory_budget`. Images that do not
    fit are read from disk every epoch, and the sentence says why.
    """
    budget = memory_budget() if budget is None else budget
    train_files = [path for files in train.values() for path in files]
    needed = decoded_size(train_files, sum(len(files) for files in valid.values()), img_size * img_size)
    if needed > budget:
        return False, (f"Images are read from disk every epoch: decoded they would take "
                       f"{needed / 2**20:,.0f} MB, over the {budget / 2**20:,.0f} MB memory budget.")
    return True, f"Images decoded once and kept in memory ({needed / 2**20:,.0f} MB)."
