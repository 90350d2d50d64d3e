"""The command line under a user's real mistakes: no silent wrong result, no lost file.

Each test reproduces one mistake a new user makes (or one real-world file they meet) and
checks what `leafdl` does: a clear one-line error naming the file or option with exit 2,
or the right result. After every test that reads a user's folder, that folder is
byte-identical to what it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import leafdl.data
import leafdl.engine
import leafdl.pipeline
from leafdl.cli import main
from leafdl.data import load_rgb, split_dataset
from leafdl.run_folder import RUN_MARKER

TINY = ["--img-size", "64", "--epochs", "1", "--batch-size", "16", "--arch", "efficientnet_lite0",
        "--workers", "0", "--quiet"]


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (links as links) with the MD5 of its bytes."""
    digest = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            digest[str(path.relative_to(root))] = "-> " + os.readlink(path)
        elif path.is_file():
            digest[str(path.relative_to(root))] = hashlib.md5(path.read_bytes()).hexdigest()
    return digest


@pytest.fixture
def leaves(demo_leaves, tmp_path) -> Path:
    """A private copy of the demo leaves (16 per class) that a test may add files to."""
    return Path(shutil.copytree(demo_leaves, tmp_path / "leaves"))


def train(data: Path, out: Path, *extra: str) -> int:
    return main(["train", str(data), "--out", str(out), *TINY, *extra])


# --- 1. a second run into the same --out ------------------------------------------------


def test_second_run_on_other_data_into_the_same_out_is_refused(leaves, tmp_path, capsys):
    other = Path(shutil.copytree(leaves, tmp_path / "other"))
    shutil.rmtree(other / "Healthy")             # other classes
    before = tree_digest(other)
    run = tmp_path / "run"
    assert train(leaves, run) == 0
    capsys.readouterr()

    assert train(other, run, "--resume") == 2
    err = capsys.readouterr().err
    assert "the image files" in err and "another --out" in err and "Traceback" not in err
    assert json.loads((run / "metadata.json").read_text())["classes"] == [
        "Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy"]   # the first run's model is kept
    assert tree_digest(other) == before


@pytest.mark.parametrize("option, differs", [(["--valid", "0.25"], "validation share"), (["--seed", "7"], "seed")])
def test_second_run_with_another_split_setting_is_refused(leaves, tmp_path, capsys, option, differs):
    run = tmp_path / "run"
    assert train(leaves, run) == 0
    assert train(leaves, run, *option, "--resume") == 2
    assert differs in capsys.readouterr().err


def test_the_same_command_resumed_reuses_its_own_split(leaves, tmp_path, capsys):
    run = tmp_path / "run"
    assert train(leaves, run) == 0
    assert train(leaves, run, "--resume") == 0
    assert "Re-using the split" in capsys.readouterr().out


def test_a_changed_photo_is_noticed(leaves, tmp_path, capsys):
    run = tmp_path / "run"
    assert train(leaves, run) == 0
    photo = sorted((leaves / "Healthy").glob("*.jpg"))[0]
    Image.open(photo).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photo)   # same name, other pixels
    assert train(leaves, run, "--resume") == 2
    assert "the image files" in capsys.readouterr().err


# --- 2. an interrupted split is never taken for a finished one ---------------------------


def test_an_interrupted_split_leaves_nothing_that_looks_finished(leaves, tmp_path, monkeypatch):
    copied = []

    def copy_then_fail(source, target):
        if len(copied) == 10:
            raise KeyboardInterrupt   # Ctrl-C (or kill) in the middle of the copy
        copied.append(target)
        return shutil.copy2(source, target)

    monkeypatch.setattr(leafdl.data.shutil, "copy2", copy_then_fail)
    with pytest.raises(KeyboardInterrupt):
        split_dataset(leaves, tmp_path / "split")
    assert not (tmp_path / "split").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["leaves"]   # no staging folder left either

    monkeypatch.undo()
    summary = split_dataset(leaves, tmp_path / "split")
    assert sum(summary.train_counts.values()) + sum(summary.valid_counts.values()) == 64


def test_a_split_folder_without_its_completion_marker_is_not_reused(leaves, tmp_path, capsys):
    run = tmp_path / "run"
    half = run / "split"
    shutil.copytree(leaves, half / "train")   # what an old, interrupted copy looks like
    (run / RUN_MARKER).write_text("{}")       # in a run folder leafdl made
    (half / "valid").mkdir()
    assert train(leaves, run, "--skip-bad-images") == 2
    assert "never finished" in capsys.readouterr().err
    assert not (run / "model.pth").exists()


# --- 3. and 4. splits that would destroy or garble the source ------------------------------


def test_splitting_a_split_train_folder_into_its_own_parent_is_refused(leaves, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["data", "split", str(leaves), str(out)]) == 0
    before = tree_digest(out)
    for target in (out, tmp_path / "out" / "train" / ".." / ".."/ "out"):
        assert main(["data", "split", str(out / "train"), str(target)]) == 2
        assert "contains it" in capsys.readouterr().err
    link = tmp_path / "link-to-out"
    link.symlink_to(out)
    assert main(["data", "split", str(out / "train"), str(link)]) == 2
    assert tree_digest(out) == before


def test_splitting_an_already_split_folder_is_refused(leaves, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["data", "split", str(leaves), str(out)]) == 0
    capsys.readouterr()
    assert main(["data", "split", str(out), str(tmp_path / "again")]) == 2
    assert "already split" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()

    hand_made = tmp_path / "by-hand"                 # a split made by hand has no marker
    for part in ("train", "valid"):
        shutil.copytree(leaves, hand_made / part)
    assert main(["data", "split", str(hand_made), str(tmp_path / "again")]) == 2
    assert "already split" in capsys.readouterr().err


def test_split_into_a_folder_with_other_files_is_refused(leaves, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    assert main(["data", "split", str(leaves), str(out)]) == 2
    assert "did not write" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


# --- 5. options are checked before anything is written -------------------------------------


@pytest.mark.parametrize("option, value, named", [
    ("--epochs", "0", "--epochs"), ("--epochs", "-3", "--epochs"), ("--batch-size", "0", "--batch-size"),
    ("--lr", "0", "--lr"), ("--lr", "-0.1", "--lr"), ("--lr", "nan", "--lr"), ("--img-size", "10", "at least 32"),
    ("--valid", "0", "--valid"), ("--valid", "1.5", "--valid"), ("--patience", "0", "--patience"),
    ("--crop-scale-min", "0", "--crop-scale-min"), ("--crop-scale-min", "1.5", "--crop-scale-min"),
    ("--unfreeze", "-1", "--unfreeze"), ("--finetune-epochs", "-1", "--finetune-epochs"),
    ("--backbone-lr", "0", "--backbone-lr"), ("--seed", "-1", "--seed"),
])
def test_impossible_training_options_are_refused_before_anything_is_written(leaves, tmp_path, capsys,
                                                                             option, value, named):
    run = tmp_path / "run"
    assert main(["train", str(leaves), "--out", str(run), option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leafdl train: error:") and named in err and "Traceback" not in err
    assert not run.exists()


@pytest.mark.parametrize("argv", [["predict", "run", "x.jpg", "--top", "0"], ["predict", "run", "x.jpg", "--top", "-1"],
                                  ["train", "data", "--workers", "-1"], ["data", "demo", "out", "--per-class", "0"],
                                  ["weights", "download", "--timeout", "0"], ["data", "demo", "out", "--seed", "-1"],
                                  ["data", "split", "src", "out", "--seed", "-1"],
                                  ["data", "split", "src", "out", "--seed", str(2**32)]])
def test_impossible_counts_are_refused_when_parsing(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert argv[-2] in capsys.readouterr().err


# --- 6. and 7. real-world photos: huge ones, sideways ones -----------------------------------


def write_bomb(path: Path) -> Path:
    """A 14000 x 13000 px PNG (22 kB on disk): over Pillow's decompression-bomb limit."""
    Image.new("1", (14000, 13000)).save(path)
    return path


def test_a_huge_photo_is_named_and_can_be_skipped(leaves, tmp_path, capsys):
    write_bomb(leaves / "Healthy" / "huge.png")
    assert train(leaves, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert "huge.png" in err and "too large" in err and "Traceback" not in err

    assert train(leaves, tmp_path / "run2", "--skip-bad-images") == 0
    assert "1 unreadable images left out" in capsys.readouterr().out


def test_phone_photos_are_turned_upright_by_their_exif_tag(tmp_path):
    upright = np.zeros((40, 60, 3), np.uint8)
    upright[:, :30] = (255, 0, 0)   # left half red, right half blue, as the viewer shows it
    upright[:, 30:] = (0, 0, 255)
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)   # the sensor's view
    exif = Image.Exif()
    exif[0x0112] = 6   # Orientation: rotate 90 degrees clockwise to display
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=95)

    image = np.asarray(load_rgb(tmp_path / "phone.jpg"))
    assert image.shape == (40, 60, 3)
    assert image[20, 5, 0] > 200 and image[20, 5, 2] < 60      # red on the left
    assert image[20, 55, 2] > 200 and image[20, 55, 0] < 60    # blue on the right


# --- 8. and 9. a full disk, and what a killed run leaves behind -------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system (tmpfs): writes past that fail with ENOSPC, as on a full disk."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small file system here (needs root): {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=True)


def test_a_full_disk_while_splitting_is_named_and_leaves_no_partial_split(tmp_path, small_disk, capsys):
    big = tmp_path / "big"
    for name in ("a", "b"):
        for index in range(4):
            path = big / name / f"{index}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.random.default_rng(index).integers(0, 255, (600, 600, 3), np.uint8)).save(path)
    before = tree_digest(big)
    assert main(["data", "split", str(big), str(small_disk / "split"), "--valid", "0.25"]) == 2
    err = capsys.readouterr().err
    assert "Could not write" in err and str(small_disk / "split") in err and "Traceback" not in err
    assert list(small_disk.iterdir()) == []
    assert tree_digest(big) == before


def test_a_full_disk_while_saving_the_model_is_named_and_leaves_no_partial_file(demo_split, small_disk, capsys):
    run = small_disk / "run"
    assert main(["train", str(demo_split), "--out", str(run), *TINY]) == 2
    err = capsys.readouterr().err
    assert "Could not write" in err and "MB are free" in err and "Traceback" not in err
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]
    assert not (run / "model.pth").exists() and not (run / "last.ckpt").exists()


def test_temporaries_of_a_killed_run_are_cleaned_at_the_next_run(leaves, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / RUN_MARKER).write_text("{}")   # the killed run had claimed the folder
    stale = [run / ".model.pth.k2x9abcd.tmp", run / ".last.ckpt.zz81qq00.tmp"]
    for path in stale:
        path.write_bytes(os.urandom(1000))
    (run / ".notes.tmp").write_text("not leafdl's")
    staging = run / ".split.leafdl-tmp-abc123"
    (staging / "train").mkdir(parents=True)
    assert train(leaves, run) == 0
    left = sorted(p.name for p in run.iterdir())
    assert not any(p.exists() for p in [*stale, staging])
    assert ".notes.tmp" in left and "model.pth" in left


# --- 10. junk that macOS, Windows and broken links leave in photo folders ---------------------


def test_apple_double_files_and_broken_links_are_ignored_and_reported(leaves, tmp_path, capsys):
    (leaves / "Healthy" / "._healthy_0000.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble junk")
    (leaves / "Black_rot" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    before = tree_digest(leaves)
    assert train(leaves, tmp_path / "run") == 0
    assert "ignored: 1 hidden file, 1 broken link" in capsys.readouterr().out
    assert tree_digest(leaves) == before


# --- 11. and 12. predict: one bad photo does not stop the others; damaged metadata ------------


@pytest.fixture
def trained_run(demo_split, tmp_path) -> Path:
    run = tmp_path / "run"
    assert main(["train", str(demo_split), "--out", str(run), *TINY]) == 0
    return run


def test_predict_classifies_every_readable_photo_and_names_each_failure(trained_run, demo_split, tmp_path, capsys):
    good = sorted((demo_split / "valid" / "Healthy").glob("*.jpg"))[:2]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    bomb = write_bomb(tmp_path / "bomb.png")
    missing = tmp_path / "missing.jpg"
    capsys.readouterr()
    status = main(["predict", str(trained_run), str(missing), str(good[0]), str(broken), str(bomb), str(good[1])])
    out, err = capsys.readouterr()
    assert status == 2
    assert f"{good[0]}:" in out and f"{good[1]}:" in out
    assert "missing.jpg: no such file" in err and "broken.jpg" in err and "bomb.png" in err
    assert "3 of 5 image(s) could not be classified" in err and "Traceback" not in err


@pytest.mark.parametrize("content, says", [(b"[]", "not a JSON object"), (b'{"classes": "abc"}', '"classes"'),
                                           (b"\x89PNG\x00\xff\xfe binary", "not valid JSON"),
                                           (b'{"classes": ["a", "b"], "arch": "resnet9", "input": {"size": 64}}',
                                            '"arch"')])
def test_damaged_metadata_is_named_with_what_is_wrong(trained_run, tmp_path, capsys, content, says):
    (trained_run / "metadata.json").write_bytes(content)
    assert main(["predict", str(trained_run), str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert str(trained_run / "metadata.json") in err and says in err and "Traceback" not in err


# --- 13. a file where a folder should be ---------------------------------------------------


def test_an_output_that_is_a_file_is_refused(leaves, tmp_path, capsys):
    a_file = tmp_path / "results.txt"
    a_file.write_text("mine")
    assert main(["train", str(leaves), "--out", str(a_file), *TINY]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["data", "split", str(leaves), str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert a_file.read_text() == "mine"


# --- 14. Ctrl-C ----------------------------------------------------------------------------


def test_ctrl_c_during_the_final_evaluation_exits_130_and_resume_finishes(demo_split, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(leafdl.pipeline, "collect_predictions", interrupted)
    run = tmp_path / "run"
    assert main(["train", str(demo_split), "--out", str(run), *TINY]) == 130
    assert "--resume" in capsys.readouterr().err
    assert (run / "model.pth").is_file() and not (run / "report.txt").exists()

    monkeypatch.undo()
    assert main(["train", str(demo_split), "--out", str(run), *TINY, "--resume"]) == 0
    assert (run / "report.txt").is_file() and (run / "confusion_matrix.png").is_file()


def test_ctrl_c_during_training_keeps_the_best_model_and_its_curves(demo_split, tmp_path, monkeypatch, capsys):
    real_run_phase = leafdl.engine.run_phase
    calls = []

    def run_phase_until_epoch_two(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:          # train and valid of epoch 1 done; Ctrl-C in epoch 2
            raise KeyboardInterrupt
        return real_run_phase(*args, **kwargs)

    monkeypatch.setattr(leafdl.engine, "run_phase", run_phase_until_epoch_two)
    run = tmp_path / "run"
    assert main(["train", str(demo_split), "--out", str(run), *TINY, "--epochs", "3"]) == 130
    assert "--resume" in capsys.readouterr().err
    assert (run / "model.pth").is_file() and (run / "metrics.png").is_file()
    assert json.loads((run / "metadata.json").read_text())["epochs_trained"] == 1


# --- 15. the command answers at once; real bugs keep their traceback ---------------------------


def test_help_and_version_do_not_import_torch(tmp_path):
    code = ("import sys\nfrom leafdl.cli import main\n"
            "assert 'torch' not in sys.modules, 'import leafdl.cli imported torch'\n"
            "for argv in (['--help'], ['--version'], ['train', '--help'], ['predict', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit as stop:\n        assert stop.code == 0\n"
            "assert 'torch' not in sys.modules, 'leafdl --help imported torch'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "leafdl" in result.stdout and "--epochs" in result.stdout


def test_a_bug_is_not_disguised_as_a_user_error(leaves, tmp_path, monkeypatch):
    def buggy(*args, **kwargs):
        raise ValueError(f"a bug {uuid.uuid4()}")

    monkeypatch.setattr(leafdl.pipeline, "train_from_folder", buggy)
    with pytest.raises(ValueError, match="a bug"):
        main(["train", str(leaves), "--out", str(tmp_path / "run")])


HAND_EDITED = '{"classes": ["a", "b"], "arch": "efficientnet_lite0", "input": %s}'


@pytest.mark.parametrize("spec, says", [('{"size": 0}', '"input"."size" must be from 32'),
                                        ('{"size": 64, "std": [0, 0.5, 0.5]}', '"input"."std" must be three numbers above 0'),
                                        ('{"size": 64, "interpolation": "lanczos"}', '"input"."interpolation"')])
def test_hand_edited_input_settings_are_named(tmp_path, capsys, spec, says):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metadata.json").write_text(HAND_EDITED % spec)
    assert main(["predict", str(run), str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert str(run / "metadata.json") in err and says in err and "Traceback" not in err


# --- issue 27: splits that can always train -------------------------------------------------


def test_a_class_too_small_for_both_sets_is_refused_at_split_time(leaves, tmp_path, capsys):
    for extra in sorted((leaves / "Healthy").glob("*.jpg"))[2:]:
        extra.unlink()                                  # Healthy keeps 2 photos
    assert main(["data", "split", str(leaves), str(tmp_path / "split")]) == 2
    err = capsys.readouterr().err
    assert "Healthy (2)" in err and "at least 5 images" in err and "Traceback" not in err
    assert not (tmp_path / "split").exists()
    assert train(leaves, tmp_path / "run") == 2        # and training says the same, leaving no split behind
    assert "Healthy (2)" in capsys.readouterr().err and not (tmp_path / "run" / "split").exists()


# --- issue 27, case 7: the last tracebacks for user mistakes ---------------------------------


def test_a_file_name_that_is_not_utf8_is_split_like_any_other(leaves, tmp_path, capsys):
    odd = leaves / "Healthy" / os.fsdecode(b"leaf-\xff\xfe.jpg")   # as copied from an old Windows disk
    shutil.copy2(next((leaves / "Healthy").glob("*.jpg")), odd)
    assert main(["data", "split", str(leaves), str(tmp_path / "split")]) == 0
    copied = [*(tmp_path / "split").rglob("leaf-*.jpg")]
    assert [path.name for path in copied] == [odd.name]


def test_a_validation_share_that_leaves_no_training_image_is_refused(leaves, tmp_path, capsys):
    assert train(leaves, tmp_path / "run", "--valid", "0.99") == 2
    err = capsys.readouterr().err
    assert "validation share of 0.99" in err and "at least 100 images" in err and "Traceback" not in err


@pytest.mark.parametrize("device", ["meta", "xpu"])
def test_a_device_leafdl_cannot_train_on_is_refused(demo_split, tmp_path, capsys, device):
    assert train(demo_split, tmp_path / "run", "--device", device) == 2
    err = capsys.readouterr().err
    assert f"--device {device!r}" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_an_image_size_too_large_for_memory_is_refused(demo_split, tmp_path, capsys):
    assert train(demo_split, tmp_path / "run", "--img-size", "3000") == 2
    err = capsys.readouterr().err
    assert "--img-size" in err and "at most 1024" in err and "Traceback" not in err


def write_thin_png(path: Path) -> Path:
    """A 1 x 100000 px PNG of a few hundred bytes: few pixels, but huge once its short side is resized."""
    Image.new("RGB", (100000, 1), (40, 140, 60)).save(path, optimize=True)
    return path


def test_a_long_thin_image_is_refused_before_it_is_resized(leaves, tmp_path, capsys):
    thin = write_thin_png(leaves / "Healthy" / "thin.png")
    assert thin.stat().st_size < 2000
    assert train(leaves, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert "thin.png" in err and "too long and thin" in err and "Traceback" not in err


# --- issue 27, case 8: smaller mistakes -------------------------------------------------------


def test_glob_characters_in_an_output_name_never_remove_your_files(leaves, tmp_path):
    yours = tmp_path / ".a.notes.tmp"          # matched by the glob ".[ab].*.tmp", not by the name "[ab]"
    yours.write_text("mine")
    assert main(["data", "split", str(leaves), str(tmp_path / "[ab]")]) == 0
    assert yours.read_text() == "mine"


def test_ctrl_c_before_any_checkpoint_promises_none_and_a_fresh_start_works(demo_split, tmp_path, monkeypatch,
                                                                          capsys):
    def interrupted(self, run_dir):
        raise KeyboardInterrupt                 # Ctrl-C right after the first epoch's line

    monkeypatch.setattr(leafdl.checkpoint.TrainingState, "save", interrupted)
    run = tmp_path / "run"
    assert train(demo_split, run) == 130
    err = capsys.readouterr().err
    assert "has no last.ckpt" in err and "without --resume" in err and not (run / "last.ckpt").exists()
    monkeypatch.undo()
    assert train(demo_split, run) == 0


def test_predict_shows_control_characters_in_class_names_as_escapes(trained_run, demo_split, capsys):
    metadata_path = trained_run / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["classes"] = [f"Healthy\x1b[2J\x1b[1;1H{index}" for index in range(len(metadata["classes"]))]
    metadata_path.write_text(json.dumps(metadata))
    photo = next((demo_split / "valid" / "Healthy").glob("*.jpg"))
    capsys.readouterr()
    assert main(["predict", str(trained_run), str(photo)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Healthy\\x1b[2J" in out


def test_a_photo_copy_killed_midway_is_cleaned_and_a_second_copy_says_what_it_did(tmp_path, capsys):
    staging = tmp_path / ".field.leafdl-tmp-k2x9"        # what `kill -9` during the copy leaves
    (staging / "Bean_rust").mkdir(parents=True)
    (staging / "Bean_rust" / "half.jpg").write_bytes(b"\xff\xd8")
    assert main(["data", "field", str(tmp_path / "field")]) == 0
    assert "Copied 240" in capsys.readouterr().out and not staging.exists()
    assert main(["data", "field", str(tmp_path / "field")]) == 0
    out = capsys.readouterr().out
    assert "nothing was copied" in out and "Copied" not in out


def test_drawing_the_demo_again_keeps_your_photo_in_its_folder(tmp_path):
    demo = tmp_path / "demo"
    assert main(["data", "demo", str(demo), "--per-class", "2"]) == 0
    yours = demo / "Apple_scab" / "scab_from_my_orchard.jpg"
    shutil.copy2(demo / "Apple_scab" / "scab_0000.jpg", yours)
    assert main(["data", "demo", str(demo), "--per-class", "1"]) == 0
    assert yours.is_file()
    assert sorted(path.name for path in (demo / "Apple_scab").iterdir()) == ["scab_0000.jpg", yours.name]


@pytest.mark.slow
def test_workers_stop_when_their_torchrun_launcher_is_killed():
    worker = ("import time\nfrom leafdl.distributed import die_with_launcher\ndie_with_launcher()\n"
              "print('ready', flush=True)\ntime.sleep(300)\n")
    launcher = ("import subprocess, sys, time\n"
                f"worker = subprocess.Popen([sys.executable, '-c', {worker!r}], stdout=subprocess.PIPE, text=True)\n"
                "assert worker.stdout.readline().strip() == 'ready'\n"
                "print(worker.pid, flush=True)\ntime.sleep(300)\n")
    process = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    worker_pid = int(process.stdout.readline())
    process.kill()                                   # kill -9 of the launcher
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while is_running(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not is_running(worker_pid)


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
def test_a_user_error_under_torchrun_is_said_once_not_buried_in_tracebacks(leaves, tmp_path):
    for extra in sorted((leaves / "Healthy").glob("*.jpg"))[2:]:
        extra.unlink()                                  # a split error that only rank 0 meets
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(port), "-m", "leafdl", "train", str(leaves), "--out", str(tmp_path / "run"), *TINY]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode != 0
    assert result.stderr.count("Healthy (2)") == 1             # rank 0's one line; the others stop quietly
    assert re.search(r"Root Cause.*?rank\s*: 0 ", result.stderr, re.DOTALL)   # torchrun's summary blames rank 0
    assert "Connection" not in result.stderr and "RuntimeError" not in result.stderr
