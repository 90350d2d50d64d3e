"""The self-checks of notebook 04 (transfer learning) accept the right answer only."""

from __future__ import annotations

from leafdl.exercises import check_resnet50_trainable, check_separable_conv_weights


def test_separable_conv_weights_accepts_the_count(capsys):
    # depthwise 3*3*16 = 144, pointwise 16*32 = 512
    assert check_separable_conv_weights(656) is True
    assert "Correct" in capsys.readouterr().out


def test_separable_conv_weights_rejects_the_standard_conv_count(capsys):
    assert check_separable_conv_weights(3 * 3 * 16 * 32) is False
    assert "Not yet" in capsys.readouterr().out


def test_separable_conv_weights_follows_its_arguments():
    assert check_separable_conv_weights(3 * 3 * 32 + 32 * 64, c_in=32, c_out=64) is True


def test_separable_conv_weights_unanswered(capsys):
    assert check_separable_conv_weights(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_resnet50_trainable_accepts_the_new_fc_size(capsys):
    assert check_resnet50_trainable(2048 * 4 + 4) is True
    assert "Correct" in capsys.readouterr().out


def test_resnet50_trainable_rejects_mobilenet_sized_head():
    assert check_resnet50_trainable(1280 * 4 + 4) is False
    assert check_resnet50_trainable("many") is False


def test_resnet50_trainable_unanswered():
    assert check_resnet50_trainable(None) is False
