"""Tests for leafdl.demo_data: the synthetic apple-leaf data set.

They check the promises the course relies on: the ImageFolder layout, reproducible
files, a folder of your own is never overwritten, and the classes differ by their
lesions, not by their overall colour.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from leafdl.demo_data import DEMO_CLASSES, FILE_PREFIXES, MARKER_FILE, draw_leaf, make_demo_dataset

PER_CLASS = 60  # for the colour check: 240 images, about 3 seconds


@pytest.fixture(scope="module")
def leaves(tmp_path_factory) -> Path:
    return make_demo_dataset(tmp_path_factory.mktemp("demo") / "leaves", per_class=PER_CLASS, progress=False)


def file_hashes(folder: Path) -> dict[str, str]:
    """relative path -> md5 of every image under ``folder``."""
    return {
        str(path.relative_to(folder)): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(folder.glob("*/*.jpg"))
    }


def read_pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image, dtype=np.float32)


def mean_colours(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Each image's average RGB colour, and its class index."""
    features, labels = [], []
    for label, class_name in enumerate(DEMO_CLASSES):
        for path in sorted((folder / class_name).glob("*.jpg")):
            features.append(read_pixels(path).mean(axis=(0, 1)) / 255)
            labels.append(label)
    return np.array(features), np.array(labels)


# ----------------------------------------------------------------------------- layout


def test_writes_one_folder_of_256px_rgb_jpegs_per_class(leaves):
    assert sorted(p.name for p in leaves.iterdir() if p.is_dir()) == sorted(DEMO_CLASSES)
    for class_name in DEMO_CLASSES:
        files = sorted((leaves / class_name).iterdir())
        prefix = FILE_PREFIXES[class_name]
        assert [f.name for f in files] == [f"{prefix}_{i:04d}.jpg" for i in range(PER_CLASS)]
        for path in files:
            with Image.open(path) as image:
                assert image.format == "JPEG"
                assert image.mode == "RGB"
                assert image.size == (256, 256)


def test_writes_a_marker_that_describes_the_data_set(leaves):
    marker = json.loads((leaves / MARKER_FILE).read_text())
    assert marker["seed"] == 0
    assert marker["per_class"] == PER_CLASS
    assert marker["size"] == 256
    assert marker["classes"] == list(DEMO_CLASSES)


def test_size_option_changes_the_image_size(tmp_path):
    out = make_demo_dataset(tmp_path / "small", per_class=1, size=96, progress=False)
    for path in out.glob("*/*.jpg"):
        with Image.open(path) as image:
            assert image.size == (96, 96)


# ----------------------------------------------------------------------------- reproducible


def test_same_seed_gives_byte_identical_files(tmp_path):
    first = file_hashes(make_demo_dataset(tmp_path / "a", per_class=3, seed=7, progress=False))
    second = file_hashes(make_demo_dataset(tmp_path / "b", per_class=3, seed=7, progress=False))
    assert len(first) == 12
    assert first == second


def test_other_seed_gives_other_images(tmp_path):
    first = file_hashes(make_demo_dataset(tmp_path / "a", per_class=3, seed=0, progress=False))
    second = file_hashes(make_demo_dataset(tmp_path / "b", per_class=3, seed=1, progress=False))
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_fewer_images_per_class_are_a_prefix_of_more(tmp_path):
    few = file_hashes(make_demo_dataset(tmp_path / "few", per_class=2, progress=False))
    many = file_hashes(make_demo_dataset(tmp_path / "many", per_class=5, progress=False))
    assert len(few) == 8 and len(many) == 20
    assert all(many[name] == digest for name, digest in few.items())


def test_draw_leaf_depends_only_on_the_generator_state():
    one = draw_leaf("Black_rot", np.random.default_rng(3), size=128)
    two = draw_leaf("Black_rot", np.random.default_rng(3), size=128)
    other = draw_leaf("Black_rot", np.random.default_rng(4), size=128)
    assert one.size == (128, 128) and one.mode == "RGB"
    assert np.array_equal(np.asarray(one), np.asarray(two))
    assert not np.array_equal(np.asarray(one), np.asarray(other))


# ----------------------------------------------------------------------------- your files are safe


def test_refuses_a_non_empty_folder_it_did_not_make_and_touches_nothing(tmp_path):
    folder = tmp_path / "my_photos"
    (folder / "Healthy").mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes")
    (folder / "Healthy" / "healthy_0000.jpg").write_bytes(b"my own photo")
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    with pytest.raises(ValueError, match="not empty") as error:
        make_demo_dataset(folder, per_class=2, progress=False)

    assert MARKER_FILE in str(error.value)  # the message says what is missing
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_accepts_an_empty_existing_folder(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    make_demo_dataset(folder, per_class=1, progress=False)
    assert len(list(folder.glob("*/*.jpg"))) == len(DEMO_CLASSES)


def test_redraws_its_own_folder_and_keeps_other_files(tmp_path):
    folder = make_demo_dataset(tmp_path / "demo", per_class=4, seed=0, progress=False)
    (folder / "README.txt").write_text("notes next to the data")

    make_demo_dataset(folder, per_class=2, seed=0, progress=False)

    assert len(file_hashes(folder)) == 2 * len(DEMO_CLASSES)  # the extra files are gone
    assert (folder / "README.txt").read_text() == "notes next to the data"
    assert json.loads((folder / MARKER_FILE).read_text())["per_class"] == 2


def test_ctrl_c_while_writing_leaves_only_whole_images_and_an_incomplete_marker(tmp_path, monkeypatch):
    folder = tmp_path / "demo"
    real_save = Image.Image.save
    saves = []

    def save_then_interrupt(image, path, *args, **kwargs):
        saves.append(Path(path))
        if len(saves) == 3:  # half of the third file is on disk: press Ctrl-C
            Path(path).write_bytes(b"\xff\xd8 half a jpeg")
            raise KeyboardInterrupt
        return real_save(image, path, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        make_demo_dataset(folder, per_class=5, progress=False)

    assert saves[2].parent == folder / "Apple_scab" and saves[2].name.endswith(".tmp")  # a temporary was written
    left = sorted(path.name for path in (folder / "Apple_scab").iterdir())
    assert left == ["scab_0000.jpg", "scab_0001.jpg"]  # whole images only: no temporary, no half file
    for name in left:
        assert read_pixels(folder / "Apple_scab" / name).shape == (256, 256, 3)
    assert json.loads((folder / MARKER_FILE).read_text())["complete"] is False


def test_a_redraw_removes_temporaries_a_killed_run_left(tmp_path):
    folder = make_demo_dataset(tmp_path / "demo", per_class=2, progress=False)
    stale = folder / "Healthy" / ".healthy_0005.jpg.k2x9.tmp"   # leafdl.files' naming
    stale.write_bytes(b"from a run killed with kill -9")
    mine = folder / "Healthy" / ".notes.tmp"
    mine.write_text("not leafdl's")
    make_demo_dataset(folder, per_class=2, progress=False)

    assert not stale.exists()
    assert mine.read_text() == "not leafdl's"
    assert json.loads((folder / MARKER_FILE).read_text())["complete"] is True


def test_unknown_class_name_is_refused():
    with pytest.raises(ValueError, match="Apple_scab"):
        draw_leaf("Apple_rust", np.random.default_rng(0))


# ----------------------------------------------------------------------------- a fair task


def test_average_colour_alone_cannot_tell_the_classes_apart(leaves):
    """The classes must differ by their lesions, not by their tint: a logistic regression
    that sees only each image's mean RGB stays far below what a CNN reaches (chance is 0.25)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = mean_colours(leaves)
    x_train, x_valid, y_train, y_valid = train_test_split(
        features, labels, test_size=0.25, stratify=labels, random_state=42
    )
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x_train, y_train)
    assert model.score(x_valid, y_valid) < 0.5


def test_images_are_not_all_alike(leaves):
    pixels = np.stack([read_pixels(path) for path in sorted(leaves.glob("*/*_000[0-9].jpg"))])
    assert len(pixels) == 10 * len(DEMO_CLASSES)
    # How much each pixel varies from image to image, averaged over the pixels.
    assert pixels.std(axis=0).mean() > 25
    assert len(set(file_hashes(leaves).values())) == PER_CLASS * len(DEMO_CLASSES)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_each_disease_paints_its_own_signs_on_the_same_leaf(seed):
    """For the same generator state every class gets the same leaf; the disease adds
    lesions of its own colour: scab darkens (olive-black), black rot turns green to
    brown and purple (red above green), rust to orange (red well above green, green above blue)."""
    healthy = np.asarray(draw_leaf("Healthy", np.random.default_rng(seed)), dtype=np.float32)
    for class_name in ("Apple_scab", "Black_rot", "Cedar_apple_rust"):
        sick = np.asarray(draw_leaf(class_name, np.random.default_rng(seed)), dtype=np.float32)
        changed = np.abs(sick - healthy).max(axis=-1) > 40
        assert 0.001 < changed.mean() < 0.25, class_name  # visible, but not the whole picture
        red, green, blue = sick[changed].mean(axis=0)
        before = healthy[changed].mean(axis=0)
        if class_name == "Apple_scab":
            assert red + green + blue < before.sum() - 60
        elif class_name == "Black_rot":
            assert red > green + 15 and before[1] > before[0]  # was green, now brown-purple
        else:
            assert red > green + 25 and green > blue
