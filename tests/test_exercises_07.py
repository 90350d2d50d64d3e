"""The self-checks of notebook 07 (LR scheduling): right answers pass, others do not."""

from __future__ import annotations

import warnings

import pytest
import torch

from leafdl.course.exercises import check_first_reduction_epoch, check_lr_after_flat_epochs, check_scheduler

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


def make_scheduler(optimizer):
    """The reference solution (notebooks/solutions/07_lr_scheduling.md)."""
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)


def end_of_epoch(scheduler, valid_loss, valid_acc):
    scheduler.step(valid_acc)


def test_scheduler_accepts_the_solution(capsys):
    assert check_scheduler(make_scheduler, end_of_epoch).passed
    assert "halves after epoch 8" in capsys.readouterr().out


def flat_run_by_torch(epochs=12):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)
    for _ in range(epochs):
        scheduler.step(0.7)
    return optimizer.param_groups[0]["lr"]


def test_lr_after_flat_epochs(capsys):
    assert flat_run_by_torch() == 0.00025                      # cuts after epochs 5 and 9
    assert check_lr_after_flat_epochs(0.00025).passed
    assert check_lr_after_flat_epochs(2.5e-4).passed
    assert "cuts after epochs 5, 9" in capsys.readouterr().out
    assert check_lr_after_flat_epochs(None).status == "not done"


@pytest.mark.parametrize("answer, hint", [
    (0.001 * 0.5 ** 8, "the count of bad epochs starts again from 0"),     # a cut every epoch once patience is used
    (0.000125, "the count must *exceed* patience"),                         # a cut every 3 bad epochs
    (0.0005, "does not stop after one cut"),
    (0.001, "write down, for each epoch"),
    ("a quarter", "write down, for each epoch"),
])
def test_lr_after_flat_epochs_names_the_mistake(answer, hint):
    result = check_lr_after_flat_epochs(answer)
    assert not result.passed and hint in result.message, result.message


# --- Exercise 3: the scheduler, written by the student -------------------------------------


def step_on_accuracy_by_keyword(scheduler, valid_loss, valid_acc):
    scheduler.step(metrics=valid_acc)


def scheduler_with_keywords_in_another_order(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3, factor=0.5, mode="max", min_lr=1e-6)


@pytest.mark.parametrize("make, step", [(make_scheduler, end_of_epoch), (make_scheduler, step_on_accuracy_by_keyword),
                                        (scheduler_with_keywords_in_another_order, end_of_epoch)])
def test_scheduler_accepts_right_answers_in_any_form(make, step, capsys):
    assert check_scheduler(make, step).passed
    assert capsys.readouterr().out.startswith("Correct!")


def on_loss(scheduler, valid_loss, valid_acc):
    scheduler.step(valid_loss)


def min_mode(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=3)


def defaults(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max")   # factor 0.1, patience 10


def factor_0_1(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.1, patience=3)


def patience_2(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)


def factor_2(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=2, patience=3)


def mode_maximize(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="maximize", factor=0.5, patience=3)


def step_lr(optimizer):
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=3)


def no_return(optimizer):
    torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)


def forgets(scheduler, valid_loss, valid_acc):
    pass


def no_metric(scheduler, valid_loss, valid_acc):
    scheduler.step()


def new_scheduler_each_epoch(scheduler, valid_loss, valid_acc):
    make_scheduler(scheduler.optimizer).step(valid_acc)


def twice(scheduler, valid_loss, valid_acc):
    scheduler.step(valid_acc)
    scheduler.step(valid_acc)


WRONG = [
    (make_scheduler, on_loss, "step on the loss with mode='max'"),
    (min_mode, end_of_epoch, "use mode='max'"),
    (min_mode, on_loss, "not the document's"),
    (defaults, end_of_epoch, "the document halves it"),
    (factor_0_1, end_of_epoch, "multiplied by 0.1 at each cut"),
    (patience_2, end_of_epoch, "patience is 2"),
    (factor_2, end_of_epoch, "The factor multiplies the rate at each cut, so it is below 1"),
    (mode_maximize, end_of_epoch, "The mode is 'max' (higher is better"),
    (step_lr, end_of_epoch, "not StepLR"),
    (no_return, end_of_epoch, "make_scheduler returns nothing"),
    (make_scheduler, forgets, "never changed"),
    (make_scheduler, no_metric, "ReduceLROnPlateau needs the number it watches: scheduler.step(valid_acc)"),
    (make_scheduler, new_scheduler_each_epoch, "a new scheduler made each epoch forgets"),
    (make_scheduler, twice, "stepped twice per epoch"),
]


@pytest.mark.parametrize("make, step, hint", WRONG, ids=[f"{m.__name__}-{s.__name__}" for m, s, _ in WRONG])
def test_scheduler_names_each_mistake(make, step, hint, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = check_scheduler(make, step)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_scheduler_stubs_are_not_done():
    def stub(*args):
        raise NotImplementedError
    assert check_scheduler(stub, stub).status == "not done"
    assert check_scheduler(make_scheduler, stub).status == "not done"
