"""The real photos shipped with leafdl: complete, copied out safely, and trainable.

Both sets are package data (``leafdl/apple-photos/``: 240 PlantVillage photos, unchanged;
``leafdl/field-photos/``: 240 downsized iBeans photos), each with a manifest and a README.
Accuracy is measured in the notebooks and by benchmarks, not here: a test only checks
that a recipe runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from leafdl.cli import main
from leafdl.course import apple_data, field_data
from leafdl.data import scan_class_folders
from leafdl.photo_sets import APPLE_PHOTOS, FIELD_PHOTOS, PhotoSetError, copy_photo_set, is_intact_copy, \
    read_manifest, verify

APPLE_CLASSES = ["Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy"]
FIELD_CLASSES = ["Angular_leaf_spot", "Bean_rust", "Healthy"]
# (set, its `leafdl data` sub-command, classes, photos per class, file suffix)
SETS = [(APPLE_PHOTOS, "apples", APPLE_CLASSES, 60, ".JPG"), (FIELD_PHOTOS, "field", FIELD_CLASSES, 80, ".jpg")]
SET_IDS = ["apples", "field"]


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("photo_set, command, classes, per_class, suffix", SETS, ids=SET_IDS)
def test_shipped_set_is_complete_matches_its_manifest_and_fits_8_mb(photo_set, command, classes, per_class, suffix):
    manifest = read_manifest(photo_set)
    assert manifest["name"] == photo_set.name and manifest["classes"] == classes
    assert {name: sum(e["class"] == name for e in manifest["files"]) for name in classes} == \
        {name: per_class for name in classes}
    verify(photo_set.folder, manifest)                          # every file's SHA-256
    photos = sorted(str(p.relative_to(photo_set.folder)) for p in photo_set.folder.glob("*/*") if p.is_file())
    assert photos == sorted(f"{e['class']}/{e['file']}" for e in manifest["files"])   # nothing extra
    assert all(len(e["source_md5"]) == 32 for e in manifest["files"])
    total = sum(p.stat().st_size for p in photo_set.folder.rglob("*") if p.is_file())
    assert total <= 8_000_000
    scan = scan_class_folders(photo_set.folder)                 # every photo decodes
    assert scan.classes == classes and not scan.bad


def test_apple_photos_are_the_originals_with_their_licence():
    """Byte for byte the source files (md5 from the source manifest), 256 px, CC BY-SA 3.0 named."""
    from PIL import Image

    for entry in read_manifest(APPLE_PHOTOS)["files"]:
        path = APPLE_PHOTOS.folder / entry["class"] / entry["file"]
        assert hashlib.md5(path.read_bytes()).hexdigest() == entry["source_md5"], path
    with Image.open(path) as image:
        assert image.size == (256, 256)
    licence = (APPLE_PHOTOS.folder / "LICENCE.md").read_text(encoding="utf-8")
    readme = (APPLE_PHOTOS.folder / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 3.0" in licence and "PlantVillage" in licence and "Hughes" in readme
    field_readme = (FIELD_PHOTOS.folder / "README.md").read_text(encoding="utf-8")
    assert "MIT" in field_readme and "CC BY 4.0" in field_readme and "iBeans" in field_readme


@pytest.mark.parametrize("photo_set, command, classes, per_class, suffix", SETS, ids=SET_IDS)
def test_verify_names_a_damaged_file(tmp_path, photo_set, command, classes, per_class, suffix):
    out = copy_photo_set(photo_set, tmp_path / command)
    victim = out / classes[1] / read_manifest(photo_set)["files"][100]["file"]
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.raises(PhotoSetError, match=victim.name):
        verify(out, read_manifest(photo_set))
    assert not is_intact_copy(photo_set, out)


@pytest.mark.parametrize("photo_set, command, classes, per_class, suffix", SETS, ids=SET_IDS)
def test_data_command_copies_the_set_and_can_copy_again(tmp_path, capsys, photo_set, command, classes, per_class,
                                                        suffix):
    out = tmp_path / "data" / command
    assert main(["data", command, str(out)]) == 0
    assert f"Copied 240 real" in capsys.readouterr().out
    assert is_intact_copy(photo_set, out)
    assert (out / photo_set.marker_file).is_file() and all((out / note).is_file() for note in photo_set.notes)
    assert {d.name: len(list(d.glob(f"*{suffix}"))) for d in out.iterdir() if d.is_dir()} == \
        {n: per_class for n in classes}

    (out / "Healthy" / "extra.jpg").write_bytes(b"my own photo")  # an intact copy is kept as it is,
    assert main(["data", command, str(out)]) == 0                  # with whatever the user added
    assert (out / "Healthy" / "extra.jpg").read_bytes() == b"my own photo" and is_intact_copy(photo_set, out)
    assert sorted(p.name for p in out.parent.iterdir()) == [command]   # no staging folder left behind


@pytest.mark.parametrize("command", ["apples", "field"])
def test_data_command_refuses_to_overwrite_a_users_folder(tmp_path, capsys, command):
    mine = tmp_path / "mine"
    (mine / "Healthy").mkdir(parents=True)
    (mine / "Healthy" / "my_leaf.jpg").write_bytes(b"precious")
    assert main(["data", command, str(mine)]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "nothing was written" in err and "Traceback" not in err
    assert fingerprint(mine) == {"Healthy/my_leaf.jpg": hashlib.sha256(b"precious").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]

    a_file = tmp_path / "notes.txt"
    a_file.write_text("hello")
    assert main(["data", command, str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err and a_file.read_text() == "hello"


def test_a_copy_of_one_set_is_not_taken_for_the_other(tmp_path, capsys):
    out = copy_photo_set(APPLE_PHOTOS, tmp_path / "photos")
    assert not is_intact_copy(FIELD_PHOTOS, out)
    assert main(["data", "field", str(out)]) == 2
    assert "not an intact copy of the ibeans-field-photos set" in capsys.readouterr().err


@pytest.mark.parametrize("course_data, photo_set, suffix", [(apple_data, APPLE_PHOTOS, ".JPG"),
                                                            (field_data, FIELD_PHOTOS, ".jpg")], ids=SET_IDS)
def test_course_data_copies_and_splits_once_then_repairs_a_damaged_copy(tmp_path, course_data, photo_set, suffix):
    photos, split = course_data(tmp_path)
    assert is_intact_copy(photo_set, photos)
    counts = {part: len(list((split / part).rglob(f"*{suffix}"))) for part in ("train", "valid")}
    assert counts == {"train": 192, "valid": 48}
    first = fingerprint(split)

    assert course_data(tmp_path) == (photos, split) and fingerprint(split) == first
    victim = read_manifest(photo_set)["files"][90]
    (photos / victim["class"] / victim["file"]).unlink()
    course_data(tmp_path)
    assert is_intact_copy(photo_set, photos) and fingerprint(split) == first


def test_leafdl_train_on_the_shipped_set_runs_the_field_recipe_and_leaves_it_untouched(tmp_path, capsys):
    before = fingerprint(FIELD_PHOTOS.folder)
    run = tmp_path / "run"
    status = main(["train", str(FIELD_PHOTOS.folder), "--out", str(run), "--img-size", "64", "--epochs", "1",
                   "--unfreeze", "2", "--finetune-epochs", "1", "--crop-scale-min", "0.35",
                   "--arch", "efficientnet_lite0", "--device", "cpu", "--workers", "0", "--quiet"])
    assert status == 0, capsys.readouterr().err
    metadata = json.loads((run / "metadata.json").read_text())
    assert metadata["classes"] == FIELD_CLASSES
    assert metadata["history"]["stage"] == ["frozen", "finetune"]
    assert metadata["hyperparameters"]["unfreeze"] == 2
    assert metadata["hyperparameters"]["crop_scale_min"] == 0.35
    valid = sum(scan_class_folders(run / "split" / "valid", check_images=False).counts.values())
    assert valid == 48
    assert (run / "report.txt").is_file() and (run / "model.pth").is_file()
    assert fingerprint(FIELD_PHOTOS.folder) == before          # the shipped photos were only read


def test_package_data_ships_every_file_of_both_sets():
    """pyproject.toml's package-data globs match every shipped file, so a wheel carries them all."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    package = APPLE_PHOTOS.folder.parent
    config = tomllib.loads((package.parent / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["leafdl"]
    shipped = {p for photo_set in (APPLE_PHOTOS, FIELD_PHOTOS) for p in photo_set.folder.rglob("*") if p.is_file()}
    assert {p for pattern in globs for p in package.glob(pattern)} == shipped
