"""Prediction: a finished run's model classifies photos as its validation pass did."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from leafdl import precision
from leafdl.cli import main
from leafdl.config import TrainConfig
from leafdl.data import readable_class_name
from leafdl.metrics import Predictions
from leafdl.pipeline import train_from_folder
from leafdl.predict import Predictor


def test_predictor_agrees_with_the_validation_predictions_of_its_run(demo_split, tmp_path):
    result = train_from_folder(demo_split, tmp_path / "run", TrainConfig(epochs=1, img_size=64, batch_size=16,
                               arch="efficientnet_lite0", num_workers=0), progress=False, log=lambda line: None)
    predictor = Predictor.from_run(tmp_path / "run")
    files = [path for path, _ in result.loaders.valid.dataset.samples]
    for index in (0, len(files) // 2, len(files) - 1):
        probabilities = predictor.probabilities(files[index])
        assert torch.allclose(probabilities, torch.from_numpy(result.predictions.probabilities[index]), atol=1e-4)
    ranked = predictor.predict(files[0], top_k=2)
    assert len(ranked) == 2 and ranked[0][1] >= ranked[1][1]
    assert ranked[0][0] == predictor.classes[int(result.predictions.predicted[0])]


@pytest.mark.parametrize("native_bf16", [True, False], ids=["native-bf16", "no-native-bf16"])
def test_leafdl_predict_and_the_report_agree_on_every_validation_image_of_a_fine_tuned_run(
        demo_split, tmp_path, monkeypatch, capsys, native_bf16):
    """The issue-24 bug: the report ran fp32 while `leafdl predict` ran bf16. Both now follow one rule."""
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native_bf16)
    run = tmp_path / "run"
    config = TrainConfig(epochs=1, unfreeze=2, finetune_epochs=1, img_size=32, batch_size=16,
                         arch="efficientnet_lite0", num_workers=0, precision="auto")   # as `leafdl train` runs
    result = train_from_folder(demo_split, run, config, device="cpu", progress=False, log=lambda line: None)
    assert result.history.stage == ["frozen", "finetune"]
    assert result.history.precision == (["bf16", "bf16-autocast"] if native_bf16 else ["fp32", "fp32"])

    predictor = Predictor.from_run(run, precision="auto")                # what `leafdl predict` builds
    files = [path for path, _ in result.loaders.valid.dataset.samples]
    probabilities = np.stack([predictor.probabilities(path).numpy() for path in files])
    assert np.abs(probabilities - result.predictions.probabilities).max() < 1e-4
    assert probabilities.argmax(axis=1).tolist() == result.predictions.predicted.tolist()
    predicted = Predictions(labels=result.predictions.labels, predicted=probabilities.argmax(axis=1),
                            probabilities=probabilities, classes=predictor.classes)
    assert predicted.report() == (run / "report.txt").read_text(encoding="utf-8")

    capsys.readouterr()
    assert main(["predict", str(run), *map(str, files), "--top", "1"]) == 0
    printed = re.findall(r"^\s+([\d.]+)%\s+(.+)$", capsys.readouterr().out, flags=re.MULTILINE)
    assert [name for _, name in printed] == [readable_class_name(predictor.classes[index])
                                             for index in result.predictions.predicted]
    expected = result.predictions.probabilities.max(axis=1) * 100
    assert np.abs(np.array([float(percent) for percent, _ in printed]) - expected).max() <= 0.05 + 1e-6
