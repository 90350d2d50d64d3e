"""The self-checks of notebook 09 (saving and loading): right answers pass, others do not."""

from __future__ import annotations

from leafdl.exercises import check_batchnorm_count, check_classifier_numbers


def test_classifier_numbers_for_38_classes(capsys):
    assert check_classifier_numbers(38 * 1280 + 38, num_classes=38) is True
    assert "Correct" in capsys.readouterr().out


def test_classifier_numbers_rejects_weights_without_biases(capsys):
    assert check_classifier_numbers(38 * 1280, num_classes=38) is False
    assert "Not yet" in capsys.readouterr().out


def test_classifier_numbers_follows_the_number_of_classes():
    assert check_classifier_numbers(5 * 1280 + 5, num_classes=5) is True
    assert check_classifier_numbers(38 * 1280 + 38, num_classes=5) is False


def test_classifier_numbers_unanswered(capsys):
    assert check_classifier_numbers(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_batchnorm_count_of_efficientnet_lite0(capsys):
    assert check_batchnorm_count(49, arch="efficientnet_lite0") is True
    assert "Correct" in capsys.readouterr().out


def test_batchnorm_count_rejects_the_number_of_buffers(capsys):
    # 147 buffers = 3 per BatchNorm layer: a plausible mistake.
    assert check_batchnorm_count(147, arch="efficientnet_lite0") is False
    assert check_batchnorm_count("forty-nine", arch="efficientnet_lite0") is False


def test_batchnorm_count_unanswered(capsys):
    assert check_batchnorm_count(None) is False
    assert "Not answered yet" in capsys.readouterr().out
