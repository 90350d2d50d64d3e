# %% [markdown] slideshow={"slide_type": "slide"}
# # A1 · CPU tuning: keeping a batch's memory
#
# An appendix to notebook 01, for practitioners who train on a CPU. `leafdl` changes one
# setting of the C library's memory allocator on Linux. This notebook says which, why,
# and measures what it saves.
#
# **Time:** about 5 minutes to read and run.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where big blocks of memory come from
#
# On Linux, glibc's `malloc` serves small blocks from a pool the program keeps. Blocks
# above the **mmap threshold** (128 KiB at first, rising to at most 32 MiB as the program
# runs) are asked fresh from the operating system with `mmap` and handed back the moment
# they are freed.

# %% [markdown] slideshow={"slide_type": "notes"}
# Fresh pages cost time: the kernel zero-fills each 4 KiB page when it is first touched,
# one *page fault* per page. Memory that stays in the program's pool is reused with no
# fault at all.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One layer's output is bigger than that
#
# At the document's 224 px, the first convolution of the course's network turns a batch
# of 32 images into this many bytes:

# %% slideshow={"slide_type": "-"}
from leafdl.models import EfficientNetLite0

stem_channels = EfficientNetLite0(pretrained=False).features[0][0].out_channels  # the first convolution
batch_size, height, width = 32, 224 // 2, 224 // 2  # that convolution halves the image
activation_bytes = batch_size * stem_channels * height * width * 4  # float32 = 4 bytes
print(f"{batch_size} x {stem_channels} x {height} x {width} floats = {activation_bytes / 2**20:.1f} MiB")
print(f"above glibc's largest automatic mmap threshold (32 MiB): {activation_bytes > 32 * 2**20}")
assert activation_bytes > 32 * 2**20 and round(activation_bytes / 2**20) == 49

# %% [markdown] slideshow={"slide_type": "notes"}
# So, untuned, every batch maps fresh memory for its activations, page-faults through
# it, gives it back, and does it all again for the next batch.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Measured: page faults, batch after batch
#
# A small program that runs 30 "batches" of that size (allocate, fill, free) and counts
# the page faults of each. We run it once as it is, once tuned.

# %% [markdown] slideshow={"slide_type": "notes"}
# Each run is a fresh Python process (the setting cannot be undone in a running one),
# which counts the page faults of each batch.

# %% slideshow={"slide_type": "-"}
import json
import platform
import subprocess
import sys

CHILD = """
import json, resource, sys, torch
from leafdl.device import tune_cpu_allocator
if sys.argv[1] == "tuned":
    tune_cpu_allocator()
torch.set_num_threads(1)
faults = []
for batch in range(30):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    activations = torch.empty(int(sys.argv[2]) // 4).fill_(1.0)  # one batch's activations
    del activations                                                # freed at the end of the batch
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps(faults))
"""

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
if sys.platform == "linux" and platform.libc_ver()[0] == "glibc":
    last_ten = {}
    for variant in ("as-is", "tuned"):
        child = subprocess.run([sys.executable, "-c", CHILD, variant, str(activation_bytes)],
                               capture_output=True, text=True, check=True)
        faults = json.loads(child.stdout)
        last_ten[variant] = sum(faults[-10:]) / 10
        print(f"{variant:>6}, page faults per batch: {faults[:8]} ... last 10 batches: {last_ten[variant]:,.0f} each")
    assert last_ten["tuned"] < last_ten["as-is"] / 10
else:
    print(f"Not Linux with glibc ({sys.platform}): tune_cpu_allocator() changes nothing here.")

# %% [markdown] slideshow={"slide_type": "notes"}
# As it is, every batch faults in all of its 49 MiB again, 4 KiB at a time. Tuned, the
# first few batches still fault while the process's pool grows, then the memory is
# reused: by the last ten batches, less than a tenth of the faults (the cell checks it),
# usually none. `benchmarks/bench_training.py` measures what this saves on whole
# training epochs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What `leafdl` does
#
# `leafdl.device.tune_cpu_allocator()` raises both thresholds to 1 GiB with glibc's
# `mallopt`: the same as the environment variables `MALLOC_MMAP_THRESHOLD_` and
# `MALLOC_TRIM_THRESHOLD_`. A batch's memory is kept and reused by the next batch; memory
# use does not grow. `fit` calls it when it trains on the CPU.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.device import tune_cpu_allocator

print("allocator tuned:", tune_cpu_allocator())

# %% [markdown] slideshow={"slide_type": "notes"}
# It returns `True` where it applied (Linux with glibc) and `False` elsewhere (macOS,
# Windows, Linux with musl), where it changes nothing.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - glibc hands blocks above its mmap threshold (at most 32 MiB by default) back to the
#   kernel when they are freed; one batch's activations are bigger than that.
# - Untuned, every batch page-faults its activation memory in afresh.
# - `tune_cpu_allocator()` (called by `fit` on a CPU) raises the thresholds, so the memory
#   of one batch is reused by the next.
# - Back to the lesson: [01 · Hardware](01_hardware.ipynb).
