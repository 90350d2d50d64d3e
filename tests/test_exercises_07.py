"""The self-checks of notebook 07 (LR scheduling): right answers pass, others do not."""

from __future__ import annotations

import torch

from leafdl.exercises import check_first_reduction_epoch, check_lr_after_reductions

SERIES = [0.50, 0.62, 0.70, 0.69, 0.71, 0.70, 0.70, 0.71, 0.72]


def first_cut_by_torch(metrics, patience):
    """The 1-based epoch after which PyTorch's own scheduler first lowers the rate."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=patience)
    for epoch, metric in enumerate(metrics, start=1):
        scheduler.step(metric)
        if optimizer.param_groups[0]["lr"] < 0.001:
            return epoch
    return None


def test_first_reduction_epoch_agrees_with_torch(capsys):
    expected = first_cut_by_torch(SERIES, patience=2)
    assert expected == 8
    assert check_first_reduction_epoch(expected, SERIES, patience=2) is True
    assert "Correct" in capsys.readouterr().out
    assert check_first_reduction_epoch(7, SERIES, patience=2) is False  # counted the tie as bad too early
    assert "Not yet" in capsys.readouterr().out
    assert check_first_reduction_epoch(first_cut_by_torch(SERIES, 0), SERIES, patience=0) is True
    assert check_first_reduction_epoch(None, SERIES) is False


def test_first_reduction_epoch_when_there_is_none(capsys):
    rising = [0.1, 0.2, 0.3, 0.4]
    assert check_first_reduction_epoch(4, rising, patience=1) is False
    assert "never triggers" in capsys.readouterr().out


def test_lr_after_reductions():
    assert check_lr_after_reductions(0.000125, lr=0.001, factor=0.5, reductions=3) is True
    assert check_lr_after_reductions(0.00025, lr=0.001, factor=0.5, reductions=3) is False
    assert check_lr_after_reductions(0.001 * 0.1**2, lr=0.001, factor=0.1, reductions=2) is True
    assert check_lr_after_reductions(None) is False
