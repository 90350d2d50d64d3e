"""Self-checks of notebook 13 accept the right answer and refuse wrong or missing ones."""

import math

from leafdl.course.exercises import check_batch_size_for, check_scaled_learning_rate, check_steps_per_epoch


def test_steps_per_epoch():
    right = math.ceil(math.ceil(43_456 / 8) / 32)
    assert right == 170
    assert check_steps_per_epoch(right)
    assert not check_steps_per_epoch(math.ceil(43_456 / 32))   # one process's steps
    assert not check_steps_per_epoch(43_456 // 8)             # images, not batches
    assert not check_steps_per_epoch("many")
    assert not check_steps_per_epoch(None)


def test_scaled_learning_rate(capsys):
    assert check_scaled_learning_rate(0.004)
    assert not check_scaled_learning_rate(0.00025)
    assert "larger, not smaller" in capsys.readouterr().out
    assert not check_scaled_learning_rate(0.001)
    assert not check_scaled_learning_rate(None)


def test_batch_size_for_the_same_global_batch(capsys):
    assert check_batch_size_for(128)                       # 256 images over 2 processes
    assert check_batch_size_for(64, global_batch=256, nodes=2, gpus_per_node=2)
    assert not check_batch_size_for(256)
    assert "--batch-size is per process" in capsys.readouterr().out
    assert not check_batch_size_for(512)
    assert "divide, do not multiply" in capsys.readouterr().out
    assert not check_batch_size_for(32)
    assert "how many processes take part" in capsys.readouterr().out
    assert not check_batch_size_for(None)
