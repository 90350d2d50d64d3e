"""Small conveniences for the course notebooks: the shared demo data and quiet settings.

Every notebook can run on its own, in any order: the first one to need the demo leaves
draws them into ``data/`` at the repository root (about two seconds, no download), and
the others reuse them.

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

from leafdl.data import SPLIT_MARKER, is_split_folder, split_dataset

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
    from leafdl.demo_data import DRAWING_VERSION, MARKER_FILE, make_demo_dataset

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
    if not is_split_folder(split):
        split_dataset(leaves, split)
    return leaves, split
