"""Self-checks of notebook 01 (hardware).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable
from unittest import mock

import torch

from leafdl.course.exercises.common import CheckResult, call_student, checked, close_to, not_answered, report, wrong


def check_matmul_flops(answer: Any, n: int = 512) -> CheckResult:
    """Notebook 01, exercise 1: floating-point operations in an (n x n) @ (n x n) product."""
    missing = not_answered(answer, f"the number of FLOPs for n = {n}")
    if missing is not None:
        return missing
    outputs = n * n                 # one number per row of A and column of B
    per_output = n + n              # n multiplications and n additions each
    expected = outputs * per_output
    return report(close_to(answer, expected),
                  f"{n}x{n} outputs, each {n} multiplications and {n} additions: 2 x {n}^3 = {expected:,} FLOPs.",
                  "count the outputs (n x n), then the multiplications and additions that make each one.")


# (CUDA available, MPS available) -> the device a correct choose_device() returns


MACHINES = {(True, False): "cuda", (False, True): "mps", (False, False): "cpu", (True, True): "cuda"}


MACHINE_NAMES = {(True, False): "a PC with an NVIDIA GPU", (False, True): "an Apple-silicon Mac",
                 (False, False): "a laptop without a GPU", (True, True): "a machine with both"}


@checked
def check_choose_device(choose_device: Callable[[], torch.device]) -> CheckResult:
    """Notebook 01, exercise 2: ``choose_device()`` returns CUDA, else Apple's MPS, else the CPU.

    The student's function runs four times, each on a pretend machine:
    ``torch.cuda.is_available`` and ``torch.backends.mps.is_available`` are replaced for
    the call (with :func:`unittest.mock.patch`) to say yes or no, so this CPU-only
    notebook can check what the function would pick on a GPU machine or a Mac.
    """
    for (cuda, mps), expected in MACHINES.items():
        with mock.patch("torch.cuda.is_available", return_value=cuda), \
                mock.patch("torch.backends.mps.is_available", return_value=mps):
            device = call_student(choose_device)
        machine = MACHINE_NAMES[cuda, mps]
        if isinstance(device, str):
            return wrong(f"return a torch.device, not the string {device!r}: wrap the name in torch.device(...).")
        if not isinstance(device, torch.device):
            return wrong(f"return a torch.device, not {type(device).__name__}.")
        if device.type != expected:
            if expected == "mps" and device.type == "cpu":
                return wrong("on an Apple-silicon Mac your function picks the CPU: ask "
                             "torch.backends.mps.is_available() when there is no CUDA GPU.")
            if expected == "cuda" and device.type == "mps":
                return wrong("on a machine with both kinds of GPU, CUDA comes first: ask about CUDA before MPS.")
            return wrong(f"on {machine} your function picks {device.type!r}; it should pick {expected!r}.")
    return report(True, "cuda on an NVIDIA machine, mps on a Mac, cpu otherwise: the order "
                        "leafdl.device.pick_device() uses.", "")
