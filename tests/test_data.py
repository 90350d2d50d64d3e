"""Data preparation and loading: the split, transforms, ImageFolder, and bad input on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from leafdl.data import (DatasetError, build_dataloaders, check_image, eval_transforms, image_folder,
                         load_rgb, readable_class_name, scan_class_folders, split_dataset, train_transforms)
from leafdl.models import InputSpec

SPEC = InputSpec(size=64, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


def write_image(path: Path, color=(40, 140, 60), size=(48, 40), mode="RGB", fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    array = np.clip(np.array(color)[None, None, :] + rng.integers(-30, 30, (size[1], size[0], 3)), 0, 255)
    image = Image.fromarray(array.astype(np.uint8))
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path, format=fmt)
    return path


def make_class_folders(root: Path, counts: dict[str, int]) -> Path:
    for index, (name, count) in enumerate(counts.items()):
        for i in range(count):
            write_image(root / name / f"{name.lower()}_{i:03d}.jpg", color=(40 + 50 * index, 120, 60))
    return root


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# --- the split -------------------------------------------------------------------------


def test_split_is_stratified_reproducible_and_leaves_source_untouched(tmp_path):
    source = make_class_folders(tmp_path / "leaves", {"Apple_scab": 20, "Black_rot": 10, "Healthy": 30})
    before = tree_digest(source)

    summary = split_dataset(source, tmp_path / "split")
    assert summary.classes == ["Apple_scab", "Black_rot", "Healthy"]
    assert summary.valid_counts == {"Apple_scab": 4, "Black_rot": 2, "Healthy": 6}   # 20% of each class
    assert summary.train_counts == {"Apple_scab": 16, "Black_rot": 8, "Healthy": 24}
    first = sorted(p.name for p in (tmp_path / "split" / "valid").rglob("*.jpg"))
    assert len(first) == 12

    split_dataset(source, tmp_path / "split")   # re-running replaces its own output ...
    second = sorted(p.name for p in (tmp_path / "split" / "valid").rglob("*.jpg"))
    assert first == second                       # ... with the same split (random_state=42)
    assert tree_digest(source) == before         # and never touches the source

    other = split_dataset(source, tmp_path / "split-7", seed=7)
    third = sorted(p.name for p in (tmp_path / "split-7" / "valid").rglob("*.jpg"))
    assert other.valid_counts == summary.valid_counts and third != first


def test_train_and_valid_do_not_overlap(tmp_path):
    source = make_class_folders(tmp_path / "leaves", {"a": 15, "b": 15})
    split_dataset(source, tmp_path / "split")
    train = {p.name for p in (tmp_path / "split" / "train").rglob("*.jpg")}
    valid = {p.name for p in (tmp_path / "split" / "valid").rglob("*.jpg")}
    assert train.isdisjoint(valid) and len(train | valid) == 30


def test_split_refuses_output_inside_source(tmp_path):
    source = make_class_folders(tmp_path / "leaves", {"a": 5, "b": 5})
    before = tree_digest(source)
    for bad_out in (source, source / "split", source / "a" / "x"):
        with pytest.raises(DatasetError, match="inside"):
            split_dataset(source, bad_out)
    assert tree_digest(source) == before


def test_split_refuses_to_overwrite_a_folder_it_did_not_create(tmp_path):
    source = make_class_folders(tmp_path / "leaves", {"a": 5, "b": 5})
    precious = tmp_path / "my-photos"
    (precious / "train").mkdir(parents=True)
    (precious / "train" / "holiday.jpg").write_bytes(b"not really a photo")
    with pytest.raises(DatasetError, match="did not write"):
        split_dataset(source, precious)
    assert (precious / "train" / "holiday.jpg").read_bytes() == b"not really a photo"


@pytest.mark.parametrize("counts, valid, named", [({"a": 5, "b": 1}, 0.2, r"b \(1\).*at least 5 images"),
                                                  ({"a": 5, "b": 2}, 0.2, r"b \(2\).*at least 5 images"),
                                                  ({"a": 20, "b": 20}, 0.99, r"a \(20\), b \(20\).*at least 100")])
def test_split_refuses_a_class_too_small_to_give_train_and_valid_an_image(tmp_path, counts, valid, named):
    source = make_class_folders(tmp_path / "leaves", counts)
    with pytest.raises(DatasetError, match=named):
        split_dataset(source, tmp_path / "split", valid_fraction=valid)
    assert not (tmp_path / "split").exists()


def test_a_class_of_the_minimum_size_gets_an_image_in_each_set(tmp_path):
    source = make_class_folders(tmp_path / "leaves", {"a": 5, "b": 23})
    summary = split_dataset(source, tmp_path / "split", valid_fraction=0.2)
    assert summary.train_counts["a"] >= 1 and summary.valid_counts["a"] >= 1


# --- folder problems ----------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        scan_class_folders(tmp_path / "nope")


def test_folder_without_class_folders(tmp_path):
    write_image(tmp_path / "flat" / "leaf.jpg")
    with pytest.raises(DatasetError, match="no class sub-folders"):
        scan_class_folders(tmp_path / "flat")


def test_single_class(tmp_path):
    make_class_folders(tmp_path / "one", {"Healthy": 4})
    with pytest.raises(DatasetError, match="at least 2 classes"):
        scan_class_folders(tmp_path / "one")


def test_empty_class_is_named(tmp_path):
    root = make_class_folders(tmp_path / "d", {"a": 3, "b": 3})
    (root / "Empty_class").mkdir()
    (root / "Empty_class" / ".DS_Store").write_bytes(b"\x00\x01")
    with pytest.raises(DatasetError, match="Empty_class"):
        scan_class_folders(root)


def test_non_image_files_are_skipped(tmp_path):
    root = make_class_folders(tmp_path / "d", {"a": 3, "b": 3})
    for junk in (".DS_Store", "Thumbs.db", "notes.txt", "desktop.ini"):
        (root / "a" / junk).write_bytes(b"junk")
    scan = scan_class_folders(root)
    assert scan.counts == {"a": 3, "b": 3}
    assert sorted(p.name for p in scan.skipped) == ["Thumbs.db", "desktop.ini", "notes.txt"]
    assert [p.name for p in scan.hidden] == [".DS_Store"]
    assert scan.ignored() == "1 hidden file, 3 non-image files"
    dataset = image_folder(root)
    assert len(dataset) == 6


def test_unreadable_images_are_reported_together(tmp_path):
    root = make_class_folders(tmp_path / "d", {"a": 4, "b": 4})
    (root / "a" / "zero.jpg").write_bytes(b"")
    good = (root / "b" / "b_000.jpg").read_bytes()
    (root / "b" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "b" / "text.png").write_text("I am not a PNG")
    with pytest.raises(DatasetError) as caught:
        scan_class_folders(root)
    message = str(caught.value)
    assert "3 image file(s)" in message
    for name in ("zero.jpg", "truncated.jpg", "text.png"):
        assert name in message
    assert "--skip-bad-images" in message

    scan = scan_class_folders(root, skip_bad=True)
    assert scan.counts == {"a": 4, "b": 4} and len(scan.bad) == 3


def test_check_image_reasons(tmp_path):
    ok = write_image(tmp_path / "ok.jpg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert check_image(ok) is None
    assert "empty" in check_image(empty)


def test_bad_image_never_reaches_the_training_loop(tmp_path):
    root = make_class_folders(tmp_path / "d", {"a": 6, "b": 6})
    split_dataset(root, tmp_path / "split")
    (tmp_path / "split" / "train" / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    with pytest.raises(DatasetError, match="broken.jpg"):
        build_dataloaders(tmp_path / "split", SPEC, batch_size=4, num_workers=0)
    loaders = build_dataloaders(tmp_path / "split", SPEC, batch_size=4, num_workers=0, skip_bad=True)
    assert sum(len(labels) for _, labels in loaders.train) == 9


# --- image modes ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "CMYK", "I;16", "1"])
def test_every_image_mode_becomes_rgb(tmp_path, mode):
    fmt = "TIFF" if mode in ("CMYK", "I;16") else "PNG"
    path = tmp_path / f"leaf.{fmt.lower()}"
    if mode == "I;16":
        ramp = (np.linspace(0, 65535, 40 * 48).reshape(40, 48)).astype(np.uint16)
        Image.fromarray(ramp).save(path)  # uint16 gives mode I;16
    else:
        write_image(path, mode=mode, fmt=fmt)
    image = load_rgb(path)
    assert image.mode == "RGB" and image.size == (48, 40)
    if mode == "I;16":  # the full 16-bit range is scaled, not clipped to white
        values = np.asarray(image)[..., 0]
        assert values.min() < 10 and values.max() > 245 and 100 < values.mean() < 155


def test_transparent_pixels_become_white(tmp_path):
    rgba = Image.new("RGBA", (8, 8), (0, 128, 0, 0))
    rgba.save(tmp_path / "clear.png")
    assert np.asarray(load_rgb(tmp_path / "clear.png")).min() == 255


def test_unicode_file_names(tmp_path):
    root = tmp_path / "données"
    write_image(root / "Tavelure_du_pommier" / "feuille_été_1.jpg")
    write_image(root / "Tavelure_du_pommier" / "叶子.jpg")
    write_image(root / "Sain" / "Blatt_grün.png", fmt="PNG")
    write_image(root / "Sain" / "лист.jpg")
    dataset = image_folder(root, eval_transforms(SPEC))
    assert len(dataset) == 4
    image, label = dataset[0]
    assert image.shape == (3, 64, 64)


# --- transforms and loaders ----------------------------------------------------------


def test_transforms_shapes_ranges_and_normalisation(tmp_path):
    image = load_rgb(write_image(tmp_path / "x.jpg", size=(100, 80)))
    train = train_transforms(SPEC)(image)
    valid_a, valid_b = eval_transforms(SPEC)(image), eval_transforms(SPEC)(image)
    assert train.shape == valid_a.shape == (3, 64, 64)
    assert torch.equal(valid_a, valid_b)                     # evaluation is deterministic
    names = [type(t).__name__ for t in train_transforms(SPEC).transforms]
    assert names == ["RandomResizedCrop", "RandomHorizontalFlip", "RandomRotation", "ColorJitter",
                     "ToTensor", "Normalize"]
    half = InputSpec(size=64, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    scaled = eval_transforms(half)(image)                    # (x - 0.5) / 0.5 lies in [-1, 1]
    assert scaled.min() >= -1.0 and scaled.max() <= 1.0


def test_the_smallest_training_crop_can_be_raised_for_field_photos(tmp_path):
    crop = lambda transform: transform.transforms[0]
    assert crop(train_transforms(SPEC)).scale == (0.08, 1.0)        # the document's RandomResizedCrop
    assert crop(train_transforms(SPEC, crop_scale_min=0.35)).scale == (0.35, 1.0)
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="crop_scale_min"):
            train_transforms(SPEC, crop_scale_min=bad)

    root = make_class_folders(tmp_path / "d", {"Apple_scab": 5, "Healthy": 5})
    split_dataset(root, tmp_path / "split")
    loaders = build_dataloaders(tmp_path / "split", SPEC, num_workers=0, crop_scale_min=0.5)
    assert crop(loaders.train.dataset.transform).scale == (0.5, 1.0)
    assert not any(type(t).__name__ == "RandomResizedCrop" for t in loaders.valid.dataset.transform.transforms)


def test_dataloaders_give_batches_with_class_indices(tmp_path):
    root = make_class_folders(tmp_path / "d", {"Apple_scab": 10, "Healthy": 10})
    split_dataset(root, tmp_path / "split")
    loaders = build_dataloaders(tmp_path / "split", SPEC, batch_size=8, num_workers=0)
    assert loaders.classes == ["Apple_scab", "Healthy"]
    assert loaders.train.dataset.class_to_idx == {"Apple_scab": 0, "Healthy": 1}
    inputs, labels = next(iter(loaders.train))
    assert inputs.shape == (8, 3, 64, 64) and inputs.dtype == torch.float32
    assert labels.dtype == torch.int64 and set(labels.tolist()) <= {0, 1}
    assert len(loaders.train) == 2 and len(loaders.valid) == 1   # 16 train, 4 valid images


def test_dataloader_with_worker_processes(tmp_path):
    root = make_class_folders(tmp_path / "d", {"a": 6, "b": 6})
    split_dataset(root, tmp_path / "split")
    loaders = build_dataloaders(tmp_path / "split", SPEC, batch_size=4, num_workers=2)
    assert sum(len(labels) for _, labels in loaders.train) == 9


def test_unsplit_folder_gets_a_helpful_error(tmp_path):
    root = make_class_folders(tmp_path / "d", {"a": 3, "b": 3})
    with pytest.raises(DatasetError, match="leafdl data split"):
        build_dataloaders(root, SPEC)


def test_readable_class_names():
    assert readable_class_name("Apple___Apple_scab") == "Apple: Apple scab"
    assert readable_class_name("Apple___healthy") == "Apple: healthy"
    assert readable_class_name("Cedar_apple_rust") == "Cedar apple rust"
