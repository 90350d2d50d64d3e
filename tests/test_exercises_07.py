"""The self-checks of notebook 07 (LR scheduling): right answers pass, others do not."""

from __future__ import annotations

import torch

from leafdl.course.exercises import check_first_reduction_epoch, check_lr_after_reductions, check_scheduler

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
    assert check_first_reduction_epoch(expected, SERIES, patience=2).passed
    assert "Correct" in capsys.readouterr().out
    assert check_first_reduction_epoch(7, SERIES, patience=2).passed is False  # counted the tie as bad too early
    assert "Not yet" in capsys.readouterr().out
    assert check_first_reduction_epoch(first_cut_by_torch(SERIES, 0), SERIES, patience=0).passed
    assert check_first_reduction_epoch(None, SERIES).passed is False


def test_first_reduction_epoch_when_there_is_none(capsys):
    rising = [0.1, 0.2, 0.3, 0.4]
    assert check_first_reduction_epoch(4, rising, patience=1).passed is False
    assert "never triggers" in capsys.readouterr().out


def test_lr_after_reductions():
    assert check_lr_after_reductions(0.000125, lr=0.001, factor=0.5, reductions=3).passed
    assert check_lr_after_reductions(0.00025, lr=0.001, factor=0.5, reductions=3).passed is False
    assert check_lr_after_reductions(0.001 * 0.1**2, lr=0.001, factor=0.1, reductions=2).passed
    assert check_lr_after_reductions(None).passed is False


def make_scheduler(optimizer):
    """The reference solution (notebooks/solutions/07_lr_scheduling.md)."""
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)


def end_of_epoch(scheduler, valid_loss, valid_acc):
    scheduler.step(valid_acc)


def test_scheduler_accepts_the_solution(capsys):
    assert check_scheduler(make_scheduler, end_of_epoch).passed
    assert "halves after epoch 8" in capsys.readouterr().out


def test_scheduler_rejects_stepping_on_the_loss_in_max_mode():
    def on_loss(scheduler, valid_loss, valid_acc):
        scheduler.step(valid_loss)
    result = check_scheduler(make_scheduler, on_loss)
    assert not result.passed and "step on the loss with mode='max'" in result.message


def test_scheduler_rejects_min_mode_for_an_accuracy():
    def min_mode(optimizer):
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=3)
    assert "use mode='max'" in check_scheduler(min_mode, end_of_epoch).message

    def on_loss(scheduler, valid_loss, valid_acc):
        scheduler.step(valid_loss)
    assert "not the document's" in check_scheduler(min_mode, on_loss).message


def test_scheduler_rejects_other_settings_and_no_step():
    def defaults(optimizer):
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max")   # factor 0.1, patience 10
    assert "the document halves it" in check_scheduler(defaults, end_of_epoch).message

    def patience_2(optimizer):
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)
    assert "patience is 2" in check_scheduler(patience_2, end_of_epoch).message

    def forgets(scheduler, valid_loss, valid_acc):
        pass
    assert "never changed" in check_scheduler(make_scheduler, forgets).message

    def step_lr(optimizer):
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=3)
    assert "ReduceLROnPlateau" in check_scheduler(step_lr, end_of_epoch).message


def test_scheduler_stubs_are_not_done():
    def stub(*args):
        raise NotImplementedError
    assert check_scheduler(stub, stub).status == "not done"
    assert check_scheduler(make_scheduler, stub).status == "not done"
