# %% [markdown] slideshow={"slide_type": "slide"}
# # 13 · Beyond the document: scaling up
#
# The demo leaves train in seconds. The full PlantVillage set (about 54,000 photos, 38
# classes) or tens of thousands of your own field photos do not: one epoch of fine-tuning
# is hours on a CPU and minutes on one GPU. The document's *Tuning Guidelines* answer
# "slow training" with "larger batch size, higher LR, GPU". This notebook takes the next
# step: **several GPUs, or several machines, training one model together**.
#
# **You will learn**
#
# - *data parallelism*: each process trains a copy of the model on its own shard of the
#   data, and an **all-reduce** averages the gradients so every copy takes the same step;
# - why averaging the gradients of two half batches is the same as one full batch;
# - what changes in the training loop, and what does not;
# - how to start `leafdl train` on 2 processes with `torchrun` (run here, on the CPU);
# - the commands for a multi-GPU server and for several machines;
# - what to expect: the effective batch size, scaling the learning rate, and where the
#   speed-up stops.
#
# **Time:** about 15 minutes. Goes beyond the document, starting from its **Tuning
# Guidelines** table ("slow training").

# %% slideshow={"slide_type": "skip"}
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn
from torch.utils.data import DistributedSampler

from leafdl import distributed
from leafdl.course import COURSE_IMG_SIZE, demo_data
from leafdl.models import build_model, count_parameters, unfreeze_last_blocks

leaves, split = demo_data()
RUNS = Path("../data/runs")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data parallelism in one picture
#
# Start N processes (one per GPU). Each holds a full copy of the model and reads a
# different **shard** of the training images, and computes the loss and the gradients on
# its own batch. Then an **all-reduce** adds up the gradients and every process receives
# the same sum, divided by N: the average. Each optimizer takes that same step, so the
# copies stay identical without ever sending the weights themselves.

# %% slideshow={"slide_type": "skip"}
def draw_data_parallelism(processes: int = 4):
    """The picture of data parallelism below: N processes, their shards, and the all-reduce."""
    fig, ax = plt.subplots(figsize=(10, 5.2))
    ax.set(xlim=(0, 10), ylim=(0, 6.6))
    ax.axis("off")
    colors = plt.cm.Set2.colors
    width, gap = 2.0, 0.5
    ax.add_patch(FancyBboxPatch((0.4, 5.6), 9.2, 0.7, boxstyle="round,pad=0.05", color="0.85"))
    ax.text(5, 5.95, "training images, shuffled each epoch and dealt out in shards (DistributedSampler)",
            ha="center", va="center", fontsize=10)
    for rank in range(processes):
        x = 0.4 + rank * (width + gap / 1.5)
        color = colors[rank]
        ax.add_patch(FancyBboxPatch((x, 4.4), width, 0.6, boxstyle="round,pad=0.05", color=color, alpha=0.6))
        ax.text(x + width / 2, 4.7, f"shard {rank}: its own batch", ha="center", va="center", fontsize=9)
        ax.add_patch(FancyBboxPatch((x, 3.0), width, 0.9, boxstyle="round,pad=0.05", color=color))
        ax.text(x + width / 2, 3.45, f"process {rank}\nmodel copy", ha="center", va="center", fontsize=9)
        ax.text(x + width / 2, 2.45, f"gradients g{rank}", ha="center", va="center", fontsize=9)
        for start, end in (((x + width / 2, 5.55), (x + width / 2, 5.05)), ((x + width / 2, 4.35), (x + width / 2, 3.95)),
                           ((x + width / 2, 2.95), (x + width / 2, 2.65)), ((x + width / 2, 2.25), (x + width / 2, 1.55))):
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="0.3"))
    ax.add_patch(FancyBboxPatch((0.4, 0.9), 9.2, 0.6, boxstyle="round,pad=0.05", color="tab:blue", alpha=0.25))
    ax.text(5, 1.2, f"all-reduce: every process receives g = (g0 + g1 + g2 + g3) / {processes}",
            ha="center", va="center", fontsize=10)
    ax.text(5, 0.35, "each optimizer takes the same step with g, so the copies stay identical",
            ha="center", va="center", fontsize=10)
    ax.set_title(f"Data parallelism with {processes} processes (DistributedDataParallel)")
    return fig


# %% slideshow={"slide_type": "subslide"}
fig = draw_data_parallelism(processes=4)   # the drawing code is in the cell above (skipped on the slides)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Why averaging gradients is the same as one big batch
#
# The loss of a batch is the *mean* of its samples' losses, and the gradient of a mean is
# the mean of the gradients. The document's classifier, `nn.Linear(1280, 4)`, on a batch
# of 16 made-up features:

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
classifier = nn.Linear(1280, 4)
features, labels = torch.randn(16, 1280), torch.randint(0, 4, (16,))
criterion = nn.CrossEntropyLoss()

classifier.zero_grad()
criterion(classifier(features), labels).backward()
one_batch = classifier.weight.grad.clone()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same batch as two "processes" of 8, whose gradients we average by hand, as the
# all-reduce would:

# %% slideshow={"slide_type": "-"}
shard_gradients = []
for rank in range(2):                         # two processes, 8 images each
    classifier.zero_grad()
    criterion(classifier(features[rank::2]), labels[rank::2]).backward()
    shard_gradients.append(classifier.weight.grad.clone())
averaged = (shard_gradients[0] + shard_gradients[1]) / 2   # what the all-reduce hands back

largest_difference = (one_batch - averaged).abs().max().item()
assert largest_difference < 1e-6
print("largest difference between the two gradients: below 1e-6 (rounding)")

# %% [markdown] slideshow={"slide_type": "fragment"}
# The two agree to rounding: N processes with batches of 32 take the same steps as one
# process with batches of 32·N.

# %% [markdown] slideshow={"slide_type": "notes"}
# That holds as long as the shards are the same size (a smaller last batch in one process
# would weigh as much as the others' full ones) and nothing else in the model looks at the
# whole batch. BatchNorm does: each process normalises with its own batch's statistics.
# With frozen BatchNorm (leafdl keeps it in eval mode, notebook 06) that does not arise;
# when unfrozen blocks train, it is why two processes of 8 are close to, not identical
# to, one process of 16.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. What changes in the loop, and what does not
#
# The loop of notebook 05 stays as it was. What `torchrun` adds (all of it in
# `leafdl/distributed.py`, used by `leafdl/engine.py` and `leafdl/pipeline.py`):
#
# | | one process | N processes (`torchrun`) |
# |---|---|---|
# | start | `python Train.py` | `torchrun --nproc-per-node N ...`; each process calls `init_process_group` (`gloo` on CPUs, `nccl` on GPUs) |
# | device | `cuda` | `cuda:LOCAL_RANK`: each process its own GPU |
# | training data | `shuffle=True` | `DistributedSampler`: a shard per process, reshuffled with `set_epoch(epoch)` |
# | model | `model` | `DistributedDataParallel(model)`, wrapped after freezing: it averages the trainable parameters' gradients during `backward()` |
# | validation | accuracy of the loader | each process counts loss, correct and samples on its shard; `all_reduce` adds them up |
# | decisions | scheduler, early stopping | the same, from the summed metrics: every process decides alike |
# | writing | print, plots, `model.pth` | rank 0 only; the others wait at a `barrier` where it splits the data |
# | batch size | 32 | 32 **per process**: a step sees 32·N images |

# %% [markdown] slideshow={"slide_type": "subslide"}
# Validation has one trap. `DistributedSampler` makes every shard equally long by
# repeating a few samples, which training does not mind but an accuracy does: those
# samples would count twice. leafdl's validation shards (`ShardSampler`) skip the
# padding. On the course's 48 validation leaves shared by 5 processes:

# %% slideshow={"slide_type": "-"}
VALID_IMAGES, PROCESSES = 48, 5
padded = [list(DistributedSampler(range(VALID_IMAGES), num_replicas=PROCESSES, rank=rank, shuffle=False))
          for rank in range(PROCESSES)]
exact = [list(distributed.ShardSampler(VALID_IMAGES, rank, PROCESSES)) for rank in range(PROCESSES)]
print("DistributedSampler:", [len(shard) for shard in padded], "=", sum(map(len, padded)), "samples")
print("ShardSampler:      ", [len(shard) for shard in exact], "=", sum(map(len, exact)), "samples")
assert sum(map(len, padded)) == 50 and sorted(sum(exact, [])) == list(range(VALID_IMAGES))

# %% [markdown] slideshow={"slide_type": "fragment"}
# `DistributedSampler` hands out 50 samples for 48 images: two would count twice.
# `ShardSampler` holds every image exactly once.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Two processes on this computer
#
# `torchrun` (the same program as `python -m torch.distributed.run`) starts the processes
# and tells each its rank through environment variables. Here: two processes on the CPU,
# talking over `gloo` on 127.0.0.1, training the demo leaves for 2 epochs with a batch of
# 16 per process, 32 per step.

# %% [markdown] slideshow={"slide_type": "notes"}
# At the notebooks' 128 px, with a learning rate of 0.003 (three times the document's, so
# that two short epochs come close to where the accuracy levels off). One thread per
# process (`OMP_NUM_THREADS=1`), so the two share the CPU fairly; a single process uses
# all the cores as threads. Three small helpers, in a cell the slides skip (run it
# before class), print a command, run it and empty this notebook's earlier run folder.

# %% slideshow={"slide_type": "skip"}
def free_port() -> int:
    """A TCP port nobody uses, for the processes to meet on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_command(launcher: list[str], *arguments: str) -> str:
    """Run `python -m LAUNCHER leafdl ARGUMENTS...`, print the command and its output, return the output."""
    command = [*launcher, "leafdl", *arguments]
    print("$", " ".join(["torchrun" if part == "torch.distributed.run" else part for part in command]))
    environment = {**os.environ, "OMP_NUM_THREADS": "1"} if launcher else None   # None: as this notebook
    done = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, env=environment)
    print(done.stdout, end="")
    if done.returncode != 0:
        raise RuntimeError(f"stopped with exit status {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def fresh_run_folder(name: str) -> str:
    """The run folder RUNS/name, emptied of this notebook's earlier run (leafdl refuses to overwrite a finished run)."""
    folder = RUNS / name
    if folder.exists():
        shutil.rmtree(folder)
        print("removed this notebook's earlier run folder", folder.as_posix())
    return folder.as_posix()

# %% slideshow={"slide_type": "-"}
TWO = ["torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
       "--master-port", str(free_port()), "-m"]
COMMON = ["../data/demo-split", "--img-size", str(COURSE_IMG_SIZE), "--epochs", "2", "--lr", "0.003",
          "--arch", "efficientnet_lite0", "--precision", "fp32", "--workers", "0", "--quiet"]

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
two_log = run_command(TWO, "train", *COMMON, "--batch-size", "16", "--out", fresh_run_folder("13-two-processes"))
assert two_log.count("Epoch  1/2") == 1 and two_log.count("Saved model.pth") == 1

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every line was printed once, by rank 0; rank 1 trained silently beside it. The same
# run in one process with the same global batch of 32:

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
one_log = run_command([], "train", *COMMON, "--batch-size", "32", "--out", fresh_run_folder("13-one-process"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The run folders record how they trained:

# %% slideshow={"slide_type": "-"}
two = json.loads((RUNS / "13-two-processes" / "metadata.json").read_text())
one = json.loads((RUNS / "13-one-process" / "metadata.json").read_text())
for name, run in (("2 processes", two), ("1 process", one)):
    print(f"{name:<12} world_size {run['world_size']}, global batch {run['global_batch_size']}, "
          f"best valid acc {run['best_valid_acc']:.3f}")
difference = abs(two["best_valid_acc"] - one["best_valid_acc"])
print(f"difference: {difference:.3f} ({round(difference * 48)} of 48 validation leaves)")
assert (two["world_size"], two["global_batch_size"], one["global_batch_size"]) == (2, 32, 32)
assert difference <= 2 / 48 + 1e-9

# %% [markdown] slideshow={"slide_type": "fragment"}
# Both reach the same accuracy within 2 of the 48 validation leaves.

# %% [markdown] slideshow={"slide_type": "notes"}
# They are not identical runs: the two processes shuffle the images with
# `DistributedSampler` and draw their own augmentations, so each step averages over other
# leaves than the single process does. On a 2-core laptop, do not expect two processes to
# be faster than one: one process already uses both cores as two threads, and the
# processes add start-up time and communication. The speed-up is for machines with more
# cores or GPUs than one process can use.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The commands for real hardware
#
# **One server with 4 GPUs** (each process takes the GPU `cuda:LOCAL_RANK`, and they
# talk over `nccl`):
#
# ```bash
# torchrun --standalone --nproc-per-node 4 -m leafdl train data/plantvillage --out runs/pv \
#     --epochs 5 --unfreeze 12 --batch-size 64
# ```
#
# **Two machines with 4 GPUs each.** Run the same command on both; `--rdzv-endpoint`
# names one of them (its address and a free port) where the processes meet. The run
# folder and the data must be on a folder both machines see (NFS, say), or the data
# split beforehand and copied to the same path on each:
#
# ```bash
# # on every machine:
# torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint 10.0.0.1:29400 \
#     --rdzv-id pv-run -m leafdl train /shared/plantvillage-split --out /shared/runs/pv --batch-size 64
# ```

# %% [markdown] slideshow={"slide_type": "notes"}
# If a run stops, the same command with `--resume` continues it from `last.ckpt`, with
# the same number of processes (leafdl refuses another number: the global batch would
# change). `benchmarks/bench_distributed.py` measures images per second with 1 and N
# processes on your machine.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. What to expect
#
# **The effective batch size** is `batch_size x processes`. With the document's 32 on 8
# GPUs a step averages 256 images, and an epoch has 8 times fewer steps.
#
# **The learning rate.** Fewer, better-averaged steps move the weights less per epoch. The
# usual starting point is the *linear scaling rule* (Goyal et al., 2017): multiply the
# learning rate by the same factor as the batch, with a few epochs of warm-up when the
# factor is large.

# %% [markdown] slideshow={"slide_type": "notes"}
# Adam is less sensitive to it than SGD; check on the validation curve, starting from
# `lr x processes` and trying half of it. (Or keep the global batch: `--batch-size 32` on
# 1 GPU is `--batch-size 8` on 4, same steps, same learning rate.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Where the speed-up stops.** Each step, every process sends and receives about twice
# the size of the trainable parameters' gradients (a ring all-reduce). What that costs
# depends on how many parameters train:

# %% slideshow={"slide_type": "-"}
model, _ = build_model(4, arch="efficientnet_lite0", verbose=False)
frozen = count_parameters(model).trainable
unfreeze_last_blocks(model, 12)
unfrozen = count_parameters(model).trainable
for name, count in (("frozen features", frozen), ("last 12 blocks unfrozen", unfrozen)):
    print(f"{name:<24} {count:>10,} trainable parameters, {count * 4 / 2**20:6.2f} MiB of gradients per step")
assert frozen == 5_124 and unfrozen > 100 * frozen

# %% [markdown] slideshow={"slide_type": "fragment"}
# Frozen features: only the classifier's 5,124 gradients travel, and reading images
# becomes the limit. More than a hundred times as many train when blocks are unfrozen: a
# fast link between GPUs (NVLink) carries that easily, a slow network between machines
# does not.

# %% [markdown] slideshow={"slide_type": "notes"}
# With frozen features the all-reduce is almost free, but each step is cheap too, so
# reading and decoding images becomes the limit (give each process enough `--workers`;
# leafdl shares the cores out by default). On a small dataset, the start-up of the
# processes and the last, half-empty batches dominate: the demo leaves are done before the
# processes have warmed up. Data parallelism pays off for large datasets and models that
# keep every GPU busy: the full PlantVillage set, fine-tuned.
#
# **On a GPU**, leafdl also uses mixed precision (`torch.autocast` with a `GradScaler`),
# pinned memory with `non_blocking` copies, and `cudnn.benchmark` (the image size never
# changes, so cuDNN may pick its fastest convolution once).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Data parallelism: one model copy per process, a shard of the data each, gradients
#   averaged by an all-reduce, so all copies take the same step.
# - Averaging the gradients of equal shards equals the gradient of the whole batch.
# - The loop stays the same. What changes: `init_process_group`, a `DistributedSampler`
#   with `set_epoch`, `DistributedDataParallel`, metrics summed with `all_reduce` (each
#   sample once), and only rank 0 prints and writes.
# - `torchrun --nproc-per-node N -m leafdl train DATA --out RUN` on one machine; add
#   `--nnodes` and a `c10d` rendezvous for several.
# - `--batch-size` is per process: the global batch is N times larger; scale the learning
#   rate with it as a starting point. The speed-up stops where loading data,
#   communication or start-up take longer than the computation they run beside.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. The same global batch on fewer GPUs.** The run above used
# `torchrun --nnodes 2 --nproc-per-node 4 ... --batch-size 32`. You now have **one**
# machine with **2** GPUs and want each optimizer step to average the same number of
# images as that run. Which `--batch-size` do you pass to
# `torchrun --nnodes 1 --nproc-per-node 2 -m leafdl train ...`?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_batch_size_for

answer = None  # your answer here
check_batch_size_for(answer, global_batch=2 * 4 * 32, nodes=1, gpus_per_node=2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **2. Steps per epoch.** A PlantVillage-sized training set of 43,456 images, 8
# processes, `--batch-size 32`: how many optimizer steps does one epoch take?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_steps_per_epoch

answer = None  # your answer here
check_steps_per_epoch(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **3. Scaling the learning rate.** A run trained well on 1 GPU with batch 32 and
# `lr = 0.001`. You move it to 4 GPUs, keeping `--batch-size 32`. Which learning rate
# does the linear scaling rule suggest?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_scaled_learning_rate

answer = None  # your answer here
check_scaled_learning_rate(answer)
