# %% [markdown] slideshow={"slide_type": "slide"}
# # 01 · Hardware: CPU vs GPU
#
# Deep learning is mostly one operation, the matrix multiplication, repeated billions of
# times. Where those multiplications run, on the CPU or on a GPU, decides whether training
# takes seconds or hours. This notebook measures it on your machine.
#
# **Time:** about 17 minutes. Follows the document's section **Hardware: CPU vs GPU**.

# %% [markdown] slideshow={"slide_type": "notes"}
# **You will learn**
#
# - the document's one line that picks the device, and `leafdl`'s version that also knows
#   Apple's GPUs;
# - why GPUs are fast for neural networks: counting the work in a matrix multiplication,
#   and timing it at several sizes (GFLOP/s);
# - how many CPU threads PyTorch uses, and what one thread against all of them changes;
# - how long one forward pass of the course's network takes, per batch and per image;
# - `.to(device)` for tensors and models, and the trap of forgetting to assign its result.

# %% [markdown] slideshow={"slide_type": "notes"}
# The timings stored below come from the machine that built this notebook (a small 2-core
# CPU shared with other work, no GPU). Yours will differ, which is the point: run the
# cells and compare.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Picking the device
#
# The document starts with one line: use the GPU if PyTorch can see one (`cuda` is
# NVIDIA's GPU programming platform), otherwise the CPU.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("DEVICE =", DEVICE)

# %% [markdown] slideshow={"slide_type": "slide"}
# A `torch.device` is only a name: `"cpu"`, `"cuda"` (the first NVIDIA GPU), `"cuda:1"`
# (the second), or `"mps"` (the GPU of an Apple-silicon Mac). Every tensor and every model
# lives on exactly one device, and PyTorch computes where the data is.
#
# `leafdl.device.pick_device()` does what the document's line does, and also picks Apple's
# GPU when there is no NVIDIA one: **cuda → mps → cpu**. `describe_device` says what was
# found, in one line.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.device import cpu_count, describe_device, pick_device

device = pick_device()
print("picked:           ", describe_device(device))
print("CPU cores to use: ", cpu_count())
print("PyTorch threads:  ", torch.get_num_threads())

# %% [markdown] slideshow={"slide_type": "slide"}
# | | CPU | GPU |
# |---|---|---|
# | cores | a few (2 to 32), each fast and clever | thousands, each simple |
# | good at | varied work, one step after another | the same small sum on a lot of data at once |
# | training a CNN | slow: hours to days on big data | 10 to 100 times faster (the document's figure) |
#
# *PyTorch threads* is how many CPU cores one operation may split its work over. By
# default it is the number of cores, so a CPU is parallel too, just much less than a GPU.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why GPUs? Count the work in a matrix multiplication
#
# A layer of a neural network is, at heart, a matrix multiplication: a convolution slides
# the same small filter over an image, which PyTorch rewrites as one big product of
# matrices. Multiplying two $n \times n$ matrices gives $n^2$ numbers, and each of them is
# a sum of $n$ products: $n$ multiplications and $n$ additions. So the work is
#
# $$2 n^3 \text{ floating-point operations (FLOPs)}.$$
#
# For $n = 1024$ that is about 2.1 billion FLOPs. The key fact: the $n^2$ output numbers do
# not depend on each other, so they can all be computed *at the same time*. That is what
# a GPU's thousands of cores are built for.

# %% [markdown] slideshow={"slide_type": "notes"}
# Let us measure how many billion FLOPs per second (GFLOP/s) this machine manages. We time
# each product a few times and keep the fastest run (the others were disturbed by
# something else on the machine). On a GPU, work is *queued* and runs in the background,
# so we must wait for it to finish (`torch.cuda.synchronize()`) before reading the clock.

# %% slideshow={"slide_type": "slide"}
import time


def seconds_per_call(work, device: torch.device, budget_s: float = 0.4, max_repeats: int = 5) -> float:
    """The fastest of a few timed calls of ``work()`` (after one untimed warm-up call)."""
    work()  # warm-up: the first call pays one-off costs (memory, kernel selection)
    times = []
    while len(times) < max_repeats and (not times or sum(times) < budget_s):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        work()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


# %% [markdown] slideshow={"slide_type": "subslide"}
# The work of one product, divided by its fastest time:

# %% slideshow={"slide_type": "-"}
def matmul_gflops(n: int, device: torch.device) -> float:
    """GFLOP/s of one (n x n) @ (n x n) product of float32 matrices on ``device``."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    return 2 * n**3 / seconds_per_call(lambda: a @ b, device) / 1e9


# %% slideshow={"slide_type": "slide"} tags=["nbval-ignore-output"]
sizes = [128, 256, 512, 1024, 2048]
devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])

gflops = {}  # (device type, n) -> GFLOP/s
print(f"{'n':>6} {'GFLOPs of work':>15}" + "".join(f"{d.type + ' GFLOP/s':>16}" for d in devices))
for n in sizes:
    for d in devices:
        gflops[d.type, n] = matmul_gflops(n, d)
    print(f"{n:>6} {2 * n**3 / 1e9:>15.3f}" + "".join(f"{gflops[d.type, n]:>16.1f}" for d in devices))
assert round(2 * 1024**3 / 1e9, 1) == 2.1  # the 2.1 billion FLOPs of n = 1024
if torch.cuda.is_available():
    print(f"\nGPU speed-up at n = {sizes[-1]}: {gflops['cuda', sizes[-1]] / gflops['cpu', sizes[-1]]:.0f}x")
    assert gflops["cuda", sizes[-1]] > gflops["cpu", sizes[-1]]
else:
    print("\nNo GPU here: only the CPU was timed. On a GPU machine this table gets a cuda column.")

# %% [markdown] slideshow={"slide_type": "notes"}
# Notice two things. First, the smallest products usually run below the machine's best
# rate: starting an operation has a fixed cost, and a 128x128 product is little work to
# share among the cores. The more cores (and a GPU has thousands), the bigger a product
# must be to keep them all busy. That is one reason we feed the network *batches* of 32
# images rather than one at a time. Second, if you have a GPU, compare the columns: the
# cell prints the GPU's speed-up on the largest product, and checks that the GPU wins.
# (The notebook you are reading was built on a machine without a GPU, so its table has
# only the CPU column: the document's "10 to 100 times faster" is the document's figure,
# not a measurement of this notebook. Run it on a GPU to measure yours.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The CPU is parallel too: one thread against all of them
#
# `torch.set_num_threads(k)` limits PyTorch to `k` cores. Timing the same product with one
# thread and with all of them shows how well the work splits up: with 2 cores, at best
# twice as fast. A GPU pushes the same idea to thousands of cores.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
all_threads = torch.get_num_threads()
thread_gflops = {}
for threads in sorted({1, all_threads}):
    torch.set_num_threads(threads)
    thread_gflops[threads] = matmul_gflops(1024, torch.device("cpu"))
    print(f"{threads} thread(s): {thread_gflops[threads]:6.1f} GFLOP/s for a 1024x1024 product")
torch.set_num_threads(all_threads)  # back to the default
if all_threads > 1:
    print(f"speed-up with {all_threads} threads: {thread_gflops[all_threads] / thread_gflops[1]:.1f}x")

# %% [markdown] slideshow={"slide_type": "slide"}
# A picture of the measurements: GFLOP/s for each size (left), and for one thread against
# all of them (right). Taller is faster.

# %% slideshow={"slide_type": "-"} jupyter={"source_hidden": true}
import matplotlib.pyplot as plt
import numpy as np

fig, (size_ax, thread_ax) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 1.3]})
width = 0.8 / len(devices)
for index, d in enumerate(devices):
    positions = np.arange(len(sizes)) + (index - (len(devices) - 1) / 2) * width
    size_ax.bar(positions, [gflops[d.type, n] for n in sizes], width, label=d.type,
                color="tab:blue" if d.type == "cpu" else "tab:green")
size_ax.set_xticks(range(len(sizes)), [f"{n}x{n}" for n in sizes])
size_ax.set(title="Matrix multiplication speed", xlabel="matrix size", ylabel="GFLOP/s")
if len(devices) > 1:
    size_ax.set_yscale("log")
size_ax.legend()
labels = [f"{k} thread{'s' if k > 1 else ''}" for k in thread_gflops]
thread_ax.bar(labels, list(thread_gflops.values()), color=["tab:gray", "tab:blue"][: len(labels)])
thread_ax.set(title="CPU, 1024x1024", ylabel="GFLOP/s")
for ax in (size_ax, thread_ax):
    ax.grid(axis="y", alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A forward pass of the course's network
#
# A *forward pass*: the network turns a batch of images into class scores. We time the
# course's network, EfficientNet-Lite0, on 32 images of 128x128 pixels.

# %% [markdown] slideshow={"slide_type": "notes"}
# Matrix products are the ingredient; a forward pass is the meal. EfficientNet-Lite0 is a
# small network made for phones, here with a new classifier for our 4 classes (notebook 04
# explains it). It works offline: its pretrained weights come with a pip package. 128 px
# is the course's size; the document uses 224. `model.eval()` and
# `torch.inference_mode()` tell PyTorch we only predict, so it does no bookkeeping for
# training (notebook 06 explains both).

# %% slideshow={"slide_type": "-"}
from leafdl.course import COURSE_IMG_SIZE
from leafdl.models import build_model

torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE)
model.eval()
batch = torch.randn(32, 3, COURSE_IMG_SIZE, COURSE_IMG_SIZE)
print("input batch:", tuple(batch.shape), "->  output:", tuple(model(batch[:2]).shape[1:]), "scores per image")


def time_forward(net, images: torch.Tensor, device: torch.device) -> dict[int, float]:
    """Seconds per forward pass of ``net`` on the first 1 and on all 32 ``images`` (fastest of up to 8)."""
    with torch.inference_mode():
        return {count: seconds_per_call(lambda: net(images[:count]), device, budget_s=2.0, max_repeats=8)
                for count in (1, 32)}

# %% slideshow={"slide_type": "slide"} tags=["nbval-ignore-output"]
import copy

forward_seconds = {"cpu": time_forward(model, batch, torch.device("cpu"))}
if torch.cuda.is_available():  # a copy on the GPU: `model` stays on the CPU for the cells below
    forward_seconds["cuda"] = time_forward(copy.deepcopy(model).to("cuda"), batch.to("cuda"), torch.device("cuda"))
for where, seconds in forward_seconds.items():
    for images, s in seconds.items():
        print(f"{where}, batch of {images:>2}: {s * 1000:7.1f} ms per batch, {s / images * 1000:6.1f} ms per image")

cpu = forward_seconds["cpu"]
print(f"\nper image on the CPU, one image alone took {cpu[1] / (cpu[32] / 32):.1f}x as long as in a batch of 32")
if "cuda" in forward_seconds:
    print(f"GPU speed-up on a batch of 32: {cpu[32] / forward_seconds['cuda'][32]:.0f}x")
    assert forward_seconds["cuda"][32] < cpu[32]

# %% [markdown] slideshow={"slide_type": "notes"}
# Compare the *per image* column; the last line says how many times longer one image
# alone took per image than a batch, here and now. A single image is too little work to
# keep all the cores busy, and every call pays fixed costs; a batch gives every layer a
# matrix product 32 times bigger. On a quiet 2-core laptop CPU we measured about 2.6x;
# the more cores, the bigger the gap, and a GPU, with thousands, is starved by one image
# at a time. On a busy machine the gap shrinks and the numbers jump around, because other
# programs take the cores away mid-operation (the stored numbers above may show it): run
# the cell again and see how much yours vary. (Without a GPU the cell times only the CPU;
# on a GPU it also prints the GPU's speed-up.)
#
# Training a whole epoch means a forward pass over all training images, plus the backward
# pass that computes the gradients (about twice the work again, for the layers being
# trained): that is the work a GPU speeds up.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Moving data and models: `.to(device)`
#
# The document moves each batch and the model to the chosen device:
#
# ```python
# inputs = inputs.to(DEVICE)
# model = model.to(DEVICE)
# ```
#
# Both must be on the same device: a model on the GPU cannot read a batch that is still
# in the computer's main memory, and PyTorch stops with *Expected all tensors to be on
# the same device*. Look at `.device` before and after:

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
inputs = torch.randn(32, 3, COURSE_IMG_SIZE, COURSE_IMG_SIZE)
print("inputs before:", inputs.device)
inputs = inputs.to(DEVICE)
print("inputs after: ", inputs.device)

print("model before: ", next(model.parameters()).device)
model = model.to(DEVICE)
print("model after:  ", next(model.parameters()).device)
if DEVICE.type == "cpu":
    print("No GPU here: both were already on the CPU, so .to(DEVICE) changed nothing.")

# %% [markdown] slideshow={"slide_type": "slide"}
# One difference between the two lines matters. **A tensor's `.to()` returns a new
# tensor** and leaves the old one as it was; **a model's `.to()` moves the model itself**
# (and returns it, for convenience). So `inputs.to(DEVICE)` on its own line does nothing
# useful: you must write `inputs = inputs.to(DEVICE)`. We can see this on any machine by
# changing the number type instead of the device (`.to()` does both):

# %% slideshow={"slide_type": "-"}
x = torch.ones(3)
x.to(torch.float64)  # result thrown away: x is unchanged
print("after x.to(float64):     x.dtype =", x.dtype)
x = x.to(torch.float64)  # assigned: now x is the converted tensor
print("after x = x.to(float64): x.dtype =", x.dtype)

layer = torch.nn.Linear(2, 2)
returned = layer.to(torch.float64)  # a module converts itself in place
print("layer weight dtype:", layer.weight.dtype, "| returned the same object:", returned is layer)

# %% [markdown] slideshow={"slide_type": "notes"}
# `leafdl`'s training loop (`leafdl.engine.run_phase`, notebook 05) moves every batch with
# `inputs.to(device, non_blocking=True)`: on a GPU, `non_blocking` lets the copy overlap
# with computation. `leafdl.engine.fit` picks the device with `pick_device()` unless you
# pass one.

# %% [markdown] slideshow={"slide_type": "notes"}
# **For practitioners:** on a Linux CPU, `fit` also changes one setting of the memory
# allocator, so that the memory of one batch is reused by the next instead of being
# handed back and page-faulted in again. Why, and what it saves, measured:
# [A1 · CPU tuning](A1_cpu_tuning.ipynb).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - `DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")` picks the
#   device; `leafdl.device.pick_device()` also picks Apple's MPS: cuda → mps → cpu.
# - Neural networks are mostly matrix products: $2n^3$ FLOPs for an $n \times n$ product,
#   whose $n^2$ results thousands of GPU cores compute at once (10 to 100 times faster,
#   says the document).
# - Bigger pieces of work run closer to the machine's peak: one reason to use batches.
# - `tensor = tensor.to(device)` (assign it!) and `model.to(device)`: on the same device.

# %% [markdown] slideshow={"slide_type": "notes"}
# On a GPU the timing cells above measure the document's "10 to 100 times" for your
# machine. On the CPU, PyTorch uses `torch.get_num_threads()` cores per operation;
# `leafdl` also keeps batch-sized memory allocated between batches (appendix A1).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Count the classifier's work.** The table above counts square products. The
# course's classifier is not square: for a batch of **32** leaves it multiplies their
# features, a `(32 x 1280)` matrix, by its weights, a `(1280 x 4)` matrix (4 classes).
# How many floating-point operations (multiplications plus additions) does that product
# take? Predict first: more or fewer than the 512 x 512 product? Then count (a Python
# expression is fine).

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_classifier_flops

answer = None  # your answer here
check_classifier_flops(answer, batch=32, features=1280, classes=4)

# %% [markdown] slideshow={"slide_type": "slide"}
# **2. Choose the device** (code). The document's line picks CUDA or the CPU. Write
# `choose_device()` that returns a `torch.device`: CUDA when `torch.cuda.is_available()`,
# otherwise Apple's GPU when `torch.backends.mps.is_available()`, otherwise the CPU. The
# check runs your function on four pretend machines (an NVIDIA PC, a Mac, a laptop
# without a GPU, a machine with both), so you can test the GPU branches on any computer.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_choose_device


def choose_device():
    """Return torch.device("cuda"), else torch.device("mps"), else torch.device("cpu")."""
    raise NotImplementedError  # your code here


check_choose_device(choose_device)
