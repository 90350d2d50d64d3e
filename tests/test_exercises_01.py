"""The self-checks of notebook 01 (hardware): right answers pass, others do not."""

from __future__ import annotations

import sys

import pytest
import torch

from leafdl.course.exercises import check_choose_device, check_classifier_flops


def choose_device() -> torch.device:
    """The reference solution (notebooks/solutions/01_hardware.md)."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def test_choose_device_accepts_the_solution_and_leaves_torch_alone(capsys):
    cuda_before = torch.cuda.is_available()
    assert check_choose_device(choose_device).passed
    assert "Correct" in capsys.readouterr().out
    assert torch.cuda.is_available() == cuda_before          # the pretend machines are gone


def cuda_zero():
    if torch.cuda.is_available():
        return torch.device("cuda:0")
    return torch.device("mps") if torch.backends.mps.is_available() else torch.device("cpu")


def test_choose_device_accepts_cuda_0():
    assert check_choose_device(cuda_zero).passed


def documents_line():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mps_first():
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def a_string():
    return "cuda" if torch.cuda.is_available() else "cpu"


def no_brackets():
    if torch.cuda.is_available:
        return torch.device("cuda")
    return torch.device("cpu")


DECIDED_ONCE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def decided_outside():
    return DECIDED_ONCE


def gpu_name():
    return torch.device("gpu" if torch.cuda.is_available() else "cpu")


def prints_it():
    print(torch.device("cuda" if torch.cuda.is_available() else "cpu"))


def mps_is_built():
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("mps" if torch.backends.mps.is_built() and sys.platform == "darwin" else "cpu")


def a_name_in_a_tuple():
    return (torch.device("cpu"),)


WRONG = [
    (documents_line, "Apple-silicon Mac"),
    (mps_first, "CUDA comes first"),
    (a_string, "not the string"),
    (no_brackets, "with its brackets (the function itself"),
    (decided_outside, "on every machine"),
    (gpu_name, "PyTorch's names are 'cuda'"),
    (prints_it, "choose_device returns nothing"),
    (mps_is_built, "ask torch.backends.mps.is_available()"),
    (a_name_in_a_tuple, "not tuple"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=[answer.__name__ for answer, _ in WRONG])
def test_choose_device_names_each_mistake(answer, hint, capsys):
    result = check_choose_device(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out.endswith(result.message + "\n")      # the verdict last, no traceback


def test_classifier_flops(capsys):
    assert check_classifier_flops(2 * 32 * 1280 * 4).passed
    assert "327,680 FLOPs" in capsys.readouterr().out
    assert check_classifier_flops(2 * 64 * 1280 * 38, batch=64, classes=38).passed


@pytest.mark.parametrize("answer, hint", [
    (32 * 1280 * 4, "multiplications only"),
    (2 * 1280 * 4, "one image's work"),
    (2 * 32 * 1280 * 1280, "not batch x features"),
    (2 * 512 ** 3, "512 x 512 product"),
    (1e6, "count the outputs"),
])
def test_classifier_flops_names_the_mistake(answer, hint):
    result = check_classifier_flops(answer)
    assert not result.passed and hint in result.message


def test_classifier_flops_unanswered():
    assert check_classifier_flops(None).status == "not done"


def test_choose_device_stub_is_not_done(capsys):
    def stub():
        raise NotImplementedError
    assert check_choose_device(stub).status == "not done"
    assert "Traceback" not in capsys.readouterr().out
