"""Prediction: a finished run's model classifies photos as its validation pass did."""

from __future__ import annotations

import torch
from leafdl.predict import Predictor


def test_predictor_agrees_with_the_validation_predictions_of_its_run(demo_split, tmp_path):
    from leafdl.pipeline import train_from_folder
    from leafdl.config import TrainConfig

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
