"""Hardware: CPU vs GPU (the document's first section).

The document picks its device in one line::

    DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

:func:`pick_device` does the same and also knows Apple's GPUs (MPS), so a student on a
recent Mac gets the fast path too. Everything else in leafdl moves tensors with
``.to(device)`` exactly as the document does.

:func:`tune_cpu_allocator` holds the one CPU setting that is not obvious: on Linux,
glibc's ``malloc`` hands every allocation above its *mmap threshold* back to the kernel
as soon as it is freed. One batch of activations at 224 px is larger than that threshold,
so without tuning every batch maps and unmaps fresh memory pages, and page faults eat a
large part of the time (the benchmark in ``benchmarks/`` measures it). Raising the
threshold keeps that memory in the process for the next batch.

:func:`cpu_has_native_bf16` tells whether this CPU computes in *bfloat16* in hardware
(recent Intel Xeons and AMD Zen 4 and later), and :func:`cpu_bf16_flags` names the
flags that say so. There, the frozen features run about 1.8x faster in bf16 (see
:mod:`leafdl.precision`); elsewhere bf16 is emulated, several times slower than float32.

Example:
    >>> from leafdl.device import pick_device
    >>> device = pick_device()
    >>> device.type in {"cpu", "cuda", "mps"}
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys
from pathlib import Path

import torch

from leafdl.errors import OptionError


def pick_device(preference: str = "auto") -> torch.device:
    """Return the device to train on: CUDA, then Apple MPS, then the CPU.

    Args:
        preference: ``"auto"`` to choose, or a name such as ``"cpu"`` or ``"cuda:0"``
            to force one.

    Raises:
        OptionError: when the name is not a device, or names a GPU that is not available here.
    """
    if preference != "auto":
        try:
            device = torch.device(preference)
        except RuntimeError:
            device = None
        if device is None or device.type not in ("cpu", "cuda", "mps"):   # meta, xpu, ...: not for training here
            raise OptionError(f"--device {preference!r} is not a device leafdl trains on: use auto, cpu, cuda, "
                              "cuda:1 or mps.")
        if device.type == "cuda" and not torch.cuda.is_available():
            raise OptionError(
                f"Device {preference!r} was asked for, but PyTorch sees no CUDA GPU here. "
                "Use --device cpu (or leave it on auto)."
            )
        if device.type == "mps" and not _mps_available():
            raise OptionError(
                f"Device {preference!r} was asked for, but Apple MPS is not available here. "
                "Use --device cpu (or leave it on auto)."
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def describe_device(device: torch.device) -> str:
    """One readable line about a device, for notebooks and the command line."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        properties = torch.cuda.get_device_properties(index)
        memory_gib = properties.total_memory / 2**30
        return f"cuda:{index} ({properties.name}, {memory_gib:.0f} GiB)"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


# glibc's mallopt() parameter numbers, from <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ALLOCATOR_THRESHOLD_BYTES = 1 << 30  # 1 GiB: above any single activation tensor we make


def tune_cpu_allocator() -> bool:
    """Keep freed activation memory for the next batch (Linux with glibc only).

    Calls glibc's ``mallopt`` to raise ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD``,
    the same as setting the environment variables ``MALLOC_MMAP_THRESHOLD_`` and
    ``MALLOC_TRIM_THRESHOLD_`` before Python starts. The process then keeps the
    memory of one batch's activations instead of returning it to the kernel and
    page-faulting it back in on the next batch. Memory use grows for the first few
    batches, while the heap reaches what one batch needs, and then stays flat: the same
    blocks are reused batch after batch (appendix A1 of the course measures it).

    It changes nothing on macOS, Windows or Linux without glibc (musl), where it
    returns ``False``. Returns ``True`` when the setting was applied.
    """
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name)
    mmap_ok = libc.mallopt(_M_MMAP_THRESHOLD, _ALLOCATOR_THRESHOLD_BYTES)
    trim_ok = libc.mallopt(_M_TRIM_THRESHOLD, _ALLOCATOR_THRESHOLD_BYTES)
    return bool(mmap_ok and trim_ok)


# CPU flags (Linux /proc/cpuinfo) of x86 instructions that compute in bfloat16:
# AVX-512 BF16 (Intel Cooper Lake and later Xeons, AMD Zen 4 and later) and AMX
# (Intel Sapphire Rapids and later). PyTorch's oneDNN kernels use them for bf16 convolutions.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# ... and the flags worth naming when a run or benchmark says what the CPU can do (amx_tile: AMX's tile registers).
BF16_FLAGS = (*NATIVE_BF16_FLAGS, "amx_tile")


def cpu_has_native_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """True when this CPU computes bfloat16 in hardware (x86 ``avx512_bf16`` or ``amx_bf16``).

    Reads the ``flags`` line of ``/proc/cpuinfo``, which Linux fills from the CPU
    itself. Elsewhere (macOS, Windows, ARM, or a file that cannot be read) it answers
    ``False``: bf16 is then not chosen automatically, because an emulated bf16 is slower
    than fp32 and would make training worse, not better.

    >>> isinstance(cpu_has_native_bf16(), bool)
    True
    """
    return any(flag in NATIVE_BF16_FLAGS for flag in cpu_bf16_flags(cpuinfo))


def cpu_bf16_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> list[str]:
    """The CPU's flags that concern bfloat16 (``avx512_bf16``, ``amx_bf16``, ``amx_tile``), as Linux lists them.

    Empty where the CPU has none of them, or where ``cpuinfo`` cannot be read (not Linux).
    """
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = line.partition(":")[2].split()
            return [flag for flag in flags if flag in BF16_FLAGS]
    return []


def cpu_count() -> int:
    """CPU cores this process may use (respects container and affinity limits)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
