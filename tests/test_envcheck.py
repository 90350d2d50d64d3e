"""Tests for leafdl.course.envcheck: the [OK]/[FAIL] set-up check of notebook 00."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from leafdl.course import envcheck
from leafdl.course.envcheck import (
    REQUIREMENTS,
    CheckResult,
    Requirement,
    check_environment,
    check_package,
    check_weights,
    format_report,
    print_environment_report,
    version_tuple,
)
from leafdl.weights import mobilenet_v2_weights_path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


@pytest.mark.parametrize("text, expected", [
    ("2.4.1", (2, 4, 1)),
    ("2.4.1+cpu", (2, 4, 1)),
    ("1.0rc1", (1, 0)),
    ("0.9.16", (0, 9, 16)),
    ("10", (10,)),
])
def test_version_tuple_keeps_the_leading_numbers(text, expected):
    assert version_tuple(text) == expected


def test_versions_compare_as_numbers_not_text():
    assert version_tuple("0.9.16") > version_tuple("0.9.2")
    assert version_tuple("2.10") > version_tuple("2.9.9")


def test_minimum_versions_are_pyprojects_lower_bounds():
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    bounds = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", item.split(";")[0].strip()).groups()
                  for item in dependencies)
    assert {requirement.name: requirement.minimum for requirement in REQUIREMENTS} == bounds


def test_an_installed_package_passes_with_its_version():
    result = check_package(Requirement("numpy", "numpy", "1.0", "arrays"))
    assert result.ok and result.label == "[OK]"
    assert result.detail.startswith(__import__("numpy").__version__)


def test_a_missing_package_fails_and_says_how_to_install_it():
    result = check_package(Requirement("no-such-package-leafdl", "no_such_package_leafdl", "1.2", "nothing"))
    assert not result.ok and result.label == "[FAIL]"
    assert "not installed" in result.detail
    assert result.fix == 'pip install "no-such-package-leafdl>=1.2"'


def test_a_too_old_package_fails():
    result = check_package(Requirement("numpy", "numpy", "999.0", "arrays"))
    assert not result.ok
    assert "too old" in result.detail and "--upgrade" in result.fix


def test_a_package_whose_module_cannot_be_found_fails():
    result = check_package(Requirement("numpy", "numpy_renamed_leafdl", "1.0", "arrays"))
    assert not result.ok and "cannot find it" in result.detail


def test_weights_check_finds_the_bundled_file_and_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    bundled, mobilenet = check_weights()
    assert bundled.ok and "offline" in bundled.detail
    assert not mobilenet.ok and mobilenet.optional and mobilenet.label == "[--]"
    assert "leafdl weights download" in mobilenet.fix

    path = mobilenet_v2_weights_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stand-in")
    assert check_weights()[1].ok


def test_check_environment_covers_python_every_package_and_the_weights():
    names = [result.name for result in check_environment()]
    assert names[0] == "Python"
    assert names[1:1 + len(REQUIREMENTS)] == [requirement.name for requirement in REQUIREMENTS]
    assert names[-2:] == ["EfficientNet-Lite0 ImageNet weights", "MobileNetV2 ImageNet weights"]


def test_report_gives_a_verdict_that_ignores_optional_checks(capsys):
    passing = [CheckResult("torch", True, "2.4 (needs >= 2.2)", purpose="tensors"),
               CheckResult("MobileNetV2 ImageNet weights", False, "not downloaded", "leafdl weights download",
                           optional=True)]
    text = format_report(passing)
    assert text.splitlines()[0].startswith("[OK]   torch")
    assert "tensors" in text.splitlines()[0]
    assert "[--]" in text and "-> leafdl weights download" in text
    assert "All required checks passed" in text

    failing = passing + [CheckResult("timm", False, "not installed", 'pip install "timm>=0.9.16"')]
    text = format_report(failing)
    assert "[FAIL] timm" in text and "1 check(s) failed: timm" in text


def test_print_environment_report_returns_the_verdict(capsys, monkeypatch):
    monkeypatch.setattr(envcheck, "check_environment",
                        lambda: [CheckResult("timm", False, "not installed", "pip install timm")])
    assert print_environment_report() is False
    assert "[FAIL] timm" in capsys.readouterr().out

    monkeypatch.setattr(envcheck, "check_environment", lambda: [CheckResult("timm", True, "1.0")])
    assert print_environment_report() is True
