"""Small conveniences for the course notebooks: the course's data, made or copied on demand.

The course uses three sets of leaf images, each for what it is good at:

- **the apple photos** (:func:`apple_data`): 240 real PlantVillage photos of apple
  leaves in the document's four classes, shipped with leafdl. The document's own task:
  the lessons train and evaluate on them.
- **the field photos** (:func:`field_data`): 240 real photos of bean leaves in fields,
  shipped with leafdl. Harder; notebook 12 fine-tunes on them.
- **the demo leaves** (:func:`demo_data`): drawn by a generator, any number at any size,
  in a second and without a file to ship. Good for showing a pipeline step, for tests and
  benchmarks; too easy to show how a model learns (a linear probe separates them).

Every notebook can run on its own, in any order: the first one to need a set copies or
draws it into ``data/`` at the repository root, and the others reuse it.

Example:
    >>> from leafdl.course import apple_data                # doctest: +SKIP
    >>> photos, split = apple_data()                         # doctest: +SKIP
    >>> split.name                                           # doctest: +SKIP
    'apple-split'
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from leafdl.data import SPLIT_MARKER, split_dataset
from leafdl.demo_data import DRAWING_VERSION, MARKER_FILE, make_demo_dataset
from leafdl.photo_sets import APPLE_PHOTOS, FIELD_PHOTOS, PhotoSet, copy_photo_set, is_copy, is_intact_copy

# The course's demo set: 60 leaves per class (as many as the apple photos) (48 train + 12 valid each): enough to learn
# from, small enough that an epoch at the notebooks' 128 px takes seconds on a laptop CPU.
COURSE_PER_CLASS = 60
COURSE_SEED = 0
# Notebooks train at 128 px rather than the document's 224 px: about 3x less computation
# per image, the same code. `leafdl train` (the command line) uses 224 px.
COURSE_IMG_SIZE = 128


def repo_data_dir(start: Path | None = None) -> Path:
    """The ``data/`` folder next to ``notebooks/`` (found from the current folder upwards)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "data").is_dir() and (folder / "notebooks").is_dir():
            return folder / "data"
    return here / "data"


def demo_data(per_class: int = COURSE_PER_CLASS, seed: int = COURSE_SEED,
              data_dir: Path | None = None) -> tuple[Path, Path]:
    """Return ``(leaves, split)``: the demo dataset and its 80/20 split, made if missing.

    ``leaves`` holds the class folders; ``split`` holds ``train/`` and ``valid/`` as
    :func:`leafdl.data.split_dataset` writes them (``random_state=42``).
    """
    data_dir = Path(data_dir) if data_dir else repo_data_dir()
    leaves = data_dir / "demo-leaves"
    split = data_dir / "demo-split"
    marker = leaves / MARKER_FILE
    wanted = {"per_class": per_class, "seed": seed, "version": DRAWING_VERSION}
    current = json.loads(marker.read_text()) if marker.exists() else {}
    if any(current.get(key) != value for key, value in wanted.items()) or not current.get("complete"):
        make_demo_dataset(leaves, per_class=per_class, seed=seed, progress=False)
        if (split / SPLIT_MARKER).exists():
            shutil.rmtree(split)  # the course's own split of the old leaves; split again below
    split_dataset(leaves, split)   # made if missing; kept as it is when it is this very split
    return leaves, split


def _shipped_data(photo_set: PhotoSet, photos: Path, split: Path) -> tuple[Path, Path]:
    if is_copy(photo_set, photos) and not is_intact_copy(photo_set, photos):
        shutil.rmtree(photos)      # the course's own copy, damaged: copy it again
    copy_photo_set(photo_set, photos)   # copied if missing; kept when intact
    split_dataset(photos, split)        # made if missing; kept when it is this very split
    return photos, split


def apple_data(data_dir: Path | None = None) -> tuple[Path, Path]:
    """Return ``(photos, split)``: the shipped apple photos and their 80/20 split, copied if missing.

    ``photos`` is ``data/apple-photos`` (240 real PlantVillage photos, the document's four
    classes, 60 each; see :mod:`leafdl.photo_sets`); ``split`` is ``data/apple-split``
    with ``train/`` (192) and ``valid/`` (48), stratified, ``random_state=42``. A damaged
    or incomplete copy is copied again, and its split made again.
    """
    data_dir = Path(data_dir) if data_dir else repo_data_dir()
    return _shipped_data(APPLE_PHOTOS, data_dir / "apple-photos", data_dir / "apple-split")


def print_tree(folder: Path) -> None:
    """Print the folders under ``folder``, two levels deep, with how many files each holds.

    How notebook 02 shows what :func:`leafdl.data.split_dataset` wrote::

        apple-split/
        ├── .leafdl-split.json
        ├── train/
        │   ├── Apple_scab/          48 images (01f3deaa-...Scab 3112.JPG ...)
    """
    folder = Path(folder)
    print(f"{folder.name}/")
    entries = sorted(folder.iterdir())
    for index, entry in enumerate(entries):
        last = index == len(entries) - 1
        branch = "└──" if last else "├──"
        if entry.is_file():
            print(f"{branch} {entry.name}")
            continue
        print(f"{branch} {entry.name}/")
        children = sorted(child for child in entry.iterdir() if child.is_dir())
        for child_index, child in enumerate(children):
            child_branch = "└──" if child_index == len(children) - 1 else "├──"
            files = sorted(child.iterdir())
            first = f" ({files[0].name} ...)" if files else ""
            print(f"{'    ' if last else '│   '}{child_branch} {child.name + '/':<19} {len(files):>3} images{first}")


def field_data(data_dir: Path | None = None) -> tuple[Path, Path]:
    """Return ``(photos, split)``: the shipped field photos and their 80/20 split, copied if missing.

    ``photos`` is ``data/field-photos`` (240 real photos of bean leaves, 3 classes; see
    :mod:`leafdl.photo_sets`); ``split`` is ``data/field-split`` with ``train/`` (192)
    and ``valid/`` (48), stratified, ``random_state=42``. A damaged or incomplete copy
    is copied again, and its split made again.
    """
    data_dir = Path(data_dir) if data_dir else repo_data_dir()
    return _shipped_data(FIELD_PHOTOS, data_dir / "field-photos", data_dir / "field-split")
