"""The self-checks of notebook 06 (train and eval mode) accept the right answer only."""

from __future__ import annotations

import torch

from leafdl.exercises import check_dropout_survivor, check_running_mean_after_two_batches


def test_dropout_survivor_is_scaled_up(capsys):
    assert check_dropout_survivor(1.25) is True
    assert "Correct" in capsys.readouterr().out


def test_dropout_survivor_rejects_unscaled_and_dropped_values(capsys):
    assert check_dropout_survivor(1.0) is False
    assert check_dropout_survivor(0.8) is False
    assert "Not yet" in capsys.readouterr().out


def test_dropout_survivor_follows_p_and_keeps_the_random_state():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    assert check_dropout_survivor(2.0, p=0.5) is True
    assert torch.equal(torch.rand(1), expected_next)


def test_dropout_survivor_unanswered(capsys):
    assert check_dropout_survivor(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_running_mean_after_two_batches():
    assert check_running_mean_after_two_batches(0.96) is True        # 0.9 * 0.4 + 0.1 * 6


def test_running_mean_rejects_common_mistakes():
    assert check_running_mean_after_two_batches(0.4) is False         # only the first batch
    assert check_running_mean_after_two_batches(5.0) is False         # the data's mean
    assert check_running_mean_after_two_batches(1.0) is False         # 0.1 * (4 + 6)


def test_running_mean_unanswered():
    assert check_running_mean_after_two_batches(None) is False
