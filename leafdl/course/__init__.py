"""Small conveniences for the course notebooks: the shared demo data and quiet settings.

Every notebook can run on its own, in any order: the first one to need the demo leaves
draws them into ``data/`` at the repository root (about two seconds, no download), and
the others reuse them.

The real field photos shipped with leafdl (notebook 12) work the same way:
:func:`field_data` copies them into ``data/field-photos`` and splits them.

Example:
    >>> from leafdl.course import demo_data                 # doctest: +SKIP
    >>> leaves, split = demo_data()                          # doctest: +SKIP
    >>> split.name                                           # doctest: +SKIP
    'demo-split'
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from leafdl.data import SPLIT_MARKER, split_dataset
from leafdl.demo_data import DRAWING_VERSION, MARKER_FILE, make_demo_dataset
from leafdl.field_photos import MARKER_FILE as FIELD_MARKER
from leafdl.field_photos import copy_field_photos, is_intact_copy

# The course's demo set: 60 leaves per class (48 train + 12 valid each): enough to learn
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


def field_data(data_dir: Path | None = None) -> tuple[Path, Path]:
    """Return ``(photos, split)``: the shipped field photos and their 80/20 split, copied if missing.

    ``photos`` is ``data/field-photos`` (240 real photos of bean leaves, 3 classes; see
    :mod:`leafdl.field_photos`); ``split`` is ``data/field-split`` with ``train/`` (192)
    and ``valid/`` (48), stratified, ``random_state=42``. A damaged or incomplete copy
    is copied again, and its split made again.
    """
    data_dir = Path(data_dir) if data_dir else repo_data_dir()
    photos = data_dir / "field-photos"
    split = data_dir / "field-split"
    if (photos / FIELD_MARKER).exists() and not is_intact_copy(photos):
        shutil.rmtree(photos)      # the course's own copy, damaged: copy it again
    copy_field_photos(photos)      # copied if missing; kept when intact
    split_dataset(photos, split)   # made if missing; kept when it is this very split
    return photos, split
