"""The stored notebook outputs do not depend on this CPU's math kernels.

nbval (the same pytest command) compares every notebook's outputs with the stored ones,
on whatever kernels PyTorch picks for this CPU: AVX-512 (with bf16) or AMX on a recent
server, AVX2 on an older laptop or a cloud runner, NEON on Apple Silicon. A digit that
only one kind of kernel reproduces would pass here and fail on a student's machine.

So every notebook is executed and compared a second time with PyTorch held to its AVX2
kernels (``ATEN_CPU_CAPABILITY=avx2``) and oneDNN to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``),
what most x86 laptops of the last ten years run: an output that changes with the
kernels fails on every machine with more than AVX2, not only on a different one.

On a CPU whose own kernels are AVX2 (no AVX-512), the first pass already ran on exactly
these kernels, and this one would repeat it digit for digit: it is skipped there, and says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# What most x86 laptops run; this machine may have AVX-512 or AMX.
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
OWN_KERNELS = torch.backends.cpu.get_cpu_capability()   # "AVX2", "AVX512", ...


@pytest.mark.skipif(OWN_KERNELS == "AVX2", reason=(
    "this CPU's own kernels are AVX2: the notebooks' first pass (nbval and tests/test_rerun.py) ran on them"))
def test_every_notebook_passes_nbval_on_avx2_kernels():
    notebooks = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 16
    environment = {**os.environ, **AVX2_ONLY}
    result = subprocess.run([sys.executable, "-m", "pytest", *notebooks, "-q", "--no-header"],
                            cwd=ROOT, env=environment, capture_output=True, text=True)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, f"nbval with AVX2 kernels: {summary}\n{result.stdout[-6000:]}"
    assert " passed" in summary and "failed" not in summary
