"""Data Preparation and the Data Loading Pipeline (the document's sections 3 and 4).

The journey of an image, as the document tells it::

    class folders on disk --split_dataset--> train/ and valid/ folders
        --ImageFolder + transforms--> (tensor, label) pairs
        --DataLoader--> batches of shape (32, 3, 224, 224)

What this module adds to the document's few lines is care with real-world folders:
every image is opened once when the dataset is built, so a corrupt file is reported
*before* training starts (never halfway through an epoch), all problems are listed
together, and grayscale, RGBA, palette, CMYK and 16-bit images are converted to the
RGB the model expects.

Example:
    >>> from leafdl.data import split_dataset, build_dataloaders     # doctest: +SKIP
    >>> split_dataset("data/demo-leaves", "data/demo-split")           # doctest: +SKIP
    >>> loaders = build_dataloaders("data/demo-split", input_spec)     # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from leafdl.errors import LeafdlError, OptionError
from leafdl.files import remove_stale_temporaries, staging_folder
from leafdl.locks import output_lock
from leafdl.memory_data import InMemoryImages, memory_plan

if TYPE_CHECKING:
    from leafdl.models import InputSpec

# The file endings torchvision's ImageFolder accepts as images.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
SPLIT_MARKER = ".leafdl-split.json"
# The largest input size (--img-size) leafdl trains at: 21 times the pixels of the document's
# 224. Larger ones need gigabytes per batch and fail deep in the memory allocator.
MAX_IMG_SIZE = 1024
# A photo whose long side is more than this many times its short side is refused: resizing
# its short side to the model's input would make the long side enormous (a 1 x 100000 px
# PNG of 471 bytes would become gigabytes).
MAX_ASPECT_RATIO = 16


class DatasetError(LeafdlError, ValueError):
    """A dataset folder that cannot be used as it is; the message says how to fix it."""


# ---------------------------------------------------------------------------
# Reading one image
# ---------------------------------------------------------------------------


def load_rgb(path: str | Path) -> Image.Image:
    """Open an image file and return it as 8-bit RGB, whatever it was stored as.

    Photos come in many modes: grayscale (``L``), with transparency (``RGBA``, ``LA``),
    palette (``P``), print colours (``CMYK``) and 16-bit scans (``I;16``). A pretrained
    network wants three 8-bit channels, so each is converted here. Transparent areas
    become white, like a photo on paper.

    Phones store many photos sideways, with an EXIF tag that says how to turn them
    upright; image viewers obey it, and so does this function (``ImageOps.exif_transpose``),
    so the model sees the leaf the way you do.
    """
    with Image.open(path) as image:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        return _to_rgb(image)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16- or 32-bit grayscale: scale the full range down to 0..255 first;
        # a plain convert("RGB") would clip almost every pixel to white.
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(values.max()), 1.0)
        image = Image.fromarray(np.clip(values / top * 255.0, 0, 255).astype(np.uint8))  # mode L
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def check_image(path: str | Path, keep: dict[str, Image.Image] | None = None) -> str | None:
    """Return ``None`` if the file decodes as an image, else a short reason why not.

    JPEGs are decoded at reduced size (``Image.draft``), which reads the whole file and
    so finds truncated ones, at a fraction of the cost of a full decode. Images so large
    that Pillow refuses them as a possible "decompression bomb" (over about 179 million
    pixels) are reported too: shrink them before training.

    With ``keep`` (a dict), the image is decoded in full instead (:func:`load_rgb`) and
    kept there under ``str(path)``: the check and the one decode of a run in one read
    (:mod:`leafdl.memory_data`).
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return "empty file (0 bytes)"
        shape = _shape_problem(path)
        if shape:
            return shape
        if keep is not None:
            keep[str(path)] = load_rgb(path)
            return None
        with Image.open(path) as image:
            image.draft("RGB", (32, 32))
            image.load()
    except Image.DecompressionBombError:
        return (f"too large to open safely (over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} million pixels, "
                "Pillow's limit against decompression bombs); shrink it, e.g. to 2000 pixels wide")
    except UnidentifiedImageError:
        return "not an image PIL can read"
    except (OSError, SyntaxError, ValueError) as error:
        return f"cannot be decoded ({error})"
    return None


def _shape_problem(path: Path) -> str | None:
    """Why an image's width and height (read from its header only) cannot be used, or ``None``."""
    with Image.open(path) as image:
        width, height = image.size
    if min(width, height) < 1:
        return f"it has no pixels ({width} x {height})"
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        return (f"{width} x {height} px is too long and thin: resized for the model its long side would be "
                f"{max(width, height) // min(width, height)} times its short side (at most {MAX_ASPECT_RATIO}). "
                "Crop it to the leaf")
    return None


# ---------------------------------------------------------------------------
# Class folders
# ---------------------------------------------------------------------------


@dataclass
class FolderScan:
    """What :func:`scan_class_folders` found in a dataset folder."""

    root: Path
    images: dict[str, list[Path]]              # class name -> good image files, sorted
    skipped: list[Path] = field(default_factory=list)  # files that are not images (notes.txt)
    hidden: list[Path] = field(default_factory=list)   # hidden files: .DS_Store, macOS's ._photo.jpg
    broken_links: list[Path] = field(default_factory=list)  # symbolic links that point nowhere
    bad: list[tuple[Path, str]] = field(default_factory=list)  # image files that do not decode

    @property
    def classes(self) -> list[str]:
        return sorted(self.images)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(files) for name, files in sorted(self.images.items())}

    def ignored(self) -> str:
        """What was left out, in words ("2 hidden files, 1 broken link"), or ``""``."""
        parts = [(len(self.hidden), "hidden file"), (len(self.skipped), "non-image file"),
                 (len(self.broken_links), "broken link")]
        return ", ".join(f"{count} {what}{'s' if count > 1 else ''}" for count, what in parts if count)


def _is_hidden(path: Path, root: Path) -> bool:
    """True for names starting with a dot, or inside a folder whose name does.

    This covers macOS's ``.DS_Store`` and its ``._photo.jpg`` "AppleDouble" files (not
    images, despite the ending) and Jupyter's ``.ipynb_checkpoints`` folders.
    """
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def scan_class_folders(
    root: str | Path, *, check_images: bool = True, skip_bad: bool = False, min_classes: int = 2
) -> FolderScan:
    """Find the classes and image files of an ImageFolder-style dataset, and check them.

    The layout is the one the document shows for ImageFolder: one sub-folder per class,
    images inside (sub-sub-folders are searched too)::

        root/Apple_scab/img001.jpg
        root/Healthy/img004.jpg

    Hidden files (``.DS_Store``, ``._img001.jpg``), files without an image ending
    (``Thumbs.db``, ``notes.txt``) and symbolic links that point nowhere are left out
    and listed (``hidden``, ``skipped``, ``broken_links``). Image files that do not decode
    are collected and reported together in one :class:`DatasetError`, unless ``skip_bad``
    is set, in which case they are left out and listed in ``bad``.

    Raises:
        DatasetError: the folder is missing, has fewer than ``min_classes`` class
            folders, a class has no images, or (without ``skip_bad``) images are unreadable.
    """
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"The dataset folder {root} does not exist. Check the path, or create "
                           "a demo dataset with: leafdl data demo data/demo-leaves")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file, not a folder. Pass the folder that holds one "
                           "sub-folder per class.")
    class_dirs = sorted(entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    if not class_dirs:
        raise DatasetError(
            f"{root} has no class sub-folders. Put each class's images in its own folder, e.g. "
            f"{root / 'Healthy' / 'leaf001.jpg'}.")
    if len(class_dirs) < min_classes:
        raise DatasetError(
            f"{root} has only {len(class_dirs)} class folder ({class_dirs[0].name}); a classifier "
            f"needs at least {min_classes} classes to tell apart. Add a folder per class.")

    scan = FolderScan(root=root, images={})
    for class_dir in class_dirs:
        found = []
        for path in sorted(class_dir.rglob("*")):
            if path.is_dir():
                continue
            if _is_hidden(path, class_dir):
                scan.hidden.append(path)
            elif not path.exists():   # a symbolic link to a file that is gone
                scan.broken_links.append(path)
            elif path.suffix.lower() in IMAGE_EXTENSIONS:
                found.append(path)
            else:
                scan.skipped.append(path)
        scan.images[class_dir.name] = found
    if check_images:
        return check_scanned_images(scan, skip_bad=skip_bad)
    _refuse_empty_classes(scan)
    return scan


def check_scanned_images(scan: FolderScan, *, skip_bad: bool = False,
                         keep: dict[str, Image.Image] | None = None) -> FolderScan:
    """Decode every image a listing found (:func:`check_image`) and sort out the bad ones.

    Unreadable images are reported together in one :class:`DatasetError` or, with
    ``skip_bad``, moved from ``scan.images`` to ``scan.bad``. With ``keep``, every good
    image is decoded in full and kept there. Returns ``scan``.
    """
    for name, files in scan.images.items():
        good = []
        for path in files:
            reason = check_image(path, keep)
            if reason is None:
                good.append(path)
            else:
                scan.bad.append((path, reason))
        scan.images[name] = good
    if scan.bad and not skip_bad:
        listing = "\n".join(f"  {path}: {reason}" for path, reason in scan.bad[:20])
        more = f"\n  ... and {len(scan.bad) - 20} more" if len(scan.bad) > 20 else ""
        raise DatasetError(
            f"{len(scan.bad)} image file(s) in {scan.root} cannot be read:\n{listing}{more}\n"
            "Delete or replace them (or re-export them from your photo tool), or leave them "
            "out with skip_bad=True (command line: --skip-bad-images).")
    _refuse_empty_classes(scan)
    return scan


def _refuse_empty_classes(scan: FolderScan) -> None:
    empty = [name for name, files in scan.images.items() if not files]
    if empty:
        raise DatasetError(
            f"Class folder(s) with no readable images in {scan.root}: {', '.join(empty)}. "
            f"Add images ({', '.join(IMAGE_EXTENSIONS[:3])}, ...) or remove the folder(s).")


def readable_class_name(folder_name: str) -> str:
    """Turn a class folder name into words for plots and printouts.

    >>> readable_class_name("Apple___Cedar_apple_rust")
    'Apple: Cedar apple rust'
    >>> readable_class_name("Black_rot")
    'Black rot'
    """
    parts = [part.replace("_", " ").strip() for part in folder_name.split("___")]
    return ": ".join(part for part in parts if part)


# ---------------------------------------------------------------------------
# The train/validation split
# ---------------------------------------------------------------------------


@dataclass
class SplitSummary:
    """How many images of each class went to ``train/`` and to ``valid/``."""

    out_dir: Path
    classes: list[str]
    train_counts: dict[str, int]
    valid_counts: dict[str, int]
    skipped: int = 0
    reused: bool = False   # True when out_dir already held this very split

    def __str__(self) -> str:
        lines = [f"{'class':<28}{'train':>7}{'valid':>7}"]
        for name in self.classes:
            lines.append(f"{name:<28}{self.train_counts[name]:>7}{self.valid_counts[name]:>7}")
        lines.append(f"{'total':<28}{sum(self.train_counts.values()):>7}{sum(self.valid_counts.values()):>7}")
        return "\n".join(lines)


def split_files(
    files: list[Path], labels: list[str], valid_fraction: float = 0.2, seed: int = 42
) -> tuple[list[Path], list[Path], list[str], list[str]]:
    """The document's split, stratified by class so each class keeps its proportions.

    This is exactly ``train_test_split(imgs, test_size=0.2, random_state=42)`` with
    ``stratify=labels`` added: without it a small class could land entirely in one set.
    Returns ``train_files, valid_files, train_labels, valid_labels``.
    """
    check_split_settings(valid_fraction, seed)
    counts = Counter(labels)
    minimum = min_images_per_class(valid_fraction)
    _refuse_small_classes({name: count for name, count in counts.items() if count < minimum}, valid_fraction)
    try:
        parts = train_test_split(files, labels, test_size=valid_fraction, random_state=seed, stratify=labels)
    except ValueError as error:   # sklearn's own size checks: too few images for this share and these classes
        raise DatasetError(f"These {len(files)} images in {len(counts)} classes cannot be split with a validation "
                           f"share of {valid_fraction} ({error}). Add images, or use a --valid nearer 0.2.") from error
    train_counts, valid_counts = Counter(parts[2]), Counter(parts[3])
    _refuse_small_classes({name: count for name, count in counts.items()
                           if not train_counts[name] or not valid_counts[name]}, valid_fraction)
    return parts


def min_images_per_class(valid_fraction: float) -> int:
    """How many images a class needs so that both train and valid get at least one.

    >>> min_images_per_class(0.2)    # 5 images: 4 for training, 1 for validation
    5
    """
    return max(2, math.ceil(round(1 / min(valid_fraction, 1 - valid_fraction), 6)))


def _refuse_small_classes(small: dict[str, int], valid_fraction: float) -> None:
    if not small:
        return
    minimum = max(min_images_per_class(valid_fraction), *(count + 1 for count in small.values()))
    listing = ", ".join(f"{name} ({count})" for name, count in sorted(small.items()))
    raise DatasetError(
        f"Class(es) with too few images for a validation share of {valid_fraction}: {listing}. Each class needs "
        f"at least {minimum} images so that both train/ and valid/ get one; add images to those classes "
        "(or remove them), or choose another --valid.")


def check_split_settings(valid_fraction: float, seed: object) -> None:
    """Refuse a validation share outside (0, 1), and a seed numpy and scikit-learn cannot use."""
    if not 0.0 < valid_fraction < 1.0:
        raise OptionError(f"valid_fraction (command line: --valid) must be between 0 and 1, not {valid_fraction}; "
                          "the document uses 0.2.")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32):
        raise OptionError(f"The seed (command line: --seed) must be a whole number from 0 to 2**32 - 1, not {seed!r}.")


def split_dataset(
    source: str | Path,
    out_dir: str | Path,
    valid_fraction: float = 0.2,
    seed: int = 42,
    skip_bad: bool = False,
    scan: FolderScan | None = None,
) -> SplitSummary:
    """Copy a class-folder dataset into ``out_dir/train`` and ``out_dir/valid``.

    The same ``seed`` gives the same split on every run. Your files are safe:

    * the source is only read, never changed;
    * ``out_dir`` must not be the source, lie inside it or contain it (links resolved);
    * a source that is already split (``train/`` and ``valid/``) is refused: use it as it is;
    * ``out_dir`` must be new or empty. If it already holds *this* split (the same image
      files, share and seed, as its marker file ``.leafdl-split.json`` proves), it is
      kept and its summary returned (``summary.reused``); anything else is refused;
    * the copies are made in a folder beside ``out_dir`` and renamed into place when
      complete, so an interrupted split (Ctrl-C, a full disk) never looks like a finished one.

    ``scan``, a listing of ``source`` you already made (``scan_class_folders(source,
    check_images=False)``), saves listing the folder again.
    """
    source, out_dir = Path(source), Path(out_dir)
    _refuse_unsafe_output(source, out_dir)
    _refuse_split_source(source)
    check_split_settings(valid_fraction, seed)
    if scan is None or scan.root != source:
        scan = scan_class_folders(source, check_images=False)
    fingerprint = source_fingerprint(scan)
    with output_lock(out_dir):   # a second split into out_dir waits for none: it stops with a clear error
        remove_stale_temporaries(out_dir.parent, (out_dir.name,))
        if out_dir.is_dir() and any(out_dir.iterdir()):
            return _reuse_split(out_dir, fingerprint, valid_fraction, seed)
        return _write_split(source, out_dir, scan, fingerprint, valid_fraction, seed, skip_bad)


def _write_split(source: Path, out_dir: Path, scan: FolderScan, fingerprint: str, valid_fraction: float,
                 seed: int, skip_bad: bool) -> SplitSummary:
    """Check the images, split them and copy them into ``out_dir`` through a staging folder."""
    check_scanned_images(scan, skip_bad=skip_bad)
    files = [path for name in scan.classes for path in scan.images[name]]
    labels = [name for name in scan.classes for _ in scan.images[name]]
    train_files, valid_files, train_labels, valid_labels = split_files(files, labels, valid_fraction, seed)
    train_counts, valid_counts = Counter(train_labels), Counter(valid_labels)
    summary = SplitSummary(
        out_dir=out_dir,
        classes=scan.classes,
        train_counts={name: train_counts[name] for name in scan.classes},
        valid_counts={name: valid_counts[name] for name in scan.classes},
        skipped=len(scan.bad),
    )
    with staging_folder(out_dir) as staging:
        for part, part_files, part_labels in (("train", train_files, train_labels),
                                              ("valid", valid_files, valid_labels)):
            for name in scan.classes:  # a folder for every class, even if empty
                (staging / part / name).mkdir(parents=True)
            for path, label in zip(part_files, part_labels):
                target = staging / part / label / path.relative_to(source / label)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        _write_marker(staging, source, fingerprint, valid_fraction, seed, summary)  # last: proof of completion
    return summary


def source_fingerprint(scan: FolderScan) -> str:
    """A SHA-256 over the relative path and the bytes of every image file in a listing.

    Two folders with the same fingerprint hold the same images under the same names, so
    a split made from one is a split of the other. Reading the bytes costs a second or
    two per thousand photos; comparing dates would be faster but not proof.
    """
    digest = hashlib.sha256()
    files = sorted([*(path for files in scan.images.values() for path in files), *(p for p, _ in scan.bad)])
    for path in files:
        digest.update(os.fsencode(path.relative_to(scan.root).as_posix()) + b"\0")   # any file name, even not UTF-8
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def _reuse_split(out_dir: Path, fingerprint: str, valid_fraction: float, seed: int) -> SplitSummary:
    """The summary of the split in ``out_dir`` if it is this very split; else a clear refusal."""
    marker = out_dir / SPLIT_MARKER
    if not marker.is_file():
        raise DatasetError(
            f"The output folder {out_dir} already holds files that leafdl did not write (or a split "
            "that never finished). leafdl never writes over a folder: choose a new or empty folder "
            "(for `leafdl train`, another --out).")
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        made = (info["fingerprint"], info["valid_fraction"], info["seed"])
        counts = (info["classes"], info["train_counts"], info["valid_counts"], info.get("skipped", 0))
    except (ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"{marker} is damaged ({error}); delete {out_dir} yourself and split again.") from error
    differences = [what for what, old, new in (("the image files", made[0], fingerprint),
                                               ("the validation share", made[1], valid_fraction),
                                               ("the seed", made[2], seed)) if old != new]
    if differences:
        raise DatasetError(
            f"{out_dir} already holds a split of other data or settings: {' and '.join(differences)} "
            f"differ (it was split from {info.get('source')} with valid {made[1]}, seed {made[2]}). "
            "leafdl never writes over an earlier split: choose a new folder (for `leafdl train`, another "
            f"--out), or delete {out_dir} yourself to split again.")
    classes, train_counts, valid_counts, skipped = counts
    empty = [name for name in classes if not train_counts.get(name) or not valid_counts.get(name)]
    if empty:
        raise DatasetError(
            f"{out_dir} is a split with no training or no validation images of {', '.join(empty)} (made by an "
            f"older leafdl), which cannot train. Delete {out_dir} yourself and split again: leafdl now "
            "refuses classes too small to split.")
    return SplitSummary(out_dir, classes, train_counts, valid_counts, skipped, reused=True)


def _refuse_unsafe_output(source: Path, out_dir: Path) -> None:
    source_real, out_real = source.resolve(), out_dir.resolve()
    if out_real == source_real or source_real in out_real.parents or out_real in source_real.parents:
        raise DatasetError(
            f"The output folder {out_dir} is the source folder {source}, lies inside it or contains it; "
            "a split there would mix copies into your photos or write over them. Choose a folder "
            f"outside both, e.g. {source.parent / (source.name + '-split')}.")
    if out_dir.exists() and not out_dir.is_dir():
        raise DatasetError(f"The output folder {out_dir} is a file. Choose a folder (new or empty).")


def _refuse_split_source(source: Path) -> None:
    """Refuse to split a folder that is itself a split: its classes would be train and valid."""
    if (source / SPLIT_MARKER).exists() or (
            is_split_folder(source) and _class_names(source / "train") == _class_names(source / "valid")):
        raise DatasetError(
            f"{source} is already split into train/ and valid/. Use it as it is: `leafdl train {source}` "
            "trains on its train/ and validates on its valid/, and build_dataloaders reads it directly.")


def _class_names(folder: Path) -> set[str]:
    return {entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".")}


def _write_marker(out_dir: Path, source: Path, fingerprint: str, valid_fraction: float, seed: int,
                  summary: SplitSummary) -> None:
    info = {"written_by": "leafdl split_dataset", "source": str(source.resolve()), "fingerprint": fingerprint,
            "valid_fraction": valid_fraction, "seed": seed, "classes": summary.classes,
            "train_counts": summary.train_counts, "valid_counts": summary.valid_counts,
            "skipped": summary.skipped}
    (out_dir / SPLIT_MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def is_split_folder(path: str | Path) -> bool:
    """True when ``path`` holds ``train/`` and ``valid/`` sub-folders (already split)."""
    path = Path(path)
    return (path / "train").is_dir() and (path / "valid").is_dir()


# ---------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------


def _interpolation(spec: InputSpec) -> transforms.InterpolationMode:
    return transforms.InterpolationMode(spec.interpolation)


def augmentation_transforms(
    size: int,
    crop_scale_min: float = 0.08,
    rotation: float = 15,
    brightness: float = 0.2,
    contrast: float = 0.2,
    flip: bool = True,
    interpolation: str = "bilinear",
) -> transforms.Compose:
    """The document's augmentation, with its strengths as arguments: a PIL image in, a PIL image out.

    * ``RandomResizedCrop(size, scale=(crop_scale_min, 1.0))``: cut out a random part
      holding between ``crop_scale_min`` and 100% of the image's area, resize it to ``size``.
    * ``RandomHorizontalFlip()``: a mirror image half of the time (if ``flip``).
    * ``RandomRotation(rotation)``: turn by an angle between ``-rotation`` and ``+rotation`` degrees.
    * ``ColorJitter(brightness, contrast)``: scale brightness and contrast by a random
      factor between ``1 - x`` and ``1 + x``; 0 turns one off.

    The defaults are the document's. :func:`train_transforms` adds ``ToTensor`` and
    ``Normalize``; without them (as here) the result can be shown as a picture.

    Example:
        >>> augmentation_transforms(128, crop_scale_min=0.5).transforms[0].scale
        (0.5, 1.0)
    """
    if not 0 < crop_scale_min <= 1:
        raise OptionError(f"crop_scale_min must be a share of the image area in (0, 1], not {crop_scale_min}.")
    if rotation < 0 or brightness < 0 or contrast < 0:
        raise OptionError(f"rotation, brightness and contrast must be >= 0 "
                          f"(got {rotation}, {brightness}, {contrast}); 0 turns one off.")
    steps: list = [transforms.RandomResizedCrop(size, scale=(crop_scale_min, 1.0),
                                                interpolation=transforms.InterpolationMode(interpolation))]
    if flip:
        steps.append(transforms.RandomHorizontalFlip())
    steps.append(transforms.RandomRotation(rotation))
    steps.append(transforms.ColorJitter(brightness=brightness, contrast=contrast))
    return transforms.Compose(steps)


def train_transforms(spec: InputSpec, crop_scale_min: float = 0.08) -> transforms.Compose:
    """The document's training transforms: augmentation, then ToTensor and Normalize.

    ``RandomResizedCrop`` (scale), ``RandomHorizontalFlip`` (orientation),
    ``RandomRotation(15)`` (rotation) and ``ColorJitter(0.2, 0.2)`` (lighting) show
    the model a slightly different leaf every epoch (:func:`augmentation_transforms`).
    ``Normalize`` uses the mean and standard deviation the pretrained weights were
    trained with, which come from the model (``spec``), not from a constant:
    EfficientNet-Lite0 wants 0.5/0.5, not ImageNet's.

    The crop keeps between ``crop_scale_min`` and 100% of the photo's area. The
    document's ``RandomResizedCrop(224)`` uses torchvision's default, 0.08: fine for one
    leaf filling the frame, but on a cluttered field photo an 8% crop may hold no
    diseased leaf at all. Raise it (0.35, say) for such photos.
    """
    augment = augmentation_transforms(spec.size, crop_scale_min, interpolation=spec.interpolation)
    return transforms.Compose([
        *augment.transforms,
        transforms.ToTensor(),
        transforms.Normalize(spec.mean, spec.std),
    ])


def eval_transforms(spec: InputSpec) -> transforms.Compose:
    """Deterministic transforms for validation and prediction: resize, centre crop.

    The image is resized so the crop keeps 87.5% of it (224 of 256), the usual
    ImageNet evaluation recipe, so the model sees the leaf as in training, but the
    same way every time.
    """
    return transforms.Compose([
        transforms.Resize(round(spec.size / 0.875), interpolation=_interpolation(spec)),
        transforms.CenterCrop(spec.size),
        transforms.ToTensor(),
        transforms.Normalize(spec.mean, spec.std),
    ])


# ---------------------------------------------------------------------------
# ImageFolder and DataLoader
# ---------------------------------------------------------------------------


def image_folder(root: str | Path, transform=None, *, skip_bad: bool = False) -> datasets.ImageFolder:
    """``datasets.ImageFolder(root, transform)``, after checking every image once.

    Each sub-folder becomes a class; classes are numbered in sorted order (0, 1, 2, ...)
    and the mapping is ``dataset.class_to_idx``. Images are opened with
    :func:`load_rgb`, so every sample is RGB.
    """
    return _image_folder_of(scan_class_folders(root, skip_bad=skip_bad), transform)


def _image_folder_of(scan: FolderScan, transform) -> datasets.ImageFolder:
    """The ImageFolder of a checked listing: exactly the images the listing kept."""
    good = {str(path) for files in scan.images.values() for path in files}
    return datasets.ImageFolder(str(scan.root), transform=transform, loader=load_rgb,
                                is_valid_file=lambda path: str(path) in good)


def default_num_workers() -> int:
    """How many worker processes a DataLoader should use here to decode images.

    Workers decode and augment images in parallel with the model's computation, but
    they cost a process start each epoch and compete with the model for cores. On
    Windows and macOS, workers start with ``spawn``: each re-imports torch (seconds)
    and, in a notebook, cannot see code defined in cells, the classic cause of
    DataLoader crashes in course notebooks. So: 0 (load in the main process) there,
    and on Linux machines with few cores. Measured on 2 cores (benchmarks/
    bench_training.py): frozen-feature training ran 2.7x faster with 0 workers than
    with 1, because decoding a 256 px JPEG and augmenting it takes about 1.5 ms, a
    fraction of the forward pass. Only with more than 4 cores do workers pay off.
    Under torchrun the cores are shared by the processes of one machine
    (``LOCAL_WORLD_SIZE``), so each process counts only its share.
    """
    if sys.platform != "linux":
        return 0
    cores = len(os.sched_getaffinity(0)) // int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    return 0 if cores <= 4 else min(4, cores // 4)


@dataclass
class DataLoaders:
    """The training and validation loaders of one dataset, and its class names."""

    train: DataLoader
    valid: DataLoader
    classes: list[str]
    loading: str = ""   # how images are loaded: kept in memory, or read from disk (and why)


def build_dataloaders(
    data_dir: str | Path,
    spec: InputSpec,
    batch_size: int = 32,
    num_workers: int | None = None,
    pin_memory: bool = False,
    seed: int = 42,
    skip_bad: bool = False,
    crop_scale_min: float = 0.08,
    in_memory: bool = True,
) -> DataLoaders:
    """ImageFolder datasets and DataLoaders for ``data_dir/train`` and ``data_dir/valid``.

    The document's ``DataLoader(dataset, batch_size=32, shuffle=True, num_workers=4)``
    for training; validation is not shuffled. ``pin_memory`` speeds up copies to a
    CUDA GPU. The training loader's shuffling comes from a seeded generator, so a
    run can be repeated (and resumed) exactly. ``crop_scale_min`` goes to
    :func:`train_transforms`. With ``in_memory`` each image is decoded once and kept in
    memory when the dataset fits (:mod:`leafdl.memory_data`); ``loaders.loading`` says which.
    """
    data_dir = Path(data_dir)
    if spec.size > MAX_IMG_SIZE:
        raise OptionError(f"img_size (command line: --img-size) must be at most {MAX_IMG_SIZE} pixels, not "
                          f"{spec.size}: one batch would need gigabytes of memory. 224 is the document's size.")
    if not is_split_folder(data_dir):
        raise DatasetError(
            f"{data_dir} has no train/ and valid/ folders. Split it first: "
            f"leafdl data split {data_dir} {data_dir.parent / (data_dir.name + '-split')}")
    train_transform, valid_transform = train_transforms(spec, crop_scale_min), eval_transforms(spec)
    train_scan = scan_class_folders(data_dir / "train", check_images=False)
    valid_scan = scan_class_folders(data_dir / "valid", check_images=False)
    if train_scan.classes != valid_scan.classes:
        raise DatasetError(
            f"train/ and valid/ in {data_dir} have different classes ({train_scan.classes} vs "
            f"{valid_scan.classes}). Re-split the dataset so both hold the same class folders.")
    # One pass: each image is read once, to check it and, when the set fits in memory,
    # to keep it decoded for every epoch.
    loading, decoded = "Images are read from disk every epoch.", None
    if in_memory:
        fits, loading = memory_plan(train_scan.images, valid_scan.images, spec.size)
        decoded = {} if fits else None
    for scan in (train_scan, valid_scan):
        check_scanned_images(scan, skip_bad=skip_bad, keep=decoded)
    train_set, valid_set = _image_folder_of(train_scan, train_transform), _image_folder_of(valid_scan, valid_transform)
    if decoded is not None:
        train_set, valid_set = InMemoryImages(train_set, decoded), InMemoryImages(valid_set, decoded, deterministic=True)
    if num_workers is None:
        num_workers = default_num_workers()
    # Workers are started afresh each epoch (not persistent) so that their random
    # augmentations are seeded from the generator, which makes a resumed run exact.
    common = dict(batch_size=batch_size, num_workers=num_workers, pin_memory=pin_memory)
    generator = torch.Generator().manual_seed(seed)
    return DataLoaders(
        train=DataLoader(train_set, shuffle=True, generator=generator, **common),
        valid=DataLoader(valid_set, shuffle=False, **common),
        classes=list(train_set.classes),
        loading=loading,
    )
