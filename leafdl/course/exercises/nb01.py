"""Self-checks of notebook 01 (hardware).

Each prints its verdict and returns a :class:`~leafdl.course.exercises.common.CheckResult`.
"""

from __future__ import annotations

from typing import Any, Callable
from unittest import mock

import torch

from leafdl.course.exercises.common import CheckResult, call_student, checked, close_to, not_answered, report, wrong


def check_classifier_flops(answer: Any, batch: int = 32, features: int = 1280, classes: int = 4) -> CheckResult:
    """Notebook 01, exercise 1: FLOPs of the classifier's matrix product for one batch.

    The classifier multiplies a ``(batch x features)`` matrix of features by a
    ``(features x classes)`` weight matrix: ``batch x classes`` outputs, each ``features``
    multiplications and ``features`` additions (the bias's addition counted in), so
    ``2 x batch x features x classes``. Computed here from the shapes of a real product.
    """
    missing = not_answered(answer, f"the number of FLOPs of ({batch} x {features}) @ ({features} x {classes})")
    if missing is not None:
        return missing
    outputs = torch.zeros(batch, features) @ torch.zeros(features, classes)
    expected = 2 * outputs.numel() * features
    mistakes = {
        expected // 2: "that counts the multiplications only: each output also needs its additions, so twice as many.",
        2 * features * classes: f"that is one image's work: the batch holds {batch} images, each its own row.",
        2 * batch * features ** 2: "the product has one output per image and class (a matrix of batch x classes), "
                                   "not batch x features.",
        2 * 512 ** 3: "that is the count of a 512 x 512 product: here the shapes differ, (rows x inner) @ (inner x cols).",
    }
    hint = next((hint for value, hint in mistakes.items() if close_to(answer, value)), None)
    return report(close_to(answer, expected),
                  f"{batch} x {classes} outputs, each {features} multiplications and {features} additions: "
                  f"2 x {batch} x {features} x {classes} = {expected:,} FLOPs, about "
                  f"{2 * 512 ** 3 // expected:,}x less than the 512 x 512 product: the classifier is cheap, the "
                  "convolutions before it are not.",
                  hint or "count the outputs (rows of the first matrix x columns of the second), then the "
                          "multiplications and additions that make each one.")


# (CUDA available, MPS available) -> the device a correct choose_device() returns


MACHINES = {(True, False): "cuda", (False, True): "mps", (False, False): "cpu", (True, True): "cuda"}


MACHINE_NAMES = {(True, False): "a PC with an NVIDIA GPU", (False, True): "an Apple-silicon Mac",
                 (False, False): "a laptop without a GPU", (True, True): "a machine with both"}


DEVICE_ADVICE = {"Expected one of": "PyTorch's names are 'cuda' (an NVIDIA GPU), 'mps' (Apple's GPU) and 'cpu'."}


@checked
def check_choose_device(choose_device: Callable[[], torch.device]) -> CheckResult:
    """Notebook 01, exercise 2: ``choose_device()`` returns CUDA, else Apple's MPS, else the CPU.

    The student's function runs four times, each on a pretend machine:
    ``torch.cuda.is_available`` and ``torch.backends.mps.is_available`` are replaced for
    the call (with :func:`unittest.mock.patch`) to say yes or no, so this CPU-only
    notebook can check what the function would pick on a GPU machine or a Mac.
    ``torch.device("cuda:0")`` counts as CUDA.
    """
    picked = {}
    for machine in MACHINES:
        cuda, mps = machine
        with mock.patch("torch.cuda.is_available", return_value=cuda), \
                mock.patch("torch.backends.mps.is_available", return_value=mps):
            device = call_student(choose_device, advice=DEVICE_ADVICE)
        if device is None:
            return wrong("choose_device returns nothing: end it with `return torch.device(...)`.")
        if isinstance(device, str):
            return wrong(f"return a torch.device, not the string {device!r}: wrap the name in torch.device(...).")
        if not isinstance(device, torch.device):
            return wrong(f"return a torch.device, not {type(device).__name__}.")
        picked[machine] = device.type
    if set(picked.values()) == {"cuda"}:
        return wrong("your function picks 'cuda' on every machine, even a laptop without a GPU: call "
                     "torch.cuda.is_available() with its brackets (the function itself, without them, always counts "
                     "as true), and ask it inside choose_device, each time.")
    if len(set(picked.values())) == 1:
        return wrong(f"your function picks {next(iter(picked.values()))!r} on every machine: ask "
                     "torch.cuda.is_available() and torch.backends.mps.is_available() inside the function, each "
                     "time it is called, not once outside it.")
    for machine, expected in MACHINES.items():
        given = picked[machine]
        if given == expected:
            continue
        if expected == "mps" and given == "cpu":
            return wrong("on an Apple-silicon Mac your function picks the CPU: ask "
                         "torch.backends.mps.is_available() when there is no CUDA GPU.")
        if expected == "cuda" and given == "mps":
            return wrong("on a machine with both kinds of GPU, CUDA comes first: ask about CUDA before MPS.")
        if expected == "cpu":
            return wrong(f"on a laptop without a GPU your function picks {given!r}: call is_available() with its "
                         "brackets (the function itself, without them, always counts as true), and fall back to "
                         "torch.device('cpu').")
        return wrong(f"on {MACHINE_NAMES[machine]} your function picks {given!r}; it should pick {expected!r}.")
    return report(True, "cuda on an NVIDIA machine, mps on a Mac, cpu otherwise: the order "
                        "leafdl.device.pick_device() uses.", "")
