"""The field photos shipped with leafdl: complete, copied out safely, and trainable.

The set is package data (``leafdl/field-photos/``: 240 downsized iBeans photos, a
manifest and a README). Accuracy is measured in notebook 12 and by
benchmarks/bench_finetune.py, not here: a test only checks that the recipe runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from leafdl.cli import main
from leafdl.course import field_data
from leafdl.data import scan_class_folders
from leafdl.field_photos import MARKER_FILE, SHIPPED, FieldPhotosError, copy_field_photos, is_intact_copy, \
    read_manifest, verify

CLASSES = ["Angular_leaf_spot", "Bean_rust", "Healthy"]


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_shipped_set_is_complete_matches_its_manifest_and_fits_8_mb():
    manifest = read_manifest()
    assert len(manifest["files"]) == 240
    assert {name: sum(e["class"] == name for e in manifest["files"]) for name in CLASSES} == \
        {name: 80 for name in CLASSES}
    verify(SHIPPED, manifest)                                   # every file's SHA-256
    photos = sorted(str(p.relative_to(SHIPPED)) for p in SHIPPED.glob("*/*") if p.is_file())
    assert photos == sorted(f"{e['class']}/{e['file']}" for e in manifest["files"])   # nothing extra
    assert all(len(e["source_md5"]) == 32 and e["source_file"] for e in manifest["files"])
    total = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert total <= 8_000_000
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert "MIT" in readme and "CC BY 4.0" in readme and "iBeans" in readme
    scan = scan_class_folders(SHIPPED)                          # every photo decodes
    assert scan.classes == CLASSES and not scan.bad


def test_verify_names_a_damaged_file(tmp_path):
    out = copy_field_photos(tmp_path / "field")
    victim = out / "Bean_rust" / read_manifest()["files"][100]["file"]
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.raises(FieldPhotosError, match=victim.name):
        verify(out, read_manifest())
    assert not is_intact_copy(out)


def test_data_field_copies_the_set_and_can_copy_again(tmp_path, capsys):
    out = tmp_path / "data" / "field"
    assert main(["data", "field", str(out)]) == 0
    assert "240 field photos" in capsys.readouterr().out
    assert is_intact_copy(out)
    assert (out / MARKER_FILE).is_file() and (out / "README.md").is_file()
    assert {d.name: len(list(d.glob("*.jpg"))) for d in out.iterdir() if d.is_dir()} == {n: 80 for n in CLASSES}

    (out / "Healthy" / "extra.jpg").write_bytes(b"my own photo")  # an intact copy is kept as it is,
    assert main(["data", "field", str(out)]) == 0                  # with whatever the user added
    assert (out / "Healthy" / "extra.jpg").read_bytes() == b"my own photo" and is_intact_copy(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["field"]     # no staging folder left behind


def test_data_field_refuses_to_overwrite_a_users_folder(tmp_path, capsys):
    mine = tmp_path / "mine"
    (mine / "Healthy").mkdir(parents=True)
    (mine / "Healthy" / "my_leaf.jpg").write_bytes(b"precious")
    assert main(["data", "field", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "nothing was written" in err and "Traceback" not in err
    assert fingerprint(mine) == {"Healthy/my_leaf.jpg": hashlib.sha256(b"precious").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]

    a_file = tmp_path / "notes.txt"
    a_file.write_text("hello")
    assert main(["data", "field", str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err and a_file.read_text() == "hello"


def test_field_data_copies_and_splits_once_then_repairs_a_damaged_copy(tmp_path):
    photos, split = field_data(tmp_path)
    assert is_intact_copy(photos)
    counts = {part: len(list((split / part).rglob("*.jpg"))) for part in ("train", "valid")}
    assert counts == {"train": 192, "valid": 48}
    first = fingerprint(split)

    assert field_data(tmp_path) == (photos, split) and fingerprint(split) == first
    (photos / "Bean_rust" / read_manifest()["files"][90]["file"]).unlink()
    field_data(tmp_path)
    assert is_intact_copy(photos) and fingerprint(split) == first


def test_leafdl_train_on_the_shipped_set_runs_the_field_recipe_and_leaves_it_untouched(tmp_path, capsys):
    before = fingerprint(SHIPPED)
    run = tmp_path / "run"
    status = main(["train", str(SHIPPED), "--out", str(run), "--img-size", "64", "--epochs", "1",
                   "--unfreeze", "2", "--finetune-epochs", "1", "--crop-scale-min", "0.35",
                   "--arch", "efficientnet_lite0", "--device", "cpu", "--workers", "0", "--quiet"])
    assert status == 0, capsys.readouterr().err
    metadata = json.loads((run / "metadata.json").read_text())
    assert metadata["classes"] == CLASSES
    assert metadata["history"]["stage"] == ["frozen", "finetune"]
    assert metadata["hyperparameters"]["unfreeze"] == 2
    assert metadata["hyperparameters"]["crop_scale_min"] == 0.35
    valid = sum(scan_class_folders(run / "split" / "valid", check_images=False).counts.values())
    assert valid == 48
    assert (run / "report.txt").is_file() and (run / "model.pth").is_file()
    assert fingerprint(SHIPPED) == before                      # the shipped photos were only read


def test_package_data_ships_every_file_of_the_set():
    """pyproject.toml's package-data globs match every shipped file, so a wheel carries them all."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    package = SHIPPED.parent
    config = tomllib.loads((package.parent / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["leafdl"]
    shipped = {p for p in SHIPPED.rglob("*") if p.is_file()}
    assert {p for pattern in globs for p in package.glob(pattern)} == shipped
