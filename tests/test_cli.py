"""The `leafdl` command as a practitioner uses it: demo data, split, train, predict, export."""

from __future__ import annotations

import pytest

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from PIL import Image

from leafdl.cli import main


def test_console_script_is_installed_and_answers():
    leafdl = shutil.which("leafdl") or str(Path(sys.executable).parent / "leafdl")
    result = subprocess.run([leafdl, "train", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for option in ("--epochs", "--batch-size", "--lr", "--patience", "--arch", "--img-size", "--resume",
                   "--unfreeze"):
        assert option in result.stdout


def test_data_demo_and_split(tmp_path, capsys):
    assert main(["data", "demo", str(tmp_path / "leaves"), "--per-class", "5", "--seed", "3"]) == 0
    counts = {d.name: len(list(d.glob("*.jpg"))) for d in (tmp_path / "leaves").iterdir() if d.is_dir()}
    assert counts == {"Apple_scab": 5, "Black_rot": 5, "Cedar_apple_rust": 5, "Healthy": 5}

    assert main(["data", "split", str(tmp_path / "leaves"), str(tmp_path / "split"), "--valid", "0.2"]) == 0
    assert len(list((tmp_path / "split" / "valid").rglob("*.jpg"))) == 4
    assert "Apple_scab" in capsys.readouterr().out


def test_errors_are_one_clear_line_not_a_traceback(tmp_path, capsys):
    assert main(["data", "split", str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err

    assert main(["predict", str(tmp_path), str(tmp_path / "x.jpg")]) == 2
    assert "metadata.json" in capsys.readouterr().err


@pytest.mark.slow
def test_train_predict_export_end_to_end(demo_leaves, tmp_path, capsys):
    run = tmp_path / "run"
    status = main(["train", str(demo_leaves), "--out", str(run), "--epochs", "2", "--img-size", "96",
                   "--batch-size", "16", "--arch", "efficientnet_lite0", "--workers", "0", "--quiet",
                   "--crop-scale-min", "0.35"])
    assert status == 0
    for name in ("model.pth", "metadata.json", "last.ckpt", "metrics.png", "confusion_matrix.png", "report.txt"):
        assert (run / name).is_file(), name
    metadata = json.loads((run / "metadata.json").read_text())
    assert metadata["classes"] == ["Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy"]
    assert metadata["arch"] == "efficientnet_lite0"
    assert metadata["input"]["size"] == 96 and metadata["input"]["mean"] == [0.5, 0.5, 0.5]
    assert metadata["hyperparameters"]["epochs"] == 2 and metadata["hyperparameters"]["lr"] == 0.001
    assert metadata["hyperparameters"]["crop_scale_min"] == 0.35
    assert metadata["epochs_trained"] == 2 and len(metadata["history"]["valid_acc"]) == 2
    assert set(metadata["versions"]) == {"leafdl", "torch"}
    out = capsys.readouterr().out
    assert "gap" in out and "precision" in out

    # Resuming with another image size is refused, naming the setting.
    assert main(["train", str(demo_leaves), "--out", str(run), "--epochs", "2", "--img-size", "128",
                 "--batch-size", "16", "--arch", "efficientnet_lite0", "--workers", "0", "--quiet",
                 "--crop-scale-min", "0.35", "--resume"]) == 2
    assert "img_size (--img-size): 96 -> 128" in capsys.readouterr().err

    # Prediction on photos the model never saw, in other formats and modes.
    photo = next((demo_leaves / "Black_rot").glob("*.jpg"))
    Image.open(photo).convert("L").save(tmp_path / "gray.png")
    Image.open(photo).convert("RGBA").save(tmp_path / "rgba.png")
    assert main(["predict", str(run), str(photo), str(tmp_path / "gray.png"), str(tmp_path / "rgba.png"),
                 "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if line.strip().endswith("%") or "%" in line]) == 6
    assert any("Black rot" in line for line in lines)

    (tmp_path / "notes.txt").write_text("hello")
    assert main(["predict", str(run), str(tmp_path / "notes.txt")]) == 2
    assert "Cannot predict" in capsys.readouterr().err

    assert main(["export", str(run)]) == 0
    with zipfile.ZipFile(tmp_path / "run.zip") as zipped:
        assert "run/model.pth" in zipped.namelist()

    # Resuming a finished run (the same command plus --resume) trains nothing more and keeps the history.
    assert main(["train", str(demo_leaves), "--out", str(run), "--epochs", "2", "--img-size", "96",
                 "--batch-size", "16", "--arch", "efficientnet_lite0", "--workers", "0", "--quiet",
                 "--crop-scale-min", "0.35", "--resume"]) == 0
    assert "nothing more to train" in capsys.readouterr().out
