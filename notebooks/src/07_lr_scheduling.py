# %% [markdown] slideshow={"slide_type": "slide"}
# # 07 · Learning-rate scheduling
#
# The learning rate is the size of each step the optimizer takes. Big steps make fast
# progress while the model is far from good; near a good solution the same big steps
# overshoot it and bounce around. So `Train.py` lowers the learning rate when the
# validation accuracy stops improving. This notebook takes that rule apart, epoch by epoch.
#
# **You will learn**
#
# - the document's `ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)` and
#   `scheduler.step(validation_accuracy)`;
# - the rule it follows, traced in a table on a made-up accuracy series, and what
#   "patience 3" means exactly (the document's own timeline is one epoch early);
# - *why* a smaller learning rate later helps, in a small experiment you can see;
# - `mode="max"` against `mode="min"`, and what goes wrong when they are mixed up;
# - an **explorer with sliders** for `factor` and `patience`;
# - the scheduler in a real training run of the course's model, and where `leafdl` keeps it.
#
# **Time:** about 15 minutes to read and run. Follows the document's section **Learning
# Rate Scheduling**.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The document's lines
#
# ```python
# scheduler = optim.lr_scheduler.ReduceLROnPlateau(
#     optimizer, mode="max", factor=0.5, patience=3
# )
# scheduler.step(validation_accuracy)
# ```
#
# The scheduler is attached to the optimizer, whose learning rate it changes. Once per
# epoch, after the validation phase, `Train.py` tells it the validation accuracy. It:
#
# - keeps the **best** accuracy seen so far (`mode="max"`: higher is better);
# - counts the **bad epochs** in a row: epochs whose accuracy did not beat the best;
# - when that count goes **above** `patience`, multiplies the learning rate by `factor`
#   (0.5: halves it), and starts counting again.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Tracing it epoch by epoch
#
# To see the rule at work without waiting for a training run, we feed the real PyTorch
# scheduler a series of validation accuracies that we **made up** for the purpose (16
# epochs: a fast rise, a plateau, a small climb, another plateau). The optimizer only
# carries the learning rate here; nothing is trained.

# %% slideshow={"slide_type": "slide"}
import matplotlib.pyplot as plt
import torch
from torch import optim

# A made-up validation-accuracy series, one value per epoch (not from a real run).
valid_acc_series = [0.62, 0.71, 0.78, 0.81, 0.81, 0.80, 0.81, 0.79,
                    0.83, 0.84, 0.84, 0.83, 0.84, 0.84, 0.85, 0.85]

placeholder = torch.nn.Parameter(torch.zeros(1))  # an optimizer needs something to optimise
optimizer = optim.Adam([placeholder], lr=0.001)
scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)

print(f"{'epoch':>5} {'valid acc':>10} {'best':>6} {'bad epochs':>11} {'lr this epoch':>14}")
for epoch, accuracy in enumerate(valid_acc_series, start=1):
    lr = optimizer.param_groups[0]["lr"]  # the rate this epoch trained with
    scheduler.step(accuracy)              # end of the epoch: the scheduler sees the accuracy
    new_lr = optimizer.param_groups[0]["lr"]
    note = f"  -> reduced to {new_lr:g}" if new_lr < lr else ""
    print(f"{epoch:>5} {accuracy:>10.2f} {scheduler.best:>6.2f} {scheduler.num_bad_epochs:>11} {lr:>14g}{note}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the table top to bottom:
#
# - Epochs 1-4: every accuracy is a new best, the count of bad epochs stays 0.
# - Epochs 5-8: 0.81, 0.80, 0.81, 0.79 never *beat* 0.81 (equal is not better), so the
#   count climbs 1, 2, 3, 4. At 4, above the patience of 3, the rate is halved to 0.0005
#   and the count restarts (it shows 0 after the reduction).
# - Epoch 9 trains with 0.0005, and the accuracy climbs to new bests, 0.83, 0.84: smaller
#   steps find a spot the big steps kept jumping over. (In this made-up series we chose
#   it so; in real runs it often, not always, happens.)
# - Epochs 11-14: another plateau of four bad epochs, another halving, to 0.00025.
#
# `scheduler.best` and `scheduler.num_bad_epochs` are the scheduler's own attributes: the
# table shows its real state. Here is the same run as a picture, drawn by
# `leafdl.course.widgets.plot_plateau_schedule`:

# %% slideshow={"slide_type": "slide"}
from leafdl.course.widgets import plot_plateau_schedule

plot_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The grey dashed line is the best so far; the red lines mark the ends of the epochs after
# which the rate was reduced. The learning-rate axis is logarithmic: each halving is one
# equal step down.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### What "patience 3" means, exactly
#
# The document illustrates the rule with this timeline:
#
# ```
# Epoch 1-3: lr = 0.001
# Epoch 4-6: lr = 0.001 (no improvement)
# Epoch 7:   lr = 0.0005 (reduced!)
# ```

# %% [markdown] slideshow={"slide_type": "slide"}
# PyTorch reduces when the count of bad epochs *exceeds* the patience, so three bad
# epochs are tolerated and the **fourth** triggers the cut. A series shaped like the
# document's (best at epoch 3, no improvement after) shows it: the reduction happens after
# epoch 7, so epoch **8** is the first to train with 0.0005.
# `leafdl.course.widgets.simulate_plateau_schedule` steps PyTorch's scheduler through a list
# of accuracies, as above, and returns the rate each epoch trains with.

# %% slideshow={"slide_type": "-"}
from leafdl.course.widgets import simulate_plateau_schedule

document_like = [0.70, 0.75, 0.80, 0.79, 0.80, 0.78, 0.79, 0.78, 0.79]
for epoch, lr in enumerate(simulate_plateau_schedule(document_like, lr=0.001, factor=0.5, patience=3), start=1):
    print(f"epoch {epoch}: lr = {lr:g}")

# %% [markdown] slideshow={"slide_type": "slide"}
# A small thing, but worth knowing when you read a log: with `patience=3` you wait four
# flat epochs, not three. On the longer series above the two cuts come after epochs 8
# and 14, each the fourth flat epoch in a row:

# %% slideshow={"slide_type": "-"}
from leafdl.course.widgets import trace_plateau_schedule

steps = trace_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3)
cut_after = [step.epoch for step in steps if step.reduced]
print("epochs after which the lr was reduced:", cut_after)
print("bad epochs in a row at each cut:      ", [steps[epoch - 1].bad_epochs for epoch in cut_after])
assert cut_after == [8, 14] and all(steps[epoch - 1].bad_epochs == 4 for epoch in cut_after)

# %% [markdown] slideshow={"slide_type": "notes"}
# One more detail of the rule: to count as better, an accuracy must beat the best by a
# relative `threshold` of 0.01% (`threshold=1e-4`, PyTorch's default), so 0.8100001 does
# not count as an improvement over 0.81.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why reduce the learning rate?
#
# The document's three reasons: a **large** learning rate for fast initial progress, a
# **small** one for fine-tuning near the optimum, and a way out of plateaus. A tiny
# experiment shows the first two. We minimise the simplest loss there is,
# $\frac{1}{2}\lVert w \rVert^2$ (its best point is $w = 0$), with plain gradient descent
# (`optim.SGD`), but with **noisy** gradients, as in real training, where each batch
# gives a slightly different gradient than the whole dataset would. After each "epoch"
# of 10 steps we measure the loss without noise, like a validation phase.
#
# Three runs, the same noise in each: a small learning rate (0.02), a large one (0.5),
# and the large one with `ReduceLROnPlateau` watching the loss.

# %% slideshow={"slide_type": "slide"}
def noisy_descent(lr: float, use_scheduler: bool, epochs: int = 10, steps_per_epoch: int = 10,
                  dimensions: int = 200, seed: int = 0) -> tuple[list[float], list[float]]:
    """Minimise 0.5 * ||w||^2 with noisy gradients; return the loss and lr after each epoch."""
    noise = torch.Generator().manual_seed(seed)
    w = torch.nn.Parameter(torch.full((dimensions,), 3.0))
    optimizer = optim.SGD([w], lr=lr)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
    losses, rates = [], []
    for epoch in range(epochs):
        for step in range(steps_per_epoch):
            optimizer.zero_grad()
            # The gradient of this expression is w + noise: the true gradient, disturbed.
            (0.5 * (w**2).sum() + (w * torch.randn(dimensions, generator=noise)).sum()).backward()
            optimizer.step()
        rates.append(optimizer.param_groups[0]["lr"])
        losses.append(0.5 * (w.detach() ** 2).mean().item())  # "validation": the loss without noise
        if use_scheduler:
            scheduler.step(losses[-1])  # mode="min": a lower loss is better
    return losses, rates


runs = {
    "small lr 0.02": noisy_descent(0.02, use_scheduler=False),
    "large lr 0.5": noisy_descent(0.5, use_scheduler=False),
    "lr 0.5 + ReduceLROnPlateau": noisy_descent(0.5, use_scheduler=True),
}

# %% slideshow={"slide_type": "slide"}
fig, (loss_ax, lr_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
epochs = range(1, 11)
for name, (losses, rates) in runs.items():
    loss_ax.plot(epochs, losses, "o-", label=name)
    lr_ax.step(epochs, rates, "o-", where="post", label=name)
    print(f"{name:<28} loss after epoch 1: {losses[0]:.3f}   after epoch 10: {losses[-1]:.3f}")
loss_ax.set(title="Loss (noise-free), lower is better", xlabel="epoch", ylabel="loss", yscale="log")
lr_ax.set(title="Learning rate", xlabel="epoch", ylabel="lr", yscale="log")
for ax in (loss_ax, lr_ax):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# - The **small** rate moves steadily but slowly: after 10 epochs it is still on its way.
# - The **large** rate gets close in the very first epoch, then stalls: each noisy step is
#   so big that it keeps jumping around the minimum, and the loss stays at the level of
#   that jumping.
# - **Large, then reduced** gets both: the fast start, and then, each time the loss
#   stalls, a halved step that settles closer to the minimum.
#
# Training a network is the same story in millions of dimensions, with the noise coming
# from each batch being a small sample of the data.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## `mode="max"` or `mode="min"`?
#
# The mode says which direction is *better* for the number you pass to `step()`:
#
# | you pass | better is | mode |
# |---|---|---|
# | validation **accuracy** (the document) | higher | `"max"` |
# | validation **loss** (the experiment above) | lower | `"min"` (PyTorch's default) |

# %% [markdown] slideshow={"slide_type": "slide"}
# Mixing them up raises no error; the scheduler just does the opposite of what you want.
# Here is the made-up accuracy series again with `mode="min"`: every rising accuracy now
# looks like a *worse* result, so the rate is cut while the model is improving, and it
# is left alone when accuracy finally falls.

# %% slideshow={"slide_type": "-"}
right = simulate_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3, mode="max")
wrong = simulate_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3, mode="min")
print(f"{'epoch':>5} {'valid acc':>10} {'lr, mode=max':>13} {'lr, mode=min':>13}")
for epoch, (accuracy, good, bad) in enumerate(zip(valid_acc_series, right, wrong), start=1):
    print(f"{epoch:>5} {accuracy:>10.2f} {good:>13g} {bad:>13g}")

# %% [markdown] slideshow={"slide_type": "notes"}
# With `mode="min"` the first cut comes after epoch 5, in the middle of the fast rise, because
# the best "lowest accuracy" was epoch 1's. Since PyTorch's default mode is `"min"`, leaving
# `mode="max"` out of the document's line would cause exactly this.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore `factor` and `patience`
#
# Move the sliders and watch the learning rate (lower panel) on the made-up series:
#
# - **factor** 0.1 cuts the rate tenfold at each plateau, 0.9 barely touches it;
# - **patience** 0 cuts after every epoch that is not a new best (nervous); 8 never
#   cuts on this series (stubborn).

# %% [markdown] slideshow={"slide_type": "notes"}
# The line above the picture says after which epochs the rate was cut. Which settings
# would you choose for a noisy validation set of only 48 images, where the accuracy moves
# in steps of 2%?

# %% slideshow={"slide_type": "slide"}
from leafdl.course.widgets import scheduler_explorer

scheduler_explorer(valid_acc_series, lr=0.001, factor=0.5, patience=3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In a real training run
#
# `leafdl.engine.fit` sets up the document's scheduler (`leafdl.engine.make_scheduler`,
# with `factor` and `patience` from `TrainConfig.scheduler_factor` and
# `scheduler_patience`) and calls `scheduler.step(valid_accuracy)` after every validation
# phase. It records in `history.lr` the rate each epoch **trained with**, read *before*
# that step, so the curve shows what the optimizer actually used.

# %% [markdown] slideshow={"slide_type": "notes"}
# How soon can the document's scheduler act? The first epoch is always a new best (there
# is nothing to compare with), so with `patience=3` the earliest possible cut is after
# epoch **5**, the fourth bad epoch in a row. A short run, like the 4 epochs we can
# afford here, never reduces the rate with the document's settings, and that is correct
# behaviour, not a bug: the scheduler matters in the long runs of the document (10
# epochs, often more), once the accuracy flattens out.

# %% [markdown] slideshow={"slide_type": "slide"}
# To see it act in 4 epochs, we make it nervous: `scheduler_patience=0` cuts after every
# epoch that is not a new best. And we start at `lr=0.003`, three times the document's
# rate, so that there is something to cut. The model is the course's: EfficientNet-Lite0
# with frozen features and a new classifier for the 4 classes, at 128 px. Numbers differ
# a little from machine to machine.

# %% slideshow={"slide_type": "-"}
from leafdl.config import TrainConfig
from leafdl.course import COURSE_IMG_SIZE, demo_data
from leafdl.data import build_dataloaders
from leafdl.models import build_model

leaves, split = demo_data()
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
config = TrainConfig(img_size=COURSE_IMG_SIZE, epochs=4, lr=0.003, scheduler_factor=0.5, scheduler_patience=0)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.engine import fit

history = fit(model, loaders, config, progress=True)

# %% slideshow={"slide_type": "slide"}
from leafdl.plots import plot_history

plot_history(history, title="4 epochs, lr 0.003, ReduceLROnPlateau(mode='max', factor=0.5, patience=0)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# Look at the lower-left panel, the learning rate, next to the accuracy above it. What
# the scheduler decided, read from `history` (the sentences are computed from this run's
# numbers):

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
run_steps = trace_plateau_schedule(history.valid_acc, lr=config.lr, factor=0.5, patience=0)
print("valid acc per epoch:", [f"{acc:.3f}" for acc in history.valid_acc])
print("history.lr:         ", [f"{lr:g}" for lr in history.lr])
print("replaying the rule on history.valid_acc gives the same rates:", [step.lr for step in run_steps] == history.lr)
cuts = [step.epoch for step in run_steps if step.reduced]
for epoch in cuts:
    after = "for the epochs after it" if epoch < history.epochs else "for the next epoch (this run ends here)"
    print(f"Epoch {epoch} did not beat the best accuracy so far ({run_steps[epoch - 1].best:.3f}), "
          f"so the rate was halved to {run_steps[epoch - 1].next_lr:g} {after}.")
if not cuts:
    print("Every epoch was a new best, so even the nervous scheduler never cut the rate in this run.")
document_rates = simulate_plateau_schedule(history.valid_acc, lr=config.lr, factor=0.5, patience=3)
print("With the document's patience=3, the same accuracies give these rates:",
      [f"{lr:g}" for lr in document_rates])

# %% [markdown] slideshow={"slide_type": "notes"}
# `patience=0` is too nervous for real use: one unlucky epoch on a small validation set
# (here 48 images, so one image is 2% of accuracy) cuts the rate for the rest of the run.
# That is why the document waits. To watch its settings act in a real run, train for
# longer: `leafdl train data/demo-leaves --epochs 20` on the command line, or
# `TrainConfig(epochs=20)` here. Because `leafdl`'s checkpoint stores
# `scheduler.state_dict()` (its best value and its count of bad epochs), a resumed run
# continues the schedule exactly where it stopped (notebook 09).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - `ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)` watches the number
#   passed to `scheduler.step(...)` once per epoch, and multiplies the learning rate by
#   `factor` when it has not improved for **more than** `patience` epochs in a row (the
#   4th bad epoch with patience 3).
# - Large steps make fast early progress; smaller steps later settle closer to the
#   optimum instead of jumping around it.
# - `mode="max"` for accuracy, `mode="min"` for loss; the wrong mode fails silently.
# - `leafdl.engine.fit` steps the scheduler with the validation accuracy and records the
#   rate of each epoch in `history.lr`; `leafdl.course.widgets` replays and plots the rule.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. When is the first cut?** With `mode="max"`, `factor=0.5` and `patience=2`, after
# which epoch is the learning rate first reduced, for these validation accuracies? Work
# it out by hand first (remember: equal is not better, and a new best restarts the
# count), then check with `trace_plateau_schedule`.

# %% slideshow={"slide_type": "slide"}
from leafdl.course.exercises import check_first_reduction_epoch

exercise_series = [0.50, 0.62, 0.70, 0.69, 0.71, 0.70, 0.70, 0.71, 0.72]
answer = None  # your answer here: an epoch number (1 = the first epoch)
check_first_reduction_epoch(answer, exercise_series, patience=2)

# %% [markdown] slideshow={"slide_type": "slide"}
# **2. A run that never improves again** (predict, then run). The document's scheduler
# (`mode="max"`, `factor=0.5`, `patience=3`) starts at `lr=0.001`. Epoch 1 reaches 0.70
# validation accuracy, and the next **11** epochs reach exactly 0.70 again. What is the
# learning rate after epoch 12? Trace the count of bad epochs by hand; what happens to the
# count after a cut? Then check your answer with a real `ReduceLROnPlateau` in a new cell.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_lr_after_flat_epochs

answer = None  # your answer here
check_lr_after_flat_epochs(answer, epochs=12)

# %% [markdown]
# **3. Wire the scheduler** (code). Two small functions, as `Train.py` needs them:
# `make_scheduler(optimizer)` returns the document's scheduler, and
# `end_of_epoch(scheduler, valid_loss, valid_acc)` is called once after every validation
# phase and steps it on the right number. The check runs them with a real Adam optimizer
# through ten epochs in which the accuracy stalls while the loss keeps falling, and
# compares the learning rate after every epoch with the document's.

# %%
from torch import optim

from leafdl.course.exercises import check_scheduler


def make_scheduler(optimizer):
    """Return the document's ReduceLROnPlateau for this optimizer."""
    raise NotImplementedError  # your code here


def end_of_epoch(scheduler, valid_loss, valid_acc):
    """Tell the scheduler how this epoch went."""
    raise NotImplementedError  # your code here


check_scheduler(make_scheduler, end_of_epoch)
