"""The self-checks of notebook 02 (data split): right answers pass, others do not."""

from __future__ import annotations

from leafdl.exercises import check_stratified_rare_class, check_validation_size


def test_validation_size_rounds_up(capsys):
    assert check_validation_size(201, n_images=1001, test_size=0.2) is True
    assert "Correct" in capsys.readouterr().out
    assert check_validation_size(200, n_images=1001, test_size=0.2) is False
    assert "Not yet" in capsys.readouterr().out
    assert check_validation_size(48, n_images=240, test_size=0.2) is True
    assert check_validation_size(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_stratified_rare_class():
    assert check_stratified_rare_class(2, common=90, rare=10, test_size=0.2) is True
    assert check_stratified_rare_class(0, common=90, rare=10, test_size=0.2) is False
    assert check_stratified_rare_class(10, common=60, rare=40, test_size=0.25) is True
    assert check_stratified_rare_class(None) is False
