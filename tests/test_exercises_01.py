"""The self-checks of notebook 01 (hardware): right answers pass, others do not."""

from __future__ import annotations

import torch

from leafdl.course.exercises import check_choose_device, check_matmul_flops


def test_matmul_flops(capsys):
    assert check_matmul_flops(2 * 512**3, n=512).passed
    assert "Correct" in capsys.readouterr().out
    assert check_matmul_flops(512**3, n=512).passed is False  # multiplications only
    assert "Not yet" in capsys.readouterr().out
    assert check_matmul_flops(2 * 8**3, n=8).passed
    assert check_matmul_flops(None).status == "not done"
    assert "Not done yet" in capsys.readouterr().out


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


def test_choose_device_rejects_the_documents_line_without_mps():
    def documents_line():
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    result = check_choose_device(documents_line)
    assert not result.passed and "Apple-silicon Mac" in result.message and "mps" in result.message


def test_choose_device_rejects_mps_before_cuda_and_strings():
    def mps_first():
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert "CUDA comes first" in check_choose_device(mps_first).message

    def a_string():
        return "cuda" if torch.cuda.is_available() else "cpu"
    assert "not the string" in check_choose_device(a_string).message


def test_choose_device_stub_is_not_done(capsys):
    def stub():
        raise NotImplementedError
    assert check_choose_device(stub).status == "not done"
    assert "Traceback" not in capsys.readouterr().out
