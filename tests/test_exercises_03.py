"""The self-checks of notebook 03 (data loading): right answers pass, others do not."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader
from torchvision import transforms

from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.exercises import check_last_batch_size, check_normalized_value


def test_last_batch_size_matches_a_dataloader(capsys):
    last = [len(batch) for batch in DataLoader(range(1000), batch_size=32)][-1]
    assert check_last_batch_size(last, n_images=1000, batch_size=32) is True
    assert "Correct" in capsys.readouterr().out
    assert check_last_batch_size(32, n_images=1000, batch_size=32) is False
    assert "Not yet" in capsys.readouterr().out
    assert check_last_batch_size(32, n_images=192, batch_size=32) is True  # divides evenly: a full batch
    assert check_last_batch_size(None) is False


def test_normalized_value_matches_torchvision():
    white = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)(torch.ones(3, 1, 1))
    assert check_normalized_value(white[0].item(), pixel=255, channel=0) is True
    assert check_normalized_value(round(white[0].item(), 3), pixel=255, channel=0) is True
    assert check_normalized_value(1.0, pixel=255, channel=0) is False  # forgot Normalize
    assert check_normalized_value(white[2].item(), pixel=255, channel=2) is True
    assert check_normalized_value(white[2].item(), pixel=255, channel=0) is False
    assert check_normalized_value(None) is False
