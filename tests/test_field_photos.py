"""The pipeline on real field photos, when a folder of them is on this machine.

Real smartphone photos differ from the demo leaves: 500x500 JPEGs from a phone, real
backgrounds, EXIF data. The folder is not part of the project: set LEAFDL_FIELD_PHOTOS
to a folder of class folders, or keep the iBeans sample in ../shared/data beside the
repository. Without either, these tests are skipped. Accuracy is measured by
benchmarks/bench_finetune.py, not here: a test only checks that the recipe runs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from leafdl.config import TrainConfig
from leafdl.data import scan_class_folders
from leafdl.pipeline import train_from_folder

DEFAULT_FIELD_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ibeans-sample"
FIELD_PHOTOS = Path(os.environ.get("LEAFDL_FIELD_PHOTOS", DEFAULT_FIELD_PHOTOS))

pytestmark = pytest.mark.skipif(not FIELD_PHOTOS.is_dir(), reason=f"no field photos at {FIELD_PHOTOS}")


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.md5(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_field_recipe_runs_on_real_photos_and_leaves_them_untouched(tmp_path):
    scan = scan_class_folders(FIELD_PHOTOS)
    assert len(scan.classes) >= 2 and not scan.bad
    before = fingerprint(FIELD_PHOTOS)

    # The field recipe's options, shrunk to a few seconds: 96 px, one epoch per stage.
    config = TrainConfig(arch="efficientnet_lite0", img_size=96, epochs=1, unfreeze=12, finetune_epochs=1,
                         crop_scale_min=0.35, num_workers=0)
    result = train_from_folder(FIELD_PHOTOS, tmp_path / "run", config, device="cpu", progress=False,
                               log=lambda *_: None)

    assert result.history.stage == ["frozen", "finetune"]
    assert result.loaders.train.dataset.transform.transforms[0].scale == (0.35, 1.0)
    # A listing only: the pipeline has already decoded every copied photo.
    valid_scan = scan_class_folders(tmp_path / "run" / "split" / "valid", check_images=False)
    valid_images = sum(valid_scan.counts.values())
    assert len(result.predictions.labels) == valid_images
    assert valid_images == pytest.approx(0.2 * sum(scan.counts.values()), abs=len(scan.classes))
    assert fingerprint(FIELD_PHOTOS) == before           # the photos were only read
