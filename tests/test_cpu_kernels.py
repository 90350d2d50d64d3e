"""The stored notebook outputs do not depend on this CPU's math kernels.

nbval (the same pytest command) compares every notebook's outputs with the stored ones,
on whatever kernels PyTorch picks for this CPU: AVX-512 (with bf16) or AMX on a recent
server, AVX2 on an older laptop or a cloud runner, NEON on Apple Silicon. A digit that
only one kind of kernel reproduces would pass here and fail on a student's machine.

So the notebooks are executed and compared a second time with PyTorch held to its AVX2
kernels (``ATEN_CPU_CAPABILITY=avx2``) and oneDNN to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``),
what most x86 laptops of the last ten years run: an output that changes with the
kernels fails on every machine, not only on a different one. (On a CPU without AVX-512
the two passes use the same kernels; the stored outputs were made with AVX-512 bf16.)

The lessons with training cells get this second pass from ``tests/test_rerun.py``, whose
first run (on AVX2 kernels) is compared with the stored outputs; this test passes the
other notebooks through nbval, so that every notebook is executed twice in all, not three
times.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_rerun import AVX2_ONLY, TRAINING_LESSONS

ROOT = Path(__file__).resolve().parents[1]


def notebooks_without_training() -> list[str]:
    """The notebooks that tests/test_rerun.py does not run (their paths, for pytest)."""
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / "notebooks").glob("*.ipynb")
                  if path.name[:2] not in TRAINING_LESSONS)


def test_the_other_notebooks_pass_nbval_on_avx2_kernels():
    assert len(notebooks_without_training()) + len(TRAINING_LESSONS) == len(list((ROOT / "notebooks").glob("*.ipynb")))
    environment = {**os.environ, **AVX2_ONLY}
    result = subprocess.run([sys.executable, "-m", "pytest", *notebooks_without_training(), "-q", "--no-header"],
                            cwd=ROOT, env=environment, capture_output=True, text=True)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, f"nbval with AVX2 kernels: {summary}\n{result.stdout[-6000:]}"
    assert " passed" in summary and "failed" not in summary
