"""train_from_folder: Train.py end to end, on real folders, as notebook 11 and the CLI call it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from leafdl import engine, pipeline
from leafdl.config import TrainConfig
from leafdl.models import build_model
from leafdl.pipeline import train_from_folder

CONFIG = dict(epochs=2, img_size=64, batch_size=16, arch="auto", num_workers=0)


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_a_folder_of_classes_is_split_trained_evaluated_and_saved(demo_leaves, tmp_path):
    before = digest(demo_leaves)
    mine = plt.figure()          # a figure of the caller's, which the pipeline must leave open
    config = TrainConfig(**CONFIG)
    lines = []
    result = train_from_folder(demo_leaves, tmp_path / "run", config, progress=False, log=lines.append)

    run = tmp_path / "run"
    assert sorted(p.name for p in (run / "split").iterdir()) == [".leafdl-split.json", "train", "valid"]
    assert len(list((run / "split" / "valid").rglob("*.jpg"))) == len(result.loaders.valid.dataset) == 13   # ceil(0.2 * 64)
    assert result.history.epochs == 2 and result.history.best_epoch in (1, 2)
    metadata = json.loads((run / "metadata.json").read_text())
    assert metadata["arch"] == "efficientnet_lite0"              # what "auto" became here ...
    assert config.arch == "auto"                                 # ... without changing the caller's config
    assert metadata["best_valid_acc"] == result.history.best_valid_acc
    assert abs(result.predictions.accuracy - result.history.best_valid_acc) < 1e-6   # the best model is evaluated
    assert (run / "report.txt").read_text() == result.predictions.report()
    assert any(line.startswith("Best epoch") for line in lines)
    assert plt.fignum_exists(mine.number)
    plt.close(mine)
    assert digest(demo_leaves) == before


def test_an_existing_split_is_used_as_it_is(demo_split, tmp_path):
    lines = []
    result = train_from_folder(demo_split, tmp_path / "run", TrainConfig(**CONFIG), progress=False, log=lines.append)
    assert f"Using the existing split in {demo_split} (train/ and valid/)." in lines
    assert not (tmp_path / "run" / "split").exists()
    assert len(result.loaders.train.dataset) == len(list((demo_split / "train").rglob("*.jpg")))


def test_the_allocator_setting_is_said_and_fit_leaves_it_alone_when_asked(demo_split, tmp_path, monkeypatch):
    tuned = []
    monkeypatch.setattr(engine, "tune_cpu_allocator", lambda: tuned.append("fit") or True)
    monkeypatch.setattr(pipeline, "tune_cpu_allocator", lambda: tuned.append("pipeline") or True)
    lines = []
    result = train_from_folder(demo_split, tmp_path / "run", TrainConfig(**CONFIG), device="cpu", progress=False,
                               log=lines.append)
    assert tuned == ["pipeline", "fit"]
    assert any(line.startswith("Memory: glibc keeps freed memory") for line in lines)

    tuned.clear()
    model, _ = build_model(len(result.loaders.classes), arch="efficientnet_lite0", img_size=64, verbose=False)
    engine.fit(model, result.loaders, TrainConfig(**{**CONFIG, "epochs": 1}), device=torch.device("cpu"),
               progress=False, log=lines.append, tune_allocator=False)
    assert tuned == []
